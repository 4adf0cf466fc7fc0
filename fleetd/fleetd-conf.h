/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* fleetd's configuration: fleet's option names, read in layers. Defaults, then the INI-like file
 * (/etc/fleet/fleet.conf, or --config=PATH), then FLEET_<UPPERCASE NAME> environment variables,
 * then --<name>=value flags; a later layer overrides an earlier one. Parsing is pure (no logging,
 * nothing touched), so a bad value is reported before the daemon does anything. */

#include <stdint.h>

#include "macro.h"
#include "resources.h"
#include "time-util.h"

#define FLEETD_CONFIG_FILE "/etc/fleet/fleet.conf"
#define FLEETD_AGENT_TTL_DEFAULT_USEC (10 * USEC_PER_SEC)
#define FLEETD_AGENT_TTL_MIN_USEC (2 * USEC_PER_SEC)
/* The withdrawal of a name reaches every machine's dnsmasq within ~0.1 s (bench-names: p99 94 ms,
 * which answers with TTL 0); the rest of the 2 s lets requests sent to the address just before
 * finish, as Nomad's shutdown_delay or a kubernetes preStop sleep does. */
#define FLEETD_NAME_DRAIN_DEFAULT_USEC (2 * USEC_PER_SEC)

typedef struct FleetdConfig {
        char **etcd_servers;            /* base URLs, "http://127.0.0.1:2379" by default */
        char *etcd_key_prefix;          /* always ends in '/' */
        char *etcd_cafile;
        char *etcd_certfile;
        char *etcd_keyfile;
        char *etcd_username;
        char *etcd_password;
        uint64_t etcd_request_timeout_usec;
        char *public_ip;                /* NULL: detect */
        char **metadata;                /* "k=v", sorted */
        uint64_t agent_ttl_usec;
        bool disable_engine;
        char *units_directory;          /* always ends in '/' */
        int verbosity;                  /* 0: info, 1 or more: debug */
        bool fence_on_lease_loss;       /* stop non-global units when the lease may expire */
        uint64_t name_drain_usec;       /* a published name is withdrawn this long before its unit
                                         * stops (0: no wait) */
        bool purge_on_shutdown;         /* SIGTERM also stops and unloads every unit */
        bool disable_dns;               /* no cluster DNS on this machine (fleet-dns.service) */
        char *dns_domain;               /* the cluster's DNS domain, "fleet" */
        char *dns_address;              /* where the machine's DNS answers containers */
        char *dns_hosts_directory;      /* its hosts files, one per published container; ends in '/' */

        /* Capacity published for units that reserve resources (issue 14; docs/fleetd.md). */
        uint64_t capacity_cpu_milli;    /* capacity_cpu: UINT64_MAX ("auto"): measured */
        uint64_t capacity_memory;       /* capacity_memory: UINT64_MAX ("auto"): measured */
        uint64_t reserve_cpu_milli;     /* reserve_cpu: kept for the system, taken off */
        uint64_t reserve_memory;        /* reserve_memory: likewise */
        Resources resources;            /* resources "gpu=2,fpga=1": named counts offered */
        char *scheduler_strategy;       /* "spread" (default) or "binpack", for the engine */
        char *state_dir;                /* kept across reboots, always ends in '/' */
        /* The cluster network (docs/network.md). */
        bool network;                   /* false: no overlay; units needing it wait */
        char *network_range;            /* "10.42.0.0/16": the whole cluster's */
        int network_subnet_len;         /* each machine's subnet, 24 */
        char *network_subnet;           /* NULL: lease any free one; else exactly this one */
        int network_vni;                /* VXLAN network identifier, 1 */
        int network_port;               /* VXLAN UDP port, 4789 */
        char *network_device;           /* NULL: "fleet.<vni>" */
        char *network_cni_dir;          /* where the CNI conflist goes, always ends in '/' */
        char *network_docker_socket;    /* the Docker Engine API socket whose "fleet" network fleetd keeps; "": none */
        /* Secrets and configs (docs/secrets.md). */
        char *cluster_key;              /* the cluster key file, /etc/fleet/cluster.key */
} FleetdConfig;

