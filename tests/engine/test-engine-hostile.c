/* SPDX-License-Identifier: Apache-2.0 */

/* Issue 12 item 6, the leader's side: 52 units of about 1 MB each (52 MB, past the 64 MiB a reply
 * may carry once base64 has added its third) are listed in pages bounded by size, and a unit is
 * scheduled; with pages of 2,000 keys the listing failed with "File too large" every 0.5 s and
 * nothing was scheduled. A leader that cannot list says so at error level, once, not every retry.
 * The big units are not launched: placing them would only write 52 MB more. */

#include <fcntl.h>

#include "engine-test.h"
#include "fileio.h"
#include "log.h"

#define P "/t-hostile/"
#define M1 "00000000000000000000000000000001"
#define N_BIG 52
#define BIG_SIZE (980U * 1000U)

static bool small_placed(TestEnv *env, void *userdata) {
        return test_count(env, P, "schedule/" M1 "/small.service") == 1;
}

static void put_big_units(TestEnv *env) {
        _cleanup_free_ char *text = NULL, *filler = NULL;

        filler = malloc(BIG_SIZE + 1);
        assert_se(filler);
        memset(filler, 'x', BIG_SIZE);
        filler[BIG_SIZE] = 0;
        assert_se(asprintf(&text, "[Unit]\nDescription=big\n[Service]\nExecStart=/bin/true\nEnvironment=X=%s\n",
                           filler) >= 0);

        for (unsigned i = 0; i < N_BIG; i++) {
                char name[32];

                snprintf(name, sizeof(name), "big%02u.service", i);
                test_put_unit(env, P, name, text, UNIT_DESIRED_INACTIVE);
        }
}

/* Run the loop for usec with stderr going to a file; returns what was logged. */
static char *logged_while(TestEnv *env, uint64_t usec) {
        char path[] = "/tmp/test-engine-hostile-XXXXXX";
        int fd, saved;
        char *text = NULL;

        fd = mkstemp(path);
        assert_se(fd >= 0);
        saved = dup(STDERR_FILENO);
        assert_se(saved >= 0 && dup2(fd, STDERR_FILENO) >= 0);

        test_run_for(env, usec);

        assert_se(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        close(fd);
        assert_se(read_full_file(path, &text, NULL, 0) == 0);
        (void) unlink(path);
        return text;
}

static unsigned count_of(const char *s, const char *needle) {
        unsigned n = 0;

        for (const char *p = s; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

int main(void) {
        _cleanup_free_ char *logged = NULL;
        TestEnv env;
        Engine *e;
        uint64_t t0;

        log_parse_environment();
        test_env_setup(&env);
        test_put_machine(&env, P, M1, NULL, test_lease_grant(&env, 300));
        t0 = now(CLOCK_MONOTONIC);
        put_big_units(&env);
        test_put_unit(&env, P, "small.service", "[Service]\nExecStart=/bin/true\n", UNIT_DESIRED_LAUNCHED);
        /* A record that does not decode (item 10) is left out, and stops nothing. */
        assert_se(etcd_sync_put(env.admin, P "units/bad.service", "{\"name\":", 8, 0, 0, NULL) >= 0);
        diag("%u units written in %.1f s", N_BIG, (now(CLOCK_MONOTONIC) - t0) / 1e6);

        e = test_engine_new(&env, P, M1, 30);
        ok(test_run_until(&env, test_engine_is_leader, e, 30), "the engine leads");
        t0 = now(CLOCK_MONOTONIC);
        ok(test_run_until(&env, small_placed, NULL, 120),
           "with %u units of ~%u KB and a malformed record listed, a unit is placed", N_BIG, BIG_SIZE / 1000);
        diag("placed in %.1f s", (now(CLOCK_MONOTONIC) - t0) / 1e6);
        is_int(engine_get_stats(e)->n_relists, 1, "the registry was listed once, not retried");

        /* etcd gone: each listing fails after the client's request time-out (5 s, connections
         * refused and retried), is retried 0.5 s later, and is logged at error level the first
         * time only. The leadership lease (30 s) outlives the window. */
        etcd_fixture_kill(env.etcd, 0);
        log_set_target(LOG_TARGET_JOURNAL);
        log_set_max_level(LOG_DEBUG);
        engine_cache_reload_later(e, 0);
        logged = logged_while(&env, 12 * USEC_PER_SEC);
        log_set_max_level(LOG_INFO);
        is_int(count_of(logged, "<3>engine: listing " P "machines/ failed"), 1,
               "a failing listing is logged at error level once");
        ok(count_of(logged, "<7>engine: listing " P "machines/ failed") >= 1,
           "its retry at debug level");
        ok(strstr(logged, "nothing is scheduled until it works"), "the error says what it means");
        if (!strstr(logged, "<3>"))
                diag("logged: %s", logged);

        e = engine_free(e);
        test_env_teardown(&env);
        return done_testing();
}
