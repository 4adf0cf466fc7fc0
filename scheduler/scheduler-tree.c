/* SPDX-License-Identifier: Apache-2.0 */

#include <limits.h>

#include "scheduler-internal.h"
#include "strv.h"

#define LOAD_NONE UINT_MAX

static void load_index_done(LoadIndex *ix) {
        ix->tree = mfree(ix->tree);
        ix->share_min = mfree(ix->share_min);
        ix->share_max = mfree(ix->share_max);
        ix->cpu_free = mfree(ix->cpu_free);
        ix->mem_free = mfree(ix->mem_free);
}

/* Recompute inner node i of the resource trees from its children. Returns whether it changed. */
static bool resources_pull(LoadIndex *ix, size_t i) {
        uint32_t lo = MIN(ix->share_min[2 * i], ix->share_min[2 * i + 1]);
        uint32_t hi = MAX(ix->share_max[2 * i], ix->share_max[2 * i + 1]);
        uint64_t cpu = MAX(ix->cpu_free[2 * i], ix->cpu_free[2 * i + 1]);
        uint64_t mem = MAX(ix->mem_free[2 * i], ix->mem_free[2 * i + 1]);

        if (ix->share_min[i] == lo && ix->share_max[i] == hi && ix->cpu_free[i] == cpu && ix->mem_free[i] == mem)
                return false;
        ix->share_min[i] = lo;
        ix->share_max[i] = hi;
        ix->cpu_free[i] = cpu;
        ix->mem_free[i] = mem;
        return true;
}

static void resources_leaf(LoadIndex *ix, size_t pos) {
        size_t i = ix->cap + pos;
        const Machine *m = pos < ix->n_machines ? ix->machines[pos] : NULL;

        ix->share_min[i] = m ? m->share : UINT32_MAX;
        ix->share_max[i] = m ? m->share : 0;
        ix->cpu_free[i] = m ? machine_cpu_free(m) : 0;
        ix->mem_free[i] = m ? machine_mem_free(m) : 0;
}

static int load_index_build(LoadIndex *ix) {
        size_t cap = 1;

        while (cap < ix->n_machines)
                cap *= 2;
        if (cap != ix->cap || !ix->tree) {
                load_index_done(ix);
                ix->tree = new(unsigned, 2 * cap);
                ix->share_min = new(uint32_t, 2 * cap);
                ix->share_max = new(uint32_t, 2 * cap);
                ix->cpu_free = new(uint64_t, 2 * cap);
                ix->mem_free = new(uint64_t, 2 * cap);
                if (!ix->tree || !ix->share_min || !ix->share_max || !ix->cpu_free || !ix->mem_free) {
                        load_index_done(ix);
                        ix->cap = 0;
                        return -ENOMEM;
                }
                ix->cap = cap;
        }

        for (size_t i = 0; i < cap; i++) {
                ix->tree[cap + i] = i < ix->n_machines ? ix->machines[i]->load : LOAD_NONE;
                resources_leaf(ix, i);
        }
        for (size_t i = cap - 1; i >= 1; i--) {
                ix->tree[i] = MIN(ix->tree[2 * i], ix->tree[2 * i + 1]);
                ix->share_min[i] = ix->share_max[i] = 0;
                ix->cpu_free[i] = ix->mem_free[i] = 0;
                (void) resources_pull(ix, i);
        }
        return 0;
}

static void load_index_update_resources(LoadIndex *ix, size_t pos) {
        resources_leaf(ix, pos);
        for (size_t i = (ix->cap + pos) / 2; i >= 1; i /= 2)
                if (!resources_pull(ix, i))
                        break;
}

static void load_index_update(LoadIndex *ix, size_t pos, unsigned load) {
        size_t i = ix->cap + pos;

        ix->tree[i] = load;
        for (i /= 2; i >= 1; i /= 2) {
                unsigned v = MIN(ix->tree[2 * i], ix->tree[2 * i + 1]);

                if (ix->tree[i] == v)
                        break;
                ix->tree[i] = v;
        }
}

static int machine_compare(const void *a, const void *b) {
        const Machine *x = *(Machine *const *) a, *y = *(Machine *const *) b;

        return strcmp(x->id, y->id);
}

void meta_class_free_void(void *p) {
        MetaClass *c = p;

        if (!c)
                return;
        free(c->signature);
        free(c->index.machines);
        load_index_done(&c->index);
        free(c);
}

void scheduler_index_free(Scheduler *s) {
        load_index_done(&s->all);
        scheduler_heap_free(s);
}

