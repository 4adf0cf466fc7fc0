/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>

#include "etcd-base64.h"
#include "etcd-json.h"

static const char *const request_kind_paths[_ETCD_REQUEST_KIND_MAX] = {
        [ETCD_REQUEST_PUT] = "/v3/kv/put",
        [ETCD_REQUEST_RANGE] = "/v3/kv/range",
        [ETCD_REQUEST_DELETE] = "/v3/kv/deleterange",
        [ETCD_REQUEST_TXN] = "/v3/kv/txn",
        [ETCD_REQUEST_LEASE_GRANT] = "/v3/lease/grant",
        [ETCD_REQUEST_LEASE_REVOKE] = "/v3/lease/revoke",
        [ETCD_REQUEST_LEASE_KEEPALIVE] = "/v3/lease/keepalive",
        [ETCD_REQUEST_LEASE_TIME_TO_LIVE] = "/v3/lease/timetolive",
        [ETCD_REQUEST_AUTHENTICATE] = "/v3/auth/authenticate",
};

const char *etcd_request_kind_to_path(EtcdRequestKind kind) {
        if (kind < 0 || kind >= _ETCD_REQUEST_KIND_MAX)
                return NULL;
        return request_kind_paths[kind];
}

/* ---- building ---- */

json_t *etcd_json_int64(int64_t v) {
        char buf[24];

        (void) snprintf(buf, sizeof(buf), "%" PRIi64, v);
        return json_string(buf);
}

json_t *etcd_json_bytes(const void *p, size_t size) {
        _cleanup_free_ char *s = NULL;

        s = etcd_base64_encode(p, size);
        if (!s)
                return NULL;
        return json_string_nocheck(s);
}

/* Takes the reference to v, also on failure. */
static int object_set(json_t *o, const char *key, json_t *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_set_new_nocheck(o, key, v) < 0)
                return -ENOMEM;
        return 0;
}

static int object_set_bool(json_t *o, const char *key, bool b) {
        return b ? object_set(o, key, json_true()) : 0;
}

/* The gateway's "\0" key: the start of the keyspace as a key, its end as a range_end. */
static int object_set_nul(json_t *o, const char *key) {
        return object_set(o, key, etcd_json_bytes("", 1));
}

static int object_set_string_bytes(json_t *o, const char *key, const char *s) {
        return object_set(o, key, etcd_json_bytes(s, strlen(s)));
}

/* The gateway's int64 fields default to 0: one that is not positive is left out. */
static int object_set_int64_positive(json_t *o, const char *key, int64_t v) {
        return v > 0 ? object_set(o, key, etcd_json_int64(v)) : 0;
}

int etcd_json_build_put(json_t **ret, const char *key, const void *value, size_t value_size, int64_t lease,
                        unsigned flags) {
        json_auto_t *o = NULL;
        int r;

        assert(ret);

        if (!key || (!value && value_size > 0) || lease < 0)
                return -EINVAL;

        o = json_object();
        if (!o)
                return -ENOMEM;

        r = object_set_string_bytes(o, "key", key);
        if (r < 0)
                return r;
        r = object_set(o, "value", etcd_json_bytes(value ?: "", value_size));
        if (r < 0)
                return r;
        r = object_set_int64_positive(o, "lease", lease);
        if (r < 0)
                return r;
        r = object_set_bool(o, "prev_kv", flags & ETCD_PREV_KV);
        if (r < 0)
                return r;
        r = object_set_bool(o, "ignore_lease", flags & ETCD_IGNORE_LEASE);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(o);
        return 0;
}

/* key and range_end of a range, delete or watch: a single key, an explicit end (where "" means "to
 * the end of the keyspace", the gateway's "\0"), or with ETCD_PREFIX every key under key. */
