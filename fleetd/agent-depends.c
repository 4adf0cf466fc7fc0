/* SPDX-License-Identifier: Apache-2.0 */

/* The dependencies of this machine's units on units that may run elsewhere (compose's depends_on
 * across machines; [X-Fleet] DependsOn=, unit-depend.h). A unit with dependencies is not started
 * until each meets its condition in its state record (P states/<dependency>/<machine>, on any
 * machine), read and then watched per dependency: the agent learns of a change from etcd's watch,
 * never by asking again. Meanwhile the reason is in the unit's state record ("waiting for
 * db.service to be healthy: ..."). A dependency assigned to this machine is left to systemd's
 * After=/Wants= (which unitgen writes next to DependsOn=), so the ordering on one machine stays
 * systemd's. With "restart", a running unit is restarted when its dependency meets its condition
 * again after it stopped meeting it everywhere (a restart, a crash, a move to another machine).
 * A running unit is never stopped for a dependency, and one already running is not held. */

#include "agent-internal.h"
#include "log.h"
#include "strv.h"
#include "unit-name.h"
#include "xfleet.h"

#define DEPENDS_RETRY_USEC (1 * USEC_PER_SEC)

static void states_free_value(void *p) {
        registry_unit_state_free(p);
}

static AgentDependWatch *depend_watch_free(AgentDependWatch *w) {
        if (!w)
                return NULL;
        w->sync_call = etcd_call_cancel(w->sync_call);
        w->watch = etcd_watch_free(w->watch);
        w->retry = sd_event_source_unref(w->retry);
        hashmap_free_with_destructor(w->states, states_free_value);
        free(w->unit);
        return mfree(w);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AgentDependWatch *, depend_watch_free);

void agent_depends_done(Agent *a) {
        AgentDependWatch *w;

        HASHMAP_FOREACH(w, a->depend_watches)
                depend_watch_free(w);
        a->depend_watches = hashmap_free(a->depend_watches);
}

void agent_depends_unit_clear(AgentUnit *u) {
        for (size_t i = 0; i < u->n_depends; i++)
                unit_depend_done(&u->depends[i].dep);
        u->depends = mfree(u->depends);
        u->n_depends = 0;
        u->depends_blocked = mfree(u->depends_blocked);
}

static bool unit_needs(const AgentUnit *u, const char *dependency) {
        for (size_t i = 0; i < u->n_depends; i++)
                if (streq(u->depends[i].dep.unit, dependency))
                        return true;
        return false;
}

void agent_depends_gc(Agent *a) {
        AgentDependWatch *w;

        HASHMAP_FOREACH(w, a->depend_watches) {
                AgentUnit *u;
                bool needed = false;

                HASHMAP_FOREACH(u, a->units)
                        needed = needed || (u->assignment && unit_needs(u, w->unit));
                if (!needed) {
                        (void) hashmap_remove(a->depend_watches, w->unit);
                        depend_watch_free(w);
                }
        }
}

/* The copy that meets d's condition, else the one that comes closest (a running one), else NULL. */
static const RegistryUnitState *depend_best(const AgentDependWatch *w, const UnitDepend *d, bool *ret_met) {
        const RegistryUnitState *s, *best = NULL;

        HASHMAP_FOREACH(s, w->states) {
                if (unit_depend_met(d->condition, s->active_state, s->sub_state, s->health)) {
                        *ret_met = true;
                        return s;
                }
                if (!best || unit_active_state_is_running(unit_active_state_from_string(s->active_state)))
                        best = s;
        }
        *ret_met = false;
        return best;
}

static bool depend_met_anywhere(Agent *a, const UnitDepend *d) {
        AgentDependWatch *w = hashmap_get(a->depend_watches, d->unit);
        bool met = false;

        if (w && w->synced)
                (void) depend_best(w, d, &met);
        return met;
}

/* The state records of w's unit changed: start the units waiting for it, restart those that asked
 * for it ("restart") once it meets its condition again after it stopped meeting it. */
