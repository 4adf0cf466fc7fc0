/* SPDX-License-Identifier: Apache-2.0 */

#include "scheduler-test.h"

static void test_least_loaded(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m2", NULL);
        machine(s, "m1", NULL);
        machine(s, "m3", NULL);
        for (int i = 1; i <= 6; i++) {
                char name[32];

                snprintf(name, sizeof(name), "u%d.service", i);
                launch(s, name, NULL);
        }
        l = reconcile(s);
        is_int(changes_of(l, SCHEDULER_ASSIGN, NULL), 6, "six assignments");
        is_int(changes_of(l, SCHEDULER_UNASSIGN, NULL), 0, "no unassignment");
        is_str(where(s, "u1.service"), "m1", "ties go to the lowest machine ID");
        is_str(where(s, "u2.service"), "m2", "then the next least loaded");
        is_str(where(s, "u3.service"), "m3", "and the next");
        is_str(where(s, "u4.service"), "m1", "round again");
        ok(scheduler_machine_load(s, "m1") == 2 && scheduler_machine_load(s, "m2") == 2 &&
           scheduler_machine_load(s, "m3") == 2, "balanced: 2 each");
        is_int(reconcile_count(s), 0, "a second reconcile changes nothing");
        is_int(scheduler_machine_load(s, "nope"), -ENOENT, "unknown machine load");
}

static void test_stability(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "b", NULL);
        launch(s, "x1.service", NULL);
        launch(s, "x2.service", NULL);
        launch(s, "x3.service", NULL);
        is_int(reconcile_count(s), 3, "three units on the only machine");

        machine(s, "a", NULL);
        is_int(reconcile_count(s), 0, "adding a machine moves nothing (no rebalancing churn)");
        is_str(where(s, "x1.service"), "b", "placed unit stays");

        launch(s, "x4.service", NULL);
        launch(s, "x5.service", NULL);
        is_int(reconcile_count(s), 2, "new units are placed");
        ok(streq_ptr(where(s, "x4.service"), "a") && streq_ptr(where(s, "x5.service"), "a"),
           "new units go to the empty machine");

        /* Updating the options of a placed unit keeps it if it still fits. */
        launch(s, "x1.service", "MachineMetadata=k!=v\n");
        is_int(reconcile_count(s), 0, "an option change that still fits keeps the placement");
        is_str(where(s, "x1.service"), "b", "still on b");
}

static void test_desired_states(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL, *l2 = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", NULL);
        unit_set(s, "sub.service", NULL, UNIT_DESIRED_INACTIVE);
        unit_set(s, "load.service", NULL, UNIT_DESIRED_LOADED);
        launch(s, "run.service", NULL);
        l = reconcile(s);
        ok(!where(s, "sub.service"), "inactive units are not placed");
        ok(scheduler_unit_reason(s, "sub.service") == NULL, "and have no reason");
        is_str(where(s, "load.service"), "m1", "loaded units are placed");
        is_str(where(s, "run.service"), "m1", "launched units are placed");

        unit_set(s, "run.service", NULL, UNIT_DESIRED_INACTIVE);
        l2 = reconcile(s);
        ok(has_change(l2, SCHEDULER_UNASSIGN, "run.service", "m1") && l2->n_changes == 1,
           "a unit made inactive is unassigned");
        ok(!where(s, "run.service"), "and is no longer placed");
        is_int(scheduler_machine_load(s, "m1"), 1, "load follows");
}

