/* SPDX-License-Identifier: Apache-2.0 */

/* One engine against a real etcd: it wins the election, and its placements (written by it to
 * P schedule/) follow fleet's rules; desired-state and body changes rewrite placements; units that
 * fit nowhere get a reason; a machine whose registration disappears has its units re-placed. */

#include "engine-test.h"

#define P "/t-schedule/"
#define M1 "1111111111111111111111111111aaaa"
#define M2 "2222222222222222222222222222bbbb"
#define M3 "3333333333333333333333333333cccc"

#define SERVICE "[Service]\nExecStart=/bin/sleep 1000\n"

typedef struct Expect {
        int64_t assignments;
        int64_t reasons;
} Expect;

static bool expect_counts(TestEnv *env, void *userdata) {
        const Expect *x = userdata;

        return test_count(env, P, "schedule/") == x->assignments &&
                test_count(env, P, "reasons/") == x->reasons;
}

static bool is_placed_on(TestEnv *env, const char *unit, const char *machine) {
        _cleanup_strv_free_ char **l = test_unit_machines(env, P, unit);

        return strv_length(l) == 1 && streq(l[0], machine);
}

static size_t n_placed(TestEnv *env, const char *unit) {
        _cleanup_strv_free_ char **l = test_unit_machines(env, P, unit);

        return strv_length(l);
}

typedef struct AssignmentWait {
        const char *machine;
        const char *unit;
        UnitDesiredState desired;
        const char *raw_contains;       /* NULL: the assignment must be gone */
} AssignmentWait;

static bool assignment_is(TestEnv *env, void *userdata) {
        _cleanup_(registry_assignment_freep) RegistryAssignment *a = NULL;
        const AssignmentWait *w = userdata;

        a = test_get_assignment(env, P, w->machine, w->unit);
        if (!w->raw_contains)
                return !a;
        return a && a->desired == w->desired && strstr(a->raw, w->raw_contains);
}

static bool no_assignment_on_m1(TestEnv *env, void *userdata) {
        return test_count(env, P, "schedule/" M1 "/") == 0;
}

/* One scenario in steps: three machines, an engine, then changes; each step starts from the
 * registry the one before left. */
static TestEnv tenv;
static Engine *engine;
static int64_t lease1, lease23;

static void setup_registry(void) {
        lease1 = test_lease_grant(&tenv, 60);
        lease23 = test_lease_grant(&tenv, 60);
        test_put_machine(&tenv, P, M1, STRV_MAKE("region=west", "disk=ssd"), lease1);
        test_put_machine(&tenv, P, M2, STRV_MAKE("region=west"), lease23);
        test_put_machine(&tenv, P, M3, STRV_MAKE("region=east"), lease23);

        test_put_unit(&tenv, P, "db.service", SERVICE "[X-Fleet]\nMachineMetadata=region=east\n",
                      UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "side.service", SERVICE "[X-Fleet]\nMachineOf=db.service\n",
                      UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "pin.service", SERVICE "[X-Fleet]\nMachineID=" M2 "\n",
                      UNIT_DESIRED_LAUNCHED);
        for (unsigned i = 1; i <= 3; i++) {
                _cleanup_free_ char *name = NULL;

                assert_se(asprintf(&name, "web@%u.service", i) >= 0);
                test_put_unit(&tenv, P, name, SERVICE "[X-Fleet]\nConflicts=web@*.service\n",
                              UNIT_DESIRED_LAUNCHED);
        }
        for (unsigned i = 1; i <= 5; i++) {
                _cleanup_free_ char *name = NULL;

                assert_se(asprintf(&name, "conflict.%u.service", i) >= 0);
                test_put_unit(&tenv, P, name, SERVICE "[X-Fleet]\nConflicts=conflict*\n",
                              UNIT_DESIRED_LAUNCHED);
        }
        test_put_unit(&tenv, P, "mon.service", SERVICE "[X-Fleet]\nGlobal=true\n", UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "meta@east.service", SERVICE "[X-Fleet]\nMachineMetadata=region=%i\n",
                      UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "meta@north.service", SERVICE "[X-Fleet]\nMachineMetadata=region=%i\n",
                      UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "tmpl@.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "bad.service", SERVICE "[X-Fleet]\nMachineMetadata=novalue\n",
                      UNIT_DESIRED_LAUNCHED);
        test_put_unit(&tenv, P, "idle.service", SERVICE, UNIT_DESIRED_INACTIVE);
}

