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
 * grant -> GRANTED -> a renewal round every (TTL - margin)/3, or more often where that would leave
 * an etcd election too little time (keeper_period()) (one POST per keepalive: the gateway
 * answers one keepalive per request) -> ... The lease is known alive until the time the last
 * successful keepalive was *sent* plus the TTL etcd answered (etcd starts the TTL when it receives
 * the keepalive, which is later); a timer at that deadline minus the holder's margin reports
 * EXPIRING if no renewal succeeded in between, so a partitioned holder stops acting on the lease
 * before etcd can expire it.
 *
 * A round is hedged, because one member must not be able to cost the lease: a keepalive goes to the
 * member that answered last, and while none has answered, another goes every hedge interval
 * (TTL/10, 0.1-1 s) to the next member, each try pinned to its member and bounded by a few hedge
 * intervals, the earlier ones left running. Keepalives are idempotent, the first answer wins and
 * ends the others. So a frozen member costs one hedge interval, a killed one nothing, and a
 * follower that is waiting for etcd's new leader answers as soon as there is one; while a follower
 * still forwards to a frozen leader, fresh tries reach it after the election.
 *
 * The round does not end at the deadline: it keeps renewing the SAME lease until etcd answers. No
 * lease expires without a leader, a new leader extends every lease by its TTL plus the election
 * timeout on taking over (lessor Promote), and a keepalive of an expired lease waits for its
 * revocation and fails, never revives it. So a renewal that succeeds late proves the lease and its
 * keys never expired (RENEWED: the holder may act again), and an election that outlasts the TTL on
 * a loaded machine (3-4 s were measured) costs the holder a pause, not the lease. Only etcd's own
 * answer that the lease is gone (TTL -1, not found) reports LOST; then a new one is granted with
 * backoff. */

#define KEEPER_MAX_TRIES 8

/* What a renewal round leaves for an etcd leader election at least, where the TTL allows: from the
 * leader's death to the first renewal through the new leader took 0.8-3.1 s with etcd's election
 * timeout at 500 ms (what our tools configure) and 2.4-4.5 s at its default 1 s, on 2 CPUs under
 * stress-ng --cpu 4 at load 28 (bench/README.md, "Leader kill"). */
#define KEEPER_ELECTION_USEC (3250 * USEC_PER_MSEC)

typedef struct KeeperTry {
        EtcdLease *lease;
        EtcdCall *call;
        uint64_t sent;
} KeeperTry;

struct EtcdLease {
        EtcdClient *client;
        EtcdLease *prev, *next;

        int64_t ttl_sec;
        int64_t id;
        uint64_t deadline;
        uint64_t margin_usec;                   /* EXPIRING this long before the deadline */
        uint64_t hedge_usec;
        bool expiring;                          /* EXPIRING reported, no renewal since */

        EtcdCall *grant_call;
        uint64_t grant_sent;
        KeeperTry tries[KEEPER_MAX_TRIES];      /* the keepalives of the round in flight */
        bool renewing;                          /* a round is under way */
        size_t next_endpoint;                   /* where the round's next try goes */
        sd_event_source *tick;                  /* next grant, round or hedge */
        sd_event_source *expiry;                /* the deadline minus the margin */
        unsigned n_failures;

        etcd_lease_handler_t handler;
        void *userdata;
};

static int keeper_schedule(EtcdLease *l, uint64_t usec);

static void keeper_notify(EtcdLease *l, EtcdLeaseEvent event, int64_t id) {
        if (l->handler)
                l->handler(l, event, id, l->userdata);
}

static void keeper_round_end(EtcdLease *l) {
        for (size_t i = 0; i < KEEPER_MAX_TRIES; i++)
                l->tries[i].call = etcd_call_cancel(l->tries[i].call);
        l->renewing = false;
}