static void test_machine_removal(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        char **units = STRV_MAKE("a.service", "b.service", "c.service", "d.service");

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", NULL);
        machine(s, "m2", NULL);
        STRV_FOREACH(u, units)
                launch(s, *u, NULL);
        assert_se(reconcile_count(s) == 4);
        is_str(where(s, "a.service"), "m1", "a on m1");
        is_str(where(s, "c.service"), "m1", "c on m1");

        assert_se(scheduler_machine_remove(s, "m1") == 0);
        is_int(scheduler_machine_remove(s, "m1"), -ENOENT, "removing twice fails");
        ok(!where(s, "a.service"), "units of a removed machine are unplaced at once");
        l = reconcile(s);
        ok(has_change(l, SCHEDULER_UNASSIGN, "a.service", "m1") && has_change(l, SCHEDULER_UNASSIGN, "c.service", "m1"),
           "their old placements are reported as UNASSIGN");
        ok(has_change(l, SCHEDULER_ASSIGN, "a.service", "m2") && has_change(l, SCHEDULER_ASSIGN, "c.service", "m2"),
           "and they are re-placed in the same reconcile");
        is_int(l->n_changes, 4, "nothing else changes");
        is_int(count_placed(s, units), 4, "all four placed");
        is_str(where(s, "b.service"), "m2", "the others stayed");

        /* The UNASSIGN precedes the ASSIGN of the same unit. */
        for (size_t i = 0, seen_unassign = 0; i < l->n_changes; i++) {
                if (!streq(l->changes[i].unit, "a.service"))
                        continue;
                if (l->changes[i].type == SCHEDULER_UNASSIGN)
                        seen_unassign = 1;
                else
                        ok(seen_unassign, "UNASSIGN comes before ASSIGN");
        }

        assert_se(scheduler_machine_remove(s, "m2") == 0);
        reconcile_count(s);
        ok(reason_contains(s, "a.service", "no machines"), "with no machine left, the reason says so");
}

/* Cordon: no new placements, what runs stays; drain: non-global units move away, globals stay;
 * uncordon: the machine takes units again. The mode may come before the machine. */
static void test_cordon_drain(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL, *l2 = NULL;

        assert_se(scheduler_new(&s) == 0);
        is_int(scheduler_machine_cordon(s, "m3", REGISTRY_CORDON_CORDONED), 0, "a machine not seen yet can be cordoned");
        is_int(scheduler_machine_cordon(s, "", REGISTRY_CORDON_CORDONED), -EINVAL, "empty id refused");
        is_int(scheduler_machine_cordon(s, "m1", _REGISTRY_CORDON_MAX), -EINVAL, "invalid mode refused");
        machine(s, "m1", NULL);
        machine(s, "m2", NULL);
        machine(s, "m3", NULL);
        launch(s, "a.service", NULL);
        launch(s, "b.service", NULL);
        launch(s, "g.service", "Global=true");
        reconcile_count(s);
        is_str(where(s, "a.service"), "m1", "a on m1");
        is_str(where(s, "b.service"), "m2", "b on m2, not on the cordoned, emptier m3");
        is_int(scheduler_machine_load(s, "m3"), 1, "the global unit still runs on the cordoned m3");

        assert_se(scheduler_machine_cordon(s, "m1", REGISTRY_CORDON_CORDONED) == 0);
        is_int(reconcile_count(s), 0, "cordoning moves nothing");
        is_str(where(s, "a.service"), "m1", "a stays on cordoned m1");
        launch(s, "c.service", NULL);
        launch(s, "d.service", NULL);
        reconcile_count(s);
        is_str(where(s, "c.service"), "m2", "a new unit goes to the only schedulable machine");
        is_str(where(s, "d.service"), "m2", "so does the next");

        assert_se(scheduler_machine_cordon(s, "m2", REGISTRY_CORDON_DRAINED) == 0);
        l = reconcile(s);
        ok(has_change(l, SCHEDULER_UNASSIGN, "b.service", "m2") && has_change(l, SCHEDULER_UNASSIGN, "c.service", "m2") &&
           has_change(l, SCHEDULER_UNASSIGN, "d.service", "m2"), "draining m2 unassigns its units");
        is_int(changes_of(l, SCHEDULER_ASSIGN, NULL), 0, "with every other machine cordoned they go nowhere");
        ok(reason_contains(s, "b.service", "cordoned or drained"), "and the reason says why");
        is_int(scheduler_machine_load(s, "m2"), 1, "the global unit stays on the drained machine");

        assert_se(scheduler_machine_cordon(s, "m3", REGISTRY_CORDON_NONE) == 0);
        l2 = reconcile(s);
        is_int(changes_of(l2, SCHEDULER_ASSIGN, NULL), 3, "uncordoning m3 places the three there");
        is_str(where(s, "d.service"), "m3", "d moved to m3");
        is_int(reconcile_count(s), 0, "and that is a fixpoint");

        assert_se(scheduler_machine_remove(s, "m2") == 0);
        reconcile_count(s);
        machine(s, "m2", NULL);
        reconcile_count(s);
        is_int(scheduler_machine_load(s, "m2"), 1, "a drained machine that comes back stays drained (only its global)");
        assert_se(scheduler_machine_cordon(s, "m2", REGISTRY_CORDON_NONE) == 0);
        assert_se(scheduler_machine_cordon(s, "m1", REGISTRY_CORDON_NONE) == 0);
        is_int(reconcile_count(s), 0, "uncordoning moves nothing that runs");
        launch(s, "e.service", NULL);
        reconcile_count(s);
        is_str(where(s, "e.service"), "m2", "the uncordoned, emptiest m2 takes the next unit");
}

