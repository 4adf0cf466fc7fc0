/* SPDX-License-Identifier: Apache-2.0 */

#include <getopt.h>
#include <math.h>
#include <strings.h>

#include "cluster-key.h"
#include "etcd-sync.h"
#include "cli-tunnel.h"
#include "cli-units.h"
#include "fleetctl.h"
#include "log.h"
#include "parse-util.h"
#include "registry.h"
#include "strv.h"
#include "utf8.h"
#include "time-util.h"
#include "xfleet.h"

char **arg_endpoints = NULL;
char *arg_etcd_key_prefix = NULL;
char *arg_ca_file = NULL;
char *arg_cert_file = NULL;
char *arg_key_file = NULL;
char *arg_etcd_username = NULL;
char *arg_etcd_password = NULL;
uint64_t arg_request_timeout_usec = 3 * USEC_PER_SEC;
bool arg_debug = false;
char *arg_tunnel = NULL;
char *arg_ssh_username = NULL;
uint64_t arg_ssh_timeout_usec = 10 * USEC_PER_SEC;
bool arg_strict_host_key_checking = true;
char *arg_known_hosts_file = NULL;
char *arg_cluster_key = NULL;

bool arg_replace = false;
bool arg_no_block = false;
int arg_block_attempts = 0;
char *arg_fields = NULL;
bool arg_full = false;
bool arg_no_legend = false;
OutputMode arg_output = OUTPUT_TABLE;
char *arg_journal_output = NULL;
unsigned arg_lines = 10;
bool arg_follow = false;
bool arg_sudo = false;
unsigned arg_ssh_port = 22;
bool arg_forward_agent = false;
char *arg_machine = NULL;
char *arg_unit = NULL;
uint64_t arg_wait_timeout_usec = 0;

static sd_event *etcd_event = NULL;
static EtcdClient *etcd_client = NULL;
static sd_event_source *etcd_watchdog = NULL;
static uint64_t etcd_watchdog_requests = UINT64_MAX;

/* Per-command flags: each verb lists the ones it accepts. */
enum {
        FLAG_REPLACE = 1 << 0,
        FLAG_NO_BLOCK = 1 << 1,
        FLAG_BLOCK_ATTEMPTS = 1 << 2,
        FLAG_FIELDS = 1 << 3,
        FLAG_FULL = 1 << 4,
        FLAG_NO_LEGEND = 1 << 5,
        FLAG_OUTPUT = 1 << 6,
        FLAG_LINES = 1 << 7,
        FLAG_FOLLOW = 1 << 8,
        FLAG_SUDO = 1 << 9,
        FLAG_SSH_PORT = 1 << 10,
        FLAG_FORWARD_AGENT = 1 << 11,
        FLAG_MACHINE = 1 << 12,
        FLAG_UNIT = 1 << 13,
        FLAG_TIMEOUT = 1 << 14,
};

#define FLAGS_BLOCK (FLAG_NO_BLOCK | FLAG_BLOCK_ATTEMPTS | FLAG_TIMEOUT)
#define FLAGS_LIST (FLAG_FIELDS | FLAG_FULL | FLAG_NO_LEGEND | FLAG_OUTPUT)

typedef struct Verb {
        const char *name;
        int min_args, max_args;         /* after the verb; -1: no maximum */
        unsigned flags;
        int (*dispatch)(int argc, char *argv[]);
        const char *args;
        const char *summary;
} Verb;

static int verb_help(int argc, char *argv[]);
static int verb_version(int argc, char *argv[]);

