/* SPDX-License-Identifier: Apache-2.0 */

/* Two engines on one loop against a real etcd: exactly one leads; when it is freed the other takes
 * over and scheduling continues; a leader whose key was replaced cannot write (its txn fails the
 * compare on create_revision) and campaigns again once the key is free; a leader whose lease is
 * revoked steps down and wins again with a new lease. */

#include "engine-test.h"

#define P "/t-election/"
#define M1 "1111111111111111111111111111aaaa"
#define M2 "2222222222222222222222222222bbbb"
#define SERVICE "[Service]\nExecStart=/bin/sleep 1000\n"

typedef struct Pair {
        Engine *a, *b;
} Pair;

static bool one_leads(TestEnv *env, void *userdata) {
        Pair *p = userdata;
        return engine_is_leader(p->a) || engine_is_leader(p->b);
}

static bool is_placed(TestEnv *env, void *userdata) {
        _cleanup_strv_free_ char **l = test_unit_machines(env, P, userdata);
        return strv_length(l) == 1;
}

static bool writer_settled(TestEnv *env, void *userdata) {
        Engine *e = userdata;
        return !engine_writer_busy(e) && !engine_is_leader(e);
}

static bool holds_no_lease(TestEnv *env, void *userdata) {
        Engine *e = userdata;
        return !e->lease && e->lease_id == 0 && !engine_is_leader(e);
}

static bool engine_idle(TestEnv *env, void *userdata) {
        return engine_is_idle(userdata);
}

typedef struct LeaseWait {
        Engine *e;
        int64_t old_lease;
} LeaseWait;

static int64_t leader_lease(TestEnv *env) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;

        assert_se(etcd_sync_range(env->admin, &(EtcdRangeOptions) { .key = P "engine/leader" }, &resp) >= 0);
        return resp->n_kvs == 1 ? resp->kvs[0].lease : 0;
}

static bool leads_with_new_lease(TestEnv *env, void *userdata) {
        LeaseWait *w = userdata;
        int64_t l;

        if (!engine_is_leader(w->e))
                return false;
        l = leader_lease(env);
        return l != 0 && l != w->old_lease;
}

