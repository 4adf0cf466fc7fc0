/* SPDX-License-Identifier: Apache-2.0 */

/* One scheduling pass: ask the scheduler what to change, and turn it into writes: placements to
 * add and remove, placements whose unit body or desired state changed, and the reasons of units
 * that cannot be placed. Passes are coalesced: a burst of watch events asks for a pass many times,
 * the pass runs once, after the burst, from a defer source of idle priority, and never while the
 * previous pass is still being written. */

#include <inttypes.h>

#include "engine-internal.h"
#include "log.h"
#include "strv.h"

int engine_reason_set(Engine *e, const char *unit, const char *text, size_t size) {
        EngineReason *reason;
        size_t n;
        int r;

        assert(e);
        assert(unit);

        free(hashmap_remove(e->reasons, unit));
        if (!text)
                return 0;

        n = strlen(unit);
        reason = malloc(sizeof(EngineReason) + n + 1 + size + 1);
        if (!reason)
                return -ENOMEM;
        memcpy(reason->unit, unit, n + 1);
        reason->text = reason->unit + n + 1;
        memcpy(reason->text, text, size);
        reason->text[size] = '\0';

        r = hashmap_put(e->reasons, reason->unit, reason);
        if (r < 0) {
                free(reason);
                return r;
        }
        return 0;
}

static int engine_on_reconcile(sd_event_source *s, void *userdata) {
        Engine *e = userdata;
        int r;

        r = engine_reconcile_run(e);
        if (r < 0) {
                /* The model may be half-updated and partly written: rebuild it from etcd. */
                log_debug_errno(r, "engine: scheduling pass failed, listing again: %m");
                engine_cache_reload_later(e, ENGINE_RETRY_USEC);
        }
        return 0;
}

void engine_reconcile_request(Engine *e) {
        int r;

        assert(e);

        e->reconcile_wanted = true;
        if (!e->loaded || engine_writer_busy(e))
                return;         /* the end of the listing or of the write asks again */

        if (!e->reconcile_event) {
                r = sd_event_add_defer(e->event, &e->reconcile_event, engine_on_reconcile, e);
                if (r < 0) {
                        log_debug_errno(r, "engine: cannot defer the scheduling pass: %m");
                        return;
                }
                /* Idle priority: every pending watch event is processed before the pass runs. */
                (void) sd_event_source_set_priority(e->reconcile_event, SD_EVENT_PRIORITY_IDLE);
                (void) sd_event_source_set_description(e->reconcile_event, "engine-reconcile");
        }
        (void) sd_event_source_set_enabled(e->reconcile_event, SD_EVENT_ONESHOT);
}

static int engine_batch_add_assignment(Engine *e, EngineBatch *b, const EngineUnit *u, const char *machine) {
        _cleanup_free_ char *key = NULL, *json = NULL;
        RegistryAssignment a = {
                .unit = u->record->name,
                .hash = u->record->hash,
                .raw = u->record->raw,
                .desired = u->record->desired,
                .global = u->global,
        };
        int r;

        key = registry_assignment_key(e->prefix, machine, u->record->name);
        if (!key)
                return -ENOMEM;

        r = registry_assignment_to_json(&a, &json);
        if (r < 0)
                return r;

        return engine_batch_add(b, TAKE_PTR(key), TAKE_PTR(json), SIZE_MAX, false);
}

static int engine_batch_add_change(Engine *e, EngineBatch *b, const SchedulerChange *c) {
        EngineUnit *u;
        char *key;

        if (c->type == SCHEDULER_UNASSIGN) {
                key = registry_assignment_key(e->prefix, c->machine, c->unit);
                if (!key)
                        return -ENOMEM;
                return engine_batch_add(b, key, NULL, 0, false);
        }

        u = hashmap_get(e->units, c->unit);
        if (!u)
                return -ENOENT;         /* the scheduler placed a unit we do not know: a bug */
        return engine_batch_add_assignment(e, b, u, c->machine);
}

/* A unit whose record changed (or that just moved, or that is unplaced): bring its reason up to
 * date, and with rewrite write its placements that this pass did not already write. */
