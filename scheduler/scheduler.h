/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"
#include "registry.h"
#include "unit-state.h"
#include "xfleet.h"

/* The pure scheduling core the leader runs: an in-memory model of machines, units and current
 * placements, and a reconcile step that decides which placements to add and remove. No etcd, no
 * sd-bus, no clock, no logging: the caller (fleetd's engine) feeds it what it watches and writes
 * back the changes it returns.
 *
 * Semantics are fleet's (engine/scheduler.go, agent/state.go AbleToRun), improved:
 *  - inactive units are not placed; loaded and launched ones are.
 *  - least-loaded: the machine with the fewest placed units (a global unit counts on each machine
 *    it runs on), ties broken by machine ID ascending. Stable: a placed unit stays where it is
 *    while it still fits, and adding a machine moves nothing.
 *  - MachineID (full ID or a prefix of 8+ characters), MachineOf (all peers' common machine; a
 *    follower moves with its target; mutual MachineOf never schedules), MachineMetadata with
 *    "k!=v", Conflicts (globs, symmetric), Replaces (the replacing unit takes the replaced
 *    unit's machine and the replaced unit moves elsewhere; of two units that replace each other
 *    only the first by name is placed), Global (placed on every machine whose metadata matches
 *    and where it conflicts with nothing; of two conflicting globals the first by name wins).
 *  - resources (issue 14): a unit with ReserveCPU=/ReserveMemory=/ReserveResource= is placed only
 *    where the machine's capacity minus what its units reserve covers it, in the strategy's order
 *    (spread or binpack, see SchedulerStrategy); a global unit reserves on each machine it runs
 *    on and skips machines where it does not fit; nothing is ever overcommitted by a placement
 *    the scheduler makes (a machine whose capacity shrinks loses the units that no longer fit).
 *    MaxReplicasPerMachine=N: at most N instances of the unit's template per machine.
 *    SpreadMetadata=K: the instance goes to the value of K (machines without K count as one more
 *    value) with the fewest instances of its template, then by the usual order within it.
 *  - a removed machine's units are re-placed in the next reconcile.
 *  - a cordoned machine gets no new placements, and keeps what runs there; a drained one also
 *    loses its non-global units at the next reconcile (they move like a removed machine's).
 *    Global units ignore both: they run on every matching machine.
 *  - a unit that fits nowhere stays unplaced with a reason, and is retried on later reconciles
 *    only when something changed that could let it fit (so retries cost nothing otherwise).
 *
 *  - a unit that Replaces moves away does not itself displace others in the same reconcile, so
 *    chains and cycles of Replaces settle; a global unit that a unit replaces leaves that unit's
 *    machine.
 *  - reconcile runs to a fixpoint: a second reconcile right after one has nothing to do.
 *
 * X-Fleet values must already be specifier-substituted (xfleet_options_parse() with the unit's
 * name does it); templates' instances are ordinary units; a template itself ("foo@.service") is
 * never placed (its reason says so).
 *
 * Strings passed in are copied; strings returned by the query functions are borrowed and stay
 * valid until the next call that modifies the scheduler. */

typedef struct Scheduler Scheduler;

/* How units that reserve resources choose among the machines where they fit (units that reserve
 * nothing are placed least-loaded by unit count, as fleet did, whatever the strategy). */
typedef enum SchedulerStrategy {
        SCHEDULER_SPREAD,       /* the least reserved share of its dominant resource (CPU or
                                 * memory, whichever is the larger share of the machine) */
        SCHEDULER_BINPACK,      /* the greatest such share that still fits: fill machines up */
        _SCHEDULER_STRATEGY_MAX,
        _SCHEDULER_STRATEGY_INVALID = -EINVAL,
} SchedulerStrategy;

/* "spread", "binpack"; and back (-EINVAL for anything else). */
const char *scheduler_strategy_to_string(SchedulerStrategy t) _const_;
SchedulerStrategy scheduler_strategy_from_string(const char *s) _pure_;

typedef enum SchedulerChangeType {
        SCHEDULER_UNASSIGN,     /* the unit no longer runs on the machine: delete the placement */
        SCHEDULER_ASSIGN,       /* the unit now runs on the machine: write the placement */
        _SCHEDULER_CHANGE_TYPE_MAX,
        _SCHEDULER_CHANGE_TYPE_INVALID = -EINVAL,
} SchedulerChangeType;

typedef struct SchedulerChange {
        char *unit;             /* both valid until the list is freed (references to the */
        char *machine;          /* scheduler's own names: a list costs no copies) */
        SchedulerChangeType type;
        bool global;            /* the unit is a global unit (one of several placements) */
} SchedulerChange;

/* The changes of one reconcile, in the order they must be applied: for a unit that moves, its
 * UNASSIGN comes before its ASSIGN. Owned by the caller. */
typedef struct SchedulerChangeList {
        SchedulerChange *changes;
        size_t n_changes;
        size_t n_allocated;
} SchedulerChangeList;

/* "unassign", "assign". */
const char *scheduler_change_type_to_string(SchedulerChangeType t) _const_;

