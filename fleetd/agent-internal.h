/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The agent's insides, shared by its files (agent-*.c), one concern each. */

#include <inttypes.h>
#include <systemd/sd-event.h>

#include "systemd-client.h"
#include "agent.h"
#include "cluster-object.h"
#include "hashmap.h"
#include "registry.h"
#include "service-names.h"
#include "time-util.h"
#include "unit-depend.h"

/* One of a unit's dependencies (agent-depends.c). */
typedef struct AgentDepend {
        UnitDepend dep;
        bool lost;                      /* "restart": it stopped meeting its condition while the unit
                                         * ran; the unit is restarted when it meets it again */
} AgentDepend;

/* Failure times (CLOCK_MONOTONIC) within a window, oldest first (agent-failures.c). */
typedef struct FailureCounter {
        usec_t *times;
        size_t n;
} FailureCounter;

/* Where a unit is in withdrawing its container's name before a stop (agent-names.c). */
typedef enum AgentDrain {
        AGENT_DRAIN_NONE,
        AGENT_DRAIN_WITHDRAWING,        /* the name's delete is to be written */
        AGENT_DRAIN_ACKING,             /* it was (at drain_revision): until every machine's DNS
                                         * has followed (agent-name-acks.c) */
        AGENT_DRAIN_WAITING,            /* they have: the drain period runs */
        AGENT_DRAIN_DONE,               /* the unit may be stopped */
        AGENT_DRAIN_STOPPED,            /* the stop was sent: nothing is published until systemd
                                         * reports the unit other than active, or the job ended */
} AgentDrain;

typedef struct AgentUnit {
        char *name;                     /* the key in Agent.units */
        RegistryAssignment *assignment; /* what the leader wants here; NULL: remove it */
        char *file_hash;                /* hash of the body in the units directory, NULL if none */
        char *disk_body;                /* found on disk at start, until the first schedule read */
        bool global;                    /* [X-Fleet] Global=true: keeps running when fenced */
        bool needs_network;             /* a container on the cluster network (unit-network.h) */
        bool waiting_network;           /* held back until the network is up (logged once) */
        bool started;                   /* StartUnit was sent for the current assignment */
        bool changed;                   /* the body was replaced: restart rather than start */
        bool reread;                    /* a file written since its state was read: read it after
                                         * the reload (systemd tells no LoadState change) */
        bool fresh;                     /* new to systemd, written without a reload: its start loads
                                         * it; a refused start asks for the reload (agent-reconcile.c) */
        bool unloading;                 /* no assignment: stopped, its file stays until systemd
                                         * reports it stopped (agent-reconcile.c) */
        bool file_install;              /* the body on disk has [Install]: enabled in the runtime scope */
        bool assignment_install;        /* the assigned body has [Install] (read with the assignment) */
        char *refused;                  /* not loaded, and never touched in systemd: why (the name is
                                         * a local unit's or fleet's own); published in its state */
        char *load_state;               /* systemd's, as last reported; NULL: unknown */
        char *active_state;
        char *sub_state;
        char *published;                /* the state record last written, NULL if none */
        int64_t published_lease;        /* the lease it was written under */
        /* a body replaced under a unit systemd knows (agent-states.c): systemd's state stays the
         * old body's (it runs, or the restart onto the new one is stopping it) until the agent's
         * job for the new body has finished */
        char *stale_hash;               /* the old body's hash, published meanwhile ("": unknown, then
                                         * nothing is published); NULL: the state is file_hash's */
        bool stale_job_sent;            /* that job was sent since the last replacement */
        char *stale_job;                /* its path, once systemd queued it */

        /* its container's name (agent-names.c) */
        ServiceNamesSpec *name_spec;    /* the body's [X-Fleet-Network], NULL: no name */
        char *address;                  /* the container's address, read once it is active */
        sd_event_source *name_probe;    /* the runtime's "inspect" in flight (a child) */
        sd_event_source *name_retry;
        unsigned name_attempts;
        char *name_published;           /* the name record last written, NULL if none ("": may be
                                         * there, to be deleted) */
        int64_t name_published_lease;
        bool name_delete_in_flight;     /* its delete is in the publishing txn under way */
        AgentDrain drain;
        int64_t drain_revision;         /* the revision its name's delete was written at */
        sd_event_source *drain_timer;

        /* its container's health (agent-health.c) */
        char *health_runtime;           /* [X-Fleet] Healthcheck=: NULL, no healthcheck */
        char *health_container;
        unsigned health_interval_sec;
        bool health_restart;            /* Restart= other than no: restarted when unhealthy */
        UnitHealth health;              /* as last read while it runs; published with its state */
        sd_event_source *health_timer;  /* the next read */
        sd_event_source *health_probe;  /* the runtime's "inspect" in flight (a child) */
        /* its failures here (agent-failures.c) */
        unsigned move_after_failures;   /* [X-Fleet] MoveAfterFailures= (0: never) */
        usec_t failure_window_usec;     /* [X-Fleet] FailureWindow= */
        FailureCounter failures;
        const char *failure_cause;      /* the last one's (static string), NULL if none */
        char *gave_up;                  /* given up here: why (published); never started again */
        bool restarting_unhealthy;      /* the agent restarts it for its health: not a second failure */
        /* its secrets and configs (agent-objects.c) */
        ClusterObjectRef *object_refs;  /* the body's Secret=/Config= */
        size_t n_object_refs;
        char *objects_blocked;          /* not started: why (an object missing or unreadable);
                                         * published in its state */
        /* the units it waits for, here or on other machines (agent-depends.c) */
        AgentDepend *depends;           /* the body's DependsOn= */
        size_t n_depends;
        char *depends_blocked;          /* not started: why (a dependency does not meet its
                                         * condition yet); published in its state */
} AgentUnit;

