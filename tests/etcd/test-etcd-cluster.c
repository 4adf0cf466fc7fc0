/* SPDX-License-Identifier: Apache-2.0 */

/* A 3-member cluster: a watch survives the kill of the member it streams from, and a frozen
 * (silent) member, without losing or repeating an event (the sequence seen is compared with the
 * sequence written), and requests fail over to another member. */

#include "etcd-test.h"

#define N_WRITES 300

typedef struct Sequence {
        EtcdClient *writer;
        EtcdFixture *fixture;
        const char *prefix;
        unsigned next;                  /* next value to write */
        unsigned n_written;
        unsigned n_write_errors;
        int last_write_error;
        bool written;

        int seen[N_WRITES * 2];
        unsigned n_seen;
        bool complete;
        int watch_error;

        unsigned disturb_at;            /* after this many events... */
        bool freeze;                    /* ...freeze instead of kill the watch's member */
        int disturbed;                  /* the member index, -1 before */
        EtcdWatch *watch;
} Sequence;

static int member_of(EtcdFixture *f, const char *endpoint) {
        for (unsigned i = 0; i < f->n_members; i++)
                if (endpoint && streq(f->endpoints[i], endpoint))
                        return (int) i;
        return -1;
}

static void write_next(Sequence *s);

static void on_written(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Sequence *s = userdata;

        /* A write whose outcome is unknown (the member died after receiving it) is sent again; the
         * txn only creates the key, so a repeat does nothing and the sequence stays 0, 1, 2, ... */
        if (error < 0) {
                s->n_write_errors++;
                s->last_write_error = error;
        } else {
                s->n_written++;
                s->next++;
        }
        write_next(s);
}

static void write_next(Sequence *s) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        char key[64], value[16];

        if (s->next >= N_WRITES) {
                s->written = true;
                return;
        }
        snprintf(key, sizeof(key), "%s%04u", s->prefix, s->next);
        snprintf(value, sizeof(value), "%u", s->next);

        assert_se(etcd_txn_new(&t) >= 0);
        assert_se(etcd_txn_compare_int(t, key, ETCD_COMPARE_CREATE, ETCD_EQUAL, 0) >= 0);
        assert_se(etcd_txn_put(t, true, key, value, strlen(value), 0, 0) >= 0);
        assert_se(etcd_txn_commit(s->writer, t, on_written, s, NULL) >= 0);
}

static void on_event(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Sequence *s = userdata;

        if (error < 0) {
                s->watch_error = error;
                return;
        }

        for (size_t i = 0; i < n_events && s->n_seen < ELEMENTSOF(s->seen); i++)
                s->seen[s->n_seen++] = atoi(events[i].kv.value);

        if (s->disturbed < 0 && s->n_seen >= s->disturb_at) {
                s->disturbed = member_of(s->fixture, etcd_watch_current_endpoint(w));
                if (s->disturbed >= 0) {
                        if (s->freeze)
                                etcd_fixture_freeze(s->fixture, s->disturbed);
                        else
                                etcd_fixture_kill(s->fixture, s->disturbed);
                }
        }
        s->complete = s->n_seen >= N_WRITES;
}

