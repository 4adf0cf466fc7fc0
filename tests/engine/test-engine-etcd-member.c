/* SPDX-License-Identifier: Apache-2.0 */

/* Issue 5: "Kill one of 3 etcd members: nothing is rescheduled or stopped." A leader engine and
 * its placements on a 3-member etcd survive the loss of the member its client talks to: the
 * placements stay where they were, and the engine (still, or again) leads and schedules. */

#include "engine-test.h"

#define P "/t-member/"
#define N_UNITS 6

static const char *machines[] = {
        "1111111111111111111111111111aaaa",
        "2222222222222222222222222222bbbb",
        "3333333333333333333333333333cccc",
};

static char *unit_name(unsigned i) {
        char *name;

        assert_se(asprintf(&name, "u%u.service", i) >= 0);
        return name;
}

static bool all_placed(TestEnv *env, void *userdata) {
        return test_count(env, P, "schedule/") == *(const int64_t *) userdata;
}

static bool is_placed(TestEnv *env, void *userdata) {
        _cleanup_strv_free_ char **l = test_unit_machines(env, P, userdata);
        return strv_length(l) == 1;
}

int main(void) {
        _cleanup_strv_free_ char **before = NULL, **after = NULL;
        TestEnv env;
        Engine *e;
        int64_t lease;
        uint64_t elected;

        test_env_setup_members(&env, 3);

        lease = test_lease_grant(&env, 60);
        for (unsigned i = 0; i < ELEMENTSOF(machines); i++)
                test_put_machine(&env, P, machines[i], NULL, lease);
        for (unsigned i = 0; i < N_UNITS; i++) {
                _cleanup_free_ char *name = unit_name(i);
                test_put_unit(&env, P, name, "[Service]\nExecStart=/bin/sleep 1000\n", UNIT_DESIRED_LAUNCHED);
        }

        e = test_engine_new(&env, P, machines[0], 5);
        ok(test_run_until(&env, test_engine_is_leader, e, 30), "the engine leads on a 3-member etcd");
        ok(test_run_until(&env, all_placed, &(int64_t) { N_UNITS }, 30), "%u units placed", N_UNITS);

        for (unsigned i = 0; i < N_UNITS; i++) {
                _cleanup_free_ char *name = unit_name(i);
                _cleanup_strv_free_ char **l = test_unit_machines(&env, P, name);

                assert_se(strv_length(l) == 1);
                assert_se(strv_extendf(&before, "%s=%s", name, l[0]) >= 0);
        }
        elected = engine_get_stats(e)->n_elected;

        /* The member every client tried first. */
        diag("killing the etcd member at %s", env.etcd->endpoints[0]);
        etcd_fixture_kill(env.etcd, 0);
        /* Longer than the engine's lease TTL: a lease that was not kept alive would be gone. */
        test_run_for(&env, 7 * USEC_PER_SEC);

        for (unsigned i = 0; i < N_UNITS; i++) {
                _cleanup_free_ char *name = unit_name(i);
                _cleanup_strv_free_ char **l = test_unit_machines(&env, P, name);

                if (strv_length(l) == 1)
                        assert_se(strv_extendf(&after, "%s=%s", name, l[0]) >= 0);
        }
        ok(strv_equal(before, after), "nothing was rescheduled");
        ok(engine_is_leader(e), "the engine still leads");
        is_int(engine_get_stats(e)->n_elected, elected, "it never lost the leadership");

        test_put_unit(&env, P, "late.service", "[Service]\nExecStart=/bin/sleep 1000\n", UNIT_DESIRED_LAUNCHED);
        ok(test_run_until(&env, is_placed, (void *) "late.service", 30), "and it still schedules");

        diag("engine: %" PRIu64 " elections, %" PRIu64 " relists, %" PRIu64 " txns, %" PRIu64 " fenced",
             engine_get_stats(e)->n_elected, engine_get_stats(e)->n_relists, engine_get_stats(e)->n_txns,
             engine_get_stats(e)->n_txns_fenced);

        e = engine_free(e);
        test_run_for(&env, 200 * USEC_PER_MSEC);
        test_env_teardown(&env);
        return done_testing();
}
