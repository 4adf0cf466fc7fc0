/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* UTF-8 as systemd's utf8_is_valid() takes it (systemd refuses a unit line that is not): the
 * shortest encoding of a code point below U+110000 that is not a UTF-16 surrogate, one of
 * U+FDD0..U+FDEF, or U+xFFFE/U+xFFFF. */

/* Whether the n bytes at s are valid UTF-8. If not and ret_offset is non-NULL, *ret_offset gets
 * the offset of the first byte of the first invalid sequence. A NUL byte is valid (U+0000); the
 * caller decides whether it may appear. */
bool utf8_is_valid_n(const char *s, size_t n, size_t *ret_offset);

/* The same for a NUL-terminated string. */
bool utf8_is_valid(const char *s);
