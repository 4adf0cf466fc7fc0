/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-internal.h"
#include "container-address.h"
#include "container-announce.h"
#include "log.h"
#include "runtime-inspect.h"
#include "strv.h"
#include "time-util.h"
#include "unit-name.h"
#include "unit-network.h"

/* The names of this machine's containers: P names/<unit>/<machine-id>, under the machine's lease,
 * written while a unit that carries [X-Fleet-Network] is active, and deleted when it is not (or
 * with the lease, when the machine dies). The container's address is read from the kernel where it
 * can be (container-address.h: podman's container inside the unit's cgroup), else from its
 * runtime's "inspect", asked once per activation: a child process watched on the event loop,
 * retried while the container is not up yet (docker's unit is active before its container exists). */

#define PROBE_RETRY_FIRST_USEC (50 * USEC_PER_MSEC)
#define PROBE_RETRY_MAX_USEC (2 * USEC_PER_SEC)
/* How long a drain waits for its withdrawal to be written (etcd unreachable) before the period is
 * counted from the request instead: the stop is not held for ever. */
#define DRAIN_WRITE_MAX_USEC (10 * USEC_PER_SEC)
/* How long a drain waits for the machines' DNS to follow the withdrawal (agent-name-acks.c) before
 * the period starts anyway: a machine whose fleetd is frozen neither follows nor loses its lease
 * for up to a TTL. */
#define DRAIN_ACK_MAX_USEC (10 * USEC_PER_SEC)

extern char **environ;

typedef struct NameProbe {
        Agent *agent;
        char *unit;
} NameProbe;

static void name_probe_free(void *p) {
        NameProbe *probe = p;

        if (!probe)
                return;
        free(probe->unit);
        free(probe);
}

static void name_probe_freep(NameProbe **p) {
        name_probe_free(*p);
}

void agent_names_unit_clear(AgentUnit *u) {
        /* An owned child source kills and reaps its child when it goes. */
        u->name_probe = sd_event_source_unref(u->name_probe);
        u->name_retry = sd_event_source_unref(u->name_retry);
        u->drain_timer = sd_event_source_unref(u->drain_timer);
        u->name_spec = service_names_spec_free(u->name_spec);
        u->address = mfree(u->address);
        u->name_published = mfree(u->name_published);
}

int agent_names_set_body(Agent *a, AgentUnit *u, const UnitFile *f) {
        _cleanup_free_ char *error = NULL;
        int r;

        u->name_spec = service_names_spec_free(u->name_spec);
        if (!f)
                return 0;
        r = service_names_spec_parse(f, u->name, &u->name_spec, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning("%s: %s; its container gets no name.", u->name, strna(error));
        return 0;
}

static bool unit_publishable(const AgentUnit *u) {
        return u->assignment && u->drain == AGENT_DRAIN_NONE &&
                service_names_spec_publishable(u->name_spec, u->active_state,
                                               u->health_runtime ? unit_health_to_string(u->health) : NULL);
}

static int probe_start(Agent *a, AgentUnit *u);

static int on_probe_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        NameProbe *probe = userdata;
        AgentUnit *u = hashmap_get(probe->agent->units, probe->unit);

        if (u) {
                u->name_retry = sd_event_source_unref(u->name_retry);
                if (unit_publishable(u) && !u->address)
                        (void) probe_start(probe->agent, u);
        }
        return 0;
}

/* A one-shot timer of u (replacing *source) whose handler gets a NameProbe naming u: u may be gone
 * when it fires. Returns 0 or a negative errno. */
