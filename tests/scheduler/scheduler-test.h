/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by the scheduler tests: build units from [X-Fleet] text, reconcile, and look at
 * the changes. */

#include <stdio.h>

#include "scheduler.h"
#include "strv.h"
#include "tap.h"
#include "unit-file.h"
#include "xfleet.h"

/* Add or update a unit whose [X-Fleet] section is xfleet ("Key=Value\n" lines, may be NULL);
 * specifiers are substituted for name, as fleetd does. */
static inline void unit_set(Scheduler *s, const char *name, const char *xfleet, UnitDesiredState d) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL;

        assert_se(asprintf(&text, "[Unit]\nDescription=%s\n[X-Fleet]\n%s", name, strempty(xfleet)) >= 0);
        assert_se(unit_file_parse(text, strlen(text), &u, NULL) == 0);
        assert_se(xfleet_options_parse(u, name, &x, &error) == 0);
        assert_se(scheduler_unit_set(s, name, x, d) >= 0);
}

static inline void launch(Scheduler *s, const char *name, const char *xfleet) {
        unit_set(s, name, xfleet, UNIT_DESIRED_LAUNCHED);
}

static inline void machine(Scheduler *s, const char *id, char **metadata) {
        assert_se(scheduler_machine_add(s, id, metadata) >= 0);
}

static inline SchedulerChangeList *reconcile(Scheduler *s) {
        SchedulerChangeList *l = NULL;

        assert_se(scheduler_reconcile(s, &l) == 0);
        assert_se(l);
        return l;
}

/* Reconcile and return how many changes it made. */
static inline size_t reconcile_count(Scheduler *s) {
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = reconcile(s);

        return l->n_changes;
}

static inline size_t changes_of(const SchedulerChangeList *l, SchedulerChangeType t, const char *unit) {
        size_t n = 0;

        for (size_t i = 0; i < l->n_changes; i++)
                n += l->changes[i].type == t && (!unit || streq(l->changes[i].unit, unit));
        return n;
}

static inline bool has_change(const SchedulerChangeList *l, SchedulerChangeType t, const char *unit,
                              const char *machine_id) {
        for (size_t i = 0; i < l->n_changes; i++)
                if (l->changes[i].type == t && streq(l->changes[i].unit, unit) &&
                    streq(l->changes[i].machine, machine_id))
                        return true;
        return false;
}

static inline const char *where(Scheduler *s, const char *unit) {
        return scheduler_unit_machine(s, unit);
}

static inline bool reason_contains(Scheduler *s, const char *unit, const char *needle) {
        const char *r = scheduler_unit_reason(s, unit);

        if (!r || !strstr(r, needle)) {
                diag("reason of %s: %s", unit, strna(r));
                return false;
        }
        return true;
}

static inline size_t count_placed(Scheduler *s, char *const *units) {
        size_t n = 0;

        STRV_FOREACH(u, units)
                n += !!where(s, *u);
        return n;
}

/* A number below n from *state (xorshift64*): deterministic, so that a random test's failure
 * reproduces from its seed. *state must not be 0. */
static inline unsigned rng_next(unsigned long long *state, unsigned n) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return (unsigned) ((*state * 2685821657736338717ULL) >> 33) % n;
}
