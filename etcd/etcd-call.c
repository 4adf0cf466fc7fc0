/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"
#include "log.h"

static void call_unlink(EtcdCall *call) {
        EtcdClient *c = call->client;

        if (!c)
                return;

        if (call->prev)
                call->prev->next = call->next;
        else if (c->calls == call)
                c->calls = call->next;
        if (call->next)
                call->next->prev = call->prev;
        call->prev = call->next = NULL;
}

/* Stop the current attempt and give its resources back; the call object itself stays. */
static void call_stop_transfer(EtcdCall *call) {
        if (call->curl) {
                if (call->client) {
                        curl_glue_remove(call->client->glue, call->curl);
                        etcd_client_release_easy(call->client, call->curl);
                } else
                        curl_easy_cleanup(call->curl);
                call->curl = NULL;
        }
        call->headers = etcd_headers_unref(call->headers);
        call->retry_source = sd_event_source_disable_unref(call->retry_source);
        etcd_buffer_done(&call->reply);
}

EtcdCall *etcd_call_free(EtcdCall *call) {
        if (!call)
                return NULL;

        call_stop_transfer(call);
        call->deadline_source = sd_event_source_disable_unref(call->deadline_source);
        if (call->client && call->client->auth_call == call)
                call->client->auth_call = NULL;
        call_unlink(call);
        free(call->body);
        return mfree(call);
}

EtcdCall *etcd_call_cancel(EtcdCall *call) {
        if (!call || call->in_callback)
                return NULL;

        /* Cancelling the authentication would strand the calls waiting for it. */
        if (call->client && call->client->auth_call == call) {
                call->callback = NULL;
                return NULL;
        }

        return etcd_call_free(call);
}

static size_t call_on_data(char *p, size_t size, size_t n, void *userdata) {
        EtcdCall *call = userdata;

        if (etcd_buffer_append(&call->reply, p, size * n, call->options.max_reply_size) < 0)
                return 0;
        return size * n;
}

/* Run the callback once and free the call. The call is unlinked and its transfer gone first, so
 * the callback may do anything with the client, even free it. */
static void call_complete(EtcdCall *call, int error, const EtcdResponse *response) {
        EtcdClient *c = call->client;

        call_stop_transfer(call);
        call->deadline_source = sd_event_source_disable_unref(call->deadline_source);
        if (c && c->auth_call == call)
                c->auth_call = NULL;
        call_unlink(call);
        call->client = NULL;

        if (call->callback) {
                call->in_callback = true;
                call->callback(c, error, response, call->userdata);
        }

        free(call->body);
        free(call);
}

static int call_attempt(EtcdCall *call);

/* The request timeout, enforced here rather than trusted to libcurl's timers: whatever state the
 * call is in (a transfer libcurl never finishes, a pause before a retry, waiting for a token),
 * the callback runs by then. libcurl's own time-out for the attempt is given a moment to report
 * first, so its error is kept when it comes. */
static int call_on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdCall *call = userdata;
        EtcdClient *c = call->client;

        /* A transfer still under way: the next call had better start elsewhere. */
        if (call->curl && call->options.pin_endpoint < 0 && c->preferred == call->endpoint)
                c->preferred = (call->endpoint + 1) % c->n_endpoints;

        call_complete(call, -ETIMEDOUT, NULL);
        return 0;
}

static int call_on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdCall *call = userdata;
        int r;

        call->retry_source = sd_event_source_disable_unref(call->retry_source);

        r = call_attempt(call);
        if (r < 0)
                call_complete(call, r, NULL);
        return 0;
}

