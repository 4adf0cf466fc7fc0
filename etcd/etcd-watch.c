/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"

/* A watch is one streaming POST to /v3/watch; the gateway sends one JSON object per line. Lines
 * are buffered by the libcurl write callback and dispatched from a defer source, outside libcurl's
 * callbacks, so that the handler may free the watch or the client.
 *
 * Resuming: next_revision is the revision after the last event delivered (or after the creation
 * header's revision for a watch "from now"); a new stream always starts there, so after a broken
 * stream nothing is lost or repeated, and events below it are dropped should etcd resend them.
 *
 * A partitioned or frozen member leaves the stream silent, not broken. When a stream has received
 * nothing for watch_check_usec, a linearizable count-only range of the watched key is sent to the
 * same member; if that fails (time-out, refused, no leader), the stream is abandoned and resumed on
 * another member, noticing a silent partition within about two check periods. The check is skipped
 * when another request that needs etcd's leader (a lease keepalive, another watch's check)
 * succeeded on that member since the period began or another check is asking it; a failed check
 * moves every silent watch of the member. So silent watches cost at most one small request per
 * member and period, and none beside a lease keeper. */

struct EtcdWatch {
        EtcdTransferType transfer_type;
        EtcdClient *client;
        EtcdWatch *prev, *next;

        char *key;
        unsigned flags;
        int64_t next_revision;          /* where the next stream starts; 0 = now */

        size_t endpoint;
        CURL *curl;
        EtcdHeaders *headers;
        char *body;
        EtcdBuffer buffer;
        long status;
        bool created;
        bool received;
        unsigned n_failures;

        bool waiting_auth;
        bool auth_retried;
        uint64_t auth_generation;

        sd_event_source *dispatch;
        sd_event_source *reconnect;
        sd_event_source *check;
        EtcdCall *check_call;
        uint64_t check_sent;

        bool stopped;
        bool in_handler;
        bool free_pending;

        etcd_watch_handler_t handler;
        void *userdata;
};

static void watch_stop_stream(EtcdWatch *w) {
        if (w->curl) {
                if (w->client) {
                        curl_glue_remove(w->client->glue, w->curl);
                        etcd_client_release_easy(w->client, w->curl);
                } else
                        curl_easy_cleanup(w->curl);
                w->curl = NULL;
        }
        w->headers = etcd_headers_unref(w->headers);
        w->body = mfree(w->body);
        etcd_buffer_done(&w->buffer);
        w->check_call = etcd_call_cancel(w->check_call);
        if (w->dispatch)
                (void) sd_event_source_set_enabled(w->dispatch, SD_EVENT_OFF);
}

/* Call the handler. Returns true if the watch must not be touched any more (freed from inside the
 * handler, or stopped). */
static bool watch_notify(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events,
                         int64_t revision) {
        w->in_handler = true;
        if (w->handler)
                w->handler(w, error, events, n_events, revision, w->userdata);
        w->in_handler = false;

        if (w->free_pending) {
                free(w);
                return true;
        }
        return w->stopped;
}

/* Report a permanent failure and stop. Returns true (see watch_notify()). */
static bool watch_fail(EtcdWatch *w, int error, int64_t revision) {
        watch_stop_stream(w);
        w->reconnect = sd_event_source_disable_unref(w->reconnect);
        w->check = sd_event_source_disable_unref(w->check);
        w->stopped = true;
        return watch_notify(w, error, NULL, 0, revision);
}

static int watch_connect(EtcdWatch *w);

static int watch_on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdWatch *w = userdata;
        int r;

        r = watch_connect(w);
        if (r < 0)
                (void) watch_fail(w, r, 0);
        return 0;
}

