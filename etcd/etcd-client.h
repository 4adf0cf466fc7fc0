/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* etcd v3 client over etcd's JSON gateway (/v3/...), driven by an sd-event loop.
 *
 * All requests are asynchronous: libcurl's multi interface is glued to the sd-event loop given to
 * etcd_client_new(), so one thread drives many requests and long-lived streams (watches, lease
 * keepalives) at once. etcd-sync.h wraps the same calls in a blocking form for fleetctl.
 *
 * Conventions:
 * - Functions return 0 or a negative errno. Callbacks receive `error`: 0, a negative errno for a
 *   transport failure (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, ...), -EBADMSG for a malformed
 *   reply, or the errno mapped from etcd's gRPC code (see etcd_grpc_code_to_errno()), in which case
 *   response->grpc_code and response->error_message say what etcd said.
 * - Keys are NUL-terminated strings (the fleet schema only uses text keys); values are byte buffers
 *   with a size, always followed by a NUL in our copies so text values can be used as strings.
 * - Objects given to callbacks are borrowed: valid only during the callback.
 * - The client fails over between endpoints: a request that times out or cannot connect is retried on
 *   the next endpoint, within the request timeout budget (shared between the endpoints, so that a
 *   silent one cannot use it all); the endpoint that answered last is preferred.
 *   Reads (range), keepalives and time-to-live are retried after any transport failure. Writes (put,
 *   delete, txn, lease grant/revoke) are retried only when the attempt certainly did not reach etcd
 *   (connection refused, connect time-out, etcd said "no leader"); after a failure that may have
 *   been applied (-ETIMEDOUT or -ECONNRESET once the request was sent, or -EAGAIN) the caller gets
 *   the error and decides, and the next call starts on another endpoint. A txn guarded by compares
 *   is the way to make a retried write safe.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct EtcdClient EtcdClient;
typedef struct EtcdCall EtcdCall;
typedef struct EtcdTxn EtcdTxn;
typedef struct EtcdWatch EtcdWatch;
typedef struct EtcdLease EtcdLease;

typedef struct EtcdConfig {
        char **endpoints;               /* strv of base URLs, e.g. "http://127.0.0.1:2379" */
        char **unix_sockets;            /* optional, one per endpoint: reach it through this socket
                                         * (an ssh forward) instead of its host and port; the URL
                                         * still names the host TLS verifies */
        const char *ca_file;            /* TLS: CA bundle to verify the server with (optional) */
        const char *cert_file;          /* TLS client certificate (optional); with etcd auth on, its
                                         * subject must have no CN: etcd's gateway refuses those */
        const char *key_file;           /* TLS client key (optional) */
        const char *username;           /* etcd auth: token from /v3/auth/authenticate, renewed */
        const char *password;
        uint64_t request_timeout_usec;  /* whole request, all endpoints tried; 0 = 5 s. Enforced by
                                         * the client's own timer: the callback runs by then
                                         * (+100 ms), with -ETIMEDOUT at the latest */
        uint64_t connect_timeout_usec;  /* per connection attempt; 0 = 1 s */
        uint64_t watch_check_usec;      /* a watch stream silent this long is checked; 0 = 3 s */
        bool log_error_details;         /* log each new etcd_client_error_detail() as an error (daemons,
                                         * whose callers retry; a command reports it once itself) */
} EtcdConfig;

typedef struct EtcdKeyValue {
        char *key;
        char *value;                    /* NUL-terminated copy; value_size excludes the NUL */
        size_t value_size;
        int64_t create_revision;
        int64_t mod_revision;
        int64_t version;
        int64_t lease;                  /* 0 = none */
} EtcdKeyValue;

typedef enum EtcdEventType {
        ETCD_EVENT_PUT,
        ETCD_EVENT_DELETE,
        _ETCD_EVENT_TYPE_MAX,
        _ETCD_EVENT_TYPE_INVALID = -EINVAL,
} EtcdEventType;

typedef struct EtcdEvent {
        EtcdEventType type;
        EtcdKeyValue kv;                /* for DELETE: key and mod_revision only */
        EtcdKeyValue *prev_kv;          /* with ETCD_PREV_KV, when etcd had one; else NULL */
} EtcdEvent;

typedef struct EtcdResponse EtcdResponse;
struct EtcdResponse {
        int64_t revision;               /* header.revision */

        /* range: the matching pairs; put/delete with ETCD_PREV_KV: the previous pairs */
        EtcdKeyValue *kvs;
        size_t n_kvs;
        int64_t count;                  /* range: number of matching keys; delete: number deleted */
        bool more;                      /* range: more keys than the limit */

