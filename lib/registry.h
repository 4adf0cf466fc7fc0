/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The registry: fleet's cluster state as it is laid out in etcd, shared by fleetd and fleetctl.
 * This module is pure: key names and the JSON records stored under them, with strict decoding
 * (a malformed record is an error, never a crash). Talking to etcd is the callers' business.
 *
 * Key layout, under the prefix P (etcd_key_prefix, default "/_coreos.com/fleet/"):
 *
 *   P machines/<machine-id>          RegistryMachine   agent, under the agent's lease
 *   P units/<unit>                   RegistryUnit      fleetctl: the unit body and desired state
 *   P schedule/<machine-id>/<unit>   RegistryAssignment  the leader: what a machine must run
 *   P states/<unit>/<machine-id>     RegistryUnitState agent, under the agent's lease
 *   P engine/leader                  RegistryLeader    the elected engine, under its lease
 *   P reasons/<unit>                 plain text        the leader: why a unit is not placed
 *   P cordons/<machine-id>           "cordoned"/"drained"  fleetctl cordon/drain; no lease, so it
 *                                                      outlives fleetd restarts and absences
 *   P names/<unit>/<machine-id>      RegistryName      agent, under the agent's lease: a running
 *                                                      container's address and the names it answers to
 *   P network/subnets/<a.b.c.d-len>  RegistrySubnet    fleetd: a machine's subnet of the cluster
 *                                                      network, under that machine's network lease
 *   P secrets/<name>                 ClusterObject     fleetctl: a secret, sealed with the cluster key
 *   P configs/<name>                 ClusterObject     fleetctl: a config, in clear (cluster-object.h)
 *
 * Why this shape: every agent watches only P schedule/<own id>/ (fleet woke every agent on every
 * change); a dead machine's registration and states vanish with its lease; the leader fences every
 * write with a compare on the create_revision of P engine/leader, so a deposed leader cannot write.
 * An assignment carries the unit body, so an agent needs no second read to act on it. */

#include <stdint.h>

#include "macro.h"
#include "resources.h"
#include "unit-file.h"
#include "unit-state.h"

#define REGISTRY_DEFAULT_PREFIX "/_coreos.com/fleet/"

/* UnitDesiredState (inactive, loaded, launched) and its string functions are the unit model's
 * (unit-state.h): one definition for every component. Records store it as those same strings. */

/* ---- names ---- */

#define REGISTRY_MACHINE_ID_MAX 64
#define REGISTRY_UNIT_NAME_MAX 256
#define REGISTRY_RAW_MAX (1024U * 1024U)
/* The cluster-wide budget for the unit texts under P units/, all units together, enforced at submit.
 * Every unit's text is held by the leader, and a machine's assignments carry their texts: with this
 * budget any one agent's schedule (all of the units, global ones) stays well inside what one etcd
 * reply may carry (64 MiB, with base64's third), and the leader's memory stays bounded. */
#define REGISTRY_UNITS_BUDGET (32U * 1024U * 1024U)

/* Whether id can be a machine id in a key: 1..64 characters of [a-zA-Z0-9_-]. */
bool registry_machine_id_is_valid(const char *id) _pure_;
/* Whether name is safe as a unit name in a key: 1..255 characters of [a-zA-Z0-9:_.@-], not "." or
 * "..". Only the character set: the type suffix and '@' rules are unit_name_is_valid()'s. */
bool registry_unit_name_is_valid(const char *name) _pure_;
/* Whether hash is 40 lowercase hex characters. */
bool registry_hash_is_valid(const char *hash) _pure_;

/* ---- keys ---- */

/* Each returns a malloc'd key, or NULL on OOM. prefix must end in '/'. The *_prefix() forms give
 * the directory to range or watch over (ending in '/'). */
char *registry_machine_key(const char *prefix, const char *machine_id);
char *registry_machines_prefix(const char *prefix);
char *registry_unit_key(const char *prefix, const char *unit);
char *registry_units_prefix(const char *prefix);
char *registry_assignment_key(const char *prefix, const char *machine_id, const char *unit);
char *registry_schedule_prefix(const char *prefix);                          /* P schedule/ */
char *registry_machine_schedule_prefix(const char *prefix, const char *machine_id);   /* P schedule/<id>/ */
char *registry_state_key(const char *prefix, const char *unit, const char *machine_id);
char *registry_states_prefix(const char *prefix);                            /* P states/ */
char *registry_unit_states_prefix(const char *prefix, const char *unit);     /* P states/<unit>/ */
char *registry_leader_key(const char *prefix);
char *registry_reason_key(const char *prefix, const char *unit);
char *registry_reasons_prefix(const char *prefix);
char *registry_cordon_key(const char *prefix, const char *machine_id);
char *registry_cordons_prefix(const char *prefix);                           /* P cordons/ */
char *registry_name_key(const char *prefix, const char *unit, const char *machine_id);
char *registry_names_prefix(const char *prefix);                             /* P names/ */
/* How far a machine's DNS has read P names/: the etcd revision up to which its hosts files follow
 * the names (a decimal), under the machine's lease. A machine withdrawing a name stops the
 * container only once every machine's revision has passed the delete's. Outside P names/, so that
 * writing it wakes no names watch. */
