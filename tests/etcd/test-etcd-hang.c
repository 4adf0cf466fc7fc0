/* SPDX-License-Identifier: Apache-2.0 */

/* A request must always end. The cases that used to hang, against a "silent" endpoint: a socket
 * that listens on 127.0.0.1 but never accepts, so a request connects, is sent, and then only
 * libcurl's timer can end it.
 *
 * - The glue armed libcurl's timer from sd_event_now(), the start of the last loop iteration, so
 *   a timeout asked for while that timestamp was stale (a handle removed after time spent outside
 *   the loop) fired early. libcurl 7.88 asks again then; one that re-arms only when its next
 *   timeout changed would leave the loop in epoll_wait(-1). Checked at the glue and the client.
 * - When the glue could not watch a socket (sd-event refuses a second source for an fd, which is
 *   what a source left behind for a closed and reused socket number leads to), its socket callback
 *   failed, libcurl aborted the transfers, and the glue, seeing the error, returned before
 *   reading libcurl's "done" messages: nothing was ever delivered and, the multi handle being
 *   dead, libcurl never armed a timer again. The reported hang, with etcd healthy.
 * - The client had no deadline of its own: a transfer libcurl lost was waited for forever.
 *
 * Each wait below is bounded (a bound on waiting, not a figure under test). */

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "curl-glue.h"
#include "etcd-internal.h"
#include "etcd-test.h"

#define STALE_USEC (400 * USEC_PER_MSEC)

/* A TCP port on 127.0.0.1 that completes handshakes (the kernel's backlog) but never answers. */
static int silent_listener(int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof(sa);
        int fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
            getsockname(fd, (struct sockaddr *) &sa, &l) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

typedef struct GlueResult {
        CURL *curl;
        CURLcode result;
        bool done;
} GlueResult;

static void on_glue_finished(CurlGlue *g, CURL *curl, CURLcode result, void *userdata) {
        GlueResult *results = userdata;

        for (size_t i = 0; i < 2; i++)
                if (results[i].curl == curl) {
                        results[i].result = result;
                        results[i].done = true;
                }
}

static CURL *silent_easy(const char *url, long timeout_ms) {
        CURL *curl = curl_easy_init();

        assert_se(curl);
        assert_se(curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK);
        assert_se(curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}") == CURLE_OK);
        assert_se(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK);
        assert_se(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK);
        return curl;
}

/* The glue alone: two transfers wait on their time-outs; the earlier one is removed after a
 * stale stretch outside the loop, which makes libcurl re-arm the timer for the later one. */
static void test_glue_stale_timer(const char *url) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(curl_glue_freep) CurlGlue *g = NULL;
        GlueResult results[2] = {};

        assert_se(sd_event_new(&e) >= 0);
        assert_se(curl_glue_new(&g, e, on_glue_finished, results) >= 0);

        results[0].curl = silent_easy(url, 3000);
        results[1].curl = silent_easy(url, 1500);
        ok(curl_glue_add(g, results[0].curl) == 0 && curl_glue_add(g, results[1].curl) == 0,
           "glue: two transfers to a silent endpoint started");

        test_run_for(e, 200 * USEC_PER_MSEC);
        ok(!results[0].done && !results[1].done, "glue: both wait for an answer");

        usleep(STALE_USEC);
        curl_glue_remove(g, results[1].curl);

        ok(test_run_until(e, &results[0].done, 20 * USEC_PER_SEC),
           "glue: the remaining transfer ends after a timer re-armed from a stale loop timestamp");
        is_int(results[0].result, CURLE_OPERATION_TIMEDOUT, "glue: it ended by its own time-out");

        curl_easy_cleanup(results[0].curl);
        curl_easy_cleanup(results[1].curl);
}

static int on_foreign_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return 0;
}

/* Opens the transfer's socket and has another source of the loop watch it first, so that the
 * glue cannot add its own (sd-event refuses a second source for an fd). */
static curl_socket_t open_watched_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *a) {
        sd_event_source **foreign = userdata;
        sd_event *e = sd_event_source_get_event(foreign[0]);
        int fd;

        fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
        if (fd >= 0 && sd_event_add_io(e, &foreign[1], fd, EPOLLIN, on_foreign_io, NULL) < 0)
                foreign[1] = NULL;
        return fd;
}

/* The glue cannot watch a transfer's socket: the transfer must still end (libcurl is told it
 * failed, which aborts the transfers of the multi handle) instead of waiting with no timer. */
