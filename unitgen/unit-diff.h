/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "macro.h"

/* A line diff of two texts, printed in unified style ("-" old, "+" new, " " same) with a
 * "--- old_name" / "+++ new_name" header. Prints nothing when the texts are equal. Returns 1 if they
 * differ, 0 if equal, -ENOMEM. */
int unit_diff(FILE *out, const char *old_name, const char *old_text, const char *new_name, const char *new_text);
