/* SPDX-License-Identifier: Apache-2.0 */

#include <limits.h>

#include "scheduler-internal.h"
#include "strv.h"

#define LOAD_NONE UINT_MAX

static int load_index_build(LoadIndex *ix) {
        size_t cap = 1;

        while (cap < ix->n_machines)
                cap *= 2;
        if (cap != ix->cap || !ix->tree) {
                unsigned *t = new(unsigned, 2 * cap);

                if (!t)
                        return -ENOMEM;
                free(ix->tree);
                ix->tree = t;
                ix->cap = cap;
        }

        for (size_t i = 0; i < cap; i++)
                ix->tree[cap + i] = i < ix->n_machines ? ix->machines[i]->load : LOAD_NONE;
        for (size_t i = cap - 1; i >= 1; i--)
                ix->tree[i] = MIN(ix->tree[2 * i], ix->tree[2 * i + 1]);
        return 0;
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
        free(c->index.tree);
        free(c);
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

typedef struct Heap {
        HeapItem *items;
        size_t n;
        size_t allocated;
} Heap;

static void heap_done(Heap *h) {
        h->items = mfree(h->items);
}

static uint64_t node_key(const LoadIndex *ix, size_t node) {
        size_t left = node;

        while (left < ix->cap)
                left *= 2;
        return (uint64_t) ix->tree[node] << 32 | (uint64_t) (left - ix->cap);
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
        _cleanup_(heap_done) Heap h = {};
        const Unit *ignored = NULL;
        Machine *m;

        m = load_index_least_loaded(ix);
        if (!m) {
                *ret = NULL;
                return 0;
        }

        /* The common case: the least-loaded machine fits. */
        if (unit_fits(s, u, m, evict, &ignored) == FIT_OK) {
                *ret = m;
                return 0;
        }

        if (heap_push(&h, node_key(ix, 1), 1) < 0)
                return -ENOMEM;

        while (h.n > 0) {
                HeapItem it = heap_pop(&h);

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
                for (size_t c = 2 * it.node; c <= 2 * it.node + 1; c++)
                        if (ix->tree[c] != LOAD_NONE && heap_push(&h, node_key(ix, c), c) < 0)
                                return -ENOMEM;
        }
        *ret = NULL;
        return 0;
}
