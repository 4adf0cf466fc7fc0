/* SPDX-License-Identifier: Apache-2.0 */

/* Capacity and reservations: what each machine offers, what its units reserve, whether one more
 * fits, and the numbers for a unit that fits nowhere. */

#include <stdio.h>

#include "scheduler-internal.h"
#include "strv.h"

static const char *const strategy_table[_SCHEDULER_STRATEGY_MAX] = {
        [SCHEDULER_SPREAD] = "spread",
        [SCHEDULER_BINPACK] = "binpack",
};

const char *scheduler_strategy_to_string(SchedulerStrategy t) {
        return t >= 0 && t < _SCHEDULER_STRATEGY_MAX ? strategy_table[t] : NULL;
}

SchedulerStrategy scheduler_strategy_from_string(const char *s) {
        for (int i = 0; i < _SCHEDULER_STRATEGY_MAX; i++)
                if (streq_ptr(strategy_table[i], s))
                        return i;
        return _SCHEDULER_STRATEGY_INVALID;
}

static uint32_t share_of(uint64_t used, uint64_t cap) {
        if (cap == 0)
                return used > 0 ? SHARE_ONE : 0;
        if (used >= cap)
                return SHARE_ONE;
        return (uint32_t) ((unsigned __int128) used * SHARE_ONE / cap);
}

uint32_t machine_share(const Machine *m) {
        if (!m->has_capacity)
                return SHARE_ONE;
        return MAX(share_of(m->cpu_used, m->capacity.cpu_milli), share_of(m->mem_used, m->capacity.memory));
}

uint64_t machine_cpu_free(const Machine *m) {
        return m->has_capacity && m->capacity.cpu_milli > m->cpu_used ? m->capacity.cpu_milli - m->cpu_used : 0;
}

uint64_t machine_mem_free(const Machine *m) {
        return m->has_capacity && m->capacity.memory > m->mem_used ? m->capacity.memory - m->mem_used : 0;
}

static ssize_t machine_extra_index(const Machine *m, const char *name) {
        for (size_t i = 0; i < m->capacity.n_extra; i++)
                if (streq(m->capacity.extra[i].name, name))
                        return (ssize_t) i;
        return -1;
}

/* Whether used - minus + plus + need <= cap, without overflow. */
static bool dimension_fits(uint64_t cap, uint64_t used, uint64_t minus, uint64_t plus, uint64_t need) {
        uint64_t base = used >= minus ? used - minus : 0;

        return need <= cap && plus <= cap - need && base <= cap - need - plus;
}

static uint64_t units_extra(Unit *const *l, size_t n, const char *name) {
        uint64_t sum = 0;

        for (size_t i = 0; i < n; i++)
                sum += resources_get_extra(&l[i]->x->reserve, name);
        return sum;
}

bool machine_has_room(const Machine *m, const Unit *u, Unit *const *minus, size_t n_minus,
                      Unit *const *plus, size_t n_plus) {
        const Resources *need = &u->x->reserve;
        uint64_t cpu_minus = 0, mem_minus = 0, cpu_plus = 0, mem_plus = 0;
        bool own = u->machine == m;

        if (!u->reserves)
                return true;
        if (!m->has_capacity)
                return false;

        for (size_t i = 0; i < n_minus; i++) {
                cpu_minus += minus[i]->x->reserve.cpu_milli;
                mem_minus += minus[i]->x->reserve.memory;
        }
        for (size_t i = 0; i < n_plus; i++) {
                cpu_plus += plus[i]->x->reserve.cpu_milli;
                mem_plus += plus[i]->x->reserve.memory;
        }
        if (own) {
                cpu_minus += need->cpu_milli;
                mem_minus += need->memory;
        }
        if (!dimension_fits(m->capacity.cpu_milli, m->cpu_used, cpu_minus, cpu_plus, need->cpu_milli) ||
            !dimension_fits(m->capacity.memory, m->mem_used, mem_minus, mem_plus, need->memory))
                return false;

        for (size_t i = 0; i < need->n_extra; i++) {
                const ResourceAmount *e = need->extra + i;
                ssize_t k = machine_extra_index(m, e->name);

                if (k < 0)
                        return false;
                if (!dimension_fits(m->capacity.extra[k].amount, m->extra_used[k],
                                    units_extra(minus, n_minus, e->name) + (own ? e->amount : 0),
                                    units_extra(plus, n_plus, e->name), e->amount))
                        return false;
        }
        return true;
}