/* Drop the stream and start a new one, on another member if this one looks broken. */
static void watch_restart(EtcdWatch *w, bool next_endpoint) {
        EtcdClient *c = w->client;
        uint64_t pause;
        int r;

        watch_stop_stream(w);

        if (next_endpoint) {
                /* Prefer the member other calls reached last, unless it is the broken one. */
                if (c->preferred != w->endpoint)
                        w->endpoint = c->preferred;
                else
                        w->endpoint = (w->endpoint + 1) % c->n_endpoints;
        }

        w->n_failures++;
        pause = w->n_failures <= 1 ? 0 : MIN(50 * USEC_PER_MSEC << MIN(w->n_failures, 6U), 2 * USEC_PER_SEC);

        r = sd_event_source_set_time(w->reconnect, now(CLOCK_MONOTONIC) + pause);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->reconnect, SD_EVENT_ONESHOT);
        if (r < 0)
                (void) watch_fail(w, r, 0);
}

/* One line of the stream. Returns true if the watch must not be touched any more. */
static bool watch_handle_line(EtcdWatch *w, const char *line, size_t size) {
        _cleanup_(etcd_watch_message_done) EtcdWatchMessage m = {};
        size_t first = 0;
        int r;

        r = etcd_json_parse_watch_message(line, size, &m);
        if (r < 0)
                return watch_fail(w, r, 0);

        if (m.grpc_code > 0) {
                r = etcd_grpc_code_to_errno(m.grpc_code);
                if (r == -EAGAIN || (r == -EACCES && w->client->username && !w->auth_retried)) {
                        if (r == -EACCES) {
                                w->auth_retried = true;
                                etcd_auth_invalidate(w->client, w->auth_generation);
                        }
                        watch_restart(w, r == -EAGAIN);
                        return true;
                }
                return watch_fail(w, r, m.revision);
        }

        if (m.canceled) {
                if (m.compact_revision > 0)
                        return watch_fail(w, -ESTALE, m.compact_revision);
                if (m.cancel_reason && strstr(m.cancel_reason, "permission denied"))
                        return watch_fail(w, -EPERM, m.revision);
                return watch_fail(w, -ECANCELED, m.revision);
        }

        if (m.created) {
                w->created = true;
                w->n_failures = 0;
                w->auth_retried = false;
                if (w->next_revision == 0)
                        w->next_revision = m.revision + 1;
                w->client->preferred = w->endpoint;
        }

        /* Never deliver a revision twice. */
        while (first < m.n_events && m.events[first].kv.mod_revision < w->next_revision)
                first++;
        if (first == m.n_events)
                return false;

        w->next_revision = m.events[m.n_events - 1].kv.mod_revision + 1;
        return watch_notify(w, 0, m.events + first, m.n_events - first, m.revision);
}

/* Dispatch every complete line buffered. Returns true if the watch must not be touched any more. */
static bool watch_process(EtcdWatch *w) {
        char *nl;

        if (w->status != 200)
                return false;

        while (w->buffer.size > 0 && (nl = memchr(w->buffer.data, '\n', w->buffer.size))) {
                _cleanup_free_ char *line = NULL;
                size_t n = nl - w->buffer.data;

                /* The line is moved out first: the handler may stop the stream and drop the buffer. */
                line = strndup(w->buffer.data, n);
                if (!line)
                        return watch_fail(w, -ENOMEM, 0);
                memmove(w->buffer.data, nl + 1, w->buffer.size - n - 1);
                w->buffer.size -= n + 1;
                w->buffer.data[w->buffer.size] = 0;

                if (n == 0 || (n == 1 && line[0] == '\r'))
                        continue;
                if (watch_handle_line(w, line, n))
                        return true;
                if (!w->curl)
                        return true;
        }
        return false;
}

static int watch_on_dispatch(sd_event_source *s, void *userdata) {
        (void) watch_process(userdata);
        return 0;
}

static size_t watch_on_data(char *p, size_t size, size_t n, void *userdata) {
        EtcdWatch *w = userdata;

        if (w->status == 0)
                (void) curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &w->status);

        if (etcd_buffer_append(&w->buffer, p, size * n, 0) < 0)
                return 0;

        w->received = true;
        if (w->status == 200)
                (void) sd_event_source_set_enabled(w->dispatch, SD_EVENT_ONESHOT);
        return size * n;
}