static int call_attempt(EtcdCall *call) {
        EtcdClient *c = call->client;
        usec_t t, remaining, timeout;
        size_t n, left;
        int r;

        if (!call->options.no_auth && etcd_auth_needed(c)) {
                call->waiting_auth = true;
                return etcd_auth_start(c);
        }

        t = now(CLOCK_MONOTONIC);
        if (t >= call->deadline)
                return call->last_error ?: -ETIMEDOUT;
        remaining = call->deadline - t;

        /* Share what is left of the budget between the endpoints not yet tried in this round, so
         * that a silent endpoint cannot eat all of it. */
        n = call->options.pin_endpoint >= 0 ? 1 : c->n_endpoints;
        left = n - call->n_attempts % n;
        timeout = left > 1 ? MAX(remaining / left, ETCD_MIN_ATTEMPT_USEC) : remaining;
        timeout = MIN(timeout, remaining);

        etcd_buffer_done(&call->reply);
        call->headers = etcd_headers_ref(c->headers);
        call->auth_generation = c->auth_generation;

        call->curl = etcd_client_make_easy(c, call->endpoint, etcd_request_kind_to_path(call->kind),
                                           call->body, call->body_size, call->headers, timeout);
        if (!call->curl)
                return -ENOMEM;

        call->curl_error[0] = 0;
        if (curl_easy_setopt(call->curl, CURLOPT_WRITEFUNCTION, call_on_data) != CURLE_OK ||
            curl_easy_setopt(call->curl, CURLOPT_WRITEDATA, call) != CURLE_OK ||
            curl_easy_setopt(call->curl, CURLOPT_ERRORBUFFER, call->curl_error) != CURLE_OK ||
            curl_easy_setopt(call->curl, CURLOPT_PRIVATE, call) != CURLE_OK)
                return -EIO;

        r = curl_glue_add(c->glue, call->curl);
        if (r < 0)
                return r;

        call->n_attempts++;
        c->requests_sent++;
        return 0;
}

/* Try again, on the next endpoint unless pinned, after a pause once every endpoint failed in
 * this round. Returns 0 when a retry is under way, a negative errno when it is time to give up. */
static int call_retry(EtcdCall *call, int error) {
        EtcdClient *c = call->client;
        usec_t t, pause;
        size_t n;
        int r;

        call->last_error = error;
        call_stop_transfer(call);

        t = now(CLOCK_MONOTONIC);
        if (t >= call->deadline || call->options.pin_endpoint >= 0)
                return error;

        n = c->n_endpoints;
        call->endpoint = (call->endpoint + 1) % n;

        if (call->n_attempts % n != 0)
                return call_attempt(call);

        pause = MIN(100 * USEC_PER_MSEC * (call->n_attempts / n), USEC_PER_SEC);
        if (t + pause >= call->deadline)
                return error;

        r = sd_event_add_time(c->event, &call->retry_source, CLOCK_MONOTONIC, t + pause, 1, call_on_retry,
                              call);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(call->retry_source, "etcd-call-retry");
        return 0;
}

/* Whether sending the request twice is harmless. */
static bool call_is_repeatable(const EtcdCall *call) {
        return call->kind == ETCD_REQUEST_RANGE || call->kind == ETCD_REQUEST_LEASE_KEEPALIVE ||
               call->kind == ETCD_REQUEST_LEASE_TIME_TO_LIVE || call->kind == ETCD_REQUEST_AUTHENTICATE;
}

/* Whether a failed attempt certainly did not reach etcd: then even a write may be sent again.
 * A write that may have been applied (time-out or reset after sending, or etcd's own "unavailable",
 * which covers "request timed out") is not retried: the caller gets the error and decides, as
 * etcd's own client does. "No leader" is refused before anything is proposed. */
static bool call_attempt_unsent(EtcdCall *call, CURLcode result, const EtcdResponse *response) {
        curl_off_t sent = 0;
        long request_size = 0;

        if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST)
                return true;
        if (result != CURLE_OK) {
                if (curl_easy_getinfo(call->curl, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK &&
                    curl_easy_getinfo(call->curl, CURLINFO_REQUEST_SIZE, &request_size) == CURLE_OK)
                        return sent == 0 && request_size == 0;
                return false;
        }
        return response && response->error_message && strstr(response->error_message, "no leader");
}

/* Whether the server behind the http:// endpoint i completes a TLS handshake. A plain request to
 * etcd's TLS listener is cut off without an answer, which looks like any reset; asking the server
 * in its own language tells the two apart. Blocking, at most ETCD_TLS_PROBE_MS, and only after
 * such a reset. */
#define ETCD_TLS_PROBE_MS 1000L
static bool endpoint_speaks_tls(EtcdClient *c, size_t i) {
        _cleanup_free_ char *url = NULL;
        CURL *curl;
        bool ok;

        if (asprintf(&url, "https://%s", c->endpoints[i] + strlen("http://")) < 0)
                return false;
        curl = curl_easy_init();
        if (!curl)
                return false;
        ok = curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ETCD_TLS_PROBE_MS) == CURLE_OK &&
             (!c->unix_sockets || curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->unix_sockets[i]) == CURLE_OK) &&
             (!c->cert_file || (curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file) == CURLE_OK &&
                                curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key_file) == CURLE_OK)) &&
             curl_easy_perform(curl) == CURLE_OK;
        curl_easy_cleanup(curl);
        return ok;
}

