/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "hashmap.h"
#include "scheduler.h"

typedef struct Machine Machine;
typedef struct Unit Unit;

/* A name's first 16 bytes as two big-endian integers (zero after its end): comparing keys
 * compares those bytes in strcmp() order. */
typedef struct NameKey {
        uint64_t hi, lo;
} NameKey;

typedef struct NameSortItem {
        NameKey key;                    /* name_key(name) */
        const char *name;
        void *ptr;                      /* the caller's object */
} NameSortItem;

/* Sorting by name (scheduler-sort.c). */
NameKey name_key(const char *name) _pure_;
/* Sort items in strcmp() order of their names (which must be distinct). */
void name_sort(NameSortItem *items, size_t n);

/* A machine's whole capacity in dominant-share units: shares are integers, and tree keys. */
#define SHARE_ONE (1U << 20)

/* The free-room thresholds a load index keeps its best share for, per dimension: level 0 is 0,
 * the others are the amounts units reserve most often, ascending (unused: UINT64_MAX). A unit is
 * looked up at the highest levels not above what it needs: a bound, exact for the common sizes. */
#define ROOM_LEVELS 8
#define ROOM_CELLS (ROOM_LEVELS * ROOM_LEVELS)

typedef struct RoomLevels {
        uint64_t cpu[ROOM_LEVELS];
        uint64_t mem[ROOM_LEVELS];
} RoomLevels;

/* Machines sorted by ID at the leaves of a segment tree whose inner nodes hold the minimum load
 * below them: the least-loaded machine with the lowest ID is a walk from the root (O(log M)),
 * and a load change is a walk up. One index holds all machines; each distinct MachineMetadata
 * requirement list gets its own index of the machines that match it, so a constrained unit
 * never wades through machines it cannot use. */
typedef struct LoadIndex {
        Machine **machines;             /* sorted by id */
        size_t n_machines;
        unsigned *tree;                 /* 2 * cap slots; leaf i at cap + i */
        size_t cap;

        /* For units that reserve resources, over the same leaves: the least dominant share below
         * each node (the spread order) and the most free CPU and memory of one machine below it
         * (subtrees where nothing can fit are skipped). */
        uint32_t *share_min;
        uint64_t *cpu_free;
        uint64_t *mem_free;

        /* Under binpack, which wants the fullest machine that fits, bounds on each dimension
         * apart (from different machines) let the search visit most of the tree. So per node,
         * ROOM_CELLS shares: cell (i, j) the greatest share of a machine below with at least
         * levels.cpu[i] CPU and levels.mem[j] memory free, or -1. A unit's cell both prunes the
         * subtrees where it cannot fit and orders the search by the fullest machine where it may.
         * NULL under spread. */
        int32_t *room;                  /* 2 * cap * ROOM_CELLS */
        RoomLevels levels;              /* as when the index was built */
} LoadIndex;

/* Where a machine sits in a metadata class's index, for load updates. */
typedef struct MachineRef {
        LoadIndex *index;
        size_t pos;
} MachineRef;

typedef struct MetaClass {
        char *signature;                /* the requirements joined by newlines */
        LoadIndex index;                /* owns index.machines */
} MetaClass;

/* The lists a unit can be on; each keeps the unit's index for O(1) removal. */
typedef enum UnitListType {
        UNIT_LIST_PENDING,      /* wanted, non-global, not placed */
        UNIT_LIST_GLOBAL,       /* global units */
        UNIT_LIST_FOLLOWER,     /* units with MachineOf */
        UNIT_LIST_REPLACER,     /* units with Replaces */
        UNIT_LIST_CHECK,        /* placed units to re-check at the next reconcile */
        _UNIT_LIST_MAX,
} UnitListType;

typedef struct UnitList {
        Unit **units;
        size_t n_units;
        size_t n_allocated;
} UnitList;

#define UNIT_LIST_NONE SIZE_MAX

