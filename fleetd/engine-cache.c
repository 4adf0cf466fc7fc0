/* SPDX-License-Identifier: Apache-2.0 */

/* The leader's view of the cluster: machines, cordons, units, placements and reasons listed once at one
 * revision, then kept current by ONE watch over the whole prefix from the next revision. Every
 * change feeds the scheduler model incrementally and asks for a (coalesced) scheduling pass; etcd is
 * never re-read except after a compacted watch or a failed write. */

#include "engine-internal.h"
#include "log.h"
#include "strv.h"
#include "unit-file.h"
#include "unit-name.h"
#include "xfleet.h"

enum {
        ENGINE_LIST_MACHINES,
        ENGINE_LIST_CORDONS,
        ENGINE_LIST_UNITS,
        ENGINE_LIST_SCHEDULE,
        ENGINE_LIST_REASONS,
        _ENGINE_LIST_MAX,
};

static void engine_unit_free_void(void *p) {
        engine_unit_free(p);
}

static void engine_set_add(Set *set, const char *unit) {
        char *copy;

        if (set_contains(set, unit))
                return;
        copy = strdup(unit);
        /* On OOM the unit is merely not re-checked in this pass. */
        if (copy)
                (void) set_consume(set, copy);
}

/* The next pass re-checks the unit's reason, and with rewrite also writes its placements again
 * (its body or desired state changed, or what etcd holds for it lags behind). */
static void engine_touch(Engine *e, const char *unit, bool rewrite) {
        engine_set_add(e->touched, unit);
        if (rewrite)
                engine_set_add(e->rewrite, unit);
}

/* Parse the unit's [X-Fleet] for its own name; templates and units whose options do not parse are
 * kept out of the scheduler. */
static int engine_unit_new(RegistryUnit *record, EngineUnit **ret, XFleetOptions **ret_options) {
        _cleanup_(engine_unit_freep) EngineUnit *u = NULL;
        _cleanup_(unit_file_freep) UnitFile *file = NULL;
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_free_ char *message = NULL;
        int r;

        u = new0(EngineUnit, 1);
        if (!u) {
                registry_unit_free(record);
                return -ENOMEM;
        }
        u->record = record;
        u->is_template = unit_name_is_template(record->name);

        if (!u->is_template) {
                r = unit_file_parse(record->raw, strlen(record->raw), &file, &message);
                if (r >= 0)
                        r = xfleet_options_parse(file, record->name, &x, &message);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (asprintf(&u->invalid, "invalid unit: %s", strna(message)) < 0)
                                return -ENOMEM;
                }
        }

        u->global = x && x->global;
        *ret = TAKE_PTR(u);
        *ret_options = TAKE_PTR(x);
        return 0;
}

static int engine_cache_unit_put(Engine *e, const char *name, const EtcdKeyValue *kv, bool listed) {
        _cleanup_(registry_unit_freep) RegistryUnit *record = NULL;
        _cleanup_(engine_unit_freep) EngineUnit *u = NULL;
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        EngineUnit *old;
        bool changed;
        int r;

        r = registry_unit_from_json(kv->value, kv->value_size, &record);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !streq(record->name, name)) {
                /* Written around fleetctl (by hand, an older or a hostile client): left out of
                 * scheduling, loudly; fleetctl shows it with what is wrong. */
                log_warning("engine: ignoring malformed unit record %s", kv->key);
                return 0;
        }

        old = hashmap_get(e->units, name);
        changed = !old || old->record->desired != record->desired || !streq(old->record->raw, record->raw);
        if (!changed)
                return 0;

        r = engine_unit_new(TAKE_PTR(record), &u, &x);
        if (r < 0)
                return r;
        u->mod_revision = kv->mod_revision;

        if (u->is_template || u->invalid)
                r = scheduler_unit_remove(e->scheduler, name);
        else
                r = scheduler_unit_set(e->scheduler, name, x, u->record->desired);
        if (r < 0 && r != -ENOENT)
                return r;
        /* The machines a unit was given up on take it again once it has a new body, or after an
         * unload: the user changed something. Not with time: a unit that fails everywhere would
         * bounce between the machines forever. */
        if (old && !u->is_template && !u->invalid &&
            (!streq(old->record->raw, u->record->raw) || u->record->desired == UNIT_DESIRED_INACTIVE) &&
            scheduler_unit_exclusions_clear(e->scheduler, name) > 0)
                log_info("engine: %s may run again on the machines it was given up on.", name);

        engine_unit_free(hashmap_remove(e->units, name));
        r = hashmap_put(e->units, u->record->name, u);
        if (r < 0)
                return r;
        TAKE_PTR(u);

        /* A listed unit's placements are checked against it when they are listed next. */
        engine_touch(e, name, !listed);
        return 0;
}

