/* SPDX-License-Identifier: Apache-2.0 */

/* Leader election: P engine/leader created under a lease of our own by a txn that succeeds only if
 * the key does not exist (create_revision == 0); a watch on that key to campaign again when it is
 * deleted, and to notice when we no longer hold it.
 *
 * The lease exists only while we campaign or lead: an engine that lost the campaign revokes it
 * and just watches the key, so an idle follower costs etcd nothing but that watch. Taking over
 * costs one lease grant before the campaign txn. */

#include "engine-internal.h"
#include "log.h"

static void engine_leader_watch_start(Engine *e, int64_t start_revision);
static void engine_on_lease(EtcdLease *l, EtcdLeaseEvent event, int64_t lease_id, void *userdata);

/* Keep the lease: grant one if we have none; GRANTED campaigns. */
static int engine_lease_acquire(Engine *e) {
        if (e->lease)
                return 0;
        return etcd_lease_keeper_new(&e->lease, e->etcd, e->lease_ttl_sec, engine_on_lease, e);
}

/* Someone else leads: nothing of ours lives under the lease any more, so stop renewing it. */
static void engine_lease_release(Engine *e) {
        e->lease = etcd_lease_keeper_revoke_and_free(e->lease);
        e->lease_id = 0;
}

static int engine_on_campaign_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Engine *e = userdata;

        engine_campaign(e);
        return 0;
}

/* Campaign again a little later (after an etcd error), so a failing etcd is not hammered. */
static int engine_campaign_schedule(Engine *e) {
        int r;

        assert(e);

        if (!e->campaign_timer)
                return sd_event_add_time_relative(e->event, &e->campaign_timer, CLOCK_MONOTONIC,
                                                  ENGINE_RETRY_USEC, 0, engine_on_campaign_timer, e);

        r = sd_event_source_set_time_relative(e->campaign_timer, ENGINE_RETRY_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(e->campaign_timer, SD_EVENT_ONESHOT);
}

static void engine_on_campaign(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Engine *e = userdata;
        const EtcdResponse *range;

        e->campaign_call = NULL;

        if (e->lease_id == 0)
                return;         /* lost the lease meanwhile; GRANTED will campaign again */

        if (error < 0 || !response) {
                log_debug_errno(error, "engine: campaign failed, retrying: %m");
                (void) engine_campaign_schedule(e);
                return;
        }

        if (response->succeeded) {
                /* The put ran at the txn's revision, which is the key's create_revision. */
                engine_leader_watch_start(e, response->revision + 1);
                engine_become_leader(e, response->revision);
                return;
        }

        range = response->n_responses > 0 ? &response->responses[0] : NULL;
        if (range && range->n_kvs > 0 && range->kvs[0].lease == e->lease_id) {
                /* An earlier attempt of ours did succeed, its answer was lost. */
                engine_leader_watch_start(e, response->revision + 1);
                engine_become_leader(e, range->kvs[0].create_revision);
                return;
        }

        /* Someone else leads. Watch from just after what we saw, so its deletion cannot slip
         * between this answer and the watch. */
        engine_leader_watch_start(e, response->revision + 1);
        if (!range || range->n_kvs == 0)
                /* Deleted between compare and range: try again at once. */
                engine_campaign(e);
        else
                engine_lease_release(e);
}

void engine_campaign(Engine *e) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        _cleanup_free_ char *json = NULL;
        RegistryLeader leader = {
                .machine_id = e->machine_id,
                .version = (char *) FLEET_VERSION,
        };
        int r;

        assert(e);

        if (e->campaign_call || e->leader_revision > 0)
                return;

        if (e->campaign_timer)
                (void) sd_event_source_set_enabled(e->campaign_timer, SD_EVENT_OFF);

        r = engine_lease_acquire(e);
        if (r < 0)
                goto fail;
        if (e->lease_id == 0)
                return;         /* being granted: GRANTED campaigns */

        r = registry_leader_to_json(&leader, &json);
        if (r < 0)
                goto fail;

        r = etcd_txn_new(&t);
        if (r < 0)
                goto fail;
        r = etcd_txn_compare_int(t, e->leader_key, ETCD_COMPARE_CREATE, ETCD_EQUAL, 0);
        if (r < 0)
                goto fail;
        r = etcd_txn_put(t, true, e->leader_key, json, strlen(json), e->lease_id, 0);
        if (r < 0)
                goto fail;
        r = etcd_txn_range(t, false, &(EtcdRangeOptions) { .key = e->leader_key });
        if (r < 0)
                goto fail;

        r = etcd_txn_commit(e->etcd, t, engine_on_campaign, e, &e->campaign_call);
        if (r < 0)
                goto fail;

        e->stats.n_campaigns++;
        return;

fail:
        log_debug_errno(r, "engine: cannot campaign, retrying: %m");
        (void) engine_campaign_schedule(e);
}