static int unit_timer(Agent *a, AgentUnit *u, sd_event_source **source, uint64_t usec,
                      sd_event_time_handler_t handler) {
        _cleanup_(name_probe_freep) NameProbe *probe = NULL;
        int r;

        probe = new0(NameProbe, 1);
        if (!probe || !(probe->unit = strdup(u->name)))
                return -ENOMEM;
        probe->agent = a;
        *source = sd_event_source_unref(*source);
        r = sd_event_add_time_relative(a->event, source, CLOCK_MONOTONIC, usec, 0, handler, probe);
        if (r < 0)
                return r;
        r = sd_event_source_set_destroy_callback(*source, name_probe_free);
        if (r < 0) {
                *source = sd_event_source_unref(*source);
                return r;
        }
        TAKE_PTR(probe);
        return 0;
}

static void probe_retry_later(Agent *a, AgentUnit *u) {
        uint64_t usec = PROBE_RETRY_FIRST_USEC << MIN(u->name_attempts, 6U);
        int r;

        r = unit_timer(a, u, &u->name_retry, MIN(usec, PROBE_RETRY_MAX_USEC), on_probe_retry);
        if (r < 0)
                log_warning_errno(r, "%s: cannot retry reading the container's address: %m", u->name);
}

/* The runtime's answer "PID ADDRESS": the first IPv4 address, or NULL; *ret_pid the container's
 * first process (0 when it is not running). */
static char *parse_address(const char *out, pid_t *ret_pid) {
        _cleanup_strv_free_ char **words = strv_split(out, WHITESPACE);
        struct in_addr ia;

        *ret_pid = words && words[0] ? (pid_t) atoi(words[0]) : 0;
        STRV_FOREACH(w, words)
                if (inet_pton(AF_INET, *w, &ia) == 1)
                        return strdup(*w);
        return NULL;
}

/* Before the name: whoever resolves it then reaches this container, not a MAC its address had
 * before (container-announce.h). Returns true if announced. */
static bool announce(AgentUnit *u, pid_t pid) {
        int r;

        if (pid <= 0)
                return false;
        r = container_announce(pid, u->address);
        if (r < 0)
                log_warning_errno(r, "%s: cannot announce the address %s of container %s, ignoring: %m", u->name,
                                  u->address, u->name_spec->container);
        return r >= 0;
}

static void on_probe_exit(sd_event_source *s, const char *output, bool success, void *userdata) {
        NameProbe *probe = userdata;
        Agent *a = probe->agent;
        AgentUnit *u;
        pid_t pid = 0;

        u = hashmap_get(a->units, probe->unit);
        if (!u || u->name_probe != s)
                return;
        if (success)
                u->address = parse_address(output, &pid);
        u->name_probe = sd_event_source_unref(u->name_probe);   /* frees probe: nothing of it below */
        if (!unit_publishable(u)) {
                u->address = mfree(u->address);
                return;
        }
        if (!u->address) {
                /* Not up yet, or not on the cluster network: ask again, less and less often. */
                if (u->name_attempts++ == 8)
                        log_notice("%s: no address of container %s on network " CLUSTER_NETWORK_NAME " yet, retrying.",
                                   u->name, u->name_spec->container);
                probe_retry_later(a, u);
                return;
        }
        log_info("Publishing the name of %s: container %s, address %s%s.", u->name, u->name_spec->container,
                 u->address, announce(u, pid) ? " (announced)" : "");
        agent_schedule_publish(a);
}

/* The address without a process start, if the kernel tells it unambiguously. Returns 1 if found. */
static int probe_kernel(Agent *a, AgentUnit *u) {
        _cleanup_free_ char *dir = NULL;
        pid_t pid = 0;
        int r;

        if (!streq(u->name_spec->runtime, "podman"))
                return 0;
        r = container_address_unit_cgroup(u->name, &dir);
        if (r >= 0)
                r = container_address_of_cgroup(dir, &u->address, &pid);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_debug_errno(r, "%s: no address from the kernel (%m), asking %s.", u->name, u->name_spec->runtime);
                return 0;
        }
        log_info("Publishing the name of %s: container %s, address %s (from its namespace%s).", u->name,
                 u->name_spec->container, u->address, announce(u, pid) ? ", announced" : "");
        agent_schedule_publish(a);
        return 1;
}

