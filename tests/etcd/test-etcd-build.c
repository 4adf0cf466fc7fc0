/* SPDX-License-Identifier: Apache-2.0 */

/* Request bodies, the transaction builder and its 128-operation limit, prefix ends, the gRPC code
 * mapping and response copies: everything that needs no etcd. */

#include "etcd-json.h"
#include "tap.h"

static char *dump(json_t *v) {
        char *s = etcd_json_dump(v);

        json_decref(v);
        return s;
}

static void test_prefix_end(void) {
        char *e;

        e = etcd_prefix_end("/fleet/");
        is_str(e, "/fleet0", "prefix end of /fleet/");
        free(e);
        e = etcd_prefix_end("a\xff\xff");
        is_str(e, "b", "trailing 0xff bytes are dropped");
        free(e);
        e = etcd_prefix_end("\xff");
        is_str(e, "", "all 0xff: to the end of the keyspace");
        free(e);
}

static void test_bodies(void) {
        json_t *v = NULL;
        char *s;

        is_int(etcd_json_build_put(&v, "foo", "bar", 3, 0, 0), 0, "put body");
        s = dump(v);
        is_str(s, "{\"key\":\"Zm9v\",\"value\":\"YmFy\"}", "put: base64 key and value");
        free(s);

        is_int(etcd_json_build_put(&v, "foo", NULL, 0, 1234567890123, ETCD_PREV_KV | ETCD_IGNORE_LEASE), 0,
               "put with lease and flags");
        s = dump(v);
        is_str(s, "{\"key\":\"Zm9v\",\"value\":\"\",\"lease\":\"1234567890123\",\"prev_kv\":true,\"ignore_lease\":true}",
               "put: lease as a string, flags");
        free(s);
        is_int(etcd_json_build_put(&v, "foo", NULL, 3, 0, 0), -EINVAL, "put: NULL value with a size");

        is_int(etcd_json_build_range(&v, &(EtcdRangeOptions) { .key = "/fleet/", .flags = ETCD_PREFIX |
                                                              ETCD_KEYS_ONLY, .limit = 10, .revision = 7,
                                                              .sort_order = ETCD_SORT_ASCEND,
                                                              .sort_target = ETCD_SORT_MOD }), 0, "range body");
        s = dump(v);
        is_str(s, "{\"key\":\"L2ZsZWV0Lw==\",\"range_end\":\"L2ZsZWV0MA==\",\"limit\":\"10\",\"revision\":\"7\","
                  "\"sort_order\":\"ASCEND\",\"sort_target\":\"MOD\",\"keys_only\":true}", "range: every option");
        free(s);

        is_int(etcd_json_build_range(&v, &(EtcdRangeOptions) { .key = "", .flags = ETCD_PREFIX | ETCD_COUNT_ONLY }),
               0, "range over everything");
        s = dump(v);
        is_str(s, "{\"key\":\"AA==\",\"range_end\":\"AA==\",\"count_only\":true}", "everything: \\0 to \\0");
        free(s);

        is_int(etcd_json_build_range(&v, &(EtcdRangeOptions) { .key = "a", .range_end = "" }), 0,
               "range to the end");
        s = dump(v);
        is_str(s, "{\"key\":\"YQ==\",\"range_end\":\"AA==\"}", "explicit empty end: \\0");
        free(s);

        is_int(etcd_json_build_range(&v, &(EtcdRangeOptions) { .key = "a", .sort_order = 7 }), -EINVAL,
               "range: bad sort order");
        is_int(etcd_json_build_range(&v, NULL), -EINVAL, "range: no options");

        is_int(etcd_json_build_delete(&v, "/x/", ETCD_PREFIX | ETCD_PREV_KV), 0, "delete body");
        s = dump(v);
        is_str(s, "{\"key\":\"L3gv\",\"range_end\":\"L3gw\",\"prev_kv\":true}", "delete prefix with prev_kv");
        free(s);

        is_int(etcd_json_build_watch(&v, "/x/", ETCD_PREFIX | ETCD_PREV_KV, 42), 0, "watch body");
        s = dump(v);
        is_str(s, "{\"create_request\":{\"key\":\"L3gv\",\"range_end\":\"L3gw\",\"start_revision\":\"42\","
                  "\"prev_kv\":true}}", "watch: prefix, start revision, prev_kv");
        free(s);
}

