/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Whitespace stripping and word extraction, in systemd's manner. WHITESPACE (macro.h) is the
 * set stripped and split at. */

#include "macro.h"

#define LOWERCASE_LETTERS "abcdefghijklmnopqrstuvwxyz"
#define UPPERCASE_LETTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
#define ALPHANUMERICAL LOWERCASE_LETTERS UPPERCASE_LETTERS DIGITS

/* Strip WHITESPACE from both ends of s, in place: the trailing part is cut off with a NUL, and the
 * return value points to the first character kept (within s). */
char *strstrip(char *s);

/* Narrow the range [*b, *e) so that it neither starts nor ends with WHITESPACE. */
void strip_range(const char **b, const char **e);

/* A copy of the n bytes at s, without WHITESPACE at either end. NULL on OOM. */
char *strndup_strip(const char *s, size_t n);

typedef enum ExtractFlags {
        /* Single and double quotes group a word that may contain separators; the quotes are
         * removed. An unterminated quote is an error. */
        EXTRACT_UNQUOTE = 1 << 0,
} ExtractFlags;

/* Extract the next word from *p: skip leading separators (NULL means WHITESPACE), take the
 * characters up to the next separator, and advance *p past them. Returns 1 and the word in *ret,
 * 0 (and *ret = NULL) when only separators are left, -EINVAL for an unterminated quote, -ENOMEM.
 * On error *p is left where it was. */
int extract_first_word(const char **p, char **ret, const char *separators, ExtractFlags flags);
