/* SPDX-License-Identifier: Apache-2.0 */

/* A unit given up on a machine (its agent stopped it after MoveAfterFailures= failures) moves to
 * another machine, never comes back while excluded, and stays unplaced with the reason when no
 * other machine fits. */

#include "scheduler-test.h"

#define WHY "3 failures in 5min (unhealthy)"

static void test_moves_elsewhere(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        _cleanup_free_ char *first = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "aaaa0001", NULL);
        machine(s, "aaaa0002", NULL);
        machine(s, "aaaa0003", NULL);
        launch(s, "web.service", NULL);
        is_int(reconcile_count(s), 1, "placed");
        first = strdup(where(s, "web.service"));
        assert_se(first);
        ok(!scheduler_unit_moved(s, "web.service"), "no note before");

        is_int(scheduler_unit_exclude(s, "web.service", first, WHY), 0, "excluded from its machine");
        l = reconcile(s);
        ok(has_change(l, SCHEDULER_UNASSIGN, "web.service", first), "unassigned from %s", first);
        is_int(changes_of(l, SCHEDULER_ASSIGN, "web.service"), 1, "and assigned once");
        ok(where(s, "web.service") && !streq(where(s, "web.service"), first), "on another machine (%s)",
           strna(where(s, "web.service")));
        ok(!scheduler_unit_reason(s, "web.service"), "placed: no reason");
        ok(scheduler_unit_moved(s, "web.service") &&
           strstr(scheduler_unit_moved(s, "web.service"), "moved from ") &&
           strstr(scheduler_unit_moved(s, "web.service"), first) &&
           strstr(scheduler_unit_moved(s, "web.service"), WHY), "the note says from where and why: %s",
           strna(scheduler_unit_moved(s, "web.service")));
        is_int(reconcile_count(s), 0, "a fixpoint");

        /* The machine it left is now the least loaded: still not chosen after another move. */
        {
                _cleanup_free_ char *second = strdup(where(s, "web.service"));

                assert_se(second);
                is_int(scheduler_unit_exclude(s, "web.service", second, WHY), 0, "given up on a second machine");
                is_int(reconcile_count(s), 2, "moved again");
                ok(!streq(where(s, "web.service"), first) && !streq(where(s, "web.service"), second),
                   "to the third machine, not back to the first");
                ok(strstr(scheduler_unit_moved(s, "web.service"), second), "the note names the last machine");
        }

        /* Given up everywhere: unplaced with the reason, no bouncing. */
        is_int(scheduler_unit_exclude(s, "web.service", where(s, "web.service"), WHY), 0, "and on the third");
        is_int(reconcile_count(s), 1, "only unassigned");
        ok(!where(s, "web.service"), "unplaced");
        ok(reason_contains(s, "web.service", "moved from ") && reason_contains(s, "web.service", WHY) &&
           reason_contains(s, "web.service", "given up on every machine it fits on"), "the reason says why");
        machine(s, "aaaa0004", NULL);
        is_int(reconcile_count(s), 1, "a new machine takes it");
        is_str(where(s, "web.service"), "aaaa0004", "there");

        /* A new body clears the exclusions. */
        is_int(scheduler_unit_exclusions_clear(s, "web.service"), 1, "cleared");
        ok(!scheduler_unit_moved(s, "web.service"), "no note after");
        is_int(scheduler_unit_exclusions_clear(s, "web.service"), 0, "cleared twice: nothing");
        is_int(scheduler_unit_exclude(s, "nope.service", "aaaa0001", WHY), -ENOENT, "unknown unit");
        is_int(scheduler_unit_exclude(s, "web.service", "", WHY), -EINVAL, "empty machine");
}

static void test_unplaced_then_clear(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "bbbb0001", NULL);
        launch(s, "db.service", "MachineID=bbbb0001\n");
        is_int(reconcile_count(s), 1, "pinned unit placed");
        is_int(scheduler_unit_exclude(s, "db.service", "bbbb0001", "3 failures in 5min (failed)"), 0, "given up");
        is_int(reconcile_count(s), 1, "unassigned, nowhere else to go");
        ok(!where(s, "db.service"), "unplaced");
        ok(reason_contains(s, "db.service", "moved from bbbb0001: 3 failures in 5min (failed); ") &&
           reason_contains(s, "db.service", "given up on machine bbbb0001"), "its reason");
        is_int(reconcile_count(s), 0, "stays unplaced");
        is_int(scheduler_unit_exclusions_clear(s, "db.service"), 1, "a new body");
        is_int(reconcile_count(s), 1, "placed back");
        is_str(where(s, "db.service"), "bbbb0001", "on its machine");
}

static void test_follower_moves_with_target(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_free_ char *first = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "cccc0001", NULL);
        machine(s, "cccc0002", NULL);
        launch(s, "db.service", NULL);
        launch(s, "app.service", "MachineOf=db.service\n");
        assert_se(reconcile_count(s) == 2);
        first = strdup(where(s, "db.service"));
        assert_se(first && streq(where(s, "app.service"), first));
        is_int(scheduler_unit_exclude(s, "db.service", first, WHY), 0, "the target is given up");
        (void) reconcile_count(s);
        ok(where(s, "db.service") && !streq(where(s, "db.service"), first), "it moved");
        is_str(where(s, "app.service"), where(s, "db.service"), "its follower moved with it");
}

int main(void) {
        test_moves_elsewhere();
        test_unplaced_then_clear();
        test_follower_moves_with_target();
        return done_testing();
}
