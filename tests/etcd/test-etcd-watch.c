/* SPDX-License-Identifier: Apache-2.0 */

/* Watches against a real single-member etcd: prefix, prev_kv, start revision, one batch per txn,
 * compaction reported as -ESTALE, freeing from the handler. */

#include "etcd-test.h"

#define MAX_SEEN 256

typedef struct Seen {
        EtcdEventType type[MAX_SEEN];
        char *key[MAX_SEEN];
        char *value[MAX_SEEN];
        char *prev[MAX_SEEN];
        int64_t mod_revision[MAX_SEEN];
        unsigned batch[MAX_SEEN];
        unsigned n;
        unsigned n_batches;
        int error;
        int64_t error_revision;
        bool stopped;
        unsigned want;
        bool reached;
        bool free_in_handler;
} Seen;

static void seen_done(Seen *s) {
        for (unsigned i = 0; i < s->n; i++) {
                free(s->key[i]);
                free(s->value[i]);
                free(s->prev[i]);
        }
}

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Seen *s = userdata;

        if (error < 0) {
                s->error = error;
                s->error_revision = revision;
                s->stopped = true;
                return;
        }

        for (size_t i = 0; i < n_events && s->n < MAX_SEEN; i++) {
                s->type[s->n] = events[i].type;
                s->key[s->n] = strdup(events[i].kv.key);
                s->value[s->n] = strdup(events[i].kv.value);
                s->prev[s->n] = events[i].prev_kv ? strdup(events[i].prev_kv->value) : NULL;
                s->mod_revision[s->n] = events[i].kv.mod_revision;
                s->batch[s->n] = s->n_batches;
                s->n++;
        }
        s->n_batches++;
        s->reached = s->n >= s->want;

        if (s->free_in_handler)
                etcd_watch_free(w);
}

static void test_prefix_prev_kv(sd_event *e, EtcdClient *c) {
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL, *single = NULL;
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        Seen s = { .want = 7 }, one = { .want = 1 };
        EtcdResponse *r = NULL;
        int64_t first;

        is_int(etcd_watch_new(&w, c, "/w/", ETCD_PREFIX | ETCD_PREV_KV, 0, on_watch, &s), 0, "prefix watch");
        is_int(etcd_watch_new(&single, c, "/w/b", 0, 0, on_watch, &one), 0, "single-key watch");
        /* Let the streams be created before writing: a watch "from now" starts at its creation. */
        test_run_for(e, 300 * USEC_PER_MSEC);

        assert_se(etcd_sync_put(c, "/w/a", "1", 1, 0, 0, &r) >= 0);
        first = r->revision;
        r = etcd_response_free(r);
        assert_se(etcd_sync_put(c, "/w/a", "2", 1, 0, 0, NULL) >= 0);
        assert_se(etcd_sync_put(c, "/other", "x", 1, 0, 0, NULL) >= 0);
        assert_se(etcd_sync_delete(c, "/w/a", 0, NULL) >= 0);
        assert_se(etcd_sync_put(c, "/w/b", "3", 1, 0, 0, NULL) >= 0);

        assert_se(etcd_txn_new(&t) >= 0);
        assert_se(etcd_txn_put(t, true, "/w/t1", "t1", 2, 0, 0) >= 0);
        assert_se(etcd_txn_put(t, true, "/w/t2", "t2", 2, 0, 0) >= 0);
        assert_se(etcd_txn_put(t, true, "/w/t3", "t3", 2, 0, 0) >= 0);
        assert_se(etcd_sync_txn(c, t, NULL) >= 0);

        ok(test_run_until(e, &s.reached, 10 * USEC_PER_SEC), "seven events arrived");
        ok(test_run_until(e, &one.reached, 5 * USEC_PER_SEC), "the single-key watch got its event");
        is_int(s.n, 7, "exactly seven events (nothing outside the prefix)");
        ok(s.n >= 4 && s.type[0] == ETCD_EVENT_PUT && streq(s.value[0], "1") && !s.prev[0],
           "1: PUT /w/a=1, no previous value");
        ok(s.n >= 4 && s.type[1] == ETCD_EVENT_PUT && streq(s.value[1], "2") && s.prev[1] && streq(s.prev[1], "1"),
           "2: PUT /w/a=2, previous 1");
        ok(s.n >= 4 && s.type[2] == ETCD_EVENT_DELETE && streq(s.key[2], "/w/a") && s.prev[2] &&
           streq(s.prev[2], "2"), "3: DELETE /w/a, previous 2");
        ok(s.n >= 4 && s.type[3] == ETCD_EVENT_PUT && streq(s.key[3], "/w/b"), "4: PUT /w/b");
        ok(s.n >= 4 && s.mod_revision[0] == first && s.mod_revision[1] == first + 1 &&
           s.mod_revision[2] == first + 3, "revisions as written");
        ok(s.n == 7 && s.mod_revision[4] == s.mod_revision[6] && s.batch[4] == s.batch[6] &&
           s.batch[4] != s.batch[3], "a txn's three puts: one revision, one batch");
        ok(one.n == 1 && streq(one.key[0], "/w/b") && streq(one.value[0], "3"), "single-key watch: only /w/b");
        ok(!s.stopped && s.error == 0, "no error");

        /* A watch from a past revision replays the history. */
        {
                _cleanup_(etcd_watch_freep) EtcdWatch *h = NULL;
                Seen replay = { .want = 3 };

                is_int(etcd_watch_new(&h, c, "/w/a", 0, first, on_watch, &replay), 0, "watch from a revision");
                ok(test_run_until(e, &replay.reached, 10 * USEC_PER_SEC), "history replayed");
                test_run_for(e, 200 * USEC_PER_MSEC);
                is_int(replay.n, 3, "three past events of /w/a");
                ok(replay.n == 3 && replay.type[2] == ETCD_EVENT_DELETE && replay.mod_revision[0] == first,
                   "history in order");
                seen_done(&replay);
        }

        seen_done(&s);
        seen_done(&one);
}