static void engine_cache_unit_delete(Engine *e, const char *name) {
        (void) scheduler_unit_remove(e->scheduler, name);
        engine_unit_free(hashmap_remove(e->units, name));
        engine_touch(e, name, false);
}

static int engine_cache_machine_put(Engine *e, const char *id, const EtcdKeyValue *kv) {
        _cleanup_(registry_machine_freep) RegistryMachine *m = NULL;
        int r;

        r = registry_machine_from_json(kv->value, kv->value_size, &m);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !streq(m->id, id)) {
                log_warning("engine: ignoring malformed machine record %s", kv->key);
                return 0;
        }

        r = scheduler_machine_add(e->scheduler, id, m->metadata);
        if (r < 0)
                return r;
        r = scheduler_machine_set_capacity(e->scheduler, id, m->has_capacity ? &m->capacity : NULL);
        return r < 0 ? r : 0;
}

/* P cordons/<id>: a value we cannot read leaves the machine as it was, loudly (fleetctl writes
 * only valid ones). */
static int engine_cache_cordon(Engine *e, const char *id, EtcdEventType type, const EtcdKeyValue *kv) {
        RegistryCordon c = REGISTRY_CORDON_NONE;

        if (type != ETCD_EVENT_DELETE) {
                c = registry_cordon_from_string(kv->value, kv->value_size);
                if (c < 0) {
                        log_error("engine: ignoring %s: expected \"cordoned\" or \"drained\"", kv->key);
                        return 0;
                }
        }
        return scheduler_machine_cordon(e->scheduler, id, c);
}

static int engine_cache_stale_key(Engine *e, const char *key) {
        return strv_extend(&e->stale_keys, key);
}

/* A placement found in the listing: restore it, or remember to delete it if its unit is not one
 * the scheduler knows. A placement written before its unit last changed lags behind it and gets
 * rewritten; that needs only the revisions, so placements are listed without their bodies. */
static int engine_cache_assignment_listed(Engine *e, const char *machine, const char *unit,
                                          const EtcdKeyValue *kv) {
        EngineUnit *u;
        int r;

        u = hashmap_get(e->units, unit);
        if (!u || u->is_template || u->invalid)
                return engine_cache_stale_key(e, kv->key);

        r = scheduler_assignment_set(e->scheduler, unit, machine);
        if (r == -ENOENT)
                return engine_cache_stale_key(e, kv->key);
        if (r < 0)
                return r;

        if (kv->mod_revision < u->mod_revision)
                engine_touch(e, unit, true);
        return 0;
}

static int engine_cache_reason_listed(Engine *e, const char *unit, const EtcdKeyValue *kv) {
        /* A previous leader's reasons go with its lease; delete them now rather than wait. */
        if (kv->lease != e->lease_id)
                return engine_cache_stale_key(e, kv->key);

        return engine_reason_set(e, unit, kv->value, kv->value_size);
}

/* P states/<unit>/<machine>: agents publish states all the time, and only one that gave its unit
 * up concerns the leader: the unit is moved elsewhere (scheduler_unit_exclude()), if the record is
 * about the body it has and the machine it is placed on (a late record of an older body or of a
 * former machine says nothing). Returns 1 if the unit is to move, 0 if not, -ENOMEM. */
static int engine_cache_state_put(Engine *e, const char *unit, const char *machine, const EtcdKeyValue *kv) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *st = NULL;
        EngineUnit *u;
        int r;

        if (!memmem(kv->value, kv->value_size, "\"gave_up\"", strlen("\"gave_up\"")))
                return 0;
        r = registry_unit_state_from_json(kv->value, kv->value_size, &st);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !st->gave_up || !streq(st->unit, unit) || !streq(st->machine_id, machine))
                return 0;
        u = hashmap_get(e->units, unit);
        if (!u || u->is_template || u->invalid || !streq_ptr(st->hash, u->record->hash) ||
            !streq_ptr(scheduler_unit_machine(e->scheduler, unit), machine))
                return 0;

        log_notice("engine: %s was given up on machine %s (%s): moving it.", unit, machine, st->gave_up);
        r = scheduler_unit_exclude(e->scheduler, unit, machine, st->gave_up);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        engine_touch(e, unit, false);
        return 1;
}

/* Feed one key of the listing (listed) or of the watch into the model. Returns 1 if it concerned
 * machines or units (a scheduling pass may have something to do), 0 if not, or a negative errno. */