struct Unit {
        /* What sorting and placing a unit read comes first, in as few cache lines as can be. */
        NameKey key;                    /* name_key(name) */
        char *name;                     /* shared (scheduler_name_new()) */
        Machine *machine;               /* non-global placement */
        size_t machine_slot;            /* index in machine->units */
        /* What placing reads of x, copied here by unit_options_cache() whenever x changes, so that
         * placing a unit reads this struct only (x is another allocation: another cache miss per
         * decision). */
        uint64_t reserve_cpu;           /* x->reserve.cpu_milli */
        uint64_t reserve_mem;           /* x->reserve.memory */
        UnitDesiredState desired;
        bool template;                  /* a template's name ("foo@.service"): never placed */
        bool has_patterns;              /* Conflicts or Replaces non-empty */
        bool reserves;                  /* x->reserve is not empty */
        bool global;                    /* x->global */
        bool follower;                  /* x->machine_of is not empty */
        bool plain;                     /* no MachineID, MachineMetadata, MachineOf, Replaces,
                                         * SpreadMetadata or MaxReplicasPerMachine */
        bool reserve_extra;             /* x->reserve has named resources */

        bool failed;                    /* the last attempt found no machine at fail_epoch */
        bool retry_always;              /* the failure depends on other units' placement */
        bool reason_quotes_room;        /* the reason names free room, which placements change */
        uint64_t fail_epoch;
        uint64_t fail_room_serial;      /* Scheduler.room_serial when it failed */
        uint64_t evicted_serial;        /* the reconcile that evicted it (then it may not evict) */
        size_t list_index[_UNIT_LIST_MAX];
        char **excluded;                /* machines it was given up on: never placed there again
                                         * (scheduler_unit_exclude()); NULL for nearly all units */
        char *reason;

        XFleetOptions *x;               /* owned copy; never NULL */
        char *signature;                /* MachineMetadata joined by newlines, or NULL */
        size_t n_global_placements;
        char *group;                    /* an instance's template ("web@.service"), else NULL:
                                         * MaxReplicasPerMachine and SpreadMetadata count these */
        char *moved;                    /* "moved from M: why", of the last exclusion, or NULL */
};

struct Machine {
        /* What checking a machine during a search reads comes first, in one or two cache lines:
         * the search lands on machines in no order, and each one's first touch is a cache miss. */
        RegistryCordon cordon;          /* cordoned: no new units; drained: none at all */
        unsigned load;
        unsigned n_patterned;           /* placed units (of both lists) with patterns */
        uint32_t share;                 /* dominant share of CPU and memory, 0..SHARE_ONE */
        /* Capacity (from its registration) and what its placed units (of both lists) reserve.
         * A machine that published no capacity takes no unit that reserves anything. */
        bool has_capacity;
        bool globals_dirty;             /* recompute which global units run here */
        uint64_t cpu_used, mem_used;
        Resources capacity;

        UnitList units;                 /* non-global units placed here (no list_index use) */
        size_t pos;                     /* index in Scheduler.sorted and the load tree */
        char *id;                       /* shared (scheduler_name_new()) */
        MachineRef *refs;               /* its places in metadata class indexes */
        size_t n_refs;
        size_t n_refs_allocated;
        uint64_t *extra_used;           /* parallel to capacity.extra */

        NameKey key;                    /* name_key(id) */
        char **metadata;
        UnitList globals;               /* global units placed here */
};

/* A machine's cordon as set, kept apart from the machine (which may come and go). */
typedef struct Cordon {
        char *id;
        RegistryCordon cordon;
} Cordon;

/* A metadata "k=v" pair and how many machines have it. */
typedef struct MetadataCount {
        char *kv;
        size_t count;
} MetadataCount;

struct Scheduler {
        Hashmap *machines;              /* id → Machine */
        Hashmap *units;                 /* name → Unit */
        Hashmap *metadata_counts;       /* "k=v" → MetadataCount */
        Hashmap *cordons;               /* machine id → Cordon, known machines or not */

        Machine **sorted;               /* machines by id; valid unless sorted_dirty */
        size_t n_sorted;
        size_t n_sorted_allocated;
        bool sorted_dirty;

        LoadIndex all;                  /* over sorted (borrowed) */
        bool tree_dirty;
        Hashmap *classes;               /* signature → MetaClass, built on demand */
        bool classes_dirty;             /* machines or their metadata changed */

        UnitList lists[_UNIT_LIST_MAX];
        bool globals_sorted;
        bool all_globals_dirty;
        bool followers_dirty;           /* a unit left a machine: check the MachineOf followers */