static void test_compacted(sd_event *e, EtcdClient *c, EtcdFixture *f) {
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
        Seen s = { .want = 1 };
        EtcdResponse *r = NULL;
        char rev[32];
        int64_t old, now;

        assert_se(etcd_sync_put(c, "/cw/k", "1", 1, 0, 0, &r) >= 0);
        old = r->revision;
        r = etcd_response_free(r);
        for (unsigned i = 0; i < 5; i++)
                assert_se(etcd_sync_put(c, "/cw/k", "2", 1, 0, 0, &r) >= 0 && (r = etcd_response_free(r), true));
        assert_se(etcd_sync_put(c, "/cw/k", "3", 1, 0, 0, &r) >= 0);
        now = r->revision;
        r = etcd_response_free(r);

        snprintf(rev, sizeof(rev), "%" PRIi64, now);
        is_int(etcd_fixture_etcdctl(f, (const char *[]) { "compact", rev, NULL }), 0, "etcdctl compact %s", rev);

        is_int(etcd_watch_new(&w, c, "/cw/", ETCD_PREFIX, old, on_watch, &s), 0, "watch from a compacted revision");
        ok(test_run_until(e, &s.stopped, 10 * USEC_PER_SEC), "the watch stopped");
        is_int(s.error, -ESTALE, "-ESTALE");
        is_int(s.error_revision, now, "with the compact revision");
        is_int(s.n, 0, "and no events");

        /* A range at a compacted revision fails the same way. */
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/cw/k", .revision = old }, NULL), -ESTALE,
               "range at a compacted revision: -ESTALE");
        seen_done(&s);
}

static void test_free_in_handler(sd_event *e, EtcdClient *c) {
        EtcdWatch *w = NULL;
        Seen s = { .want = 1, .free_in_handler = true };

        is_int(etcd_watch_new(&w, c, "/fh/", ETCD_PREFIX, 0, on_watch, &s), 0, "watch freed by its handler");
        test_run_for(e, 200 * USEC_PER_MSEC);
        assert_se(etcd_sync_put(c, "/fh/1", "a", 1, 0, 0, NULL) >= 0);
        assert_se(etcd_sync_put(c, "/fh/2", "b", 1, 0, 0, NULL) >= 0);
        ok(test_run_until(e, &s.reached, 10 * USEC_PER_SEC), "first event delivered");
        test_run_for(e, 300 * USEC_PER_MSEC);
        is_int(s.n, 1, "nothing delivered after the free");
        seen_done(&s);
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("could not start etcd");

        assert_se(sd_event_new(&e) >= 0);
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints }) >= 0);

        test_prefix_prev_kv(e, c);
        test_compacted(e, c, f);
        test_free_in_handler(e, c);

        /* Freeing the client with a live watch: the watch is cancelled, freed later by its owner. */
        {
                Seen s = {};
                EtcdWatch *w = NULL;

                is_int(etcd_watch_new(&w, c, "/late/", ETCD_PREFIX, 0, on_watch, &s), 0, "a watch outliving the client");
                test_run_for(e, 100 * USEC_PER_MSEC);
                c = etcd_client_free(c);
                ok(etcd_watch_free(w) == NULL, "freed after its client");
        }

        return done_testing();
}
