/* SPDX-License-Identifier: Apache-2.0 */

#include <limits.h>

#include "scheduler-internal.h"
#include "strv.h"

#define LOAD_NONE UINT_MAX

static void load_index_done(LoadIndex *ix) {
        ix->tree = mfree(ix->tree);
        ix->share_min = mfree(ix->share_min);
        ix->cpu_free = mfree(ix->cpu_free);
        ix->mem_free = mfree(ix->mem_free);
        ix->room = mfree(ix->room);
}

void room_levels_init(RoomLevels *l) {
        for (size_t i = 0; i < ROOM_LEVELS; i++)
                l->cpu[i] = l->mem[i] = i == 0 ? 0 : UINT64_MAX;
}

/* Recompute inner node i of the resource trees from its children. Returns whether it changed. */
static bool resources_pull(LoadIndex *ix, size_t i) {
        uint32_t lo = MIN(ix->share_min[2 * i], ix->share_min[2 * i + 1]);
        uint64_t cpu = MAX(ix->cpu_free[2 * i], ix->cpu_free[2 * i + 1]);
        uint64_t mem = MAX(ix->mem_free[2 * i], ix->mem_free[2 * i + 1]);

        if (ix->share_min[i] == lo && ix->cpu_free[i] == cpu && ix->mem_free[i] == mem)
                return false;
        ix->share_min[i] = lo;
        ix->cpu_free[i] = cpu;
        ix->mem_free[i] = mem;
        return true;
}

static void resources_leaf(LoadIndex *ix, size_t pos) {
        size_t i = ix->cap + pos;
        const Machine *m = pos < ix->n_machines ? ix->machines[pos] : NULL;

        ix->share_min[i] = m ? m->share : UINT32_MAX;
        ix->cpu_free[i] = m ? machine_cpu_free(m) : 0;
        ix->mem_free[i] = m ? machine_mem_free(m) : 0;
}

static size_t levels_below(const uint64_t levels[static ROOM_LEVELS], uint64_t amount) {
        size_t n = 0;

        while (n < ROOM_LEVELS && levels[n] <= amount)
                n++;
        return n;
}

static void room_leaf(LoadIndex *ix, size_t pos) {
        int32_t *cell = ix->room + (ix->cap + pos) * ROOM_CELLS;
        const Machine *m = pos < ix->n_machines ? ix->machines[pos] : NULL;
        size_t n_cpu = 0, n_mem = 0;
        int32_t share = -1, row[ROOM_LEVELS];

        if (m && m->has_capacity) {
                n_cpu = levels_below(ix->levels.cpu, machine_cpu_free(m));
                n_mem = levels_below(ix->levels.mem, machine_mem_free(m));
                share = (int32_t) m->share;
        }
        /* The first n_cpu rows are the same row, share in its first n_mem cells; the rest are -1
         * (all bits set). */
        for (size_t j = 0; j < ROOM_LEVELS; j++)
                row[j] = j < n_mem ? share : -1;
        for (size_t i = 0; i < ROOM_LEVELS; i++)
                if (i < n_cpu)
                        memcpy(cell + i * ROOM_LEVELS, row, sizeof(row));
                else
                        memset(cell + i * ROOM_LEVELS, 0xff, sizeof(row));
}

/* cell = the greatest of a and b, cell by cell; returns whether cell changed. The three never
 * overlap: restrict lets gcc -O2 vectorise the loop (its cheap cost model vectorises no loop that
 * needs a run-time overlap check), 4 cells an instruction instead of 1, and branch-free. This is
 * most of binpack's cost per placement. */
/* Built for AVX2 as well, chosen at load time where the CPU has it: its 8 cells an instruction
 * with a real signed max (SSE2 has none: gcc compares and blends) halve binpack's instructions. */
__attribute__((target_clones("avx2", "default")))
static bool room_cells_max(int32_t *restrict cell, const int32_t *restrict a, const int32_t *restrict b) {
        int32_t changed = 0;

        for (size_t k = 0; k < ROOM_CELLS; k++) {
                int32_t v = MAX(a[k], b[k]);

                changed |= v ^ cell[k];
                cell[k] = v;
        }
        return changed != 0;
}

/* Recompute inner node i of the room grid from its children. Returns whether it changed. */
static bool room_pull(LoadIndex *ix, size_t i) {
        const int32_t *a = ix->room + 2 * i * ROOM_CELLS;

        return room_cells_max(ix->room + i * ROOM_CELLS, a, a + ROOM_CELLS);
}

