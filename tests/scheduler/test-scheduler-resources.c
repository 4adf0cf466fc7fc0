/* SPDX-License-Identifier: Apache-2.0 */

/* Capacity and reservations (issue 14): units go only where they fit, in spread or binpack order;
 * what fits nowhere says so with the numbers; machine loss and shrinking capacity re-place what
 * fits and leave the rest unplaced; MaxReplicasPerMachine and SpreadMetadata. */

#include "scheduler-test.h"

#define GiB (1ULL << 30)

/* A machine offering cpu (in thousandths) and mem bytes, plus "name=N" extras. */
static void machine_cap(Scheduler *s, const char *id, char **metadata, uint64_t cpu, uint64_t mem,
                        const char *extra) {
        Resources c = { .cpu_milli = cpu, .memory = mem };

        machine(s, id, metadata);
        if (extra) {
                _cleanup_free_ char *name = NULL;
                uint64_t n;

                assert_se(resources_parse_extra(extra, &name, &n) == 0);
                assert_se(resources_add_extra(&c, name, n) == 0);
        }
        assert_se(scheduler_machine_set_capacity(s, id, &c) == 0);
        resources_done(&c);
}

static uint64_t reserved_cpu(Scheduler *s, const char *id) {
        Resources r = {};
        uint64_t v;

        assert_se(scheduler_machine_reserved(s, id, &r) == 0);
        v = r.cpu_milli;
        resources_done(&r);
        return v;
}

static uint64_t reserved_mem(Scheduler *s, const char *id) {
        Resources r = {};
        uint64_t v;

        assert_se(scheduler_machine_reserved(s, id, &r) == 0);
        v = r.memory;
        resources_done(&r);
        return v;
}

static void launch_n(Scheduler *s, const char *prefix, unsigned from, unsigned to, const char *xfleet) {
        for (unsigned i = from; i <= to; i++) {
                char name[64];

                snprintf(name, sizeof(name), "%s%u.service", prefix, i);
                launch(s, name, xfleet);
        }
}

static void test_strategy_names(void) {
        is_str(scheduler_strategy_to_string(SCHEDULER_SPREAD), "spread", "spread");
        is_str(scheduler_strategy_to_string(SCHEDULER_BINPACK), "binpack", "binpack");
        is_int(scheduler_strategy_from_string("binpack"), SCHEDULER_BINPACK, "parse binpack");
        is_int(scheduler_strategy_from_string("random"), -EINVAL, "unknown strategy");
}

/* spread: the machine with the least reserved share of its dominant resource. */
static void test_spread(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "a", NULL, 2000, 4 * GiB, NULL);
        machine_cap(s, "b", NULL, 4000, 8 * GiB, NULL);
        launch(s, "u1.service", "ReserveCPU=1\nReserveMemory=2G\n");
        reconcile_count(s);
        is_str(where(s, "u1.service"), "a", "both empty: the lowest ID");
        launch(s, "u2.service", "ReserveCPU=1\nReserveMemory=2G\n");
        reconcile_count(s);
        is_str(where(s, "u2.service"), "b", "a is half reserved, b empty: b");
        launch(s, "u3.service", "ReserveCPU=1\nReserveMemory=2G\n");
        reconcile_count(s);
        is_str(where(s, "u3.service"), "b", "a 1/2, b 1/4: b");
        launch(s, "u4.service", "ReserveCPU=1\nReserveMemory=2G\n");
        reconcile_count(s);
        is_str(where(s, "u4.service"), "a", "a 1/2, b 1/2: the lowest ID");
        launch(s, "u5.service", "ReserveCPU=1\nReserveMemory=2G\n");
        reconcile_count(s);
        is_str(where(s, "u5.service"), "b", "a is full: b");
        is_int(reserved_cpu(s, "a"), 2000, "a: 2 CPU reserved");
        is_int(reserved_mem(s, "b"), 6 * GiB, "b: 6 GiB reserved");

        /* Memory dominates on b once a unit reserves mostly memory. */
        launch(s, "m.service", "ReserveCPU=0.1\nReserveMemory=2G\n");
        reconcile_count(s);
        is_str(where(s, "m.service"), "b", "the last 2 GiB anywhere are b's");
        launch(s, "more.service", "ReserveMemory=1\n");
        reconcile_count(s);
        ok(!where(s, "more.service"), "one byte more fits nowhere");
        ok(reason_contains(s, "more.service", "needs 0 CPU / 1 B; most free: b 0.9 CPU / 0 B"),
           "the reason names the numbers");

        /* Units that reserve nothing still go by unit count, as in fleet. */
        launch(s, "plain.service", NULL);
        reconcile_count(s);
        is_str(where(s, "plain.service"), "a", "a plain unit: the machine with fewer units");
        is_int(reconcile_count(s), 0, "stable");
}