static const Verb verbs[] = {
        { "cat",             1,  1, 0,                              verb_cat,             "UNIT",
          "Output the contents of a submitted unit" },
        { "config",          1, -1, FLAG_NO_LEGEND,                 verb_config,
          "create|ls|inspect|rm NAME [FILE|-]", "Manage the cluster's configs, mounted into the units that refer to them" },
        { "compose",         1, -1, 0,                              verb_compose,
          "[-f FILE]... [-p NAME] [--profile P]... [--env-file F] [--runtime R] up|down|ps|logs|config [OPTIONS] [SERVICE...]",
          "Converge the cluster onto a compose file (up), remove its project (down), list (ps), read its journals (logs) or print the merged model (config)" },
        { "cordon",          1, -1, 0,                              verb_cordon,          "MACHINE...",
          "Place no new units on machines (by id or id prefix); what runs there stays" },
        { "destroy",         1, -1, FLAGS_BLOCK,                    verb_destroy,         "UNIT...",
          "Destroy one or more units in the cluster" },
        { "drain",           1,  1, FLAGS_BLOCK,                    verb_drain,           "MACHINE",
          "Cordon a machine and move its non-global units away, showing each move" },
        { "help",            0,  1, 0,                              verb_help,            "[COMMAND]",
          "Show a list of commands or help for one command" },
        { "journal",         1,  1, FLAG_LINES | FLAG_FOLLOW | FLAG_OUTPUT | FLAG_SUDO | FLAG_SSH_PORT,
          verb_journal, "UNIT", "Print the journal of a unit in the cluster to stdout" },
        { "list-machines",   0,  0, FLAGS_LIST,                     verb_list_machines,   "",
          "Enumerate the current hosts in the cluster" },
        { "list-unit-files", 0,  0, FLAGS_LIST,                     verb_list_unit_files, "",
          "List the units that exist in the cluster" },
        { "list-units",      0,  0, FLAGS_LIST,                     verb_list_units,      "",
          "List the current state of units in the cluster" },
        { "load",            1, -1, FLAG_REPLACE | FLAGS_BLOCK,     verb_load,            "UNIT...",
          "Schedule one or more units in the cluster, first submitting them if necessary" },
        { "restart",         1, -1, FLAGS_BLOCK,                    verb_restart,         "UNIT...",
          "Stop, then start one or more units in the cluster" },
        { "secret",          1, -1, FLAG_NO_LEGEND,                 verb_secret,
          "create|ls|inspect|rm NAME [FILE|-]",
          "Manage the cluster's secrets, sealed with the cluster key; inspect never shows a value" },
        { "ssh",             0, -1, FLAG_FORWARD_AGENT | FLAG_MACHINE | FLAG_UNIT | FLAG_SSH_PORT,
          verb_ssh, "[MACHINE|UNIT] [COMMAND...]", "Open interactive shell on a machine in the cluster" },
        { "start",           1, -1, FLAG_REPLACE | FLAGS_BLOCK,     verb_start,           "UNIT...",
          "Instruct systemd to start one or more units in the cluster, first submitting and loading if necessary" },
        { "status",          1, -1, FLAG_SSH_PORT,                  verb_status,          "UNIT...",
          "Output the status of one or more units in the cluster" },
        { "stop",            1, -1, FLAGS_BLOCK,                    verb_stop,            "UNIT...",
          "Instruct systemd to stop one or more units in the cluster" },
        { "submit",          1, -1, FLAG_REPLACE,                   verb_submit,          "UNIT...",
          "Upload one or more units to the cluster without starting them" },
        { "unload",          1, -1, FLAGS_BLOCK,                    verb_unload,          "UNIT...",
          "Unschedule one or more units in the cluster" },
        { "uncordon",        1, -1, 0,                              verb_uncordon,        "MACHINE...",
          "Let the scheduler place units on machines again (undoes cordon and drain)" },
        { "verify",          1, -1, 0,                              verb_verify,          "FILE...",
          "Check unit files for errors, including [X-Fleet] options and their combinations" },
        { "version",         0,  0, 0,                              verb_version,         "",
          "Print the version and exit" },
};

enum {
        ARG_ENDPOINT = 0x100,
        ARG_DRIVER,
        ARG_ETCD_KEY_PREFIX,
        ARG_CA_FILE,
        ARG_ETCD_USERNAME,
        ARG_ETCD_PASSWORD,
        ARG_CERT_FILE,
        ARG_KEY_FILE,
        ARG_REQUEST_TIMEOUT,
        ARG_DEBUG,
        ARG_VERSION,
        ARG_TUNNEL,
        ARG_SSH_USERNAME,
        ARG_SSH_TIMEOUT,
        ARG_STRICT_HOST_KEY_CHECKING,
        ARG_KNOWN_HOSTS_FILE,
        ARG_CLUSTER_KEY,
        ARG_EXPERIMENTAL_API,
        ARG_REPLACE,
        ARG_NO_BLOCK,
        ARG_BLOCK_ATTEMPTS,
        ARG_FIELDS,
        ARG_NO_LEGEND,
        ARG_LINES,
        ARG_SUDO,
        ARG_SSH_PORT,
        ARG_MACHINE,
        ARG_UNIT,
        ARG_TIMEOUT,
};

