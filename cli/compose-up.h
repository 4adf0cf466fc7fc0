/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* fleetctl compose up: converge the cluster onto the units unitgen rendered.
 *
 * Each unit is compared with the cluster's by its hash. A new unit is submitted and started; an
 * unchanged one is left alone (started if it was stopped), so a second up changes nothing; a
 * changed one is replaced by a rolling update that follows its service's deploy.update_config:
 * `parallelism` units at a time, each batch replaced in place (fleet restarts a unit that gets a
 * new body), and the next batch only once every unit of this one reports the new hash active (and
 * healthy when it has a health) for `monitor`, then `delay`. A unit that fails or restarts with
 * the new body, or stops being ready within `monitor`, is a failure; past `max_failure_ratio` of
 * the service's units, `failure_action` says: pause (stop here, exit 1), continue, or rollback (the replaced units get their old bodies
 * back, by deploy.rollback_config; exit 1).
 *
 * order: start-first, for replicas (templates): before a batch is replaced, as many extra
 * instances of the template as the batch has ("<p>-<s>@<replicas+k>.service", "surge" instances)
 * are started with the new body; once they are ready the batch is replaced in place, and once the
 * batch is ready the surge instances are destroyed. So a service never has fewer ready replicas
 * than before the update (the price: each replica is started twice). A service that is not
 * replicated has one unit whose name is its identity; it is replaced stop-first.
 *
 * First the project's secrets and configs are created or updated (objects_compose_up(); each
 * reference gets the value's digest, so a changed value changes the units that use it).
 *
 * Units of the project that the file no longer has (found by name prefix and the project named in
 * their [X-Fleet-Network] section) are listed, and destroyed with --remove-orphans. */

#include "cluster.h"
#include "compose-objects.h"
#include "unit-writer.h"

typedef struct ComposeUnits {
        RenderedUnit *units;
        size_t n_units;
        ComposeObject *objects;         /* the secrets and configs the units refer to (issue 15) */
        size_t n_objects;
        char *project;
        char **only_services;           /* borrowed: SERVICE operands, NULL: all */
} ComposeUnits;

void compose_units_done(ComposeUnits *cu);

typedef struct ComposeUpOptions {
        bool detach;                    /* -d: submit and start, do not wait */
        bool remove_orphans;
        uint64_t timeout_usec;          /* --wait-timeout, 0: none */
} ComposeUpOptions;

/* The units in s that belong to project: named "<project>-..." with Project=<project> in their
 * [X-Fleet-Network] section (unitgen writes it for the cluster network, which compose uses). A new strv in *ret (possibly empty, never NULL). Returns 0 or -ENOMEM. */
int compose_project_units(const ClusterSnapshot *s, const char *project, char ***ret);

/* Whether unit name stands for one of cu's selected services (its unit, template, or an instance
 * of its template). */
bool compose_units_owns(const ComposeUnits *cu, const char *name);

/* Converge, as described above. Returns 0 when every unit reached its state, or a negative errno
 * after printing why (-ETIME: the wait timed out; -ECANCELED: an update paused or rolled back). */
int compose_up(ComposeUnits *cu, const ComposeUpOptions *o);
