/* SPDX-License-Identifier: Apache-2.0 */

/* fleet's functional scheduling scenarios (functional/scheduling_test.go, metadata_test.go,
 * cluster_test.go), expressed on the model: 3 machines unless said otherwise. */

#include "scheduler-test.h"

static Scheduler *three_machines(void) {
        Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "aaaaaaaa11111111", STRV_MAKE("hostname=smoke1"));
        machine(s, "bbbbbbbb22222222", STRV_MAKE("hostname=smoke2"));
        machine(s, "cccccccc33333333", STRV_MAKE("hostname=smoke3"));
        return s;
}

/* TestScheduleMachineOf: ping.N/pong.N pairs are co-located, and move together. */
static void test_machine_of(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        const char *m;
        bool together = true;

        for (int i = 1; i <= 3; i++) {
                char ping[32], pong[32], x[64];

                snprintf(ping, sizeof(ping), "ping.%d.service", i);
                snprintf(pong, sizeof(pong), "pong.%d.service", i);
                snprintf(x, sizeof(x), "MachineOf=%s\n", ping);
                launch(s, pong, x);     /* the follower first: order must not matter */
                launch(s, ping, NULL);
        }
        is_int(reconcile_count(s), 6, "three pairs placed");
        for (int i = 1; i <= 3; i++) {
                char ping[32], pong[32];

                snprintf(ping, sizeof(ping), "ping.%d.service", i);
                snprintf(pong, sizeof(pong), "pong.%d.service", i);
                together = together && where(s, ping) && streq_ptr(where(s, ping), where(s, pong));
        }
        ok(together, "each pong runs where its ping runs");

        m = where(s, "ping.1.service");
        assert_se(m);
        _cleanup_free_ char *old = strdup(m);
        assert_se(old);
        assert_se(scheduler_machine_remove(s, old) == 0);
        reconcile_count(s);
        ok(where(s, "ping.1.service") && !streq(where(s, "ping.1.service"), old), "ping.1 moved off the dead machine");
        is_str(where(s, "pong.1.service"), where(s, "ping.1.service"), "pong.1 moved with it");
}

/* TestScheduleConflicts: 5 units matching conflict.* on 3 machines → 3 placed, distinct. */
static void test_conflicts(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        char **units = STRV_MAKE("conflict.0.service", "conflict.1.service", "conflict.2.service",
                                 "conflict.3.service", "conflict.4.service");
        _cleanup_strv_free_ char **machines = NULL;
        size_t unplaced_with_reason = 0;

        STRV_FOREACH(u, units)
                launch(s, *u, "Conflicts=conflict.*\n");
        reconcile_count(s);
        is_int(count_placed(s, units), 3, "exactly 3 of 5 placed");
        STRV_FOREACH(u, units)
                if (where(s, *u))
                        assert_se(strv_extend(&machines, where(s, *u)) == 0);
                else
                        unplaced_with_reason += reason_contains(s, *u, "conflicts with conflict.");
        strv_uniq(strv_sort(machines));
        is_int(strv_length(machines), 3, "on distinct machines");
        is_int(unplaced_with_reason, 2, "the other two say what they conflict with");
        is_int(reconcile_count(s), 0, "retrying unplaceable units changes nothing");
}

/* TestScheduleOneWayConflict: a unit without Conflicts is still blocked by one that has them. */
static void test_one_way_conflict(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "only", NULL);
        launch(s, "conflicts-with-hello.service", "Conflicts=hello.service\n");
        reconcile_count(s);
        launch(s, "hello.service", NULL);
        reconcile_count(s);
        is_str(where(s, "conflicts-with-hello.service"), "only", "the declaring unit runs");
        ok(!where(s, "hello.service"), "the other is blocked");
        ok(reason_contains(s, "hello.service", "conflicts with conflicts-with-hello.service"),
           "and says by what");
        assert_se(scheduler_unit_remove(s, "conflicts-with-hello.service") == 0);
        reconcile_count(s);
        is_str(where(s, "hello.service"), "only", "it starts once the conflicting unit is destroyed");
}

