/* SPDX-License-Identifier: Apache-2.0 */

/* KV, transactions and one-shot lease calls against a real single-member etcd. */

#include "etcd-test.h"

static void test_put_range_delete(EtcdClient *c) {
        EtcdResponse *r = NULL;
        int64_t rev1;

        is_int(etcd_sync_put(c, "/kv/k1", "v1", 2, 0, 0, &r), 0, "put");
        ok(r && r->revision > 0, "put: header revision");
        rev1 = r ? r->revision : 0;
        r = etcd_response_free(r);

        is_int(etcd_sync_put(c, "/kv/k1", "v2", 2, 0, ETCD_PREV_KV, &r), 0, "put with prev_kv");
        ok(r && r->n_kvs == 1 && streq(r->kvs[0].value, "v1"), "put: previous value returned");
        ok(r && r->revision == rev1 + 1, "put: revision advanced by one");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/kv/k1" }, &r), 0, "range one key");
        ok(r && r->n_kvs == 1 && streq(r->kvs[0].key, "/kv/k1") && streq(r->kvs[0].value, "v2") &&
           r->kvs[0].value_size == 2, "range: key and value");
        ok(r && r->n_kvs == 1 && r->kvs[0].version == 2 && r->kvs[0].create_revision == rev1 &&
           r->kvs[0].mod_revision == rev1 + 1 && r->kvs[0].lease == 0, "range: version and revisions");
        r = etcd_response_free(r);

        /* An older revision still has the old value. */
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/kv/k1", .revision = rev1 }, &r), 0,
               "range at a revision");
        ok(r && r->n_kvs == 1 && streq(r->kvs[0].value, "v1"), "range at a revision: the value then");
        r = etcd_response_free(r);

        /* Binary values survive, NULs included. */
        is_int(etcd_sync_put(c, "/kv/bin", "a\0b\xff", 4, 0, 0, NULL), 0, "put binary value");
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/kv/bin" }, &r), 0, "range binary value");
        ok(r && r->n_kvs == 1 && r->kvs[0].value_size == 4 && memcmp(r->kvs[0].value, "a\0b\xff", 5) == 0,
           "binary value round trip, NUL-terminated");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/kv/missing" }, &r), 0, "range missing key");
        ok(r && r->n_kvs == 0 && r->count == 0 && r->revision > 0, "missing key: no kvs, count 0");
        r = etcd_response_free(r);

        is_int(etcd_sync_delete(c, "/kv/k1", ETCD_PREV_KV, &r), 0, "delete with prev_kv");
        ok(r && r->count == 1 && r->n_kvs == 1 && streq(r->kvs[0].value, "v2"), "delete: count and prev kv");
        r = etcd_response_free(r);

        is_int(etcd_sync_delete(c, "/kv/k1", 0, &r), 0, "delete a missing key");
        ok(r && r->count == 0, "delete missing: count 0");
        r = etcd_response_free(r);
}