static void test_restore_and_remove(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL, *l2 = NULL, *l3 = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", NULL);
        machine(s, "m2", NULL);
        launch(s, "a.service", NULL);
        launch(s, "b.service", "Conflicts=a.service\n");
        launch(s, "c.service", NULL);
        is_int(scheduler_assignment_set(s, "a.service", "m2"), 0, "restore a placement");
        is_int(scheduler_assignment_set(s, "b.service", "m2"), 0, "restore a conflicting placement");
        is_int(scheduler_assignment_set(s, "c.service", "gone"), 0, "restore onto an unknown machine");
        is_int(scheduler_assignment_set(s, "nope.service", "m1"), -ENOENT, "unknown unit");
        is_int(scheduler_machine_load(s, "m2"), 2, "restored placements count");

        l = reconcile(s);
        ok(has_change(l, SCHEDULER_UNASSIGN, "c.service", "gone"), "placement on an unknown machine is deleted");
        is_str(where(s, "c.service"), "m1", "and the unit is placed");
        ok(!has_change(l, SCHEDULER_ASSIGN, "a.service", "m2") && !has_change(l, SCHEDULER_ASSIGN, "a.service", "m1"),
           "a restored placement that fits is not reported again");
        ok(streq_ptr(where(s, "a.service"), "m2") != streq_ptr(where(s, "b.service"), "m2"),
           "of two conflicting restored units one moves");
        ok(where(s, "a.service") && where(s, "b.service"), "both end up placed");

        is_int(scheduler_unit_remove(s, "c.service"), 0, "remove a unit");
        is_int(scheduler_unit_remove(s, "c.service"), -ENOENT, "remove twice");
        l2 = reconcile(s);
        ok(has_change(l2, SCHEDULER_UNASSIGN, "c.service", "m1") && l2->n_changes == 1,
           "a removed unit's placement is reported as UNASSIGN");

        is_int(scheduler_assignment_unset(s, "a.service", "m1") == 0 || scheduler_assignment_unset(s, "a.service", "m2") == 0, 1,
               "forget a placement silently");
        l3 = reconcile(s);
        is_int(changes_of(l3, SCHEDULER_ASSIGN, "a.service"), 1, "the unit is placed again");
        is_int(scheduler_n_units(s), 2, "two units");
        is_int(scheduler_n_machines(s), 2, "two machines");
}

static void test_invalid(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        is_int(scheduler_unit_set(s, "bad name", NULL, UNIT_DESIRED_LAUNCHED), -EINVAL, "invalid unit name");
        is_int(scheduler_unit_set(s, "ok.service", NULL, _UNIT_DESIRED_STATE_INVALID), -EINVAL, "invalid state");
        is_int(scheduler_machine_add(s, "", NULL), -EINVAL, "empty machine id");
        is_int(scheduler_unit_set(s, "ok.service", NULL, UNIT_DESIRED_LAUNCHED), 1, "added");
        is_int(scheduler_unit_set(s, "ok.service", NULL, UNIT_DESIRED_LOADED), 0, "updated");
        is_int(scheduler_machine_add(s, "m", STRV_MAKE("a=b")), 1, "machine added");
        is_int(scheduler_machine_add(s, "m", STRV_MAKE("a=c")), 0, "machine updated");
        is_str(scheduler_change_type_to_string(SCHEDULER_ASSIGN), "assign", "change type name");
        ok(scheduler_free(NULL) == NULL && scheduler_change_list_free(NULL) == NULL, "free accepts NULL");
}

int main(void) {
        test_least_loaded();
        test_stability();
        test_desired_states();
        test_machine_removal();
        test_cordon_drain();
        test_restore_and_remove();
        test_invalid();
        return done_testing();
}