static void engine_on_leader_event(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events,
                                   int64_t revision, void *userdata) {
        Engine *e = userdata;
        bool vacant = false;

        if (error < 0) {
                /* The watch stopped (compaction, cancel): the key's state is unknown, so ask etcd
                 * again; the campaign's answer starts a new watch. */
                engine_step_down(e, "lost the watch on the leader key");
                engine_campaign_later(e);
                return;
        }

        for (size_t i = 0; i < n_events; i++) {
                const EtcdEvent *ev = &events[i];

                if (ev->type == ETCD_EVENT_DELETE)
                        vacant = true;
                else if (e->leader_revision > 0 && ev->kv.create_revision != e->leader_revision)
                        engine_step_down(e, "the leader key was replaced");
                else
                        vacant = false;
        }

        if (vacant) {
                engine_step_down(e, "the leader key was deleted");
                engine_campaign_later(e);
        }
}

static void engine_leader_watch_start(Engine *e, int64_t start_revision) {
        int r;

        e->leader_watch = etcd_watch_free(e->leader_watch);

        r = etcd_watch_new(&e->leader_watch, e->etcd, e->leader_key, 0, start_revision,
                           engine_on_leader_event, e);
        if (r < 0) {
                log_debug_errno(r, "engine: cannot watch the leader key: %m");
                /* Without the watch we would not notice a vacancy: keep asking instead. */
                (void) engine_campaign_schedule(e);
        }
}

static void engine_on_lease(EtcdLease *l, EtcdLeaseEvent event, int64_t lease_id, void *userdata) {
        Engine *e = userdata;

        switch (event) {

        case ETCD_LEASE_GRANTED:
        case ETCD_LEASE_RENEWED:        /* it never expired: our key may still be there (campaign sees) */
                e->lease_id = lease_id;
                e->campaign_call = etcd_call_cancel(e->campaign_call);
                engine_campaign_later(e);
                break;

        case ETCD_LEASE_EXPIRING:
        case ETCD_LEASE_LOST:
                /* Our key is gone with the lease, or may be before anyone else can win: stop
                 * writing now; RENEWED or GRANTED campaigns again. */
                e->lease_id = 0;
                e->campaign_call = etcd_call_cancel(e->campaign_call);
                engine_step_down(e, "the leadership lease was lost");
                break;
        }
}

int engine_election_start(Engine *e) {
        assert(e);
        assert(!e->lease);

        return engine_lease_acquire(e);
}

void engine_election_stop(Engine *e, bool revoke) {
        assert(e);

        e->campaign_call = etcd_call_cancel(e->campaign_call);
        e->leader_watch = etcd_watch_free(e->leader_watch);
        e->campaign_timer = sd_event_source_disable_unref(e->campaign_timer);
        if (revoke)
                e->lease = etcd_lease_keeper_revoke_and_free(e->lease);
        else
                e->lease = etcd_lease_keeper_free(e->lease);
        e->lease_id = 0;
        e->leader_revision = 0;
}