static int probe_start(Agent *a, AgentUnit *u) {
        NameProbe *probe;
        int r;

        if (!u->name_spec->container || u->name_probe)
                return 0;
        if (probe_kernel(a, u) != 0)
                return 0;

        probe = new0(NameProbe, 1);
        if (!probe || !(probe->unit = strdup(u->name))) {
                name_probe_free(probe);
                return log_oom();
        }
        probe->agent = a;
        r = runtime_inspect_start(a->event, u->name_spec->runtime,
                                  "{{.State.Pid}} {{(index .NetworkSettings.Networks \"" CLUSTER_NETWORK_NAME "\").IPAddress}}",
                                  u->name_spec->container, on_probe_exit, probe, name_probe_free, &u->name_probe);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_warning_errno(r, "%s: cannot run %s inspect: %m", u->name, u->name_spec->runtime);
                probe_retry_later(a, u);
        }
        return 0;
}

void agent_names_on_state(Agent *a, AgentUnit *u) {
        /* A stopped or restarting unit: what runs next is a new copy, published once it is up. */
        if (u->drain == AGENT_DRAIN_STOPPED && !streq_ptr(u->active_state, "active"))
                u->drain = AGENT_DRAIN_NONE;
        if (!u->name_spec)
                return;
        if (unit_publishable(u)) {
                if (!u->address && !u->name_probe && !u->name_retry) {
                        u->name_attempts = 0;
                        (void) probe_start(a, u);
                }
                return;
        }
        /* Stopping, restarting or failed: the name goes now, the address is read again next time
         * (a restarted container may get another one). */
        u->name_probe = sd_event_source_unref(u->name_probe);
        u->name_retry = sd_event_source_unref(u->name_retry);
        u->address = mfree(u->address);
        if (u->name_published)
                agent_schedule_publish(a);
}

/* The drain period is over (or its withdrawal could not be written in time): the pass may stop u. */
static void drain_wait(Agent *a, AgentUnit *u, uint64_t usec);

static int on_drain_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        NameProbe *probe = userdata;
        Agent *a = probe->agent;
        AgentUnit *u = hashmap_get(a->units, probe->unit);

        if (!u || u->drain_timer != s)
                return 0;
        if (u->drain == AGENT_DRAIN_ACKING) {
                _cleanup_free_ char *behind = agent_name_acks_behind(a, u->drain_revision);

                log_warning("%s: the DNS of %s did not follow the withdrawal of its name in %.3g s; "
                            "stopping it %.3g s from now anyway.", u->name, strna(behind),
                            (double) DRAIN_ACK_MAX_USEC / USEC_PER_SEC, (double) a->name_drain_usec / USEC_PER_SEC);
                u->drain = AGENT_DRAIN_WAITING;
                drain_wait(a, u, a->name_drain_usec);   /* frees probe */
                return 0;
        }
        if (u->drain == AGENT_DRAIN_WITHDRAWING)
                log_warning("%s: the withdrawal of its name was not written in time; stopping it anyway.", u->name);
        u->drain = AGENT_DRAIN_DONE;
        u->drain_timer = sd_event_source_unref(u->drain_timer);        /* frees probe */
        agent_schedule_reconcile(a);
        return 0;
}

static void drain_wait(Agent *a, AgentUnit *u, uint64_t usec) {
        int r;

        r = unit_timer(a, u, &u->drain_timer, usec, on_drain_timer);
        if (r < 0) {
                log_warning_errno(r, "%s: cannot wait for its name to drain, stopping it now: %m", u->name);
                u->drain = AGENT_DRAIN_DONE;
                agent_schedule_reconcile(a);
        }
}

