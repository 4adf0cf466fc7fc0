/* SPDX-License-Identifier: Apache-2.0 */

/* The reply parsers and the base64 codec, fed with real replies of etcd 3.4 and with malformed,
 * truncated and hostile ones: every bad reply is -EBADMSG, never a crash or a half-filled result. */

#include "etcd-base64.h"
#include "etcd-json.h"
#include "tap.h"

#define H "{\"cluster_id\":\"15875391935852295136\",\"member_id\":\"7383792418829112008\",\"revision\":\"7\"," \
          "\"raft_term\":\"2\"}"
#define KV(k, v) "{\"key\":\"" k "\",\"create_revision\":\"6\",\"mod_revision\":\"7\",\"version\":\"2\",\"value\":\"" v "\"}"

static int parse(EtcdRequestKind kind, const char *json, EtcdResponse *r) {
        return etcd_json_parse_response(kind, json, strlen(json), r);
}

static void test_base64(void) {
        static const char *const vectors[][2] = {
                { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
                { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
        };
        static const char *const bad[] = {
                "Zg=", "Z===", "Zh==", "Zm9=", "Zm9v!", "Zm9vY", "=Zm9", "Zg==Zg==", "Zm 9", "Zm9\t", "Zm-_",
        };
        uint8_t all[256];
        char *e, *d;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                e = etcd_base64_encode(vectors[i][0], strlen(vectors[i][0]));
                is_str(e, vectors[i][1], "encode \"%s\"", vectors[i][0]);
                free(e);
                d = NULL;
                is_int(etcd_base64_decode(vectors[i][1], strlen(vectors[i][1]), &d, &n), 0, "decode %s", vectors[i][1]);
                ok(d && n == strlen(vectors[i][0]) && streq(d, vectors[i][0]), "decoded \"%s\"", strempty(d));
                free(d);
        }

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                d = NULL;
                is_int(etcd_base64_decode(bad[i], strlen(bad[i]), &d, &n), -EBADMSG, "reject \"%s\"", bad[i]);
                ok(!d, "nothing returned for \"%s\"", bad[i]);
        }

        for (unsigned i = 0; i < 256; i++)
                all[i] = (uint8_t) i;
        e = etcd_base64_encode(all, sizeof(all));
        assert_se(e);
        is_int(etcd_base64_decode(e, strlen(e), &d, &n), 0, "decode all 256 byte values");
        ok(n == 256 && memcmp(d, all, 256) == 0 && d[256] == 0, "round trip of every byte value, NUL after");
        free(e);
        free(d);
}