static void run_sequence(sd_event *e, EtcdClient *writer, EtcdClient *watcher, EtcdFixture *f, const char *prefix,
                         bool freeze) {
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
        Sequence s = {
                .writer = writer,
                .fixture = f,
                .prefix = prefix,
                .disturb_at = 50,
                .freeze = freeze,
                .disturbed = -1,
        };
        bool in_order = true;
        const char *what = freeze ? "frozen" : "killed";

        is_int(etcd_watch_new(&w, watcher, prefix, ETCD_PREFIX, 0, on_event, &s), 0, "%s: watch %s", what, prefix);
        test_run_for(e, 300 * USEC_PER_MSEC);

        write_next(&s);
        ok(test_run_until(e, &s.complete, 90 * USEC_PER_SEC), "%s: every event arrived (%u of %u)", what, s.n_seen,
           N_WRITES);
        ok(test_run_until(e, &s.written, 30 * USEC_PER_SEC), "%s: every write done (%u retried after errors, last %d)", what, s.n_write_errors,
           s.last_write_error);
        ok(s.disturbed >= 0, "%s: the watch's member (e%d) was %s mid-stream", what, s.disturbed + 1, what);

        /* Anything extra (a repeat) would show up now. */
        test_run_for(e, 500 * USEC_PER_MSEC);
        is_int(s.n_seen, N_WRITES, "%s: no event repeated", what);
        for (unsigned i = 0; i < s.n_seen && i < N_WRITES; i++)
                if (s.seen[i] != (int) i) {
                        in_order = false;
                        diag("event %u carried %d", i, s.seen[i]);
                        break;
                }
        ok(in_order, "%s: the events are exactly the writes, in order", what);
        is_int(s.watch_error, 0, "%s: the watch reported no error", what);
        ok(member_of(f, etcd_watch_current_endpoint(w)) != s.disturbed, "%s: the watch moved to another member",
           what);

        if (s.disturbed >= 0) {
                if (freeze)
                        etcd_fixture_thaw(f, s.disturbed);
                else
                        is_int(etcd_fixture_restart(f, s.disturbed), 0, "member e%d restarted", s.disturbed + 1);
        }
}

static void test_failover(sd_event *e, EtcdFixture *f) {
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        EtcdResponse *r = NULL;

        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints,
                                                         .request_timeout_usec = 10 * USEC_PER_SEC }) >= 0);
        is_str(etcd_client_current_endpoint(c), f->endpoints[0], "failover: e1 preferred at first");

        /* e1 down: refused connections move on at once. A read is retried transparently, also while
         * a new leader is elected; a write that reached a member but timed out waiting for the
         * election is reported, and is safe to repeat here. */
        etcd_fixture_kill(f, 0);
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/failover/a" }, NULL), 0, "range with e1 down");
        {
                int k = -EAGAIN;

                for (unsigned i = 0; i < 3 && (k == -EAGAIN || k == -ETIMEDOUT); i++)
                        k = etcd_sync_put(c, "/failover/a", "1", 1, 0, 0, NULL);
                is_int(k, 0, "put with e1 down");
        }
        ok(!streq(etcd_client_current_endpoint(c), f->endpoints[0]), "answered by another member (%s)",
           etcd_client_current_endpoint(c));
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/failover/a" }, &r), 0, "range the value");
        ok(r && r->n_kvs == 1, "the value is there");
        r = etcd_response_free(r);
        is_int(etcd_fixture_restart(f, 0), 0, "e1 restarted");

        /* The preferred member frozen: silent, so the attempt times out and another member answers:
         * transparently for a read; a write that may have been applied is reported, and the next
         * one goes elsewhere. */
        {
                int frozen = member_of(f, etcd_client_current_endpoint(c)), k;

                etcd_fixture_freeze(f, frozen);
                is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/failover/a" }, &r), 0,
                       "range with the preferred member frozen");
                ok(r && r->n_kvs == 1, "answered by another member");
                r = etcd_response_free(r);
                ok(member_of(f, etcd_client_current_endpoint(c)) != frozen, "another member is preferred now");

                etcd_fixture_thaw(f, frozen);
                etcd_fixture_freeze(f, member_of(f, etcd_client_current_endpoint(c)));
                frozen = member_of(f, etcd_client_current_endpoint(c));
                k = etcd_sync_put(c, "/failover/b", "2", 1, 0, 0, NULL);
                ok(k == 0 || k == -ETIMEDOUT, "a write to a frozen member: done or -ETIMEDOUT (%d)", k);
                /* If the frozen member led, the others elect a new leader first. */
                k = -EAGAIN;
                for (unsigned i = 0; i < 3 && (k == -EAGAIN || k == -ETIMEDOUT); i++)
                        k = etcd_sync_put(c, "/failover/b", "2", 1, 0, 0, NULL);
                is_int(k, 0, "the next write succeeds");
                ok(member_of(f, etcd_client_current_endpoint(c)) != frozen, "on another member");
                etcd_fixture_thaw(f, frozen);
        }
}