static void depend_changed(Agent *a, AgentDependWatch *w) {
        AgentUnit *u;
        bool again = false;

        HASHMAP_FOREACH(u, a->units)
                for (size_t i = 0; i < u->n_depends; i++) {
                        AgentDepend *d = u->depends + i;
                        bool met;

                        if (!streq(d->dep.unit, w->unit))
                                continue;
                        if (!u->started) {
                                again = true;
                                continue;
                        }
                        if (!d->dep.restart)
                                continue;
                        met = depend_met_anywhere(a, &d->dep);
                        if (!met) {
                                if (!d->lost)
                                        log_info("%s: %s no longer %s; %s is restarted when it is again.", u->name,
                                                 d->dep.unit, unit_depend_condition_to_string(d->dep.condition),
                                                 u->name);
                                d->lost = true;
                                continue;
                        }
                        if (!d->lost)
                                continue;
                        d->lost = false;
                        if (!u->assignment || u->assignment->desired != UNIT_DESIRED_LAUNCHED ||
                            agent_unit_fenced(a, u))
                                continue;
                        log_notice("Restarting %s: its dependency %s restarted (restart: true).", u->name, d->dep.unit);
                        if (systemd_client_restart_unit(a->systemd, u->name) < 0)
                                log_warning("%s: cannot restart it.", u->name);
                        else
                                a->stats.n_starts++;
                }
        if (again)
                agent_schedule_reconcile(a);
}

static int states_put(Agent *a, AgentDependWatch *w, const EtcdKeyValue *kv) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *s = NULL;
        _cleanup_free_ char *machine = NULL, *unit = NULL;
        int r;

        if (registry_parse_key(a->prefix, kv->key, &unit, &machine) != REGISTRY_KEY_STATE || !streq_ptr(unit, w->unit))
                return 0;
        r = registry_unit_state_from_json(kv->value, kv->value_size, &s);
        if (r == -ENOMEM)
                return r;
        registry_unit_state_free(hashmap_remove(w->states, machine));
        if (r < 0) {
                log_warning("Ignoring the malformed state record %s.", kv->key);
                return 0;
        }
        free(s->machine_id);
        s->machine_id = TAKE_PTR(machine);      /* the key's, which the map is keyed by */
        r = hashmap_put(w->states, s->machine_id, s);
        if (r < 0)
                return r;
        TAKE_PTR(s);
        return 0;
}

static void states_delete(Agent *a, AgentDependWatch *w, const char *key) {
        _cleanup_free_ char *machine = NULL, *unit = NULL;

        if (registry_parse_key(a->prefix, key, &unit, &machine) != REGISTRY_KEY_STATE || !streq_ptr(unit, w->unit))
                return;
        registry_unit_state_free(hashmap_remove(w->states, machine));
}

static void depend_sync(Agent *a, AgentDependWatch *w);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        AgentDependWatch *w = userdata;

        w->retry = sd_event_source_unref(w->retry);
        depend_sync(w->agent, w);
        return 0;
}

static void sync_later(AgentDependWatch *w) {
        int r;

        w->retry = sd_event_source_unref(w->retry);
        r = sd_event_add_time_relative(w->agent->event, &w->retry, CLOCK_MONOTONIC, DEPENDS_RETRY_USEC, 0, on_retry, w);
        if (r < 0)
                log_error_errno(r, "Failed to arm the re-read of %s's states: %m", w->unit);
}

static void on_watch(EtcdWatch *ew, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        AgentDependWatch *w = userdata;
        Agent *a = w->agent;
        int r;

        if (error < 0) {
                log_warning_errno(error, "The watch of %s's states ended, reading them again: %m", w->unit);
                w->watch = etcd_watch_free(w->watch);
                depend_sync(a, w);
                return;
        }
        for (size_t i = 0; i < n_events; i++) {
                if (events[i].type == ETCD_EVENT_PUT) {
                        r = states_put(a, w, &events[i].kv);
                        if (r < 0)
                                log_oom();
                } else
                        states_delete(a, w, events[i].kv.key);
        }
        depend_changed(a, w);
}

static void on_synced(EtcdClient *e, int error, const EtcdResponse *response, void *userdata) {
        AgentDependWatch *w = userdata;
        Agent *a = w->agent;
        _cleanup_free_ char *p = NULL;
        RegistryUnitState *s;
        int r;

        w->sync_call = NULL;
        if (error < 0) {
                log_warning_errno(error, "Failed to read the states of %s, retrying: %m", w->unit);
                sync_later(w);
                return;
        }
        HASHMAP_FOREACH(s, w->states)
                registry_unit_state_free(s);
        hashmap_clear(w->states);
        for (size_t i = 0; i < response->n_kvs; i++) {
                r = states_put(a, w, &response->kvs[i]);
                if (r < 0) {
                        log_oom();
                        sync_later(w);
                        return;
                }
        }
        w->synced = true;

        p = registry_unit_states_prefix(a->prefix, w->unit);
        r = p ? etcd_watch_new(&w->watch, a->etcd, p, ETCD_PREFIX, response->revision + 1, on_watch, w) : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to watch the states of %s, retrying: %m", w->unit);
                sync_later(w);
        }
        depend_changed(a, w);
}