static void test_prefix_options(EtcdClient *c) {
        EtcdResponse *r = NULL;
        int64_t before;

        is_int(etcd_sync_put(c, "/p/b", "2", 1, 0, 0, NULL), 0, "put /p/b");
        is_int(etcd_sync_put(c, "/p/a", "1", 1, 0, 0, NULL), 0, "put /p/a");
        is_int(etcd_sync_put(c, "/p/c", "3", 1, 0, 0, &r), 0, "put /p/c");
        before = r ? r->revision : 0;
        r = etcd_response_free(r);
        is_int(etcd_sync_put(c, "/p0", "x", 1, 0, 0, NULL), 0, "put /p0 (outside the prefix)");
        is_int(etcd_sync_put(c, "/p/a", "1b", 2, 0, 0, NULL), 0, "update /p/a");

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX }, &r), 0,
               "range prefix");
        ok(r && r->n_kvs == 3 && r->count == 3 && !r->more, "prefix: three keys");
        ok(r && r->n_kvs == 3 && streq(r->kvs[0].key, "/p/a") && streq(r->kvs[2].key, "/p/c"),
           "prefix: key order");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX, .limit = 2 }, &r), 0,
               "range with limit");
        ok(r && r->n_kvs == 2 && r->more && r->count == 3, "limit: two keys, more, count of all");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX | ETCD_COUNT_ONLY },
                               &r), 0, "range count_only");
        ok(r && r->n_kvs == 0 && r->count == 3, "count_only: count and no kvs");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX | ETCD_KEYS_ONLY },
                               &r), 0, "range keys_only");
        ok(r && r->n_kvs == 3 && r->kvs[0].value_size == 0 && streq(r->kvs[0].value, ""),
           "keys_only: empty values");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX | ETCD_SERIALIZABLE,
                                                       .sort_order = ETCD_SORT_DESCEND,
                                                       .sort_target = ETCD_SORT_KEY }, &r), 0,
               "range sorted descending by key");
        ok(r && r->n_kvs == 3 && streq(r->kvs[0].key, "/p/c") && streq(r->kvs[2].key, "/p/a"),
           "sort descend by key");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX,
                                                       .sort_order = ETCD_SORT_DESCEND,
                                                       .sort_target = ETCD_SORT_MOD }, &r), 0,
               "range sorted by mod revision");
        ok(r && r->n_kvs == 3 && streq(r->kvs[0].key, "/p/a"), "sort by mod: last written first");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .flags = ETCD_PREFIX,
                                                       .revision = before }, &r), 0, "prefix at a revision");
        ok(r && r->n_kvs == 3 && streq(r->kvs[0].value, "1"), "prefix at a revision: old value");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/p/", .range_end = "/p/b" }, &r), 0,
               "range with explicit end");
        ok(r && r->n_kvs == 1 && streq(r->kvs[0].key, "/p/a"), "explicit end is exclusive");
        r = etcd_response_free(r);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "", .flags = ETCD_PREFIX | ETCD_COUNT_ONLY }, &r),
               0, "range over every key");
        ok(r && r->count >= 5, "every key: counted");
        r = etcd_response_free(r);

        is_int(etcd_sync_delete(c, "/p/", ETCD_PREFIX | ETCD_PREV_KV, &r), 0, "delete prefix");
        ok(r && r->count == 3 && r->n_kvs == 3, "delete prefix: three deleted, prev kvs");
        r = etcd_response_free(r);

        {
                _cleanup_free_ char *v = test_get(c, "/p0");
                ok(v && streq(v, "x"), "delete prefix spared /p0");
        }
}