static int engine_cache_apply(Engine *e, EtcdEventType type, const EtcdKeyValue *kv, bool listed) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        int t, r;

        t = registry_parse_key(e->prefix, kv->key, &a, &b);
        if (t == -ENOMEM)
                return t;

        switch (t) {

        case REGISTRY_KEY_MACHINE:
                if (type == ETCD_EVENT_DELETE) {
                        (void) scheduler_machine_remove(e->scheduler, a);
                        return 1;
                }
                r = engine_cache_machine_put(e, a, kv);
                return r < 0 ? r : 1;

        case REGISTRY_KEY_CORDON:
                r = engine_cache_cordon(e, a, type, kv);
                return r < 0 ? r : 1;

        case REGISTRY_KEY_UNIT:
                if (type == ETCD_EVENT_DELETE) {
                        engine_cache_unit_delete(e, a);
                        return 1;
                }
                r = engine_cache_unit_put(e, a, kv, listed);
                return r < 0 ? r : 1;

        case REGISTRY_KEY_ASSIGNMENT:
                /* While we lead, only we write placements: what the watch shows is our own
                 * writes coming back, older than the model. */
                if (!listed)
                        return 0;
                return engine_cache_assignment_listed(e, a, b, kv);

        case REGISTRY_KEY_REASON:
                if (!listed)
                        return 0;
                return engine_cache_reason_listed(e, a, kv);

        case REGISTRY_KEY_STATE:
                if (type == ETCD_EVENT_DELETE)
                        return 0;
                return engine_cache_state_put(e, a, b, kv);

        default:
                /* The leader key (the election watches it), names, foreign keys: nothing to
                 * schedule. */
                return 0;
        }
}

static void engine_on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events,
                            int64_t revision, void *userdata) {
        Engine *e = userdata;
        bool relevant = false;
        int r;

        if (!e->loaded)
                return;

        if (error < 0) {
                log_debug_errno(error, "engine: watch stopped, listing again: %m");
                engine_cache_reload_later(e, error == -ESTALE ? 0 : ENGINE_RETRY_USEC);
                return;
        }

        for (size_t i = 0; i < n_events; i++) {
                r = engine_cache_apply(e, events[i].type, &events[i].kv, false);
                if (r < 0) {
                        /* The model missed a change: rebuild it rather than schedule on it. */
                        log_debug_errno(r, "engine: cannot apply watch event, listing again: %m");
                        engine_cache_reload_later(e, ENGINE_RETRY_USEC);
                        return;
                }
                relevant = relevant || r > 0;
        }

        if (relevant)
                engine_reconcile_request(e);
}

static int engine_cache_list_next(Engine *e);

static const char *const list_step_name[_ENGINE_LIST_MAX] = {
        [ENGINE_LIST_MACHINES] = "machines",
        [ENGINE_LIST_CORDONS] = "cordons",
        [ENGINE_LIST_UNITS] = "units",
        [ENGINE_LIST_SCHEDULE] = "schedule",
        [ENGINE_LIST_REASONS] = "reasons",
};

/* A leader that cannot list schedules nothing: say so at error level, once a minute while it lasts
 * (it is retried every ENGINE_RETRY_USEC), and retry. */
static void engine_cache_list_failed(Engine *e, int error, const char *what) {
        usec_t t = now(CLOCK_MONOTONIC);
        const char *step = e->list_step < _ENGINE_LIST_MAX ? list_step_name[e->list_step] : "registry";

        if (e->list_error_logged == 0 || t - e->list_error_logged >= ENGINE_LIST_ERROR_INTERVAL_USEC) {
                e->list_error_logged = t;
                log_error_errno(error, "engine: %s %s%s/ failed, nothing is scheduled until it works, retrying: %m",
                                what, e->prefix, step);
        } else
                log_debug_errno(error, "engine: %s %s%s/ failed, retrying: %m", what, e->prefix, step);
        engine_cache_reload_later(e, ENGINE_RETRY_USEC);
}

static void engine_on_list(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Engine *e = userdata;
        int r;

        e->list_call = NULL;

        r = etcd_pager_next(&e->list_pager, error, response);
        if (r < 0)
                return engine_cache_list_failed(e, r, "listing");
        if (r > 0) {
                /* Every later page is read at the revision of the first, so the listing is one
                 * snapshot. */
                if (e->list_revision == 0)
                        e->list_revision = e->list_pager.revision;

                for (size_t i = 0; i < response->n_kvs; i++) {
                        r = engine_cache_apply(e, ETCD_EVENT_PUT, &response->kvs[i], true);
                        if (r < 0)
                                return engine_cache_list_failed(e, r, "loading");
                }
                if (e->list_pager.done) {
                        etcd_pager_done(&e->list_pager);
                        e->list_paging = false;
                        e->list_step++;
                }
        } else
                log_debug("engine: a page of %s%s/ is too large, asking for %" PRIi64 " keys",
                          e->prefix, list_step_name[e->list_step], e->list_pager.limit);

        r = engine_cache_list_next(e);
        if (r < 0)
                engine_cache_list_failed(e, r, "continuing");
}