static void test_election(void) {
        _cleanup_(registry_leader_freep) RegistryLeader *leader = NULL;
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;

        engine = test_engine_new(&tenv, P, M1, 5);
        ok(!engine_is_leader(engine), "not leader before the loop ran");
        ok(test_run_until(&tenv, test_engine_is_leader, engine, 30), "the only engine becomes leader");

        assert_se(etcd_sync_range(tenv.admin, &(EtcdRangeOptions) { .key = P "engine/leader" }, &resp) >= 0);
        ok(resp->n_kvs == 1 && resp->kvs[0].lease != 0, "P engine/leader exists, under a lease");
        ok(resp->n_kvs == 1 &&
           registry_leader_from_json(resp->kvs[0].value, resp->kvs[0].value_size, &leader) >= 0 &&
           streq(leader->machine_id, M1), "the leader record names this machine");
}

/* db, side, pin, web×3, conflict×3, mon×3, meta@east = 13; conflict×2, meta@north, bad = 4 */
static void test_placement(void) {
        _cleanup_strv_free_ char **web = NULL, **c = NULL, **mon = NULL;
        size_t n_c;

        ok(test_run_until(&tenv, expect_counts, &(Expect) { 13, 4 }, 30),
           "13 placements and 4 reasons written");
        diag("placements: %" PRIi64 ", reasons: %" PRIi64, test_count(&tenv, P, "schedule/"),
             test_count(&tenv, P, "reasons/"));

        ok(is_placed_on(&tenv, "db.service", M3), "MachineMetadata=region=east → the east machine");
        ok(is_placed_on(&tenv, "side.service", M3), "MachineOf=db.service → db's machine");
        ok(is_placed_on(&tenv, "pin.service", M2), "MachineID → that machine");
        ok(is_placed_on(&tenv, "meta@east.service", M3),
           "MachineMetadata=region=%%i with instance east → east");
        is_int(n_placed(&tenv, "meta@north.service"), 0, "no machine for region=north: unplaced");
        is_int(n_placed(&tenv, "tmpl@.service"), 0, "a template is never scheduled");
        is_int(n_placed(&tenv, "idle.service"), 0, "an inactive unit is not scheduled");

        for (unsigned i = 1; i <= 3; i++) {
                _cleanup_free_ char *name = NULL;
                _cleanup_strv_free_ char **l = NULL;

                assert_se(asprintf(&name, "web@%u.service", i) >= 0);
                l = test_unit_machines(&tenv, P, name);
                if (strv_length(l) == 1)
                        assert_se(strv_extend(&web, l[0]) >= 0);
        }
        strv_uniq(strv_sort(web));
        is_int(strv_length(web), 3, "3 mutually conflicting web@ units on 3 distinct machines");

        n_c = 0;
        for (unsigned i = 1; i <= 5; i++) {
                _cleanup_free_ char *name = NULL, *reason = NULL;
                _cleanup_strv_free_ char **l = NULL;

                assert_se(asprintf(&name, "conflict.%u.service", i) >= 0);
                l = test_unit_machines(&tenv, P, name);
                reason = test_get_reason(&tenv, P, name);
                if (strv_length(l) == 1) {
                        n_c++;
                        assert_se(strv_extend(&c, l[0]) >= 0);
                        ok(!reason, "%s is placed and has no reason", name);
                } else
                        ok(reason && !isempty(reason), "%s is unplaced and says why: %s", name,
                           strna(reason));
        }
        strv_uniq(strv_sort(c));
        is_int(n_c, 3, "5 conflicting units on 3 machines: 3 placed");
        is_int(strv_length(c), 3, "... on 3 distinct machines");

        mon = test_unit_machines(&tenv, P, "mon.service");
        ok(strv_equal(mon, STRV_MAKE(M1, M2, M3)), "the global unit is on every machine");
        {
                _cleanup_(registry_assignment_freep) RegistryAssignment *g = test_get_assignment(&tenv, P, M2, "mon.service");
                _cleanup_(registry_assignment_freep) RegistryAssignment *p = test_get_assignment(&tenv, P, M2, "pin.service");

                ok(g && g->global, "its assignment says global (the agent does not parse the body for it)");
                ok(p && !p->global, "a pinned unit's assignment does not");
        }

        {
                _cleanup_free_ char *reason = test_get_reason(&tenv, P, "bad.service");
                ok(reason && strstr(reason, "invalid"), "a unit whose [X-Fleet] does not parse says so: %s",
                   strna(reason));
        }
        is_int(n_placed(&tenv, "bad.service"), 0, "... and is not placed");
        {
                _cleanup_free_ char *reason = test_get_reason(&tenv, P, "meta@north.service");
                ok(reason && strstr(reason, "north"), "the reason of meta@north names the metadata: %s",
                   strna(reason));
        }
        {
                _cleanup_(registry_assignment_freep) RegistryAssignment *a =
                        test_get_assignment(&tenv, P, M2, "pin.service");
                ok(a && streq(a->unit, "pin.service") && a->desired == UNIT_DESIRED_LAUNCHED &&
                   strstr(a->raw, "MachineID=" M2) && strlen(a->hash) == 40,
                   "the assignment carries the unit body, hash and desired state");
        }
}