static const struct option options[] = {
        { "help",                     no_argument,       NULL, 'h'                          },
        { "endpoint",                 required_argument, NULL, ARG_ENDPOINT                 },
        { "driver",                   required_argument, NULL, ARG_DRIVER                   },
        { "etcd-key-prefix",          required_argument, NULL, ARG_ETCD_KEY_PREFIX          },
        { "ca-file",                  required_argument, NULL, ARG_CA_FILE                  },
        { "etcd-cafile",              required_argument, NULL, ARG_CA_FILE                  },
        { "etcd-certfile",            required_argument, NULL, ARG_CERT_FILE                },
        { "etcd-keyfile",             required_argument, NULL, ARG_KEY_FILE                 },
        { "etcd-username",            required_argument, NULL, ARG_ETCD_USERNAME            },
        { "etcd-password",            required_argument, NULL, ARG_ETCD_PASSWORD            },
        { "cert-file",                required_argument, NULL, ARG_CERT_FILE                },
        { "key-file",                 required_argument, NULL, ARG_KEY_FILE                 },
        { "request-timeout",          required_argument, NULL, ARG_REQUEST_TIMEOUT          },
        { "debug",                    optional_argument, NULL, ARG_DEBUG                    },
        { "version",                  no_argument,       NULL, ARG_VERSION                  },
        { "tunnel",                   required_argument, NULL, ARG_TUNNEL                   },
        { "ssh-username",             required_argument, NULL, ARG_SSH_USERNAME             },
        { "ssh-timeout",              required_argument, NULL, ARG_SSH_TIMEOUT              },
        { "strict-host-key-checking", optional_argument, NULL, ARG_STRICT_HOST_KEY_CHECKING },
        { "known-hosts-file",         required_argument, NULL, ARG_KNOWN_HOSTS_FILE         },
        { "cluster-key",              required_argument, NULL, ARG_CLUSTER_KEY              },
        { "experimental-api",         optional_argument, NULL, ARG_EXPERIMENTAL_API         },
        { "replace",                  optional_argument, NULL, ARG_REPLACE                  },
        { "no-block",                 optional_argument, NULL, ARG_NO_BLOCK                 },
        { "block-attempts",           required_argument, NULL, ARG_BLOCK_ATTEMPTS           },
        { "fields",                   required_argument, NULL, ARG_FIELDS                   },
        { "full",                     optional_argument, NULL, 'l'                          },
        { "no-legend",                optional_argument, NULL, ARG_NO_LEGEND                },
        { "output",                   required_argument, NULL, 'o'                          },
        { "lines",                    required_argument, NULL, ARG_LINES                    },
        { "follow",                   optional_argument, NULL, 'f'                          },
        { "sudo",                     optional_argument, NULL, ARG_SUDO                     },
        { "ssh-port",                 required_argument, NULL, ARG_SSH_PORT                 },
        { "forward-agent",            optional_argument, NULL, 'A'                          },
        { "machine",                  required_argument, NULL, ARG_MACHINE                  },
        { "unit",                     required_argument, NULL, ARG_UNIT                     },
        { "timeout",                  required_argument, NULL, ARG_TIMEOUT                  },
        {}
};

/* A flag's optional boolean value: "--flag" alone means true. */
static int parse_flag_boolean(const char *v) {
        return v ? parse_boolean(v) : 1;
}

static int parse_seconds(const char *v, uint64_t *ret) {
        char *end = NULL;
        double d;

        errno = 0;
        d = strtod(v, &end);
        if (errno != 0 || !end || end == v || *end || !isfinite(d) || d < 0 || d > 86400.0 * 365)
                return -EINVAL;
        *ret = (uint64_t) (d * (double) USEC_PER_SEC);
        return 0;
}

static int parse_unsigned(const char *v, unsigned max, unsigned *ret) {
        unsigned long l;
        char *end = NULL;

        errno = 0;
        l = strtoul(v, &end, 10);
        if (errno != 0 || !end || end == v || *end || v[0] == '-' || l > max)
                return -EINVAL;
        *ret = (unsigned) l;
        return 0;
}

static int set_string(char **s, const char *v) {
        char *c = strdup(v);

        if (!c)
                return log_oom();
        free_and_replace(*s, c);
        return 0;
}

static int set_prefix(const char *v) {
        char *c;

        if (isempty(v) || v[0] != '/')
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid etcd key prefix '%s': it must start with '/'.", v);
        if (asprintf(&c, "%s%s", v, endswith(v, "/") ? "" : "/") < 0)
                return log_oom();
        free_and_replace(arg_etcd_key_prefix, c);
        return 0;
}

static int set_endpoints(const char *v) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *bad = NULL;
        int r;

        r = etcd_endpoints_parse(v, &l, &bad);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && isempty(bad))
                return log_error_errno(r, "No etcd endpoint given.");
        if (r < 0)
                return log_error_errno(r, "Invalid etcd endpoint '%s': it must be an http:// or https:// URL "
                                       "(scheme, host, optional port).", bad);
        strv_free(arg_endpoints);
        arg_endpoints = TAKE_PTR(l);
        return 0;
}

static int bad_value(const char *flag, const char *v) {
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid value '%s' for --%s.", strna(v), flag);
}

/* A flag of one or a few commands: c is getopt's code, v its argument; *seen collects them so that
 * a command can refuse those it does not take. */