/* TestScheduleMultipleConflicts: space-separated and repeated Conflicts. */
static void test_multiple_conflicts(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        _cleanup_strv_free_ char **machines = NULL;
        char **units = STRV_MAKE("foo.service", "bar.service", "baz.service");

        launch(s, "foo.service", "Conflicts=bar.service baz.service\n");
        launch(s, "bar.service", "Conflicts=foo.service\nConflicts=baz.service\n");
        launch(s, "baz.service", NULL);
        reconcile_count(s);
        is_int(count_placed(s, units), 3, "three units placed");
        STRV_FOREACH(u, units)
                assert_se(strv_extend(&machines, strna(where(s, *u))) == 0);
        strv_uniq(strv_sort(machines));
        is_int(strv_length(machines), 3, "on three different machines");
}

/* TestScheduleReplace: the replacing unit takes the machine, the replaced one moves. */
static void test_replace(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        _cleanup_free_ char *old = NULL;

        launch(s, "replace.0.service", NULL);
        launch(s, "other.service", NULL);
        reconcile_count(s);
        old = strdup(strna(where(s, "replace.0.service")));
        assert_se(old);

        launch(s, "replace.1.service", "Replaces=replace.0.service\n");
        l = reconcile(s);
        is_str(where(s, "replace.1.service"), old, "the replacing unit takes the replaced unit's machine");
        ok(where(s, "replace.0.service") && !streq(where(s, "replace.0.service"), old),
           "the replaced unit moved to another machine");
        ok(has_change(l, SCHEDULER_UNASSIGN, "replace.0.service", old), "its old placement is removed");
        is_int(reconcile_count(s), 0, "and it stays stable");
}

/* TestScheduleCircularReplace: of two units replacing each other, only one is placed. */
static void test_circular_replace(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        char **units = STRV_MAKE("replace.0.service", "replace.1.service");

        launch(s, "replace.0.service", "Replaces=replace.1.service\n");
        launch(s, "replace.1.service", "Replaces=replace.0.service\n");
        reconcile_count(s);
        is_int(count_placed(s, units), 1, "exactly one is placed");
        ok(where(s, "replace.0.service") != NULL, "the first by name wins");
        ok(reason_contains(s, "replace.1.service", "circular"), "the other says why");
        is_int(reconcile_count(s), 0, "no ping-pong");
}

/* TestScheduleConditionMachineID: each unit runs on the machine its MachineID names. */
static void test_machine_id(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();

        launch(s, "pin-full.service", "MachineID=cccccccc33333333\n");
        launch(s, "pin-short.service", "MachineID=bbbbbbbb\n");
        launch(s, "pin-old.service", "X-ConditionMachineID=cccccccc33333333\n");
        launch(s, "pin-none.service", "MachineID=dddddddd\n");
        reconcile_count(s);
        is_str(where(s, "pin-full.service"), "cccccccc33333333", "full ID");
        is_str(where(s, "pin-short.service"), "bbbbbbbb22222222", "short ID");
        is_str(where(s, "pin-old.service"), "cccccccc33333333", "deprecated option name");
        ok(!where(s, "pin-none.service") && reason_contains(s, "pin-none.service", "matches no machine"),
           "an unknown ID fits nowhere, with a reason");

        /* TestNodeShutdown: a pinned unit is not moved when its machine goes. */
        assert_se(scheduler_machine_remove(s, "cccccccc33333333") == 0);
        reconcile_count(s);
        ok(!where(s, "pin-full.service"), "a pinned unit does not move to another machine");
}

/* TestScheduleGlobalUnits: a global unit runs everywhere, beside normal units. */
static void test_global(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        _cleanup_strv_free_ char **ms = NULL;

        launch(s, "hello.service", NULL);
        launch(s, "goodbye.service", NULL);
        launch(s, "global.service", "Global=true\n");
        l = reconcile(s);
        is_int(changes_of(l, SCHEDULER_ASSIGN, NULL), 5, "5 placements: 2 normal + 3 global");
        assert_se(scheduler_unit_machines(s, "global.service", &ms) == 0);
        is_int(strv_length(ms), 3, "the global unit is on every machine");
        ok(l->n_changes > 0 && changes_of(l, SCHEDULER_ASSIGN, "global.service") == 3, "reported once per machine");
        bool marked = true;
        for (size_t i = 0; i < l->n_changes; i++)
                marked = marked && l->changes[i].global == streq(l->changes[i].unit, "global.service");
        ok(marked, "changes of global units, and only those, are marked global");
        ok(where(s, "global.service") == NULL, "scheduler_unit_machine is for non-global units");

        machine(s, "dddddddd44444444", NULL);
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l2 = reconcile(s);
        ok(has_change(l2, SCHEDULER_ASSIGN, "global.service", "dddddddd44444444") && l2->n_changes == 1,
           "a new machine gets the global unit, nothing else moves");
}