/* The state records of one unit others here depend on, P states/<unit>/, read and watched. */
typedef struct AgentDependWatch {
        Agent *agent;
        char *unit;                     /* the key in Agent.depend_watches */
        EtcdCall *sync_call;
        EtcdWatch *watch;
        sd_event_source *retry;
        bool synced;                    /* read at least once */
        Hashmap *states;                /* machine id -> RegistryUnitState */
} AgentDependWatch;

typedef struct AgentObjectCache {
        Agent *agent;
        ClusterObjectKind kind;
        EtcdCall *sync_call;
        EtcdWatch *watch;
        sd_event_source *retry;
        bool synced;                    /* read at least once */
        Hashmap *records;               /* name -> ClusterObject */
} AgentObjectCache;

struct Agent {
        sd_event *event;
        EtcdClient *etcd;
        SystemdClient *systemd;

        char *prefix;
        char *machine_id;
        char *public_ip;
        char *hostname;
        char **metadata;
        bool has_capacity;
        Resources capacity;
        int64_t ttl_sec;
        char *units_dir;
        char *link_dir;
        char **unit_path;
        char *systemd_address;
        bool fence_on_lease_loss;
        uint64_t name_drain_usec;
        bool network_ready;             /* the cluster network is up on this machine */
        char *network_status;           /* why not, when it is not */

        char *machine_key;
        char *schedule_prefix;

        agent_registered_handler_t on_registered;
        void *on_registered_userdata;

        /* registration */
        EtcdLease *lease;
        int64_t lease_id;               /* the live lease, 0 while there is none */
        bool registered;                /* the machine key is written under lease_id */
        bool ever_registered;
        EtcdCall *register_call;
        sd_event_source *register_retry;

        /* the own schedule */
        EtcdCall *sync_call;
        EtcdWatch *watch;
        sd_event_source *sync_retry;
        bool synced;                    /* the schedule was read at least once */

        Hashmap *units;                 /* name -> AgentUnit */