/* A tie in share goes to the lower ID also when a less loaded machine that does not fit lies between
 * them: the machines in ID order m0 m1 | m2 m3 (two halves of the index), m2 the least reserved
 * but too small, m0, m1 and m3 equally reserved. The first machine in spread order that fits is
 * m0, not m3 beside the least reserved one. */
static void test_spread_tie_beside_unfit(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "m0", NULL, 4000, 8 * GiB, NULL);
        machine_cap(s, "m1", NULL, 4000, 8 * GiB, NULL);
        machine_cap(s, "m2", NULL, 1000, 8 * GiB, NULL);
        machine_cap(s, "m3", NULL, 4000, 8 * GiB, NULL);
        launch(s, "fill0.service", "MachineID=m0\nReserveCPU=2\n");
        launch(s, "fill1.service", "MachineID=m1\nReserveCPU=2\n");
        launch(s, "fill2.service", "MachineID=m2\nReserveCPU=0.1\n");
        launch(s, "fill3.service", "MachineID=m3\nReserveCPU=2\n");
        reconcile_count(s);
        ok(streq_ptr(where(s, "fill0.service"), "m0") && streq_ptr(where(s, "fill2.service"), "m2") &&
           streq_ptr(where(s, "fill3.service"), "m3"), "pinned fillers placed");
        launch(s, "u.service", "ReserveCPU=0.95\n");
        reconcile_count(s);
        is_str(where(s, "u.service"), "m0", "m2 (1/10) too small; m0, m1, m3 at 1/2: the lowest ID");
}

/* binpack: the fullest machine that still fits. */
static void test_binpack(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        scheduler_set_strategy(s, SCHEDULER_BINPACK);
        machine_cap(s, "a", NULL, 4000, 8 * GiB, NULL);
        machine_cap(s, "b", NULL, 4000, 8 * GiB, NULL);
        machine_cap(s, "c", NULL, 2000, 4 * GiB, NULL);
        launch(s, "u1.service", "ReserveCPU=1\n");
        reconcile_count(s);
        is_str(where(s, "u1.service"), "a", "all empty: the lowest ID");
        launch_n(s, "u", 2, 4, "ReserveCPU=1\n");
        reconcile_count(s);
        ok(streq_ptr(where(s, "u2.service"), "a") && streq_ptr(where(s, "u3.service"), "a") &&
           streq_ptr(where(s, "u4.service"), "a"), "a fills up first");
        launch(s, "u5.service", "ReserveCPU=1\n");
        reconcile_count(s);
        is_str(where(s, "u5.service"), "b", "a full: next b (tie with c at 0, lower ID)");
        launch(s, "big.service", "ReserveCPU=2\n");
        reconcile_count(s);
        is_str(where(s, "big.service"), "b", "b (1/4) is fuller than c (0) and fits 2 CPU");
        launch(s, "small.service", "ReserveCPU=1\n");
        reconcile_count(s);
        is_str(where(s, "small.service"), "b", "b at 3/4 is the fullest that fits");
        launch(s, "last.service", "ReserveCPU=1\n");
        reconcile_count(s);
        is_str(where(s, "last.service"), "c", "then c");
        is_int(reconcile_count(s), 0, "stable");
}