/* Desired state and body changes rewrite the placement. */
static void test_desired_changes(void) {
        test_put_unit(&tenv, P, "pin.service", SERVICE "[X-Fleet]\nMachineID=" M2 "\n", UNIT_DESIRED_LOADED);
        ok(test_run_until(&tenv, assignment_is,
                          &(AssignmentWait) { M2, "pin.service", UNIT_DESIRED_LOADED, "MachineID" }, 30),
           "launched → loaded rewrites the assignment");
        test_put_unit(&tenv, P, "pin.service",
                      "[Service]\nExecStart=/bin/sleep 2000\n[X-Fleet]\nMachineID=" M2 "\n",
                      UNIT_DESIRED_LOADED);
        ok(test_run_until(&tenv, assignment_is,
                          &(AssignmentWait) { M2, "pin.service", UNIT_DESIRED_LOADED, "sleep 2000" }, 30),
           "a new body rewrites the assignment");
        test_put_unit(&tenv, P, "pin.service", SERVICE, UNIT_DESIRED_INACTIVE);
        ok(test_run_until(&tenv, assignment_is, &(AssignmentWait) { M2, "pin.service", 0, NULL }, 30),
           "inactive removes the assignment");
}

/* A destroyed unit: its placement goes, its followers become unplaceable. */
static void test_destroyed(void) {
        test_delete_key(&tenv, registry_unit_key(P, "db.service"));
        ok(test_run_until(&tenv, assignment_is, &(AssignmentWait) { M3, "side.service", 0, NULL }, 30),
           "MachineOf target destroyed: the follower is unassigned");
        {
                _cleanup_free_ char *reason = test_get_reason(&tenv, P, "side.service");
                ok(reason && strstr(reason, "db.service"), "... and its reason names the target: %s",
                   strna(reason));
        }
        is_int(n_placed(&tenv, "db.service"), 0, "the destroyed unit has no placement");
}