static int apply_command_option(int c, const char *v, unsigned *seen) {
        unsigned u;
        int b;

        switch (c) {
        case ARG_REPLACE:
                *seen |= FLAG_REPLACE;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("replace", v);
                arg_replace = b;
                return 0;
        case ARG_NO_BLOCK:
                *seen |= FLAG_NO_BLOCK;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("no-block", v);
                arg_no_block = b;
                return 0;
        case ARG_BLOCK_ATTEMPTS:
                *seen |= FLAG_BLOCK_ATTEMPTS;
                if (parse_unsigned(v, 1000000, &u) < 0)
                        return bad_value("block-attempts", v);
                arg_block_attempts = (int) u;
                return 0;
        case ARG_FIELDS:
                *seen |= FLAG_FIELDS;
                return set_string(&arg_fields, v);
        case 'l':
                *seen |= FLAG_FULL;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("full", v);
                arg_full = b;
                return 0;
        case ARG_NO_LEGEND:
                *seen |= FLAG_NO_LEGEND;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("no-legend", v);
                arg_no_legend = b;
                return 0;
        case 'o':
                *seen |= FLAG_OUTPUT;
                return set_string(&arg_journal_output, v);
        case ARG_LINES:
                *seen |= FLAG_LINES;
                if (parse_unsigned(v, 1000000, &arg_lines) < 0)
                        return bad_value("lines", v);
                return 0;
        case 'f':
                *seen |= FLAG_FOLLOW;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("follow", v);
                arg_follow = b;
                return 0;
        case ARG_SUDO:
                *seen |= FLAG_SUDO;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("sudo", v);
                arg_sudo = b;
                return 0;
        case ARG_SSH_PORT:
                *seen |= FLAG_SSH_PORT;
                if (parse_unsigned(v, 65535, &arg_ssh_port) < 0 || arg_ssh_port == 0)
                        return bad_value("ssh-port", v);
                return 0;
        case 'A':
                *seen |= FLAG_FORWARD_AGENT;
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("forward-agent", v);
                arg_forward_agent = b;
                return 0;
        case ARG_MACHINE:
                *seen |= FLAG_MACHINE;
                return set_string(&arg_machine, v);
        case ARG_UNIT:
                *seen |= FLAG_UNIT;
                return set_string(&arg_unit, v);
        case ARG_TIMEOUT:
                *seen |= FLAG_TIMEOUT;
                if (parse_seconds(v, &arg_wait_timeout_usec) < 0 || arg_wait_timeout_usec == 0)
                        return bad_value("timeout", v);
                return 0;
        default:
                assert_not_reached();
                return -EINVAL;
        }
}

/* Apply one option: c is getopt's code, v its argument. *seen collects per-command flags. */
static int apply_option(int c, const char *v, unsigned *seen, bool *ret_help, bool *ret_version) {
        int b, r;

        switch (c) {
        case 'h':
                *ret_help = true;
                return 0;
        case 'v':
        case ARG_VERSION:
                *ret_version = true;
                return 0;
        case ARG_ENDPOINT:
                return set_endpoints(v);
        case ARG_DRIVER:
                if (strcasecmp(v, "etcd") != 0 && strcasecmp(v, "api") != 0)
                        return bad_value("driver", v);
                return 0;               /* we always speak to etcd; "API" is accepted for scripts */
        case ARG_ETCD_KEY_PREFIX:
                return set_prefix(v);
        case ARG_CA_FILE:
                return set_string(&arg_ca_file, v);
        case ARG_CERT_FILE:
                return set_string(&arg_cert_file, v);
        case ARG_ETCD_USERNAME:
                return set_string(&arg_etcd_username, v);
        case ARG_ETCD_PASSWORD:
                return set_string(&arg_etcd_password, v);
        case ARG_KEY_FILE:
                return set_string(&arg_key_file, v);
        case ARG_REQUEST_TIMEOUT:
                r = parse_seconds(v, &arg_request_timeout_usec);
                if (r < 0 || arg_request_timeout_usec == 0)
                        return bad_value("request-timeout", v);
                return 0;
        case ARG_DEBUG:
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("debug", v);
                arg_debug = b;
                return 0;
        case ARG_TUNNEL:
                return set_string(&arg_tunnel, v);
        case ARG_SSH_USERNAME:
                return set_string(&arg_ssh_username, v);
        case ARG_SSH_TIMEOUT:
                if (parse_seconds(v, &arg_ssh_timeout_usec) < 0)
                        return bad_value("ssh-timeout", v);
                return 0;
        case ARG_STRICT_HOST_KEY_CHECKING:
                if ((b = parse_flag_boolean(v)) < 0)
                        return bad_value("strict-host-key-checking", v);
                arg_strict_host_key_checking = b;
                return 0;
        case ARG_KNOWN_HOSTS_FILE:
                return set_string(&arg_known_hosts_file, v);
        case ARG_CLUSTER_KEY:
                return set_string(&arg_cluster_key, v);
        case ARG_EXPERIMENTAL_API:
                return 0;
        default:
                return apply_command_option(c, v, seen);
        }
}