        /* txn */
        bool succeeded;
        EtcdResponse *responses;        /* one per operation of the branch that ran */
        size_t n_responses;

        /* lease grant / keepalive / time-to-live */
        int64_t lease_id;
        int64_t lease_ttl;              /* remaining TTL in seconds; -1 when expired or unknown */
        int64_t lease_granted_ttl;

        /* etcd's error, when it sent one */
        int grpc_code;
        char *error_message;
};

/* A callback for a one-shot request. response is NULL on transport errors. */
typedef void (*etcd_callback_t)(EtcdClient *c, int error, const EtcdResponse *response, void *userdata);

/* Flags for put, range and delete. */
enum {
        ETCD_PREV_KV = 1 << 0,          /* put/delete: return the previous pair(s) */
        ETCD_PREFIX = 1 << 1,           /* range/delete/watch: every key with this prefix */
        ETCD_KEYS_ONLY = 1 << 2,        /* range: no values */
        ETCD_COUNT_ONLY = 1 << 3,       /* range: only the count */
        ETCD_SERIALIZABLE = 1 << 4,     /* range: serializable (local member) read */
        ETCD_IGNORE_LEASE = 1 << 5,     /* put: keep the key's current lease */
};

typedef enum EtcdSortOrder { ETCD_SORT_NONE, ETCD_SORT_ASCEND, ETCD_SORT_DESCEND } EtcdSortOrder;
typedef enum EtcdSortTarget {
        ETCD_SORT_KEY, ETCD_SORT_VERSION, ETCD_SORT_CREATE, ETCD_SORT_MOD, ETCD_SORT_VALUE,
} EtcdSortTarget;

typedef struct EtcdRangeOptions {
        const char *key;
        const char *range_end;          /* explicit end; NULL = single key, or prefix with ETCD_PREFIX */
        unsigned flags;                 /* ETCD_PREFIX | ETCD_KEYS_ONLY | ETCD_COUNT_ONLY | ETCD_SERIALIZABLE */
        int64_t limit;                  /* 0 = no limit */
        int64_t revision;               /* 0 = latest */
        EtcdSortOrder sort_order;
        EtcdSortTarget sort_target;
        size_t max_reply_size;          /* etcd_range(): a larger reply fails with -EFBIG as soon as
                                         * it passes this; 0 = the client's cap (64 MiB) */
} EtcdRangeOptions;

/* ---- client ---- */

/* Create a client attached to event (which must outlive it). The config is copied. Does not
 * contact etcd (with a username, the first request authenticates first). Returns 0, -EINVAL for an
 * empty endpoint list, a URL that is not http(s)://host[:port], a username without a password or
 * a certificate without a key; -ENOMEM. */
int etcd_client_new(EtcdClient **ret, sd_event *event, const EtcdConfig *config);

/* Check config for what etcd_client_new() cannot see. Returns -errno with *ret_message (malloc'd)
 * when a TLS file is unreadable or TLS files are set while an endpoint is plain http:// (they
 * would be silently unused); 1 with *ret_message, a warning naming the risk, when an endpoint is
 * plain http:// to a host that is not loopback; 0 (*ret_message NULL) otherwise; -ENOMEM. */
int etcd_config_check(const EtcdConfig *config, char **ret_message);
/* Whether the http(s):// endpoint's host is localhost, 127.x or ::1. */
bool etcd_endpoint_is_loopback(const char *endpoint);

/* Whether e is an endpoint etcd_client_new() takes: http:// or https://, a host, an optional port,
 * nothing after it (no path, query or whitespace). */
bool etcd_endpoint_is_valid(const char *e) _pure_;

/* Parse a list of endpoints as fleetd's etcd_servers and fleetctl's --endpoint give it: separated
 * by commas or whitespace, optionally in fleet's bracketed form ["http://a:2379","http://b:2379"]
 * (brackets and quotes dropped). Returns 0 and a new strv in *ret (in the order given); -EINVAL
 * with *ret_bad (optional, malloc'd) the first entry that is not etcd_endpoint_is_valid(), or ""
 * when the list is empty; -ENOMEM. */
int etcd_endpoints_parse(const char *s, char ***ret, char **ret_bad);

/* Cancel every call, watch and lease keeper (their callbacks are not invoked) and free the client.
 * Leases are not revoked. Accepts NULL; returns NULL. */
EtcdClient *etcd_client_free(EtcdClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdClient *, etcd_client_free);

