/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <stdio.h>

#include "engine-internal.h"
#include "log.h"
#include "strv.h"

EngineUnit *engine_unit_free(EngineUnit *u) {
        if (!u)
                return NULL;
        registry_unit_free(u->record);
        free(u->invalid);
        return mfree(u);
}

int engine_new(Engine **ret, sd_event *event, EtcdClient *etcd, const EngineConfig *config) {
        _cleanup_(engine_freep) Engine *e = NULL;
        const char *prefix;

        assert(ret);
        assert(event);
        assert(etcd);
        assert(config);

        prefix = config->key_prefix ?: REGISTRY_DEFAULT_PREFIX;
        if (isempty(config->machine_id) || !endswith(prefix, "/"))
                return -EINVAL;

        e = new0(Engine, 1);
        if (!e)
                return -ENOMEM;

        e->event = sd_event_ref(event);
        e->etcd = etcd;
        e->lease_ttl_sec = config->lease_ttl_sec > 0 ? config->lease_ttl_sec : ENGINE_DEFAULT_LEASE_TTL_SEC;
        e->strategy = config->strategy >= 0 && config->strategy < _SCHEDULER_STRATEGY_MAX ? config->strategy
                                                                                           : SCHEDULER_SPREAD;
        e->prefix = strdup(prefix);
        e->machine_id = strdup(config->machine_id);
        if (!e->prefix || !e->machine_id)
                return -ENOMEM;
        e->leader_key = registry_leader_key(e->prefix);
        if (!e->leader_key)
                return -ENOMEM;

        *ret = TAKE_PTR(e);
        return 0;
}

int engine_start(Engine *e) {
        int r;

        assert(e);

        if (e->started)
                return -EBUSY;

        r = engine_election_start(e);
        if (r < 0)
                return r;

        e->started = true;
        return 0;
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;

        engine_cache_stop(e);
        engine_writer_cancel(e);
        e->relist_timer = sd_event_source_disable_unref(e->relist_timer);
        /* Revoking the lease deletes P engine/leader and our reasons at once, so a waiting engine
         * takes over now rather than after the TTL. */
        engine_election_stop(e, /* revoke= */ true);
        e->reconcile_event = sd_event_source_disable_unref(e->reconcile_event);
        e->sync_event = sd_event_source_disable_unref(e->sync_event);

        sd_event_unref(e->event);
        free(e->prefix);
        free(e->machine_id);
        free(e->leader_key);
        return mfree(e);
}

bool engine_is_leader(const Engine *e) {
        return e && e->leader_revision > 0 && e->lease_id != 0;
}

bool engine_is_idle(const Engine *e) {
        return engine_is_leader(e) && e->loaded && !e->reconcile_wanted && !engine_writer_busy(e) &&
                (!e->reconcile_event || sd_event_source_get_enabled(e->reconcile_event, NULL) == 0);
}

const EngineStats *engine_get_stats(const Engine *e) {
        assert(e);
        return &e->stats;
}

void engine_become_leader(Engine *e, int64_t create_revision) {
        int r;

        assert(e);
        assert(create_revision > 0);

        if (e->leader_revision == create_revision)
                return;

        e->leader_revision = create_revision;
        e->stats.n_elected++;
        log_info("Engine: this machine is the leader now (P engine/leader at revision %" PRIi64 ").",
                 create_revision);

        r = engine_cache_start(e);
        if (r < 0)
                engine_cache_reload_later(e, ENGINE_RETRY_USEC);
}

static int engine_on_sync(sd_event_source *s, void *userdata) {
        Engine *e = userdata;

        if (!engine_is_leader(e))
                engine_cache_stop(e);

        if (e->want_campaign) {
                e->want_campaign = false;
                engine_campaign(e);
        }
        return 0;
}

static void engine_sync_request(Engine *e) {
        int r;

        if (!e->sync_event) {
                r = sd_event_add_defer(e->event, &e->sync_event, engine_on_sync, e);
                if (r < 0) {
                        /* Without the source, do it now: only the campaign may be late then. */
                        log_debug_errno(r, "engine: cannot defer, acting at once: %m");
                        (void) engine_on_sync(NULL, e);
                        return;
                }
                (void) sd_event_source_set_description(e->sync_event, "engine-sync");
        }
        (void) sd_event_source_set_enabled(e->sync_event, SD_EVENT_ONESHOT);
}

void engine_campaign_later(Engine *e) {
        assert(e);

        e->want_campaign = true;
        engine_sync_request(e);
}

void engine_step_down(Engine *e, const char *why) {
        assert(e);

        if (e->leader_revision == 0)
                return;

        log_info("Engine: no longer the leader: %s.", why);

        /* Stop writing at once (nothing new is sent while not leader, and whatever is in flight
         * is fenced by the compare anyway); drop the model outside this callback. */
        e->leader_revision = 0;
        e->loaded = false;
        engine_campaign_later(e);
}