static int load_index_build(const Scheduler *s, LoadIndex *ix) {
        bool room = s->strategy == SCHEDULER_BINPACK;
        size_t cap = 1;

        while (cap < ix->n_machines)
                cap *= 2;
        if (cap != ix->cap || !ix->tree || room != !!ix->room) {
                load_index_done(ix);
                ix->tree = new(unsigned, 2 * cap);
                ix->share_min = new(uint32_t, 2 * cap);
                ix->cpu_free = new(uint64_t, 2 * cap);
                ix->mem_free = new(uint64_t, 2 * cap);
                if (room)
                        ix->room = new(int32_t, 2 * cap * ROOM_CELLS);
                if (!ix->tree || !ix->share_min || !ix->cpu_free || !ix->mem_free || (room && !ix->room)) {
                        load_index_done(ix);
                        ix->cap = 0;
                        return -ENOMEM;
                }
                ix->cap = cap;
        }
        ix->levels = s->levels;

        for (size_t i = 0; i < cap; i++) {
                ix->tree[cap + i] = i < ix->n_machines ? ix->machines[i]->load : LOAD_NONE;
                resources_leaf(ix, i);
                if (ix->room)
                        room_leaf(ix, i);
        }
        for (size_t i = cap - 1; i >= 1; i--) {
                ix->tree[i] = MIN(ix->tree[2 * i], ix->tree[2 * i + 1]);
                ix->share_min[i] = 0;
                ix->cpu_free[i] = ix->mem_free[i] = 0;
                (void) resources_pull(ix, i);
                if (ix->room)
                        (void) room_pull(ix, i);
        }
        return 0;
}