sd_event *etcd_client_get_event(EtcdClient *c);
/* The endpoint that answered last (borrowed). */
const char *etcd_client_current_endpoint(EtcdClient *c);
/* When the last failed call failed for a reason of configuration rather than the network (the
 * endpoint's http/https against what the server speaks, a user and password against etcd's
 * authentication): one line naming the endpoint and what is wrong. NULL otherwise, and after a call
 * succeeds. Borrowed; valid until the next call completes. */
const char *etcd_client_error_detail(EtcdClient *c);
/* Number of HTTP requests sent since creation (for the benchmarks' etcd-cost figures). */
uint64_t etcd_client_requests_sent(EtcdClient *c);

/* Cancel a call: its callback will not be invoked. Accepts NULL; returns NULL. */
EtcdCall *etcd_call_cancel(EtcdCall *call);

/* ---- KV ---- */

/* Each of these starts one request; cb runs exactly once unless the call is cancelled. ret_call
 * (optional) receives a handle that is valid until cb has run. */
int etcd_put(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
             unsigned flags, etcd_callback_t cb, void *userdata, EtcdCall **ret_call);
int etcd_range(EtcdClient *c, const EtcdRangeOptions *options, etcd_callback_t cb, void *userdata,
               EtcdCall **ret_call);
/* Delete key, or every key under the prefix key with ETCD_PREFIX. */
int etcd_delete(EtcdClient *c, const char *key, unsigned flags, etcd_callback_t cb, void *userdata,
                EtcdCall **ret_call);

/* ---- paged listings ----
 *
 * A listing read in pages bounded by size as well as by count. etcd's range takes a key count
 * only, so each page's count comes from what the previous page weighed (keys per page_bytes), at
 * most 8 times the previous page's; the first page is small (etcd builds a whole reply before
 * sending any of it, so a first page of 2,000 huge records could not even arrive in time). A page
 * whose reply still passes max_reply (bigger records than the last page's) fails early with
 * -EFBIG and is asked again with an eighth of the keys, down to one key, which may use the
 * client's whole cap; so is a page that timed out (etcd too busy to build it in time). Every page after the first reads at the first one's revision: one snapshot. A few huge
 * records cost a few small pages instead of one reply past any limit. */

#define ETCD_PAGE_KEYS_MAX 2000
#define ETCD_PAGE_KEYS_FIRST 4
#define ETCD_PAGE_BYTES (4U * 1024U * 1024U)           /* keys and values, decoded */
#define ETCD_PAGE_REPLY_MAX (16U * 1024U * 1024U)      /* the reply as sent: base64 in JSON */

typedef struct EtcdPager {
        char *key;                      /* where the next page starts */
        char *range_end;
        unsigned flags;                 /* ETCD_KEYS_ONLY, ETCD_SERIALIZABLE */
        int64_t revision;               /* 0 until the first page has been read (unless given) */
        int64_t limit;                  /* keys in the next page */
        int64_t max_keys;               /* 0 = ETCD_PAGE_KEYS_MAX */
        size_t page_bytes;              /* 0 = ETCD_PAGE_BYTES */
        size_t max_reply;               /* 0 = ETCD_PAGE_REPLY_MAX */
        uint64_t n_pages, n_retries;    /* pages read, pages asked again smaller */
        bool done;
} EtcdPager;

/* Start listing every key under prefix (range_end NULL) or in [key, range_end), at revision (0 = the
 * first page's). Tune max_keys, page_bytes, max_reply afterwards if needed. Returns 0 or -ENOMEM. */
int etcd_pager_init(EtcdPager *p, const char *key, const char *range_end, unsigned flags, int64_t revision);
void etcd_pager_done(EtcdPager *p);
/* The request for the next page (valid until etcd_pager_next()). */
EtcdRangeOptions etcd_pager_options(const EtcdPager *p);
/* Account for the next page's outcome. Returns 1 with the page's keys to be used (response->kvs),
 * 0 when the page is to be asked again smaller (a reply too large or too slow: nothing of it is
 * used), or a negative errno: error itself (-EFBIG: a single key's reply is past the client's cap).
 * p->done is set after the last page. */
int etcd_pager_next(EtcdPager *p, int error, const EtcdResponse *response);

/* ---- transactions ---- */

typedef enum EtcdCompareTarget {
        ETCD_COMPARE_VALUE, ETCD_COMPARE_VERSION, ETCD_COMPARE_CREATE, ETCD_COMPARE_MOD,
        ETCD_COMPARE_LEASE,
} EtcdCompareTarget;
typedef enum EtcdCompareResult {
        ETCD_EQUAL, ETCD_NOT_EQUAL, ETCD_GREATER, ETCD_LESS,
} EtcdCompareResult;

