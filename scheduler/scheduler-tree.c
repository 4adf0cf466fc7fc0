/* SPDX-License-Identifier: Apache-2.0 */

#include <limits.h>

#include "scheduler-internal.h"

/* Machines sorted by ID sit at the leaves of a segment tree whose inner nodes hold the minimum
 * load below them. The least-loaded machine with the lowest ID is then a walk from the root
 * (O(log M)), and a load change is a walk up; no unit ever scans all machines to be placed. */

#define LOAD_NONE UINT_MAX

static int machine_compare(const void *a, const void *b) {
        const Machine *x = *(Machine *const *) a, *y = *(Machine *const *) b;

        return strcmp(x->id, y->id);
}

int scheduler_tree_rebuild(Scheduler *s) {
        size_t n = hashmap_size(s->machines), cap = 1;
        Machine *m;

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

        while (cap < n)
                cap *= 2;
        if (cap != s->tree_cap) {
                unsigned *t = new(unsigned, 2 * cap);

                if (!t)
                        return -ENOMEM;
                free(s->tree);
                s->tree = t;
                s->tree_cap = cap;
        }

        for (size_t i = 0; i < cap; i++)
                s->tree[cap + i] = i < n ? s->sorted[i]->load : LOAD_NONE;
        for (size_t i = cap - 1; i >= 1; i--)
                s->tree[i] = MIN(s->tree[2 * i], s->tree[2 * i + 1]);
        s->tree_dirty = false;
        return 0;
}

void scheduler_tree_update(Scheduler *s, const Machine *m) {
        size_t i;

        if (s->tree_dirty || s->sorted_dirty)
                return;
        i = s->tree_cap + m->pos;
        s->tree[i] = m->load;
        for (i /= 2; i >= 1; i /= 2) {
                unsigned v = MIN(s->tree[2 * i], s->tree[2 * i + 1]);

                if (s->tree[i] == v)
                        break;
                s->tree[i] = v;
        }
}

/* The leftmost leaf holding the minimum load. */
static Machine *tree_least_loaded(const Scheduler *s) {
        size_t i = 1;

        if (s->tree_cap == 0 || s->tree[1] == LOAD_NONE)
                return NULL;
        while (i < s->tree_cap)
                i = s->tree[2 * i] == s->tree[i] ? 2 * i : 2 * i + 1;
        return s->sorted[i - s->tree_cap];
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

static uint64_t node_key(const Scheduler *s, size_t node) {
        size_t left = node;

        while (left < s->tree_cap)
                left *= 2;
        return (uint64_t) s->tree[node] << 32 | (uint64_t) (left - s->tree_cap);
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

static void heap_done(Heap *h) {
        h->items = mfree(h->items);
}

int scheduler_find_machine(Scheduler *s, const Unit *u, size_t counts[static _FIT_RESULT_MAX],
                           const Unit **blocker, Machine **ret) {
        _cleanup_(heap_done) Heap h = {};
        const Unit *ignored = NULL;
        Machine *m;

        m = tree_least_loaded(s);
        if (!m) {
                *ret = NULL;
                return 0;
        }

        /* The common case: the least-loaded machine fits. */
        if (unit_fits(s, u, m, false, &ignored) == FIT_OK) {
                *ret = m;
                return 0;
        }

        if (heap_push(&h, node_key(s, 1), 1) < 0)
                return -ENOMEM;

        while (h.n > 0) {
                HeapItem it = heap_pop(&h);

                if (it.node >= s->tree_cap) {
                        const Unit *b = NULL;
                        FitResult f;

                        m = s->sorted[it.node - s->tree_cap];
                        f = unit_fits(s, u, m, false, &b);
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
                        if (s->tree[c] != LOAD_NONE && heap_push(&h, node_key(s, c), c) < 0)
                                return -ENOMEM;
        }
        *ret = NULL;
        return 0;
}
