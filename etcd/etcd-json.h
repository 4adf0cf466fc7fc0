/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Request bodies for, and strict parsing of, etcd's v3 JSON gateway. Pure: no I/O.
 *
 * Every parser checks the whole shape of the reply with json_unpack_ex() and JSON_STRICT (a key we
 * do not know is an error, as are a wrong type, bad base64 and a malformed int64 string), so a
 * malformed, truncated or hostile reply gives -EBADMSG, never a crash or a half-filled result. */

#include <jansson.h>

#include "etcd-client.h"

typedef enum EtcdRequestKind {
        ETCD_REQUEST_PUT,
        ETCD_REQUEST_RANGE,
        ETCD_REQUEST_DELETE,
        ETCD_REQUEST_TXN,
        ETCD_REQUEST_LEASE_GRANT,
        ETCD_REQUEST_LEASE_REVOKE,
        ETCD_REQUEST_LEASE_KEEPALIVE,
        ETCD_REQUEST_LEASE_TIME_TO_LIVE,
        ETCD_REQUEST_AUTHENTICATE,
        _ETCD_REQUEST_KIND_MAX,
        _ETCD_REQUEST_KIND_INVALID = -EINVAL,
} EtcdRequestKind;

/* The gateway path for a kind, e.g. "/v3/kv/put". */
const char *etcd_request_kind_to_path(EtcdRequestKind kind) _const_;

/* ---- building ---- */

/* An int64 as the gateway wants it (a JSON string). NULL on OOM. */
json_t *etcd_json_int64(int64_t v);
/* A base64 JSON string of size bytes of p. NULL on OOM. */
json_t *etcd_json_bytes(const void *p, size_t size);

/* The bodies of put, range and delete-range (also the operations of a txn). On success *ret
 * receives a new reference. Return 0, -EINVAL for a NULL key or bad options, -ENOMEM. */
int etcd_json_build_put(json_t **ret, const char *key, const void *value, size_t value_size, int64_t lease,
                        unsigned flags);
int etcd_json_build_range(json_t **ret, const EtcdRangeOptions *options);
int etcd_json_build_delete(json_t **ret, const char *key, unsigned flags);

/* The body of /v3/watch: {"create_request":{..}} for key (or every key under it with
 * ETCD_PREFIX), from start_revision (0 = now), with prev_kv if ETCD_PREV_KV. */
int etcd_json_build_watch(json_t **ret, const char *key, unsigned flags, int64_t start_revision);

/* Serialize a body compactly. Returns a malloc'd string or NULL on OOM. */
char *etcd_json_dump(const json_t *body);

/* ---- parsing ---- */

/* A gateway int64: a JSON string of decimal digits (an integer is accepted too). 0 or -EBADMSG. */
int etcd_json_parse_int64(const json_t *v, int64_t *ret);

/* Parse the body of a successful (HTTP 200) reply of the given kind into *ret, which the parser
 * zeroes first and the caller releases with etcd_response_done() whatever the result. A streaming
 * error inside a 200 reply (keepalive) fills ret->grpc_code and ret->error_message and returns 0.
 * Returns 0, -EBADMSG, -ENOMEM. The authenticate kind is parsed by etcd_json_parse_token(). */
int etcd_json_parse_response(EtcdRequestKind kind, const char *data, size_t size, EtcdResponse *ret);

/* Parse an error reply ({"error":..,"message":..,"code":N}). On success *ret_code is etcd's gRPC
 * code (> 0) and *ret_message a malloc'd copy of its message. Returns 0, -EBADMSG, -ENOMEM. */
int etcd_json_parse_error(const char *data, size_t size, int *ret_code, char **ret_message);

/* Parse the reply of /v3/auth/authenticate. *ret_token is malloc'd. Returns 0, -EBADMSG, -ENOMEM. */
int etcd_json_parse_token(const char *data, size_t size, char **ret_token);

/* One line of a watch stream. */
typedef struct EtcdWatchMessage {
        int64_t revision;               /* header revision; 0 when etcd left it out */
        int64_t watch_id;
        bool created;
        bool canceled;
        int64_t compact_revision;
        char *cancel_reason;
        EtcdEvent *events;
        size_t n_events;
        int grpc_code;                  /* a stream error ({"error":{..}}), 0 otherwise */
        char *error_message;
} EtcdWatchMessage;

/* Parse one watch line into *ret (zeroed first; release with etcd_watch_message_done() whatever
 * the result). Returns 0, -EBADMSG, -ENOMEM. */
int etcd_json_parse_watch_message(const char *data, size_t size, EtcdWatchMessage *ret);
void etcd_watch_message_done(EtcdWatchMessage *m);

/* Release what a key-value pair, an event or a response owns (not the object itself). */
void etcd_key_value_done(EtcdKeyValue *kv);
void etcd_event_done(EtcdEvent *e);
void etcd_response_done(EtcdResponse *r);
