/* SPDX-License-Identifier: Apache-2.0 */

/* Many asynchronous and blocking calls on one client and one loop, against a 3-member cluster
 * whose members are killed, restarted, frozen and thawed in between, with a watch streaming and
 * time spent outside the loop between calls (so the loop's timestamp is stale when requests
 * start and stop). What must hold: every call ends (a hang trips the alarm and bails out), the
 * callback of each call that was not cancelled runs exactly once and that of a cancelled call
 * never, the errors are transport errors, nothing is left behind in the client, and a counter
 * bumped by compare-and-swap transactions ends between the bumps that were confirmed and those
 * plus the ones whose outcome was unknown. */

#include <signal.h>

#include "etcd-internal.h"
#include "etcd-test.h"

#define N_ROUNDS 32
#define N_ASYNC 24
#define ROUND_ALARM_SEC 60

typedef struct Stress Stress;

typedef struct Slot {
        Stress *stress;
        unsigned n_callbacks;
        int error;
        bool cancelled;
        EtcdCall *call;
} Slot;

struct Stress {
        Slot slots[N_ASYNC];
        unsigned n_started, n_ok, n_failed, n_cancelled, n_extra_callbacks, n_odd_errors;
        int odd_error;
        uint64_t max_latency_usec;
        uint64_t round_start;
        unsigned n_bumped, n_bump_unknown;
        unsigned n_watch_events;
        int watch_error;
};

static bool error_is_transport(int error) {
        return error == -ETIMEDOUT || error == -ECONNREFUSED || error == -ECONNRESET || error == -EAGAIN ||
               error == -EIO || error == -EHOSTUNREACH;
}

static void on_alarm(int sig) {
        static const char msg[] = "Bail out! a call did not end within the round's alarm\n";

        (void) write(STDOUT_FILENO, msg, sizeof(msg) - 1);
        _exit(1);
}

static void on_async_done(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Slot *slot = userdata;
        Stress *s = slot->stress;
        uint64_t latency = now(CLOCK_MONOTONIC) - s->round_start;

        slot->n_callbacks++;
        slot->error = error;
        slot->call = NULL;
        if (slot->n_callbacks > 1 || slot->cancelled)
                s->n_extra_callbacks++;
        if (error == 0)
                s->n_ok++;
        else {
                s->n_failed++;
                if (!error_is_transport(error)) {
                        s->n_odd_errors++;
                        s->odd_error = error;
                }
        }
        if (latency > s->max_latency_usec)
                s->max_latency_usec = latency;
}

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Stress *s = userdata;

        if (error < 0)
                s->watch_error = error;
        s->n_watch_events += n_events;
}

static int start_async(EtcdClient *c, unsigned round, unsigned i, Slot *slot) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        char key[64], value[32];
        int r;

        snprintf(key, sizeof(key), "stress/k%u", i);
        snprintf(value, sizeof(value), "r%u-i%u", round, i);

        switch (i % 5) {
        case 0:
                return etcd_put(c, key, value, strlen(value), 0, 0, on_async_done, slot, &slot->call);
        case 1:
                return etcd_range(c, &(EtcdRangeOptions) { .key = "stress/", .flags = ETCD_PREFIX },
                                  on_async_done, slot, &slot->call);
        case 2:
                r = etcd_txn_new(&t);
                if (r < 0)
                        return r;
                r = etcd_txn_compare_int(t, key, ETCD_COMPARE_VERSION, ETCD_GREATER, -1);
                if (r >= 0)
                        r = etcd_txn_put(t, true, key, value, strlen(value), 0, 0);
                if (r >= 0)
                        r = etcd_txn_range(t, false, &(EtcdRangeOptions) { .key = key });
                if (r < 0)
                        return r;
                return etcd_txn_commit(c, t, on_async_done, slot, &slot->call);
        case 3:
                return etcd_delete(c, key, 0, on_async_done, slot, &slot->call);
        default:
                return etcd_range(c, &(EtcdRangeOptions) { .key = "stress/counter", .flags = ETCD_SERIALIZABLE },
                                  on_async_done, slot, &slot->call);
        }
}

/* One compare-and-swap bump of the counter, blocking. */
static void bump_counter(EtcdClient *c, Stress *s) {
        _cleanup_(etcd_response_freep) EtcdResponse *got = NULL, *done = NULL;
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        int64_t mod = 0;
        unsigned n = 0;
        char value[32];
        int r;

        r = etcd_sync_range(c, &(EtcdRangeOptions) { .key = "stress/counter" }, &got);
        if (r < 0)
                return;
        if (got->n_kvs == 1) {
                n = (unsigned) strtoul(got->kvs[0].value, NULL, 10);
                mod = got->kvs[0].mod_revision;
        }
        snprintf(value, sizeof(value), "%u", n + 1);

        assert_se(etcd_txn_new(&t) >= 0);
        assert_se(etcd_txn_compare_int(t, "stress/counter", ETCD_COMPARE_MOD, ETCD_EQUAL, mod) >= 0);
        assert_se(etcd_txn_put(t, true, "stress/counter", value, strlen(value), 0, 0) >= 0);

        r = etcd_sync_txn(c, t, &done);
        if (r >= 0 && done->succeeded)
                s->n_bumped++;
        else if (r == -ETIMEDOUT || r == -ECONNRESET || r == -EAGAIN || r == -EIO)
                s->n_bump_unknown++;
}