static void test_unplaced_reason(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "node1", NULL, 1000, 8 * GiB, NULL);
        machine_cap(s, "node2", NULL, 2000, 8 * GiB, NULL);
        launch(s, "a.service", "ReserveCPU=0.5\nReserveMemory=2G\nMachineID=node2\n");
        reconcile_count(s);
        launch(s, "db.service", "ReserveCPU=2\nReserveMemory=4G\n");
        reconcile_count(s);
        ok(!where(s, "db.service"), "2 CPU / 4 GiB fits on neither");
        ok(reason_contains(s, "db.service", "needs 2 CPU / 4 GiB; most free: node2 1.5 CPU / 6 GiB"),
           "the issue's example reason");

        /* A machine without published capacity takes plain units only. */
        machine(s, "old", NULL);
        launch(s, "tiny.service", "ReserveMemory=1M\n");
        launch(s, "tiny2.service", "ReserveMemory=1M\nMachineID=old\n");
        reconcile_count(s);
        ok(where(s, "tiny.service") && !streq_ptr(where(s, "tiny.service"), "old"),
           "a reserving unit skips a machine without capacity");
        ok(reason_contains(s, "tiny2.service", "has published no capacity"), "pinned there: says why");

        /* More capacity lets the waiting unit in, without touching the others. */
        machine_cap(s, "node2", NULL, 4000, 8 * GiB, NULL);
        reconcile_count(s);
        is_str(where(s, "db.service"), "node2", "node2 grew: db fits there now");
        is_str(where(s, "a.service"), "node2", "a stays");
}

static void test_machine_loss(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        unsigned placed = 0, unplaced = 0;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "m1", NULL, 2000, 4 * GiB, NULL);
        machine_cap(s, "m2", NULL, 2000, 4 * GiB, NULL);
        machine_cap(s, "m3", NULL, 1000, 4 * GiB, NULL);
        launch_n(s, "w", 1, 5, "ReserveCPU=1\n");
        is_int(reconcile_count(s), 5, "5 x 1 CPU on 2 + 2 + 1 CPU: all placed");

        assert_se(scheduler_machine_remove(s, "m1") == 0);
        reconcile_count(s);
        for (unsigned i = 1; i <= 5; i++) {
                char name[32];

                snprintf(name, sizeof(name), "w%u.service", i);
                if (where(s, name))
                        placed++;
                else {
                        unplaced++;
                        ok(reason_contains(s, name, "needs 1 CPU / 0 B; most free: m"), "%s says why", name);
                }
        }
        is_int(placed, 3, "3 still fit on m2 and m3");
        is_int(unplaced, 2, "2 stay unplaced instead of overcommitting");
        ok(reserved_cpu(s, "m2") <= 2000 && reserved_cpu(s, "m3") <= 1000, "nothing overcommitted");
}

static void test_capacity_shrinks(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "m1", NULL, 4000, 8 * GiB, NULL);
        launch_n(s, "w", 1, 4, "ReserveMemory=2G\n");
        is_int(reconcile_count(s), 4, "4 x 2 GiB on 8 GiB");
        machine_cap(s, "m1", NULL, 4000, 5 * GiB, NULL);
        l = reconcile(s);
        is_int(changes_of(l, SCHEDULER_UNASSIGN, NULL), 2, "down to 5 GiB: two leave");
        is_int(changes_of(l, SCHEDULER_ASSIGN, NULL), 0, "and go nowhere");
        is_int(reserved_mem(s, "m1"), 4 * GiB, "4 GiB of 5 reserved");

        /* An option change that grows a placed unit's reservation is checked like new capacity. */
        scheduler_change_list_free(TAKE_PTR(l));
        machine_cap(s, "m1", NULL, 4000, 16 * GiB, NULL);
        is_int(reconcile_count(s), 2, "room again: both come back");
        launch(s, "w1.service", "ReserveMemory=12G\n");
        reconcile_count(s);
        ok(reserved_mem(s, "m1") <= 16 * GiB, "grown reservation: never overcommitted");
        ok(!where(s, "w1.service") || reserved_mem(s, "m1") == 18 * GiB, "w1 (12 GiB) cannot stay beside 6 GiB");
}