static void test_txn(EtcdClient *c) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        EtcdResponse *r = NULL;
        int64_t rev;
        int k;

        is_int(etcd_sync_put(c, "/txn/a", "one", 3, 0, 0, &r), 0, "txn setup");
        rev = r ? r->revision : 0;
        r = etcd_response_free(r);

        assert_se(etcd_txn_new(&t) >= 0);
        is_int(etcd_txn_compare_value(t, "/txn/a", ETCD_EQUAL, "one", 3), 0, "compare value");
        is_int(etcd_txn_compare_int(t, "/txn/a", ETCD_COMPARE_VERSION, ETCD_EQUAL, 1), 0, "compare version");
        is_int(etcd_txn_compare_int(t, "/txn/a", ETCD_COMPARE_MOD, ETCD_EQUAL, rev), 0, "compare mod");
        is_int(etcd_txn_compare_int(t, "/txn/a", ETCD_COMPARE_CREATE, ETCD_EQUAL, rev), 0, "compare create");
        is_int(etcd_txn_compare_int(t, "/txn/a", ETCD_COMPARE_LEASE, ETCD_EQUAL, 0), 0, "compare lease");
        is_int(etcd_txn_compare_int(t, "/txn/none", ETCD_COMPARE_CREATE, ETCD_EQUAL, 0), 0,
               "compare create_revision 0 (absent)");
        is_int(etcd_txn_put(t, true, "/txn/b", "two", 3, 0, ETCD_PREV_KV), 0, "success: put");
        is_int(etcd_txn_range(t, true, &(EtcdRangeOptions) { .key = "/txn/a" }), 0, "success: range");
        is_int(etcd_txn_delete(t, true, "/txn/c", ETCD_PREV_KV), 0, "success: delete");
        is_int(etcd_txn_put(t, false, "/txn/failed", "x", 1, 0, 0), 0, "failure: put");
        is_int(etcd_txn_n_ops(t, true), 3, "three operations on success");
        is_int(etcd_txn_n_ops(t, false), 1, "one on failure");

        is_int(etcd_sync_txn(c, t, &r), 0, "txn commit");
        ok(r && r->succeeded, "txn succeeded");
        ok(r && r->n_responses == 3, "one response per operation");
        ok(r && r->n_responses == 3 && r->responses[1].n_kvs == 1 && streq(r->responses[1].kvs[0].value, "one"),
           "txn range result");
        ok(r && r->n_responses == 3 && r->responses[2].count == 0, "txn delete result");
        ok(r && r->revision == rev + 1, "txn: one new revision");
        r = etcd_response_free(r);
        ok(test_get(c, "/txn/failed") == NULL, "failure branch did not run");

        /* Now the compares fail: the failure branch runs. */
        is_int(etcd_sync_put(c, "/txn/a", "changed", 7, 0, 0, NULL), 0, "change the compared key");
        is_int(etcd_sync_txn(c, t, &r), 0, "txn commit again");
        ok(r && !r->succeeded && r->n_responses == 1, "txn failed, failure branch result");
        r = etcd_response_free(r);
        {
                char *v = test_get(c, "/txn/failed");
                ok(v && streq(v, "x"), "failure branch wrote its key");
                free(v);
        }
        t = etcd_txn_free(t);

        /* 128 operations fit, the 129th is refused, and the batch commits. */
        assert_se(etcd_txn_new(&t) >= 0);
        k = 0;
        for (unsigned i = 0; i < ETCD_TXN_MAX_OPS; i++) {
                char key[32];

                snprintf(key, sizeof(key), "/txn/many/%03u", i);
                if (etcd_txn_put(t, true, key, key, strlen(key), 0, 0) < 0)
                        k++;
        }
        is_int(k, 0, "128 puts added");
        is_int(etcd_txn_put(t, true, "/txn/too-many", "x", 1, 0, 0), -E2BIG, "the 129th is -E2BIG");
        is_int(etcd_txn_delete(t, true, "/txn/too-many", 0), -E2BIG, "also for delete");
        is_int(etcd_txn_n_ops(t, true), 128, "still 128");
        is_int(etcd_sync_txn(c, t, &r), 0, "128-op txn commits");
        ok(r && r->succeeded && r->n_responses == 128, "128 responses");
        r = etcd_response_free(r);
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/txn/many/", .flags = ETCD_PREFIX |
                                                       ETCD_COUNT_ONLY }, &r), 0, "count them");
        is_int(r ? r->count : -1, 128, "128 keys written");
        r = etcd_response_free(r);
        t = etcd_txn_free(t);

        /* etcd refuses a txn that names a key twice: its error comes through. */
        assert_se(etcd_txn_new(&t) >= 0);
        assert_se(etcd_txn_put(t, true, "/txn/dup", "1", 1, 0, 0) >= 0);
        assert_se(etcd_txn_put(t, true, "/txn/dup", "2", 1, 0, 0) >= 0);
        is_int(etcd_sync_txn(c, t, &r), -EINVAL, "duplicate key: -EINVAL from gRPC code 3");
        ok(strstr(etcd_sync_last_error(c), "duplicate key") != NULL, "etcd's message is kept: %s",
           etcd_sync_last_error(c));
        ok(r == NULL, "no response on error");
}

