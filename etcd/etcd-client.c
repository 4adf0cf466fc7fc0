/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"
#include "strv.h"

int etcd_buffer_append(EtcdBuffer *b, const void *p, size_t n, size_t max) {
        assert(b);

        if (b->size + n > MIN(max ?: ETCD_MAX_REPLY_SIZE, ETCD_MAX_REPLY_SIZE))
                return -EFBIG;
        if (!GREEDY_REALLOC(b->data, b->allocated, b->size + n + 1))
                return -ENOMEM;

        memcpy(b->data + b->size, p, n);
        b->size += n;
        b->data[b->size] = 0;
        return 0;
}

void etcd_buffer_done(EtcdBuffer *b) {
        assert(b);

        b->data = mfree(b->data);
        b->size = b->allocated = 0;
}

EtcdHeaders *etcd_headers_ref(EtcdHeaders *h) {
        if (h)
                h->n_ref++;
        return h;
}

EtcdHeaders *etcd_headers_unref(EtcdHeaders *h) {
        if (!h || --h->n_ref > 0)
                return NULL;

        curl_slist_free_all(h->list);
        return mfree(h);
}

int etcd_client_update_headers(EtcdClient *c) {
        _cleanup_free_ char *authorization = NULL;
        struct curl_slist *l = NULL, *t;
        EtcdHeaders *h;

        assert(c);

        /* "Expect:" stops libcurl from waiting for a 100-continue before sending big bodies. */
        l = curl_slist_append(NULL, "Content-Type: application/json");
        if (!l)
                return -ENOMEM;
        t = curl_slist_append(l, "Expect:");
        if (!t)
                goto oom;
        l = t;

        if (c->token) {
                if (asprintf(&authorization, "Authorization: %s", c->token) < 0) {
                        authorization = NULL;
                        goto oom;
                }
                t = curl_slist_append(l, authorization);
                if (!t)
                        goto oom;
                l = t;
        }

        h = new0(EtcdHeaders, 1);
        if (!h)
                goto oom;
        h->n_ref = 1;
        h->list = l;

        etcd_headers_unref(c->headers);
        c->headers = h;
        return 0;

oom:
        curl_slist_free_all(l);
        return -ENOMEM;
}

static void etcd_client_on_finished(CurlGlue *g, CURL *curl, CURLcode result, void *userdata) {
        EtcdTransferType *type = NULL;

        if (curl_easy_getinfo(curl, CURLINFO_PRIVATE, (char **) &type) != CURLE_OK || !type)
                return;

        switch (*type) {
        case ETCD_TRANSFER_CALL:
                etcd_call_on_finished((EtcdCall *) type, result);
                break;
        case ETCD_TRANSFER_WATCH:
                etcd_watch_on_finished((EtcdWatch *) type, result);
                break;
        default:
                assert_not_reached();
        }
}

int etcd_client_new(EtcdClient **ret, sd_event *event, const EtcdConfig *config) {
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        int r;

        assert(ret);
        assert(event);
        assert(config);

        if (strv_length(config->endpoints) == 0)
                return -EINVAL;
        STRV_FOREACH(e, config->endpoints)
                if (!etcd_endpoint_is_valid(*e))
                        return -EINVAL;
        if (!!config->username != !!config->password)
                return -EINVAL;
        if (!!config->cert_file != !!config->key_file)
                return -EINVAL;
        if (config->unix_sockets && strv_length(config->unix_sockets) != strv_length(config->endpoints))
                return -EINVAL;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;

        c = new0(EtcdClient, 1);
        if (!c) {
                curl_global_cleanup();
                return -ENOMEM;
        }
        c->event = sd_event_ref(event);

        c->endpoints = strv_copy(config->endpoints);
        if (!c->endpoints)
                return -ENOMEM;
        c->n_endpoints = strv_length(c->endpoints);
        if (config->unix_sockets) {
                c->unix_sockets = strv_copy(config->unix_sockets);
                if (!c->unix_sockets)
                        return -ENOMEM;
        }
        c->endpoint_ok_usec = new0(uint64_t, c->n_endpoints);
        if (!c->endpoint_ok_usec)
                return -ENOMEM;

        if ((config->ca_file && !(c->ca_file = strdup(config->ca_file))) ||
            (config->cert_file && !(c->cert_file = strdup(config->cert_file))) ||
            (config->key_file && !(c->key_file = strdup(config->key_file))) ||
            (config->username && !(c->username = strdup(config->username))) ||
            (config->password && !(c->password = strdup(config->password))))
                return -ENOMEM;

        c->request_timeout_usec = config->request_timeout_usec ?: ETCD_DEFAULT_REQUEST_TIMEOUT_USEC;
        c->log_error_details = config->log_error_details;
        c->connect_timeout_usec = config->connect_timeout_usec ?: ETCD_DEFAULT_CONNECT_TIMEOUT_USEC;
        c->watch_check_usec = config->watch_check_usec ?: ETCD_DEFAULT_WATCH_CHECK_USEC;

        r = etcd_client_update_headers(c);
        if (r < 0)
                return r;

        r = curl_glue_new(&c->glue, event, etcd_client_on_finished, c);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

EtcdClient *etcd_client_free(EtcdClient *c) {
        if (!c)
                return NULL;

        /* Watches and keepers first: they cancel their own calls. */
        while (c->watches)
                etcd_watch_detach(c->watches);
        while (c->leases)
                etcd_lease_keeper_detach(c->leases);
        while (c->calls)
                etcd_call_free(c->calls);

        for (size_t i = 0; i < c->n_easy_pool; i++)
                curl_easy_cleanup(c->easy_pool[i]);
        c->glue = curl_glue_free(c->glue);

        etcd_headers_unref(c->headers);
        strv_free(c->endpoints);
        strv_free(c->unix_sockets);
        free(c->endpoint_ok_usec);
        free(c->ca_file);
        free(c->cert_file);
        free(c->key_file);
        free(c->username);
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->password);
        free(c->token);
        free(c->sync_error);
        free(c->error_detail);
        sd_event_unref(c->event);
        curl_global_cleanup();
        return mfree(c);
}