/* etcd says the lease is gone (expired or revoked): nothing to revoke, its keys are gone. */
static void keeper_lost(EtcdLease *l) {
        int64_t id = l->id;
        uint64_t pause;

        l->id = 0;
        l->deadline = 0;
        l->expiring = false;
        keeper_round_end(l);
        l->grant_call = etcd_call_cancel(l->grant_call);
        (void) sd_event_source_set_enabled(l->expiry, SD_EVENT_OFF);

        /* Grant again, with backoff; the handler may free the keeper, so schedule first. */
        l->n_failures++;
        pause = MIN(100 * USEC_PER_MSEC << MIN(l->n_failures, 4U), 2 * USEC_PER_SEC);
        (void) keeper_schedule(l, now(CLOCK_MONOTONIC) + pause);

        keeper_notify(l, ETCD_LEASE_LOST, id);
}

/* The holder must stop acting on the lease before this; the round goes on. */
static int keeper_on_expiry(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdLease *l = userdata;

        if (l->id > 0 && !l->expiring) {
                l->expiring = true;
                keeper_notify(l, ETCD_LEASE_EXPIRING, l->id);
        }
        return 0;
}

static void keeper_arm_expiry(EtcdLease *l) {
        if (l->deadline == 0)
                return;
        (void) sd_event_source_set_time(l->expiry, l->deadline - MIN(l->margin_usec, l->deadline));
        (void) sd_event_source_set_enabled(l->expiry, SD_EVENT_ONESHOT);
}

/* From a successful renewal to the next round. Three rounds fit before EXPIRING, the first at a
 * third of the way there, unless that leaves an etcd election less than KEEPER_ELECTION_USEC: an
 * election that starts just before a round (etcd's leader dies) has until EXPIRING minus one period
 * to end, since the last renewal that got through is a period older. Then the rounds come closer,
 * down to the hedge interval: at TTL 5 s and a 1.25 s margin, every 0.5 s instead of every 1.25 s,
 * which leaves 3.25 s instead of 2.5 s; from TTL 7 s on, nothing changes. */
static uint64_t keeper_period(const EtcdLease *l, uint64_t ttl_usec) {
        uint64_t window = ttl_usec - MIN(l->margin_usec, ttl_usec / 2), period = window / 3;

        if (window - period >= KEEPER_ELECTION_USEC)
                return period;
        return MIN(period, MAX(window > KEEPER_ELECTION_USEC ? window - KEEPER_ELECTION_USEC : 0, l->hedge_usec));
}

/* Returns whether an EXPIRING is thereby over. */
static bool keeper_renewed(EtcdLease *l, uint64_t sent, int64_t ttl) {
        uint64_t ttl_usec = (uint64_t) ttl * USEC_PER_SEC;
        bool was_expiring = l->expiring;

        keeper_round_end(l);
        /* An answer to an older try than the one that set the deadline does not move it back. */
        l->deadline = MAX(l->deadline, sent + ttl_usec);
        l->n_failures = 0;
        l->expiring = false;

        keeper_arm_expiry(l);
        (void) keeper_schedule(l, l->deadline - ttl_usec + keeper_period(l, ttl_usec));
        return was_expiring;
}

static void keeper_on_keepalive(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        KeeperTry *t = userdata;
        EtcdLease *l = t->lease;
        uint64_t next, due;
        int enabled;

        t->call = NULL;

        if (error == 0 && response->lease_ttl > 0) {
                if (keeper_renewed(l, t->sent, response->lease_ttl))
                        keeper_notify(l, ETCD_LEASE_RENEWED, l->id);
                return;
        }

        /* Expired, revoked or unknown: gone for good, etcd says so. */
        if ((error == 0 && response->lease_ttl <= 0) || error == -ENOENT) {
                keeper_lost(l);
                return;
        }

        /* This member failed: the next one gets a try soon (not at once: refused connections
         * fail in no time, and a round must not spin); past the deadline too, until etcd says. */
        next = now(CLOCK_MONOTONIC) + l->hedge_usec / 4;
        if (sd_event_source_get_enabled(l->tick, &enabled) >= 0 && enabled != SD_EVENT_OFF &&
            sd_event_source_get_time(l->tick, &due) >= 0 && due < next)
                return;
        (void) keeper_schedule(l, next);
}