static bool reply_contains(const EtcdBuffer *b, const char *needle) {
        return b->data && memmem(b->data, b->size, needle, strlen(needle));
}

/* A failure that the configuration explains rather than the network: the endpoint's scheme does not
 * match what the server speaks, or the user and password do not match etcd's authentication. Sets
 * the client's error detail to one line naming the endpoint and what is wrong, and returns the
 * error to report (never a transient one: retrying cannot help). Returns error unchanged, and the
 * detail untouched, for any other failure. */
static int call_explain(EtcdCall *call, int error, CURLcode result, long status, const EtcdResponse *response) {
        EtcdClient *c = call->client;
        const char *ep = c->endpoints[call->endpoint], *m = response ? response->error_message : NULL;
        char *detail = NULL;
        size_t n = strlen(call->curl_error);
        int r = 0;

        while (n > 0 && call->curl_error[n - 1] == ' ')    /* libcurl's OpenSSL messages end in one */
                call->curl_error[--n] = 0;
        if (error == -EKEYREJECTED && startswith(ep, "https://") &&
            (strstr(call->curl_error, "wrong version number") || strstr(call->curl_error, "packet length too long") ||
             strstr(call->curl_error, "Connection reset by peer") || strstr(call->curl_error, "SSL_ERROR_SYSCALL") ||
             strstr(call->curl_error, "unexpected eof")))
                /* A TLS client hello sent to a plain server: a plain etcd cuts the connection (its
                 * listener finds no HTTP request), another HTTP server answers "HTTP/1.1 400", which
                 * OpenSSL reads as a record of a wrong version. */
                r = asprintf(&detail, "%s: the server does not speak TLS (%s in the handshake): a plain-HTTP etcd "
                             "wants http://, or turn TLS on in etcd", ep, call->curl_error);
        else if (error == -EKEYREJECTED)
                r = asprintf(&detail, "%s: TLS failed: %s", ep, call->curl_error[0] ? call->curl_error : curl_easy_strerror(result));
        else if ((status == 400 && reply_contains(&call->reply, "HTTP request to an HTTPS server")) ||
                 (error == -ECONNRESET && status == 0 && call->reply.size == 0 && startswith(ep, "http://") &&
                  endpoint_speaks_tls(c, call->endpoint)))
                r = asprintf(&detail, "%s: the server speaks HTTPS, but the endpoint says http: "
                             "use https:// with the cluster's CA file", ep);
        else if (call->kind == ETCD_REQUEST_AUTHENTICATE && m && strstr(m, "authentication is not enabled"))
                r = asprintf(&detail, "%s: etcd has authentication turned off, but user \"%s\" and a password "
                             "were given: give none", ep, c->username);
        else if (call->kind == ETCD_REQUEST_AUTHENTICATE && m && error == -EINVAL)
                r = asprintf(&detail, "%s: etcd refuses user \"%s\": %s", ep, c->username, m);
        else if (!c->username && m && strstr(m, "user name is empty"))
                r = asprintf(&detail, "%s: etcd has authentication turned on: give an etcd user and password", ep);
        else
                return error;
        if (r < 0)
                return -ENOMEM;
        /* A daemon retries: say it once per change, not once per attempt. */
        if (c->log_error_details && !streq_ptr(c->error_detail, detail))
                log_error("etcd: %s", detail);
        free_and_replace(c->error_detail, detail);
        return etcd_error_is_transient(error) ? -EPROTO : error;
}