/* A configuration holding the defaults. Returns 0 or -ENOMEM. */
int fleetd_config_new(FleetdConfig **ret);
/* Free c and its strings. Accepts NULL, returns NULL. */
FleetdConfig *fleetd_config_free(FleetdConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(FleetdConfig *, fleetd_config_free);

/* Set option key (fleet's name; '-' is accepted for '_') from its textual value. Returns 0 when
 * set, 1 when key is one of fleet's options that fleetd accepts and ignores (e.g.
 * engine_reconcile_interval), -EINVAL for a bad value or an unknown key with a malloc'd
 * "key: what is wrong" in *ret_error (if non-NULL; written only then), -ENOMEM. c is unchanged on
 * error. */
int fleetd_config_set(FleetdConfig *c, const char *key, const char *value, char **ret_error);

/* Apply the text of a configuration file: "key=value" lines, '#' and ';' comments, blank lines and
 * "[section]" headers ignored, values optionally in double or single quotes. origin names the file
 * in errors. On -EINVAL *ret_error (if non-NULL) gets "ORIGIN:LINE: key: what is wrong". Options
 * before the bad line stay applied. Returns 0, -EINVAL or -ENOMEM. */
int fleetd_config_load_text(FleetdConfig *c, const char *text, const char *origin, char **ret_error);

/* Read and apply a file. A missing file is fine if missing_ok. On failure *ret_error (if non-NULL)
 * gets a message ("PATH: No such file or directory", or as fleetd_config_load_text()). Returns 0,
 * -EINVAL, or the negative errno of reading the file. */
int fleetd_config_load_file(FleetdConfig *c, const char *path, bool missing_ok, char **ret_error);

/* Apply FLEET_<NAME> for every known option that is set in the environment. On -EINVAL
 * *ret_error gets "$FLEET_NAME: key: what is wrong". Returns 0, -EINVAL, -ENOMEM. */
int fleetd_config_load_env(FleetdConfig *c, char **ret_error);

/* Apply the options of a command line: "--name=value", "--name value", and "--name" alone for a
 * boolean (true). "--config=PATH" is skipped (see fleetd_config_find_path()), as are "--help" and
 * "--version". On -EINVAL *ret_error gets "--name: what is wrong" or names the stray argument.
 * Returns 0, -EINVAL, -ENOMEM. */
int fleetd_config_parse_argv(FleetdConfig *c, int argc, char *argv[], char **ret_error);

/* The configuration file the command line asks for (--config=PATH or --config PATH), borrowed from
 * argv, or NULL for the default. */
const char *fleetd_config_find_path(int argc, char *argv[]);

/* Everything in order: defaults, the file (the default path may be missing, an explicit one may
 * not), the environment, the command line. On success *ret owns the result. On failure *ret_error
 * (if non-NULL) gets the message to print. Returns 0, -EINVAL, -ENOMEM, or a read error. */
int fleetd_config_load(FleetdConfig **ret, int argc, char *argv[], char **ret_error);

/* Parse a duration: Go-like "10s", "500ms", "1m30s", "1.5s", "2h" (units ns, us, ms, s, m, h) or
 * a bare number of seconds ("1.0"). Returns 0 or -EINVAL (empty, negative, unknown unit, overflow). */
int fleetd_parse_duration(const char *s, uint64_t *ret_usec);

/* Parse fleet's metadata "k=v,k2=v2" into a sorted strv of "k=v" (whitespace around entries is
 * trimmed, empty entries skipped; each entry needs exactly one '=' and a non-empty key and value).
 * Returns 0, -EINVAL (with the offending entry in *ret_bad, malloc'd, if non-NULL), -ENOMEM. */
int fleetd_parse_metadata(const char *s, char ***ret, char **ret_bad);