static void keeper_on_grant(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        EtcdLease *l = userdata;
        uint64_t pause;

        l->grant_call = NULL;

        if (error < 0 || response->lease_id <= 0 || response->lease_ttl <= 0) {
                l->n_failures++;
                pause = MIN(100 * USEC_PER_MSEC << MIN(l->n_failures, 4U), 2 * USEC_PER_SEC);
                (void) keeper_schedule(l, now(CLOCK_MONOTONIC) + pause);
                return;
        }

        l->id = response->lease_id;
        l->deadline = 0;
        l->expiring = false;
        (void) keeper_renewed(l, l->grant_sent, response->lease_ttl);
        keeper_notify(l, ETCD_LEASE_GRANTED, l->id);
}

static int keeper_grant(EtcdLease *l, usec_t t) {
        json_auto_t *body = NULL;

        body = json_pack("{s:o}", "TTL", etcd_json_int64(l->ttl_sec));
        if (!body)
                return -ENOMEM;

        l->grant_sent = t;
        return etcd_call_start(l->client, ETCD_REQUEST_LEASE_GRANT, body, NULL, keeper_on_grant, l,
                               &l->grant_call);
}

/* One more keepalive of the round, to the next member, if a slot is free. */
static int keeper_try(EtcdLease *l, usec_t t_now) {
        EtcdClient *c = l->client;
        EtcdCallOptions options = ETCD_CALL_OPTIONS_DEFAULT;
        json_auto_t *body = NULL;
        KeeperTry *t = NULL;

        for (size_t i = 0; i < KEEPER_MAX_TRIES && !t; i++)
                if (!l->tries[i].call)
                        t = &l->tries[i];
        if (!t)
                return 0;

        if (!l->renewing) {
                l->renewing = true;
                l->next_endpoint = c->preferred;
        }

        body = json_pack("{s:o}", "ID", etcd_json_int64(l->id));
        if (!body)
                return -ENOMEM;

        /* A try may wait a few hedge intervals (a follower waiting for a leader answers then; an
         * answer after the deadline still counts). */
        options.pin_endpoint = (int) (l->next_endpoint % c->n_endpoints);
        options.timeout_usec = MIN(4 * l->hedge_usec, c->request_timeout_usec);
        l->next_endpoint = (l->next_endpoint + 1) % c->n_endpoints;

        t->lease = l;
        t->sent = t_now;
        return etcd_call_start(c, ETCD_REQUEST_LEASE_KEEPALIVE, body, &options, keeper_on_keepalive, t,
                               &t->call);
}

static int keeper_on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        EtcdLease *l = userdata;
        usec_t t = now(CLOCK_MONOTONIC);
        int r;

        if (l->id == 0) {
                if (l->grant_call)
                        return 0;
                r = keeper_grant(l, t);
                if (r < 0)
                        return keeper_schedule(l, t + 500 * USEC_PER_MSEC);
                return 0;
        }

        /* Start or hedge the round; the next hedge is due in an interval unless an answer ends it. */
        (void) keeper_try(l, t);
        return keeper_schedule(l, t + l->hedge_usec);
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
        /* TTL/10: a TTL of 5 s leaves 3.3 s after the round starts, 6 hedges. */
        l->hedge_usec = MIN(MAX((uint64_t) ttl_sec * USEC_PER_SEC / 10, 100 * USEC_PER_MSEC), USEC_PER_SEC);
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

        keeper_round_end(l);
        l->grant_call = etcd_call_cancel(l->grant_call);
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

int etcd_lease_keeper_set_margin(EtcdLease *l, uint64_t usec) {
        assert(l);

        if (usec > (uint64_t) l->ttl_sec * USEC_PER_SEC / 2)
                return -EINVAL;
        l->margin_usec = usec;
        keeper_arm_expiry(l);
        return 0;
}

int64_t etcd_lease_keeper_id(const EtcdLease *l) {
        assert(l);
        return l->id;
}

uint64_t etcd_lease_keeper_deadline(const EtcdLease *l) {
        assert(l);
        return l->deadline;
}