char *registry_names_applied_key(const char *prefix, const char *machine_id);
char *registry_names_applied_prefix(const char *prefix);                     /* P names-applied/ */
/* The machine id of a key under registry_names_applied_prefix(), borrowed from key, or NULL for any
 * other key or an invalid id. */
const char *registry_names_applied_key_machine(const char *prefix, const char *key);
/* The cluster network's subnet leases. subnet_name is subnet_to_key_name()'s "a.b.c.d-len". The
 * key is created with a create-only txn, so two machines never hold one subnet. */
char *registry_subnet_key(const char *prefix, const char *subnet_name);
char *registry_subnets_prefix(const char *prefix);                           /* P network/subnets/ */
/* The subnet name of a key under registry_subnets_prefix(), borrowed from key, or NULL for any
 * other key. The name itself is checked by subnet_from_key_name(). */
const char *registry_subnet_key_name(const char *prefix, const char *key);

typedef enum RegistryKeyType {
        REGISTRY_KEY_MACHINE,
        REGISTRY_KEY_UNIT,
        REGISTRY_KEY_ASSIGNMENT,
        REGISTRY_KEY_STATE,
        REGISTRY_KEY_LEADER,
        REGISTRY_KEY_REASON,
        REGISTRY_KEY_CORDON,
        REGISTRY_KEY_NAME,
        _REGISTRY_KEY_TYPE_MAX,
        _REGISTRY_KEY_TYPE_INVALID = -EINVAL,
} RegistryKeyType;

/* Classify a full key and split out its names. ret_a/ret_b (optional) receive malloc'd copies:
 * machine: a = machine id; unit: a = unit; assignment: a = machine id, b = unit; state: a = unit,
 * b = machine id; reason: a = unit; cordon: a = machine id; name: a = unit, b = machine id;
 * leader: neither. Returns the type, or -EINVAL for a key that is not ours (outside the prefix or
 * of unknown shape), -ENOMEM. */
int registry_parse_key(const char *prefix, const char *key, char **ret_a, char **ret_b);

/* Whether the scheduler may place units on a machine (P cordons/<id>; no key: schedulable).
 * Cordoned: no new placements, what runs there stays. Drained: also its non-global units move
 * away. Global units are not affected by either (they run on every matching machine). */
typedef enum RegistryCordon {
        REGISTRY_CORDON_NONE,
        REGISTRY_CORDON_CORDONED,
        REGISTRY_CORDON_DRAINED,
        _REGISTRY_CORDON_MAX,
        _REGISTRY_CORDON_INVALID = -EINVAL,
} RegistryCordon;

/* "none", "cordoned", "drained"; NULL for an invalid value. */
const char *registry_cordon_to_string(RegistryCordon c) _const_;
/* The inverse, from a key's value (size bytes, not NUL-terminated); _REGISTRY_CORDON_INVALID for
 * anything else. */
RegistryCordon registry_cordon_from_string(const char *s, size_t size) _pure_;

/* ---- records ----
 * Each record type has _to_json (a malloc'd compact JSON string, keys in a fixed order so equal
 * records encode identically), _from_json (strict: unknown keys, missing required keys or wrong
 * types are -EBADMSG; *ret written only on success) and _free (accepts NULL, returns NULL). */

typedef struct RegistryMachine {
        char *id;                       /* 32 hex chars, from /etc/machine-id */
        char *public_ip;                /* may be NULL */
        char *hostname;                 /* may be NULL */
        char **metadata;                /* strv of "k=v", sorted */
        char *version;                  /* fleetd version */
        int64_t agent_ttl_sec;
        bool has_capacity;              /* false in records of fleetd before issue 14 */
        Resources capacity;             /* what it offers to units that reserve resources:
                                         * "capacity": {"cpu_milli": N, "memory": N,
                                         * "resources": {"gpu": N, ...}} */
} RegistryMachine;

typedef struct RegistryUnit {
        char *name;
        char *hash;                     /* 40 hex chars: SHA1 of the canonical unit text */
        char *raw;                      /* the canonical unit text */
        UnitDesiredState desired;
} RegistryUnit;

typedef struct RegistryAssignment {
        char *unit;
        char *hash;
        char *raw;
        UnitDesiredState desired;       /* loaded or launched */
        bool global;                    /* [X-Fleet] Global=, as the scheduler placed it: the agent
                                         * needs no parse of raw to know it. Stored as "global"; a
                                         * record without it (older leaders) is decoded by parsing
                                         * raw, as agents used to. */
} RegistryAssignment;