/* The FLEETCTL_<FLAG> environment variables of the global flags; command-line flags override them. */
static int parse_environment(void) {
        static const struct {
                const char *env;
                int code;
        } table[] = {
                { "FLEETCTL_ENDPOINT",                 ARG_ENDPOINT                 },
                { "FLEETCTL_DRIVER",                   ARG_DRIVER                   },
                { "FLEETCTL_ETCD_KEY_PREFIX",          ARG_ETCD_KEY_PREFIX          },
                { "FLEETCTL_CA_FILE",                  ARG_CA_FILE                  },
                { "FLEETCTL_ETCD_USERNAME",            ARG_ETCD_USERNAME            },
                { "FLEETCTL_ETCD_PASSWORD",            ARG_ETCD_PASSWORD            },
                { "FLEETCTL_CERT_FILE",                ARG_CERT_FILE                },
                { "FLEETCTL_KEY_FILE",                 ARG_KEY_FILE                 },
                { "FLEETCTL_REQUEST_TIMEOUT",          ARG_REQUEST_TIMEOUT          },
                { "FLEETCTL_DEBUG",                    ARG_DEBUG                    },
                { "FLEETCTL_TUNNEL",                   ARG_TUNNEL                   },
                { "FLEETCTL_SSH_USERNAME",             ARG_SSH_USERNAME             },
                { "FLEETCTL_SSH_TIMEOUT",              ARG_SSH_TIMEOUT              },
                { "FLEETCTL_STRICT_HOST_KEY_CHECKING", ARG_STRICT_HOST_KEY_CHECKING },
                { "FLEETCTL_KNOWN_HOSTS_FILE",         ARG_KNOWN_HOSTS_FILE         },
                { "FLEETCTL_CLUSTER_KEY",              ARG_CLUSTER_KEY              },
        };
        bool help = false, version = false;
        unsigned seen = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                const char *v = getenv(table[i].env);

                if (isempty(v))
                        continue;
                r = apply_option(table[i].code, v, &seen, &help, &version);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_argv(int argc, char *argv[], bool stop_at_verb, unsigned *seen, bool *ret_help,
                      bool *ret_version) {
        int c, r;

        /* optind = 0 makes glibc re-initialise, so the same vector can be parsed twice. */
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, stop_at_verb ? "+:hvlfo:A" : ":hvlfo:A", options, NULL)) >= 0) {
                if (c == '?') {
                        if (optopt != 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "unknown shorthand flag: '%c' in -%c", optopt, optopt);
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "unknown flag: %s", argv[optind - 1]);
                }
                if (c == ':')
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "flag needs an argument: %s", argv[optind - 1]);
                r = apply_option(c, optarg, seen, ret_help, ret_version);
                if (r < 0)
                        return r;
        }
        return optind;
}

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static const char *flag_name(unsigned flag) {
        switch (flag) {
        case FLAG_REPLACE:       return "--replace";
        case FLAG_NO_BLOCK:      return "--no-block";
        case FLAG_BLOCK_ATTEMPTS: return "--block-attempts";
        case FLAG_FIELDS:        return "--fields";
        case FLAG_FULL:          return "--full";
        case FLAG_NO_LEGEND:     return "--no-legend";
        case FLAG_OUTPUT:        return "--output";
        case FLAG_LINES:         return "--lines";
        case FLAG_FOLLOW:        return "--follow";
        case FLAG_SUDO:          return "--sudo";
        case FLAG_SSH_PORT:      return "--ssh-port";
        case FLAG_FORWARD_AGENT: return "--forward-agent";
        case FLAG_MACHINE:       return "--machine";
        case FLAG_UNIT:          return "--unit";
        case FLAG_TIMEOUT:       return "--timeout";
        default:                 return "?";
        }
}

