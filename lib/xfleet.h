/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"
#include "resources.h"
#include "unit-file.h"

/* The [X-Fleet] section of a unit: where the unit may run. Parsed from a UnitFile, validated with
 * fleet's rules (api/units.go ValidateOptions), and matched against machines. */

#define XFLEET_SECTION "X-Fleet"
#define XFLEET_HEALTH_INTERVAL_DEFAULT_SEC 30U
/* A unit that fails this many times within the window on one machine is moved elsewhere. */
#define XFLEET_MOVE_AFTER_FAILURES_DEFAULT 3U
#define XFLEET_MOVE_AFTER_FAILURES_MAX 1000U
#define XFLEET_FAILURE_WINDOW_DEFAULT_USEC (5U * 60U * 1000000ULL)
#define XFLEET_FAILURE_WINDOW_MAX_USEC (7U * 24U * 3600U * 1000000ULL)

typedef struct XFleetOptions {
        char *machine_id;               /* MachineID (first value wins), full ID or a prefix of
                                         * 8+ characters; falls back to X-ConditionMachineBootID */
        bool machine_id_from_boot_id;   /* machine_id is that fallback: a MachineID replaces it */
        char **machine_of;              /* MachineOf: exact unit names, all must share the machine */
        char **machine_metadata;        /* MachineMetadata: "k=v" (same key: OR; different keys:
                                         * AND) and our extension "k!=v" (the machine must not
                                         * have k=v); each entry validated */
        char **conflicts;               /* Conflicts: globs (whitespace-split, repeatable) */
        char **replaces;                /* Replaces: globs */
        bool global;                    /* Global (last value wins) */
        Resources reserve;              /* ReserveCPU=, ReserveMemory=, ReserveResource=name=N:
                                         * placed only where that much is free; a global unit
                                         * reserves it on every machine it runs on */
        unsigned max_per_machine;       /* MaxReplicasPerMachine= (swarm's max_replicas_per_node):
                                         * at most this many instances of the unit's template on
                                         * one machine; 0 = no limit */
        char *spread_metadata;          /* SpreadMetadata=K (swarm's placement preference spread:
                                         * node.labels.K): spread the template's instances evenly
                                         * over the values of machine metadata key K */
        char **secrets;                 /* Secret=NAME [target=T] [uid=N] [gid=N] [mode=0NNN]: the
                                         * cluster secrets the unit needs on its machine, in
                                         * cluster_object_ref_format()'s form, one per name
                                         * (cluster-object.h); not placement: equal()/is_empty()
                                         * ignore them and Config= */
        char **configs;                 /* Config=NAME [...]: the same for cluster configs */
        char *health_runtime;           /* Healthcheck=RUNTIME CONTAINER [INTERVAL]: the unit's
                                         * container has a healthcheck its runtime ("podman" or
                                         * "docker") runs; the agent reads its health (inspect's
                                         * State.Health.Status) every INTERVAL seconds (default
                                         * 30, docker's), publishes it and restarts the unit when
                                         * it turns unhealthy. Not placement, like Secret= */
        char *health_container;
        unsigned health_interval_sec;
        unsigned move_after_failures;   /* MoveAfterFailures=N (swarm's restart_policy
                                         * max_attempts, per machine): the agent gives the unit
                                         * up on its machine after N failures (systemd's failed
                                         * state, its automatic restarts, the agent's restarts
                                         * of an unhealthy container) within failure_window_usec,
                                         * and the engine moves it elsewhere; 0 = never.
                                         * Default XFLEET_MOVE_AFTER_FAILURES_DEFAULT (set by
                                         * xfleet_options_new()). Not placement */
        bool move_after_failures_set;   /* written in the unit (for the combination rules) */
        uint64_t failure_window_usec;   /* FailureWindow=SPAN (systemd's time span: 5min, 300,
                                         * 1h); default XFLEET_FAILURE_WINDOW_DEFAULT_USEC */
        bool failure_window_set;
        char **depends_on;              /* DependsOn=UNIT [started|healthy|completed] [restart]
                                         * (unit-depend.h), repeatable, one unit per line, in
                                         * unit_depend_format()'s form, a unit named once: the
                                         * agent starts the unit once each dependency meets its
                                         * condition on some machine. Not placement, like Secret= */
        char **warnings;                /* human-readable notes: unknown keys, deprecated names */
} XFleetOptions;

/* An empty option set (no constraint; MoveAfterFailures= and FailureWindow= at their defaults).
 * Returns NULL on OOM. */
