/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The agent: the part of fleetd that makes this machine's systemd run what the leader assigned to
 * it.
 *
 * It registers the machine (P machines/<id>) under a lease kept alive by the etcd client, reads
 * and then watches only its own schedule (P schedule/<id>/), writes the assigned unit bodies into
 * the units directory and links them into systemd's runtime unit path, reloads systemd once per
 * change set, starts and stops units by their desired state, and publishes what systemd reports
 * (P states/<unit>/<id>, under the lease, only when it changed). When the lease may expire (no
 * renewal succeeded until a margin before its deadline) it stops its non-global units (fencing,
 * agent-fence.c); when a renewal then succeeds after all it runs them again, and when etcd says the
 * lease is gone it registers under a new one, re-reads its schedule and carries on. On start it adopts what already runs:
 * identical unit files are not rewritten and running units are not restarted. Everything runs on
 * the sd-event loop; nothing is polled. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "etcd-client.h"
#include "macro.h"
#include "resources.h"

typedef struct Agent Agent;

typedef struct AgentConfig {
        const char *key_prefix;         /* P, ending in '/' */
        const char *machine_id;         /* 32 hex characters */
        const char *public_ip;          /* may be NULL */
        const char *hostname;           /* may be NULL */
        char *const *metadata;          /* "k=v" entries, may be NULL */
        int64_t ttl_sec;                /* lease TTL, at least 2 */
        const char *units_directory;    /* where unit bodies are written, ending in '/' */
        const char *link_directory;     /* systemd's runtime unit dir; NULL = /run/systemd/system/ */
        char *const *unit_path;         /* the other directories systemd loads units from, each ending
                                         * in '/'; NULL = the system manager's (agent-unit-files.c) */
        const char *systemd_address;    /* sd-bus address; NULL = automatic (see systemd-client.h) */
        bool fence_on_lease_loss;
        uint64_t name_drain_usec;       /* a unit whose container's name is published is stopped only
                                         * this long after the name's withdrawal was written (0: at
                                         * once; never when fencing) */
        const Resources *capacity;      /* published in the registration; NULL: none (unknown) */
        const char *objects_directory;  /* where units' secrets and configs are materialised, ending
                                         * in '/', on a tmpfs; NULL = CLUSTER_OBJECTS_DIR "/" */
        const char *cluster_key_path;   /* NULL = CLUSTER_KEY_DEFAULT_PATH */
} AgentConfig;

typedef struct AgentStats {
        uint64_t n_registrations;       /* machine key writes that succeeded */
        uint64_t n_leases_lost;
        uint64_t n_reloads;             /* systemd daemon-reloads */
        uint64_t n_starts;              /* StartUnit calls */
        uint64_t n_stops;               /* StopUnit calls */
        uint64_t n_state_txns;          /* state publishing txns */
        uint64_t n_state_ops;           /* state puts and deletes in them */
        uint64_t n_syncs;               /* full reads of the own schedule */
        uint64_t n_fences;              /* times units were stopped because the lease may expire */
} AgentStats;

/* Called once, the first time the machine is registered (for sd_notify READY=1). */
typedef void (*agent_registered_handler_t)(Agent *a, void *userdata);
/* Called when agent_shutdown() has finished its work. */
typedef void (*agent_shutdown_handler_t)(Agent *a, void *userdata);

/* Create an agent on event, talking to etcd through etcd (both borrowed, must outlive it). The
 * config is copied. Nothing is contacted until agent_start(). Returns 0, -EINVAL for a missing
 * machine ID, a prefix or directory not ending in '/', or a TTL below 2, -ENOMEM. */
int agent_new(Agent **ret, sd_event *event, EtcdClient *etcd, const AgentConfig *config);

/* The handler for the first registration (optional). */
void agent_set_registered_handler(Agent *a, agent_registered_handler_t handler, void *userdata);

/* Connect to systemd, look at the units directory, start registering and read the own schedule.
 * Returns 0, or a negative errno if systemd could not be reached or the units directory could not
 * be created; later etcd failures are retried in the background. */
int agent_start(Agent *a);

/* Change the registration's public IP and metadata (SIGHUP): the machine key is rewritten if they
 * differ. Returns 0 or -ENOMEM. */
int agent_update_machine(Agent *a, const char *public_ip, char *const *metadata);

/* Tell the agent whether the machine's cluster network is up, and if not why (status is copied).
 * Units that need it (unit_file_needs_cluster_network()) are started only while it is; running
 * ones are left alone when it goes. Until this is called the network counts as not set up. */
void agent_set_network(Agent *a, bool ready, const char *status);

/* Change whether a lease that may expire stops the non-global units (SIGHUP). */
void agent_set_fence_on_lease_loss(Agent *a, bool b);
/* This machine's DNS follows the names up to revision (names_dns_set_applied_handler()): published
 * with the states for the machines that withdraw names (agent-name-acks.c). */
void agent_name_acks_set_local(Agent *a, int64_t revision);
/* Change AgentConfig.name_drain_usec (SIGHUP); drains under way keep their period. */
void agent_set_name_drain(Agent *a, uint64_t usec);

/* Begin leaving: stop applying the schedule; with purge, stop and unload every unit; with revoke,
 * revoke the lease (the machine and state keys vanish at once and the leader re-places the units),
 * otherwise leave it to expire or to be taken over by the next fleetd on this machine. done runs
 * when that is finished (the loop must keep running until then). Returns 0 or a negative errno. */
int agent_shutdown(Agent *a, bool purge, bool revoke, agent_shutdown_handler_t done, void *userdata);

/* Whether systemd is stopping this very process in order to restart it (a "restart" job on our own
 * unit), as opposed to stopping it for good. False when unknown. */
bool agent_is_being_restarted(Agent *a);

/* Free the agent. Units keep running, the lease is not revoked. Accepts NULL, returns NULL. */
Agent *agent_free(Agent *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Agent *, agent_free);

/* The agent's connection to systemd, once started (borrowed), for fleetd's own helper units. */
typedef struct SystemdClient SystemdClient;
SystemdClient *agent_get_systemd(Agent *a);
/* The counters (borrowed, valid as long as a). */
const AgentStats *agent_get_stats(const Agent *a);
