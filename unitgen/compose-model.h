/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "compose-load.h"
#include "compose-objects.h"
#include "diag.h"
#include "exec-quote.h"
#include "macro.h"

/* The converted project: what each unit needs, already validated and normalised, but not yet
 * tied to a container runtime's command line (runtime-docker.c and runtime-podman.c do that). */

#define UNSET_U64 UINT64_MAX
#define INFINITY_U64 (UINT64_MAX - 1)

typedef enum Runtime {
        RUNTIME_DOCKER,
        RUNTIME_PODMAN,
        _RUNTIME_MAX,
        _RUNTIME_INVALID = -EINVAL,
} Runtime;

/* "docker" / "podman" and back; NULL / _RUNTIME_INVALID for anything else. */
const char *runtime_to_string(Runtime r) _const_;
Runtime runtime_from_string(const char *s) _pure_;

/* Where containers talk: the cluster network (one container network per machine, joined into one
 * by fleetd, names from the machine's DNS: services may land on any machine) or the runtime's
 * networks local to each machine (a bridge per compose network: services that talk must share a
 * machine, so dependencies pin them together with MachineOf=). */
typedef enum Networking {
        NETWORKING_CLUSTER,
        NETWORKING_LOCAL,
        _NETWORKING_MAX,
        _NETWORKING_INVALID = -EINVAL,
} Networking;

/* "cluster" / "local" and back; NULL / _NETWORKING_INVALID for anything else. */
const char *networking_to_string(Networking n) _const_;
Networking networking_from_string(const char *s) _pure_;

typedef enum DependCondition {
        DEPEND_STARTED,
        DEPEND_HEALTHY,
        DEPEND_COMPLETED,
        _DEPEND_CONDITION_MAX,
        _DEPEND_CONDITION_INVALID = -EINVAL,
} DependCondition;

/* "service_started", "service_healthy", "service_completed_successfully"; _DEPEND_CONDITION_INVALID
 * otherwise (also for NULL). */
DependCondition depend_condition_from_string(const char *s) _pure_;

typedef struct ComposeDepend {
        char *service;
        DependCondition condition;
        bool required;          /* Requires= (else Wants=) */
        bool restart;           /* BindsTo=: restarted with the dependency */
        bool colocate;          /* MachineOf=: systemd dependencies only hold on one machine */
        const char *key;        /* the compose key that made it ("depends_on", "links", ...), static */
        const YamlNode *at;     /* for messages; borrowed from the project tree */
} ComposeDepend;

typedef struct ComposePort {
        char *host_ip;          /* NULL: every address */
        unsigned published_first, published_last;  /* 0: no host port */
        char *protocol;
        const YamlNode *at;
} ComposePort;

/* A network or volume that is created before the container starts. */
typedef struct ComposeResource {
        char *key;              /* the name in the compose file */
        char *name;             /* the runtime's name (project-prefixed unless "name:" says otherwise) */
        char **create_args;     /* options of "network create" / "volume create" */
        bool external;          /* exists already: never created */
} ComposeResource;

/* deploy.update_config / deploy.rollback_config (compose-deploy spec): how fleetctl compose up replaces
 * the units of a changed service. fleetctl acts on it; the units themselves do not carry it. */
typedef enum UpdateOrder {
        UPDATE_ORDER_STOP_FIRST,
        UPDATE_ORDER_START_FIRST,
        _UPDATE_ORDER_MAX,
        _UPDATE_ORDER_INVALID = -EINVAL,
} UpdateOrder;

typedef enum UpdateFailureAction {
        UPDATE_FAILURE_PAUSE,
        UPDATE_FAILURE_CONTINUE,
        UPDATE_FAILURE_ROLLBACK,
        _UPDATE_FAILURE_MAX,
        _UPDATE_FAILURE_INVALID = -EINVAL,
} UpdateFailureAction;

typedef struct ComposeUpdateConfig {
        unsigned parallelism;           /* units replaced at once; 0: all of them (compose's meaning) */
        uint64_t delay_usec;            /* between two batches */
        UpdateFailureAction failure_action;
        uint64_t monitor_usec;          /* a replaced unit must stay ready this long to count */
        double max_failure_ratio;       /* failures tolerated, as a share of the units, before failure_action */
        UpdateOrder order;
} ComposeUpdateConfig;

/* The defaults of both (swarm's): parallelism 1, no delay, pause, 5 s monitor, ratio 0, stop-first. */
#define COMPOSE_UPDATE_CONFIG_DEFAULT                                                         \
        ((ComposeUpdateConfig) { .parallelism = 1, .monitor_usec = 5 * 1000000ULL })