static void load_index_update_resources(LoadIndex *ix, size_t pos) {
        bool more = true, more_room = ix->room;

        resources_leaf(ix, pos);
        if (ix->room)
                room_leaf(ix, pos);
        for (size_t i = (ix->cap + pos) / 2; i >= 1 && (more || more_room); i /= 2) {
                more = more && resources_pull(ix, i);
                more_room = more_room && room_pull(ix, i);
        }
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

typedef struct LevelCount {
        uint64_t amount;
        size_t count;
} LevelCount;

static int uint64_compare(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static int level_count_compare(const void *a, const void *b) {
        const LevelCount *x = a, *y = b;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return x->amount < y->amount ? -1 : x->amount > y->amount;
}

/* The distinct non-zero amounts units reserve in one dimension and how often each, in an
 * open-addressing table (amount 0: an empty slot) kept at most half full. A deployment repeats a
 * few sizes, so it starts small and grows with the distinct amounts, not with the units: a table
 * sized for every unit was megabytes of fresh pages for the first reconcile to fault in. */
typedef struct LevelTable {
        LevelCount *slots;
        unsigned bits;
        size_t n;
} LevelTable;

static void level_table_done(LevelTable *t) {
        t->slots = mfree(t->slots);
}

static LevelCount *level_table_slot(LevelCount *slots, unsigned bits, uint64_t amount) {
        size_t k = (size_t) ((amount * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));

        while (slots[k].amount != 0 && slots[k].amount != amount)
                k = (k + 1) & (((size_t) 1 << bits) - 1);
        return slots + k;
}

static int level_table_add(LevelTable *t, uint64_t amount) {
        LevelCount *slot;

        if (amount == 0)
                return 0;
        if (!t->slots || 2 * (t->n + 1) > (size_t) 1 << t->bits) {
                unsigned bits = t->slots ? t->bits + 1 : 4;
                LevelCount *slots = new0(LevelCount, (size_t) 1 << bits);

                if (!slots)
                        return -ENOMEM;
                for (size_t k = 0; t->slots && k < (size_t) 1 << t->bits; k++)
                        if (t->slots[k].amount != 0)
                                *level_table_slot(slots, bits, t->slots[k].amount) = t->slots[k];
                free_and_replace(t->slots, slots);
                t->bits = bits;
        }
        slot = level_table_slot(t->slots, t->bits, amount);
        if (slot->amount == 0) {
                slot->amount = amount;
                t->n++;
        }
        slot->count++;
        return 0;
}

/* Levels 1.. of one dimension: the ROOM_LEVELS - 1 amounts of t that occur most often, ascending;
 * the rest of the slots unused. Reorders t's slots. */
static void level_table_pick(LevelTable *t, uint64_t ret[static ROOM_LEVELS]) {
        uint64_t amounts[ROOM_LEVELS - 1];
        size_t n = 0;

        for (size_t k = 0; t->slots && k < (size_t) 1 << t->bits; k++)
                if (t->slots[k].amount != 0)
                        t->slots[n++] = t->slots[k];
        if (n > 1)
                qsort(t->slots, n, sizeof(LevelCount), level_count_compare);
        n = MIN(n, (size_t) ROOM_LEVELS - 1);
        for (size_t i = 0; i < n; i++)
                amounts[i] = t->slots[i].amount;
        if (n > 1)
                qsort(amounts, n, sizeof(uint64_t), uint64_compare);
        ret[0] = 0;
        for (size_t i = 1; i < ROOM_LEVELS; i++)
                ret[i] = i <= n ? amounts[i - 1] : UINT64_MAX;
}

/* Choose the levels from the reservations of the units now known. */
static int room_levels_choose(Scheduler *s) {
        _cleanup_(level_table_done) LevelTable cpu = {}, mem = {};
        RoomLevels l;
        Unit *u;
        int r;

        HASHMAP_FOREACH(u, s->units) {
                if (!u->reserves)
                        continue;
                r = level_table_add(&cpu, u->x->reserve.cpu_milli);
                if (r < 0)
                        return r;
                r = level_table_add(&mem, u->x->reserve.memory);
                if (r < 0)
                        return r;
        }
        level_table_pick(&cpu, l.cpu);
        level_table_pick(&mem, l.mem);
        s->levels = l;
        s->levels_dirty = false;
        return 0;
}

static bool levels_want(const uint64_t levels[static ROOM_LEVELS], uint64_t amount) {
        if (amount == 0 || levels[ROOM_LEVELS - 1] != UINT64_MAX)
                return false;
        for (size_t i = 0; i < ROOM_LEVELS; i++)
                if (levels[i] == amount)
                        return false;
        return true;
}

void scheduler_levels_note(Scheduler *s, const Unit *u) {
        if (!u->reserves || s->levels_dirty)
                return;
        if (!levels_want(s->levels.cpu, u->x->reserve.cpu_milli) && !levels_want(s->levels.mem, u->x->reserve.memory))
                return;
        s->levels_dirty = true;
        /* Only binpack's room grids use the levels; a switch to binpack rebuilds them anyway. */
        if (s->strategy == SCHEDULER_BINPACK)
                s->tree_dirty = s->classes_dirty = true;
}

int scheduler_tree_rebuild(Scheduler *s) {
        size_t n = hashmap_size(s->machines);
        Machine *m;
        int r;

        if (s->levels_dirty && s->strategy == SCHEDULER_BINPACK) {
                r = room_levels_choose(s);
                if (r < 0)
                        return r;
                s->classes_dirty = true;
        }

        if (s->sorted_dirty) {
                if (n > 0 && !GREEDY_REALLOC(s->sorted, s->n_sorted_allocated, n))
                        return -ENOMEM;
                _cleanup_free_ NameSortItem *items = new(NameSortItem, MAX(n, (size_t) 1));
                if (!items)
                        return -ENOMEM;
                s->n_sorted = 0;
                HASHMAP_FOREACH(m, s->machines)
                        items[s->n_sorted++] = (NameSortItem) { m->key, m->id, m };
                name_sort(items, n);
                for (size_t i = 0; i < n; i++)
                        s->sorted[i] = items[i].ptr;
                for (size_t i = 0; i < n; i++)
                        s->sorted[i]->pos = i;
                s->sorted_dirty = false;
        }
        if (s->classes_dirty)
                scheduler_classes_clear(s);

        s->all.machines = s->sorted;
        s->all.n_machines = s->n_sorted;
        r = load_index_build(s, &s->all);
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
        r = load_index_build(s, &c->index);
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

/* The cell of ix's room grid for u's CPU and memory: the highest levels not above them. */
static size_t room_cell(const LoadIndex *ix, const Unit *u) {
        size_t i = levels_below(ix->levels.cpu, u->reserve_cpu);
        size_t j = levels_below(ix->levels.mem, u->reserve_mem);

        /* Level 0 is 0: at least one of each. */
        return (i - 1) * ROOM_LEVELS + (j - 1);
}

/* A node's value in the search order: a lower bound of the values of the machines below (that
 * may fit), exact at a machine. */
static inline uint64_t node_value(const LoadIndex *ix, size_t node, SearchOrder order, size_t cell) {
        switch (order) {
        case ORDER_SPREAD:
                return ix->share_min[node];
        case ORDER_BINPACK:
                /* The fullest machine below that may fit (pushed nodes have one; at a machine,
                 * its own share): exact, so that ties go by ID as they do between machines. */
                assert(ix->room[node * ROOM_CELLS + cell] >= 0);
                return SHARE_ONE - MIN((uint32_t) ix->room[node * ROOM_CELLS + cell], SHARE_ONE);
        default:
                return ix->tree[node];
        }
}

/* A node's key: its value, then the position of its leftmost leaf (node shifted down to the
 * leaves' depth), so that the search visits machines in (value, ID) order. */
static uint64_t node_key(const LoadIndex *ix, size_t node, SearchOrder order, size_t cell) {
        unsigned depth = (unsigned) (sizeof(unsigned long) * 8 - 1) - (unsigned) __builtin_clzl(node);
        unsigned leaves = (unsigned) __builtin_ctzl(ix->cap);

        return node_value(ix, node, order, cell) << 32 | (uint64_t) ((node << (leaves - depth)) - ix->cap);
}

/* Whether a subtree may hold a machine with room for u (a necessary condition only; the machine
 * itself is checked exactly). Under spread the most free CPU and memory below are bounds from
 * different machines; under binpack some machine below has the levels of u's cell free. */
static inline bool node_may_fit(const LoadIndex *ix, size_t node, const Unit *u, size_t cell) {
        if (!u->reserves)
                return true;
        if (ix->room)
                return ix->room[node * ROOM_CELLS + cell] >= 0;
        return ix->cpu_free[node] >= u->reserve_cpu && ix->mem_free[node] >= u->reserve_mem;
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

/* A walk down that takes, at each node, the child with the least key among those that may fit,
 * remembering the least value of the children it passed by, apart for those left and right of its
 * path. If the machine it reaches fits and its key is below every key passed by (the keys are
 * lower bounds of what lies below, ties go to the left), it is the one the best-first search
 * would return, since a subtree that cannot fit holds no answer: found without the heap. Else
 * NULL, and the caller searches (nothing was tallied). */
static Machine *search_first(const Scheduler *s, const LoadIndex *ix, const Unit *u, EvictMode evict,
                             SearchOrder order, size_t cell) {
        uint64_t passed_left = UINT64_MAX, passed_right = UINT64_MAX, v;
        const Unit *ignored = NULL;
        Machine *m;
        size_t i = 1;

        while (i < ix->cap) {
                size_t a = 2 * i, b = a + 1;
                bool fa = ix->tree[a] != LOAD_NONE && node_may_fit(ix, a, u, cell);
                bool fb = ix->tree[b] != LOAD_NONE && node_may_fit(ix, b, u, cell);

                if (fa && fb) {
                        uint64_t va = node_value(ix, a, order, cell), vb = node_value(ix, b, order, cell);

                        if (va <= vb) {
                                passed_right = MIN(passed_right, vb);
                                i = a;
                        } else {
                                passed_left = MIN(passed_left, va);
                                i = b;
                        }
                } else if (fa || fb)
                        i = fa ? a : b;
                else
                        return NULL;    /* the bounds below i came from different machines */
        }
        v = node_value(ix, i, order, cell);
        if (v > passed_right || v >= passed_left)
                return NULL;
        m = ix->machines[i - ix->cap];
        return unit_fits(s, u, m, evict, &ignored) == FIT_OK ? m : NULL;
}

int scheduler_find_machine(Scheduler *s, const LoadIndex *ix, const Unit *u, EvictMode evict,
                           size_t counts[static _FIT_RESULT_MAX], const Unit **blocker, Machine **ret) {
        SearchOrder order = !u->reserves ? ORDER_LOAD : ix->room ? ORDER_BINPACK : ORDER_SPREAD;
        size_t cell = ix->room && u->reserves ? room_cell(ix, u) : 0;
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
        if (!node_may_fit(ix, 1, u, cell)) {
                counts[FIT_RESOURCES]++;
                *ret = NULL;
                return 0;
        }

        /* The common case of a strategy's order: the first machine in it fits. */
        if (order != ORDER_LOAD) {
                m = search_first(s, ix, u, evict, order, cell);
                if (m) {
                        *ret = m;
                        return 0;
                }
        }
        if (heap_push(h, node_key(ix, 1, order, cell), 1) < 0)
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
                        if (!node_may_fit(ix, c, u, cell)) {
                                counts[FIT_RESOURCES]++;
                                continue;
                        }
                        if (heap_push(h, node_key(ix, c, order, cell), c) < 0)
                                return -ENOMEM;
                }
        }
        *ret = NULL;
        return 0;
}