static void meta_class_freep(MetaClass **c) {
        meta_class_free_void(*c);
}

void scheduler_classes_clear(Scheduler *s) {
        MetaClass *c;
        Machine *m;

        HASHMAP_FOREACH(c, s->classes) {
                hashmap_remove(s->classes, c->signature);
                meta_class_free_void(c);
        }
        HASHMAP_FOREACH(m, s->machines)
                m->n_refs = 0;
        s->classes_dirty = false;
}

int scheduler_tree_rebuild(Scheduler *s) {
        size_t n = hashmap_size(s->machines);
        Machine *m;
        int r;

        if (s->sorted_dirty) {
                if (n > 0 && !GREEDY_REALLOC(s->sorted, s->n_sorted_allocated, n))
                        return -ENOMEM;
                s->n_sorted = 0;
                HASHMAP_FOREACH(m, s->machines)
                        s->sorted[s->n_sorted++] = m;
                if (n > 1)
                        qsort(s->sorted, n, sizeof(Machine *), machine_compare);
                for (size_t i = 0; i < n; i++)
                        s->sorted[i]->pos = i;
                s->sorted_dirty = false;
        }
        if (s->classes_dirty)
                scheduler_classes_clear(s);

        s->all.machines = s->sorted;
        s->all.n_machines = s->n_sorted;
        r = load_index_build(&s->all);
        if (r < 0)
                return r;
        s->tree_dirty = false;
        return 0;
}

void scheduler_tree_update(Scheduler *s, const Machine *m) {
        if (s->tree_dirty || s->sorted_dirty)
                return;
        load_index_update(&s->all, m->pos, m->load);
        for (size_t i = 0; i < m->n_refs; i++)
                load_index_update(m->refs[i].index, m->refs[i].pos, m->load);
}

void scheduler_tree_update_resources(Scheduler *s, const Machine *m) {
        if (s->tree_dirty || s->sorted_dirty)
                return;
        load_index_update_resources(&s->all, m->pos);
        for (size_t i = 0; i < m->n_refs; i++)
                load_index_update_resources(m->refs[i].index, m->refs[i].pos);
}

int scheduler_index_for(Scheduler *s, const Unit *u, LoadIndex **ret) {
        _cleanup_(meta_class_freep) MetaClass *c = NULL;
        MetaClass *found;
        size_t n = 0;
        int r;

        assert(!s->sorted_dirty && !s->tree_dirty && !s->classes_dirty);

        if (!u->signature) {
                *ret = &s->all;
                return 0;
        }
        found = hashmap_get(s->classes, u->signature);
        if (found) {
                *ret = &found->index;
                return 0;
        }

        c = new0(MetaClass, 1);
        if (!c)
                return -ENOMEM;
        c->signature = strdup(u->signature);
        c->index.machines = new(Machine *, MAX(s->n_sorted, (size_t) 1));
        if (!c->signature || !c->index.machines)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_sorted; i++)
                if (xfleet_metadata_match(u->x->machine_metadata, s->sorted[i]->metadata))
                        c->index.machines[n++] = s->sorted[i];
        c->index.n_machines = n;
        r = load_index_build(&c->index);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                Machine *m = c->index.machines[i];

                if (!GREEDY_REALLOC(m->refs, m->n_refs_allocated, m->n_refs + 1)) {
                        /* Undo the references already made, so that none dangles. */
                        for (size_t j = 0; j < i; j++)
                                c->index.machines[j]->n_refs--;
                        return -ENOMEM;
                }
                m->refs[m->n_refs++] = (MachineRef) { &c->index, i };
        }
        r = hashmap_put(s->classes, c->signature, c);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        c->index.machines[i]->n_refs--;
                return r;
        }
        *ret = &TAKE_PTR(c)->index;
        return 0;
}

/* The leftmost leaf holding the minimum load. */
static Machine *load_index_least_loaded(const LoadIndex *ix) {
        size_t i = 1;

        if (ix->n_machines == 0 || ix->tree[1] == LOAD_NONE)
                return NULL;
        while (i < ix->cap)
                i = ix->tree[2 * i] == ix->tree[i] ? 2 * i : 2 * i + 1;
        return ix->machines[i - ix->cap];
}

/* Best-first search: nodes keyed by (minimum load, leftmost position) come out of a binary heap
 * in exactly the (load, id) order of the machines below them, so the first leaf that fits is
 * the answer, and a search costs O(k log M) for k machines that do not fit. */
typedef struct HeapItem {
        uint64_t key;
        size_t node;
} HeapItem;

