/* SPDX-License-Identifier: Apache-2.0 */

/* The leader honours P cordons/<machine-id> against a real etcd: a cordon present when it lists
 * keeps new units off the machine, a deleted one lets them on again, "drained" moves the machine's
 * units away (globals stay), and a value it cannot read changes nothing. */

#include "engine-test.h"

#define P "/t-cordon/"
#define M1 "1111111111111111111111111111aaaa"
#define M2 "2222222222222222222222222222bbbb"

#define SERVICE "[Service]\nExecStart=/bin/sleep 1000\n"

typedef struct Placed {
        const char *unit;
        const char *machine;
} Placed;

static bool placed_on(TestEnv *env, void *userdata) {
        const Placed *p = userdata;
        _cleanup_strv_free_ char **l = test_unit_machines(env, P, p->unit);

        return strv_length(l) == 1 && streq(l[0], p->machine);
}

static void put_cordon(TestEnv *env, const char *machine, const char *value) {
        _cleanup_free_ char *key = registry_cordon_key(P, machine);

        assert_se(key);
        assert_se(etcd_sync_put(env->admin, key, value, strlen(value), 0, 0, NULL) >= 0);
}

int main(void) {
        _cleanup_strv_free_ char **mon = NULL;
        TestEnv env;
        Engine *e;
        int64_t lease;

        test_env_setup(&env);
        lease = test_lease_grant(&env, 60);
        test_put_machine(&env, P, M1, NULL, lease);
        test_put_machine(&env, P, M2, NULL, lease);
        put_cordon(&env, M2, "cordoned");
        test_put_unit(&env, P, "a.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        test_put_unit(&env, P, "b.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        test_put_unit(&env, P, "mon.service", SERVICE "[X-Fleet]\nGlobal=true\n", UNIT_DESIRED_LAUNCHED);

        e = test_engine_new(&env, P, M1, 5);
        ok(test_run_until(&env, test_engine_is_leader, e, 30), "the engine becomes leader");
        ok(test_run_until(&env, placed_on, &(Placed) { "a.service", M1 }, 30) &&
           test_run_until(&env, placed_on, &(Placed) { "b.service", M1 }, 30),
           "with M2 cordoned at listing time, both units go to M1");
        mon = test_unit_machines(&env, P, "mon.service");
        ok(strv_equal(mon, STRV_MAKE(M1, M2)), "the global unit runs on the cordoned machine too");

        test_delete_key(&env, registry_cordon_key(P, M2));
        test_put_unit(&env, P, "c.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        ok(test_run_until(&env, placed_on, &(Placed) { "c.service", M2 }, 30),
           "uncordoned (key deleted), M2 takes the next unit");

        put_cordon(&env, M1, "drained");
        ok(test_run_until(&env, placed_on, &(Placed) { "a.service", M2 }, 30) &&
           test_run_until(&env, placed_on, &(Placed) { "b.service", M2 }, 30),
           "draining M1 (watched) moves its units to M2");
        is_int(test_count(&env, P, "schedule/" M1 "/"), 1, "only the global unit is left on M1");

        put_cordon(&env, M2, "bogus");
        test_put_unit(&env, P, "d.service", SERVICE, UNIT_DESIRED_LAUNCHED);
        ok(test_run_until(&env, placed_on, &(Placed) { "d.service", M2 }, 30),
           "a cordon value the leader cannot read changes nothing");

        engine_free(e);
        test_env_teardown(&env);
        return done_testing();
}