static const char *flag_help(unsigned flag) {
        switch (flag) {
        case FLAG_REPLACE:
                return "--replace                Replace the unit in the cluster if it differs from the local file";
        case FLAG_NO_BLOCK:
                return "--no-block               Do not wait until the units reach their state before exiting";
        case FLAG_BLOCK_ATTEMPTS:
                return "--block-attempts=N       Wait for the units at most N x 250 ms (0: wait forever)";
        case FLAG_FIELDS:
                return "--fields=F,...           Columns to print (see the man page for each command's fields)";
        case FLAG_FULL:
                return "-l, --full               Do not ellipsize machine IDs and hashes";
        case FLAG_NO_LEGEND:
                return "--no-legend              Do not print the header line";
        case FLAG_OUTPUT:
                return "-o, --output=MODE        table or json (journal: journalctl's output mode, default short)";
        case FLAG_LINES:
                return "--lines=N                Number of recent journal lines to show (default 10)";
        case FLAG_FOLLOW:
                return "-f, --follow             Keep printing new journal lines";
        case FLAG_SUDO:
                return "--sudo                   Run the remote command with sudo";
        case FLAG_SSH_PORT:
                return "--ssh-port=N             Port of the remote sshd (default 22)";
        case FLAG_FORWARD_AGENT:
                return "-A, --forward-agent      Forward the local ssh agent";
        case FLAG_MACHINE:
                return "--machine=ID             Open a shell on the machine with this ID (or ID prefix)";
        case FLAG_UNIT:
                return "--unit=UNIT              Open a shell on the machine running this unit";
        case FLAG_TIMEOUT:
                return "--timeout=SECONDS        Give up waiting after SECONDS (exit status 1)";
        default:
                return "";
        }
}

static void print_global_help(void) {
        printf("NAME:\n"
               "\tfleetctl - fleetctl is a command-line interface to fleet, the cluster-wide init system.\n"
               "\n"
               "USAGE:\n"
               "\tfleetctl [global options] <command> [command options] [arguments...]\n"
               "\n"
               "VERSION:\n"
               "\t%s\n"
               "\n"
               "COMMANDS:\n", FLEET_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("\t%-16s%s\n", verbs[i].name, verbs[i].summary);
        printf("\n"
               "GLOBAL OPTIONS:\n"
               "\t--endpoint=URL,...               etcd endpoints (default http://127.0.0.1:2379; $FLEETCTL_ENDPOINT)\n"
               "\t--etcd-key-prefix=PREFIX         Keyspace of the cluster in etcd (default %s)\n"
               "\t--ca-file, --cert-file, --key-file=PATH\n"
               "\t                                 TLS files for the https:// etcd endpoints (also\n"
               "\t                                 --etcd-cafile, --etcd-certfile, --etcd-keyfile)\n"
               "\t--etcd-username, --etcd-password=S\n"
               "\t                                 etcd user (with etcd auth on); prefer\n"
               "\t                                 $FLEETCTL_ETCD_PASSWORD to a flag others can see in ps\n"
               "\t--request-timeout=SECONDS        Timeout of each etcd request (default 3)\n"
               "\t--tunnel=HOST[:PORT]             Reach etcd (ssh -L) and the machines (status/journal/ssh)\n"
               "\t                                 through this SSH host; endpoints as it sees them\n"
               "\t--ssh-username=USER              Remote user for SSH (default: ssh's, ~/.ssh/config or yours)\n"
               "\t--ssh-timeout=SECONDS            SSH connection timeout (default 10)\n"
               "\t--strict-host-key-checking=BOOL  Verify host keys against the known hosts file (default true)\n"
               "\t--known-hosts-file=PATH          Known hosts file (default: ssh's own)\n"
               "\t--cluster-key=PATH               The cluster key that seals secrets (default " CLUSTER_KEY_DEFAULT_PATH ")\n"
               "\t--driver=etcd                    Accepted for compatibility; fleetctl always talks to etcd\n"
               "\t--debug                          Print what fleetctl does on stderr\n"
               "\t-v, --version                    Print the version and exit\n"
               "\t-h, --help                       Show help\n"
               "\n"
               "Every global flag can also be set as FLEETCTL_<FLAG> in the environment,\n"
               "e.g. FLEETCTL_ENDPOINT, FLEETCTL_ETCD_KEY_PREFIX, FLEETCTL_TUNNEL.\n"
               "Run 'fleetctl help <command>' for a command's options.\n",
               REGISTRY_DEFAULT_PREFIX);
}

static void print_verb_help(const Verb *v) {
        printf("NAME:\n"
               "\tfleetctl %s - %s\n"
               "\n"
               "USAGE:\n"
               "\tfleetctl %s%s%s\n",
               v->name, v->summary, v->name, v->flags ? " [command options] " : " ", v->args);
        if (v->dispatch == verb_compose) {
                putchar('\n');
                fleetctl_compose_help();
        }
        if (v->flags) {
                printf("\nOPTIONS:\n");
                for (unsigned f = 1; f <= FLAG_TIMEOUT; f <<= 1)
                        if (v->flags & f)
                                printf("\t%s\n", flag_help(f));
        }
}

static int verb_help(int argc, char *argv[]) {
        const Verb *v;

        if (argc < 2) {
                print_global_help();
                return 0;
        }
        v = verb_find(argv[1]);
        if (!v)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown command \"%s\"; run 'fleetctl help' for a list.", argv[1]);
        print_verb_help(v);
        return 0;
}

static int verb_version(int argc, char *argv[]) {
        printf("fleetctl version %s\n", FLEET_VERSION);
        return 0;
}

