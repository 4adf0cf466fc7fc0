/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "scheduler-internal.h"
#include "strv.h"
#include "unit-name.h"

/* ---- unit lists ---- */

int unit_list_add(Scheduler *s, UnitListType t, Unit *u) {
        UnitList *l = s->lists + t;

        if (unit_in_list(u, t))
                return 0;
        if (!GREEDY_REALLOC(l->units, l->n_allocated, l->n_units + 1))
                return -ENOMEM;
        u->list_index[t] = l->n_units;
        l->units[l->n_units++] = u;
        if (t == UNIT_LIST_GLOBAL)
                s->globals_sorted = false;
        return 1;
}

void unit_list_remove(Scheduler *s, UnitListType t, Unit *u) {
        UnitList *l = s->lists + t;
        size_t i = u->list_index[t];

        if (i == UNIT_LIST_NONE)
                return;
        l->units[i] = l->units[--l->n_units];
        l->units[i]->list_index[t] = i;
        u->list_index[t] = UNIT_LIST_NONE;
        if (t == UNIT_LIST_GLOBAL)
                s->globals_sorted = false;
}

static int unit_compare(const void *a, const void *b) {
        return strcmp((*(Unit *const *) a)->name, (*(Unit *const *) b)->name);
}

void unit_list_sort(Scheduler *s, UnitListType t) {
        UnitList *l = s->lists + t;

        if (l->n_units > 1)
                qsort(l->units, l->n_units, sizeof(Unit *), unit_compare);
        for (size_t i = 0; i < l->n_units; i++)
                l->units[i]->list_index[t] = i;
}

static int unit_list_append(UnitList *l, Unit *u) {
        if (!GREEDY_REALLOC(l->units, l->n_allocated, l->n_units + 1))
                return -ENOMEM;
        l->units[l->n_units++] = u;
        return 0;
}

/* ---- placement bookkeeping ---- */

void unit_set_failed(Scheduler *s, Unit *u, char *reason, bool retry_always) {
        /* A unit moved away from a machine says so first: that is what its user looks for. */
        if (u->moved && reason) {
                char *both = NULL;

                if (asprintf(&both, "%s; %s", u->moved, reason) < 0)
                        both = NULL;
                free(reason);
                reason = both;
        }
        free_and_replace(u->reason, reason);
        u->failed = true;
        u->retry_always = retry_always;
        u->fail_epoch = s->epoch;
        u->reason_quotes_room = false;
        u->fail_room_serial = s->room_serial;
}

static void unit_clear_failed(Unit *u) {
        u->reason = mfree(u->reason);
        u->failed = false;
}

static void machine_load_changed(Scheduler *s, Machine *m, int delta, bool patterned) {
        m->load += delta;
        if (patterned)
                m->n_patterned += delta;
        scheduler_tree_update(s, m);
}

int machine_attach_unit(Scheduler *s, Machine *m, Unit *u) {
        int r;

        assert(!u->machine);

        r = unit_list_append(&m->units, u);
        if (r < 0)
                return r;
        u->machine = m;
        u->machine_slot = m->units.n_units - 1;
        machine_load_changed(s, m, +1, u->has_patterns);
        machine_reserve(s, m, u, +1);
        unit_list_remove(s, UNIT_LIST_PENDING, u);
        unit_clear_failed(u);
        return 0;
}

