/* SPDX-License-Identifier: Apache-2.0 */

#include <signal.h>
#include <systemd/sd-daemon.h>

#include "agent-machine.h"
#include "fleetd-manager.h"
#include "log.h"
#include "machine-capacity.h"
#include "strv.h"
#include "time-util.h"

#define SHUTDOWN_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* After the lease is revoked, a moment for the engine's resignation to reach etcd as well. */
#define SHUTDOWN_LINGER_USEC (200 * USEC_PER_MSEC)

int manager_new(Manager **ret, FleetdConfig *config, int argc, char *argv[]) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = config;
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        assert(ret);
        assert(config);

        m = new0(Manager, 1);
        if (!m)
                return -ENOMEM;
        m->config = TAKE_PTR(c);
        m->argc = argc;
        m->argv = argv;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        names_dns_free(m->dns);
        engine_free(m->engine);
        network_scopes_free(m->scopes);
        network_free(m->network);
        agent_free(m->agent);
        etcd_client_free(m->etcd);
        sd_event_source_unref(m->sigterm_source);
        sd_event_source_unref(m->sigint_source);
        sd_event_source_unref(m->sighup_source);
        sd_event_source_unref(m->exit_source);
        sd_event_unref(m->event);
        fleetd_config_free(m->config);
        free(m->machine_id);
        free(m->public_ip);
        free(m->hostname);
        return mfree(m);
}

static int64_t config_ttl_sec(const FleetdConfig *c) {
        /* etcd leases have whole seconds: round up. */
        return (int64_t) DIV_ROUND_UP(c->agent_ttl_usec, USEC_PER_SEC);
}

static void apply_verbosity(const FleetdConfig *c) {
        log_set_max_level(LOG_INFO);
        log_parse_environment();
        if (c->verbosity > 0)
                log_set_max_level(LOG_DEBUG);
}

static int manager_identify(Manager *m) {
        char host[256];
        int r;

        r = machine_id_read("/etc/machine-id", &m->machine_id);
        if (r < 0)
                return log_error_errno(r, "Failed to read the machine ID from /etc/machine-id: %m");

        if (m->config->public_ip) {
                m->public_ip = strdup(m->config->public_ip);
                if (!m->public_ip)
                        return log_oom();
        } else {
                r = machine_public_ip_detect(&m->public_ip);
                if (r < 0)
                        log_warning_errno(r, "Failed to find a public IP address, registering without: %m");
        }

        if (gethostname(host, sizeof(host)) >= 0) {
                host[sizeof(host) - 1] = 0;
                m->hostname = strdup(host);
                if (!m->hostname)
                        return log_oom();
        }
        return 0;
}

static void on_registered(Agent *a, void *userdata) {
        Manager *m = userdata;

        (void) sd_notifyf(false, "READY=1\nSTATUS=Registered as %s", m->machine_id);
}

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        return sd_event_exit(m->event, 0);
}

static void on_agent_shut_down(Agent *a, void *userdata) {
        Manager *m = userdata;
        int r;

        r = sd_event_source_set_time_relative(m->exit_source, SHUTDOWN_LINGER_USEC);
        if (r < 0)
                (void) sd_event_exit(m->event, 0);
}