        SchedulerChangeList queued;     /* placements ended outside reconcile, reported next */

        SchedulerStrategy strategy;     /* how units that reserve resources are placed */
        RoomLevels levels;              /* for the load indexes built from now on */
        bool levels_dirty;              /* a unit reserves an amount that has a free level */
        struct Heap *heap;              /* the search's frontier, kept between searches */
        const char *spread_key;         /* while searching for a SpreadMetadata unit: only */
        const char *spread_value;       /* machines with this value of the key (NULL: without) */
        uint64_t epoch;                 /* bumped whenever a unit might newly fit somewhere */
        uint64_t room_serial;           /* bumped whenever a reservation takes room on a machine */
        uint64_t serial;                /* reconcile counter */
};

/* Unit lists (scheduler.c). */
int unit_list_add(Scheduler *s, UnitListType t, Unit *u);
void unit_list_remove(Scheduler *s, UnitListType t, Unit *u);
static inline bool unit_in_list(const Unit *u, UnitListType t) {
        return u->list_index[t] != UNIT_LIST_NONE;
}
void unit_list_sort(Scheduler *s, UnitListType t);

static inline bool unit_is_global(const Unit *u) {
        return u->global;
}
static inline bool unit_wanted(const Unit *u) {
        return u->desired != UNIT_DESIRED_INACTIVE;
}

/* Placement bookkeeping (scheduler.c): these keep loads, pattern counts and lists consistent
 * and update the load tree when it is valid. */
int machine_attach_unit(Scheduler *s, Machine *m, Unit *u);
/* Also puts a wanted unit back on the pending list. */
int machine_detach_unit(Scheduler *s, Unit *u);
int machine_attach_global(Scheduler *s, Machine *m, Unit *u);
void machine_detach_global(Scheduler *s, Machine *m, Unit *u);
bool machine_has_global(const Machine *m, const Unit *u);
/* m changed (metadata, capacity): its placed units are checked at the next reconcile (those that
 * no longer fit move, the rest stay), its global units recomputed, and units that failed before
 * are retried. Returns 0 or -ENOMEM. */
int machine_recheck(Scheduler *s, Machine *m);

/* Shared names (scheduler-name.c): Unit.name and Machine.id, referenced by the change lists.
 * scheduler_name_new() returns a name with one reference, or NULL on OOM; unref returns NULL. */
char *scheduler_name_new(const char *s);
char *scheduler_name_ref(char *name);
char *scheduler_name_unref(char *name);

/* Change lists (scheduler-change.c). unit and machine are shared names (scheduler_name_new()):
 * the change takes a reference of each. */
int change_list_append(SchedulerChangeList *l, SchedulerChangeType type, char *unit, char *machine,
                       bool global);
void change_list_done(SchedulerChangeList *l);
int change_list_move(SchedulerChangeList *to, SchedulerChangeList *from);
/* Forget every change of unit on machine (a restored placement overrides a queued removal). */
void change_list_drop(SchedulerChangeList *l, const char *unit, const char *machine);

/* The load indexes (scheduler-tree.c). */
int scheduler_tree_rebuild(Scheduler *s);
void scheduler_tree_update(Scheduler *s, const Machine *m);
/* The index of machines matching u's MachineMetadata (built on first use), or the index of all
 * machines if u has none. Returns 0 or -ENOMEM. */
int scheduler_index_for(Scheduler *s, const Unit *u, LoadIndex **ret);
void scheduler_classes_clear(Scheduler *s);
/* Free the index of all machines and the search heap. */
void scheduler_index_free(Scheduler *s);
void meta_class_free_void(void *p);

/* Why a machine does not fit a unit. */
typedef enum FitResult {
        FIT_OK,
        FIT_MACHINE_ID,
        FIT_METADATA,
        FIT_MACHINE_OF,
        FIT_CONFLICT,           /* blocker conflicts with the unit (either side's pattern) */
        FIT_REPLACED,           /* blocker replaces the unit */
        FIT_REPLACES,           /* the unit replaces blocker, and may not evict it here */
        FIT_CORDONED,           /* the machine is cordoned (and the unit not there) or drained */
        FIT_RESOURCES,          /* not enough free CPU, memory or a named resource */
        FIT_MAX_PER_MACHINE,    /* MaxReplicasPerMachine instances of its template are there */
        FIT_SPREAD,             /* not in the SpreadMetadata group being tried */
        FIT_EXCLUDED,           /* the unit was given up on the machine (scheduler_unit_exclude()) */
        _FIT_RESULT_MAX,
} FitResult;