bool agent_names_drained(Agent *a, AgentUnit *u) {
        /* A fence stops at once: the lease, and the names with it, may be gone before any period. */
        if (agent_unit_fenced(a, u) || u->drain == AGENT_DRAIN_DONE)
                return true;
        if (u->drain == AGENT_DRAIN_WITHDRAWING || u->drain == AGENT_DRAIN_ACKING || u->drain == AGENT_DRAIN_WAITING)
                return false;
        if (a->name_drain_usec == 0 || (!u->name_published && !u->name_delete_in_flight))
                return true;
        u->drain = AGENT_DRAIN_WITHDRAWING;
        drain_wait(a, u, a->name_drain_usec + DRAIN_WRITE_MAX_USEC);
        log_info("Withdrawing the name of %s, stopping it %.3g s after every machine's DNS has followed.",
                 u->name, (double) a->name_drain_usec / USEC_PER_SEC);
        agent_schedule_publish(a);
        return u->drain == AGENT_DRAIN_DONE;
}

void agent_names_stopping(Agent *a, AgentUnit *u) {
        u->drain_timer = sd_event_source_unref(u->drain_timer);
        u->drain = AGENT_DRAIN_STOPPED;
        u->name_probe = sd_event_source_unref(u->name_probe);
        u->name_retry = sd_event_source_unref(u->name_retry);
        u->address = mfree(u->address);
        if (u->name_published)
                agent_schedule_publish(a);
}

void agent_names_drain_cancel(Agent *a, AgentUnit *u) {
        if (u->drain == AGENT_DRAIN_NONE || u->drain == AGENT_DRAIN_STOPPED)
                return;
        log_info("%s runs on: publishing its name again.", u->name);
        u->drain_timer = sd_event_source_unref(u->drain_timer);
        u->drain = AGENT_DRAIN_NONE;
        agent_names_on_state(a, u);
        agent_schedule_publish(a);
}

void agent_names_job_ended(Agent *a, AgentUnit *u) {
        /* The state may not have shown the stop (a quick restart's changes come together). */
        if (u->drain == AGENT_DRAIN_STOPPED)
                u->drain = AGENT_DRAIN_NONE;
        agent_names_on_state(a, u);
}

int agent_names_unit_gone(Agent *a, AgentUnit *u) {
        int r = 0;

        if (u->name_published)
                r = set_consume(a->name_deletes, strdup(u->name)) < 0 ? -ENOMEM : 0;
        agent_names_unit_clear(u);
        return r;
}

void agent_names_forget(Agent *a) {
        AgentUnit *u;
        char *name;

        HASHMAP_FOREACH(u, a->units) {
                u->name_published = mfree(u->name_published);
                u->name_published_lease = 0;
                u->name_delete_in_flight = false;
                /* Its name left with the lease: the period runs from now. */
                if (u->drain == AGENT_DRAIN_WITHDRAWING) {
                        u->drain = AGENT_DRAIN_WAITING;
                        drain_wait(a, u, a->name_drain_usec);
                }
        }
        SET_FOREACH(name, a->name_deletes)
                free(set_remove(a->name_deletes, name));
        a->name_deletes_in_flight = strv_free(a->name_deletes_in_flight);
}

void agent_names_publish_failed(Agent *a) {
        AgentUnit *u;

        a->names_applied_lease = 0;

        HASHMAP_FOREACH(u, a->units) {
                u->name_published_lease = 0;
                /* Not knowing whether it was deleted, delete it again. */
                if (u->name_delete_in_flight && !u->name_published && !(u->name_published = strdup("")))
                        log_oom();
                u->name_delete_in_flight = false;
        }
        STRV_FOREACH(n, a->name_deletes_in_flight)
                if (set_consume(a->name_deletes, strdup(*n)) < 0)
                        log_oom();
        a->name_deletes_in_flight = strv_free(a->name_deletes_in_flight);
}

/* The period starts once every machine's DNS has followed the withdrawal at u->drain_revision. */
static void drain_acked(Agent *a, AgentUnit *u) {
        log_debug("%s: no DNS gives out its name any more, stopping it in %.3g s.", u->name,
                  (double) a->name_drain_usec / USEC_PER_SEC);
        u->drain = AGENT_DRAIN_WAITING;
        drain_wait(a, u, a->name_drain_usec);
}