static uint64_t watchdog_period_usec(void) {
        return arg_request_timeout_usec + 2 * USEC_PER_SEC;
}

/* A blocking etcd call runs the event loop until the client reports its result, within the
 * request timeout. Should a call ever outlive that, fleetctl must fail rather than hang: this
 * timer only fires while a call runs the loop, and if no new request went out during a whole
 * period, the call in progress is older than the timeout and the loop is ended, which fails it. */
static int on_etcd_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        uint64_t sent = etcd_client_requests_sent(etcd_client);
        int r;

        if (sent == etcd_watchdog_requests) {
                log_debug("An etcd request did not complete within its timeout, giving up.");
                return sd_event_exit(sd_event_source_get_event(s), -ETIMEDOUT);
        }
        etcd_watchdog_requests = sent;

        r = sd_event_source_set_time_relative(s, watchdog_period_usec());
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int fleetctl_etcd(EtcdClient **ret) {
        int r;

        assert(ret);

        if (!etcd_client) {
                _cleanup_strv_free_ char **sockets = NULL;

                if (arg_tunnel) {
                        r = cli_tunnel_open(arg_endpoints, &sockets);
                        if (r < 0)
                                return r;
                }

                EtcdConfig config = {
                        .endpoints = arg_endpoints,
                        .unix_sockets = sockets,
                        .ca_file = arg_ca_file,
                        .cert_file = arg_cert_file,
                        .key_file = arg_key_file,
                        .username = arg_etcd_username,
                        .password = arg_etcd_password,
                        .request_timeout_usec = arg_request_timeout_usec,
                };
                _cleanup_free_ char *msg = NULL;

                r = etcd_config_check(&config, &msg);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "Refusing the etcd options: %s.", msg);
                if (r > 0)
                        log_warning("WARNING: %s.", msg);
                if (!!arg_etcd_username != !!arg_etcd_password)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--etcd-username and --etcd-password go together.");

                if (!etcd_event) {
                        r = sd_event_new(&etcd_event);
                        if (r < 0)
                                return log_error_errno(r, "Failed to allocate event loop: %m");
                }
                r = etcd_client_new(&etcd_client, etcd_event, &config);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        _cleanup_free_ char *j = strv_join(arg_endpoints, ",");
                        return log_error_errno(r, "Invalid etcd endpoint '%s': %m", strna(j));
                }
                r = sd_event_add_time_relative(etcd_event, &etcd_watchdog, CLOCK_MONOTONIC,
                                               watchdog_period_usec(), 0, on_etcd_watchdog, NULL);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the request watchdog: %m");
        }

        *ret = etcd_client;
        return 0;
}

int fleetctl_log_etcd_error(int r, const char *what) {
        _cleanup_free_ char *j = strv_join(arg_endpoints, ",");
        const char *msg = etcd_client ? etcd_sync_last_error(etcd_client) : NULL;
        const char *detail = etcd_client ? etcd_client_error_detail(etcd_client) : NULL;

        /* The endpoint and what is wrong with it, where configuration explains the failure. */
        if (detail) {
                _cleanup_free_ char *m = utf8_escape_non_printable(detail);

                return log_error_errno(r, "Failed to %s: %s", what, strna(m));
        }
        switch (r) {
        case -ETIMEDOUT:
        case -ESTALE:           /* the watchdog ended the loop */
                return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT), "Failed to %s: etcd at %s did not answer in time.", what,
                                       strna(j));
        case -ECONNREFUSED:
        case -EHOSTUNREACH:
        case -ENETUNREACH:
        case -ECONNRESET:
        case -ECONNABORTED:
        case -EAGAIN:
                return log_error_errno(r, "Failed to %s: etcd at %s is unreachable: %m", what, strna(j));
        case -ENOMEM:
                return log_oom();
        default:
                if (!isempty(msg)) {
                        _cleanup_free_ char *m = utf8_escape_non_printable(msg);

                        return log_error_errno(r, "Failed to %s: %m (etcd: %s)", what, strna(m));
                }
                return log_error_errno(r, "Failed to %s: %m", what);
        }
}

int fleetctl_log_missing_unit(const ClusterSnapshot *s, const char *name) {
        const ClusterProblem *p = cluster_snapshot_unit_problem(s, name);
        _cleanup_free_ char *what = NULL;

        if (!p)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Unit %s does not exist.", name);
        what = utf8_escape_non_printable(p->what);
        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Unit %s has a malformed record in the cluster: %s. "
                               "Replace it with 'fleetctl submit --replace' or remove it with 'fleetctl destroy'.",
                               name, strna(what));
}

