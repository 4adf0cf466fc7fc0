/* SPDX-License-Identifier: Apache-2.0 */

/* 1,000 units submitted at once to a leader with 10 machines: all are placed, evenly (least
 * loaded, equal machines), in a few big passes and txns rather than one per unit. Prints the
 * placement rate and the etcd requests the engine needed; only the batching is asserted. */

#include "engine-test.h"

#define P "/t-bulk/"
#define N_MACHINES 10
#define N_UNITS 1000

static bool all_placed(TestEnv *env, void *userdata) {
        return test_count(env, P, "schedule/") == N_UNITS;
}

static bool engine_idle(TestEnv *env, void *userdata) {
        return engine_is_idle(userdata);
}

int main(void) {
        EngineStats s0, s1;
        TestEnv env;
        Engine *e, *successor;
        int64_t lease;
        uint64_t req0, req1, t0, t1;
        int64_t min = INT64_MAX, max = 0;

        test_env_setup(&env);

        lease = test_lease_grant(&env, 120);
        for (unsigned i = 0; i < N_MACHINES; i++) {
                char id[33];

                snprintf(id, sizeof(id), "%032x", i + 1);
                test_put_machine(&env, P, id, STRV_MAKE("role=worker"), lease);
        }

        e = test_engine_new(&env, P, "ffffffffffffffffffffffffffffffff", 10);
        ok(test_run_until(&env, test_engine_is_leader, e, 30), "the engine leads");
        ok(test_run_until(&env, engine_idle, e, 30), "and is idle with no units");

        /* Submit every unit while the engine's loop is stopped: they reach it as one burst. */
        for (unsigned i = 0; i < N_UNITS;) {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) >= 0);
                for (unsigned j = 0; j < ETCD_TXN_MAX_OPS && i < N_UNITS; j++, i++) {
                        _cleanup_free_ char *name = NULL, *key = NULL, *json = NULL;

                        assert_se(asprintf(&name, "bulk%04u.service", i) >= 0);
                        key = registry_unit_key(P, name);
                        json = test_unit_json(name, "[Service]\nExecStart=/bin/sleep 1000\n"
                                              "[X-Fleet]\nMachineMetadata=role=worker\n",
                                              UNIT_DESIRED_LAUNCHED);
                        assert_se(key && json);
                        assert_se(etcd_txn_put(t, true, key, json, strlen(json), 0, 0) >= 0);
                }
                assert_se(etcd_sync_txn(env.admin, t, NULL) >= 0);
        }

        s0 = *engine_get_stats(e);
        req0 = etcd_client_requests_sent(env.client);
        t0 = now(CLOCK_MONOTONIC);
        ok(test_run_until(&env, all_placed, NULL, 60), "all %u units placed", N_UNITS);
        t1 = now(CLOCK_MONOTONIC);
        ok(test_run_until(&env, engine_idle, e, 30), "the engine is idle afterwards");
        s1 = *engine_get_stats(e);
        req1 = etcd_client_requests_sent(env.client);

        for (unsigned i = 0; i < N_MACHINES; i++) {
                _cleanup_free_ char *sub = NULL;
                char id[33];
                int64_t n;

                snprintf(id, sizeof(id), "%032x", i + 1);
                assert_se(asprintf(&sub, "schedule/%s/", id) >= 0);
                n = test_count(&env, P, sub);
                min = MIN(min, n);
                max = MAX(max, n);
        }
        is_int(min, N_UNITS / N_MACHINES, "least loaded: every machine got %d units (min)",
               N_UNITS / N_MACHINES);
        is_int(max, N_UNITS / N_MACHINES, "least loaded: every machine got %d units (max)",
               N_UNITS / N_MACHINES);

        diag("%u placements in %.3f s: %.0f placements/s (as seen by a poller, 20 ms granularity)", N_UNITS,
             (t1 - t0) / 1e6, N_UNITS / ((t1 - t0) / 1e6));
        diag("%" PRIu64 " passes, %" PRIu64 " write txns, %" PRIu64 " ops, %" PRIu64 " etcd requests",
             s1.n_reconciles - s0.n_reconciles, s1.n_txns - s0.n_txns, s1.n_ops - s0.n_ops, req1 - req0);

        ok(s1.n_txns - s0.n_txns <= 3 * (N_UNITS / ETCD_TXN_MAX_OPS + 1),
           "placements are written in batched txns (%" PRIu64 " txns for %u units)", s1.n_txns - s0.n_txns,
           N_UNITS);
        ok(s1.n_reconciles - s0.n_reconciles <= N_UNITS / 20,
           "a burst gives a few big passes (%" PRIu64 " for %u units)", s1.n_reconciles - s0.n_reconciles,
           N_UNITS);
        is_int(s1.n_ops - s0.n_ops, N_UNITS, "one write per placement, nothing else");
        ok(req1 - req0 <= 3 * (N_UNITS / ETCD_TXN_MAX_OPS + 1),
           "etcd requests stay proportional to txns (%" PRIu64 ")", req1 - req0);

        /* ---- agents' state reports wake the watch but schedule nothing ---- */
        s0 = *engine_get_stats(e);
        {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) >= 0);
                for (unsigned i = 0; i < 100; i++) {
                        _cleanup_free_ char *key = NULL;

                        assert_se(asprintf(&key, P "states/bulk%04u.service/%032x", i, 1) >= 0);
                        assert_se(etcd_txn_put(t, true, key, "{}", 2, 0, 0) >= 0);
                }
                assert_se(etcd_sync_txn(env.admin, t, NULL) >= 0);
        }
        test_run_for(&env, 300 * USEC_PER_MSEC);
        s1 = *engine_get_stats(e);
        is_int(s1.n_reconciles, s0.n_reconciles, "100 state reports cause no scheduling pass");

        /* ---- a successor lists it all, page by page, and changes nothing ---- */
        successor = test_engine_new(&env, P, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 10);
        successor->list_page = 64;
        test_run_for(&env, 200 * USEC_PER_MSEC);
        ok(!engine_is_leader(successor), "a second engine waits");
        e = engine_free(e);
        ok(test_run_until(&env, test_engine_is_leader, successor, 30), "it takes over when the leader resigns");
        ok(test_run_until(&env, engine_idle, successor, 30), "and settles after listing");
        s1 = *engine_get_stats(successor);
        is_int(s1.n_relists, 1, "it listed once");
        is_int(s1.n_ops, 0, "%u units and placements listed in pages of 64: nothing to rewrite or delete",
               N_UNITS);
        is_int(test_count(&env, P, "schedule/"), N_UNITS, "every placement is still there");

        e = engine_free(successor);
        test_run_for(&env, 200 * USEC_PER_MSEC);
        test_env_teardown(&env);
        return done_testing();
}