static void depend_sync(Agent *a, AgentDependWatch *w) {
        _cleanup_free_ char *p = registry_unit_states_prefix(a->prefix, w->unit);
        int r;

        if (a->shutting_down)
                return;
        w->watch = etcd_watch_free(w->watch);
        w->sync_call = etcd_call_cancel(w->sync_call);
        w->retry = sd_event_source_unref(w->retry);
        r = p ? etcd_range(a->etcd, &(EtcdRangeOptions) { .key = p, .flags = ETCD_PREFIX }, on_synced, w, &w->sync_call)
              : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to read the states of %s, retrying: %m", w->unit);
                sync_later(w);
        }
}

static int depend_watch_get(Agent *a, const char *unit) {
        _cleanup_(depend_watch_freep) AgentDependWatch *w = NULL;
        int r;

        if (hashmap_contains(a->depend_watches, unit))
                return 0;
        if (!a->depend_watches) {
                a->depend_watches = hashmap_new();
                if (!a->depend_watches)
                        return -ENOMEM;
        }
        w = new0(AgentDependWatch, 1);
        if (!w)
                return -ENOMEM;
        w->agent = a;
        w->unit = strdup(unit);
        w->states = hashmap_new();
        if (!w->unit || !w->states)
                return -ENOMEM;
        r = hashmap_put(a->depend_watches, w->unit, w);
        if (r < 0)
                return r;
        depend_sync(a, TAKE_PTR(w));
        return 0;
}

int agent_depends_set_body(Agent *a, AgentUnit *u, const UnitFile *f) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_free_ char *error = NULL;
        size_t n;
        int r;

        agent_depends_unit_clear(u);
        if (!f)
                return 0;
        r = xfleet_options_parse(f, unit_name_is_template(u->name) ? NULL : u->name, &x, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning("%s: %s; its dependencies are not awaited.", u->name, strna(error));
                return 0;
        }
        n = strv_length(x->depends_on);
        if (n == 0)
                return 0;
        u->depends = new0(AgentDepend, n);
        if (!u->depends)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = unit_depend_parse(x->depends_on[i], &u->depends[i].dep, NULL);
                if (r < 0)
                        return r == -ENOMEM ? r : 0;    /* canonical already: cannot fail otherwise */
                u->n_depends++;
                r = depend_watch_get(a, u->depends[i].dep.unit);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void set_blocked(Agent *a, AgentUnit *u, char *why) {
        if (streq_ptr(u->depends_blocked, why)) {
                free(why);
                return;
        }
        if (why)
                log_notice("Not starting %s: %s.", u->name, why);
        else if (u->depends_blocked)
                log_info("The dependencies of %s are met: starting it.", u->name);
        free_and_replace(u->depends_blocked, why);
        agent_schedule_publish(a);
}

int agent_depends_check(Agent *a, AgentUnit *u) {
        for (size_t i = 0; i < u->n_depends; i++) {
                AgentDepend *d = u->depends + i;
                AgentUnit *local = hashmap_get(a->units, d->dep.unit);
                AgentDependWatch *w = hashmap_get(a->depend_watches, d->dep.unit);
                const RegistryUnitState *best;
                char *why;
                bool met;

                d->lost = false;
                /* Here too: systemd orders the two (After=, Wants=), as on any single machine. */
                if (local && local->assignment)
                        continue;
                /* Adopted running (a restarted agent): it is not held back. */
                if (u->active_state && agent_unit_is_running(u))
                        continue;
                if (!w) {
                        /* Dropped while u had no assignment yet: watched again. */
                        int r = depend_watch_get(a, d->dep.unit);

                        if (r < 0)
                                return r;
                }
                if (!w || !w->synced) {
                        if (asprintf(&why, "waiting for the state of %s to be read from etcd", d->dep.unit) < 0)
                                return -ENOMEM;
                        set_blocked(a, u, why);
                        return 1;
                }
                best = depend_best(w, &d->dep, &met);
                if (met)
                        continue;
                why = unit_depend_describe_wait(&d->dep, best ? best->active_state : NULL, best ? best->sub_state : NULL,
                                                best ? best->health : UNIT_HEALTH_NONE);
                if (!why)
                        return -ENOMEM;
                set_blocked(a, u, why);
                return 1;
        }
        set_blocked(a, u, NULL);
        return 0;
}
