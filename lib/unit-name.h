/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* fleet's unit names: at most 255 characters (systemd's limit, a file name's) of [a-zA-Z0-9:_.@-],
 * ending in ".<type>" with a known systemd unit type. Templates are "prefix@.type", instances
 * "prefix@instance.type". */

#define UNIT_NAME_MAX 255

/* Whether suffix (without the dot, e.g. "service") is a known unit type: service, socket,
 * device, mount, automount, swap, target, path, timer, snapshot, slice, scope. */
bool unit_type_is_known(const char *suffix) _pure_;

/* The type of name ("service" for "a.service"), borrowed from name, or NULL if the name has no
 * dot. It does not check that the type is known. */
const char *unit_name_type(const char *name) _pure_;

/* Whether name is a valid unit name by fleet's rules: non-empty, at most UNIT_NAME_MAX
 * characters, only [a-zA-Z0-9:_.@-] (so no path separators), a known type suffix, a non-empty
 * name before it, and at most one '@' (which, if present, is followed by an instance that may be
 * empty (a template) and precedes the suffix). */
bool unit_name_is_valid(const char *name) _pure_;
/* Like unit_name_is_valid(), but returns 0 or -EINVAL and, on -EINVAL, a static reason string in
 * *reason (optional) such as "invalid character in unit name" or "unknown unit type". */
int unit_name_check(const char *name, const char **reason);

/* fleetctl's normalization: returns a copy of name, with ".service" appended if name has no
 * recognized type suffix (so "web" and "web.1" become "web.service" and "web.1.service", while
 * "web.socket" stays). It does not validate the result. Returns 0 or -ENOMEM. */
int unit_name_fleetctl_normalize(const char *name, char **ret);

/* "foo@.service" is a template; "foo@1.service" is an instance; "foo.service" is neither.
 * Both assume a valid name. */
bool unit_name_is_template(const char *name) _pure_;
/* Whether name is one of fleet's own units (fleetd.service, fleet-dns.service, of any type): the
 * agent will not load a submitted unit of that name, as stopping it would stop fleet itself. */
bool unit_name_is_fleet_own(const char *name) _pure_;
bool unit_name_is_instance(const char *name) _pure_;
/* Template types fleet can instantiate: path, service, socket, target, timer. */
bool unit_name_template_type_ok(const char *name) _pure_;

/* The prefix: "foo" for "foo@1.service", "foo@.service" and "foo.service". Returns 0, -EINVAL
 * if name has no type suffix, -ENOMEM. */
int unit_name_to_prefix(const char *name, char **ret);
/* The instance: "1" for "foo@1.service", "" for "foo@.service" and for "foo.service" (fleet's
 * %i of a non-instance is empty). Returns 0, -EINVAL if name has no type suffix, -ENOMEM. */
int unit_name_to_instance(const char *name, char **ret);
/* The name without its type suffix: "foo@1" for "foo@1.service" (systemd's/fleet's %N).
 * Returns 0, -EINVAL, -ENOMEM. */
int unit_name_without_type(const char *name, char **ret);
/* The template of an instance: "foo@.service" for "foo@1.service". Returns 0, -EINVAL if name is
 * not an instance, -ENOMEM. */
int unit_name_template_of(const char *name, char **ret);
/* Instantiate: ("foo@.service", "1") → "foo@1.service". Returns 0, -EINVAL if template is not a
 * template or instance is empty or has invalid characters, -ENOMEM. */
int unit_name_build_instance(const char *template, const char *instance, char **ret);

/* Substitute fleet's specifiers in text for the unit called unit_name: %n the full name
 * ("foo@1.service"), %N the name without type ("foo@1"), %p the prefix ("foo"), %i the instance
 * ("1"), and %% a literal '%'. Any other '%x' is kept as is (fleet does the same). Returns 0,
 * -EINVAL if unit_name has no type suffix, -E2BIG if the result would exceed
 * UNIT_NAME_EXPANSION_MAX bytes, -ENOMEM. *ret is malloc'd. */
#define UNIT_NAME_EXPANSION_MAX (64U * 1024U)
int unit_name_specifier_expand(const char *text, const char *unit_name, char **ret);

/* fleetctl's brace expansion of one argument: "web@{1..3}.service" gives web@1, web@2, web@3
 * (numeric ranges, ascending or descending, with zero padding kept when both ends have the same
 * width), "{a,b}.service" gives a.service and b.service; several groups multiply out, left to
 * right; an argument without a (well-formed) group gives itself. At most 100000 results
 * (-E2BIG beyond). Returns 0, -E2BIG or -ENOMEM; *ret is a new strv. */
int unit_name_expand_braces(const char *pattern, char ***ret);