        /* applying it */
        sd_event_source *reconcile_event;
        bool reloading;                 /* a daemon-reload is in flight */
        bool reload_wanted;             /* the next pass reloads, whatever it writes */
        bool reconcile_again;

        /* state reports */
        Set *state_deletes;             /* owns its names: state keys to delete */
        char **deletes_in_flight;
        Set *name_deletes;              /* owns its names: units whose name key is to be deleted */
        char **name_deletes_in_flight;
        Set *refresh;                   /* owns its names: units to re-read from systemd */
        sd_event_source *publish_event;
        sd_event_source *refresh_event;
        EtcdCall *publish_call;
        sd_event_source *publish_retry;

        bool fenced;                    /* the lease may expire: non-global units are stopped */
        bool fenced_until_sync;         /* the lease was lost: only a fresh schedule unfences */
        bool shutting_down;
        agent_shutdown_handler_t on_shutdown;
        void *on_shutdown_userdata;
        bool shutdown_revoke;
        EtcdCall *revoke_call;

        /* the cluster's secrets and configs (agent-objects.c) */
        char *objects_dir;              /* ending in '/' */
        char *cluster_key_path;
        AgentObjectCache objects[_CLUSTER_OBJECT_KIND_MAX];

        /* the units this machine's units depend on (agent-depends.c) */
        Hashmap *depend_watches;        /* unit -> AgentDependWatch */

        /* how far each machine's DNS follows the names (agent-name-acks.c) */
        Hashmap *name_acks;             /* machine id -> its revision */
        EtcdCall *name_acks_call;
        EtcdWatch *name_acks_watch;
        sd_event_source *name_acks_retry;
        int64_t names_applied;          /* this machine's, from its DNS (0: none here) */
        int64_t names_applied_written;  /* as last put in a publishing txn */
        int64_t names_applied_lease;    /* the lease it was put under */

        AgentStats stats;
};