void fleetctl_report_problems(const ClusterSnapshot *s) {
        for (size_t i = 0; i < s->n_problems; i++) {
                _cleanup_free_ char *key = utf8_escape_non_printable(s->problems[i].key),
                                    *what = utf8_escape_non_printable(s->problems[i].what);

                log_warning("Malformed record %s, left out: %s", strna(key), strna(what));
        }
}

int fleetctl_snapshot(const char *what, EtcdClient **ret_client, ClusterSnapshot **ret) {
        ClusterSnapshot *s;
        EtcdClient *c;
        int r;

        assert(ret);

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = cluster_snapshot_load(c, arg_etcd_key_prefix, &s);
        if (r < 0)
                return fleetctl_log_etcd_error(r, what);
        fleetctl_report_problems(s);

        if (ret_client)
                *ret_client = c;
        *ret = s;
        return 0;
}

int fleetctl_expand_args(char *const *args, char ***ret) {
        int r;

        r = cli_expand_args(args, ret);
        if (r == -E2BIG)
                return log_error_errno(r, "Too many units after brace expansion.");
        if (r < 0)
                return log_oom();
        return 0;
}

int fleetctl_resolve_names(char *const *args, char *const *known, char ***ret) {
        const char *missing = NULL;
        int r;

        r = cli_resolve_names(args, known, ret, &missing);
        if (r == -EINVAL)
                return log_error_errno(r, "Invalid unit name \"%s\".", missing);
        if (r == -ENOENT)
                return log_error_errno(r, "No unit in the cluster matches \"%s\".", missing);
        if (r < 0)
                return log_oom();
        return 0;
}

static int run(int argc, char *argv[]) {
        bool help = false, version = false;
        unsigned seen = 0;
        const Verb *v;
        int n, r;

        log_set_target(LOG_TARGET_CONSOLE);
        log_parse_environment();

        r = set_endpoints("http://127.0.0.1:2379");
        if (r < 0)
                return r;
        r = set_prefix(REGISTRY_DEFAULT_PREFIX);
        if (r < 0)
                return r;
        r = parse_environment();
        if (r < 0)
                return r;

        /* Global flags come before the command; the command's own flags (and global ones again)
         * may follow it anywhere, as cobra allows. */
        n = parse_argv(argc, argv, true, &seen, &help, &version);
        if (n < 0)
                return n;
        if (version && n >= argc)
                return verb_version(0, NULL);
        if (n >= argc) {
                print_global_help();
                return 0;
        }

        v = verb_find(argv[n]);
        if (!v)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown command \"%s\"; run 'fleetctl help' for a list.", argv[n]);

        argc -= n;
        argv += n;
        /* compose parses its own options (docker compose's, whose -f and -p mean other things). */
        if (streq(v->name, "compose")) {
                if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                        print_verb_help(v);
                        return 0;
                }
                if (arg_debug)
                        log_set_max_level(LOG_DEBUG);
                return v->dispatch(argc, argv);
        }
        /* ssh passes everything after the target to the remote command untouched. */
        r = parse_argv(argc, argv, streq(v->name, "ssh"), &seen, &help, &version);
        if (r < 0)
                return r;
        if (help) {
                print_verb_help(v);
                return 0;
        }
        if (seen & ~v->flags) {
                unsigned bad = seen & ~v->flags;

                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "unknown flag: %s (not an option of 'fleetctl %s')",
                                       flag_name(bad & -bad), v->name);
        }
        if (arg_debug)
                log_set_max_level(LOG_DEBUG);

        /* argv[0] stays the verb; the operands follow it. */
        argv[r - 1] = argv[0];
        argc -= r - 1;
        argv += r - 1;
        if (argc - 1 < v->min_args || (v->max_args >= 0 && argc - 1 > v->max_args))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: %s. Usage: fleetctl %s %s",
                                       v->name, argc - 1 < v->min_args ? "missing arguments" : "too many arguments",
                                       v->name, v->args);

        return v->dispatch(argc, argv);
}

int main(int argc, char *argv[]) {
        int r;

        r = run(argc, argv);

        etcd_watchdog = sd_event_source_unref(etcd_watchdog);
        etcd_client = etcd_client_free(etcd_client);
        etcd_event = sd_event_unref(etcd_event);
        cli_tunnel_close();
        strv_free(arg_endpoints);
        free(arg_etcd_key_prefix);
        free(arg_ca_file);
        free(arg_cert_file);
        free(arg_key_file);
        free(arg_etcd_username);
        if (arg_etcd_password)
                explicit_bzero(arg_etcd_password, strlen(arg_etcd_password));
        free(arg_etcd_password);
        free(arg_tunnel);
        free(arg_ssh_username);
        free(arg_known_hosts_file);
        free(arg_cluster_key);
        free(arg_fields);
        free(arg_journal_output);
        free(arg_machine);
        free(arg_unit);

        return r < 0 ? EXIT_FAILURE : r;
}