void etcd_watch_on_finished(EtcdWatch *w, CURLcode result) {
        _cleanup_free_ char *message = NULL;
        int error, code = 0;

        if (w->status == 0)
                (void) curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &w->status);

        /* What arrived before the end is still valid. */
        if (watch_process(w))
                return;

        if (w->status > 0 && w->status != 200) {
                error = etcd_json_parse_error(w->buffer.data, w->buffer.size, &code, &message);
                error = error < 0 ? -EIO : etcd_grpc_code_to_errno(code);

                if (error == -EACCES && w->client->username && !w->auth_retried) {
                        w->auth_retried = true;
                        etcd_auth_invalidate(w->client, w->auth_generation);
                        watch_restart(w, false);
                        return;
                }
                if (error != -EAGAIN && error != -EIO) {
                        (void) watch_fail(w, error, 0);
                        return;
                }
        }

        /* A broken or ended stream (a member died, a time-out, "no leader"): resume elsewhere. */
        watch_restart(w, true);
}

static bool watch_check_pending(EtcdClient *c, size_t endpoint) {
        for (EtcdWatch *o = c->watches; o; o = o->next)
                if (o->check_call && o->endpoint == endpoint)
                        return true;
        return false;
}

static void watch_on_check_done(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        EtcdWatch *w = userdata;
        size_t endpoint = w->endpoint;

        w->check_call = NULL;

        if (error == 0) {
                /* Counted from its tick, so that our own next tick is not skipped. */
                c->endpoint_ok_usec[endpoint] = MAX(c->endpoint_ok_usec[endpoint], w->check_sent);
                return;
        }
        if (!etcd_error_is_transient(error))
                return;

        /* The check stood for every watch on the member: move all those that have been silent. */
        for (EtcdWatch *o = c->watches, *next; o; o = next) {
                next = o->next;
                if (o->endpoint == endpoint && o->curl && !o->received)
                        watch_restart(o, true);
        }
}

static int watch_on_check(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdWatch *w = userdata;
        EtcdClient *c = w->client;
        EtcdCallOptions options = ETCD_CALL_OPTIONS_DEFAULT;
        json_auto_t *body = NULL;
        int r;

        (void) sd_event_source_set_time(s, usec + c->watch_check_usec);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);

        if (!w->curl || w->check_call || w->received) {
                w->received = false;
                return 0;
        }

        /* Another request (a lease keepalive, another watch's check) found the member working
         * during this period, or is asking it now: one check per member and period is enough. */
        if (c->endpoint_ok_usec[w->endpoint] + c->watch_check_usec > usec ||
            watch_check_pending(c, w->endpoint))
                return 0;

        r = etcd_json_build_range(&body, &(EtcdRangeOptions) { .key = w->key, .flags = ETCD_COUNT_ONLY });
        if (r < 0)
                return 0;

        options.pin_endpoint = (int) w->endpoint;
        options.timeout_usec = MIN(c->watch_check_usec, 2 * USEC_PER_SEC);
        w->check_sent = usec;     /* the tick's time, not the loop's late run */
        (void) etcd_call_start(c, ETCD_REQUEST_RANGE, body, &options, watch_on_check_done, w, &w->check_call);
        return 0;
}