static int object_set_range(json_t *o, const char *key, const char *range_end, unsigned flags) {
        _cleanup_free_ char *end = NULL;
        int r;

        if (!key)
                return -EINVAL;
        if ((flags & ETCD_PREFIX) && range_end)
                return -EINVAL;

        if ((flags & ETCD_PREFIX) && isempty(key)) {
                r = object_set_nul(o, "key");
                if (r < 0)
                        return r;
                return object_set_nul(o, "range_end");
        }

        r = object_set_string_bytes(o, "key", key);
        if (r < 0)
                return r;

        if (flags & ETCD_PREFIX) {
                end = etcd_prefix_end(key);
                if (!end)
                        return -ENOMEM;
                range_end = end;
        }
        if (!range_end)
                return 0;

        if (isempty(range_end))
                return object_set_nul(o, "range_end");
        return object_set_string_bytes(o, "range_end", range_end);
}

static const char *const sort_order_names[] = {
        [ETCD_SORT_NONE] = "NONE",
        [ETCD_SORT_ASCEND] = "ASCEND",
        [ETCD_SORT_DESCEND] = "DESCEND",
};

static const char *const sort_target_names[] = {
        [ETCD_SORT_KEY] = "KEY",
        [ETCD_SORT_VERSION] = "VERSION",
        [ETCD_SORT_CREATE] = "CREATE",
        [ETCD_SORT_MOD] = "MOD",
        [ETCD_SORT_VALUE] = "VALUE",
};

int etcd_json_build_range(json_t **ret, const EtcdRangeOptions *options) {
        json_auto_t *o = NULL;
        int r;

        assert(ret);

        if (!options || options->limit < 0 || options->revision < 0)
                return -EINVAL;
        if ((unsigned) options->sort_order >= ELEMENTSOF(sort_order_names) ||
            (unsigned) options->sort_target >= ELEMENTSOF(sort_target_names))
                return -EINVAL;

        o = json_object();
        if (!o)
                return -ENOMEM;

        r = object_set_range(o, options->key, options->range_end, options->flags);
        if (r < 0)
                return r;
        r = object_set_int64_positive(o, "limit", options->limit);
        if (r < 0)
                return r;
        r = object_set_int64_positive(o, "revision", options->revision);
        if (r < 0)
                return r;
        if (options->sort_order != ETCD_SORT_NONE) {
                r = object_set(o, "sort_order", json_string(sort_order_names[options->sort_order]));
                if (r < 0)
                        return r;
                r = object_set(o, "sort_target", json_string(sort_target_names[options->sort_target]));
                if (r < 0)
                        return r;
        }
        r = object_set_bool(o, "keys_only", options->flags & ETCD_KEYS_ONLY);
        if (r < 0)
                return r;
        r = object_set_bool(o, "count_only", options->flags & ETCD_COUNT_ONLY);
        if (r < 0)
                return r;
        r = object_set_bool(o, "serializable", options->flags & ETCD_SERIALIZABLE);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(o);
        return 0;
}

int etcd_json_build_delete(json_t **ret, const char *key, unsigned flags) {
        json_auto_t *o = NULL;
        int r;

        assert(ret);

        o = json_object();
        if (!o)
                return -ENOMEM;

        r = object_set_range(o, key, NULL, flags & ETCD_PREFIX);
        if (r < 0)
                return r;
        r = object_set_bool(o, "prev_kv", flags & ETCD_PREV_KV);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(o);
        return 0;
}

int etcd_json_build_watch(json_t **ret, const char *key, unsigned flags, int64_t start_revision) {
        json_auto_t *o = NULL, *root = NULL;
        int r;

        assert(ret);

        if (start_revision < 0)
                return -EINVAL;

        o = json_object();
        if (!o)
                return -ENOMEM;

        r = object_set_range(o, key, NULL, flags & ETCD_PREFIX);
        if (r < 0)
                return r;
        r = object_set_int64_positive(o, "start_revision", start_revision);
        if (r < 0)
                return r;
        r = object_set_bool(o, "prev_kv", flags & ETCD_PREV_KV);
        if (r < 0)
                return r;

        root = json_pack("{s:O}", "create_request", o);
        if (!root)
                return -ENOMEM;

        *ret = TAKE_PTR(root);
        return 0;
}