static void test_txn_builder(void) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        unsigned failures = 0;

        assert_se(etcd_txn_new(&t) >= 0);
        for (unsigned i = 0; i < ETCD_TXN_MAX_OPS; i++)
                if (etcd_txn_delete(t, false, "k", 0) < 0)
                        failures++;
        is_int(failures, 0, "128 operations on the failure branch");
        is_int(etcd_txn_range(t, false, &(EtcdRangeOptions) { .key = "k" }), -E2BIG, "the 129th: -E2BIG");
        is_int(etcd_txn_n_ops(t, false), ETCD_TXN_MAX_OPS, "failure branch full");
        is_int(etcd_txn_put(t, true, "k", "v", 1, 0, 0), 0, "the success branch has its own limit");
        is_int(etcd_txn_n_ops(t, true), 1, "one on success");
        is_int(etcd_txn_compare_int(t, "k", 99, ETCD_EQUAL, 0), -EINVAL, "unknown compare target");
        is_int(etcd_txn_compare_value(t, "k", 9, "v", 1), -EINVAL, "unknown compare result");
        is_int(etcd_txn_put(t, true, NULL, "v", 1, 0, 0), -EINVAL, "put without a key");
        is_int(etcd_txn_n_ops(t, true), 1, "refused operations are not added");
}

static void test_errno(void) {
        is_int(etcd_grpc_code_to_errno(5), -ENOENT, "NOT_FOUND");
        is_int(etcd_grpc_code_to_errno(11), -ESTALE, "OUT_OF_RANGE");
        is_int(etcd_grpc_code_to_errno(3), -EINVAL, "INVALID_ARGUMENT");
        is_int(etcd_grpc_code_to_errno(9), -EPROTO, "FAILED_PRECONDITION");
        is_int(etcd_grpc_code_to_errno(16), -EACCES, "UNAUTHENTICATED");
        is_int(etcd_grpc_code_to_errno(7), -EPERM, "PERMISSION_DENIED");
        is_int(etcd_grpc_code_to_errno(14), -EAGAIN, "UNAVAILABLE");
        is_int(etcd_grpc_code_to_errno(4), -ETIMEDOUT, "DEADLINE_EXCEEDED");
        is_int(etcd_grpc_code_to_errno(8), -ENOSPC, "RESOURCE_EXHAUSTED");
        is_int(etcd_grpc_code_to_errno(2), -EIO, "UNKNOWN");
        is_int(etcd_grpc_code_to_errno(12345), -EIO, "out of range");
}

static void test_copy(void) {
        const char *reply = "{\"header\":{\"revision\":\"9\"},\"succeeded\":true,\"responses\":["
                            "{\"response_range\":{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"AGI=\"}],\"count\":\"1\"}}]}";
        EtcdResponse r, *copy = NULL;

        assert_se(etcd_json_parse_response(ETCD_REQUEST_TXN, reply, strlen(reply), &r) == 0);
        is_int(etcd_response_copy(&r, &copy), 0, "copy a txn response");
        etcd_response_done(&r);
        ok(copy && copy->revision == 9 && copy->succeeded && copy->n_responses == 1, "copy: top level");
        ok(copy && copy->n_responses == 1 && copy->responses[0].n_kvs == 1 &&
           copy->responses[0].kvs[0].value_size == 2 && memcmp(copy->responses[0].kvs[0].value, "\0b", 3) == 0,
           "copy: nested binary value, NUL-terminated");
        ok(etcd_response_free(copy) == NULL, "free returns NULL");
        ok(etcd_response_free(NULL) == NULL, "free accepts NULL");
}

