/* SPDX-License-Identifier: Apache-2.0 */

/* Silent watches on one member share their liveness check: at most one count-only range per
 * member and check period, however many watches are silent; and a silent watch is still checked.
 * Events still arrive on every watch afterwards. */

#include "etcd-test.h"

#define N_WATCHES 6
#define CHECK_USEC (500 * USEC_PER_MSEC)
#define PERIODS 10

typedef struct Seen {
        unsigned n;
        int error;
} Seen;

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Seen *s = userdata;

        if (error < 0)
                s->error = error;
        s->n += n_events;
}

static bool all_seen(const Seen *seen) {
        for (size_t i = 0; i < N_WATCHES; i++)
                if (seen[i].n == 0)
                        return false;
        return true;
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        EtcdWatch *w[N_WATCHES] = {};
        Seen seen[N_WATCHES] = {};
        uint64_t before, sent, deadline;
        char key[32];

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("could not start etcd");

        assert_se(sd_event_new(&e) >= 0);
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints,
                                                          .watch_check_usec = CHECK_USEC }) >= 0);

        for (size_t i = 0; i < N_WATCHES; i++) {
                assert_se(snprintf(key, sizeof(key), "/silent/%zu", i) > 0);
                assert_se(etcd_watch_new(&w[i], c, key, 0, 0, on_watch, &seen[i]) >= 0);
        }
        /* Let the streams be created before counting. */
        test_run_for(e, CHECK_USEC);

        before = etcd_client_requests_sent(c);
        test_run_for(e, PERIODS * CHECK_USEC);
        sent = etcd_client_requests_sent(c) - before;
        diag("%u silent watches, %u check periods: %" PRIu64 " requests", N_WATCHES, PERIODS, sent);

        ok(sent >= 1, "silent watches are checked");
        /* One per watch and period would be N_WATCHES * PERIODS; allow a stream restart or two. */
        ok(sent <= PERIODS + 3, "at most one check per member and period, not one per watch");

        for (size_t i = 0; i < N_WATCHES; i++) {
                assert_se(snprintf(key, sizeof(key), "/silent/%zu", i) > 0);
                assert_se(etcd_sync_put(c, key, "x", 1, 0, 0, NULL) >= 0);
        }
        deadline = now(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (!all_seen(seen) && now(CLOCK_MONOTONIC) < deadline)
                (void) sd_event_run(e, 100 * USEC_PER_MSEC);
        ok(all_seen(seen), "every watch still delivers its event");
        for (size_t i = 0; i < N_WATCHES; i++)
                if (seen[i].error < 0)
                        diag("watch %zu reported %s", i, strerror(-seen[i].error));

        for (size_t i = 0; i < N_WATCHES; i++)
                w[i] = etcd_watch_free(w[i]);
        return done_testing();
}