static void disturb(EtcdFixture *f, unsigned round) {
        unsigned victim = (round / 8) % f->n_members;

        switch (round % 8) {
        case 2:
                diag("round %u: killing member %u", round, victim);
                etcd_fixture_kill(f, victim);
                break;
        case 4:
                diag("round %u: restarting member %u", round, victim);
                if (etcd_fixture_restart(f, victim) < 0)
                        bail_out("member %u did not come back", victim);
                break;
        case 5:
                diag("round %u: freezing member %u", round, (victim + 1) % f->n_members);
                etcd_fixture_freeze(f, (victim + 1) % f->n_members);
                break;
        case 7:
                diag("round %u: thawing member %u", round, (victim + 1) % f->n_members);
                etcd_fixture_thaw(f, (victim + 1) % f->n_members);
                break;
        }
}

static bool round_done(Stress *s) {
        for (unsigned i = 0; i < N_ASYNC; i++)
                if (!s->slots[i].cancelled && s->slots[i].n_callbacks == 0)
                        return false;
        return true;
}

/* Whether one of this test's calls is still linked in the client (the watch's own checks may be). */
static bool ours_left(EtcdClient *c) {
        for (EtcdCall *call = c->calls; call; call = call->next)
                if (call->callback == on_async_done)
                        return true;
        return false;
}

static void run_round(EtcdClient *c, sd_event *e, Stress *s, unsigned round) {
        bool all_done;

        memset(s->slots, 0, sizeof(s->slots));
        for (unsigned i = 0; i < N_ASYNC; i++)
                s->slots[i].stress = s;
        s->round_start = now(CLOCK_MONOTONIC);

        for (unsigned i = 0; i < N_ASYNC; i++) {
                if (start_async(c, round, i, s->slots + i) < 0)
                        bail_out("round %u: cannot start call %u", round, i);
                s->n_started++;

                /* Time outside the loop, then some inside, between requests. */
                if (i % 4 == 3) {
                        usleep((round * 7 + i * 13) % 60 * USEC_PER_MSEC);
                        test_run_for(e, (i * 3 + round) % 20 * USEC_PER_MSEC);
                }
                if (i % 7 == 5 && s->slots[i - 2].call) {
                        s->slots[i - 2].cancelled = true;
                        s->slots[i - 2].call = etcd_call_cancel(s->slots[i - 2].call);
                        s->n_cancelled++;
                }
                if (i % 8 == 0)
                        bump_counter(c, s);
        }

        /* Bounded by the alarm, not by a figure under test. */
        while (!round_done(s)) {
                if (sd_event_run(e, UINT64_MAX) < 0)
                        break;
        }
        all_done = round_done(s);
        ok(all_done && !ours_left(c), "round %u: every call ended, none left in the client", round);
}

int main(void) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
        _cleanup_free_ char *counter = NULL;
        static Stress s;
        unsigned n;

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 3, NULL) < 0)
                bail_out("etcd did not start");

        signal(SIGALRM, on_alarm);

        EtcdConfig config = {
                .endpoints = f->endpoints,
                .request_timeout_usec = 1500 * USEC_PER_MSEC,
                .connect_timeout_usec = 300 * USEC_PER_MSEC,
                .watch_check_usec = 1000 * USEC_PER_MSEC,
        };
        assert_se(sd_event_new(&e) >= 0);
        assert_se(etcd_client_new(&c, e, &config) >= 0);
        assert_se(etcd_watch_new(&w, c, "stress/", ETCD_PREFIX, 0, on_watch, &s) >= 0);

        for (unsigned round = 0; round < N_ROUNDS; round++) {
                alarm(ROUND_ALARM_SEC);
                disturb(f, round);
                run_round(c, e, &s, round);
        }

        /* Everything back up: the cluster answers and the counter agrees. */
        for (unsigned i = 0; i < f->n_members; i++)
                if (f->frozen[i])
                        etcd_fixture_thaw(f, i);
                else if (f->pids[i] <= 0 && etcd_fixture_restart(f, i) < 0)
                        bail_out("member %u did not come back", i);
        alarm(ROUND_ALARM_SEC);
        assert_se(etcd_fixture_wait(f, -1, 30 * USEC_PER_SEC) >= 0);

        counter = test_get(c, "stress/counter");
        n = counter ? (unsigned) strtoul(counter, NULL, 10) : 0;
        ok(counter, "the counter can be read once the cluster is whole");
        ok(n >= s.n_bumped && n <= s.n_bumped + s.n_bump_unknown,
           "counter %u is between the %u confirmed bumps and those plus %u unknown", n, s.n_bumped,
           s.n_bump_unknown);

        is_int(s.n_extra_callbacks, 0, "no callback ran twice or after a cancel");
        is_int(s.n_odd_errors, 0, "only transport errors (last other: %d)", s.odd_error);
        ok(s.n_ok > s.n_started / 2, "most calls succeeded (%u of %u)", s.n_ok, s.n_started);
        ok(s.n_watch_events > 0 && s.watch_error == 0, "the watch streamed %u events without failing",
           s.n_watch_events);

        w = etcd_watch_free(w);
        test_run_for(e, 10 * USEC_PER_MSEC);
        ok(c->calls == NULL && c->watches == NULL, "nothing left in the client");
        alarm(0);

        diag("%u calls: %u ok, %u failed, %u cancelled; longest wait for a round's call %.1f ms",
             s.n_started, s.n_ok, s.n_failed, s.n_cancelled, s.max_latency_usec / 1000.0);
        diag("counter: %u confirmed bumps, %u unknown", s.n_bumped, s.n_bump_unknown);
        return done_testing();
}