/* Machine loss: its units are re-placed. */
static void test_machine_loss(void) {
        _cleanup_strv_free_ char **freed = NULL;

        for (unsigned i = 1; i <= 4; i++) {
                _cleanup_free_ char *name = NULL;

                assert_se(asprintf(&name, "free%u.service", i) >= 0);
                test_put_unit(&tenv, P, name, SERVICE, UNIT_DESIRED_LAUNCHED);
        }
        ok(test_run_until(&tenv, expect_counts, &(Expect) { 13 - 1 - 1 - 1 + 4, 4 + 1 }, 30),
           "4 unconstrained units placed");
        for (unsigned i = 1; i <= 4; i++) {
                _cleanup_free_ char *name = NULL;
                _cleanup_strv_free_ char **l = NULL;

                assert_se(asprintf(&name, "free%u.service", i) >= 0);
                l = test_unit_machines(&tenv, P, name);
                if (strv_length(l) == 1 && streq(l[0], M1))
                        assert_se(strv_extend(&freed, name) >= 0);
        }
        ok(strv_length(freed) > 0, "least-loaded put some free units on machine 1 (%zu)", strv_length(freed));

        assert_se(etcd_sync_lease_revoke(tenv.admin, lease1) >= 0);
        ok(test_run_until(&tenv, no_assignment_on_m1, NULL, 30),
           "machine 1's lease gone: nothing assigned to it");
        STRV_FOREACH(n, freed) {
                _cleanup_strv_free_ char **l = test_unit_machines(&tenv, P, *n);
                ok(strv_length(l) == 1 && (streq(l[0], M2) || streq(l[0], M3)), "%s re-placed on %s", *n,
                   strv_length(l) == 1 ? l[0] : "nothing");
        }
        {
                _cleanup_strv_free_ char **l = test_unit_machines(&tenv, P, "mon.service");
                ok(strv_equal(l, STRV_MAKE(M2, M3)), "the global unit stays on the remaining machines only");
        }
        {
                _cleanup_strv_free_ char **l = NULL;
                size_t n = 0;

                for (unsigned i = 1; i <= 3; i++) {
                        _cleanup_free_ char *name = NULL;
                        assert_se(asprintf(&name, "web@%u.service", i) >= 0);
                        n += n_placed(&tenv, name);
                }
                is_int(n, 2, "3 conflicting web@ units on 2 machines: 2 placed");
        }
}

/* A machine's metadata changes: what no longer fits it leaves. */
static void test_metadata_change(void) {
        ok(is_placed_on(&tenv, "meta@east.service", M3), "meta@east is on the east machine");
        test_put_machine(&tenv, P, M3, STRV_MAKE("region=south"), lease23);
        ok(test_run_until(&tenv, assignment_is, &(AssignmentWait) { M3, "meta@east.service", 0, NULL }, 30),
           "the machine is no longer east: meta@east is unassigned");
        {
                _cleanup_free_ char *reason = test_get_reason(&tenv, P, "meta@east.service");
                ok(reason && strstr(reason, "region=east"), "... and says why: %s", strna(reason));
        }
}

int main(void) {
        test_env_setup(&tenv);
        setup_registry();
        test_election();
        test_placement();
        test_desired_changes();
        test_destroyed();
        test_machine_loss();
        test_metadata_change();

        diag("engine: %" PRIu64 " passes, %" PRIu64 " txns, %" PRIu64 " ops, %" PRIu64 " fenced",
             engine_get_stats(engine)->n_reconciles, engine_get_stats(engine)->n_txns,
             engine_get_stats(engine)->n_ops, engine_get_stats(engine)->n_txns_fenced);
        is_int(engine_get_stats(engine)->n_txns_fenced, 0, "no write of the only leader was fenced");

        engine = engine_free(engine);
        /* Let the revoke reach etcd. */
        test_run_for(&tenv, 200 * USEC_PER_MSEC);
        test_env_teardown(&tenv);
        return done_testing();
}