/* Accepts NULL, returns NULL. */
SchedulerChangeList *scheduler_change_list_free(SchedulerChangeList *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(SchedulerChangeList *, scheduler_change_list_free);

/* A new, empty scheduler. Returns 0 or -ENOMEM. */
int scheduler_new(Scheduler **ret);
/* Frees everything. Accepts NULL, returns NULL. */
Scheduler *scheduler_free(Scheduler *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Scheduler *, scheduler_free);

/* Add machine id with its metadata ("k=v" entries, may be NULL), or update the metadata of a
 * known machine (units that no longer fit it move at the next reconcile). Returns 1 if added, 0
 * if updated, -EINVAL for an empty id, -ENOMEM. */
int scheduler_machine_add(Scheduler *s, const char *id, char *const *metadata);
/* Set what machine id offers to units that reserve resources (its registration's capacity);
 * NULL: unknown (a machine whose registration has none, e.g. an older fleetd: only units that
 * reserve nothing go there). Placed units that no longer fit move at the next reconcile, the
 * others stay. Returns 0, -ENOENT (unknown machine), -ENOMEM. */
int scheduler_machine_set_capacity(Scheduler *s, const char *id, const Resources *capacity);
/* What the units placed on machine id reserve (global units included), in *ret (the caller
 * frees it with resources_done()). Returns 0, -ENOENT, -ENOMEM. */
int scheduler_machine_reserved(const Scheduler *s, const char *id, Resources *ret);

/* The strategy for units that reserve resources (default: spread). Takes effect for placements
 * decided from now on; nothing placed moves. */
void scheduler_set_strategy(Scheduler *s, SchedulerStrategy strategy);

/* Remove machine id (its lease expired). Its placements are reported as UNASSIGN by the next
 * reconcile, which also re-places its non-global units. Returns 0 or -ENOENT. */
int scheduler_machine_remove(Scheduler *s, const char *id);

/* Set whether machine id takes placements (from P cordons/<id>): REGISTRY_CORDON_NONE,
 * _CORDONED or _DRAINED. The machine need not be known yet: its mode applies when it is added,
 * and survives its removal. Returns 0, -EINVAL for an empty id or an invalid mode, -ENOMEM. */
int scheduler_machine_cordon(Scheduler *s, const char *id, RegistryCordon c);

/* Add unit name, or update its options and desired state. x may be NULL (no constraints); it is
 * copied (the caller keeps it). Changing the options of a placed unit keeps it where it is if it
 * still fits there. Returns 1 if added, 0 if updated, -EINVAL for an invalid name or desired
 * state, -ENOMEM. */
int scheduler_unit_set(Scheduler *s, const char *name, const XFleetOptions *x,
                       UnitDesiredState desired);
/* Remove unit name (destroyed). Its placements are reported as UNASSIGN by the next reconcile.
 * Returns 0 or -ENOENT. */
int scheduler_unit_remove(Scheduler *s, const char *name);

/* Restore a placement read from etcd (at leader start-up, or when another writer changed it):
 * unit runs on machine. For a non-global unit this replaces its current placement; for a global
 * unit it adds machine to its set. No change is reported for it; the next reconcile keeps it if
 * it fits, and otherwise reports an UNASSIGN (also when machine is unknown). Returns 0, -ENOENT if
 * the unit is unknown, -ENOMEM. */
int scheduler_assignment_set(Scheduler *s, const char *unit, const char *machine);
/* Forget a placement (for a global unit: one machine of its set) without reporting it. Returns 0
 * or -ENOENT if the unit is unknown or was not placed there. */
int scheduler_assignment_unset(Scheduler *s, const char *unit, const char *machine);

/* Decide: remove placements that are no longer wanted or no longer fit, place every unit that
 * should run and can, and apply all of it to the model. *ret gets the list of changes (possibly
 * empty, never NULL on success). Returns 0 or -ENOMEM (the model may then be partly updated;
 * a later reconcile continues from there, so calling it again is always correct). */
int scheduler_reconcile(Scheduler *s, SchedulerChangeList **ret);

/* The machine a non-global unit is placed on, or NULL (unplaced, unknown or global). */
const char *scheduler_unit_machine(const Scheduler *s, const char *unit);
/* The machines a global unit is placed on, sorted, as a new strv (for a non-global unit: its
 * machine, if any). Returns 0, -ENOENT, -ENOMEM. */
int scheduler_unit_machines(const Scheduler *s, const char *unit, char ***ret);
/* Why a unit that should run is not placed, e.g. "no machine has region=us", "conflicts with
 * web@1.service on every eligible machine", "MachineOf=db.service is not scheduled"; NULL if it
 * is placed, inactive, unknown, or not reconciled yet. For a global unit placed on no machine,
 * why not. Borrowed. */
const char *scheduler_unit_reason(const Scheduler *s, const char *unit);

/* Unit gave up on machine (its agent stopped it there after MoveAfterFailures= failures, see
 * xfleet.h): it is never placed there again, and if it is placed there the next reconcile moves it
 * to another machine that fits, or leaves it unplaced. why (e.g. "3 failures in 5min
 * (unhealthy)") makes the note "moved from <machine>: <why>", which scheduler_unit_moved()
 * returns and which starts its reason while it is unplaced. Exclusions add up (a unit given up
 * on every machine it fits on stays unplaced: nothing bounces forever) until
 * scheduler_unit_exclusions_clear(). Returns 0, -ENOENT for an unknown unit, -EINVAL for an
 * empty machine, -ENOMEM. */
int scheduler_unit_exclude(Scheduler *s, const char *unit, const char *machine, const char *why);
/* Forget unit's exclusions and note (its body changed, or it was unloaded). Returns 1 if it had
 * any, 0 if not, -ENOENT for an unknown unit. */
int scheduler_unit_exclusions_clear(Scheduler *s, const char *unit);
/* The note of a wanted unit's last exclusion ("moved from M: why"), placed or not; NULL if none.
 * Borrowed. */
const char *scheduler_unit_moved(const Scheduler *s, const char *unit);

/* How many placements machine id has (global units included); -ENOENT if unknown. */
int scheduler_machine_load(const Scheduler *s, const char *id);

size_t scheduler_n_machines(const Scheduler *s);
size_t scheduler_n_units(const Scheduler *s);
