/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"

/* ---- one-shot calls ---- */

static int lease_call(EtcdClient *c, EtcdRequestKind kind, int64_t id, const EtcdCallOptions *options,
                      etcd_callback_t cb, void *userdata, EtcdCall **ret_call) {
        json_auto_t *body = NULL;

        assert(c);

        if (id <= 0)
                return -EINVAL;

        body = json_pack("{s:o}", "ID", etcd_json_int64(id));
        if (!body)
                return -ENOMEM;

        return etcd_call_start(c, kind, body, options, cb, userdata, ret_call);
}

int etcd_lease_grant(EtcdClient *c, int64_t ttl_sec, int64_t id, etcd_callback_t cb, void *userdata,
                     EtcdCall **ret_call) {
        json_auto_t *body = NULL;

        assert(c);

        if (ttl_sec <= 0 || id < 0)
                return -EINVAL;

        body = json_pack("{s:o, s:o}", "TTL", etcd_json_int64(ttl_sec), "ID", etcd_json_int64(id));
        if (!body)
                return -ENOMEM;

        return etcd_call_start(c, ETCD_REQUEST_LEASE_GRANT, body, NULL, cb, userdata, ret_call);
}

int etcd_lease_revoke(EtcdClient *c, int64_t id, etcd_callback_t cb, void *userdata, EtcdCall **ret_call) {
        return lease_call(c, ETCD_REQUEST_LEASE_REVOKE, id, NULL, cb, userdata, ret_call);
}

int etcd_lease_keepalive_once(EtcdClient *c, int64_t id, etcd_callback_t cb, void *userdata,
                              EtcdCall **ret_call) {
        return lease_call(c, ETCD_REQUEST_LEASE_KEEPALIVE, id, NULL, cb, userdata, ret_call);
}

int etcd_lease_time_to_live(EtcdClient *c, int64_t id, etcd_callback_t cb, void *userdata,
                            EtcdCall **ret_call) {
        return lease_call(c, ETCD_REQUEST_LEASE_TIME_TO_LIVE, id, NULL, cb, userdata, ret_call);
}

/* ---- the keeper ----
 *
 * grant -> GRANTED -> keepalive every TTL/3 (one POST each: the gateway answers one keepalive per
 * request) -> ... The lease is known alive until the time the last successful renewal was *sent*
 * plus the TTL etcd answered; a timer at that deadline reports LOST if no renewal succeeded in
 * between, so a partitioned client knows before etcd expires the lease. Failed renewals are
 * retried quickly while the deadline allows; after LOST a new lease is granted with backoff. */

struct EtcdLease {
        EtcdClient *client;
        EtcdLease *prev, *next;

        int64_t ttl_sec;
        int64_t id;
        uint64_t deadline;
        uint64_t sent;                  /* when the request in flight was sent */

        EtcdCall *call;
        sd_event_source *tick;          /* next grant or keepalive */
        sd_event_source *expiry;        /* the deadline */
        unsigned n_failures;

        etcd_lease_handler_t handler;
        void *userdata;
};

static int keeper_schedule(EtcdLease *l, uint64_t usec);

static void keeper_notify(EtcdLease *l, EtcdLeaseEvent event, int64_t id) {
        if (l->handler)
                l->handler(l, event, id, l->userdata);
}

static void keeper_lost(EtcdLease *l) {
        int64_t id = l->id;
        uint64_t pause;

        l->id = 0;
        l->deadline = 0;
        l->call = etcd_call_cancel(l->call);
        (void) sd_event_source_set_enabled(l->expiry, SD_EVENT_OFF);

        /* Grant again, with backoff; the handler may free the keeper, so schedule first. */
        l->n_failures++;
        pause = MIN(100 * USEC_PER_MSEC << MIN(l->n_failures, 4U), 2 * USEC_PER_SEC);
        (void) keeper_schedule(l, now(CLOCK_MONOTONIC) + pause);

        keeper_notify(l, ETCD_LEASE_LOST, id);
}

static int keeper_on_expiry(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdLease *l = userdata;

        if (l->id > 0)
                keeper_lost(l);
        return 0;
}

static void keeper_renewed(EtcdLease *l, int64_t ttl) {
        uint64_t ttl_usec = (uint64_t) ttl * USEC_PER_SEC;

        l->deadline = l->sent + ttl_usec;
        l->n_failures = 0;

        (void) sd_event_source_set_time(l->expiry, l->deadline);
        (void) sd_event_source_set_enabled(l->expiry, SD_EVENT_ONESHOT);
        (void) keeper_schedule(l, l->sent + ttl_usec / 3);
}

static void keeper_on_keepalive(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        EtcdLease *l = userdata;
        usec_t t, retry;

        l->call = NULL;

        if (error == 0 && response->lease_ttl > 0) {
                keeper_renewed(l, response->lease_ttl);
                return;
        }

        /* Expired, revoked or unknown: gone for good. */
        if ((error == 0 && response->lease_ttl <= 0) || error == -ENOENT) {
                keeper_lost(l);
                return;
        }

        /* Anything else: try again soon, the expiry timer decides when it is too late. */
        t = now(CLOCK_MONOTONIC);
        retry = t + MIN(l->ttl_sec * USEC_PER_SEC / 10, 500 * USEC_PER_MSEC);
        (void) keeper_schedule(l, retry);
}

