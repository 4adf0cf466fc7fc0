/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Parsers of the small values every program reads from flags, config and unit files. */

/* fleet's boolean (as Go's strconv.ParseBool plus yes/no/on/off/y/n), any case: 1, true, yes, on,
 * t, y → 1; 0, false, no, off, f, n → 0; anything else (v must not be NULL) → -EINVAL. */
int parse_boolean(const char *v) _pure_;