/* A compare over a prefix (range_end): true only when every key under it compares true. */
static void test_txn_prefix_compare(EtcdClient *c) {
        EtcdResponse *r = NULL;
        int64_t rev;
        bool ok1 = false, ok2 = true, ok3 = false;

        is_int(etcd_sync_put(c, "/rc/units/a", "a", 1, 0, 0, NULL), 0, "prefix compare setup");
        is_int(etcd_sync_put(c, "/rc/units/b", "b", 1, 0, 0, &r), 0, "... two keys");
        rev = r ? r->revision : 0;
        r = etcd_response_free(r);

        for (int round = 0; round < 3; round++) {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                if (round == 1)
                        assert_se(etcd_sync_put(c, "/rc/units/c", "c", 1, 0, 0, NULL) == 0);
                assert_se(etcd_txn_new(&t) >= 0);
                assert_se(etcd_txn_compare_prefix_int(t, round == 2 ? "/rc/empty/" : "/rc/units/", ETCD_COMPARE_MOD,
                                                      ETCD_LESS, rev + 1) == 0);
                assert_se(etcd_txn_put(t, true, "/rc/done", "1", 1, 0, 0) == 0);
                assert_se(etcd_sync_txn(c, t, &r) == 0);
                if (round == 0)
                        ok1 = r->succeeded;
                else if (round == 1)
                        ok2 = r->succeeded;
                else
                        ok3 = r->succeeded;
                r = etcd_response_free(r);
        }
        ok(ok1, "nothing under the prefix written since the read: the compare holds");
        ok(!ok2, "a key added under it since: it fails (a key of the range compares false)");
        ok(ok3, "an empty prefix compares true");
        {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) >= 0);
                is_int(etcd_txn_compare_prefix_int(t, "", ETCD_COMPARE_MOD, ETCD_LESS, 1), -EINVAL, "an empty prefix is refused");
                is_int(etcd_txn_compare_prefix_int(t, "/x/", ETCD_COMPARE_VALUE, ETCD_LESS, 1), -EINVAL, "... and a value target");
        }
}

static void test_leases(EtcdClient *c) {
        EtcdResponse *r = NULL;
        int64_t id;

        is_int(etcd_sync_lease_grant(c, 30, 0, &r), 0, "lease grant");
        ok(r && r->lease_id > 0 && r->lease_ttl == 30, "grant: id and TTL");
        id = r ? r->lease_id : 0;
        r = etcd_response_free(r);

        is_int(etcd_sync_lease_grant(c, 30, 4242, &r), 0, "lease grant with a chosen id");
        ok(r && r->lease_id == 4242, "grant: the id we chose");
        r = etcd_response_free(r);
        is_int(etcd_sync_lease_grant(c, 30, 4242, &r), -EPROTO, "the same id again: lease exists (code 9)");

        is_int(etcd_sync_put(c, "/lease/k", "v", 1, id, 0, NULL), 0, "put with lease");
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/lease/k" }, &r), 0, "range leased key");
        ok(r && r->n_kvs == 1 && r->kvs[0].lease == id, "the key carries the lease");
        r = etcd_response_free(r);

        is_int(etcd_sync_put(c, "/lease/k", "w", 1, 0, ETCD_IGNORE_LEASE, NULL), 0, "put ignore_lease");
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/lease/k" }, &r), 0, "range again");
        ok(r && r->n_kvs == 1 && r->kvs[0].lease == id && streq(r->kvs[0].value, "w"),
           "ignore_lease kept the lease");
        r = etcd_response_free(r);

        is_int(etcd_sync_lease_revoke(c, id), 0, "revoke");
        ok(test_get(c, "/lease/k") == NULL, "revoke deleted the leased key");
        is_int(etcd_sync_lease_revoke(c, id), -ENOENT, "revoke again: -ENOENT");
        is_int(etcd_sync_put(c, "/lease/k", "v", 1, id, 0, NULL), -ENOENT, "put with a dead lease: -ENOENT");
        is_int(etcd_sync_lease_revoke(c, 4242), 0, "revoke the chosen id");
}