void machine_reserve(Scheduler *s, Machine *m, const Unit *u, int sign) {
        const Resources *need = &u->x->reserve;

        if (!u->reserves)
                return;
        /* Usage only grows by placements the scheduler checked or by placements restored from the
         * store, and only shrinks by what was added: no wrap-around either way. */
        if (sign > 0) {
                s->room_serial++;
                m->cpu_used += u->reserve_cpu;
                m->mem_used += u->reserve_mem;
        } else {
                m->cpu_used -= MIN(m->cpu_used, u->reserve_cpu);
                m->mem_used -= MIN(m->mem_used, u->reserve_mem);
        }
        for (size_t i = 0; u->reserve_extra && i < need->n_extra; i++) {
                ssize_t k = machine_extra_index(m, need->extra[i].name);

                /* A resource the machine does not offer (a restored placement) is not tracked. */
                if (k < 0)
                        continue;
                if (sign > 0)
                        m->extra_used[k] += need->extra[i].amount;
                else
                        m->extra_used[k] -= MIN(m->extra_used[k], need->extra[i].amount);
        }
        m->share = machine_share(m);
        scheduler_tree_update_resources(s, m);
}

static void machine_recount(Scheduler *s, Machine *m) {
        const UnitList *lists[] = { &m->units, &m->globals };

        m->cpu_used = m->mem_used = 0;
        for (size_t i = 0; i < m->capacity.n_extra; i++)
                m->extra_used[i] = 0;
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t i = 0; i < lists[l]->n_units; i++)
                        machine_reserve(s, m, lists[l]->units[i], +1);
        m->share = machine_share(m);
        scheduler_tree_update_resources(s, m);
}

int scheduler_machine_set_capacity(Scheduler *s, const char *id, const Resources *capacity) {
        _cleanup_free_ uint64_t *extra_used = NULL;
        Resources copy = {};
        Machine *m;
        int r;

        assert(s);
        assert(id);

        m = hashmap_get(s->machines, id);
        if (!m)
                return -ENOENT;
        if (!capacity ? !m->has_capacity : m->has_capacity && resources_equal(&m->capacity, capacity))
                return 0;

        if (capacity) {
                r = resources_copy(capacity, &copy);
                if (r < 0)
                        return r;
                extra_used = new0(uint64_t, MAX(copy.n_extra, (size_t) 1));
                if (!extra_used) {
                        resources_done(&copy);
                        return -ENOMEM;
                }
        }
        resources_done(&m->capacity);
        m->capacity = copy;
        free_and_replace(m->extra_used, extra_used);
        m->has_capacity = capacity;
        machine_recount(s, m);

        return machine_recheck(s, m);
}

int scheduler_machine_reserved(const Scheduler *s, const char *id, Resources *ret) {
        const Machine *m;
        Resources r = {};
        int k;

        assert(s);
        assert(id);
        assert(ret);

        m = hashmap_get(s->machines, id);
        if (!m)
                return -ENOENT;
        r.cpu_milli = m->cpu_used;
        r.memory = m->mem_used;
        for (size_t i = 0; i < m->capacity.n_extra; i++) {
                k = resources_add_extra(&r, m->capacity.extra[i].name, m->extra_used[i]);
                if (k < 0) {
                        resources_done(&r);
                        return k;
                }
        }
        *ret = r;
        return 0;
}