static void keeper_on_grant(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        EtcdLease *l = userdata;
        uint64_t pause;

        l->call = NULL;

        if (error < 0 || response->lease_id <= 0 || response->lease_ttl <= 0) {
                l->n_failures++;
                pause = MIN(100 * USEC_PER_MSEC << MIN(l->n_failures, 4U), 2 * USEC_PER_SEC);
                (void) keeper_schedule(l, now(CLOCK_MONOTONIC) + pause);
                return;
        }

        l->id = response->lease_id;
        keeper_renewed(l, response->lease_ttl);
        keeper_notify(l, ETCD_LEASE_GRANTED, l->id);
}

static int keeper_on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdLease *l = userdata;
        EtcdClient *c = l->client;
        EtcdCallOptions options = ETCD_CALL_OPTIONS_DEFAULT;
        json_auto_t *body = NULL;
        usec_t t;
        int r;

        if (l->call)
                return 0;

        t = now(CLOCK_MONOTONIC);
        l->sent = t;

        if (l->id == 0) {
                body = json_pack("{s:o}", "TTL", etcd_json_int64(l->ttl_sec));
                if (!body)
                        return keeper_schedule(l, t + USEC_PER_SEC);

                r = etcd_call_start(c, ETCD_REQUEST_LEASE_GRANT, body, NULL, keeper_on_grant, l, &l->call);
        } else {
                /* A renewal that comes back after the deadline is useless. */
                options.timeout_usec = l->deadline > t ?
                        MIN(l->deadline - t, c->request_timeout_usec) : 1;
                body = json_pack("{s:o}", "ID", etcd_json_int64(l->id));
                if (!body)
                        return keeper_schedule(l, t + 100 * USEC_PER_MSEC);

                r = etcd_call_start(c, ETCD_REQUEST_LEASE_KEEPALIVE, body, &options, keeper_on_keepalive, l,
                                    &l->call);
        }
        if (r < 0)
                return keeper_schedule(l, t + 500 * USEC_PER_MSEC);
        return 0;
}

static int keeper_schedule(EtcdLease *l, uint64_t usec) {
        int r;

        r = sd_event_source_set_time(l->tick, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(l->tick, SD_EVENT_ONESHOT);
}

int etcd_lease_keeper_new(EtcdLease **ret, EtcdClient *c, int64_t ttl_sec, etcd_lease_handler_t handler,
                          void *userdata) {
        _cleanup_(etcd_lease_keeper_freep) EtcdLease *l = NULL;
        int r;

        assert(ret);
        assert(c);

        if (ttl_sec <= 0)
                return -EINVAL;

        l = new0(EtcdLease, 1);
        if (!l)
                return -ENOMEM;

        l->ttl_sec = ttl_sec;
        l->handler = handler;
        l->userdata = userdata;

        l->client = c;
        l->next = c->leases;
        if (c->leases)
                c->leases->prev = l;
        c->leases = l;

        r = sd_event_add_time(c->event, &l->tick, CLOCK_MONOTONIC, 0, 1, keeper_on_tick, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(l->tick, "etcd-lease-tick");

        r = sd_event_add_time(c->event, &l->expiry, CLOCK_MONOTONIC, UINT64_MAX, 1, keeper_on_expiry, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(l->expiry, SD_EVENT_OFF);
        (void) sd_event_source_set_description(l->expiry, "etcd-lease-expiry");

        *ret = TAKE_PTR(l);
        return 0;
}

void etcd_lease_keeper_detach(EtcdLease *l) {
        EtcdClient *c;

        if (!l || !l->client)
                return;
        c = l->client;

        l->call = etcd_call_cancel(l->call);
        l->tick = sd_event_source_disable_unref(l->tick);
        l->expiry = sd_event_source_disable_unref(l->expiry);

        if (l->prev)
                l->prev->next = l->next;
        else if (c->leases == l)
                c->leases = l->next;
        if (l->next)
                l->next->prev = l->prev;
        l->prev = l->next = NULL;
        l->client = NULL;
}

EtcdLease *etcd_lease_keeper_free(EtcdLease *l) {
        if (!l)
                return NULL;

        etcd_lease_keeper_detach(l);
        return mfree(l);
}

EtcdLease *etcd_lease_keeper_revoke_and_free(EtcdLease *l) {
        if (!l)
                return NULL;

        if (l->client && l->id > 0)
                (void) etcd_lease_revoke(l->client, l->id, NULL, NULL, NULL);

        return etcd_lease_keeper_free(l);
}

int64_t etcd_lease_keeper_id(const EtcdLease *l) {
        assert(l);
        return l->id;
}

uint64_t etcd_lease_keeper_deadline(const EtcdLease *l) {
        assert(l);
        return l->deadline;
}