typedef struct RegistryUnitState {
        char *unit;
        char *machine_id;
        char *hash;                     /* hash of the body the state is about: the one the agent has
                                         * loaded, or while it replaces a body, until its job for the new
                                         * one finished, the old one (which runs or is being stopped) */
        char *load_state;               /* systemd's LoadState, ActiveState, SubState */
        char *active_state;
        char *sub_state;
        char *reason;                   /* why the unit does not run as asked, for fleetctl: the agent
                                         * refused to load it (load_state REGISTRY_LOAD_REFUSED), or
                                         * holds it, waiting for its dependencies or objects; NULL
                                         * otherwise (and in older records) */
        UnitHealth health;              /* its container's healthcheck: "health", absent for none (no
                                         * healthcheck, and older records) */
        unsigned failures;              /* its failures on this machine within its FailureWindow=
                                         * ([X-Fleet], xfleet.h): "failures", absent for 0 */
        char *gave_up;                  /* the agent gave the unit up here after MoveAfterFailures=
                                         * failures and stopped it, e.g. "3 failures in 5min
                                         * (unhealthy)": the leader moves it elsewhere. "gave_up",
                                         * absent (NULL) otherwise */
} RegistryUnitState;

typedef struct RegistryLeader {
        char *machine_id;
        char *version;
} RegistryLeader;

/* A machine's lease of a subnet of the cluster network: what the other machines need to reach the
 * containers in it over VXLAN (as flannel's vxlan backend records it). */
typedef struct RegistrySubnet {
        char *machine_id;
        char *public_ip;                /* the VTEP's underlay address, dotted quad */
        char *vtep_mac;                 /* the VXLAN device's MAC, "02:xx:xx:xx:xx:xx" lowercase */
        uint32_t vni;                   /* VXLAN network identifier, 1..16777215 */
} RegistrySubnet;

int registry_machine_to_json(const RegistryMachine *m, char **ret);
int registry_machine_from_json(const char *json, size_t size, RegistryMachine **ret);
RegistryMachine *registry_machine_free(RegistryMachine *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryMachine *, registry_machine_free);

int registry_unit_to_json(const RegistryUnit *u, char **ret);
int registry_unit_from_json(const char *json, size_t size, RegistryUnit **ret);
RegistryUnit *registry_unit_free(RegistryUnit *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryUnit *, registry_unit_free);

int registry_assignment_to_json(const RegistryAssignment *a, char **ret);
int registry_assignment_from_json(const char *json, size_t size, RegistryAssignment **ret);
RegistryAssignment *registry_assignment_free(RegistryAssignment *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryAssignment *, registry_assignment_free);

int registry_unit_state_to_json(const RegistryUnitState *s, char **ret);
int registry_unit_state_from_json(const char *json, size_t size, RegistryUnitState **ret);
RegistryUnitState *registry_unit_state_free(RegistryUnitState *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryUnitState *, registry_unit_state_free);

/* The load_state of a unit its machine's agent will not load ("refused/inactive/dead"). */
#define REGISTRY_LOAD_REFUSED "refused"

/* True when s (may be NULL) says its machine's agent refused the unit: a failure, with the reason in
 * s->reason. A held unit (waiting for a dependency or an object) has a reason too, but is no
 * failure: it starts once what it waits for is there. */
bool registry_unit_state_is_refused(const RegistryUnitState *s);

/* A running container of a compose service, as the cluster's DNS publishes it (registry-record.c).
 * The agent writes it once the unit is active (and healthy, where that is known) and its address is
 * read from the runtime; it goes with the unit's stop or with the machine's lease. */
typedef struct RegistryName {
        char *unit;
        char *machine_id;
        char *project;                  /* compose project */
        char *service;                  /* compose service */
        char *replica;                  /* the instance of a replicated service ("2"), or NULL */
        char *address;                  /* the container's IPv4 address on the cluster network */
        char **networks;                /* the compose networks (runtime names) it is on: its scopes */
        char **aliases;                 /* network aliases and links aliases, sorted */
        char *hostname;                 /* compose "hostname", or NULL */
} RegistryName;

int registry_name_to_json(const RegistryName *n, char **ret);
int registry_name_from_json(const char *json, size_t size, RegistryName **ret);
RegistryName *registry_name_free(RegistryName *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryName *, registry_name_free);
int registry_subnet_to_json(const RegistrySubnet *s, char **ret);
int registry_subnet_from_json(const char *json, size_t size, RegistrySubnet **ret);
RegistrySubnet *registry_subnet_free(RegistrySubnet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistrySubnet *, registry_subnet_free);
/* Whether s is a MAC address as RegistrySubnet.vtep_mac stores it: six lowercase hex pairs. */
bool registry_mac_is_valid(const char *s) _pure_;

int registry_leader_to_json(const RegistryLeader *l, char **ret);
int registry_leader_from_json(const char *json, size_t size, RegistryLeader **ret);
RegistryLeader *registry_leader_free(RegistryLeader *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryLeader *, registry_leader_free);