void etcd_call_on_finished(EtcdCall *call, CURLcode result) {
        _cleanup_(etcd_response_done) EtcdResponse response = {};
        EtcdClient *c = call->client;
        bool have_response = false;
        long status = 0;
        int error, r;

        error = etcd_curl_result_to_errno(result);
        if (result == CURLE_WRITE_ERROR)
                error = -EFBIG;

        if (error == 0) {
                (void) curl_easy_getinfo(call->curl, CURLINFO_RESPONSE_CODE, &status);

                if (status == 200 && call->kind == ETCD_REQUEST_AUTHENTICATE) {
                        _cleanup_free_ char *token = NULL;

                        error = etcd_json_parse_token(call->reply.data, call->reply.size, &token);
                        if (error == 0) {
                                free_and_replace(c->token, token);
                                c->auth_generation++;
                                error = etcd_client_update_headers(c);
                        }
                } else if (status == 200) {
                        error = etcd_json_parse_response(call->kind, call->reply.data, call->reply.size,
                                                         &response);
                        if (error == 0) {
                                have_response = true;
                                if (response.grpc_code > 0)
                                        error = etcd_grpc_code_to_errno(response.grpc_code);
                        }
                } else {
                        error = etcd_json_parse_error(call->reply.data, call->reply.size, &response.grpc_code,
                                                      &response.error_message);
                        if (error == 0) {
                                have_response = true;
                                error = etcd_grpc_code_to_errno(response.grpc_code);
                        } else if (status >= 500)
                                error = -EIO;
                }
        }

        if (error < 0)
                error = call_explain(call, error, result, status, have_response ? &response : NULL);
        else
                c->error_detail = mfree(c->error_detail);

        /* An answer that is not "unavailable" means this endpoint works: prefer it from now on. */
        if (status > 0 && error != -EAGAIN && error != -EIO)
                c->preferred = call->endpoint;
        /* Anything but a range went through etcd's leader (ranges may be serializable): the member
         * is reachable and part of a quorum now, which is what a watch check would ask. */
        if (error == 0 && call->kind != ETCD_REQUEST_RANGE)
                c->endpoint_ok_usec[call->endpoint] = now(CLOCK_MONOTONIC);

        if (error == -EACCES && c->username && !call->options.no_auth && !call->auth_retried) {
                call->auth_retried = true;
                etcd_auth_invalidate(c, call->auth_generation);
                call_stop_transfer(call);
                r = call_attempt(call);
                if (r >= 0)
                        return;
                error = r;
        } else if (etcd_error_is_transient(error)) {
                /* Whatever happens next, new calls should start elsewhere. */
                if (c->preferred == call->endpoint && call->options.pin_endpoint < 0)
                        c->preferred = (call->endpoint + 1) % c->n_endpoints;

                if (call_is_repeatable(call) || call_attempt_unsent(call, result, &response)) {
                        r = call_retry(call, error);
                        if (r >= 0)
                                return;
                        error = r;
                }
        }

        call_complete(call, error, have_response ? &response : NULL);
}

void etcd_call_auth_done(EtcdCall *call, int error) {
        int r;

        call->waiting_auth = false;

        if (error < 0) {
                call_complete(call, error, NULL);
                return;
        }

        r = call_attempt(call);
        if (r < 0)
                call_complete(call, r, NULL);
}

int etcd_call_start(EtcdClient *c, EtcdRequestKind kind, const json_t *body, const EtcdCallOptions *options,
                    etcd_callback_t cb, void *userdata, EtcdCall **ret_call) {
        EtcdCall *call;
        int r;

        assert(c);
        assert(body);

        call = new0(EtcdCall, 1);
        if (!call)
                return -ENOMEM;

        call->transfer_type = ETCD_TRANSFER_CALL;
        call->kind = kind;
        call->options = options ? *options : ETCD_CALL_OPTIONS_DEFAULT;
        call->callback = cb;
        call->userdata = userdata;

        call->body = etcd_json_dump(body);
        if (!call->body) {
                free(call);
                return -ENOMEM;
        }
        call->body_size = strlen(call->body);

        if (call->options.pin_endpoint >= (int) c->n_endpoints) {
                free(call->body);
                free(call);
                return -EINVAL;
        }
        call->endpoint = call->options.pin_endpoint >= 0 ? (size_t) call->options.pin_endpoint : c->preferred;
        call->deadline = now(CLOCK_MONOTONIC) + (call->options.timeout_usec ?: c->request_timeout_usec);

        call->client = c;
        call->next = c->calls;
        if (c->calls)
                c->calls->prev = call;
        c->calls = call;

        r = sd_event_add_time(c->event, &call->deadline_source, CLOCK_MONOTONIC,
                              call->deadline + ETCD_DEADLINE_GRACE_USEC, 1, call_on_deadline, call);
        if (r < 0) {
                etcd_call_free(call);
                return r;
        }
        (void) sd_event_source_set_description(call->deadline_source, "etcd-call-deadline");

        r = call_attempt(call);
        if (r < 0) {
                etcd_call_free(call);
                return r;
        }

        if (ret_call)
                *ret_call = call;
        return 0;
}
