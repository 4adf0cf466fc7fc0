/* SPDX-License-Identifier: Apache-2.0 */

#include "scheduler-test.h"

static void test_metadata_not_equal(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", STRV_MAKE("role=edge", "region=us"));
        machine(s, "m2", STRV_MAKE("role=core", "region=eu"));
        machine(s, "m3", STRV_MAKE("region=us"));
        launch(s, "a.service", "MachineMetadata=role!=edge\n");
        launch(s, "b.service", "MachineMetadata=role!=edge role!=core\n");
        launch(s, "c.service", "MachineMetadata=region=us\nMachineMetadata=role!=edge\n");
        launch(s, "d.service", "MachineMetadata=region=eu region=us\nMachineMetadata=role=core\n");
        launch(s, "e.service", "MachineMetadata=region!=us region!=eu\n");
        reconcile_count(s);
        is_str(where(s, "a.service"), "m2", "!= skips the lower-ID machine that has the value");
        is_str(where(s, "b.service"), "m3", "several != for one key: none may match (a machine without the key fits)");
        is_str(where(s, "c.service"), "m3", "= and != combined");
        is_str(where(s, "d.service"), "m2", "same key OR, different keys AND");
        ok(!where(s, "e.service") && reason_contains(s, "e.service", "MachineMetadata"),
           "a unit excluded everywhere has a reason naming MachineMetadata");
}

static void test_metadata_change_and_retry(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", STRV_MAKE("region=us"));
        machine(s, "m2", STRV_MAKE("region=eu"));
        launch(s, "us.service", "MachineMetadata=region=us\n");
        launch(s, "any.service", NULL);
        launch(s, "ap.service", "MachineMetadata=region=ap\n");
        reconcile_count(s);
        is_str(where(s, "us.service"), "m1", "placed by metadata");
        ok(reason_contains(s, "ap.service", "no machine has region=ap"), "unplaceable, with a reason");
        is_int(reconcile_count(s), 0, "retrying it changes nothing");

        machine(s, "m1", STRV_MAKE("region=eu"));
        machine(s, "m2", STRV_MAKE("region=us"));
        l = reconcile(s);
        is_str(where(s, "us.service"), "m2", "a metadata change moves the unit that no longer fits");
        ok(has_change(l, SCHEDULER_UNASSIGN, "us.service", "m1"), "with an UNASSIGN first");
        ok(!has_change(l, SCHEDULER_UNASSIGN, "any.service", NULL) && changes_of(l, SCHEDULER_UNASSIGN, "any.service") == 0,
           "an unconstrained unit stays");

        machine(s, "m3", STRV_MAKE("region=ap"));
        reconcile_count(s);
        is_str(where(s, "ap.service"), "m3", "a new machine lets the waiting unit in");
        ok(scheduler_unit_reason(s, "ap.service") == NULL, "and its reason is gone");
}

static void test_machine_of_edges(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", STRV_MAKE("disk=hdd"));
        machine(s, "m2", STRV_MAKE("disk=ssd"));
        unit_set(s, "db.service", NULL, UNIT_DESIRED_INACTIVE);
        launch(s, "app.service", "MachineOf=db.service\n");
        launch(s, "ping.service", "MachineOf=pong.service\n");
        launch(s, "pong.service", "MachineOf=ping.service\n");
        launch(s, "c.service", "MachineOf=b.service\n");
        launch(s, "b.service", "MachineOf=a.service\n");
        launch(s, "a.service", NULL);
        reconcile_count(s);
        ok(!where(s, "app.service") && reason_contains(s, "app.service", "MachineOf=db.service is not scheduled"),
           "a follower of an inactive unit waits, with a reason");
        ok(!where(s, "ping.service") && !where(s, "pong.service"), "mutual MachineOf never schedules");
        ok(reason_contains(s, "ping.service", "is not scheduled"), "and says why");
        ok(where(s, "a.service") && streq_ptr(where(s, "b.service"), where(s, "a.service")) &&
           streq_ptr(where(s, "c.service"), where(s, "a.service")), "a chain of followers lands together");

        launch(s, "db.service", NULL);
        reconcile_count(s);
        ok(where(s, "db.service") && streq_ptr(where(s, "app.service"), where(s, "db.service")),
           "launching the target brings the follower along");

        _cleanup_free_ char *old = strdup(strna(where(s, "a.service")));
        assert_se(old && scheduler_machine_remove(s, old) == 0);
        reconcile_count(s);
        ok(where(s, "a.service") && !streq(where(s, "a.service"), old) &&
           streq_ptr(where(s, "b.service"), where(s, "a.service")) &&
           streq_ptr(where(s, "c.service"), where(s, "a.service")), "the chain moves together");

        machine(s, "m1", STRV_MAKE("disk=hdd"));
        machine(s, "m2", STRV_MAKE("disk=ssd"));
        launch(s, "pinned.service", "MachineID=m2\n");
        launch(s, "needs-hdd.service", "MachineOf=pinned.service\nMachineMetadata=disk=hdd\n");
        reconcile_count(s);
        ok(!where(s, "needs-hdd.service") && reason_contains(s, "needs-hdd.service", "does not match MachineMetadata"),
           "a follower whose metadata excludes the target's machine says so");
}