/* TestScheduleGlobalConflicts: of two conflicting global units, only the first runs. */
static void test_global_conflicts(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        _cleanup_strv_free_ char **a = NULL, **b = NULL;

        launch(s, "global-b.service", "Global=true\nConflicts=global-a.service\n");
        launch(s, "global-a.service", "Global=true\n");
        reconcile_count(s);
        assert_se(scheduler_unit_machines(s, "global-a.service", &a) == 0);
        assert_se(scheduler_unit_machines(s, "global-b.service", &b) == 0);
        is_int(strv_length(a), 3, "the first by name runs on all 3 machines");
        is_int(strv_length(b), 0, "the second runs nowhere");
        ok(reason_contains(s, "global-b.service", "conflicts"), "and says why");
}

/* TestTemplatesWithSpecifiersInMetadata: MachineMetadata=hostname=%i. */
static void test_metadata_specifiers(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();

        launch(s, "metadata@smoke1.service", "MachineMetadata=hostname=%i\n");
        launch(s, "metadata@smoke2.service", "MachineMetadata=hostname=%i\n");
        launch(s, "metadata@smoke3.service", "MachineMetadata=hostname=%i\n");
        launch(s, "metadata@invalid.service", "MachineMetadata=hostname=%i\n");
        reconcile_count(s);
        is_str(where(s, "metadata@smoke1.service"), "aaaaaaaa11111111", "smoke1 on the machine with hostname=smoke1");
        is_str(where(s, "metadata@smoke2.service"), "bbbbbbbb22222222", "smoke2");
        is_str(where(s, "metadata@smoke3.service"), "cccccccc33333333", "smoke3");
        ok(!where(s, "metadata@invalid.service"), "invalid fits nowhere");
        ok(reason_contains(s, "metadata@invalid.service", "no machine has hostname=invalid"), "with a reason");
}

/* TestDynamicClusterNewMemberUnitMigration: 4 machines, 3 mutually conflicting units; killing one
 * unit's machine moves that unit to the idle machine and the others stay. */
static void test_new_member_migration(void) {
        _cleanup_(scheduler_freep) Scheduler *s = three_machines();
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        _cleanup_free_ char *victim = NULL, *c1 = NULL, *c2 = NULL;

        launch(s, "c.0.service", "Conflicts=c.*\n");
        launch(s, "c.1.service", "Conflicts=c.*\n");
        launch(s, "c.2.service", "Conflicts=c.*\n");
        reconcile_count(s);
        machine(s, "dddddddd44444444", NULL);
        is_int(reconcile_count(s), 0, "a new member moves nothing");

        victim = strdup(strna(where(s, "c.0.service")));
        c1 = strdup(strna(where(s, "c.1.service")));
        c2 = strdup(strna(where(s, "c.2.service")));
        assert_se(victim && c1 && c2);
        assert_se(scheduler_machine_remove(s, victim) == 0);
        l = reconcile(s);
        is_str(where(s, "c.0.service"), "dddddddd44444444", "the lost unit moves to the idle machine");
        ok(streq_ptr(where(s, "c.1.service"), c1) && streq_ptr(where(s, "c.2.service"), c2), "the others stay");
        is_int(l->n_changes, 2, "one UNASSIGN and one ASSIGN");
}

int main(void) {
        test_machine_of();
        test_conflicts();
        test_one_way_conflict();
        test_multiple_conflicts();
        test_replace();
        test_circular_replace();
        test_machine_id();
        test_global();
        test_global_conflicts();
        test_metadata_specifiers();
        test_new_member_migration();
        return done_testing();
}
