/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Variable interpolation exactly as compose does it: $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e},
 * ${V:+r}, ${V+r}, with defaults, messages and replacements interpolated in turn (so they nest),
 * and "$$" for a literal "$". A "$" that starts no name is kept as it is. */

/* Returns the value of name, or NULL when it is unset. */
typedef const char *(*InterpolateLookup)(const char *name, void *userdata);

/* Expand s into *ret (owned by the caller). Variables that are unset and have no default expand to
 * "" and their names are appended to *unset (optional, a strv, duplicates skipped). Returns 0,
 * -ENOMEM, or -EINVAL for an invalid template or a failed ${V:?} / ${V?} check; then *ret_error
 * (optional) receives the message, owned by the caller. */
int interpolate_string(const char *s, InterpolateLookup lookup, void *userdata, char **ret, char ***unset,
                       char **ret_error);

/* Whether s contains anything interpolate_string() would change. */
static inline bool interpolate_needed(const char *s) {
        return strchr(s, '$');
}