int main(void) {
        _cleanup_(engine_batch_freep) EngineBatch *batch = NULL;
        _cleanup_strv_free_ char **before = NULL, **after = NULL;
        _cleanup_free_ char *intruder = NULL;
        TestEnv env;
        Pair p;
        Engine *survivor, *loser;
        int64_t machines_lease, intruder_lease, old_lease;
        uint64_t fenced, takeover;

        test_env_setup(&env);

        machines_lease = test_lease_grant(&env, 60);
        test_put_machine(&env, P, M1, NULL, machines_lease);
        test_put_machine(&env, P, M2, NULL, machines_lease);
        test_put_unit(&env, P, "first.service", SERVICE, UNIT_DESIRED_LAUNCHED);

        p.a = test_engine_new(&env, P, M1, 3);
        p.b = test_engine_new(&env, P, M2, 3);

        ok(test_run_until(&env, one_leads, &p, 30), "one of two engines becomes leader");
        /* Give the loser every chance to (wrongly) win too. */
        test_run_for(&env, 500 * USEC_PER_MSEC);
        ok(engine_is_leader(p.a) != engine_is_leader(p.b), "exactly one of them leads");
        loser = engine_is_leader(p.a) ? p.b : p.a;
        ok(!loser->lease && loser->lease_id == 0 && loser->leader_watch,
           "the other holds no lease and watches the leader key");
        ok(test_run_until(&env, is_placed, "first.service", 30), "the leader places a unit");
        before = test_unit_machines(&env, P, "first.service");

        /* ---- leader change: the leader goes away, the other takes over ---- */
        takeover = now(CLOCK_MONOTONIC);
        if (engine_is_leader(p.a)) {
                p.a = engine_free(p.a);
                survivor = p.b;
        } else {
                p.b = engine_free(p.b);
                survivor = p.a;
        }
        ok(test_run_until(&env, test_engine_is_leader, survivor, 30),
           "the other engine takes over when the leader is freed");
        takeover = now(CLOCK_MONOTONIC) - takeover;
        diag("the survivor took %" PRIu64 " campaigns; it led %" PRIu64 " us after the leader was freed "
             "(revoked)", engine_get_stats(survivor)->n_campaigns, takeover);

        test_put_unit(&env, P, "second.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        ok(test_run_until(&env, is_placed, "second.service", 30), "the new leader schedules");
        after = test_unit_machines(&env, P, "first.service");
        ok(strv_equal(before, after), "the new leader leaves existing placements where they are");
        ok(test_run_until(&env, engine_idle, survivor, 30), "the new leader settles");
        is_int(engine_get_stats(survivor)->n_ops, 1,
               "it wrote one placement, and did not rewrite the listed one");

        /* ---- fencing: the key is replaced behind the leader's back ---- */
        /* The engines' loop does not run here: the leader cannot notice before it writes. */
        intruder_lease = test_lease_grant(&env, 60);
        assert_se(registry_leader_to_json(
                          &(RegistryLeader) { .machine_id = (char *) "99999999999999999999999999999999",
                                              .version = (char *) "intruder" },
                          &intruder) >= 0);
        assert_se(etcd_sync_delete(env.admin, P "engine/leader", 0, NULL) >= 0);
        assert_se(etcd_sync_put(env.admin, P "engine/leader", intruder, strlen(intruder), intruder_lease, 0,
                                NULL) >= 0);

        fenced = engine_get_stats(survivor)->n_txns_fenced;
        assert_se(engine_batch_new(&batch) >= 0);
        assert_se(engine_batch_add(batch, strdup(P "schedule/" M1 "/fenced.service"), strdup("{}"), 2,
                                   false) >= 0);
        ok(engine_is_leader(survivor), "the deposed leader still believes it leads");
        ok(engine_writer_submit(survivor, TAKE_PTR(batch)) >= 0, "... and writes");
        ok(test_run_until(&env, writer_settled, survivor, 30), "its write completes and it steps down");
        is_int(engine_get_stats(survivor)->n_txns_fenced, fenced + 1, "the write failed the leader compare");
        is_int(test_count(&env, P, "schedule/" M1 "/fenced.service"), 0, "nothing was written");

        test_put_unit(&env, P, "third.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        test_run_for(&env, 500 * USEC_PER_MSEC);
        is_int(test_count(&env, P, "schedule/" M1 "/third.service") +
               test_count(&env, P, "schedule/" M2 "/third.service"), 0,
               "while another holds the key, nothing is scheduled");
        ok(test_run_until(&env, holds_no_lease, survivor, 30),
           "having lost the campaign to the intruder, it releases its lease");

        assert_se(etcd_sync_lease_revoke(env.admin, intruder_lease) >= 0);
        ok(test_run_until(&env, test_engine_is_leader, survivor, 30),
           "the key deleted: the engine campaigns and leads again");
        ok(test_run_until(&env, is_placed, "third.service", 30), "... and schedules what was waiting");

        /* ---- the leadership lease is revoked: step down, new lease, lead again ---- */
        old_lease = leader_lease(&env);
        ok(old_lease != 0, "the leader key is under the engine's lease");
        assert_se(etcd_sync_lease_revoke(env.admin, old_lease) >= 0);
        ok(test_run_until(&env, leads_with_new_lease, &(LeaseWait) { survivor, old_lease }, 30),
           "after its lease was revoked the engine leads again under a new lease");
        test_put_unit(&env, P, "fourth.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        ok(test_run_until(&env, is_placed, "fourth.service", 30), "... and schedules");

        diag("survivor: %" PRIu64 " elections, %" PRIu64 " relists, %" PRIu64 " txns",
             engine_get_stats(survivor)->n_elected, engine_get_stats(survivor)->n_relists,
             engine_get_stats(survivor)->n_txns);

        p.a = engine_free(p.a);
        p.b = engine_free(p.b);
        test_run_for(&env, 200 * USEC_PER_MSEC);
        test_env_teardown(&env);
        return done_testing();
}