static void test_range(void) {
        EtcdResponse r;
        const char *good = "{\"header\":" H ",\"kvs\":[" KV("YQ==", "MQ==") "," KV("Yg==", "") "],\"more\":true,"
                           "\"count\":\"2\"}";
        static const char *const bad[] = {
                "{\"header\":" H ",\"kvs\":{}}",                                  /* kvs not an array */
                "{\"header\":" H ",\"kvs\":[1]}",                                 /* kv not an object */
                "{\"header\":" H ",\"kvs\":[{\"value\":\"MQ==\"}]}",              /* kv without key */
                "{\"header\":" H ",\"kvs\":[" KV("!!", "MQ==") "]}",              /* bad base64 key */
                "{\"header\":" H ",\"kvs\":[" KV("YQ==", "MQ=") "]}",             /* bad base64 value */
                "{\"header\":" H ",\"count\":\"abc\"}",                           /* not a number */
                "{\"header\":" H ",\"count\":\"99999999999999999999\"}",          /* overflow */
                "{\"header\":" H ",\"count\":\"-\"}",
                "{\"header\":" H ",\"count\":\"\"}",
                "{\"header\":" H ",\"count\":\" 1\"}",
                "{\"header\":" H ",\"count\":1.5}",
                "{\"header\":" H ",\"count\":true}",
                "{\"header\":" H ",\"more\":\"yes\"}",
                "{\"header\":" H ",\"surprise\":1}",                              /* unknown key: strict */
                "{\"header\":{\"revision\":\"1\",\"extra\":\"x\"}}",               /* unknown header key */
                "{\"header\":\"x\"}",
                "{\"header\":" H ",\"header\":" H "}",                            /* duplicate key */
                "{\"header\":" H ",\"kvs\":[{\"key\":\"YQ==\",\"key\":\"Yg==\"}]}",
                "{\"header\":" H ",\"kvs\":[{\"key\":\"YQ==\",\"lease\":[]}]}",
                "{\"header\":" H ",\"kvs\":[{\"key\":\"a\\u0000b\"}]}",           /* NUL in a string */
                "[]", "\"x\"", "42", "null", "", " ", "{", "}", "{\"header\":", "\xff\xfe",
        };

        is_int(parse(ETCD_REQUEST_RANGE, good, &r), 0, "range: real reply");
        is_int(r.revision, 7, "range: revision");
        is_int(r.n_kvs, 2, "range: two kvs");
        is_int(r.count, 2, "range: count");
        ok(r.more, "range: more");
        ok(r.n_kvs == 2 && streq(r.kvs[0].key, "a") && streq(r.kvs[0].value, "1") && r.kvs[0].value_size == 1 &&
           r.kvs[0].create_revision == 6 && r.kvs[0].mod_revision == 7 && r.kvs[0].version == 2,
           "range: first kv");
        ok(r.n_kvs == 2 && streq(r.kvs[1].value, "") && r.kvs[1].value_size == 0, "range: empty value");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_RANGE, "{\"header\":" H "}", &r), 0, "range: no match, defaults omitted");
        ok(r.n_kvs == 0 && r.count == 0 && !r.more && !r.kvs, "range: empty result");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_RANGE, "{\"header\":" H ",\"count\":3}", &r), 0, "range: integer count accepted");
        is_int(r.count, 3, "range: integer count");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_RANGE, "{\"header\":{\"revision\":\"-9223372036854775808\"}}", &r), 0,
               "INT64_MIN");
        ok(r.revision == INT64_MIN, "INT64_MIN parsed");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_RANGE, "{\"header\":{\"revision\":\"9223372036854775808\"}}", &r), -EBADMSG,
               "INT64_MAX + 1 refused");
        etcd_response_done(&r);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                is_int(parse(ETCD_REQUEST_RANGE, bad[i], &r), -EBADMSG, "range: reject %zu: %.60s", i, bad[i]);
                etcd_response_done(&r);
        }

        /* Every truncation of a good reply is refused. */
        {
                unsigned accepted = 0;

                for (size_t l = 0; l < strlen(good); l++) {
                        if (etcd_json_parse_response(ETCD_REQUEST_RANGE, good, l, &r) != -EBADMSG)
                                accepted++;
                        etcd_response_done(&r);
                }
                is_int(accepted, 0, "every truncation of a range reply is -EBADMSG");
        }

        /* Deep nesting does not blow the stack. */
        {
                size_t depth = 100000;
                char *deep = malloc(2 * depth + 32);

                assert_se(deep);
                strcpy(deep, "{\"header\":");
                memset(deep + 10, '[', depth);
                memset(deep + 10 + depth, ']', depth);
                strcpy(deep + 10 + 2 * depth, "}");
                is_int(parse(ETCD_REQUEST_RANGE, deep, &r), -EBADMSG, "deeply nested reply refused");
                etcd_response_done(&r);
                free(deep);
        }
}

static void test_put_delete_txn(void) {
        EtcdResponse r;

        is_int(parse(ETCD_REQUEST_PUT, "{\"header\":" H ",\"prev_kv\":" KV("Zm9v", "YmFy") "}", &r), 0, "put");
        ok(r.n_kvs == 1 && streq(r.kvs[0].key, "foo") && streq(r.kvs[0].value, "bar"), "put: prev_kv");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_PUT, "{\"header\":" H ",\"prev_kv\":[]}", &r), -EBADMSG, "put: prev_kv array");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_DELETE, "{\"header\":" H ",\"deleted\":\"2\",\"prev_kvs\":[" KV("YQ==", "")
                     "," KV("Yg==", "") "]}", &r), 0, "delete");
        ok(r.count == 2 && r.n_kvs == 2, "delete: count and prev_kvs");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_DELETE, "{\"header\":" H ",\"deleted\":\"x\"}", &r), -EBADMSG,
               "delete: bad count");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_TXN, "{\"header\":" H ",\"succeeded\":true,\"responses\":["
                     "{\"response_put\":{\"header\":{\"revision\":\"6\"}}},"
                     "{\"response_range\":{\"header\":{\"revision\":\"6\"},\"kvs\":[" KV("YQ==", "MQ==") "],"
                     "\"count\":\"1\"}},"
                     "{\"response_delete_range\":{\"header\":{\"revision\":\"6\"},\"deleted\":\"1\"}}]}", &r), 0,
               "txn");
        ok(r.succeeded && r.n_responses == 3, "txn: succeeded, three responses");
        ok(r.n_responses == 3 && r.responses[1].n_kvs == 1 && streq(r.responses[1].kvs[0].value, "1") &&
           r.responses[2].count == 1, "txn: nested results");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_TXN, "{\"header\":" H "}", &r), 0, "txn: failed, nothing ran");
        ok(!r.succeeded && r.n_responses == 0, "txn: succeeded omitted = false");
        etcd_response_done(&r);

        {
                static const char *const bad[] = {
                        "{\"header\":" H ",\"responses\":[{}]}",
                        "{\"header\":" H ",\"responses\":[{\"response_put\":{},\"response_range\":{}}]}",
                        "{\"header\":" H ",\"responses\":[{\"response_txn\":{}}]}",
                        "{\"header\":" H ",\"responses\":[{\"response_put\":{\"prev_kv\":{\"key\":1}}}]}",
                        "{\"header\":" H ",\"responses\":[{\"response_range\":{\"kvs\":[" KV("YQ==", "x") "]}}]}",
                        "{\"header\":" H ",\"responses\":{}}",
                        "{\"header\":" H ",\"succeeded\":1}",
                };

                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        is_int(parse(ETCD_REQUEST_TXN, bad[i], &r), -EBADMSG, "txn: reject %zu", i);
                        /* A half-parsed txn is released completely (ASan checks). */
                        etcd_response_done(&r);
                }
        }
}