static char *engine_cache_step_prefix(Engine *e) {
        switch (e->list_step) {
        case ENGINE_LIST_MACHINES:
                return registry_machines_prefix(e->prefix);
        case ENGINE_LIST_CORDONS:
                return registry_cordons_prefix(e->prefix);
        case ENGINE_LIST_UNITS:
                return registry_units_prefix(e->prefix);
        case ENGINE_LIST_SCHEDULE:
                return registry_schedule_prefix(e->prefix);
        case ENGINE_LIST_REASONS:
                return registry_reasons_prefix(e->prefix);
        default:
                return NULL;
        }
}

static int engine_cache_list_next(Engine *e) {
        EtcdRangeOptions options;
        int r;

        if (e->list_step >= _ENGINE_LIST_MAX) {
                /* Everything listed at list_revision: follow from the next one. */
                r = etcd_watch_new(&e->watch, e->etcd, e->prefix, ETCD_PREFIX, e->list_revision + 1,
                                   engine_on_watch, e);
                if (r < 0)
                        return r;
                e->loaded = true;
                e->list_error_logged = 0;
                engine_reconcile_request(e);
                return 0;
        }

        if (!e->list_paging) {
                _cleanup_free_ char *key = engine_cache_step_prefix(e);

                if (!key)
                        return -ENOMEM;
                /* Placements are listed without their bodies: only their revisions matter here. */
                r = etcd_pager_init(&e->list_pager, key, NULL,
                                    e->list_step == ENGINE_LIST_SCHEDULE ? ETCD_KEYS_ONLY : 0, e->list_revision);
                if (r < 0)
                        return r;
                e->list_paging = true;
                e->list_pager.max_keys = e->list_page;
                e->list_pager.max_reply = e->list_reply_max;
        }

        options = etcd_pager_options(&e->list_pager);
        return etcd_range(e->etcd, &options, engine_on_list, e, &e->list_call);
}

int engine_cache_start(Engine *e) {
        int r;

        assert(e);

        engine_cache_stop(e);

        r = scheduler_new(&e->scheduler);
        if (r < 0)
                return r;
        scheduler_set_strategy(e->scheduler, e->strategy);
        e->units = hashmap_new();
        e->reasons = hashmap_new();
        e->touched = set_new();
        e->rewrite = set_new();
        if (!e->units || !e->reasons || !e->touched || !e->rewrite)
                return -ENOMEM;

        e->list_step = ENGINE_LIST_MACHINES;
        e->list_revision = 0;
        e->stats.n_relists++;
        return engine_cache_list_next(e);
}

void engine_cache_stop(Engine *e) {
        assert(e);

        engine_writer_stop(e);
        e->loaded = false;
        e->reconcile_wanted = false;
        if (e->reconcile_event)
                (void) sd_event_source_set_enabled(e->reconcile_event, SD_EVENT_OFF);
        if (e->relist_timer)
                (void) sd_event_source_set_enabled(e->relist_timer, SD_EVENT_OFF);

        e->list_call = etcd_call_cancel(e->list_call);
        if (e->list_paging)
                etcd_pager_done(&e->list_pager);
        e->list_paging = false;
        e->watch = etcd_watch_free(e->watch);
        e->scheduler = scheduler_free(e->scheduler);
        e->units = hashmap_free_with_destructor(e->units, engine_unit_free_void);
        e->reasons = hashmap_free_free(e->reasons);
        e->touched = set_free_free(e->touched);
        e->rewrite = set_free_free(e->rewrite);
        e->stale_keys = strv_free(e->stale_keys);
}

static int engine_on_relist_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Engine *e = userdata;
        int r;

        engine_cache_stop(e);
        if (e->n_inflight > 0) {
                /* A txn of ours may still land: list only after it did, or the model would miss
                 * it (our own placements coming back through the watch are ignored). */
                engine_cache_reload_later(e, ENGINE_RETRY_USEC / 10);
                return 0;
        }
        if (!engine_is_leader(e))
                return 0;

        r = engine_cache_start(e);
        if (r < 0)
                engine_cache_list_failed(e, r, "listing");
        return 0;
}

void engine_cache_reload_later(Engine *e, uint64_t delay_usec) {
        int r;

        assert(e);

        e->loaded = false;

        if (!e->relist_timer) {
                r = sd_event_add_time_relative(e->event, &e->relist_timer, CLOCK_MONOTONIC, delay_usec, 0,
                                               engine_on_relist_timer, e);
                if (r < 0) {
                        /* Nothing is written while !loaded; the next leadership lists anew. */
                        log_debug_errno(r, "engine: cannot arm the relist timer: %m");
                        return;
                }
                (void) sd_event_source_set_description(e->relist_timer, "engine-relist");
                return;
        }

        (void) sd_event_source_set_time_relative(e->relist_timer, delay_usec);
        (void) sd_event_source_set_enabled(e->relist_timer, SD_EVENT_ONESHOT);
}