/* agent.c */
/* Free a unit record (not its systemd unit). Accepts NULL, returns NULL. */
AgentUnit *agent_unit_free(AgentUnit *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(AgentUnit *, agent_unit_free);
/* The unit called name, created (with no assignment) if absent. NULL on OOM. */
AgentUnit *agent_unit_get_or_add(Agent *a, const char *name);
/* Remove u from the map and free it. */
void agent_unit_drop(Agent *a, AgentUnit *u);
/* Arm a one-shot timer that calls handler after usec (replacing *source). */
int agent_arm_timer(Agent *a, sd_event_source **source, uint64_t usec, sd_event_time_handler_t handler);

/* agent-registration.c: the lease and the machine key. */
/* Start the lease keeper; registration follows each grant. Returns 0 or a negative errno. */
int agent_registration_start(Agent *a);
/* (Re)write the machine key under the live lease (no-op without one); failures are retried.
 * Returns 0 or a negative errno. */
int agent_register(Agent *a);

/* agent-assignments.c: read and watch P schedule/<id>/. */
/* Read the whole schedule, apply it (what is absent is unassigned), then watch from the revision
 * read. Failures are retried in the background. Returns 0. */
int agent_assignments_sync(Agent *a);
/* Take ownership of assignment (NULL: unassigned) for unit name. Returns 0 or -ENOMEM. */
int agent_unit_set_assignment(Agent *a, const char *name, RegistryAssignment *assignment);

/* agent-unit-files.c: the units directory and the links into systemd's unit path. */
/* Record the bodies found in the units directory at start (AgentUnit.disk_body), for adoption.
 * Returns 0 or a negative errno. */
int agent_unit_files_scan(Agent *a);
/* Write u's assigned body and link it into the unit path (atomically, link only if missing).
 * Returns 0 or a negative errno. */
int agent_unit_file_write(Agent *a, AgentUnit *u);
/* Returns 1 if something was removed, 0 if there was nothing, or a negative errno. */
int agent_unit_file_remove(Agent *a, const char *name);
/* Whether the link for name points at its file in the units directory. */
bool agent_unit_file_linked(Agent *a, const char *name);
/* Whether name belongs to someone else on this machine: fleet's own unit, or a file of that name
 * (or of its template) anywhere in systemd's unit path that is not our link: a unit, a mask, a
 * drop-in target. Such a unit is never written, linked, started, stopped or removed. Returns 1 and
 * the reason in *ret_reason (malloc'd), 0, or -ENOMEM. */
int agent_unit_file_foreign(Agent *a, const char *name, char **ret_reason);
/* After agent_unit_file_write(): make systemd's runtime scope follow the new body's [Install]
 * section (had_install: the body it replaced had one). Disables the old links, then enables the
 * new ones, or links the body again when it has none. Sent before the pass's Reload. Returns 0 or
 * a negative errno (nothing is undone). */
int agent_unit_file_install(Agent *a, AgentUnit *u, bool had_install);
/* Before agent_unit_file_remove(): disable u in the runtime scope if its body had [Install].
 * Returns 0 or a negative errno. */
int agent_unit_file_uninstall(Agent *a, AgentUnit *u);

/* agent-reconcile.c: make systemd match the schedule. */
/* Ask for a reconcile pass at the end of this loop iteration (or after the reload in flight). */
void agent_schedule_reconcile(Agent *a);
/* Create the pass's event source. Returns 0 or a negative errno. */
int agent_reconcile_setup(Agent *a);

/* agent-states.c: what systemd reports, published to etcd. */
/* The SystemdClient handlers: record a unit's reported state / re-read it after a job. */
void agent_on_unit_state(SystemdClient *s, const char *unit, const char *load_state,
                         const char *active_state, const char *sub_state, void *userdata);
void agent_on_job_removed(SystemdClient *s, const char *unit, const char *job, const char *result,
                          void *userdata);
/* Publish changed states (one txn per burst, at idle priority) if registered. */
void agent_schedule_publish(Agent *a);
/* Refresh the systemd state of a unit (batched). */
void agent_schedule_refresh(Agent *a, const char *unit);
/* Create the publishing and refresh event sources. Returns 0 or a negative errno. */
int agent_states_setup(Agent *a);
/* Forget that anything was published (the lease is gone, and with it the state keys). */
void agent_states_forget(Agent *a);
/* Delete u's state key (at the next publish), if it was published. */
int agent_state_delete(Agent *a, AgentUnit *u);
/* u's body on disk was replaced; old_hash (taken, may be "") is the body systemd loaded and may
 * run. Until a job sent through agent_state_unit_job() has finished, u's state is published as
 * old_hash's: a restart's stop of the old process (failed, for a container killed) is not the new
 * body's failure, and the old process still active is not the new body ready. */
void agent_state_body_replaced(Agent *a, AgentUnit *u, char *old_hash);
/* Send systemd the job method ("StartUnit", "StopUnit", "RestartUnit") for u; once it finished,
 * u's state is its current body's. Returns 0 if the call was sent, or a negative errno. */
int agent_state_unit_job(Agent *a, AgentUnit *u, const char *method);
/* u gets no job and does not run: after the reload its state is its current body's. */
void agent_state_settled(Agent *a, AgentUnit *u);

/* agent-health.c: the health of this machine's containers, read from their runtime. */
/* Read u's [X-Fleet] Healthcheck= (and its Restart=) from its new body (f: parsed; NULL: none or
 * unparsable). Returns 0 or -ENOMEM. */
int agent_health_set_body(Agent *a, AgentUnit *u, const UnitFile *f);
/* u's systemd state changed: read its health on the check's interval while it runs, none otherwise. */
void agent_health_on_state(Agent *a, AgentUnit *u);
/* Release u's health reads (for agent_unit_free() and a unit that goes). */
void agent_health_unit_clear(AgentUnit *u);

/* agent-failures.c: a unit given up on this machine after MoveAfterFailures= failures. */
/* Add a failure at now to c, forgetting those older than window and keeping at most limit (0: no
 * bound). Returns the failures in the window, or -ENOMEM. */
int failure_counter_add(FailureCounter *c, usec_t now, usec_t window, unsigned limit);
/* The failures in the window ending at now (older ones are forgotten). */
unsigned failure_counter_count(FailureCounter *c, usec_t now, usec_t window);
void failure_counter_done(FailureCounter *c);
/* Read u's MoveAfterFailures= and FailureWindow= from its new body (f: parsed; NULL: none or
 * unparsable, the defaults) and start counting over. Returns 0 or -ENOMEM. */
int agent_failures_set_body(Agent *a, AgentUnit *u, const UnitFile *f);
/* Forget u's failures and that it was given up (a new start asked for, or it goes). */
void agent_failures_reset(AgentUnit *u);
/* u's failures within its window now (published with its state). */
unsigned agent_failures_count(AgentUnit *u);
/* Count a failure of launched u (cause: a static string, "unhealthy", "failed"...). Returns true
 * if it made the unit give up here: it is then stopped and never started again by this agent,
 * and the caller must not restart it. */
bool agent_failures_record(Agent *a, AgentUnit *u, const char *cause);
/* u's systemd state changed (was_failed/was_auto_restart: its states before): count entering
 * "failed" or systemd's "auto-restart", except while the state is a replaced body's (stale_hash
 * set). Called with false, false once the job for the new body has ended, for its outcome. */
void agent_failures_on_state(Agent *a, AgentUnit *u, bool was_failed, bool was_auto_restart);

/* agent-names.c: the names of this machine's containers, P names/<unit>/<id>. */
/* Read u's [X-Fleet-Network] from its new body (f: parsed; NULL: none or unparsable). Returns 0 or
 * -ENOMEM. */
int agent_names_set_body(Agent *a, AgentUnit *u, const UnitFile *f);
/* u's systemd state changed: read its container's address once it is active, drop it otherwise. */
void agent_names_on_state(Agent *a, AgentUnit *u);
/* Before u is stopped (or restarted onto a new body), unless fenced: withdraw its published name,
 * and let the drain period pass after the withdrawal was written, so that no machine's DNS gives
 * out its address any more and requests already sent to it finish. Returns true when u may be
 * stopped now (nothing published, no period, fenced, or drained); false while it must wait: the
 * pass runs again when the drain ends. */
bool agent_names_drained(Agent *a, AgentUnit *u);
/* The stop (or restart) of u was sent: its name stays withdrawn until it has stopped. */
void agent_names_stopping(Agent *a, AgentUnit *u);
/* u runs on as it is (the stop is no longer wanted): a drain under way ends, its name comes back. */
void agent_names_drain_cancel(Agent *a, AgentUnit *u);
/* A job of u ended: a restart's stop is over, the name may be published again once it runs. */
void agent_names_job_ended(Agent *a, AgentUnit *u);
/* u goes: delete its name key (at the next publish) and release what it holds. Returns 0 or -ENOMEM. */
int agent_names_unit_gone(Agent *a, AgentUnit *u);
/* Release u's probe and name data (for agent_unit_free()). */
void agent_names_unit_clear(AgentUnit *u);
/* Add the name puts and deletes that are due to t (the state publishing txn). Returns 0 or -ENOMEM. */
int agent_names_publish_build(Agent *a, EtcdTxn *t);
/* The publishing txn succeeded (at revision) / failed (everything is written again) / the lease
 * is gone. */
void agent_names_published(Agent *a, int64_t revision);
void agent_names_publish_failed(Agent *a);
void agent_names_forget(Agent *a);

/* Some machine's DNS went further, or a machine came or went: drains waiting for them go on. */
void agent_names_acks_changed(Agent *a);

/* agent-name-acks.c: how far each machine's DNS follows the names, P names-applied/<machine>. */
/* Read and then watch every machine's record. Failures are retried. Returns 0 or -ENOMEM. */
int agent_name_acks_start(Agent *a);
/* Release the watch and the records (agent_free()). */
void agent_name_acks_done(Agent *a);
/* Whether every machine with a record has followed the names up to revision (true with none). */
bool agent_name_acks_reached(Agent *a, int64_t revision);
/* The machines that have not, space-separated (malloc'd; NULL on OOM), for a log line. */
char *agent_name_acks_behind(Agent *a, int64_t revision);
/* Add the put of this machine's record to t (the state publishing txn), if it changed or the
 * lease did. Returns 0 or -ENOMEM. */
int agent_name_acks_publish_build(Agent *a, EtcdTxn *t);

/* agent-objects.c: the secrets and configs of this machine's units. */
/* Read and watch P secrets/ and P configs/. Failures are retried. Returns 0 or -ENOMEM. */
int agent_objects_start(Agent *a);
/* Release the watches and the records (agent_free()). */
void agent_objects_done(Agent *a);
/* Read u's Secret=/Config= from its new body (f: parsed; NULL: none). Returns 0 or -ENOMEM. */
int agent_objects_set_body(Agent *a, AgentUnit *u, const UnitFile *f);
/* Before u starts: write its objects under the objects directory (and remove those its body no
 * longer names). Returns 0 when they are all there, 1 when u must wait (the reason is in
 * u->objects_blocked and published), -ENOMEM. */
int agent_objects_materialise(Agent *a, AgentUnit *u);
/* u leaves the machine: its objects go. */
void agent_objects_unit_gone(Agent *a, AgentUnit *u);
/* After the schedule was read: remove the objects of units that are not on this machine (left
 * from before a restart or a power cut). */
void agent_objects_clean_stale(Agent *a);
/* Release u's references (agent_unit_free()). */
void agent_objects_unit_clear(AgentUnit *u);

/* agent-depends.c: the units this machine's units depend on (DependsOn=), wherever they run. */
/* Read u's DependsOn= from its new body (f: parsed; NULL: none), and start reading and watching the
 * state records of each unit it names. Returns 0 or -ENOMEM. */
int agent_depends_set_body(Agent *a, AgentUnit *u, const UnitFile *f);
/* Before u starts: whether each dependency meets its condition on some machine (one assigned to
 * this machine is systemd's to order; a u already running is not held). Returns 0 when u may
 * start, 1 when it must wait (the reason is in u->depends_blocked and published; the watch starts
 * it later), -ENOMEM. */
int agent_depends_check(Agent *a, AgentUnit *u);
/* Stop watching the units no unit here depends on any more. */
void agent_depends_gc(Agent *a);
/* Release u's dependencies (agent_unit_free()). */
void agent_depends_unit_clear(AgentUnit *u);
/* Release every watch (agent_free()). */
void agent_depends_done(Agent *a);

/* agent-fence.c */
/* How long before the lease's deadline (the last successful renewal's send time plus the TTL) the
 * keeper reports EXPIRING and the agent fences: the stop budget plus a twentieth of the TTL, at most
 * half the TTL. */
usec_t agent_fence_margin(int64_t ttl_sec);
/* Stop the non-global units (at the next pass) until agent_unfence(). */
void agent_fence(Agent *a);
void agent_unfence(Agent *a);
/* Whether u must not run now: the agent is fenced and u is not global. */
bool agent_unit_fenced(const Agent *a, const AgentUnit *u);

/* Helpers. */
/* Whether systemd reports u running, by the unit model's one rule (unit-state.h). */
static inline bool agent_unit_is_running(const AgentUnit *u) {
        return unit_active_state_is_running(unit_active_state_from_string(u->active_state));
}