char *etcd_json_dump(const json_t *body) {
        return json_dumps(body, JSON_COMPACT);
}

/* ---- parsing ---- */

static int json_load(const char *data, size_t size, json_t **ret) {
        json_error_t error;
        json_t *v;

        if (!data)
                return -EBADMSG;

        v = json_loadb(data, size, JSON_REJECT_DUPLICATES, &error);
        if (!v)
                return -EBADMSG;
        if (!json_is_object(v)) {
                json_decref(v);
                return -EBADMSG;
        }

        *ret = v;
        return 0;
}

/* json_unpack_ex() with JSON_STRICT: a missing required key, an unknown key or a wrong type is
 * -EBADMSG. */
static int unpack_strict(json_t *v, const char *fmt, ...) {
        json_error_t error;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = json_vunpack_ex(v, &error, JSON_STRICT, fmt, ap);
        va_end(ap);
        return r < 0 ? -EBADMSG : 0;
}

int etcd_json_parse_int64(const json_t *v, int64_t *ret) {
        const char *s, *p;
        int64_t n = 0;
        bool negative;

        assert(ret);

        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (!json_is_string(v))
                return -EBADMSG;

        s = json_string_value(v);
        negative = s[0] == '-';
        p = negative ? s + 1 : s;
        if (!*p || json_string_length(v) > 20)
                return -EBADMSG;

        for (; *p; p++) {
                int d;

                if (*p < '0' || *p > '9')
                        return -EBADMSG;
                d = *p - '0';

                if (negative ? n < (INT64_MIN + d) / 10 : n > (INT64_MAX - d) / 10)
                        return -EBADMSG;
                n = negative ? n * 10 - d : n * 10 + d;
        }

        *ret = n;
        return 0;
}

/* An optional int64: a missing field is etcd's omitted default. */
static int parse_int64_opt(const json_t *v, int64_t def, int64_t *ret) {
        if (!v) {
                *ret = def;
                return 0;
        }
        return etcd_json_parse_int64(v, ret);
}

/* A reply's optional header: *ret_revision is left alone when there is none. */
static int parse_header(json_t *h, int64_t *ret_revision) {
        json_t *revision = NULL, *cluster_id = NULL, *member_id = NULL, *raft_term = NULL;

        if (!h)
                return 0;
        if (unpack_strict(h, "{s?o, s?o, s?o, s?o}",
                          "cluster_id", &cluster_id,
                          "member_id", &member_id,
                          "revision", &revision,
                          "raft_term", &raft_term) < 0)
                return -EBADMSG;

        if (cluster_id && !json_is_string(cluster_id))
                return -EBADMSG;
        if (member_id && !json_is_string(member_id))
                return -EBADMSG;
        if (raft_term && !json_is_string(raft_term))
                return -EBADMSG;

        return parse_int64_opt(revision, 0, ret_revision);
}

void etcd_key_value_done(EtcdKeyValue *kv) {
        if (!kv)
                return;
        kv->key = mfree(kv->key);
        kv->value = mfree(kv->value);
        kv->value_size = 0;
}

static int parse_bytes(const char *s, char **ret, size_t *ret_size) {
        return etcd_base64_decode(s, strlen(s), ret, ret_size);
}

