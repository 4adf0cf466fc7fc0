/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* fleetctl's blocking waits: after changing desired states, wait until the cluster reports the
 * units in that state, printing "Unit X launched on 1a2b3c4d.../10.0.0.1" as each one gets there. */

#include <stdio.h>

#include "cluster.h"
#include "time-util.h"

#define CLI_WAIT_INTERVAL_USEC (250 * USEC_PER_MSEC)

/* Whether unit name has reached state in snapshot s:
 *   inactive: no machine is assigned the unit;
 *   loaded:   a machine is assigned it (desired loaded) and reports it loaded and not running;
 *   launched: a machine is assigned it (desired launched) and reports it active.
 * A machine's report only counts if it is for the unit's current body (same hash). On true,
 * *ret_machine_id (optional) borrows the machine's id from s (NULL for inactive). */
bool cli_unit_reached(const ClusterSnapshot *s, const char *name, UnitDesiredState state,
                      const char **ret_machine_id);

/* The line fleetctl prints when a unit got there: "Unit X <state>" plus " on <legend>" when its
 * machine is known. malloc'd into *ret. Returns 0 or -ENOMEM. */
int cli_unit_reached_message(const ClusterSnapshot *s, const char *name, UnitDesiredState state,
                             const char *machine_id, char **ret);

/* Where a unit stands on its way to running a body. */
typedef enum CliUnitProgress {
        CLI_UNIT_PENDING,               /* not placed, not reported, starting, or another body */
        CLI_UNIT_READY,                 /* runs that body: active (and healthy when it has a health) */
        CLI_UNIT_FAILED,                /* runs that body and failed, is waiting to restart or is
                                         * unhealthy, or its machine refused it */
} CliUnitProgress;

/* The progress of unit name towards running the body hashed hash (NULL: its current body in s).
 * *ret_state (optional) borrows the machine's report (NULL if none); *ret_reason (optional) the
 * engine's reason why it is not placed, or its agent's why it holds it ("waiting for db.service to
 * be started: ..."), a wait and no failure (NULL if none is known). */
CliUnitProgress cli_unit_progress(const ClusterSnapshot *s, const char *name, const char *hash,
                                  RegistryUnitState **ret_state, const char **ret_reason);

/* "Unit X failed on <machine>: <active>/<sub>" (or the machine's refusal), for a unit
 * cli_unit_progress() called failed. malloc'd into *ret. Returns 0 or -ENOMEM. */
int cli_unit_failed_message(const ClusterSnapshot *s, const char *name, const RegistryUnitState *st, char **ret);

/* Called with each fresh snapshot: > 0 when the wait is over, 0 to wait on, < 0 to fail with it. */
typedef int (*CliWaitCheck)(const ClusterSnapshot *s, void *userdata);

/* Read the registry, ask check, and again whenever a watch on it reports a change (every
 * CLI_WAIT_INTERVAL_USEC if the watch cannot be set up), for at most attempts x
 * CLI_WAIT_INTERVAL_USEC (attempts 0: without limit). Returns 0 once check said so, -ETIME when
 * the attempts ran out, check's error or the etcd error. */
int cli_wait_until(EtcdClient *c, const char *prefix, int attempts, CliWaitCheck check, void *userdata);

/* Wait until every unit of names has reached state: the registry is read again whenever a watch
 * on it reports a change (every CLI_WAIT_INTERVAL_USEC if the watch cannot be set up), for at
 * most attempts x CLI_WAIT_INTERVAL_USEC (attempts 0: without limit) — fleet's --block-attempts,
 * which were that many polls 250 ms apart. Prints each arrival to out (unless NULL). On a terminal
 * (progress) it keeps a "3/10 launched" line on stderr. The engine's reason for a unit it cannot
 * place is printed on stderr when first seen (and when it changes). Waiting for launched stops at
 * the first unit that fails with its current body: it is named on stderr, and in *ret_failed
 * (optional, borrowed from names). Units still missing at the end are reported on stderr as fleet
 * does ("Error waiting for units: timed out waiting for unit X to report state Y"). Returns 0,
 * -ETIME if any timed out, -ENOEXEC when a unit failed, or the etcd error. */
int cli_wait_units(EtcdClient *c, const char *prefix, char *const *names, UnitDesiredState state,
                   int attempts, FILE *out, bool progress, const char **ret_failed);
