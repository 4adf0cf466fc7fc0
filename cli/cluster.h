/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What fleetctl reads from and writes to the registry (lib/registry.h's key layout), over the
 * blocking etcd calls. Records that do not decode are kept out of the snapshot but listed in it as
 * problems, which every command that reads the cluster reports: one broken record must neither
 * hide the rest of the cluster nor vanish without a word. */

#include "etcd-client.h"
#include "hashmap.h"
#include "registry.h"

typedef struct ClusterUnit {
        RegistryUnit *unit;
        int64_t mod_revision;
        bool global;                    /* [X-Fleet] Global= of its body */
        char *description;              /* [Unit] Description=, or NULL */
} ClusterUnit;

typedef struct ClusterAssignment {
        char *machine_id;
        RegistryAssignment *assignment;
} ClusterAssignment;

typedef struct ClusterReason {
        char *unit;
        char *text;
} ClusterReason;

typedef struct ClusterCordon {
        char *machine_id;
        RegistryCordon mode;
} ClusterCordon;

/* A record of the registry that does not decode (written by hand, by an older or a hostile client). */
typedef struct ClusterProblem {
        char *key;
        int key_type;                   /* RegistryKeyType of key */
        char *unit;                     /* the unit its key names (units/, schedule/, states/, reasons/), or NULL */
        char *what;                     /* what is wrong with it */
        int64_t mod_revision;
} ClusterProblem;

/* One consistent read of the whole registry (pages bounded by size, all at one revision), each
 * array sorted: units by name, machines by id, assignments by (unit, machine), states by (unit,
 * machine). */
typedef struct ClusterSnapshot {
        ClusterUnit *units;
        size_t n_units;
        RegistryMachine **machines;
        size_t n_machines;
        ClusterAssignment *assignments;
        size_t n_assignments;
        RegistryUnitState **states;
        size_t n_states;
        ClusterReason *reasons;
        size_t n_reasons;
        ClusterCordon *cordons;         /* machines whose P cordons/<id> is set (fleetctl cordon, drain) */
        size_t n_cordons;
        ClusterProblem *problems;       /* in the order read */
        size_t n_problems;
        int64_t revision;

        Hashmap *unit_by_name;          /* name → ClusterUnit*, once sealed */
        Hashmap *machine_by_id;         /* id → RegistryMachine*, once sealed */

        size_t units_allocated, machines_allocated, assignments_allocated, states_allocated,
                reasons_allocated, cordons_allocated, problems_allocated;
} ClusterSnapshot;

/* Building a snapshot by hand (what cluster_snapshot_load() does with what etcd returned): new,
 * add every key-value pair, seal (sort and index). Lookups need a sealed snapshot.
 * cluster_snapshot_add() classifies the key and decodes its record; keys and records that are
 * not the registry's are skipped. Both return 0 or -ENOMEM. */
ClusterSnapshot *cluster_snapshot_new(void);
int cluster_snapshot_add(ClusterSnapshot *s, const char *prefix, const EtcdKeyValue *kv);
int cluster_snapshot_seal(ClusterSnapshot *s);

/* Read everything under prefix. Returns 0 and a new snapshot, or the etcd error. */
int cluster_snapshot_load(EtcdClient *c, const char *prefix, ClusterSnapshot **ret);
ClusterSnapshot *cluster_snapshot_free(ClusterSnapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ClusterSnapshot *, cluster_snapshot_free);

/* Lookups in a snapshot; results are borrowed from it, NULL if absent. The assignment of a unit
 * is its first (a unit is assigned to at most one machine, global units excepted). */
ClusterUnit *cluster_snapshot_unit(const ClusterSnapshot *s, const char *name);
RegistryMachine *cluster_snapshot_machine(const ClusterSnapshot *s, const char *id);
ClusterAssignment *cluster_snapshot_assignment(const ClusterSnapshot *s, const char *unit);
/* The machine whose id is id or starts with it. Returns 0, -ENOENT, -ENOTUNIQ (an ambiguous prefix). */
int cluster_snapshot_find_machine(const ClusterSnapshot *s, const char *id, RegistryMachine **ret);
RegistryUnitState *cluster_snapshot_state(const ClusterSnapshot *s, const char *unit, const char *machine_id);
const char *cluster_snapshot_reason(const ClusterSnapshot *s, const char *unit);
/* The problem with unit's own record P units/<unit> (it exists but does not decode), or NULL. */
const ClusterProblem *cluster_snapshot_unit_problem(const ClusterSnapshot *s, const char *unit);
/* Whether the scheduler may place units on machine id (REGISTRY_CORDON_NONE when no key says). */
RegistryCordon cluster_snapshot_cordon(const ClusterSnapshot *s, const char *id);

/* fleet's current state of a unit: "inactive" (not placed, or no state from its machine yet),
 * "loaded" (its machine reports it), "launched" (to be launched, and running by the unit model's
 * rule, unit_active_state_is_running(): a failed unit is only loaded). Global units: NULL. */
const char *cluster_snapshot_current_state(const ClusterSnapshot *s, const ClusterUnit *u);

/* Decode a unit body: global flag and description. Returns 0, -EBADMSG if raw does not parse. */
int cluster_unit_describe(const char *raw, bool *ret_global, char **ret_description);

/* Read one unit. Returns 0, -ENOENT if it does not exist, -EBADMSG if its record is malformed, or
 * the etcd error. *ret_mod_revision (optional) gets the key's mod_revision. */
int cluster_unit_get(EtcdClient *c, const char *prefix, const char *name, RegistryUnit **ret,
                     int64_t *ret_mod_revision);

/* A write of one unit body in a batch: created if expected_mod_revision is 0 (and the unit must not
 * exist), replaced otherwise (and the unit must still be at that revision). */
typedef struct ClusterUnitWrite {
        const RegistryUnit *unit;
        int64_t expected_mod_revision;
} ClusterUnitWrite;

/* Write every unit of the batch in one transaction, all or nothing (batches larger than
 * ETCD_TXN_MAX_OPS go in chunks of that size, each all or nothing). Returns 0, -EEXIST if a unit to
 * create exists or one to replace changed meanwhile (that chunk is not written), or the etcd error. */
int cluster_units_write(EtcdClient *c, const char *prefix, const ClusterUnitWrite *writes, size_t n_writes);

/* Set the desired state of units with a compare on each one's mod_revision: one snapshot, one
 * transaction (per ETCD_TXN_MAX_OPS units), retried from a fresh snapshot on conflicts. Units
 * already in that state are not written. Returns the number of units changed, -ENOENT (nothing
 * written) if one does not exist (*ret_missing, optional, borrows its name from names), -EBUSY if
 * conflicts persist, or the etcd error. */
int cluster_units_set_desired(EtcdClient *c, const char *prefix, char *const *names, UnitDesiredState desired,
                              const char **ret_missing);

/* Delete every unit of names in one transaction (per ETCD_TXN_MAX_OPS units), then their
 * placements and reasons: destroying needs no leader (the agents see their placements go and
 * unload the units; the leader, if any, finds nothing left to remove). *ret_deleted gets the names
 * that existed, in order (a new strv). Returns 0 or the etcd error. */
int cluster_units_destroy(EtcdClient *c, const char *prefix, char *const *names, char ***ret_deleted);

/* "1a2b3c4d..." (or the full id with full), plus "/ip" if the machine has a public IP (its control
 * bytes escaped: it is the machine's own word). malloc'd into *ret. Returns 0 or -ENOMEM. */
int cluster_machine_legend(const char *id, const RegistryMachine *m, bool full, bool with_ip, char **ret);