/* A member of three frozen, then killed: the keeper renews through the others and never loses
 * its lease. Each blow is watched for longer than the TTL, so a keeper that stopped renewing would
 * report LOST; the TTL leaves room for an etcd election on a loaded machine (the killed member may
 * be etcd's leader). */
#define KEEPER_TTL_SEC 8

static void test_keeper_survives(sd_event *e, EtcdFixture *f) {
        _cleanup_(etcd_lease_keeper_freep) EtcdLease *l = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        TestKeeper s = {};
        usec_t blow;
        int64_t id;
        int m;

        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints }) >= 0);
        is_int(etcd_lease_keeper_new(&l, c, KEEPER_TTL_SEC, test_keeper_on_event, &s), 0, "keeper: TTL %d on the cluster", KEEPER_TTL_SEC);
        ok(test_run_until(e, &s.granted, 10 * USEC_PER_SEC), "keeper: GRANTED");
        id = etcd_lease_keeper_id(l);
        assert_se(etcd_sync_put(c, "/keeper/cluster", "v", 1, id, 0, NULL) >= 0);

        m = member_of(f, etcd_client_current_endpoint(c));
        blow = now(CLOCK_MONOTONIC);
        etcd_fixture_freeze(f, m);
        test_run_for(e, (KEEPER_TTL_SEC + 1) * USEC_PER_SEC);
        is_int(s.n_lost, 0, "keeper: not LOST while its member e%d was frozen", m + 1);
        if (s.lost)
                diag("keeper: LOST %.2f s after the freeze", ((double) s.lost_at - (double) blow) / 1e6);
        ok(member_of(f, etcd_client_current_endpoint(c)) != m, "keeper: renewing through another member");
        etcd_fixture_thaw(f, m);
        /* Let the thawed member catch up before the next blow. */
        test_run_for(e, 3 * USEC_PER_SEC);

        m = member_of(f, etcd_client_current_endpoint(c));
        diag("keeper: killing e%d, lease known alive for %.2f s more", m + 1,
             ((double) etcd_lease_keeper_deadline(l) - (double) now(CLOCK_MONOTONIC)) / 1e6);
        blow = now(CLOCK_MONOTONIC);
        etcd_fixture_kill(f, m);
        test_run_for(e, (KEEPER_TTL_SEC + 1) * USEC_PER_SEC);
        is_int(s.n_lost, 0, "keeper: not LOST after its member e%d was killed", m + 1);
        if (s.lost)
                diag("keeper: LOST %.2f s after the kill", ((double) s.lost_at - (double) blow) / 1e6);
        is_int(etcd_lease_keeper_id(l), id, "keeper: still the first lease");
        {
                _cleanup_free_ char *v = test_get(c, "/keeper/cluster");
                ok(v != NULL, "keeper: the leased key is alive");
        }
        is_int(etcd_fixture_restart(f, m), 0, "member e%d restarted", m + 1);
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *writer = NULL, *watcher = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 3, NULL) < 0)
                bail_out("could not start a 3-member etcd cluster");

        assert_se(sd_event_new(&e) >= 0);
        assert_se(etcd_client_new(&writer, e, &(EtcdConfig) { .endpoints = f->endpoints,
                                                              .request_timeout_usec = 10 * USEC_PER_SEC }) >= 0);
        assert_se(etcd_client_new(&watcher, e, &(EtcdConfig) { .endpoints = f->endpoints,
                                                               .watch_check_usec = USEC_PER_SEC }) >= 0);

        run_sequence(e, writer, watcher, f, "/seq-kill/", false);
        run_sequence(e, writer, watcher, f, "/seq-freeze/", true);
        test_failover(e, f);
        test_keeper_survives(e, f);

        return done_testing();
}