sd_event *etcd_client_get_event(EtcdClient *c) {
        assert(c);
        return c->event;
}

const char *etcd_client_error_detail(EtcdClient *c) {
        assert(c);
        return c->error_detail;
}

const char *etcd_client_current_endpoint(EtcdClient *c) {
        assert(c);
        return c->endpoints[c->preferred];
}

uint64_t etcd_client_requests_sent(EtcdClient *c) {
        assert(c);
        return c->requests_sent;
}

CURL *etcd_client_make_easy(EtcdClient *c, size_t i, const char *path, const char *body, size_t body_size,
                            EtcdHeaders *headers, uint64_t timeout_usec) {
        _cleanup_free_ char *url = NULL;
        CURL *curl;
        bool ok;

        assert(c);
        assert(i < c->n_endpoints);

        if (asprintf(&url, "%s%s", c->endpoints[i], path) < 0)
                return NULL;

        if (c->n_easy_pool > 0)
                curl = c->easy_pool[--c->n_easy_pool];
        else {
                curl = curl_easy_init();
                if (!curl)
                        return NULL;
        }

        ok = curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 2L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_size) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers->list) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                              (long) DIV_ROUND_UP(c->connect_timeout_usec, USEC_PER_MSEC)) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) DIV_ROUND_UP(timeout_usec, USEC_PER_MSEC)) == CURLE_OK;

        if (ok && c->unix_sockets)
                ok = curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->unix_sockets[i]) == CURLE_OK;
        if (ok && c->ca_file)
                ok = curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
        if (ok && c->cert_file)
                ok = curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file) == CURLE_OK &&
                     curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key_file) == CURLE_OK;

        if (!ok) {
                etcd_client_release_easy(c, curl);
                return NULL;
        }
        return curl;
}

void etcd_client_release_easy(EtcdClient *c, CURL *curl) {
        if (!curl)
                return;

        if (c && c->n_easy_pool < ETCD_EASY_POOL_MAX) {
                curl_easy_reset(curl);
                c->easy_pool[c->n_easy_pool++] = curl;
        } else
                curl_easy_cleanup(curl);
}

int etcd_curl_result_to_errno(CURLcode result) {
        switch (result) {
        case CURLE_OK:
                return 0;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
                return -ECONNRESET;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
                return -EKEYREJECTED;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        default:
                return -EIO;
        }
}

bool etcd_error_is_transient(int error) {
        return error == -ECONNREFUSED || error == -ETIMEDOUT || error == -EHOSTUNREACH ||
               error == -ECONNRESET || error == -EAGAIN || error == -EIO;
}

int etcd_grpc_code_to_errno(int code) {
        switch (code) {
        case 3:
                return -EINVAL;
        case 4:
                return -ETIMEDOUT;
        case 5:
                return -ENOENT;
        case 7:
                return -EPERM;
        case 8:
                return -ENOSPC;
        case 9:
                return -EPROTO;
        case 11:
                return -ESTALE;
        case 14:
                return -EAGAIN;
        case 16:
                return -EACCES;
        default:
                return -EIO;
        }
}

char *etcd_prefix_end(const char *prefix) {
        char *end;
        size_t n;

        assert(prefix);

        end = strdup(prefix);
        if (!end)
                return NULL;

        for (n = strlen(end); n > 0; n--) {
                if ((unsigned char) end[n - 1] < 0xff) {
                        end[n - 1]++;
                        end[n] = 0;
                        return end;
                }
        }

        /* Only 0xff bytes: every key after the prefix, the gateway's "\0" (our ""). */
        end[0] = 0;
        return end;
}

/* ---- KV ---- */

int etcd_put(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
             unsigned flags, etcd_callback_t cb, void *userdata, EtcdCall **ret_call) {
        json_auto_t *body = NULL;
        int r;

        assert(c);

        r = etcd_json_build_put(&body, key, value, value_size, lease, flags);
        if (r < 0)
                return r;

        return etcd_call_start(c, ETCD_REQUEST_PUT, body, NULL, cb, userdata, ret_call);
}

int etcd_range(EtcdClient *c, const EtcdRangeOptions *options, etcd_callback_t cb, void *userdata,
               EtcdCall **ret_call) {
        json_auto_t *body = NULL;
        int r;

        assert(c);

        r = etcd_json_build_range(&body, options);
        if (r < 0)
                return r;

        EtcdCallOptions call_options = ETCD_CALL_OPTIONS_DEFAULT;
        call_options.max_reply_size = options->max_reply_size;
        return etcd_call_start(c, ETCD_REQUEST_RANGE, body, &call_options, cb, userdata, ret_call);
}

int etcd_delete(EtcdClient *c, const char *key, unsigned flags, etcd_callback_t cb, void *userdata,
                EtcdCall **ret_call) {
        json_auto_t *body = NULL;
        int r;

        assert(c);

        r = etcd_json_build_delete(&body, key, flags);
        if (r < 0)
                return r;

        return etcd_call_start(c, ETCD_REQUEST_DELETE, body, NULL, cb, userdata, ret_call);
}
