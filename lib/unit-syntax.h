/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Unit-file syntax as systemd 252's conf-parser reads it: what may be written into a unit so that
 * it reads back, by systemd and by unit_file_parse(), as exactly what was meant. Kept apart from
 * unit-file.h (the model) so that a generator writing text can use it without the model. */

#define UTF8_BOM "\xef\xbb\xbf"

/* systemd's WHITESPACE: " \t\n\r". */
bool unit_char_is_blank(char c) _const_;
/* Whether the line [b, e) is a comment: '#' or ';' after leading whitespace. */
bool unit_line_is_comment(const char *b, const char *e) _pure_;
/* Whether the line [b, e) ends in a backslash that continues it (an odd run of backslashes). */
bool unit_line_ends_escaped(const char *b, const char *e) _pure_;

/* What an assignment may hold so that "[section]" and "name=value" lines read back as the same
 * assignment, by systemd and by unit_file_parse(), and no value can start a line of its own:
 * - a section name: non-empty UTF-8 without control characters, brackets, quotes or backslashes;
 * - an option name: non-empty UTF-8 without control characters or '=', not starting with '[',
 *   '#', ';' or a byte order mark, no surrounding space;
 * - a value: UTF-8 without "\n" or "\r", no surrounding whitespace, not ending in an odd number
 *   of backslashes (a line continuation). */
bool unit_section_is_valid(const char *s) _pure_;
bool unit_option_name_is_valid(const char *n) _pure_;
bool unit_option_value_is_valid(const char *v) _pure_;

/* For a generator that writes a unit line by line: whether text reads back, as systemd reads it,
 * as one assignment per line that is not empty, a comment or a "[Section]" header (no "\r", no
 * NUL, valid UTF-8, no continuation). A line end slipped into a value would add a line that is
 * not an assignment (refused by the parser) or one more assignment (caught by the count).
 * Returns 0, -EBADMSG if not, or -ENOMEM. */
int unit_file_check_written(const char *text, size_t size);