typedef struct AsyncState {
        unsigned done;
        unsigned failed;
        unsigned cancelled_ran;
        int64_t ttl;
        int64_t granted;
        bool finished;
        unsigned expected;
} AsyncState;

static void on_put(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        AsyncState *s = userdata;

        if (error < 0 || !response || response->revision <= 0)
                s->failed++;
        s->done++;
        s->finished = s->done >= s->expected;
}

static void on_cancelled(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        AsyncState *s = userdata;

        s->cancelled_ran++;
}

static void on_ttl(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        AsyncState *s = userdata;

        s->ttl = error < 0 ? -100 : response->lease_ttl;
        s->granted = error < 0 ? -100 : response->lease_granted_ttl;
        s->finished = true;
}

static void test_async(sd_event *e, EtcdClient *c) {
        AsyncState s = { .expected = 200 };
        EtcdResponse *r = NULL;
        EtcdCall *call = NULL;
        uint64_t before;
        int64_t id;

        before = etcd_client_requests_sent(c);

        /* Many requests in flight at once on one loop. */
        for (unsigned i = 0; i < s.expected; i++) {
                char key[32], value[32];

                snprintf(key, sizeof(key), "/async/%03u", i);
                snprintf(value, sizeof(value), "%u", i);
                assert_se(etcd_put(c, key, value, strlen(value), 0, 0, on_put, &s, NULL) >= 0);
        }
        is_int(etcd_put(c, "/async/cancelled", "x", 1, 0, 0, on_cancelled, &s, &call), 0, "a call to cancel");
        ok(etcd_call_cancel(call) == NULL, "cancel returns NULL");

        ok(test_run_until(e, &s.finished, 20 * USEC_PER_SEC), "200 concurrent puts completed");
        is_int(s.failed, 0, "none failed");
        test_run_for(e, 100 * USEC_PER_MSEC);
        is_int(s.cancelled_ran, 0, "the cancelled call's callback never ran");
        ok(etcd_client_requests_sent(c) - before >= 200, "requests counted (%" PRIu64 ")",
           etcd_client_requests_sent(c) - before);

        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/async/", .flags = ETCD_PREFIX |
                                                       ETCD_COUNT_ONLY }, &r), 0, "count async keys");
        is_int(r ? r->count : -1, 200, "all 200 written, the cancelled one maybe");
        r = etcd_response_free(r);

        /* Lease time-to-live and a single keepalive. */
        assert_se(etcd_sync_lease_grant(c, 20, 0, &r) >= 0);
        id = r->lease_id;
        r = etcd_response_free(r);

        s = (AsyncState) {};
        assert_se(etcd_lease_time_to_live(c, id, on_ttl, &s, NULL) >= 0);
        ok(test_run_until(e, &s.finished, 5 * USEC_PER_SEC), "time-to-live answered");
        ok(s.ttl > 0 && s.ttl <= 20 && s.granted == 20, "time-to-live: remaining %" PRIi64 ", granted %" PRIi64,
           s.ttl, s.granted);

        s = (AsyncState) {};
        assert_se(etcd_lease_keepalive_once(c, id, on_ttl, &s, NULL) >= 0);
        ok(test_run_until(e, &s.finished, 5 * USEC_PER_SEC), "keepalive answered");
        is_int(s.ttl, 20, "keepalive: full TTL again");

        assert_se(etcd_sync_lease_revoke(c, id) >= 0);

        s = (AsyncState) {};
        assert_se(etcd_lease_keepalive_once(c, id, on_ttl, &s, NULL) >= 0);
        ok(test_run_until(e, &s.finished, 5 * USEC_PER_SEC), "keepalive on a revoked lease answered");
        is_int(s.ttl, -1, "keepalive on a revoked lease: TTL -1");

        s = (AsyncState) {};
        assert_se(etcd_lease_time_to_live(c, id, on_ttl, &s, NULL) >= 0);
        ok(test_run_until(e, &s.finished, 5 * USEC_PER_SEC), "time-to-live of a revoked lease answered");
        is_int(s.ttl, -1, "time-to-live of a revoked lease: -1");
}