static int watch_connect(EtcdWatch *w) {
        EtcdClient *c = w->client;
        json_auto_t *body = NULL;
        int r;

        watch_stop_stream(w);

        if (etcd_auth_needed(c)) {
                w->waiting_auth = true;
                return etcd_auth_start(c);
        }

        r = etcd_json_build_watch(&body, w->key, w->flags, w->next_revision);
        if (r < 0)
                return r;
        w->body = etcd_json_dump(body);
        if (!w->body)
                return -ENOMEM;

        w->headers = etcd_headers_ref(c->headers);
        w->auth_generation = c->auth_generation;
        w->status = 0;
        w->created = false;
        w->received = false;

        w->curl = etcd_client_make_easy(c, w->endpoint, "/v3/watch", w->body, strlen(w->body), w->headers, 0);
        if (!w->curl)
                return -ENOMEM;

        if (curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, watch_on_data) != CURLE_OK ||
            curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w) != CURLE_OK ||
            curl_easy_setopt(w->curl, CURLOPT_PRIVATE, w) != CURLE_OK)
                return -EIO;

        r = curl_glue_add(c->glue, w->curl);
        if (r < 0)
                return r;

        c->requests_sent++;
        return 0;
}

void etcd_watches_auth_done(EtcdClient *c, int error) {
        EtcdWatch *w;
        int r;

        assert(c);

        for (;;) {
                for (w = c->watches; w; w = w->next)
                        if (w->waiting_auth)
                                break;
                if (!w)
                        return;

                w->waiting_auth = false;
                r = error < 0 ? error : watch_connect(w);
                if (r < 0)
                        (void) watch_fail(w, r, 0);
        }
}

int etcd_watch_new(EtcdWatch **ret, EtcdClient *c, const char *key, unsigned flags, int64_t start_revision,
                   etcd_watch_handler_t handler, void *userdata) {
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
        int r;

        assert(ret);
        assert(c);

        if (!key || start_revision < 0 || (flags & ~(ETCD_PREFIX | ETCD_PREV_KV)))
                return -EINVAL;

        w = new0(EtcdWatch, 1);
        if (!w)
                return -ENOMEM;

        w->transfer_type = ETCD_TRANSFER_WATCH;
        w->flags = flags;
        w->next_revision = start_revision;
        w->handler = handler;
        w->userdata = userdata;
        w->endpoint = c->preferred;

        w->key = strdup(key);
        if (!w->key)
                return -ENOMEM;

        w->client = c;
        w->next = c->watches;
        if (c->watches)
                c->watches->prev = w;
        c->watches = w;

        r = sd_event_add_defer(c->event, &w->dispatch, watch_on_dispatch, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(w->dispatch, SD_EVENT_OFF);
        (void) sd_event_source_set_description(w->dispatch, "etcd-watch-dispatch");

        r = sd_event_add_time(c->event, &w->reconnect, CLOCK_MONOTONIC, 0, 1, watch_on_reconnect, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(w->reconnect, SD_EVENT_OFF);
        (void) sd_event_source_set_description(w->reconnect, "etcd-watch-reconnect");

        r = sd_event_add_time(c->event, &w->check, CLOCK_MONOTONIC, now(CLOCK_MONOTONIC) + c->watch_check_usec, 0,
                              watch_on_check, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(w->check, "etcd-watch-check");

        r = watch_connect(w);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(w);
        return 0;
}

void etcd_watch_detach(EtcdWatch *w) {
        EtcdClient *c;

        if (!w || !w->client)
                return;
        c = w->client;

        watch_stop_stream(w);
        w->dispatch = sd_event_source_disable_unref(w->dispatch);
        w->reconnect = sd_event_source_disable_unref(w->reconnect);
        w->check = sd_event_source_disable_unref(w->check);

        if (w->prev)
                w->prev->next = w->next;
        else if (c->watches == w)
                c->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->prev = w->next = NULL;
        w->client = NULL;
}

EtcdWatch *etcd_watch_free(EtcdWatch *w) {
        if (!w)
                return NULL;

        etcd_watch_detach(w);
        w->key = mfree(w->key);

        /* Freed from its own handler: the dispatcher frees it when the handler returns. */
        if (w->in_handler) {
                w->free_pending = true;
                w->stopped = true;
                return NULL;
        }
        return mfree(w);
}

const char *etcd_watch_current_endpoint(EtcdWatch *w) {
        assert(w);

        if (!w->client)
                return NULL;
        return w->client->endpoints[w->endpoint];
}
