/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon object: owns the event loop, the etcd client, the agent and (unless disable_engine)
 * the engine, and handles signals (SIGTERM/SIGINT: leave; SIGHUP: reload the configuration),
 * sd_notify (READY=1 once registered, WATCHDOG=1 when the service has a watchdog) and shutdown. */

#include <systemd/sd-event.h>

#include "agent.h"
#include "engine.h"
#include "etcd-client.h"
#include "fleetd-conf.h"
#include "names-dns.h"
#include "network-scopes.h"
#include "network.h"

typedef struct Manager {
        sd_event *event;
        FleetdConfig *config;
        int argc;
        char **argv;                    /* borrowed: re-read on SIGHUP */

        char *machine_id;
        char *public_ip;
        char *hostname;

        EtcdClient *etcd;
        Agent *agent;
        Engine *engine;
        NamesDns *dns;
        Network *network;               /* NULL when turned off or misconfigured */
        NetworkScopes *scopes;          /* with the network and the names feed, else NULL */

        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;
        sd_event_source *exit_source;
        bool stopping;
} Manager;

/* Create the manager with a loaded configuration, of which it takes ownership (also on failure).
 * argc/argv are kept (borrowed) to load the configuration again on SIGHUP. Returns 0 or -ENOMEM. */
int manager_new(Manager **ret, FleetdConfig *config, int argc, char *argv[]);
/* Free everything; units keep running, leases are not revoked. Accepts NULL, returns NULL. */
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Find out who this machine is, connect to etcd and systemd, start the agent and the engine, and
 * install the signal handlers. Returns 0 or a negative errno (logged). */
int manager_start(Manager *m);

/* Run the loop until the daemon leaves. Returns 0 or a negative errno. */
int manager_run(Manager *m);