#define ETCD_TXN_MAX_OPS 128            /* etcd's default --max-txn-ops */

/* A transaction under construction: compares, then operations on the success and failure
 * branches. Building never talks to etcd. Adding an operation beyond ETCD_TXN_MAX_OPS on one branch
 * returns -E2BIG: the caller decides how to split, nothing is split silently. */
int etcd_txn_new(EtcdTxn **ret);
EtcdTxn *etcd_txn_free(EtcdTxn *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdTxn *, etcd_txn_free);

int etcd_txn_compare_value(EtcdTxn *t, const char *key, EtcdCompareResult result, const void *value,
                           size_t value_size);
/* For VERSION, CREATE, MOD and LEASE targets. create_revision == 0 means "key does not exist". */
int etcd_txn_compare_int(EtcdTxn *t, const char *key, EtcdCompareTarget target, EtcdCompareResult result,
                         int64_t number);
/* The optimistic write's guard: key is as it was read, absent if mod_revision is 0, else last
 * modified at mod_revision. Returns 0 or -ENOMEM. */
int etcd_txn_compare_unchanged(EtcdTxn *t, const char *key, int64_t mod_revision);
/* etcd_txn_compare_int() over every key under prefix (the Compare's range_end): true when each
 * key there compares true, and when there is none (as etcd compares an empty range). With MOD and
 * ETCD_LESS, revision + 1: nothing under prefix was written after revision. Returns 0, -EINVAL,
 * -ENOMEM. */
int etcd_txn_compare_prefix_int(EtcdTxn *t, const char *prefix, EtcdCompareTarget target, EtcdCompareResult result,
                                int64_t number);
int etcd_txn_put(EtcdTxn *t, bool on_success, const char *key, const void *value, size_t value_size,
                 int64_t lease, unsigned flags);
int etcd_txn_range(EtcdTxn *t, bool on_success, const EtcdRangeOptions *options);
int etcd_txn_delete(EtcdTxn *t, bool on_success, const char *key, unsigned flags);
/* Number of operations on the given branch. */
size_t etcd_txn_n_ops(const EtcdTxn *t, bool on_success);

/* Send the transaction. The txn may be freed right after this returns. response->succeeded says
 * which branch ran, response->responses holds one result per operation of that branch. */
int etcd_txn_commit(EtcdClient *c, const EtcdTxn *t, etcd_callback_t cb, void *userdata, EtcdCall **ret_call);

/* ---- leases ---- */

/* One-shot lease calls. grant: id 0 lets etcd choose; the response has lease_id and lease_ttl. */
int etcd_lease_grant(EtcdClient *c, int64_t ttl_sec, int64_t id, etcd_callback_t cb, void *userdata,
                     EtcdCall **ret_call);
int etcd_lease_revoke(EtcdClient *c, int64_t id, etcd_callback_t cb, void *userdata, EtcdCall **ret_call);
/* A single keepalive; response->lease_ttl is -1 when the lease had already expired. */
int etcd_lease_keepalive_once(EtcdClient *c, int64_t id, etcd_callback_t cb, void *userdata,
                              EtcdCall **ret_call);
int etcd_lease_time_to_live(EtcdClient *c, int64_t id, etcd_callback_t cb, void *userdata, EtcdCall **ret_call);

typedef enum EtcdLeaseEvent {
        ETCD_LEASE_GRANTED,             /* a (new) lease id is live: (re)write your keys under it */
        ETCD_LEASE_EXPIRING,            /* no renewal within TTL - margin: it may expire; stop acting
                                         * on it (the keeper keeps renewing it) */
        ETCD_LEASE_RENEWED,             /* after EXPIRING: a renewal succeeded, it never expired */
        ETCD_LEASE_LOST,                /* etcd says it is gone (expired or revoked); a new one comes */
} EtcdLeaseEvent;
typedef void (*etcd_lease_handler_t)(EtcdLease *l, EtcdLeaseEvent event, int64_t lease_id, void *userdata);