static void test_leases(void) {
        EtcdResponse r;

        is_int(parse(ETCD_REQUEST_LEASE_GRANT, "{\"header\":" H ",\"ID\":\"1353509838687780363\",\"TTL\":\"5\"}", &r),
               0, "grant");
        ok(r.lease_id == INT64_C(1353509838687780363) && r.lease_ttl == 5, "grant: id and TTL");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_LEASE_GRANT, "{\"header\":" H ",\"TTL\":\"5\"}", &r), -EBADMSG, "grant without ID");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_LEASE_KEEPALIVE, "{\"result\":{\"header\":" H ",\"ID\":\"123\",\"TTL\":\"5\"}}", &r),
               0, "keepalive");
        ok(r.lease_id == 123 && r.lease_ttl == 5, "keepalive: TTL");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_LEASE_KEEPALIVE, "{\"result\":{\"header\":" H ",\"ID\":\"123\"}}", &r), 0,
               "keepalive of an expired lease");
        is_int(r.lease_ttl, -1, "expired: TTL -1");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_LEASE_KEEPALIVE, "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
                     "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\",\"details\":[]}}", &r), 0,
               "keepalive: stream error");
        ok(r.grpc_code == 14 && streq_ptr(r.error_message, "etcdserver: no leader"), "stream error: code, message");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_LEASE_KEEPALIVE, "{\"result\":{\"ID\":\"1\"},\"error\":{\"grpc_code\":1}}", &r),
               -EBADMSG, "keepalive: result and error");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_LEASE_KEEPALIVE, "{\"error\":{\"grpc_code\":0}}", &r), -EBADMSG,
               "keepalive: error code 0");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_LEASE_TIME_TO_LIVE, "{\"header\":" H ",\"ID\":\"123\",\"TTL\":\"-1\","
                     "\"grantedTTL\":\"5\",\"keys\":[\"YQ==\"]}", &r), 0, "timetolive");
        ok(r.lease_ttl == -1 && r.lease_granted_ttl == 5, "timetolive: TTL, granted");
        etcd_response_done(&r);

        is_int(parse(ETCD_REQUEST_LEASE_REVOKE, "{\"header\":" H "}", &r), 0, "revoke");
        etcd_response_done(&r);
        is_int(parse(ETCD_REQUEST_LEASE_REVOKE, "{\"header\":" H ",\"ID\":\"1\"}", &r), -EBADMSG,
               "revoke: unknown field");
        etcd_response_done(&r);
}