/* Reasons (scheduler.c). Takes ownership of reason, even on failure. */
void unit_set_failed(Scheduler *s, Unit *u, char *reason, bool retry_always);

/* Which units that the candidate replaces may be evicted instead of blocking it. */
typedef enum EvictMode {
        EVICT_NONE = 0,
        EVICT_GLOBALS = 1 << 0,
        EVICT_ALL = EVICT_GLOBALS | 1 << 1,
} EvictMode;

/* Placement checks (scheduler-fit.c). */
FitResult unit_fits(const Scheduler *s, const Unit *u, const Machine *m, EvictMode evict,
                    const Unit **ret_blocker);
bool units_conflict(const Unit *a, const Unit *b);
bool unit_replaces(const Unit *a, const Unit *b);
/* The first machine of ix in (load, id) order where u fits, or NULL, in *ret; the reasons of the
 * machines that did not fit are tallied in counts (indexed by FitResult), and the first unit
 * that blocked one goes to *blocker if that is still NULL. Returns 0 or -ENOMEM. */
int scheduler_find_machine(Scheduler *s, const LoadIndex *ix, const Unit *u, EvictMode evict,
                           size_t counts[static _FIT_RESULT_MAX], const Unit **blocker, Machine **ret);
/* Resources (scheduler-resources.c). */
/* Whether u's reservation fits on m, beside what is reserved there now (less u's own reservation if
 * u is placed there, less the reservations of the units in minus, plus those in plus). */
bool machine_has_room(const Machine *m, const Unit *u, Unit *const *minus, size_t n_minus,
                      Unit *const *plus, size_t n_plus);
/* machine_has_room(m, u, NULL, 0, NULL, 0) for a unit that reserves no named resource. */
static inline bool machine_has_room_plain(const Machine *m, const Unit *u) {
        uint64_t cpu = m->cpu_used, mem = m->mem_used;

        if (!m->has_capacity)
                return false;
        if (u->machine == m) {
                cpu -= MIN(cpu, u->reserve_cpu);
                mem -= MIN(mem, u->reserve_mem);
        }
        return u->reserve_cpu <= m->capacity.cpu_milli && cpu <= m->capacity.cpu_milli - u->reserve_cpu &&
               u->reserve_mem <= m->capacity.memory && mem <= m->capacity.memory - u->reserve_mem;
}
/* Account for u being placed on m (sign +1) or leaving it (-1); updates the share and trees. */
void machine_reserve(Scheduler *s, Machine *m, const Unit *u, int sign);
uint32_t machine_share(const Machine *m) _pure_;
uint64_t machine_cpu_free(const Machine *m) _pure_;
uint64_t machine_mem_free(const Machine *m) _pure_;
/* "needs 2 CPU / 4 GiB; most free: node2 1.5 CPU / 6 GiB" for u, over the machines of ix; NULL on
 * OOM. */
char *resources_reason(const LoadIndex *ix, const Unit *u);
/* Number of units of u's group placed (non-global) on m. */
unsigned machine_group_count(const Machine *m, const Unit *u);
/* The value of metadata key on m, or NULL. */
const char *machine_metadata_value(const Machine *m, const char *key);
void scheduler_tree_update_resources(Scheduler *s, const Machine *m);
/* Levels with only level 0 (every other slot unused). */
void room_levels_init(RoomLevels *l);
/* u reserves an amount that is no level yet while a level is unused: the indexes are rebuilt with
 * levels chosen anew at the next reconcile. */
void scheduler_levels_note(Scheduler *s, const Unit *u);
void scheduler_heap_free(Scheduler *s);

/* Whether some key of u's '=' requirements has no machine at all with any of its values; *ret
 * gets a reason. Returns 1 (hopeless), 0, or -ENOMEM. */
int unit_metadata_hopeless(const Scheduler *s, const Unit *u, char **ret_reason);