static int parse_kv(json_t *v, EtcdKeyValue *ret) {
        json_t *create_revision = NULL, *mod_revision = NULL, *version = NULL, *lease = NULL;
        const char *key = NULL, *value = NULL;
        _cleanup_free_ char *k = NULL, *val = NULL;
        EtcdKeyValue kv = {};
        int r;

        if (unpack_strict(v, "{s:s, s?o, s?o, s?o, s?s, s?o}",
                          "key", &key,
                          "create_revision", &create_revision,
                          "mod_revision", &mod_revision,
                          "version", &version,
                          "value", &value,
                          "lease", &lease) < 0)
                return -EBADMSG;

        r = parse_bytes(key, &k, NULL);
        if (r < 0)
                return r;
        r = parse_bytes(value ?: "", &val, &kv.value_size);
        if (r < 0)
                return r;

        if (parse_int64_opt(create_revision, 0, &kv.create_revision) < 0 ||
            parse_int64_opt(mod_revision, 0, &kv.mod_revision) < 0 ||
            parse_int64_opt(version, 0, &kv.version) < 0 ||
            parse_int64_opt(lease, 0, &kv.lease) < 0)
                return -EBADMSG;

        kv.key = TAKE_PTR(k);
        kv.value = TAKE_PTR(val);
        *ret = kv;
        return 0;
}

static int parse_kv_item(json_t *v, void *ret) {
        return parse_kv(v, ret);
}

/* An optional array whose items parse() fills in place: *items (size bytes each, new) is the
 * owner's, and *n_items is counted before each item is parsed, so that the owner's done() releases
 * a half-parsed one whatever the result. */