/* A kept-alive lease: grants a lease of ttl_sec and renews it every (TTL - margin)/3 (more often at
 * a short TTL, so that an etcd leader election of up to about 3 s fits before EXPIRING), and reports
 * GRANTED once it is live. The lease is known alive until the send time of the last successful
 * renewal plus the TTL (etcd_lease_keeper_deadline()); when that is less than the margin away with
 * no renewal, EXPIRING: the holder must stop acting on the lease, since etcd may expire it. The
 * keeper keeps renewing the same lease (no lease expires during an etcd election, and a new etcd
 * leader extends every lease): RENEWED if a renewal then succeeds (the lease never expired; its
 * keys are intact), LOST if etcd says it is gone; then a new lease is granted with backoff and
 * GRANTED reports the new id. A renewal is hedged over the members (another try every TTL/10 while
 * none answered), so one frozen or killed member costs nothing and an etcd leader election costs
 * no lease. Freeing it does not revoke the lease; etcd_lease_revoke_and_free() does. */
int etcd_lease_keeper_new(EtcdLease **ret, EtcdClient *c, int64_t ttl_sec, etcd_lease_handler_t handler,
                          void *userdata);
EtcdLease *etcd_lease_keeper_free(EtcdLease *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdLease *, etcd_lease_keeper_free);
/* Revoke (best effort, in the background; the client must stay alive until the loop ran it) and free. */
EtcdLease *etcd_lease_keeper_revoke_and_free(EtcdLease *l);
/* EXPIRING comes usec before the deadline instead of at it (default 0): the time the holder needs to
 * stop acting on the lease, plus what clock-rate drift over the TTL may add. Returns 0, or -EINVAL
 * for more than half the TTL. */
int etcd_lease_keeper_set_margin(EtcdLease *l, uint64_t usec);
/* The current lease id (also while EXPIRING), 0 while none is granted. */
int64_t etcd_lease_keeper_id(const EtcdLease *l);
/* Monotonic time (CLOCK_MONOTONIC usec) until which the lease is known to be alive. */
uint64_t etcd_lease_keeper_deadline(const EtcdLease *l);

/* ---- watches ---- */

/* Events as they stream, in revision order, each event exactly once. error is 0, or:
 *   -ESTALE: the start revision was compacted; revision = the compact revision. The watch is
 *            stopped; re-list and create a new watch from the listed revision + 1.
 *   other:   the watch was cancelled by etcd or failed permanently; it is stopped.
 * A broken stream is reconnected silently (on another endpoint if needed) and resumes from the
 * last revision seen + 1, so nothing is lost or repeated. revision is the header revision.
 * A silent stream (a partitioned or frozen member sends nothing, it does not break) is checked
 * after EtcdConfig.watch_check_usec without data: a linearizable count-only range of the watched
 * key goes to the same member, and if that fails every silent stream on it moves to another member.
 * One check per member and period stands for all its watches, and none is sent while other
 * requests that need etcd's leader (lease keepalives) succeed on that member. */
typedef void (*etcd_watch_handler_t)(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events,
                                     int64_t revision, void *userdata);

/* Watch key (or every key under it with ETCD_PREFIX) from start_revision (0 = from now), with
 * ETCD_PREV_KV to get previous values. */
int etcd_watch_new(EtcdWatch **ret, EtcdClient *c, const char *key, unsigned flags, int64_t start_revision,
                   etcd_watch_handler_t handler, void *userdata);
EtcdWatch *etcd_watch_free(EtcdWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdWatch *, etcd_watch_free);
/* The endpoint the watch streams from (or will reconnect to); borrowed. NULL once its client is
 * gone. */
const char *etcd_watch_current_endpoint(EtcdWatch *w);

/* ---- responses ---- */

/* Deep copy / free, for callers that keep a response beyond its callback. */
int etcd_response_copy(const EtcdResponse *r, EtcdResponse **ret);
EtcdResponse *etcd_response_free(EtcdResponse *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdResponse *, etcd_response_free);

/* etcd's gRPC status code -> negative errno: 5 NOT_FOUND -> -ENOENT (e.g. lease not found),
 * 11 OUT_OF_RANGE (revision compacted) -> -ESTALE, 3 INVALID_ARGUMENT -> -EINVAL,
 * 9 FAILED_PRECONDITION -> -EPROTO, 16 UNAUTHENTICATED -> -EACCES, 7 PERMISSION_DENIED -> -EPERM,
 * 14 UNAVAILABLE -> -EAGAIN, 4 DEADLINE_EXCEEDED -> -ETIMEDOUT, 8 RESOURCE_EXHAUSTED -> -ENOSPC,
 * anything else -> -EIO. */
int etcd_grpc_code_to_errno(int code);

/* The end of the range that covers every key starting with prefix ("last byte + 1", as etcdctl
 * --prefix does). Returns a malloc'd string, or NULL on OOM. prefix must not be empty: to cover
 * every key use ETCD_PREFIX with key "" (the gateway's range end "\0"). */
char *etcd_prefix_end(const char *prefix);