/* Kept in the scheduler between searches: a search allocates nothing once it has grown. */
typedef struct Heap {
        HeapItem *items;
        size_t n;
        size_t allocated;
} Heap;

void scheduler_heap_free(Scheduler *s) {
        if (!s->heap)
                return;
        free(s->heap->items);
        s->heap = mfree(s->heap);
}

/* The orders of a search: by unit count (units that reserve nothing), or by dominant share
 * ascending (spread) or descending (binpack); ties by machine ID. */
typedef enum SearchOrder {
        ORDER_LOAD,
        ORDER_SPREAD,
        ORDER_BINPACK,
} SearchOrder;

static uint64_t node_key(const LoadIndex *ix, size_t node, SearchOrder order) {
        size_t left = node;
        uint64_t v;

        while (left < ix->cap)
                left *= 2;
        switch (order) {
        case ORDER_SPREAD:
                v = ix->share_min[node];
                break;
        case ORDER_BINPACK:
                v = SHARE_ONE - MIN(ix->share_max[node], SHARE_ONE);
                break;
        default:
                v = ix->tree[node];
        }
        return v << 32 | (uint64_t) (left - ix->cap);
}

/* Whether a subtree can hold a machine with room for u (the most free CPU and memory below are
 * bounds, not one machine's: a necessary condition only). */
static bool node_may_fit(const LoadIndex *ix, size_t node, const Unit *u) {
        return !u->reserves ||
               (ix->cpu_free[node] >= u->x->reserve.cpu_milli && ix->mem_free[node] >= u->x->reserve.memory);
}

static int heap_push(Heap *h, uint64_t key, size_t node) {
        size_t i;

        if (!GREEDY_REALLOC(h->items, h->allocated, h->n + 1))
                return -ENOMEM;
        for (i = h->n++; i > 0 && h->items[(i - 1) / 2].key > key; i = (i - 1) / 2)
                h->items[i] = h->items[(i - 1) / 2];
        h->items[i] = (HeapItem) { key, node };
        return 0;
}

static HeapItem heap_pop(Heap *h) {
        HeapItem top = h->items[0], last = h->items[--h->n];
        size_t i = 0;

        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= h->n)
                        break;
                if (c + 1 < h->n && h->items[c + 1].key < h->items[c].key)
                        c++;
                if (h->items[c].key >= last.key)
                        break;
                h->items[i] = h->items[c];
                i = c;
        }
        if (h->n > 0)
                h->items[i] = last;
        return top;
}

int scheduler_find_machine(Scheduler *s, const LoadIndex *ix, const Unit *u, EvictMode evict,
                           size_t counts[static _FIT_RESULT_MAX], const Unit **blocker, Machine **ret) {
        SearchOrder order = !u->reserves ? ORDER_LOAD : s->strategy == SCHEDULER_BINPACK ? ORDER_BINPACK : ORDER_SPREAD;
        const Unit *ignored = NULL;
        Heap *h;
        Machine *m;

        m = load_index_least_loaded(ix);
        if (!m) {
                *ret = NULL;
                return 0;
        }

        /* The common case: the least-loaded machine fits. */
        if (order == ORDER_LOAD && unit_fits(s, u, m, evict, &ignored) == FIT_OK) {
                *ret = m;
                return 0;
        }

        if (!s->heap) {
                s->heap = new0(Heap, 1);
                if (!s->heap)
                        return -ENOMEM;
        }
        h = s->heap;
        h->n = 0;
        if (!node_may_fit(ix, 1, u)) {
                counts[FIT_RESOURCES]++;
                *ret = NULL;
                return 0;
        }
        if (heap_push(h, node_key(ix, 1, order), 1) < 0)
                return -ENOMEM;

        while (h->n > 0) {
                HeapItem it = heap_pop(h);

                if (it.node >= ix->cap) {
                        const Unit *b = NULL;
                        FitResult f;

                        m = ix->machines[it.node - ix->cap];
                        f = unit_fits(s, u, m, evict, &b);
                        if (f == FIT_OK) {
                                *ret = m;
                                return 0;
                        }
                        counts[f]++;
                        if (b && !*blocker)
                                *blocker = b;
                        continue;
                }
                for (size_t c = 2 * it.node; c <= 2 * it.node + 1; c++) {
                        if (ix->tree[c] == LOAD_NONE)
                                continue;
                        if (!node_may_fit(ix, c, u)) {
                                counts[FIT_RESOURCES]++;
                                continue;
                        }
                        if (heap_push(h, node_key(ix, c, order), c) < 0)
                                return -ENOMEM;
                }
        }
        *ret = NULL;
        return 0;
}
