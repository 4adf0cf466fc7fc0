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

/* A copy of s fit to print on a terminal, as systemd's utf8_escape_non_printable() makes one for
 * systemctl's tables: every byte of a control character (C0, DEL, C1), of a bidirectional
 * override or isolate, and of an invalid sequence is written as a C escape ("\n", "\x1b"), so
 * a value read from the cluster can neither move the cursor, recolour the terminal nor start a
 * line of its own. Printable characters, valid multi-byte ones included, are kept. s NULL gives
 * NULL; NULL on OOM as well. */
char *utf8_escape_non_printable(const char *s);