static void test_global_details(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL, *l2 = NULL;
        _cleanup_strv_free_ char **ms = NULL, **ms2 = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", STRV_MAKE("role=log"));
        machine(s, "m2", NULL);
        machine(s, "m3", STRV_MAKE("role=log"));
        launch(s, "logger.service", "Global=true\nMachineMetadata=role=log\n");
        launch(s, "busy.service", NULL);
        reconcile_count(s);
        assert_se(scheduler_unit_machines(s, "logger.service", &ms) == 0);
        ok(strv_equal(ms, STRV_MAKE("m1", "m3")), "a global unit runs only where its metadata matches");
        is_str(where(s, "busy.service"), "m2", "global placements count as load");

        /* A global unit does not land where a placed unit conflicts with it; it arrives once
         * that unit leaves. */
        launch(s, "solo.service", "MachineID=m1\nMachineMetadata=role=log\n");
        reconcile_count(s);
        launch(s, "agent.service", "Global=true\nConflicts=solo.service\n");
        reconcile_count(s);
        assert_se(scheduler_unit_machines(s, "agent.service", &ms2) == 0);
        ok(strv_length(ms2) == 2 && !strv_contains(ms2, "m1"), "global skips the machine of a conflicting unit");
        unit_set(s, "solo.service", "MachineID=m1\n", UNIT_DESIRED_INACTIVE);
        l = reconcile(s);
        ok(has_change(l, SCHEDULER_ASSIGN, "agent.service", "m1"), "and arrives when it leaves");

        /* Global → non-global: every placement ends, then it is placed once. */
        launch(s, "logger.service", NULL);
        l2 = reconcile(s);
        is_int(changes_of(l2, SCHEDULER_UNASSIGN, "logger.service"), 2, "a unit no longer global leaves every machine");
        is_int(changes_of(l2, SCHEDULER_ASSIGN, "logger.service"), 1, "and is placed once");
        ok(where(s, "logger.service") != NULL, "as an ordinary unit");

        unit_set(s, "agent.service", "Global=true\n", UNIT_DESIRED_INACTIVE);
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l3 = reconcile(s);
        is_int(changes_of(l3, SCHEDULER_UNASSIGN, "agent.service"), 3, "an inactive global leaves every machine");
}

static void test_replaces_details(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_free_ char *m = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "only", NULL);
        launch(s, "old-1.service", NULL);
        reconcile_count(s);
        launch(s, "new.service", "Replaces=old-*\n");
        reconcile_count(s);
        is_str(where(s, "new.service"), "only", "a glob Replaces takes the machine");
        ok(!where(s, "old-1.service") && reason_contains(s, "old-1.service", "replaced by new.service"),
           "with no other machine the replaced unit waits, with a reason");

        machine(s, "spare", NULL);
        reconcile_count(s);
        is_str(where(s, "old-1.service"), "spare", "it runs again once a machine is free");

        /* The replaced unit's followers move with it. */
        launch(s, "side.service", "MachineOf=old-1.service\n");
        reconcile_count(s);
        is_str(where(s, "side.service"), "spare", "follower with its target");
        launch(s, "newer.service", "Replaces=old-1.service\n");
        reconcile_count(s);
        m = strdup(strna(where(s, "old-1.service")));
        is_str(where(s, "newer.service"), "spare", "the replacing unit takes the machine");
        ok(!streq(m, "spare") && streq_ptr(where(s, "side.service"), where(s, "old-1.service")),
           "the follower follows the moved unit within the same reconcile");
        is_int(reconcile_count(s), 0, "a second reconcile has nothing to do");
}

static void test_templates(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", STRV_MAKE("hostname=web1"));
        launch(s, "web@.service", "MachineMetadata=hostname=web1\n");
        launch(s, "web@web1.service", "MachineMetadata=hostname=%i\n");
        launch(s, "agent@.service", "Global=true\n");
        reconcile_count(s);
        ok(!where(s, "web@.service") && reason_contains(s, "web@.service", "template"),
           "a template is never placed, and says so");
        is_str(where(s, "web@web1.service"), "m1", "its instance is an ordinary unit");
        is_int(scheduler_machine_load(s, "m1"), 1, "a global template runs nowhere");
}

int main(void) {
        test_metadata_not_equal();
        test_metadata_change_and_retry();
        test_machine_of_edges();
        test_global_details();
        test_replaces_details();
        test_templates();
        return done_testing();
}