static void test_invalid(EtcdClient *c) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

        is_int(etcd_put(c, NULL, "x", 1, 0, 0, NULL, NULL, NULL), -EINVAL, "put without a key");
        is_int(etcd_range(c, &(EtcdRangeOptions) { .key = "a", .limit = -1 }, NULL, NULL, NULL), -EINVAL,
               "negative limit");
        is_int(etcd_range(c, &(EtcdRangeOptions) { .key = "a", .range_end = "b", .flags = ETCD_PREFIX }, NULL,
                          NULL, NULL), -EINVAL, "prefix and an explicit end");
        is_int(etcd_lease_grant(c, 0, 0, NULL, NULL, NULL), -EINVAL, "lease TTL 0");
        is_int(etcd_lease_revoke(c, 0, NULL, NULL, NULL), -EINVAL, "revoke lease 0");
        assert_se(etcd_txn_new(&t) >= 0);
        is_int(etcd_txn_compare_int(t, "a", ETCD_COMPARE_VALUE, ETCD_EQUAL, 1), -EINVAL,
               "an int compare on the value");
}

typedef struct FreeState {
        EtcdClient *client;
        EtcdWatch *watch;
        bool freed;
        unsigned other_ran;
        unsigned other_ran_at_free;
} FreeState;

static void on_free_client(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        FreeState *s = userdata;

        /* The client goes away from inside one of its own callbacks, with calls and a watch live. */
        s->client = etcd_client_free(s->client);
        s->freed = true;
        s->other_ran_at_free = s->other_ran;
}

static void on_other(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        FreeState *s = userdata;

        s->other_ran++;
}

static void test_free_in_callback(sd_event *e, EtcdFixture *f) {
        FreeState s = {};

        assert_se(etcd_client_new(&s.client, e, &(EtcdConfig) { .endpoints = f->endpoints }) >= 0);
        assert_se(etcd_watch_new(&s.watch, s.client, "/free/", ETCD_PREFIX, 0, NULL, NULL) >= 0);
        assert_se(etcd_put(s.client, "/free/a", "1", 1, 0, 0, on_free_client, &s, NULL) >= 0);
        for (unsigned i = 0; i < 10; i++)
                assert_se(etcd_range(s.client, &(EtcdRangeOptions) { .key = "/free/", .flags = ETCD_PREFIX },
                                     on_other, &s, NULL) >= 0);

        ok(test_run_until(e, &s.freed, 5 * USEC_PER_SEC), "client freed from its own callback");
        test_run_for(e, 200 * USEC_PER_MSEC);
        is_int(s.other_ran, s.other_ran_at_free, "no callback ran after the free (%u before)",
               s.other_ran_at_free);
        ok(etcd_watch_current_endpoint(s.watch) == NULL, "the watch knows its client is gone");
        s.watch = etcd_watch_free(s.watch);
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        EtcdConfig bad = { .endpoints = STRV_MAKE("127.0.0.1:2379") };

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("could not start etcd");

        assert_se(sd_event_new(&e) >= 0);
        is_int(etcd_client_new(&c, e, &bad), -EINVAL, "an endpoint without a scheme is refused");
        is_int(etcd_client_new(&c, e, &(EtcdConfig) {}), -EINVAL, "no endpoints is refused");
        is_int(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints }), 0, "client created");
        is_str(etcd_client_current_endpoint(c), f->endpoints[0], "current endpoint");

        test_put_range_delete(c);
        test_prefix_options(c);
        test_txn(c);
        test_txn_prefix_compare(c);
        test_leases(c);
        test_async(e, c);
        test_invalid(c);
        test_free_in_callback(e, f);

        return done_testing();
}