const char *update_order_to_string(UpdateOrder o) _const_;
UpdateOrder update_order_from_string(const char *s) _pure_;
const char *update_failure_action_to_string(UpdateFailureAction a) _const_;
UpdateFailureAction update_failure_action_from_string(const char *s) _pure_;

/* A word that names another service's container, which is known only once every service is: the
 * word holds the text around it, the service is kept here, beside it (never as a marker in the
 * text, which a value could imitate). */
typedef struct ComposeContainerRef {
        bool docker;            /* a word of docker_args, else of run_args */
        size_t word;            /* its index there */
        size_t at;              /* where the container's name goes in its text */
        char *service;
} ComposeContainerRef;

typedef struct ComposeService {
        char *name;
        char *unit;             /* "<project>-<service>.service" or "<project>-<service>@.service" */
        ExecWord container;     /* the container's name (ending in the instance in templates) */
        char *image;
        char **global_args;     /* runtime options before "run" */
        ExecArgv run_args;      /* "run" options both runtimes understand, in a fixed key order */
        char **docker_args;     /* "run" options only docker has (--link) */
        ComposeContainerRef *container_refs;  /* words of run_args and docker_args to complete */
        size_t n_container_refs;
        char **args;            /* after the image */
        char **networks;        /* names of ComposeResource networks to create (local networking) */
        char **scopes;          /* cluster networking: the compose networks (runtime names) it is on */
        char **aliases;         /* cluster networking: its network aliases and the links aliases others
                                 * gave it, published as names in its scopes */
        char **link_aliases;    /* cluster networking: "service:alias" from its own links, to resolve */
        char *hostname;         /* compose "hostname", NULL: unset */
        char **volumes;         /* names of ComposeResource volumes to create */
        ExecArgv mkdirs;        /* host directories to create first */
        ComposeDepend *depends;
        size_t n_depends;
        ComposePort *ports;
        size_t n_ports;

        unsigned replicas;      /* > 0: a template with instances 1..replicas */
        bool global;
        bool oneshot;           /* others wait for it to complete */
        bool wait_healthy;      /* others wait for it to be healthy */
        bool has_healthcheck;
        uint64_t health_interval_usec;  /* healthcheck.interval; 0: the runtime's default (30 s) */
        bool pull_always;
        bool colocated_replicas;  /* max_replicas_per_node > 1: no conflicts among instances */
        ComposeUpdateConfig update, rollback;

        char *restart;          /* Restart=, NULL: unset */
        uint64_t restart_usec;
        unsigned start_limit_burst;
        uint64_t start_limit_interval_usec;
        uint64_t stop_timeout_sec;
        char *stop_signal;
        int stop_signo;         /* 0: SIGTERM, the runtimes' default */

        uint64_t memory_max, memory_low, tasks_max;  /* for a runtime whose payload is in the unit's cgroup */
        unsigned cpu_quota_percent;                  /* 0: unset */

        char **xfleet;          /* "Key=Value" lines of [X-Fleet] */
        char **install;         /* "Key=Value" lines of [Install], from x-install */
        bool install_given;     /* x-install was there (even empty: not started at boot) */
        const YamlNode *node;   /* the service's mapping, borrowed */
} ComposeService;

typedef struct ComposeModel {
        ComposeProject *project;        /* borrowed */
        Runtime runtime;
        Networking networking;
        ComposeService *services;
        size_t n_services;
        ComposeResource *networks;
        size_t n_networks;
        ComposeResource *volumes;
        size_t n_volumes;
        ComposeObject *objects;         /* the cluster secrets and configs the units refer to, in
                                         * the order of first use, each once */
        size_t n_objects;
} ComposeModel;

/* Convert a loaded project for runtime and networking. Every service key is converted, warned about, or rejected by name;
 * dependencies are checked (unknown services, cycles) and [X-Fleet] is derived. Returns 0 with
 * *ret owned by the caller (it borrows p, which must outlive it), -EINVAL after an error message
 * in d, -ENOMEM. */
int compose_model_build(ComposeProject *p, Runtime runtime, Networking networking, ComposeModel **ret, Diag *d);

/* Free a model (not its project). Accepts NULL, returns NULL. */
ComposeModel *compose_model_free(ComposeModel *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(ComposeModel *, compose_model_free);

/* The service called name, or NULL. */
ComposeService *compose_model_find(const ComposeModel *m, const char *name);

/* The resource declared as key in a network or volume table, or NULL. */
ComposeResource *compose_resource_find(ComposeResource *table, size_t n, const char *key);

/* The unit names that stand for service s: the unit itself, or its instances "<p>-<s>@1.service"
 * .. "@N". Appended to *l. Returns 0 or -ENOMEM. */
int compose_service_instances(const ComposeService *s, char ***l);
