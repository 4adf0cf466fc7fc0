/* SPDX-License-Identifier: Apache-2.0 */

#include <malloc.h>

#include "fleetd-conf.h"
#include "fleetd-manager.h"
#include "log.h"

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "The fleet daemon: runs the units the cluster's leader assigns to this machine and,\n"
               "when elected, schedules units across the cluster.\n\n"
               "  --config=PATH              configuration file (default " FLEETD_CONFIG_FILE ")\n"
               "  --etcd_servers=URL,...     etcd endpoints\n"
               "  --etcd_key_prefix=PREFIX   key prefix (default /_coreos.com/fleet/)\n"
               "  --etcd_cafile, --etcd_certfile, --etcd_keyfile, --etcd_username, --etcd_password\n"
               "  --etcd_request_timeout=DUR request timeout (default 1s)\n"
               "  --public_ip=IP             address to announce (default: detected)\n"
               "  --metadata=K=V,...         machine metadata\n"
               "  --agent_ttl=DUR            registration TTL (default 10s, at least 2s)\n"
               "  --disable_engine           never become the leader\n"
               "  --units_directory=DIR      where unit files are written (default /run/fleet/units/)\n"
               "  --verbosity=N              1 or more logs debug messages\n"
               "  --fence_on_lease_loss=BOOL stop non-global units when the lease may expire (default true)\n"
               "  --name_drain=DUR           stop a unit this long after every DNS dropped its name (default 2s)\n"
               "  --disable_dns              no cluster DNS (fleet-dns.service, dnsmasq) on this machine\n"
               "  --dns_domain=DOMAIN        the cluster's DNS domain (default fleet)\n"
               "  --dns_address=IP           where this machine's DNS answers containers (default 169.254.53.53)\n"
               "  --dns_hosts_directory=DIR  its hosts files (default /run/fleet/dns/hosts/)\n"
               "  --purge_on_shutdown=BOOL   stop and unload all units on SIGTERM (default false)\n"
               "  --help, --version\n\n"
               "Every option can also be set in the file and as FLEET_<NAME> in the environment.\n",
               program_invocation_short_name);
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *error = NULL;
        FleetdConfig *config = NULL;
        int r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        help();
                        return EXIT_SUCCESS;
                }
                if (streq(argv[i], "--version")) {
                        printf("fleetd version %s\n", FLEET_VERSION);
                        return EXIT_SUCCESS;
                }
        }

        /* fleetd runs everything on one thread: one malloc arena is enough, and a thread that
         * libcurl or libsystemd may start cannot leave a second arena's pages behind. */
        (void) mallopt(M_ARENA_MAX, 1);

        log_set_target(LOG_TARGET_JOURNAL);
        log_parse_environment();

        /* A bad configuration stops us before anything is touched. */
        r = fleetd_config_load(&config, argc, argv, &error);
        if (r < 0) {
                fprintf(stderr, "%s\n", error ?: strerror(-r));
                return EXIT_FAILURE;
        }

        r = manager_new(&m, config, argc, argv);
        if (r < 0) {
                log_oom();
                return EXIT_FAILURE;
        }
        r = manager_start(m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_run(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