static int manager_stop(Manager *m) {
        bool restart, purge;
        int r;

        if (m->stopping) {
                log_notice("Second request to stop, exiting now.");
                return sd_event_exit(m->event, 0);
        }
        m->stopping = true;
        (void) sd_notify(false, "STOPPING=1");

        /* A restart of fleetd must not disturb the units: the next fleetd takes the registration
         * over and adopts them. Stopping for good releases the lease, so the leader re-places the
         * units at once instead of after the TTL. */
        restart = agent_is_being_restarted(m->agent);
        purge = m->config->purge_on_shutdown && !restart;
        if (restart)
                log_info("Stopping for a restart: units keep running, the registration is kept.");
        else
                log_info("Stopping: %s, releasing the registration.",
                         purge ? "stopping and unloading every unit" : "units keep running");

        m->engine = engine_free(m->engine);

        r = sd_event_add_time_relative(m->event, &m->exit_source, CLOCK_MONOTONIC, SHUTDOWN_TIMEOUT_USEC, 0,
                                       on_exit_timer, m);
        if (r < 0)
                return sd_event_exit(m->event, 0);

        r = agent_shutdown(m->agent, purge, !restart, on_agent_shut_down, m);
        if (r < 0) {
                log_warning_errno(r, "Failed to leave cleanly: %m");
                return sd_event_exit(m->event, 0);
        }
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return manager_stop(userdata);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;
        _cleanup_free_ char *error = NULL, *ip = NULL;
        Manager *m = userdata;
        int r;

        log_info("Reloading configuration.");

        r = fleetd_config_load(&c, m->argc, m->argv, &error);
        if (r < 0) {
                log_error("Keeping the old configuration: %s", error ?: strerror(-r));
                return 0;
        }
        apply_verbosity(c);

        if (!strv_equal(c->etcd_servers, m->config->etcd_servers) ||
            !streq(c->etcd_key_prefix, m->config->etcd_key_prefix) ||
            c->agent_ttl_usec != m->config->agent_ttl_usec ||
            c->disable_engine != m->config->disable_engine ||
            !streq(c->units_directory, m->config->units_directory))
                log_notice("Changes to etcd_servers, etcd_key_prefix, agent_ttl, disable_engine or "
                           "units_directory take effect when fleetd is restarted.");
        if (c->capacity_cpu_milli != m->config->capacity_cpu_milli || c->capacity_memory != m->config->capacity_memory ||
            c->reserve_cpu_milli != m->config->reserve_cpu_milli || c->reserve_memory != m->config->reserve_memory ||
            !resources_equal(&c->resources, &m->config->resources) ||
            !streq(c->scheduler_strategy, m->config->scheduler_strategy))
                log_notice("Changes to capacity_cpu, capacity_memory, reserve_cpu, reserve_memory, resources or "
                           "scheduler_strategy take effect when fleetd is restarted.");

        if (c->public_ip)
                r = (ip = strdup(c->public_ip)) ? 0 : -ENOMEM;
        else if (machine_public_ip_detect(&ip) < 0)
                /* Keep what was announced rather than announcing nothing. */
                r = m->public_ip && !(ip = strdup(m->public_ip)) ? -ENOMEM : 0;
        else
                r = 0;
        if (r < 0)
                return log_oom();
        r = agent_update_machine(m->agent, ip, c->metadata);
        if (r < 0)
                log_warning_errno(r, "Failed to update the machine's registration: %m");
        free_and_replace(m->public_ip, ip);

        /* The options the agent reads at its decisions. */
        agent_set_fence_on_lease_loss(m->agent, c->fence_on_lease_loss);
        m->config->fence_on_lease_loss = c->fence_on_lease_loss;
        agent_set_name_drain(m->agent, c->name_drain_usec);
        m->config->name_drain_usec = c->name_drain_usec;
        m->config->purge_on_shutdown = c->purge_on_shutdown;
        m->config->verbosity = c->verbosity;
        strv_free(m->config->metadata);
        m->config->metadata = TAKE_PTR(c->metadata);
        return 0;
}

static int manager_connect_etcd(Manager *m) {
        const FleetdConfig *c = m->config;
        EtcdConfig ec = {
                .endpoints = c->etcd_servers,
                .ca_file = c->etcd_cafile,
                .cert_file = c->etcd_certfile,
                .key_file = c->etcd_keyfile,
                .username = c->etcd_username,
                .password = c->etcd_password,
                .request_timeout_usec = c->etcd_request_timeout_usec,
                .log_error_details = true,
                /* A silent watch stream is checked once per TTL rather than every 3 s: the lease
                 * keeper notices a partition within the TTL anyway, and a resumed watch loses
                 * nothing. That is most of an idle fleetd's etcd requests. */
                .watch_check_usec = c->agent_ttl_usec,
        };
        _cleanup_free_ char *msg = NULL;
        int r;

        r = etcd_config_check(&ec, &msg);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "Refusing the etcd configuration: %s.", msg);
        if (r > 0)
                log_warning("WARNING: %s.", msg);

        r = etcd_client_new(&m->etcd, m->event, &ec);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the etcd client: %m");
        return 0;
}