static int engine_batch_add_unit(Engine *e, EngineBatch *b, const char *name, bool rewrite) {
        _cleanup_strv_free_ char **machines = NULL;
        const EngineReason *old;
        const char *reason = NULL;
        EngineUnit *u;
        int r;

        u = hashmap_get(e->units, name);
        if (u && !u->is_template) {
                if (u->invalid)
                        reason = u->invalid;
                else {
                        /* A unit moved after failures keeps saying so where it runs now. */
                        reason = scheduler_unit_reason(e->scheduler, name) ?:
                                 scheduler_unit_moved(e->scheduler, name);

                        if (rewrite) {
                                r = scheduler_unit_machines(e->scheduler, name, &machines);
                                if (r < 0 && r != -ENOENT)
                                        return r;
                        }
                }
        }

        STRV_FOREACH(m, machines) {
                _cleanup_free_ char *key = NULL;

                key = registry_assignment_key(e->prefix, *m, name);
                if (!key)
                        return -ENOMEM;
                if (hashmap_contains(b->by_key, key))
                        continue;
                r = engine_batch_add_assignment(e, b, u, *m);
                if (r < 0)
                        return r;
        }

        old = hashmap_get(e->reasons, name);
        if (streq_ptr(old ? old->text : NULL, reason))
                return 0;

        if (reason) {
                _cleanup_free_ char *key = NULL, *text = NULL;

                key = registry_reason_key(e->prefix, name);
                text = strdup(reason);
                if (!key || !text)
                        return -ENOMEM;
                r = engine_batch_add(b, TAKE_PTR(key), TAKE_PTR(text), SIZE_MAX, true);
        } else {
                char *key = registry_reason_key(e->prefix, name);
                if (!key)
                        return -ENOMEM;
                r = engine_batch_add(b, key, NULL, 0, false);
        }
        if (r < 0)
                return r;

        return engine_reason_set(e, name, reason, reason ? strlen(reason) : 0);
}

static int engine_touched_add(Set *touched, const char *unit) {
        char *copy;

        if (set_contains(touched, unit))
                return 0;
        copy = strdup(unit);
        if (!copy)
                return -ENOMEM;
        return set_consume(touched, copy);
}

int engine_reconcile_run(Engine *e) {
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *changes = NULL;
        _cleanup_(engine_batch_freep) EngineBatch *b = NULL;
        _cleanup_(set_free_freep) Set *touched = NULL, *rewrite = NULL;
        const char *name;
        void *v;
        int r;

        assert(e);

        if (!engine_is_leader(e) || !e->loaded || engine_writer_busy(e))
                return 0;
        e->reconcile_wanted = false;

        r = scheduler_reconcile(e->scheduler, &changes);
        if (r < 0)
                return r;
        e->stats.n_reconciles++;

        r = engine_batch_new(&b);
        if (r < 0)
                return r;

        STRV_FOREACH(k, e->stale_keys) {
                r = engine_batch_add(b, strdup(*k), NULL, 0, false);
                if (r < 0)
                        return r;
        }
        e->stale_keys = strv_free(e->stale_keys);

        for (size_t i = 0; i < changes->n_changes; i++) {
                r = engine_batch_add_change(e, b, &changes->changes[i]);
                if (r < 0)
                        return r;
        }

        /* Units to re-check: those whose record changed, those that moved, and those that had a
         * reason (it may have changed, or they may be placed now). */
        touched = TAKE_PTR(e->touched);
        rewrite = TAKE_PTR(e->rewrite);
        e->touched = set_new();
        e->rewrite = set_new();
        if (!e->touched || !e->rewrite)
                return -ENOMEM;
        for (size_t i = 0; i < changes->n_changes; i++) {
                r = engine_touched_add(touched, changes->changes[i].unit);
                if (r < 0)
                        return r;
        }
        HASHMAP_FOREACH_KEY(v, name, e->reasons) {
                r = engine_touched_add(touched, name);
                if (r < 0)
                        return r;
        }

        SET_FOREACH(name, touched) {
                r = engine_batch_add_unit(e, b, name, set_contains(rewrite, name));
                if (r < 0)
                        return r;
        }

        log_debug("engine: pass %" PRIu64 ": %zu changes, %zu writes", e->stats.n_reconciles,
                  changes->n_changes, b->n_ops);

        if (b->n_ops == 0)
                return 0;

        return engine_writer_submit(e, TAKE_PTR(b));
}