static int parse_array(json_t *a, size_t size, int (*parse)(json_t *v, void *ret), void **items,
                       size_t *n_items) {
        size_t n;
        int r;

        if (!a)
                return 0;
        if (!json_is_array(a))
                return -EBADMSG;

        n = json_array_size(a);
        *items = calloc(n ?: 1, size);
        if (!*items)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                *n_items = i + 1;
                r = parse(json_array_get(a, i), (uint8_t *) *items + i * size);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_one_kv(json_t *v, EtcdKeyValue **ret, size_t *ret_n) {
        EtcdKeyValue *kv;
        int r;

        if (!v)
                return 0;

        kv = new0(EtcdKeyValue, 1);
        if (!kv)
                return -ENOMEM;

        r = parse_kv(v, kv);
        if (r < 0) {
                free(kv);
                return r;
        }

        *ret = kv;
        *ret_n = 1;
        return 0;
}

static int parse_range(json_t *root, EtcdResponse *r) {
        json_t *header = NULL, *kvs = NULL, *count = NULL;
        int more = 0, k;

        if (unpack_strict(root, "{s?o, s?o, s?b, s?o}",
                          "header", &header,
                          "kvs", &kvs,
                          "more", &more,
                          "count", &count) < 0)
                return -EBADMSG;

        k = parse_header(header, &r->revision);
        if (k < 0)
                return k;
        if (parse_int64_opt(count, 0, &r->count) < 0)
                return -EBADMSG;
        r->more = more;

        return parse_array(kvs, sizeof(EtcdKeyValue), parse_kv_item, (void **) &r->kvs, &r->n_kvs);
}

static int parse_put(json_t *root, EtcdResponse *r) {
        json_t *header = NULL, *prev_kv = NULL;
        int k;

        if (unpack_strict(root, "{s?o, s?o}",
                          "header", &header,
                          "prev_kv", &prev_kv) < 0)
                return -EBADMSG;

        k = parse_header(header, &r->revision);
        if (k < 0)
                return k;
        return parse_one_kv(prev_kv, &r->kvs, &r->n_kvs);
}

static int parse_delete(json_t *root, EtcdResponse *r) {
        json_t *header = NULL, *deleted = NULL, *prev_kvs = NULL;
        int k;

        if (unpack_strict(root, "{s?o, s?o, s?o}",
                          "header", &header,
                          "deleted", &deleted,
                          "prev_kvs", &prev_kvs) < 0)
                return -EBADMSG;

        k = parse_header(header, &r->revision);
        if (k < 0)
                return k;
        if (parse_int64_opt(deleted, 0, &r->count) < 0)
                return -EBADMSG;

        return parse_array(prev_kvs, sizeof(EtcdKeyValue), parse_kv_item, (void **) &r->kvs, &r->n_kvs);
}

static int parse_txn_operation(json_t *v, void *ret) {
        EtcdResponse *r = ret;
        json_t *put = NULL, *range = NULL, *delete = NULL, *txn = NULL;

        if (unpack_strict(v, "{s?o, s?o, s?o, s?o}",
                          "response_put", &put,
                          "response_range", &range,
                          "response_delete_range", &delete,
                          "response_txn", &txn) < 0)
                return -EBADMSG;

        /* Exactly one of them; nested transactions are never sent by us. */
        if (!!put + !!range + !!delete != 1 || txn)
                return -EBADMSG;

        if (put)
                return parse_put(put, r);
        if (range)
                return parse_range(range, r);
        return parse_delete(delete, r);
}

static int parse_txn(json_t *root, EtcdResponse *r) {
        json_t *header = NULL, *responses = NULL;
        int succeeded = 0, k;

        if (unpack_strict(root, "{s?o, s?b, s?o}",
                          "header", &header,
                          "succeeded", &succeeded,
                          "responses", &responses) < 0)
                return -EBADMSG;

        k = parse_header(header, &r->revision);
        if (k < 0)
                return k;
        r->succeeded = succeeded;

        return parse_array(responses, sizeof(EtcdResponse), parse_txn_operation, (void **) &r->responses,
                           &r->n_responses);
}

/* What every lease reply has: the header, the lease's ID (required) and its TTL (-1 when etcd
 * leaves it out). */
static int parse_lease(json_t *header, json_t *id, json_t *ttl, EtcdResponse *r) {
        int k;

        k = parse_header(header, &r->revision);
        if (k < 0)
                return k;
        if (etcd_json_parse_int64(id, &r->lease_id) < 0 || parse_int64_opt(ttl, -1, &r->lease_ttl) < 0)
                return -EBADMSG;
        return 0;
}

static int parse_lease_grant(json_t *root, EtcdResponse *r) {
        json_t *header = NULL, *id = NULL, *ttl = NULL;
        const char *error_text = NULL;
        int k;

        if (unpack_strict(root, "{s?o, s:o, s?o, s?s}",
                          "header", &header,
                          "ID", &id,
                          "TTL", &ttl,
                          "error", &error_text) < 0)
                return -EBADMSG;

        k = parse_lease(header, id, ttl, r);
        if (k < 0)
                return k;
        r->lease_granted_ttl = r->lease_ttl;

        if (!isempty(error_text)) {
                r->grpc_code = 2;
                r->error_message = strdup(error_text);
                if (!r->error_message)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_header_only(json_t *root, EtcdResponse *r) {
        json_t *header = NULL;

        if (unpack_strict(root, "{s?o}", "header", &header) < 0)
                return -EBADMSG;
        return parse_header(header, &r->revision);
}

/* A streaming endpoint's error: {"error":{"grpc_code":N,"http_code":N,"message":..,..}}. */
static int parse_stream_error(json_t *v, int *ret_code, char **ret_message) {
        json_t *http_code = NULL, *http_status = NULL, *details = NULL;
        const char *message = NULL;
        int code = 0;

        if (unpack_strict(v, "{s:i, s?o, s?s, s?o, s?o}",
                          "grpc_code", &code,
                          "http_code", &http_code,
                          "message", &message,
                          "http_status", &http_status,
                          "details", &details) < 0)
                return -EBADMSG;
        if (code <= 0)
                return -EBADMSG;

        *ret_message = strdup(message ?: "");
        if (!*ret_message)
                return -ENOMEM;
        *ret_code = code;
        return 0;
}

/* A streaming endpoint's line: {"result":{..}} or {"error":{..}}. On success *ret_result is the
 * result, or NULL with the error in *ret_code and *ret_message. */
static int unpack_stream(json_t *root, json_t **ret_result, int *ret_code, char **ret_message) {
        json_t *result = NULL, *stream_error = NULL;
        int r;

        if (unpack_strict(root, "{s?o, s?o}",
                          "result", &result,
                          "error", &stream_error) < 0)
                return -EBADMSG;
        if (!!result == !!stream_error)
                return -EBADMSG;
        if (stream_error) {
                r = parse_stream_error(stream_error, ret_code, ret_message);
                if (r < 0)
                        return r;
        }

        *ret_result = result;
        return 0;
}

static int parse_lease_keepalive(json_t *root, EtcdResponse *r) {
        json_t *result = NULL, *header = NULL, *id = NULL, *ttl = NULL;
        int k;

        k = unpack_stream(root, &result, &r->grpc_code, &r->error_message);
        if (k < 0 || !result)
                return k;

        if (unpack_strict(result, "{s?o, s:o, s?o}",
                          "header", &header,
                          "ID", &id,
                          "TTL", &ttl) < 0)
                return -EBADMSG;

        /* An expired or unknown lease is answered with no TTL at all. */
        k = parse_lease(header, id, ttl, r);
        if (k < 0)
                return k;
        if (r->lease_ttl == 0)
                r->lease_ttl = -1;
        return 0;
}

static int parse_lease_time_to_live(json_t *root, EtcdResponse *r) {
        json_t *header = NULL, *id = NULL, *ttl = NULL, *granted = NULL, *keys = NULL;
        int k;

        if (unpack_strict(root, "{s?o, s:o, s?o, s?o, s?o}",
                          "header", &header,
                          "ID", &id,
                          "TTL", &ttl,
                          "grantedTTL", &granted,
                          "keys", &keys) < 0)
                return -EBADMSG;

        if (keys && !json_is_array(keys))
                return -EBADMSG;
        k = parse_lease(header, id, ttl, r);
        if (k < 0)
                return k;
        return parse_int64_opt(granted, 0, &r->lease_granted_ttl);
}

int etcd_json_parse_response(EtcdRequestKind kind, const char *data, size_t size, EtcdResponse *ret) {
        json_auto_t *root = NULL;
        int r;

        assert(ret);

        *ret = (EtcdResponse) {};

        r = json_load(data, size, &root);
        if (r < 0)
                return r;

        switch (kind) {
        case ETCD_REQUEST_PUT:
                return parse_put(root, ret);
        case ETCD_REQUEST_RANGE:
                return parse_range(root, ret);
        case ETCD_REQUEST_DELETE:
                return parse_delete(root, ret);
        case ETCD_REQUEST_TXN:
                return parse_txn(root, ret);
        case ETCD_REQUEST_LEASE_GRANT:
                return parse_lease_grant(root, ret);
        case ETCD_REQUEST_LEASE_REVOKE:
                return parse_header_only(root, ret);
        case ETCD_REQUEST_LEASE_KEEPALIVE:
                return parse_lease_keepalive(root, ret);
        case ETCD_REQUEST_LEASE_TIME_TO_LIVE:
                return parse_lease_time_to_live(root, ret);
        default:
                return -EINVAL;
        }
}

int etcd_json_parse_error(const char *data, size_t size, int *ret_code, char **ret_message) {
        const char *error_text = NULL, *message = NULL;
        json_auto_t *root = NULL;
        json_t *details = NULL;
        char *m;
        int code = 0, r;

        assert(ret_code);
        assert(ret_message);

        r = json_load(data, size, &root);
        if (r < 0)
                return r;

        if (unpack_strict(root, "{s?s, s?s, s:i, s?o}",
                          "error", &error_text,
                          "message", &message,
                          "code", &code,
                          "details", &details) < 0)
                return -EBADMSG;
        if (code <= 0 || (details && !json_is_array(details)))
                return -EBADMSG;

        m = strdup(message ?: strempty(error_text));
        if (!m)
                return -ENOMEM;

        *ret_code = code;
        *ret_message = m;
        return 0;
}

int etcd_json_parse_token(const char *data, size_t size, char **ret_token) {
        json_auto_t *root = NULL;
        const char *token = NULL;
        json_t *header = NULL;
        int64_t revision;
        char *t;
        int r;

        assert(ret_token);

        r = json_load(data, size, &root);
        if (r < 0)
                return r;

        if (unpack_strict(root, "{s?o, s:s}",
                          "header", &header,
                          "token", &token) < 0)
                return -EBADMSG;
        r = parse_header(header, &revision);
        if (r < 0)
                return r;
        /* The token goes into an HTTP header: no empty token, no control characters. */
        if (isempty(token))
                return -EBADMSG;
        for (const char *p = token; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 127)
                        return -EBADMSG;

        t = strdup(token);
        if (!t)
                return -ENOMEM;
        *ret_token = t;
        return 0;
}

void etcd_event_done(EtcdEvent *e) {
        if (!e)
                return;
        etcd_key_value_done(&e->kv);
        if (e->prev_kv) {
                etcd_key_value_done(e->prev_kv);
                e->prev_kv = mfree(e->prev_kv);
        }
}

static int parse_event(json_t *v, void *userdata) {
        EtcdEvent *ret = userdata;
        json_t *kv = NULL, *prev_kv = NULL;
        const char *type = NULL;
        size_t n = 0;
        int r;

        if (unpack_strict(v, "{s?s, s:o, s?o}",
                          "type", &type,
                          "kv", &kv,
                          "prev_kv", &prev_kv) < 0)
                return -EBADMSG;

        if (!type || streq(type, "PUT"))
                ret->type = ETCD_EVENT_PUT;
        else if (streq(type, "DELETE"))
                ret->type = ETCD_EVENT_DELETE;
        else
                return -EBADMSG;

        r = parse_kv(kv, &ret->kv);
        if (r < 0)
                return r;
        return parse_one_kv(prev_kv, &ret->prev_kv, &n);
}

void etcd_watch_message_done(EtcdWatchMessage *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_events; i++)
                etcd_event_done(m->events + i);
        m->events = mfree(m->events);
        m->n_events = 0;
        m->cancel_reason = mfree(m->cancel_reason);
        m->error_message = mfree(m->error_message);
}

int etcd_json_parse_watch_message(const char *data, size_t size, EtcdWatchMessage *ret) {
        json_t *result = NULL, *header = NULL, *watch_id = NULL, *compact = NULL, *events = NULL;
        int created = 0, canceled = 0, fragment = 0, r;
        const char *cancel_reason = NULL;
        json_auto_t *root = NULL;

        assert(ret);

        *ret = (EtcdWatchMessage) {};

        r = json_load(data, size, &root);
        if (r < 0)
                return r;

        r = unpack_stream(root, &result, &ret->grpc_code, &ret->error_message);
        if (r < 0 || !result)
                return r;

        if (unpack_strict(result, "{s?o, s?o, s?b, s?b, s?o, s?s, s?o, s?b}",
                          "header", &header,
                          "watch_id", &watch_id,
                          "created", &created,
                          "canceled", &canceled,
                          "compact_revision", &compact,
                          "cancel_reason", &cancel_reason,
                          "events", &events,
                          "fragment", &fragment) < 0)
                return -EBADMSG;

        r = parse_header(header, &ret->revision);
        if (r < 0)
                return r;
        if (parse_int64_opt(watch_id, 0, &ret->watch_id) < 0 ||
            parse_int64_opt(compact, 0, &ret->compact_revision) < 0)
                return -EBADMSG;
        ret->created = created;
        ret->canceled = canceled;

        /* We never ask for fragments. */
        if (fragment)
                return -EBADMSG;

        if (cancel_reason) {
                ret->cancel_reason = strdup(cancel_reason);
                if (!ret->cancel_reason)
                        return -ENOMEM;
        }

        return parse_array(events, sizeof(EtcdEvent), parse_event, (void **) &ret->events, &ret->n_events);
}