static void test_error_token(void) {
        char *m = NULL, *t = NULL;
        int code = 0;
        const char *e = "{\"error\":\"etcdserver: mvcc: required revision has been compacted\",\"message\":"
                        "\"etcdserver: mvcc: required revision has been compacted\",\"code\":11}";

        is_int(etcd_json_parse_error(e, strlen(e), &code, &m), 0, "error reply");
        ok(code == 11 && streq_ptr(m, "etcdserver: mvcc: required revision has been compacted"), "error: code, message");
        free(m);
        m = NULL;
        is_int(etcd_json_parse_error("Not Found\n", 10, &code, &m), -EBADMSG, "error: text body");
        is_int(etcd_json_parse_error("{\"error\":\"x\"}", 13, &code, &m), -EBADMSG, "error: no code");
        is_int(etcd_json_parse_error("{\"code\":0}", 10, &code, &m), -EBADMSG, "error: code 0");
        is_int(etcd_json_parse_error("{\"code\":\"5\"}", 12, &code, &m), -EBADMSG, "error: code as a string");
        ok(!m, "nothing returned on errors");

        {
                const char *good = "{\"header\":" H ",\"token\":\"tTHFYYyfNEpWmNJA.10\"}";
                const char *inject = "{\"header\":" H ",\"token\":\"a\\r\\nX-Evil: 1\"}";
                const char *empty = "{\"header\":" H ",\"token\":\"\"}";

                is_int(etcd_json_parse_token(good, strlen(good), &t), 0, "token");
                is_str(t, "tTHFYYyfNEpWmNJA.10", "token value");
                free(t);
                t = NULL;
                is_int(etcd_json_parse_token(inject, strlen(inject), &t), -EBADMSG, "token with CR LF refused");
                is_int(etcd_json_parse_token(empty, strlen(empty), &t), -EBADMSG, "empty token refused");
                ok(!t, "no token returned");
        }
}

static void test_watch(void) {
        EtcdWatchMessage m;
        const char *events = "{\"result\":{\"header\":" H ",\"events\":[{\"kv\":" KV("Zm9v", "YmF6") "},"
                             "{\"type\":\"DELETE\",\"kv\":{\"key\":\"Zm9v\",\"mod_revision\":\"8\"},\"prev_kv\":"
                             KV("Zm9v", "YmF6") "}]}}";
        static const char *const bad[] = {
                "{\"result\":{\"events\":[{\"type\":\"FOO\",\"kv\":{\"key\":\"YQ==\"}}]}}",
                "{\"result\":{\"events\":[{\"type\":\"PUT\"}]}}",
                "{\"result\":{\"events\":[{\"kv\":{\"key\":\"YQ==\"},\"prev_kv\":5}]}}",
                "{\"result\":{\"fragment\":true}}",
                "{\"result\":{\"created\":\"true\"}}",
                "{\"result\":{\"events\":{}}}",
                "{\"result\":{},\"error\":{\"grpc_code\":1}}",
                "{}",
                "{\"result\":[]}",
        };

        is_int(etcd_json_parse_watch_message(events, strlen(events), &m), 0, "watch events");
        ok(m.n_events == 2 && m.revision == 7, "two events, revision");
        ok(m.n_events == 2 && m.events[0].type == ETCD_EVENT_PUT && streq(m.events[0].kv.value, "baz") &&
           !m.events[0].prev_kv, "PUT (type omitted), no prev_kv");
        ok(m.n_events == 2 && m.events[1].type == ETCD_EVENT_DELETE && m.events[1].kv.mod_revision == 8 &&
           m.events[1].prev_kv && streq(m.events[1].prev_kv->value, "baz"), "DELETE with prev_kv");
        etcd_watch_message_done(&m);

        {
                const char *c = "{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":true,"
                                "\"compact_revision\":\"5\"}}";

                is_int(etcd_json_parse_watch_message(c, strlen(c), &m), 0, "watch canceled");
                ok(m.canceled && m.compact_revision == 5 && m.revision == 0, "compacted: compact revision");
                etcd_watch_message_done(&m);
        }
        {
                const char *c = "{\"result\":{\"header\":" H ",\"created\":true,\"watch_id\":\"3\"}}";

                is_int(etcd_json_parse_watch_message(c, strlen(c), &m), 0, "watch created");
                ok(m.created && m.watch_id == 3 && m.revision == 7, "created, id, revision");
                etcd_watch_message_done(&m);
        }

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                is_int(etcd_json_parse_watch_message(bad[i], strlen(bad[i]), &m), -EBADMSG, "watch: reject %zu", i);
                etcd_watch_message_done(&m);
        }

        {
                unsigned accepted = 0;

                for (size_t l = 0; l < strlen(events); l++) {
                        if (etcd_json_parse_watch_message(events, l, &m) != -EBADMSG)
                                accepted++;
                        etcd_watch_message_done(&m);
                }
                is_int(accepted, 0, "every truncation of a watch line is -EBADMSG");
        }
}

int main(int argc, char *argv[]) {
        test_base64();
        test_range();
        test_put_delete_txn();
        test_leases();
        test_error_token();
        test_watch();
        return done_testing();
}
