/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "interpolate.h"
#include "macro.h"

/* The dotenv format of compose's .env and env_file: "[export] KEY=VALUE" lines, "#" comments,
 * '...' literal, "..." with \n \t \r \\ \" \$ escapes and interpolation (may span lines), unquoted
 * values trimmed, interpolated, and cut at an inline " #" comment. "KEY=" is empty; a bare "KEY"
 * is kept as "KEY" (no "="): the caller decides (unset for .env, inherited for env_file). */

/* Parse data into *ret, a strv of "KEY=VALUE" (or "KEY") in file order; a later KEY replaces an
 * earlier one. Interpolation sees the variables defined earlier in the file, then lookup (which may
 * be NULL: no interpolation fallback). On a syntax error returns -EINVAL with *ret_line (1-based)
 * and *ret_error (owned by the caller) set when given. */
int dotenv_parse(const char *data, InterpolateLookup lookup, void *userdata, char ***ret, unsigned *ret_line,
                 char **ret_error);

/* Value of key in a strv of "KEY=VALUE", NULL if absent or bare. Borrowed. */
const char *dotenv_get(char *const *env, const char *key);
