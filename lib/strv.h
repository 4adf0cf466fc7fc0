/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>

#include "macro.h"

/* A string vector is a NULL-terminated array of malloc'd strings, as in systemd. NULL is a valid
 * empty vector everywhere. */

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);

/* Deep copy. Returns NULL on OOM (and for a NULL input: check l first if that matters). */
char **strv_copy(char *const *l);

/* Append value (takes ownership, even on failure) / a copy of value. Return 0 or -ENOMEM. */
int strv_consume(char ***l, char *value);
int strv_extend(char ***l, const char *value);
/* The same with the length of *l known to the caller, in *n (kept up to date): appending n values
 * one by one costs n, not n² as finding the end each time does. */
int strv_consume_with_size(char ***l, size_t *n, char *value);
int strv_extend_with_size(char ***l, size_t *n, const char *value);
int strv_extendf(char ***l, const char *format, ...) _printf_(2, 3);
/* Append copies of every string of b. */
int strv_extend_strv(char ***a, char *const *b);

bool strv_contains(char *const *l, const char *s);
/* Index of s in l, or -1. */
ssize_t strv_index(char *const *l, const char *s);

/* Remove every occurrence of s; returns l. */
char **strv_remove(char **l, const char *s);

/* Split s at any of the separator characters, dropping empty fields. Returns NULL on OOM;
 * an empty string gives an empty (non-NULL) vector. */
char **strv_split(const char *s, const char *separators);

/* Join with separator (NULL means " "); an empty vector gives "". NULL on OOM. */
char *strv_join(char *const *l, const char *separator);

/* In-place sort (strcmp order) and removal of adjacent duplicates. Return l. */
char **strv_sort(char **l);
char **strv_uniq(char **l);
/* In-place removal of repeated strings, keeping the first of each where it stood (no sorting).
 * Returns l. */
char **strv_dedup(char **l);

bool strv_equal(char *const *a, char *const *b);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
#define STRV_MAKE(...) ((char **) ((const char *[]) { __VA_ARGS__, NULL }))
