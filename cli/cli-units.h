/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* From fleetctl's arguments to units: brace expansion, fleet's name rules, unit files on disk,
 * instances of templates, and globs over the names known to the cluster. */

#include "macro.h"
#include "registry.h"

/* Expand "web@{1..3}.service"-style groups in every argument, in order. *ret is a new strv.
 * Returns 0, -E2BIG (too many results) or -ENOMEM. */
int cli_expand_args(char *const *args, char ***ret);

/* The unit name an argument stands for, as fleetctl derives it: the file name part of a path,
 * with ".service" appended when it has no known unit type. Returns 0, -EINVAL if the result is
 * not a valid unit name (*ret_reason then says why, a static string), -ENOMEM. */
int cli_unit_name_from_arg(const char *arg, char **ret, const char **ret_reason);

/* Build the record of unit name from its text: parsed, [X-Fleet] parsed and validated for that
 * name (fleet's option combinations), serialized canonically and hashed; desired inactive.
 * Returns 0, -EINVAL with a malloc'd explanation in *ret_error (if non-NULL), -ENOMEM. */
int cli_unit_from_text(const char *name, const char *text, size_t size, RegistryUnit **ret, char **ret_error);
/* The same, and on success *ret_warnings (if non-NULL) gets what fleet would only have warned
 * about (unknown or deprecated [X-Fleet] options), a strv the caller frees (NULL if none). */
int cli_unit_from_text_full(const char *name, const char *text, size_t size, RegistryUnit **ret,
                            char ***ret_warnings, char **ret_error);

/* The same from a file. -ENOENT if the file does not exist; other read errors as they are. */
int cli_unit_from_file(const char *name, const char *path, RegistryUnit **ret, char **ret_error);

/* Whether arg contains glob characters ('*', '?', '['). */
bool cli_arg_is_glob(const char *arg) _pure_;

/* Resolve arguments naming existing units: a glob argument selects every name of known (sorted)
 * that it matches (at least one, else -ENOENT with *ret_missing set to the argument); any other
 * argument is mangled with cli_unit_name_from_arg() and kept even if unknown (the caller reports
 * it). Duplicates are dropped, order kept. Returns 0, -EINVAL (bad name: *ret_missing names the
 * argument), -ENOENT, -ENOMEM. *ret_missing is borrowed from args. */
int cli_resolve_names(char *const *args, char *const *known, char ***ret, const char **ret_missing);