int machine_detach_unit(Scheduler *s, Unit *u) {
        Machine *m = u->machine;
        size_t i = u->machine_slot;

        assert(m);

        m->units.units[i] = m->units.units[--m->units.n_units];
        m->units.units[i]->machine_slot = i;
        u->machine = NULL;
        machine_load_changed(s, m, -1, u->has_patterns);
        machine_reserve(s, m, u, -1);
        unit_list_remove(s, UNIT_LIST_CHECK, u);

        /* A unit leaving can unblock others: globals here, and anything that failed before. */
        if (s->lists[UNIT_LIST_GLOBAL].n_units > 0)
                m->globals_dirty = true;
        s->followers_dirty = true;
        s->epoch++;

        if (unit_wanted(u) && !unit_is_global(u)) {
                int r = unit_list_add(s, UNIT_LIST_PENDING, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool machine_has_global(const Machine *m, const Unit *u) {
        for (size_t i = 0; i < m->globals.n_units; i++)
                if (m->globals.units[i] == u)
                        return true;
        return false;
}

int machine_attach_global(Scheduler *s, Machine *m, Unit *u) {
        int r;

        r = unit_list_append(&m->globals, u);
        if (r < 0)
                return r;
        u->n_global_placements++;
        machine_load_changed(s, m, +1, u->has_patterns);
        machine_reserve(s, m, u, +1);
        unit_clear_failed(u);
        return 0;
}

void machine_detach_global(Scheduler *s, Machine *m, Unit *u) {
        for (size_t i = 0; i < m->globals.n_units; i++)
                if (m->globals.units[i] == u) {
                        m->globals.units[i] = m->globals.units[--m->globals.n_units];
                        u->n_global_placements--;
                        machine_load_changed(s, m, -1, u->has_patterns);
                        machine_reserve(s, m, u, -1);
                        m->globals_dirty = true;
                        s->epoch++;
                        return;
                }
}

int machine_recheck(Scheduler *s, Machine *m) {
        int r;

        for (size_t i = 0; i < m->units.n_units; i++) {
                r = unit_list_add(s, UNIT_LIST_CHECK, m->units.units[i]);
                if (r < 0)
                        return r;
        }
        m->globals_dirty = true;
        s->epoch++;
        return 0;
}

/* Detach u from m and report it at the next reconcile. */
static int queue_unassign(Scheduler *s, Machine *m, Unit *u) {
        int r;

        r = change_list_append(&s->queued, SCHEDULER_UNASSIGN, u->name, m->id, unit_is_global(u));
        if (r < 0)
                return r;
        if (unit_is_global(u)) {
                machine_detach_global(s, m, u);
                return 0;
        }
        return machine_detach_unit(s, u);
}

/* Detach every unit of a machine's list (its placed or its global units), last first, reporting
 * each; detaching takes the unit off the list. */
static int queue_unassign_all(Scheduler *s, Machine *m, UnitList *l) {
        int r;

        while (l->n_units > 0) {
                r = queue_unassign(s, m, l->units[l->n_units - 1]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Detach a global unit from every machine, reporting each. */
static int unit_unplace_global(Scheduler *s, Unit *u) {
        Machine *m;
        int r;

        if (u->n_global_placements == 0)
                return 0;
        HASHMAP_FOREACH(m, s->machines)
                if (machine_has_global(m, u)) {
                        r = queue_unassign(s, m, u);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* ---- objects ---- */

static Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;
        scheduler_name_unref(u->name);
        free(u->signature);
        free(u->group);
        xfleet_options_free(u->x);
        free(u->reason);
        strv_free(u->excluded);
        free(u->moved);
        return mfree(u);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Unit *, unit_free);

static void unit_free_void(void *u) {
        unit_free(u);
}

static Machine *machine_free(Machine *m) {
        if (!m)
                return NULL;
        scheduler_name_unref(m->id);
        strv_free(m->metadata);
        free(m->refs);
        free(m->units.units);
        free(m->globals.units);
        resources_done(&m->capacity);
        free(m->extra_used);
        return mfree(m);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Machine *, machine_free);

static void machine_free_void(void *m) {
        machine_free(m);
}

static void cordon_free(void *p) {
        Cordon *c = p;

        if (!c)
                return;
        free(c->id);
        free(c);
}

static void metadata_count_free(void *p) {
        MetadataCount *c = p;

        if (!c)
                return;
        free(c->kv);
        free(c);
}

int scheduler_new(Scheduler **ret) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;

        assert(ret);

        s = new0(Scheduler, 1);
        if (!s)
                return -ENOMEM;
        s->machines = hashmap_new();
        s->units = hashmap_new();
        s->metadata_counts = hashmap_new();
        s->classes = hashmap_new();
        s->cordons = hashmap_new();
        if (!s->machines || !s->units || !s->metadata_counts || !s->classes || !s->cordons)
                return -ENOMEM;
        s->globals_sorted = true;
        room_levels_init(&s->levels);

        *ret = TAKE_PTR(s);
        return 0;
}

Scheduler *scheduler_free(Scheduler *s) {
        if (!s)
                return NULL;
        hashmap_free_with_destructor(s->units, unit_free_void);
        hashmap_free_with_destructor(s->machines, machine_free_void);
        hashmap_free_with_destructor(s->metadata_counts, metadata_count_free);
        hashmap_free_with_destructor(s->classes, meta_class_free_void);
        hashmap_free_with_destructor(s->cordons, cordon_free);
        free(s->sorted);
        scheduler_index_free(s);
        for (size_t i = 0; i < _UNIT_LIST_MAX; i++)
                free(s->lists[i].units);
        change_list_done(&s->queued);
        return mfree(s);
}

/* ---- machines ---- */

static int metadata_counts_adjust(Scheduler *s, char *const *metadata, int delta) {
        int r;

        STRV_FOREACH(kv, metadata) {
                MetadataCount *c = hashmap_get(s->metadata_counts, *kv);

                if (!c) {
                        if (delta < 0)
                                continue;
                        c = new0(MetadataCount, 1);
                        if (!c)
                                return -ENOMEM;
                        c->kv = strdup(*kv);
                        if (!c->kv) {
                                metadata_count_free(c);
                                return -ENOMEM;
                        }
                        r = hashmap_put(s->metadata_counts, c->kv, c);
                        if (r < 0) {
                                metadata_count_free(c);
                                return r;
                        }
                }
                c->count += delta;
                if (c->count == 0)
                        metadata_count_free(hashmap_remove(s->metadata_counts, *kv));
        }
        return 0;
}

int scheduler_machine_add(Scheduler *s, const char *id, char *const *metadata) {
        _cleanup_strv_free_ char **md = NULL;
        const Cordon *c;
        Machine *m;
        int r;

        assert(s);
        assert(id);

        if (isempty(id))
                return -EINVAL;
        if (metadata) {
                md = strv_copy(metadata);
                if (!md)
                        return -ENOMEM;
        }

        m = hashmap_get(s->machines, id);
        if (m) {
                if (strv_equal(m->metadata, md))
                        return 0;
                r = metadata_counts_adjust(s, md, +1);
                if (r < 0)
                        return r;
                (void) metadata_counts_adjust(s, m->metadata, -1);
                strv_free(m->metadata);
                m->metadata = TAKE_PTR(md);

                s->classes_dirty = s->tree_dirty = true;
                return machine_recheck(s, m);
        }

        _cleanup_(machine_freep) Machine *n = new0(Machine, 1);
        if (!n)
                return -ENOMEM;
        n->id = scheduler_name_new(id);
        if (!n->id)
                return -ENOMEM;
        n->key = name_key(id);
        n->metadata = TAKE_PTR(md);
        n->globals_dirty = true;
        c = hashmap_get(s->cordons, id);
        n->cordon = c ? c->cordon : REGISTRY_CORDON_NONE;
        n->share = SHARE_ONE;           /* no capacity published yet */

        r = metadata_counts_adjust(s, n->metadata, +1);
        if (r < 0)
                return r;
        r = hashmap_put(s->machines, n->id, n);
        if (r < 0) {
                (void) metadata_counts_adjust(s, n->metadata, -1);
                return r;
        }
        TAKE_PTR(n);
        s->sorted_dirty = s->tree_dirty = s->classes_dirty = true;
        s->epoch++;
        return 1;
}

int scheduler_machine_remove(Scheduler *s, const char *id) {
        Machine *m;
        int r;

        assert(s);
        assert(id);

        m = hashmap_get(s->machines, id);
        if (!m)
                return -ENOENT;

        r = queue_unassign_all(s, m, &m->units);
        if (r < 0)
                return r;
        r = queue_unassign_all(s, m, &m->globals);
        if (r < 0)
                return r;

        (void) metadata_counts_adjust(s, m->metadata, -1);
        hashmap_remove(s->machines, id);
        machine_free(m);
        s->sorted_dirty = s->tree_dirty = s->classes_dirty = true;
        return 0;
}

static int machine_set_cordon(Scheduler *s, Machine *m, RegistryCordon c) {
        int r;

        if (c == REGISTRY_CORDON_DRAINED && m->cordon != c)
                /* Its units fit nowhere here any more: the next reconcile moves them. */
                for (size_t i = 0; i < m->units.n_units; i++) {
                        r = unit_list_add(s, UNIT_LIST_CHECK, m->units.units[i]);
                        if (r < 0)
                                return r;
                }
        if (c < m->cordon)
                s->epoch++;     /* units that found no machine may fit here now */
        m->cordon = c;
        return 0;
}

int scheduler_machine_cordon(Scheduler *s, const char *id, RegistryCordon c) {
        Cordon *e;
        Machine *m;

        assert(s);
        assert(id);

        if (isempty(id) || c < 0 || c >= _REGISTRY_CORDON_MAX)
                return -EINVAL;

        e = hashmap_get(s->cordons, id);
        if (c == REGISTRY_CORDON_NONE)
                cordon_free(hashmap_remove(s->cordons, id));
        else if (e)
                e->cordon = c;
        else {
                _cleanup_free_ Cordon *n = new0(Cordon, 1);
                int r;

                if (!n)
                        return -ENOMEM;
                n->id = strdup(id);
                if (!n->id)
                        return -ENOMEM;
                n->cordon = c;
                r = hashmap_put(s->cordons, n->id, n);
                if (r < 0) {
                        free(n->id);
                        return r;
                }
                TAKE_PTR(n);
        }

        m = hashmap_get(s->machines, id);
        return m ? machine_set_cordon(s, m, c) : 0;
}

/* ---- units ---- */

static int unit_update_lists(Scheduler *s, Unit *u) {
        const struct {
                UnitListType t;
                bool member;
        } want[] = {
                { UNIT_LIST_GLOBAL, unit_is_global(u) },
                { UNIT_LIST_FOLLOWER, !unit_is_global(u) && strv_length(u->x->machine_of) > 0 },
                { UNIT_LIST_REPLACER, !unit_is_global(u) && strv_length(u->x->replaces) > 0 },
                { UNIT_LIST_PENDING, !unit_is_global(u) && unit_wanted(u) && !u->machine },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                if (!want[i].member) {
                        unit_list_remove(s, want[i].t, u);
                        continue;
                }
                r = unit_list_add(s, want[i].t, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Units with the same MachineMetadata share one index of the machines that match it. */
static int options_signature(const XFleetOptions *x, char **ret) {
        char *j;

        if (strv_length(x->machine_metadata) == 0) {
                *ret = NULL;
                return 0;
        }
        j = strv_join(x->machine_metadata, "\n");
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

/* The template an instance belongs to ("web@.service" for "web@1.service"), or NULL. */
static int unit_group(const char *name, char **ret) {
        const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
        char *g;

        if (!at || !dot || dot < at || !unit_name_is_instance(name)) {
                *ret = NULL;
                return 0;
        }
        if (asprintf(&g, "%.*s%s", (int) (at - name + 1), name, dot) < 0)
                return -ENOMEM;
        *ret = g;
        return 0;
}

/* Add (sign +1) or take away (-1) u's reservation on every machine it is placed on. */
static void unit_reserve_everywhere(Scheduler *s, Unit *u, int sign) {
        Machine *m;

        if (!u->reserves)
                return;
        if (u->machine)
                machine_reserve(s, u->machine, u, sign);
        if (unit_is_global(u) && u->n_global_placements > 0)
                HASHMAP_FOREACH(m, s->machines)
                        if (machine_has_global(m, u))
                                machine_reserve(s, m, u, sign);
}

static bool options_have_patterns(const XFleetOptions *x) {
        return strv_length(x->conflicts) > 0 || strv_length(x->replaces) > 0;
}

/* Copy into u what placing it reads of u->x (see Unit). */
static void unit_options_cache(Unit *u) {
        const XFleetOptions *x = u->x;

        u->has_patterns = options_have_patterns(x);
        u->reserves = !resources_is_empty(&x->reserve);
        u->global = x->global;
        u->follower = strv_length(x->machine_of) > 0;
        u->plain = !x->machine_id && !x->machine_metadata && !u->follower && strv_length(x->replaces) == 0 &&
                   !x->spread_metadata && x->max_per_machine == 0;
        u->reserve_extra = x->reserve.n_extra > 0;
        u->reserve_cpu = x->reserve.cpu_milli;
        u->reserve_mem = x->reserve.memory;
}

int scheduler_unit_set(Scheduler *s, const char *name, const XFleetOptions *x, UnitDesiredState desired) {
        _cleanup_(xfleet_options_freep) XFleetOptions *copy = NULL;
        _cleanup_free_ char *signature = NULL;
        Unit *u;
        int r;

        assert(s);
        assert(name);

        if (!unit_name_is_valid(name) || desired < 0 || desired >= _UNIT_DESIRED_STATE_MAX)
                return -EINVAL;

        if (x)
                r = xfleet_options_copy(x, &copy);
        else
                r = (copy = xfleet_options_new()) ? 0 : -ENOMEM;
        if (r < 0)
                return r;
        r = options_signature(copy, &signature);
        if (r < 0)
                return r;

        u = hashmap_get(s->units, name);
        if (!u) {
                _cleanup_(unit_freep) Unit *n = new0(Unit, 1);

                if (!n)
                        return -ENOMEM;
                n->name = scheduler_name_new(name);
                if (!n->name)
                        return -ENOMEM;
                n->key = name_key(name);
                n->template = unit_name_is_template(name);
                n->x = TAKE_PTR(copy);
                n->signature = TAKE_PTR(signature);
                n->desired = desired;
                unit_options_cache(n);
                r = unit_group(name, &n->group);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < _UNIT_LIST_MAX; i++)
                        n->list_index[i] = UNIT_LIST_NONE;

                r = hashmap_put(s->units, n->name, n);
                if (r < 0)
                        return r;
                r = unit_update_lists(s, n);
                if (r < 0) {
                        for (size_t i = 0; i < _UNIT_LIST_MAX; i++)
                                unit_list_remove(s, i, n);
                        hashmap_remove(s->units, n->name);
                        return r;
                }
                if (unit_is_global(n))
                        s->all_globals_dirty = true;
                scheduler_levels_note(s, n);
                TAKE_PTR(n);
                /* A new unit only adds constraints: nothing that failed before can fit now. */
                return 1;
        }

        /* fleetd re-reads units often; an unchanged unit must not cost every waiting unit a retry. */
        if (u->desired == desired && xfleet_options_equal(u->x, copy))
                return 0;

        /* A unit that stops or starts being global leaves all its placements. */
        if (unit_is_global(u) != copy->global) {
                if (unit_is_global(u))
                        r = unit_unplace_global(s, u);
                else
                        r = u->machine ? queue_unassign(s, u->machine, u) : 0;
                if (r < 0)
                        return r;
        }
        if (unit_is_global(u) || copy->global)
                s->all_globals_dirty = true;

        /* Keep the per-machine pattern counts right while the options change under placements. */
        if (u->has_patterns != options_have_patterns(copy)) {
                int delta = options_have_patterns(copy) ? +1 : -1;
                Machine *m;

                if (u->machine)
                        u->machine->n_patterned += delta;
                if (unit_is_global(u) && u->n_global_placements > 0)
                        HASHMAP_FOREACH(m, s->machines)
                                if (machine_has_global(m, u))
                                        m->n_patterned += delta;
        }

        /* Its reservation changes under its placements: account for the new one (a reconcile
         * check then moves it if it no longer fits). */
        unit_reserve_everywhere(s, u, -1);
        xfleet_options_free(u->x);
        u->x = TAKE_PTR(copy);
        free_and_replace(u->signature, signature);
        unit_options_cache(u);
        scheduler_levels_note(s, u);
        unit_reserve_everywhere(s, u, +1);
        u->desired = desired;
        unit_clear_failed(u);
        s->epoch++;

        if (u->machine) {
                r = unit_list_add(s, UNIT_LIST_CHECK, u);
                if (r < 0)
                        return r;
                /* Its old options may have kept global units off its machine. */
                u->machine->globals_dirty = true;
        }
        /* A global unit's new reservation may no longer fit where it runs. */
        if (unit_is_global(u) && u->n_global_placements > 0 && u->reserves)
                s->all_globals_dirty = true;
        r = unit_update_lists(s, u);
        if (r < 0)
                return r;
        return 0;
}

int scheduler_unit_remove(Scheduler *s, const char *name) {
        Unit *u;
        int r;

        assert(s);
        assert(name);

        u = hashmap_get(s->units, name);
        if (!u)
                return -ENOENT;

        /* Not wanted any more: detaching must not put it back on the pending list. */
        u->desired = UNIT_DESIRED_INACTIVE;
        if (unit_is_global(u))
                r = unit_unplace_global(s, u);
        else
                r = u->machine ? queue_unassign(s, u->machine, u) : 0;
        if (r < 0)
                return r;

        for (size_t i = 0; i < _UNIT_LIST_MAX; i++)
                unit_list_remove(s, i, u);
        hashmap_remove(s->units, name);
        unit_free(u);
        s->epoch++;
        return 0;
}

/* ---- placements restored from the store ---- */

int scheduler_assignment_set(Scheduler *s, const char *unit, const char *machine) {
        Machine *m;
        Unit *u;
        int r;

        assert(s);
        assert(unit);
        assert(machine);

        u = hashmap_get(s->units, unit);
        if (!u)
                return -ENOENT;
        m = hashmap_get(s->machines, machine);
        if (!m) {
                /* Placed on a machine we do not know (any more): have it deleted. */
                char *id = scheduler_name_new(machine);

                if (!id)
                        return -ENOMEM;
                r = change_list_append(&s->queued, SCHEDULER_UNASSIGN, u->name, id, unit_is_global(u));
                scheduler_name_unref(id);
                return r;
        }

        /* The store says it is there now: a queued deletion of that placement is obsolete. */
        change_list_drop(&s->queued, unit, machine);

        if (unit_is_global(u)) {
                if (machine_has_global(m, u))
                        return 0;
                r = machine_attach_global(s, m, u);
                if (r < 0)
                        return r;
                m->globals_dirty = true;
                return 0;
        }

        if (u->machine == m)
                return 0;
        if (u->machine) {
                r = machine_detach_unit(s, u);
                if (r < 0)
                        return r;
        }
        r = machine_attach_unit(s, m, u);
        if (r < 0)
                return r;
        r = unit_list_add(s, UNIT_LIST_CHECK, u);
        if (r < 0)
                return r;
        return 0;
}

int scheduler_assignment_unset(Scheduler *s, const char *unit, const char *machine) {
        Machine *m;
        Unit *u;

        assert(s);
        assert(unit);
        assert(machine);

        u = hashmap_get(s->units, unit);
        m = hashmap_get(s->machines, machine);
        if (!u || !m)
                return -ENOENT;

        if (unit_is_global(u)) {
                if (!machine_has_global(m, u))
                        return -ENOENT;
                machine_detach_global(s, m, u);
                return 0;
        }
        if (u->machine != m)
                return -ENOENT;
        return machine_detach_unit(s, u);
}

/* ---- queries ---- */

const char *scheduler_unit_machine(const Scheduler *s, const char *unit) {
        const Unit *u;

        assert(s);
        assert(unit);

        u = hashmap_get(s->units, unit);
        return u && u->machine ? u->machine->id : NULL;
}

int scheduler_unit_machines(const Scheduler *s, const char *unit, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const Unit *u;
        Machine *m;
        int r;

        assert(s);
        assert(unit);
        assert(ret);

        u = hashmap_get(s->units, unit);
        if (!u)
                return -ENOENT;

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        if (u->machine) {
                r = strv_extend(&l, u->machine->id);
                if (r < 0)
                        return r;
        } else if (u->n_global_placements > 0)
                HASHMAP_FOREACH(m, s->machines)
                        if (machine_has_global(m, u)) {
                                r = strv_extend(&l, m->id);
                                if (r < 0)
                                        return r;
                        }

        *ret = strv_sort(TAKE_PTR(l));
        return 0;
}

const char *scheduler_unit_reason(const Scheduler *s, const char *unit) {
        const Unit *u;

        assert(s);
        assert(unit);

        u = hashmap_get(s->units, unit);
        if (!u || !unit_wanted(u) || u->machine || u->n_global_placements > 0)
                return NULL;
        return u->reason;
}

int scheduler_unit_exclude(Scheduler *s, const char *unit, const char *machine, const char *why) {
        _cleanup_free_ char *moved = NULL;
        Unit *u;
        int r;

        assert(s);
        assert(unit);
        assert(why);

        if (isempty(machine))
                return -EINVAL;
        u = hashmap_get(s->units, unit);
        if (!u)
                return -ENOENT;
        if (asprintf(&moved, "moved from %s: %s", machine, why) < 0)
                return -ENOMEM;
        if (!strv_contains(u->excluded, machine)) {
                r = strv_extend(&u->excluded, machine);
                if (r < 0)
                        return r;
        }
        free_and_replace(u->moved, moved);
        /* The check of the next reconcile finds it no longer fits there: it moves like a unit
         * whose machine stopped matching. */
        if (u->machine && streq(u->machine->id, machine)) {
                r = unit_list_add(s, UNIT_LIST_CHECK, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

int scheduler_unit_exclusions_clear(Scheduler *s, const char *unit) {
        Unit *u;

        assert(s);
        assert(unit);

        u = hashmap_get(s->units, unit);
        if (!u)
                return -ENOENT;
        if (!u->excluded && !u->moved)
                return 0;
        u->excluded = strv_free(u->excluded);
        u->moved = mfree(u->moved);
        unit_clear_failed(u);
        s->epoch++;     /* it may fit where it was given up now */
        return 1;
}

const char *scheduler_unit_moved(const Scheduler *s, const char *unit) {
        const Unit *u;

        assert(s);
        assert(unit);

        u = hashmap_get(s->units, unit);
        if (!u || !unit_wanted(u))
                return NULL;
        return u->moved;
}

int scheduler_machine_load(const Scheduler *s, const char *id) {
        const Machine *m;

        assert(s);
        assert(id);

        m = hashmap_get(s->machines, id);
        return m ? (int) MIN(m->load, (unsigned) INT32_MAX) : -ENOENT;
}

size_t scheduler_n_machines(const Scheduler *s) {
        return s ? hashmap_size(s->machines) : 0;
}

size_t scheduler_n_units(const Scheduler *s) {
        return s ? hashmap_size(s->units) : 0;
}