/* What this machine offers to units that reserve resources (docs/fleetd.md, "Capacity").
 * Returns 1 with *ret set, 0 when it cannot be measured (published as unknown), -ENOMEM. */
static int manager_capacity(Manager *m, Resources *ret) {
        const FleetdConfig *c = m->config;
        _cleanup_free_ char *text = NULL;
        Resources measured = {};
        char cpu[RESOURCES_FORMAT_MAX], mem[RESOURCES_FORMAT_MAX];
        int r;

        r = machine_capacity_measure("/proc", "/sys/fs/cgroup", &measured);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && (c->capacity_cpu_milli == UINT64_MAX || c->capacity_memory == UINT64_MAX)) {
                log_warning_errno(r, "Failed to measure CPUs and memory, publishing no capacity: %m");
                return 0;
        }
        r = machine_capacity_compute(&measured, c->capacity_cpu_milli, c->capacity_memory, c->reserve_cpu_milli,
                                     c->reserve_memory, &c->resources, ret);
        if (r < 0)
                return r;
        text = resources_format(ret);
        log_info("Capacity for units: %s (measured %s CPU / %s).", strna(text),
                 resources_format_cpu(cpu, sizeof(cpu), measured.cpu_milli),
                 resources_format_memory(mem, sizeof(mem), measured.memory));
        return 1;
}

static void on_network_status(Network *n, bool ready, const char *status, void *userdata) {
        Manager *m = userdata;

        agent_set_network(m->agent, ready, status);
        (void) sd_notifyf(false, "STATUS=Machine %s; cluster network: %s", m->machine_id, status);
}

static void on_names_applied(int64_t revision, void *userdata) {
        Manager *m = userdata;

        agent_name_acks_set_local(m->agent, revision);
}

static void on_name_record(const char *key, const RegistryName *n, void *userdata) {
        Manager *m = userdata;
        int r;

        if (!key) {
                network_scopes_clear(m->scopes);
                return;
        }
        r = n ? network_scopes_put(m->scopes, key, n->address, n->networks) : network_scopes_remove(m->scopes, key);
        if (r == -ENOMEM)
                log_oom();
        else if (r < 0)
                log_warning("Cluster network: name record %s has no IPv4 address, not confining it.", key);
}

/* The compose networks' scopes by packets, fed by the names watch (network-scopes.h). */
static int manager_start_scopes(Manager *m, Subnet range) {
        int r;

        if (!m->dns) {
                log_warning("Cluster network: the cluster DNS is off (disable_dns), so is its names feed: "
                            "compose networks are not kept apart by packets on this machine.");
                return 0;
        }
        r = network_scopes_new(&m->scopes, m->event, range, (unsigned) m->config->network_subnet_len);
        if (r < 0)
                return log_error_errno(r, "Cluster network: cannot set up the scope rules: %m");
        /* The names are read asynchronously: the handler is in place before the first answer. */
        names_dns_set_record_handler(m->dns, on_name_record, m);
        return 0;
}

/* The cluster network: set up beside the agent, never in its way. A configuration that cannot work
 * is logged and the machine runs its plain units without the network. */