static void test_global(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_strv_free_ char **ms = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "m1", NULL, 2000, 4 * GiB, NULL);
        machine_cap(s, "m2", NULL, 1000, 4 * GiB, NULL);
        launch(s, "big.service", "ReserveCPU=1\nMachineID=m2\n");
        reconcile_count(s);
        launch(s, "agent.service", "Global=true\nReserveCPU=0.5\n");
        reconcile_count(s);
        assert_se(scheduler_unit_machines(s, "agent.service", &ms) == 0);
        ok(strv_length(ms) == 1 && streq(ms[0], "m1"), "the global unit skips m2, which is full");
        is_int(reserved_cpu(s, "m1"), 500, "and reserves on m1");
        launch(s, "fill.service", "ReserveCPU=1.6\n");
        reconcile_count(s);
        ok(!where(s, "fill.service"), "1.6 CPU does not fit beside the global unit's 0.5");

        launch(s, "huge.service", "Global=true\nReserveCPU=8\n");
        reconcile_count(s);
        ok(reason_contains(s, "huge.service", "needs 8 CPU / 0 B; most free: m1 1.5 CPU"),
           "a global unit that fits nowhere says why");
}

static void test_extra_resources(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "cpu1", NULL, 8000, 16 * GiB, NULL);
        machine_cap(s, "gpu1", NULL, 8000, 16 * GiB, "gpu=2");
        launch_n(s, "train", 1, 3, "ReserveResource=gpu=1\n");
        reconcile_count(s);
        ok(streq_ptr(where(s, "train1.service"), "gpu1") && streq_ptr(where(s, "train2.service"), "gpu1"),
           "GPU units go to the GPU machine");
        ok(!where(s, "train3.service"), "a third GPU unit does not fit 2 GPUs");
        ok(reason_contains(s, "train3.service", "needs 0 CPU / 0 B / gpu 1"), "the reason names the GPU");
}

static void test_max_per_machine(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "m1", NULL);
        machine(s, "m2", NULL);
        launch_n(s, "web@", 1, 5, "MaxReplicasPerMachine=2\n");
        launch_n(s, "other@", 1, 4, NULL);
        reconcile_count(s);
        is_int(scheduler_machine_load(s, "m1") + scheduler_machine_load(s, "m2"), 8, "4 web + 4 other placed");
        ok(!where(s, "web@5.service"), "the fifth web instance finds no machine");
        ok(reason_contains(s, "web@5.service", "MaxReplicasPerMachine=2"), "and says why");
        machine(s, "m3", NULL);
        reconcile_count(s);
        is_str(where(s, "web@5.service"), "m3", "a new machine takes it");
}

static void test_spread_metadata(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        unsigned z1 = 0, z2 = 0;

        assert_se(scheduler_new(&s) == 0);
        machine(s, "a1", STRV_MAKE("zone=z1"));
        machine(s, "a2", STRV_MAKE("zone=z1"));
        machine(s, "a3", STRV_MAKE("zone=z1"));
        machine(s, "b1", STRV_MAKE("zone=z2"));
        launch_n(s, "web@", 1, 6, "SpreadMetadata=zone\n");
        reconcile_count(s);
        for (unsigned i = 1; i <= 6; i++) {
                char name[32];
                const char *m;

                snprintf(name, sizeof(name), "web@%u.service", i);
                m = where(s, name);
                z1 += m && m[0] == 'a';
                z2 += m && m[0] == 'b';
        }
        is_int(z1, 3, "3 instances in zone z1 (3 machines)");
        is_int(z2, 3, "3 in zone z2 (1 machine): even over the zones, not the machines");
        is_int(reconcile_count(s), 0, "stable");
}