void agent_names_published(Agent *a, int64_t revision) {
        AgentUnit *u;

        a->name_deletes_in_flight = strv_free(a->name_deletes_in_flight);
        HASHMAP_FOREACH(u, a->units) {
                if (!u->name_delete_in_flight)
                        continue;
                u->name_delete_in_flight = false;
                if (u->drain != AGENT_DRAIN_WITHDRAWING)
                        continue;
                u->drain_revision = revision;
                if (agent_name_acks_reached(a, revision))
                        drain_acked(a, u);
                else {
                        u->drain = AGENT_DRAIN_ACKING;
                        drain_wait(a, u, DRAIN_ACK_MAX_USEC);
                }
        }
}

void agent_names_acks_changed(Agent *a) {
        AgentUnit *u;

        HASHMAP_FOREACH(u, a->units)
                if (u->drain == AGENT_DRAIN_ACKING && agent_name_acks_reached(a, u->drain_revision))
                        drain_acked(a, u);
}

static int name_json(Agent *a, AgentUnit *u, char **ret) {
        _cleanup_free_ char *replica = NULL;
        int r;

        if (unit_name_is_instance(u->name)) {
                r = unit_name_to_instance(u->name, &replica);
                if (r < 0)
                        return r;
        }
        RegistryName n = {
                .unit = u->name,
                .machine_id = a->machine_id,
                .project = u->name_spec->project,
                .service = u->name_spec->service,
                .replica = replica,
                .address = u->address,
                .networks = u->name_spec->networks,
                .aliases = u->name_spec->aliases,
                .hostname = u->name_spec->hostname,
        };
        return registry_name_to_json(&n, ret);
}

int agent_names_publish_build(Agent *a, EtcdTxn *t) {
        AgentUnit *u;
        char *name;
        int r;

        SET_FOREACH(name, a->name_deletes) {
                _cleanup_free_ char *key = NULL;

                if (etcd_txn_n_ops(t, true) >= ETCD_TXN_MAX_OPS)
                        return 0;
                /* A unit that is back is handled below: a txn may not touch a key twice. */
                if (!hashmap_contains(a->units, name)) {
                        key = registry_name_key(a->prefix, name, a->machine_id);
                        if (!key)
                                return -ENOMEM;
                        r = etcd_txn_delete(t, true, key, 0);
                        if (r < 0)
                                return r;
                        r = strv_extend(&a->name_deletes_in_flight, name);
                        if (r < 0)
                                return r;
                }
                free(set_remove(a->name_deletes, name));
        }

        HASHMAP_FOREACH(u, a->units) {
                _cleanup_free_ char *json = NULL, *key = NULL;
                bool want = u->name_spec && u->address && unit_publishable(u);

                if (!want && !u->name_published)
                        continue;
                if (want) {
                        r = name_json(a, u, &json);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                log_warning_errno(r, "%s: its name record cannot be encoded: %m", u->name);
                                want = false;
                        } else if (u->name_published_lease == a->lease_id && streq_ptr(u->name_published, json))
                                continue;
                }
                if (etcd_txn_n_ops(t, true) >= ETCD_TXN_MAX_OPS)
                        return 0;
                key = registry_name_key(a->prefix, u->name, a->machine_id);
                if (!key)
                        return -ENOMEM;
                if (want) {
                        r = etcd_txn_put(t, true, key, json, strlen(json), a->lease_id, 0);
                        if (r < 0)
                                return r;
                        free_and_replace(u->name_published, json);
                        u->name_published_lease = a->lease_id;
                } else {
                        r = etcd_txn_delete(t, true, key, 0);
                        if (r < 0)
                                return r;
                        u->name_published = mfree(u->name_published);
                        u->name_published_lease = 0;
                        u->name_delete_in_flight = true;
                }
        }
        return agent_name_acks_publish_build(a, t);
}