/* A page of n pairs of value_size bytes each, "more" after it. */
static void fake_page(EtcdResponse *r, EtcdKeyValue *kvs, size_t n, size_t value_size, bool more) {
        static char key[] = "/p/k";

        for (size_t i = 0; i < n; i++)
                kvs[i] = (EtcdKeyValue) { .key = key, .value_size = value_size };
        *r = (EtcdResponse) { .revision = 7, .kvs = kvs, .n_kvs = n, .more = more };
}

/* Paging by size (issue 12 item 6): the first page is small, each next one is sized from what the
 * last weighed, a reply too large is asked again smaller, and only a single key too large fails. */
static void test_pager(void) {
        EtcdKeyValue kvs[2000];
        EtcdResponse r;
        EtcdRangeOptions o;
        EtcdPager p;

        assert_se(etcd_pager_init(&p, "/p/", NULL, ETCD_KEYS_ONLY | ETCD_PREFIX, 0) == 0);
        o = etcd_pager_options(&p);
        is_str(o.range_end, "/p0", "the prefix's end");
        is_int(o.limit, ETCD_PAGE_KEYS_FIRST, "the first page is small");
        ok(o.flags == ETCD_KEYS_ONLY && o.revision == 0 && o.max_reply_size == ETCD_PAGE_REPLY_MAX,
           "keys only, latest revision, the page's reply cap");

        fake_page(&r, kvs, ETCD_PAGE_KEYS_FIRST, 10, true);
        is_int(etcd_pager_next(&p, 0, &r), 1, "a page to use");
        o = etcd_pager_options(&p);
        ok(o.revision == 7 && o.limit == 8 * ETCD_PAGE_KEYS_FIRST && streq(o.key, "/p/k\x01"),
           "then: at its revision, 8 times the keys, after its last key");

        fake_page(&r, kvs, 8 * ETCD_PAGE_KEYS_FIRST, 1024 * 1024 - 4, true);
        is_int(etcd_pager_next(&p, 0, &r), 1, "a page of 1 MiB values");
        is_int(etcd_pager_options(&p).limit, ETCD_PAGE_BYTES / (1024 * 1024) + 1, "sized to ETCD_PAGE_BYTES");

        is_int(etcd_pager_next(&p, -EFBIG, NULL), 0, "a reply too large is asked again");
        is_int(etcd_pager_options(&p).limit, 1, "with an eighth of the keys, at least one");
        is_int(etcd_pager_options(&p).max_reply_size, 0, "one key may use the client's whole cap");
        is_int(etcd_pager_next(&p, -EFBIG, NULL), -EFBIG, "one key too large is an error");
        is_int(etcd_pager_next(&p, -ETIMEDOUT, NULL), -ETIMEDOUT, "as is any other, and a time-out of one key");
        p.limit = 16;
        is_int(etcd_pager_next(&p, -ETIMEDOUT, NULL), 0, "a page that timed out is asked again");
        is_int(etcd_pager_options(&p).limit, 2, "smaller");

        fake_page(&r, kvs, 1, 0, false);
        is_int(etcd_pager_next(&p, 0, &r), 1, "the last page");
        ok(p.done && p.n_pages == 3 && p.n_retries == 2, "done after 3 pages and two retries");
        etcd_pager_done(&p);

        assert_se(etcd_pager_init(&p, "/p/", NULL, 0, 0) == 0);
        p.max_keys = 2000;
        for (unsigned i = 0; i < 4; i++) {
                fake_page(&r, kvs, (size_t) etcd_pager_options(&p).limit, 100, true);
                assert_se(etcd_pager_next(&p, 0, &r) == 1);
        }
        is_int(etcd_pager_options(&p).limit, 2000, "small values: pages grow to max_keys");
        etcd_pager_done(&p);
}

int main(int argc, char *argv[]) {
        test_pager();
        test_prefix_end();
        test_bodies();
        test_txn_builder();
        test_errno();
        test_copy();
        return done_testing();
}