/* A reason quotes free room as it is once the reconcile is done, also when units placed after the
 * failing one (later by name, or in a later reconcile) took the room it named. */
static void test_reason_follows_room(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "n2", NULL, 1000, 3 * GiB, NULL);
        machine_cap(s, "n3", NULL, 1000, 1 * GiB, NULL);
        launch(s, "db.service", "ReserveCPU=1\nReserveMemory=2560M\n");
        reconcile_count(s);
        is_str(where(s, "db.service"), "n2", "db on n2");

        /* big fails first (by name), then small takes n3's room in the same pass. */
        launch(s, "big.service", "ReserveCPU=1.5\nReserveMemory=1.5G\n");
        launch(s, "small.service", "ReserveCPU=1\nReserveMemory=1G\n");
        reconcile_count(s);
        is_str(where(s, "small.service"), "n3", "small on n3");
        ok(!where(s, "big.service"), "big fits nowhere");
        is_str(scheduler_unit_reason(s, "big.service"), "needs 1.5 CPU / 1.5 GiB; most free: n2 0 CPU / 512 MiB",
               "big's reason: the room left after small was placed in the same pass");

        /* A later reconcile takes the room the reason named: the reason follows. */
        assert_se(scheduler_unit_remove(s, "small.service") == 0);
        reconcile_count(s);
        is_str(scheduler_unit_reason(s, "big.service"), "needs 1.5 CPU / 1.5 GiB; most free: n3 1 CPU / 1 GiB",
               "small gone: big's reason names n3's room");
        launch(s, "half.service", "ReserveCPU=0.5\nReserveMemory=512M\n");
        is_int(reconcile_count(s), 1, "half placed");
        is_str(where(s, "half.service"), "n3", "half on n3");
        is_str(scheduler_unit_reason(s, "big.service"), "needs 1.5 CPU / 1.5 GiB; most free: n3 0.5 CPU / 512 MiB",
               "half took half of n3's room: big's reason says so");
        is_int(reconcile_count(s), 0, "stable");
}

/* The same for a global unit that fits on no machine: its reason is written when the globals are
 * placed, before the pending units; it must still quote the room they left. */
static void test_global_reason_follows_room(void) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert_se(scheduler_new(&s) == 0);
        machine_cap(s, "n1", NULL, 1000, 1 * GiB, NULL);
        machine_cap(s, "n2", NULL, 1000, 1 * GiB, NULL);
        launch(s, "agent.service", "Global=true\nReserveCPU=2\nReserveMemory=256M\n");
        launch(s, "a.service", "ReserveCPU=0.5\nReserveMemory=512M\n");
        reconcile_count(s);
        is_str(where(s, "a.service"), "n1", "a on n1 (spread, ties by ID)");
        is_str(scheduler_unit_reason(s, "agent.service"), "needs 2 CPU / 256 MiB; most free: n2 1 CPU / 1 GiB",
               "the global's reason: the room left once a took half of n1");

        /* A later pass takes the room named, and no machine's globals are recomputed. */
        launch(s, "b.service", "ReserveCPU=0.75\n");
        is_int(reconcile_count(s), 1, "b placed");
        is_str(where(s, "b.service"), "n2", "b on n2");
        is_str(scheduler_unit_reason(s, "agent.service"), "needs 2 CPU / 256 MiB; most free: n1 0.5 CPU / 512 MiB",
               "b took most of n2's CPU: the global's reason says so");
        is_int(reconcile_count(s), 0, "stable");
}

int main(void) {
        test_strategy_names();
        test_spread();
        test_spread_tie_beside_unfit();
        test_binpack();
        test_unplaced_reason();
        test_machine_loss();
        test_reason_follows_room();
        test_global_reason_follows_room();
        test_capacity_shrinks();
        test_global();
        test_extra_resources();
        test_max_per_machine();
        test_spread_metadata();
        return done_testing();
}