static void test_glue_unwatchable(const char *url) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(curl_glue_freep) CurlGlue *g = NULL;
        sd_event_source *foreign[2] = {};
        GlueResult results[2] = {};

        assert_se(sd_event_new(&e) >= 0);
        assert_se(curl_glue_new(&g, e, on_glue_finished, results) >= 0);
        assert_se(sd_event_add_defer(e, &foreign[0], NULL, NULL) >= 0);
        assert_se(sd_event_source_set_enabled(foreign[0], SD_EVENT_OFF) >= 0);

        results[0].curl = silent_easy(url, 1000);
        assert_se(curl_easy_setopt(results[0].curl, CURLOPT_OPENSOCKETFUNCTION, open_watched_socket) == CURLE_OK);
        assert_se(curl_easy_setopt(results[0].curl, CURLOPT_OPENSOCKETDATA, (void *) foreign) == CURLE_OK);
        ok(curl_glue_add(g, results[0].curl) == 0, "unwatchable: transfer started");

        ok(test_run_until(e, &results[0].done, 20 * USEC_PER_SEC), "unwatchable: the transfer ended");
        ok(results[0].result != CURLE_OK, "unwatchable: with an error (%d)", results[0].result);
        ok(foreign[1], "unwatchable: its socket was watched by another source");

        /* The multi handle works again once the aborted transfers are out. */
        foreign[1] = sd_event_source_disable_unref(foreign[1]);
        results[1].curl = silent_easy(url, 500);
        ok(curl_glue_add(g, results[1].curl) == 0, "unwatchable: a new transfer can be added");
        ok(test_run_until(e, &results[1].done, 20 * USEC_PER_SEC), "unwatchable: it ends");
        is_int(results[1].result, CURLE_OPERATION_TIMEDOUT, "unwatchable: by its own time-out");

        g = curl_glue_free(g);
        sd_event_source_disable_unref(foreign[0]);
        curl_easy_cleanup(results[0].curl);
        curl_easy_cleanup(results[1].curl);
}

typedef struct CallResult {
        bool done;
        int error;
        bool response;
} CallResult;

static void on_call_done(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        CallResult *r = userdata;

        r->done = true;
        r->error = error;
        r->response = !!response;
}

static int range_call(EtcdClient *c, CallResult *result, EtcdCall **ret_call) {
        return etcd_range(c, &(EtcdRangeOptions) { .key = "hang" }, on_call_done, result, ret_call);
}

/* The same through the client: the earlier call is cancelled after a stale stretch. */
static void test_client_stale_cancel(sd_event *e, char **endpoints) {
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        EtcdConfig config = { .endpoints = endpoints, .request_timeout_usec = 1500 * USEC_PER_MSEC };
        CallResult first = {}, second = {};
        EtcdCall *call = NULL;

        assert_se(etcd_client_new(&c, e, &config) >= 0);

        ok(range_call(c, &first, &call) == 0, "client: first call to a silent endpoint started");
        test_run_for(e, 200 * USEC_PER_MSEC);
        ok(range_call(c, &second, NULL) == 0, "client: second call started");
        test_run_for(e, 200 * USEC_PER_MSEC);
        ok(!first.done && !second.done, "client: both wait for an answer");

        usleep(STALE_USEC);
        etcd_call_cancel(call);

        ok(test_run_until(e, &second.done, 20 * USEC_PER_SEC),
           "client: the remaining call ends after the other was cancelled from a stale loop");
        is_int(second.error, -ETIMEDOUT, "client: with -ETIMEDOUT");
        ok(!first.done, "client: the cancelled call's callback did not run");
}

/* The client's own deadline: libcurl loses the transfer (taken out of the multi handle behind
 * the call's back), and the callback still runs, with -ETIMEDOUT, once the timeout passed. */
static void test_client_deadline(sd_event *e, char **endpoints) {
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        EtcdConfig config = { .endpoints = endpoints, .request_timeout_usec = 800 * USEC_PER_MSEC };
        CallResult result = {};
        EtcdCall *call = NULL;

        assert_se(etcd_client_new(&c, e, &config) >= 0);

        ok(range_call(c, &result, &call) == 0, "deadline: call started");
        test_run_for(e, 100 * USEC_PER_MSEC);
        ok(!result.done && call->curl, "deadline: its transfer is under way");

        curl_glue_remove(c->glue, call->curl);

        ok(test_run_until(e, &result.done, 20 * USEC_PER_SEC), "deadline: the callback ran anyway");
        is_int(result.error, -ETIMEDOUT, "deadline: with -ETIMEDOUT");
        ok(!result.response, "deadline: without a response");
}

/* A call whose deadline passes while it waits before a retry (every endpoint refused) ends too. */
static void test_client_refused(sd_event *e) {
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_free_ char *url = NULL;
        CallResult result = {};
        int fd, port;

        /* A port that was free a moment ago: connections are refused. */
        fd = silent_listener(&port);
        assert_se(fd >= 0);
        close(fd);
        assert_se(asprintf(&url, "http://127.0.0.1:%d", port) >= 0);

        EtcdConfig config = { .endpoints = STRV_MAKE(url), .request_timeout_usec = 700 * USEC_PER_MSEC };
        assert_se(etcd_client_new(&c, e, &config) >= 0);

        ok(range_call(c, &result, NULL) == 0, "refused: call started");
        ok(test_run_until(e, &result.done, 20 * USEC_PER_SEC), "refused: the callback ran");
        ok(result.error == -ECONNREFUSED || result.error == -ETIMEDOUT,
           "refused: with %d (refused or timed out)", result.error);
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *url = NULL, *endpoint = NULL;
        int fd, port;

        fd = silent_listener(&port);
        if (fd < 0)
                bail_out("cannot listen on 127.0.0.1: %s", strerror(-fd));
        assert_se(asprintf(&endpoint, "http://127.0.0.1:%d", port) >= 0);
        assert_se(asprintf(&url, "%s/v3/kv/range", endpoint) >= 0);
        assert_se(sd_event_new(&e) >= 0);

        test_glue_stale_timer(url);
        test_glue_unwatchable(url);
        test_client_stale_cancel(e, STRV_MAKE(endpoint));
        test_client_deadline(e, STRV_MAKE(endpoint));
        test_client_refused(e);

        close(fd);
        return done_testing();
}