void scheduler_set_strategy(Scheduler *s, SchedulerStrategy strategy) {
        assert(s);
        assert(strategy >= 0 && strategy < _SCHEDULER_STRATEGY_MAX);

        if (s->strategy == strategy)
                return;
        s->strategy = strategy;
        /* The room grids rank machines in the strategy's order. */
        s->tree_dirty = s->classes_dirty = true;
}

unsigned machine_group_count(const Machine *m, const Unit *u) {
        unsigned n = 0;

        if (!u->group)
                return 0;
        for (size_t i = 0; i < m->units.n_units; i++) {
                const Unit *v = m->units.units[i];

                n += v != u && v->group && streq(v->group, u->group);
        }
        return n;
}

const char *machine_metadata_value(const Machine *m, const char *key) {
        size_t n = strlen(key);

        STRV_FOREACH(kv, m->metadata)
                if (strneq(*kv, key, n) && (*kv)[n] == '=')
                        return *kv + n + 1;
        return NULL;
}

/* How close m comes to fitting u: the least, over the dimensions u reserves, of free / needed,
 * in thousandths (capped). */
static uint64_t closeness(const Machine *m, const Unit *u) {
        const Resources *need = &u->x->reserve;
        uint64_t best = UINT64_MAX;

        if (!m->has_capacity)
                return 0;
        if (need->cpu_milli > 0)
                best = MIN(best, (uint64_t) ((unsigned __int128) machine_cpu_free(m) * 1000 / need->cpu_milli));
        if (need->memory > 0)
                best = MIN(best, (uint64_t) ((unsigned __int128) machine_mem_free(m) * 1000 / need->memory));
        for (size_t i = 0; i < need->n_extra; i++) {
                ssize_t k = machine_extra_index(m, need->extra[i].name);
                uint64_t free_ = k < 0 ? 0 : m->capacity.extra[k].amount - MIN(m->capacity.extra[k].amount,
                                                                                m->extra_used[k]);

                best = MIN(best, (uint64_t) ((unsigned __int128) free_ * 1000 / need->extra[i].amount));
        }
        return best;
}

char *resources_reason(const LoadIndex *ix, const Unit *u) {
        _cleanup_free_ char *need = NULL, *have = NULL;
        const Machine *best = NULL;
        uint64_t best_c = 0;
        char *s;

        need = resources_format(&u->x->reserve);
        if (!need)
                return NULL;

        for (size_t i = 0; i < ix->n_machines; i++) {
                const Machine *m = ix->machines[i];
                uint64_t c = closeness(m, u);

                /* Equally close (often: none has any of it free): the most CPU, then memory. */
                if (m->has_capacity &&
                    (!best || c > best_c ||
                     (c == best_c && (machine_cpu_free(m) > machine_cpu_free(best) ||
                                      (machine_cpu_free(m) == machine_cpu_free(best) &&
                                       machine_mem_free(m) > machine_mem_free(best)))))) {
                        best = m;
                        best_c = c;
                }
        }
        if (!best)
                return asprintf(&s, "needs %s; no eligible machine has published its capacity", need) < 0 ? NULL : s;

        Resources free_ = {
                .cpu_milli = machine_cpu_free(best),
                .memory = machine_mem_free(best),
        };
        for (size_t i = 0; i < u->x->reserve.n_extra; i++) {
                ssize_t k = machine_extra_index(best, u->x->reserve.extra[i].name);
                uint64_t f = k < 0 ? 0 : best->capacity.extra[k].amount - MIN(best->capacity.extra[k].amount,
                                                                               best->extra_used[k]);

                /* A zero amount is not stored: name it anyway, "gpu 0" is the point. */
                if (f == 0)
                        continue;
                if (resources_add_extra(&free_, u->x->reserve.extra[i].name, f) < 0) {
                        resources_done(&free_);
                        return NULL;
                }
        }
        have = resources_format(&free_);
        resources_done(&free_);
        if (!have)
                return NULL;
        if (asprintf(&s, "needs %s; most free: %s %s", need, best->id, have) < 0)
                return NULL;
        return s;
}
