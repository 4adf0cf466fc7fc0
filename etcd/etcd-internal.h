/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the files of the etcd client share: the client object, one-shot calls (with fail-over,
 * authentication and retries) and the curl handle set-up. Not installed, not for callers. */

#include <curl/curl.h>
#include <jansson.h>

#include "curl-glue.h"
#include "etcd-client.h"
#include "etcd-json.h"
#include "time-util.h"

#define ETCD_DEFAULT_REQUEST_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define ETCD_DEFAULT_CONNECT_TIMEOUT_USEC (1 * USEC_PER_SEC)
#define ETCD_DEFAULT_WATCH_CHECK_USEC (3 * USEC_PER_SEC)
/* The shortest attempt on one endpoint when the budget is shared between several. */
#define ETCD_MIN_ATTEMPT_USEC (300 * USEC_PER_MSEC)
/* How long after its deadline a call is ended by the client's own timer when libcurl did not end
 * it: long enough for libcurl's time-out of the attempt to come first. */
#define ETCD_DEADLINE_GRACE_USEC (100 * USEC_PER_MSEC)
/* Replies (and watch lines) larger than this are treated as malformed. */
#define ETCD_MAX_REPLY_SIZE (64U * 1024U * 1024U)
#define ETCD_EASY_POOL_MAX 16

/* A set of HTTP headers (Content-Type, Authorization) shared by the transfers that started with
 * it; replaced, not changed, when the token changes, since libcurl reads it during a transfer. */
typedef struct EtcdHeaders {
        unsigned n_ref;
        struct curl_slist *list;
} EtcdHeaders;

EtcdHeaders *etcd_headers_ref(EtcdHeaders *h);
EtcdHeaders *etcd_headers_unref(EtcdHeaders *h);

/* A growable byte buffer for replies. */
typedef struct EtcdBuffer {
        char *data;
        size_t size;
        size_t allocated;
} EtcdBuffer;

/* Append, keeping a NUL after the data. Returns 0, -ENOMEM or -EFBIG above max (0 =
 * ETCD_MAX_REPLY_SIZE). */
int etcd_buffer_append(EtcdBuffer *b, const void *p, size_t n, size_t max);
void etcd_buffer_done(EtcdBuffer *b);

/* CURLOPT_PRIVATE points to an EtcdCall or an EtcdWatch; both begin with this tag. */
typedef enum EtcdTransferType {
        ETCD_TRANSFER_CALL = 0x43414c4c,
        ETCD_TRANSFER_WATCH = 0x57415443,
} EtcdTransferType;

typedef struct EtcdCallOptions {
        uint64_t timeout_usec;          /* 0 = the client's request timeout */
        int pin_endpoint;               /* >= 0: only this endpoint, no fail-over; -1: fail over */
        bool no_auth;                   /* the authenticate call itself */
        size_t max_reply_size;          /* 0 = ETCD_MAX_REPLY_SIZE */
} EtcdCallOptions;

#define ETCD_CALL_OPTIONS_DEFAULT ((EtcdCallOptions) { .pin_endpoint = -1 })

struct EtcdCall {
        EtcdTransferType transfer_type;
        EtcdClient *client;
        EtcdCall *prev, *next;

        EtcdRequestKind kind;
        EtcdCallOptions options;
        char *body;
        size_t body_size;

        CURL *curl;
        EtcdHeaders *headers;
        EtcdBuffer reply;
        char curl_error[CURL_ERROR_SIZE]; /* libcurl's words for the attempt's failure */

        size_t endpoint;                /* the endpoint of the current attempt */
        unsigned n_attempts;
        uint64_t deadline;              /* CLOCK_MONOTONIC */
        int last_error;
        bool waiting_auth;
        bool auth_retried;
        bool in_callback;
        uint64_t auth_generation;       /* of the token the attempt used */
        sd_event_source *retry_source;
        sd_event_source *deadline_source; /* ends the call whatever the transfer does */

        etcd_callback_t callback;
        void *userdata;
};

struct EtcdClient {
        sd_event *event;
        CurlGlue *glue;

        char **endpoints;
        char **unix_sockets;            /* NULL, or one path per endpoint */
        size_t n_endpoints;
        size_t preferred;               /* the endpoint that answered last */
        uint64_t *endpoint_ok_usec;     /* per endpoint: when a request that needs etcd's leader last
                                         * succeeded there; spares silent watches on it their check */

        char *ca_file;
        char *cert_file;
        char *key_file;
        char *username;
        char *password;
        uint64_t request_timeout_usec;
        uint64_t connect_timeout_usec;
        uint64_t watch_check_usec;

        EtcdHeaders *headers;
        char *token;
        EtcdCall *auth_call;
        uint64_t auth_generation;       /* bumped on every new token */

        EtcdCall *calls;
        EtcdWatch *watches;
        EtcdLease *leases;

        CURL *easy_pool[ETCD_EASY_POOL_MAX];
        size_t n_easy_pool;

        uint64_t requests_sent;
        char *sync_error;
        char *error_detail;             /* the last failure that configuration explains (etcd_client_error_detail()) */
        bool log_error_details;
};

/* Start a one-shot call. body is serialized here (the reference stays with the caller). A NULL
 * callback makes a fire-and-forget call. */
int etcd_call_start(EtcdClient *c, EtcdRequestKind kind, const json_t *body, const EtcdCallOptions *options,
                    etcd_callback_t cb, void *userdata, EtcdCall **ret_call);

/* Free a call without running its callback; used by the client's destructor. */
EtcdCall *etcd_call_free(EtcdCall *call);

/* Take a reset easy handle from the pool or make one, set up for a POST of body to path on
 * endpoint i with the client's TLS, timeout and header settings (timeout_usec 0 = none).
 * Returns NULL on OOM. */
CURL *etcd_client_make_easy(EtcdClient *c, size_t i, const char *path, const char *body, size_t body_size,
                            EtcdHeaders *headers, uint64_t timeout_usec);
/* Give an easy handle back to the pool (or free it). Accepts NULL. */
void etcd_client_release_easy(EtcdClient *c, CURL *curl);

/* Transport error of a finished transfer as a negative errno. */
int etcd_curl_result_to_errno(CURLcode result);

/* Whether a failure is worth retrying on another endpoint. */
bool etcd_error_is_transient(int error);

/* Authentication (etcd-auth.c). Whether requests need a token first, and if there is none yet,
 * start getting one; the waiting calls and watches are resumed by etcd_auth_done(). */
bool etcd_auth_needed(EtcdClient *c);
int etcd_auth_start(EtcdClient *c);
/* Forget the token (etcd said it is invalid); the next request authenticates again. */
void etcd_auth_invalidate(EtcdClient *c, uint64_t generation);
/* Rebuild the shared header set for the current token. */
int etcd_client_update_headers(EtcdClient *c);

/* Resume or fail what waited for a token. */
void etcd_call_auth_done(EtcdCall *call, int error);
void etcd_watches_auth_done(EtcdClient *c, int error);

/* For the client's destructor: stop the object's transfers and timers and unlink it from c, which
 * is going away; the caller still owns the object and frees it later. */
void etcd_watch_detach(EtcdWatch *w);
void etcd_lease_keeper_detach(EtcdLease *l);

/* Route a finished transfer to its call or watch (CURLOPT_PRIVATE tells them apart). */
void etcd_call_on_finished(EtcdCall *call, CURLcode result);
void etcd_watch_on_finished(EtcdWatch *w, CURLcode result);