static int manager_start_network(Manager *m) {
        const FleetdConfig *c = m->config;
        _cleanup_free_ char *error = NULL;
        Subnet range, fixed;
        int r;

        if (!c->network) {
                log_info("Cluster network: turned off (network=false).");
                agent_set_network(m->agent, false, "turned off (network=false in fleet.conf)");
                return 0;
        }
        if (subnet_parse(c->network_range, &range) < 0 ||
            (c->network_subnet && subnet_parse(c->network_subnet, &fixed) < 0))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Cluster network: bad network_range or network_subnet.");

        NetworkConfig nc = {
                .key_prefix = c->etcd_key_prefix,
                .machine_id = m->machine_id,
                .public_ip = m->public_ip,
                .range = range,
                .subnet_len = (unsigned) c->network_subnet_len,
                .subnet = c->network_subnet ? &fixed : NULL,
                .vni = (uint32_t) c->network_vni,
                .port = (uint16_t) c->network_port,
                .device = c->network_device,
                .state_dir = c->state_dir,
                .cni_dir = c->network_cni_dir,
                .docker_socket = c->network_docker_socket,
                .ttl_sec = config_ttl_sec(c),
        };
        if (c->network_port < 1 || c->network_port > 65535) {
                log_error("Cluster network: network_port: %d is not 1..65535; running without the network.",
                          c->network_port);
                agent_set_network(m->agent, false, "network_port is not 1..65535");
                return 0;
        }
        r = network_new(&m->network, m->event, m->etcd, &nc, &error);
        if (r == -EINVAL) {
                log_error("Cluster network: %s; running without the network.", strna(error));
                agent_set_network(m->agent, false, strna(error));
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cluster network: %m");
        agent_set_network(m->agent, false, network_status(m->network));
        network_set_status_handler(m->network, on_network_status, m);
        r = manager_start_scopes(m, range);
        if (r < 0)
                return r;
        return network_start(m->network);
}

int manager_start(Manager *m) {
        const FleetdConfig *c = m->config;
        _cleanup_(resources_done) Resources capacity = {};
        sigset_t mask;
        int r;

        assert(m);

        apply_verbosity(c);

        r = manager_identify(m);
        if (r < 0)
                return r;
        r = manager_connect_etcd(m);
        if (r < 0)
                return r;

        r = manager_capacity(m, &capacity);
        if (r < 0)
                return r;

        AgentConfig ac = {
                .capacity = r > 0 ? &capacity : NULL,
                .key_prefix = c->etcd_key_prefix,
                .machine_id = m->machine_id,
                .public_ip = m->public_ip,
                .hostname = m->hostname,
                .metadata = c->metadata,
                .ttl_sec = config_ttl_sec(c),
                .units_directory = c->units_directory,
                .fence_on_lease_loss = c->fence_on_lease_loss,
                .name_drain_usec = c->name_drain_usec,
                .cluster_key_path = c->cluster_key,
        };
        r = agent_new(&m->agent, m->event, m->etcd, &ac);
        if (r < 0)
                return log_error_errno(r, "Failed to create the agent: %m");
        agent_set_registered_handler(m->agent, on_registered, m);

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_sighup, m);
        if (r < 0)
                return log_error_errno(r, "Failed to install signal handlers: %m");

        /* WATCHDOG=1 at half the interval, if the service has WatchdogSec=. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        r = agent_start(m->agent);
        if (r < 0)
                return log_error_errno(r, "Failed to start the agent: %m");

        if (!c->disable_dns) {
                NamesDnsConfig dc = {
                        .key_prefix = c->etcd_key_prefix,
                        .domain = c->dns_domain,
                        .address = c->dns_address,
                        .hosts_dir = c->dns_hosts_directory,
                };

                r = names_dns_new(&m->dns, m->event, m->etcd, &dc);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the cluster DNS (dns_domain=%s): %m", c->dns_domain);
                /* Machines withdrawing a name wait for this machine's DNS through the agent. */
                names_dns_set_applied_handler(m->dns, on_names_applied, m);
                r = names_dns_start(m->dns, agent_get_systemd(m->agent));
                if (r < 0)
                        return log_error_errno(r, "Failed to start the cluster DNS in %s: %m", c->dns_hosts_directory);
        }

        r = manager_start_network(m);
        if (r < 0 && r != -EINVAL)
                return r;

        if (!c->disable_engine) {
                EngineConfig ec = {
                        .key_prefix = c->etcd_key_prefix,
                        .machine_id = m->machine_id,
                        .lease_ttl_sec = config_ttl_sec(c),
                        .strategy = scheduler_strategy_from_string(c->scheduler_strategy),
                };

                r = engine_new(&m->engine, m->event, m->etcd, &ec);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the engine: %m");
                r = engine_start(m->engine);
                if (r < 0)
                        return log_error_errno(r, "Failed to start the engine: %m");
        }

        log_info("fleetd %s on machine %s (%s), etcd %s, agent_ttl %" PRIi64 "s%s.", FLEET_VERSION,
                 m->machine_id, strna(m->public_ip), c->etcd_servers[0], config_ttl_sec(c),
                 c->disable_engine ? ", engine disabled" : "");
        return 0;
}

int manager_run(Manager *m) {
        int r;

        assert(m);

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
