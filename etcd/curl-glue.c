/* SPDX-License-Identifier: Apache-2.0 */

#include <sys/epoll.h>

#include "curl-glue.h"

struct CurlGlue {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *defer;
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

        if (curl_multi_socket_action(g->multi, fd, action, &k) != CURLM_OK)
                return -EINVAL;

        curl_glue_schedule_finished(g);
        return 0;
}

static int curl_glue_socket_callback(CURL *curl, curl_socket_t fd, int action, void *userdata,
                                     void *socketp) {
        CurlGlue *g = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (action == CURL_POLL_REMOVE) {
                if (io) {
                        (void) sd_event_source_set_enabled(io, SD_EVENT_OFF);
                        sd_event_source_unref(io);
                        (void) curl_multi_assign(g->multi, fd, NULL);
                }
                return 0;
        }

        if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
                events |= EPOLLOUT;

        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0)
                        return -1;
                if (sd_event_source_set_enabled(io, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }

        if (sd_event_add_io(g->event, &io, fd, events, curl_glue_on_io, g) < 0)
                return -1;
        if (curl_multi_assign(g->multi, fd, io) != CURLM_OK) {
                sd_event_source_unref(io);
                return -1;
        }
        (void) sd_event_source_set_description(io, "curl-io");
        return 0;
}

static int curl_glue_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlGlue *g = userdata;
        int k = 0;

        if (curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &k) != CURLM_OK)
                return -EINVAL;

        curl_glue_schedule_finished(g);
        return 0;
}

static int curl_glue_timer_callback(CURLM *multi, long timeout_ms, void *userdata) {
        CurlGlue *g = userdata;
        uint64_t usec;

        if (timeout_ms < 0) {
                (void) sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
                return 0;
        }

        if (sd_event_now(g->event, CLOCK_MONOTONIC, &usec) < 0)
                return -1;
        usec += (uint64_t) timeout_ms * 1000;

        if (sd_event_source_set_time(g->timer, usec) < 0)
                return -1;
        if (sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
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

CURLM *curl_glue_get_multi(CurlGlue *g) {
        assert(g);
        return g->multi;
}
