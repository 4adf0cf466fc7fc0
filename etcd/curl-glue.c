/* SPDX-License-Identifier: Apache-2.0 */

#include <sys/epoll.h>
#include <sys/stat.h>

#include "curl-glue.h"
#include "time-util.h"

/* One watched socket: its I/O source and the identity of the socket it was made for, since
 * libcurl names sockets by number and a number can come back for a new socket. */
typedef struct CurlGlueSocket CurlGlueSocket;
struct CurlGlueSocket {
        CurlGlue *glue;
        sd_event_source *io;
        dev_t dev;
        ino_t ino;
        CurlGlueSocket *prev, *next;
};

struct CurlGlue {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *defer;
        CurlGlueSocket *sockets;
        curl_glue_finished_t on_finished;
        void *userdata;
};

static void curl_glue_schedule_finished(CurlGlue *g) {
        if (sd_event_get_state(g->event) == SD_EVENT_FINISHED)
                return;
        (void) sd_event_source_set_enabled(g->defer, SD_EVENT_ONESHOT);
}

static int curl_glue_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlGlue *g = userdata;
        int action = 0, k = 0;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        /* An error is not returned to sd-event, which would turn this source off for good and
         * leave the socket unwatched; what libcurl finished is collected either way. */
        (void) curl_multi_socket_action(g->multi, fd, action, &k);
        curl_glue_schedule_finished(g);
        return 0;
}

static CurlGlueSocket *curl_glue_socket_free(CurlGlueSocket *sock) {
        if (!sock)
                return NULL;

        sd_event_source_disable_unref(sock->io);
        if (sock->prev)
                sock->prev->next = sock->next;
        else if (sock->glue->sockets == sock)
                sock->glue->sockets = sock->next;
        if (sock->next)
                sock->next->prev = sock->prev;
        return mfree(sock);
}

static int curl_glue_socket_new(CurlGlue *g, curl_socket_t fd, const struct stat *st, uint32_t events,
                                CurlGlueSocket **ret) {
        CurlGlueSocket *sock;
        int r;

        sock = new0(CurlGlueSocket, 1);
        if (!sock)
                return -ENOMEM;

        r = sd_event_add_io(g->event, &sock->io, fd, events, curl_glue_on_io, g);
        if (r < 0) {
                free(sock);
                return r;
        }
        (void) sd_event_source_set_description(sock->io, "curl-io");

        sock->glue = g;
        sock->dev = st->st_dev;
        sock->ino = st->st_ino;
        sock->next = g->sockets;
        if (g->sockets)
                g->sockets->prev = sock;
        g->sockets = sock;

        *ret = sock;
        return 0;
}

/* A source registered for a socket that has since been closed: the kernel dropped it from epoll
 * when the socket closed, so a new socket under the same number would never be reported. */
static CurlGlueSocket *curl_glue_socket_find_stale(CurlGlue *g, curl_socket_t fd) {
        for (CurlGlueSocket *sock = g->sockets; sock; sock = sock->next)
                if (sd_event_source_get_io_fd(sock->io) == fd)
                        return sock;
        return NULL;
}