XFleetOptions *xfleet_options_new(void);
/* Accepts NULL, returns NULL. */
XFleetOptions *xfleet_options_free(XFleetOptions *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(XFleetOptions *, xfleet_options_free);
/* Deep copy. Returns 0 or -ENOMEM. */
int xfleet_options_copy(const XFleetOptions *x, XFleetOptions **ret);

/* Whether name is an [X-Fleet] option fleet knows, the deprecated names included. */
bool xfleet_option_is_known(const char *name) _pure_;

/* Add one [X-Fleet] assignment name=value to x, with the rules of xfleet_options_parse() (which
 * calls it for every assignment of the section, in order): an unknown or deprecated name adds a
 * warning (an unknown one is otherwise ignored); unit_name, if non-NULL, expands specifiers in
 * value. Returns 0, -EINVAL for a malformed value with a malloc'd explanation in *error_message
 * (if non-NULL), -ENOMEM. Combinations are xfleet_options_validate()'s. */
int xfleet_options_add(XFleetOptions *x, const char *name, const char *value, const char *unit_name,
                       char **error_message);

/* Parse the [X-Fleet] section of u. If unit_name is non-NULL, the specifiers %n %N %p %i %% are
 * substituted in every value for that name first (so the result of an instance's parse is final;
 * the scheduler never substitutes). Honoured names: MachineID, MachineOf, MachineMetadata,
 * Conflicts, Replaces, Global, ReserveCPU (a decimal, at most 3 places), ReserveMemory (a size:
 * 512M, 4G, 1.5GiB), ReserveResource (name=N, repeatable, summed), MaxReplicasPerMachine (a
 * positive integer), SpreadMetadata (a metadata key), Secret and Config (cluster-object.h's
 * references, a name referred to twice refused), Healthcheck (RUNTIME CONTAINER [INTERVAL]),
 * MoveAfterFailures (0..1000), FailureWindow (a systemd time span, 1 s .. 7 days), DependsOn
 * (unit-depend.h's UNIT [CONDITION] [restart], a unit named twice refused) and the deprecated
 * X-ConditionMachineID, X-ConditionMachineOf,
 * X-ConditionMachineMetadata, X-Conflicts, X-ConditionMachineBootID (each adds a warning);
 * unknown keys add a warning "Unknown [X-Fleet] option 'Foo'". A MachineMetadata line may hold
 * several quoted or whitespace-separated values ("a=b" "c=d"). Conflicts, Replaces and MachineOf
 * values are split at whitespace.
 *
 * Returns 0 and a new XFleetOptions in *ret; -EINVAL for a malformed value (a metadata value
 * with an empty key or value or more than one '=', a Global that is not a boolean, a reservation,
 * limit or key that does not parse (key and value named), a unit name
 * with bad specifiers, values that add up to more than XFLEET_VALUES_MAX bytes after substitution),
 * with a malloc'd explanation in *error_message if error_message is non-NULL; -ENOMEM. It does not
 * check option combinations: see xfleet_options_validate(). */
#define XFLEET_VALUES_MAX (64U * 1024U)
int xfleet_options_parse(const UnitFile *u, const char *unit_name, XFleetOptions **ret,
                         char **error_message);

/* fleet's combination rules, checked at submit time. unit_name (optional) is the unit's own name.
 * Rejected: MachineID with MachineOf, Conflicts, Global or Replaces; Global with MachineOf or
 * Replaces; Conflicts with Replaces; Global with MaxReplicasPerMachine, SpreadMetadata,
 * MoveAfterFailures or FailureWindow (a global unit runs everywhere: it has nowhere to move); a DependsOn naming the unit itself; a MachineOf peer that matches one of the unit's Conflicts or
 * Replaces patterns. Returns 0, or -EINVAL with a malloc'd message naming the options in
 * *error_message (if non-NULL), or -ENOMEM. */
int xfleet_options_validate(const XFleetOptions *x, const char *unit_name, char **error_message);

/* Whether a and b hold the same options (warnings are ignored); NULL equals an empty set. */
bool xfleet_options_equal(const XFleetOptions *a, const XFleetOptions *b) _pure_;

/* Whether x places any constraint at all (a NULL x has none). */
bool xfleet_options_is_empty(const XFleetOptions *x) _pure_;

/* fleet's boolean, the same as parse_boolean() (lib/parse-util.h), which new code calls: true/yes/
 * 1/on/t (any case) → 1; false/no/0/off/f → 0; else -EINVAL. */
int xfleet_parse_boolean(const char *v) _pure_;

/* Split a metadata requirement "k=v" or "k!=v" into key and value. *ret_key and *ret_value are
 * malloc'd; *ret_negated tells "!=". Returns 0, -EINVAL (no '=', empty key or value, more than
 * one '='), -ENOMEM. */
int xfleet_metadata_split(const char *req, char **ret_key, char **ret_value, bool *ret_negated);

/* Whether a machine with the given metadata ("k=v" entries; a key may repeat) satisfies the
 * requirements ("k=v"/"k!=v", as in XFleetOptions.machine_metadata): for each key with '='
 * requirements the machine has one of those values; for every "k!=v" the machine does not have
 * k=v (a machine without k satisfies it). Malformed entries on either side never match. No
 * requirements → true. */
bool xfleet_metadata_match(char *const *requirements, char *const *machine_metadata);

/* Whether machine_id satisfies a MachineID requirement: equal, or required is a prefix of at
 * least 8 characters (fleet accepted exactly the 8-character short ID). */
bool xfleet_machine_id_match(const char *required, const char *machine_id) _pure_;

/* Go path.Match-like glob match of a unit name: '*' any run, '?' one character, "[...]" classes
 * ('^' or '!' negates), backslash escapes. Names have no '/', so there are no path subtleties. */
bool xfleet_glob_match(const char *pattern, const char *name) _pure_;
/* Whether any of the patterns matches name. */
bool xfleet_globs_match(char *const *patterns, const char *name) _pure_;
