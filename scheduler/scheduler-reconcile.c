/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>
#include <stdio.h>

#include "scheduler-internal.h"
#include "strv.h"
#include "unit-name.h"

#define RECONCILE_ROUNDS_MAX 16U

static char *reason_new(const char *format, ...) _printf_(1, 2);
static char *reason_new(const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

static int emit(SchedulerChangeList *l, SchedulerChangeType type, const Unit *u, const Machine *m) {
        return change_list_append(l, type, u->name, m->id, unit_is_global(u));
}

static int unassign(Scheduler *s, SchedulerChangeList *l, Unit *u) {
        int r;

        r = emit(l, SCHEDULER_UNASSIGN, u, u->machine);
        if (r < 0)
                return r;
        return machine_detach_unit(s, u);
}

/* Move off m every unit that u replaces (unless it replaces u in turn: then they only exclude
 * each other). */
static int evict_replaced(Scheduler *s, SchedulerChangeList *l, const Unit *u, Machine *m) {
        int r;

        if (u->plain || strv_length(u->x->replaces) == 0)
                return 0;
        for (size_t i = 0; i < m->units.n_units;) {
                Unit *v = m->units.units[i];

                if (v != u && unit_replaces(u, v) && !unit_replaces(v, u)) {
                        v->evicted_serial = s->serial;
                        r = unassign(s, l, v);
                        if (r < 0)
                                return r;
                        continue;       /* slot i now holds another unit */
                }
                i++;
        }
        for (size_t i = 0; i < m->globals.n_units;) {
                Unit *g = m->globals.units[i];

                if (unit_replaces(u, g)) {
                        r = emit(l, SCHEDULER_UNASSIGN, g, m);
                        if (r < 0)
                                return r;
                        machine_detach_global(s, m, g);
                        continue;
                }
                i++;
        }
        return 0;
}

/* A unit evicted in this reconcile does not evict in turn: chains of Replaces cannot cycle. */
static bool unit_may_evict(const Scheduler *s, const Unit *u) {
        return u->evicted_serial != s->serial;
}

static EvictMode unit_evict_mode(const Scheduler *s, const Unit *u, EvictMode mode) {
        return unit_may_evict(s, u) ? mode : EVICT_NONE;
}

static int place(Scheduler *s, SchedulerChangeList *l, Unit *u, Machine *m) {
        int r;

        r = machine_attach_unit(s, m, u);
        if (r < 0)
                return r;
        r = emit(l, SCHEDULER_ASSIGN, u, m);
        if (r < 0)
                return r;
        if (!unit_may_evict(s, u))
                return 0;
        return evict_replaced(s, l, u, m);
}

/* Placed units whose options or machine changed: keep them where they are if they still fit. */
static int reconcile_checks(Scheduler *s, SchedulerChangeList *l) {
        UnitList *check = s->lists + UNIT_LIST_CHECK;
        int r;

        while (check->n_units > 0) {
                Unit *u = check->units[check->n_units - 1];
                const Unit *blocker = NULL;

                unit_list_remove(s, UNIT_LIST_CHECK, u);
                if (!u->machine)
                        continue;
                if (unit_wanted(u) && unit_fits(s, u, u->machine, EVICT_ALL, &blocker) == FIT_OK) {
                        r = evict_replaced(s, l, u, u->machine);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = unassign(s, l, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool follower_in_place(const Scheduler *s, const Unit *u) {
        STRV_FOREACH(peer, u->x->machine_of) {
                const Unit *p = hashmap_get(s->units, *peer);

                if (!p || p->machine != u->machine)
                        return false;
        }
        return true;
}

/* Followers move with their targets: a follower whose peers left its machine leaves too. Repeat
 * until stable, for chains. */
static int reconcile_followers(Scheduler *s, SchedulerChangeList *l) {
        UnitList *followers = s->lists + UNIT_LIST_FOLLOWER;
        bool changed;
        int r;

        if (!s->followers_dirty)
                return 0;
        do {
                changed = false;
                for (size_t i = 0; i < followers->n_units; i++) {
                        Unit *u = followers->units[i];

                        if (!u->machine || follower_in_place(s, u))
                                continue;
                        r = unassign(s, l, u);
                        if (r < 0)
                                return r;
                        changed = true;
                }
        } while (changed);
        s->followers_dirty = false;
        return 0;
}

static bool global_blocked_by(const Unit *g, const Unit *v) {
        return units_conflict(g, v) || unit_replaces(v, g);
}

/* Which global units run on m: those whose metadata matches and that conflict with no
 * non-global unit placed there and with no global unit before them by name. */
static int reconcile_globals_on(Scheduler *s, SchedulerChangeList *l, Machine *m, UnitList *accepted) {
        const UnitList *globals = s->lists + UNIT_LIST_GLOBAL;
        int r;

        accepted->n_units = 0;
        for (size_t i = 0; i < globals->n_units; i++) {
                Unit *g = globals->units[i];
                bool ok = unit_wanted(g) && !g->template &&
                          xfleet_metadata_match(g->x->machine_metadata, m->metadata);

                for (size_t j = 0; ok && j < m->units.n_units; j++)
                        ok = !global_blocked_by(g, m->units.units[j]);
                for (size_t j = 0; ok && j < accepted->n_units; j++)
                        ok = !global_blocked_by(g, accepted->units[j]);
                /* Room beside the non-global units and the globals accepted before it by name. */
                if (ok && g->reserves)
                        ok = machine_has_room(m, g, m->globals.units, m->globals.n_units, accepted->units,
                                              accepted->n_units);
                if (!ok)
                        continue;
                if (!GREEDY_REALLOC(accepted->units, accepted->n_allocated, accepted->n_units + 1))
                        return -ENOMEM;
                accepted->units[accepted->n_units++] = g;
        }

        for (size_t i = 0; i < m->globals.n_units;) {
                Unit *g = m->globals.units[i];
                bool keep = false;

                for (size_t j = 0; j < accepted->n_units && !keep; j++)
                        keep = accepted->units[j] == g;
                if (keep) {
                        i++;
                        continue;
                }
                r = emit(l, SCHEDULER_UNASSIGN, g, m);
                if (r < 0)
                        return r;
                machine_detach_global(s, m, g);
        }
        for (size_t j = 0; j < accepted->n_units; j++) {
                Unit *g = accepted->units[j];

                if (machine_has_global(m, g))
                        continue;
                r = machine_attach_global(s, m, g);
                if (r < 0)
                        return r;
                r = emit(l, SCHEDULER_ASSIGN, g, m);
                if (r < 0)
                        return r;
        }
        m->globals_dirty = false;
        return 0;
}

static void global_set_reason(Scheduler *s, Unit *g) {
        _cleanup_free_ char *req = NULL;
        bool any_match = false;
        Machine *m;

        if (!unit_wanted(g) || g->n_global_placements > 0)
                return;
        if (hashmap_size(s->machines) == 0) {
                unit_set_failed(s, g, reason_new("no machines are available"), false);
                return;
        }
        HASHMAP_FOREACH(m, s->machines)
                if (xfleet_metadata_match(g->x->machine_metadata, m->metadata)) {
                        any_match = true;
                        break;
                }
        req = strv_join(g->x->machine_metadata, " ");
        if (any_match && g->reserves && !s->sorted_dirty) {
                unit_set_failed(s, g, resources_reason(&s->all, g), false);
                g->reason_quotes_room = true;
        } else
                unit_set_failed(s, g, any_match ? reason_new("conflicts with other units on every matching machine")
                                                : reason_new("no machine matches MachineMetadata=%s", strempty(req)),
                                false);
}

/* A global unit's reason that quotes free room is written when its machines are recomputed, which
 * can be before units placed later in the pass (or in a later pass) take that room: write it
 * again with the room as it is once the pass is done. */
static void globals_refresh_reasons(Scheduler *s) {
        const UnitList *globals = s->lists + UNIT_LIST_GLOBAL;

        for (size_t i = 0; i < globals->n_units; i++) {
                Unit *g = globals->units[i];

                if (g->failed && g->reason_quotes_room && g->fail_room_serial != s->room_serial)
                        global_set_reason(s, g);
        }
}

static int reconcile_globals(Scheduler *s, SchedulerChangeList *l) {
        UnitList *globals = s->lists + UNIT_LIST_GLOBAL;
        UnitList accepted = {};
        bool any = false;
        Machine *m;
        int r = 0;

        if (globals->n_units == 0 && !s->all_globals_dirty)
                return 0;
        if (!s->globals_sorted) {
                unit_list_sort(s, UNIT_LIST_GLOBAL);
                s->globals_sorted = true;
        }

        HASHMAP_FOREACH(m, s->machines) {
                if (!m->globals_dirty && !s->all_globals_dirty)
                        continue;
                r = reconcile_globals_on(s, l, m, &accepted);
                if (r < 0)
                        break;
                any = true;
        }
        free(accepted.units);
        if (r < 0)
                return r;
        s->all_globals_dirty = false;

        if (any || hashmap_size(s->machines) == 0)
                for (size_t i = 0; i < globals->n_units; i++)
                        global_set_reason(s, globals->units[i]);
        return 0;
}

/* The reason a unit fits nowhere, from the tallies of a search over ix. */
static char *reason_from_search(const LoadIndex *ix, const Unit *u, const size_t counts[static _FIT_RESULT_MAX],
                                const Unit *blocker) {
        _cleanup_free_ char *req = NULL;

        if (counts[FIT_RESOURCES] > 0)
                return resources_reason(ix, u);
        if (counts[FIT_MAX_PER_MACHINE] > 0)
                return reason_new("MaxReplicasPerMachine=%u: every eligible machine has that many instances of %s",
                                  u->x->max_per_machine, u->group);
        if (blocker) {
                if (units_conflict(u, blocker))
                        return reason_new("conflicts with %s on every eligible machine", blocker->name);
                if (unit_replaces(blocker, u))
                        return reason_new("replaced by %s on every eligible machine", blocker->name);
                return reason_new("replaces %s, which cannot move, on every eligible machine",
                                  blocker->name);
        }
        if (counts[FIT_METADATA] > 0) {
                req = strv_join(u->x->machine_metadata, " ");
                return reason_new("no machine matches MachineMetadata=%s", strempty(req));
        }
        if (counts[FIT_CORDONED] > 0)
                return reason_new("every machine it fits on is cordoned or drained");
        if (counts[FIT_EXCLUDED] > 0)
                return reason_new("it was given up on every machine it fits on");
        return reason_new("no machine fits");
}

/* The reason a unit does not fit its only candidate m. */
static char *reason_from_fit(const Unit *u, const Machine *m, FitResult f, const Unit *blocker,
                             const char *why) {
        _cleanup_free_ char *req = NULL;

        switch (f) {
        case FIT_METADATA:
                req = strv_join(u->x->machine_metadata, " ");
                return reason_new("machine %s (%s) does not match MachineMetadata=%s", m->id, why,
                                  strempty(req));
        case FIT_CONFLICT:
                return reason_new("conflicts with %s on machine %s (%s)", blocker->name, m->id, why);
        case FIT_REPLACED:
                return reason_new("replaced by %s on machine %s (%s)", blocker->name, m->id, why);
        case FIT_REPLACES:
                return reason_new("replaces %s on machine %s (%s)", blocker->name, m->id, why);
        case FIT_MACHINE_ID:
                return reason_new("machine %s does not match MachineID=%s", m->id, u->x->machine_id);
        case FIT_CORDONED:
                return reason_new("machine %s is %s (%s)", m->id, registry_cordon_to_string(m->cordon), why);
        case FIT_RESOURCES: {
                _cleanup_free_ char *need = resources_format(&u->x->reserve);
                char cpu[RESOURCES_FORMAT_MAX], mem[RESOURCES_FORMAT_MAX];

                if (!m->has_capacity)
                        return reason_new("needs %s; machine %s (%s) has published no capacity", strna(need), m->id,
                                          why);
                return reason_new("needs %s; machine %s (%s) has %s CPU / %s free", strna(need), m->id, why,
                                  resources_format_cpu(cpu, sizeof(cpu), machine_cpu_free(m)),
                                  resources_format_memory(mem, sizeof(mem), machine_mem_free(m)));
        }
        case FIT_EXCLUDED:
                return reason_new("it was given up on machine %s (%s)", m->id, why);
        case FIT_MAX_PER_MACHINE:
                return reason_new("machine %s (%s) already has MaxReplicasPerMachine=%u instances of %s", m->id,
                                  why, u->x->max_per_machine, u->group);
        default:
                return reason_new("machine %s does not fit (%s)", m->id, why);
        }
}

/* Placement of a unit with MachineOf: only where all its peers are. */
static int place_follower(Scheduler *s, SchedulerChangeList *l, Unit *u) {
        const Unit *blocker = NULL;
        Machine *m = NULL;
        FitResult f;

        STRV_FOREACH(peer, u->x->machine_of) {
                const Unit *p = hashmap_get(s->units, *peer);

                if (!p || !p->machine) {
                        unit_set_failed(s, u, reason_new("MachineOf=%s is not scheduled", *peer), true);
                        return 0;
                }
                if (m && p->machine != m) {
                        unit_set_failed(s, u, reason_new("MachineOf peers %s and %s are on different machines",
                                                         u->x->machine_of[0], *peer), true);
                        return 0;
                }
                m = p->machine;
        }

        f = unit_fits(s, u, m, unit_evict_mode(s, u, EVICT_ALL), &blocker);
        if (f != FIT_OK) {
                unit_set_failed(s, u, reason_from_fit(u, m, f, blocker, "where its MachineOf peers are"), true);
                u->reason_quotes_room = f == FIT_RESOURCES;
                return 0;
        }
        return place(s, l, u, m);
}

/* Placement of a unit with MachineID: the least-loaded matching machine that fits. */
static int place_pinned(Scheduler *s, SchedulerChangeList *l, Unit *u) {
        const char *id = u->x->machine_id;
        const Unit *blocker = NULL;
        Machine *best = NULL, *m;
        FitResult first = FIT_OK;
        size_t len = strlen(id), lo = 0, hi = s->n_sorted;

        m = hashmap_get(s->machines, id);
        if (m) {
                first = unit_fits(s, u, m, unit_evict_mode(s, u, EVICT_ALL), &blocker);
                if (first != FIT_OK) {
                        unit_set_failed(s, u, reason_from_fit(u, m, first, blocker, "its MachineID"), false);
                        u->reason_quotes_room = first == FIT_RESOURCES;
                        return 0;
                }
                return place(s, l, u, m);
        }

        /* A short ID: the machines whose ID starts with it are adjacent in the sorted array. */
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;

                if (strncmp(s->sorted[mid]->id, id, len) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < s->n_sorted && xfleet_machine_id_match(id, s->sorted[i]->id); i++) {
                const Unit *b = NULL;
                FitResult f = unit_fits(s, u, s->sorted[i], unit_evict_mode(s, u, EVICT_ALL), &b);

                if (f == FIT_OK) {
                        if (!best || s->sorted[i]->load < best->load)
                                best = s->sorted[i];
                } else if (first == FIT_OK) {
                        first = f;
                        blocker = b;
                        m = s->sorted[i];
                }
        }
        if (best)
                return place(s, l, u, best);
        if (m) {
                unit_set_failed(s, u, reason_from_fit(u, m, first, blocker, "its MachineID"), false);
                u->reason_quotes_room = first == FIT_RESOURCES;
        } else
                unit_set_failed(s, u, reason_new("MachineID=%s matches no machine", id), false);
        return 0;
}

/* A placed unit that u replaces, or NULL. */
static Unit *find_replaced(const Scheduler *s, const Unit *u) {
        STRV_FOREACH(pattern, u->x->replaces) {
                Unit *v;

                if (!strpbrk(*pattern, "*?[\\")) {
                        v = hashmap_get(s->units, *pattern);
                        if (v && v != u && v->machine)
                                return v;
                        continue;
                }
                HASHMAP_FOREACH(v, s->units)
                        if (v != u && v->machine && xfleet_glob_match(*pattern, v->name))
                                return v;
        }
        return NULL;
}

/* A placed unit that replaces u while u replaces it too: then u stays out. */
static const Unit *find_circular(const Scheduler *s, const Unit *u) {
        const UnitList *replacers = s->lists + UNIT_LIST_REPLACER;

        if (strv_length(u->x->replaces) == 0)
                return NULL;
        for (size_t i = 0; i < replacers->n_units; i++) {
                const Unit *r = replacers->units[i];

                if (r != u && r->machine && unit_replaces(r, u) && unit_replaces(u, r))
                        return r;
        }
        return NULL;
}

typedef struct SpreadGroup {
        const char *value;              /* of the SpreadMetadata key; NULL: machines without it */
        unsigned count;                 /* instances of the unit's template there */
} SpreadGroup;

static int spread_group_compare(const void *a, const void *b) {
        const SpreadGroup *x = a, *y = b;

        if (x->count != y->count)
                return x->count < y->count ? -1 : 1;
        if (!x->value || !y->value)
                return !!y->value - !!x->value;         /* machines without the key last */
        return strcmp(x->value, y->value);
}

/* SpreadMetadata=K: try the values of K in order of how few instances of u's template they hold,
 * each with the usual search limited to its machines. Costs a pass over the eligible machines,
 * for such units only. */
static int find_machine_spread(Scheduler *s, const LoadIndex *ix, const Unit *u, EvictMode evict,
                               size_t counts[static _FIT_RESULT_MAX], const Unit **blocker, Machine **ret) {
        _cleanup_free_ SpreadGroup *groups = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        for (size_t i = 0; i < ix->n_machines; i++) {
                const Machine *m = ix->machines[i];
                const char *v = machine_metadata_value(m, u->x->spread_metadata);
                size_t j;

                for (j = 0; j < n && !streq_ptr(groups[j].value, v); j++)
                        ;
                if (j == n) {
                        if (!GREEDY_REALLOC(groups, allocated, n + 1))
                                return -ENOMEM;
                        groups[n++] = (SpreadGroup) { v, 0 };
                }
                groups[j].count += machine_group_count(m, u);
        }
        if (n > 1)
                qsort(groups, n, sizeof(SpreadGroup), spread_group_compare);

        *ret = NULL;
        for (size_t j = 0; j < n && !*ret && r >= 0; j++) {
                s->spread_key = u->x->spread_metadata;
                s->spread_value = groups[j].value;
                r = scheduler_find_machine(s, ix, u, evict, counts, blocker, ret);
                s->spread_key = s->spread_value = NULL;
        }
        return r;
}

static int place_unit(Scheduler *s, SchedulerChangeList *l, Unit *u) {
        size_t counts[_FIT_RESULT_MAX] = {};
        const Unit *blocker = NULL, *circular;
        char *reason = NULL;
        LoadIndex *ix;
        Unit *replaced;
        Machine *m;
        int r;

        if (u->template) {
                unit_set_failed(s, u, reason_new("a template cannot be scheduled, only its instances"), false);
                return 0;
        }
        if (hashmap_size(s->machines) == 0) {
                unit_set_failed(s, u, reason_new("no machines are available"), false);
                return 0;
        }
        /* Nothing but the index's order and the fit: straight to the search. */
        if (u->plain)
                goto search;

        if (u->x->machine_metadata) {
                r = unit_metadata_hopeless(s, u, &reason);
                if (r < 0)
                        return r;
                if (r > 0) {
                        unit_set_failed(s, u, reason, false);
                        return 0;
                }
        }
        if (strv_length(u->x->machine_of) > 0)
                return place_follower(s, l, u);
        if (u->x->machine_id)
                return place_pinned(s, l, u);

        circular = find_circular(s, u);
        if (circular) {
                unit_set_failed(s, u, reason_new("replaced by %s, which it replaces in turn (circular Replaces)",
                                                 circular->name), false);
                return 0;
        }

        /* The replacing unit takes the replaced unit's machine if it fits there. */
        replaced = unit_may_evict(s, u) ? find_replaced(s, u) : NULL;
        if (replaced && unit_fits(s, u, replaced->machine, EVICT_ALL, &blocker) == FIT_OK)
                return place(s, l, u, replaced->machine);

search:
        r = scheduler_index_for(s, u, &ix);
        if (r < 0)
                return r;
        if (ix->n_machines == 0) {
                _cleanup_free_ char *req = strv_join(u->x->machine_metadata, " ");

                unit_set_failed(s, u, reason_new("no machine matches MachineMetadata=%s", strempty(req)), false);
                return 0;
        }

        blocker = NULL;
        if (!u->plain && u->x->spread_metadata && u->group)
                r = find_machine_spread(s, ix, u, unit_evict_mode(s, u, EVICT_GLOBALS), counts, &blocker, &m);
        else
                r = scheduler_find_machine(s, ix, u, unit_evict_mode(s, u, EVICT_GLOBALS), counts, &blocker, &m);
        if (r < 0)
                return r;
        if (!m) {
                unit_set_failed(s, u, reason_from_search(ix, u, counts, blocker), false);
                u->reason_quotes_room = counts[FIT_RESOURCES] > 0;
                return 0;
        }
        return place(s, l, u, m);
}

/* A unit that failed since nothing freed room is not tried again; but one whose reason names free
 * room is, once a placement took room somewhere, so that the numbers it shows stay true (it
 * fails again, cheaply: the search prunes every full subtree). */
static bool unit_skip_cached(const Scheduler *s, const Unit *u) {
        return u->failed && !u->retry_always && u->fail_epoch == s->epoch &&
               !(u->reason_quotes_room && u->fail_room_serial != s->room_serial);
}

static bool unit_is_follower(const Unit *u) {
        return u->follower;
}

/* The pending units to try, in order: targets before followers, then by name. */
static size_t pending_batch(Scheduler *s, NameSortItem *batch) {
        UnitList *pending = s->lists + UNIT_LIST_PENDING;
        size_t n = 0, n_targets;

        for (int follower = 0; follower <= 1; follower++) {
                for (size_t i = 0; i < pending->n_units; i++) {
                        Unit *u = pending->units[i];

                        if (unit_is_follower(u) == follower && !unit_skip_cached(s, u))
                                batch[n++] = (NameSortItem) { u->key, u->name, u };
                }
                if (!follower)
                        n_targets = n;
        }
        name_sort(batch, n_targets);
        name_sort(batch + n_targets, n - n_targets);
        return n;
}

static int reconcile_pending(Scheduler *s, SchedulerChangeList *l) {
        _cleanup_free_ NameSortItem *batch = NULL;
        size_t n_allocated = 0;
        bool progress;
        int r;

        do {
                UnitList *pending = s->lists + UNIT_LIST_PENDING;
                size_t n;

                progress = false;
                if (pending->n_units == 0)
                        break;
                if (!GREEDY_REALLOC(batch, n_allocated, pending->n_units))
                        return -ENOMEM;
                n = pending_batch(s, batch);
                if (n == 0)
                        break;
                /* Room for an assignment of each at once: growing the list by doubling would copy
                 * it into fresh pages again and again, and on a VM a fresh page costs
                 * microseconds. */
                if (!GREEDY_REALLOC(l->changes, l->n_allocated, l->n_changes + n))
                        return -ENOMEM;

                for (size_t i = 0; i < n; i++) {
                        Unit *u = batch[i].ptr;

                        /* The units come in name order, not in memory order: ask for the next ones
                         * early, each is a cache miss otherwise. */
                        if (i + 4 < n)
                                __builtin_prefetch(batch[i + 4].ptr);

                        /* Placed by an earlier step of this pass? (Evicted ones wait for the next.) */
                        if (u->machine || !unit_in_list(u, UNIT_LIST_PENDING) || unit_skip_cached(s, u))
                                continue;
                        r = place_unit(s, l, u);
                        if (r < 0)
                                return r;
                        if (u->machine)
                                progress = true;
                }
        } while (progress);
        return 0;
}

int scheduler_reconcile(Scheduler *s, SchedulerChangeList **ret) {
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        int r;

        assert(s);
        assert(ret);

        l = new0(SchedulerChangeList, 1);
        if (!l)
                return -ENOMEM;
        s->serial++;
        r = change_list_move(l, &s->queued);
        if (r < 0)
                return r;

        if (s->sorted_dirty || s->tree_dirty || s->classes_dirty) {
                r = scheduler_tree_rebuild(s);
                if (r < 0)
                        goto fail;
        }

        /* Removals first, then globals (they take precedence where nothing conflicts), then the
         * pending units, then globals again where units left a machine during placement. */
        r = reconcile_checks(s, l);
        if (r < 0)
                goto fail;
        r = reconcile_globals(s, l);
        if (r < 0)
                goto fail;

        /* Evictions (Replaces) and global units leaving a machine can let followers move and
         * failed units fit: repeat until a round changes nothing that could matter, so that a
         * second reconcile right after this one has nothing to do. The bound is a safety net. */
        for (unsigned round = 0; round < RECONCILE_ROUNDS_MAX; round++) {
                uint64_t epoch = s->epoch;

                r = reconcile_followers(s, l);
                if (r < 0)
                        goto fail;
                r = reconcile_pending(s, l);
                if (r < 0)
                        goto fail;
                r = reconcile_followers(s, l);
                if (r < 0)
                        goto fail;
                r = reconcile_globals(s, l);
                if (r < 0)
                        goto fail;
                if (s->epoch == epoch && !s->followers_dirty)
                        break;
        }
        globals_refresh_reasons(s);

        *ret = TAKE_PTR(l);
        return 0;

fail:
        /* What was applied to the model must still be reported: keep it for the next call. */
        (void) change_list_move(&s->queued, l);
        return r;
}
