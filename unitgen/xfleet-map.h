/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "compose-model.h"
#include "xfleet.h"

/* Placement: swarm constraints, replicas and host ports as fleet's [X-Fleet] options. Fleet's
 * MachineMetadata only tests equality; our scheduler also reads "MachineMetadata=K!=V" as
 * "not on machines whose K is V". */

/* Translate one constraint ("node.labels.disk == ssd", "node.role!=manager", "node.id==abc").
 * *ret_line is the [X-Fleet] line ("MachineMetadata=disk=ssd"), *ret_key the metadata key it
 * tests ("machine-id" for MachineID=), *ret_negated whether it is a != test. Returns 0, -ENOMEM,
 * or -EINVAL with *ret_error (owned by the caller). */
int xfleet_map_constraint(const char *expr, char **ret_line, char **ret_key, bool *ret_negated, char **ret_error);

/* lib's XFleetOptions of [X-Fleet] lines ("Name=Value", as in ComposeService.xfleet) for the unit
 * named unit (its specifiers are expanded, as fleetctl does). Returns 0, -ENOMEM, or -EINVAL with
 * *ret_error (owned by the caller) for an unknown option name or a malformed value. */
int xfleet_map_options(char *const *lines, const char *unit, XFleetOptions **ret, char **ret_error);

/* Set the [X-Fleet] line "key=value" in *xfleet, replacing a line with the same key (for options
 * whose last value wins, set from two compose keys). Returns 0 or -ENOMEM. */
int xfleet_map_line_set(char ***xfleet, const char *key, const char *value);

/* Turn s into a template: unit "<project>-<service>@.service", container "<project>-<service>-%i".
 * Idempotent. Returns 0 or -ENOMEM. */
int xfleet_map_template(const ComposeProject *p, ComposeService *s);

/* The cross-service part, once every service is converted: MachineOf= for dependencies,
 * Conflicts= for host ports (a replicated service's own instances; two services publishing the
 * same port). Sorts and de-duplicates each service's lines, then checks them with lib's
 * validator (xfleet_options_validate(), the rules fleetctl applies). Returns 0, -EINVAL after a
 * message, -ENOMEM. */
int xfleet_map_finish(ComposeModel *m, Diag *d);