static int curl_glue_socket_callback(CURL *curl, curl_socket_t fd, int action, void *userdata,
                                     void *socketp) {
        CurlGlue *g = userdata;
        CurlGlueSocket *sock = socketp;
        uint32_t events = 0;
        struct stat st;

        if (action == CURL_POLL_REMOVE) {
                if (sock) {
                        (void) curl_multi_assign(g->multi, fd, NULL);
                        curl_glue_socket_free(sock);
                }
                return 0;
        }

        if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
                events |= EPOLLOUT;

        if (fstat(fd, &st) < 0)
                return -1;

        /* The number names another socket than the one the source was made for: start over. */
        if (sock && (sock->dev != st.st_dev || sock->ino != st.st_ino))
                sock = curl_glue_socket_free(sock);
        if (!sock)
                curl_glue_socket_free(curl_glue_socket_find_stale(g, fd));

        if (sock) {
                if (sd_event_source_set_io_events(sock->io, events) < 0 ||
                    sd_event_source_set_enabled(sock->io, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }

        if (curl_glue_socket_new(g, fd, &st, events, &sock) < 0)
                return -1;
        if (curl_multi_assign(g->multi, fd, sock) != CURLM_OK) {
                curl_glue_socket_free(sock);
                return -1;
        }
        return 0;
}

static int curl_glue_arm_timer(CurlGlue *g, long timeout_ms) {
        int r;

        /* now(), not sd_event_now(): that is when the current loop iteration began, and a deadline
         * computed from it lands early by that much. */
        r = sd_event_source_set_time(g->timer, now(CLOCK_MONOTONIC) + (usec_t) timeout_ms * USEC_PER_MSEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT);
}

static int curl_glue_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlGlue *g = userdata;
        long timeout_ms = -1;
        int enabled = SD_EVENT_OFF, k = 0;

        (void) curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &k);
        curl_glue_schedule_finished(g);

        /* The one-shot timer is spent. libcurl re-arms it through the timer callback only when its
         * next timeout changed, so should it still be waiting for the same one (this timer came
         * early), nothing would ever wake it again: ask it. Not sooner than in a few ms, so that a
         * timeout libcurl keeps due without acting on it cannot make the loop spin. */
        (void) sd_event_source_get_enabled(g->timer, &enabled);
        if (enabled == SD_EVENT_OFF && curl_multi_timeout(g->multi, &timeout_ms) == CURLM_OK &&
            timeout_ms >= 0)
                (void) curl_glue_arm_timer(g, MAX(timeout_ms, 5L));
        return 0;
}

static int curl_glue_timer_callback(CURLM *multi, long timeout_ms, void *userdata) {
        CurlGlue *g = userdata;

        /* 0 means "as soon as possible", which is the next loop iteration: libcurl must not be
         * called back from inside its own callback. */
        if (timeout_ms < 0) {
                (void) sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
                return 0;
        }

        return curl_glue_arm_timer(g, timeout_ms) < 0 ? -1 : 0;
}

/* One finished transfer per pass, re-armed before the callback runs: the callback may free the
 * glue's owner, so nothing of g is touched after it. */
static int curl_glue_on_defer(sd_event_source *s, void *userdata) {
        CurlGlue *g = userdata;
        CURLcode result;
        CURLMsg *msg;
        CURL *curl;
        int k = 0;

        for (;;) {
                msg = curl_multi_info_read(g->multi, &k);
                if (!msg)
                        return 0;
                if (msg->msg == CURLMSG_DONE)
                        break;
        }

        curl = msg->easy_handle;
        result = msg->data.result;

        (void) curl_multi_remove_handle(g->multi, curl);
        curl_glue_schedule_finished(g);

        if (g->on_finished)
                g->on_finished(g, curl, result, g->userdata);
        return 0;
}

int curl_glue_new(CurlGlue **ret, sd_event *event, curl_glue_finished_t on_finished, void *userdata) {
        _cleanup_(curl_glue_freep) CurlGlue *g = NULL;
        int r;

        assert(ret);
        assert(event);

        g = new0(CurlGlue, 1);
        if (!g)
                return -ENOMEM;

        g->event = sd_event_ref(event);
        g->on_finished = on_finished;
        g->userdata = userdata;

        g->multi = curl_multi_init();
        if (!g->multi)
                return -ENOMEM;

        r = sd_event_add_time(event, &g->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, curl_glue_on_timer, g);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(g->timer, "curl-timer");

        r = sd_event_add_defer(event, &g->defer, curl_glue_on_defer, g);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(g->defer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(g->defer, "curl-defer");

        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, curl_glue_socket_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, curl_glue_timer_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK)
                return -EIO;

        *ret = TAKE_PTR(g);
        return 0;
}

CurlGlue *curl_glue_free(CurlGlue *g) {
        if (!g)
                return NULL;

        /* Closes the cached connections, which removes their I/O sources through the socket
         * callback, so g must still be intact here. */
        if (g->multi)
                curl_multi_cleanup(g->multi);
        while (g->sockets)
                curl_glue_socket_free(g->sockets);

        sd_event_source_disable_unref(g->timer);
        sd_event_source_disable_unref(g->defer);
        sd_event_unref(g->event);
        return mfree(g);
}

int curl_glue_add(CurlGlue *g, CURL *curl) {
        assert(g);
        assert(curl);

        if (curl_multi_add_handle(g->multi, curl) != CURLM_OK)
                return -EIO;
        return 0;
}

void curl_glue_remove(CurlGlue *g, CURL *curl) {
        assert(g);

        if (curl)
                (void) curl_multi_remove_handle(g->multi, curl);
}
