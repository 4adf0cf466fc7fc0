/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"
#include "unit-state.h"

/* A unit's dependency on another unit that may run on another machine (compose's depends_on):
 * [X-Fleet] DependsOn=UNIT [CONDITION] [restart]. The agent does not start the unit until the
 * dependency's state record (P states/UNIT/<machine>, any machine) meets the condition; with
 * "restart" it restarts the unit when the dependency meets it again after it stopped meeting it
 * (a restart, a move). On one machine systemd's own After=/Wants= order the two, as before. */

typedef enum UnitDependCondition {
        UNIT_DEPEND_STARTED,    /* compose's service_started: the dependency runs (active) */
        UNIT_DEPEND_HEALTHY,    /* service_healthy: active, and its healthcheck reports healthy */
        UNIT_DEPEND_COMPLETED,  /* service_completed_successfully: a oneshot with RemainAfterExit=yes
                                 * that exited with success (active/exited) */
        _UNIT_DEPEND_CONDITION_MAX,
        _UNIT_DEPEND_CONDITION_INVALID = -EINVAL,
} UnitDependCondition;

/* "started", "healthy", "completed"; NULL for an invalid value. */
const char *unit_depend_condition_to_string(UnitDependCondition c) _const_;
/* The inverse; _UNIT_DEPEND_CONDITION_INVALID (-EINVAL) for anything else, NULL included. */
UnitDependCondition unit_depend_condition_from_string(const char *s) _pure_;

typedef struct UnitDepend {
        char *unit;                     /* a unit name, never a template */
        UnitDependCondition condition;
        bool restart;                   /* compose's restart: true */
} UnitDepend;

/* Release d's fields (not d). */
void unit_depend_done(UnitDepend *d);

/* Parse "UNIT [CONDITION] [restart]" (whitespace-separated; the condition defaults to started).
 * Returns 0 and *ret filled; -EINVAL with a malloc'd message naming the value and what is wrong in
 * *error_message (if non-NULL): not a valid unit name, a template (no instance to wait for), an
 * unknown condition or word, a word given twice; -ENOMEM. */
int unit_depend_parse(const char *value, UnitDepend *ret, char **error_message);

/* The canonical text of d, "UNIT CONDITION" or "UNIT CONDITION restart". NULL on OOM. */
char *unit_depend_format(const UnitDepend *d);

/* Whether a copy of the dependency in the given state meets condition c: started when it is
 * active or reloading; healthy when it is besides that healthy (a dependency without a
 * healthcheck never is: docker compose refuses service_healthy on one); completed when it is
 * active/exited. active_state and sub_state are systemd's (NULL: unknown, never met). */
bool unit_depend_met(UnitDependCondition c, const char *active_state, const char *sub_state,
                     UnitHealth health) _pure_;

/* What is awaited and why it is not there yet, for a held unit's reason: "waiting for db.service
 * to be healthy: it is starting" from the best copy's state (active_state NULL: no copy runs
 * anywhere). Returns a malloc'd string or NULL on OOM. */
char *unit_depend_describe_wait(const UnitDepend *d, const char *active_state, const char *sub_state,
                                UnitHealth health);
