/* SPDX-License-Identifier: Apache-2.0 */

/* fleetctl compose: docker compose's command line over the cluster.
 *
 *   fleetctl compose [-f FILE]... [-p NAME] [--profile P]... [--env-file F]... [--runtime R]
 *                    up|down|ps|logs|config [OPTIONS] [SERVICE...]
 *
 * The units come from unitgen's library, in this process (the same code as the unitgen program;
 * nothing is written to disk). up converges the cluster onto them (compose-up.c); down destroys
 * every unit of the project, found by name and by the project named in its units' [X-Fleet-Network] section, so it
 * needs no file with -p; ps and logs show the project's units; config prints the merged model. */

#include <getopt.h>

#include "cluster.h"
#include "cli-list.h"
#include "compose-up.h"
#include "fleetctl.h"
#include "log.h"
#include "parse-util.h"
#include "strv.h"
#include "time-util.h"
#include "unit-name.h"
#include "unitgen-convert.h"

typedef enum ComposeCommand {
        COMPOSE_UP,
        COMPOSE_DOWN,
        COMPOSE_PS,
        COMPOSE_LOGS,
        COMPOSE_CONFIG,
        _COMPOSE_COMMAND_MAX,
        _COMPOSE_COMMAND_INVALID = -EINVAL,
} ComposeCommand;

static const char *const compose_command_table[_COMPOSE_COMMAND_MAX] = {
        [COMPOSE_UP] = "up",
        [COMPOSE_DOWN] = "down",
        [COMPOSE_PS] = "ps",
        [COMPOSE_LOGS] = "logs",
        [COMPOSE_CONFIG] = "config",
};

typedef struct ComposeArgs {
        ComposeCommand command;
        char **files;
        char *project;
        char **profiles;
        char **env_files;
        Runtime runtime;
        char **services;                /* operands: only these services */
        ComposeUpOptions up;
        unsigned tail;                  /* logs -n */
        bool follow;                    /* logs -f */
        bool quiet;                     /* config -q, ps -q */
        bool no_deps;                   /* up --no-deps */
} ComposeArgs;

static void compose_args_done(ComposeArgs *a) {
        strv_free(a->files);
        free(a->project);
        strv_free(a->profiles);
        strv_free(a->env_files);
        strv_free(a->services);
}

void fleetctl_compose_help(void) {
        printf("Usage: fleetctl compose [OPTIONS] COMMAND [COMMAND OPTIONS] [SERVICE...]\n\n"
               "Options (docker compose's):\n"
               "  -f, --file=FILE            Compose file (repeatable: merged in order; default compose.yaml ...)\n"
               "  -p, --project-name=NAME    Project name (default: COMPOSE_PROJECT_NAME, \"name:\", or the directory's name)\n"
               "      --profile=PROFILE      Enable the services of a profile (repeatable)\n"
               "      --env-file=FILE        Variables for interpolation instead of .env (repeatable)\n"
               "      --runtime=RUNTIME      docker (default) or podman\n\n"
               "Commands:\n"
               "  up      Converge the cluster onto the file: submit and start new units, replace changed\n"
               "          ones by deploy.update_config, list the units of removed services\n"
               "            -d, --detach           Do not wait for the units to be active\n"
               "                --remove-orphans   Destroy the units of services no longer in the file\n"
               "                --no-deps          With SERVICE: not the services they depend on\n"
               "                --wait-timeout=SEC Give up waiting after SEC seconds (exit status 1)\n"
               "  down    Destroy every unit of the project (-p or COMPOSE_PROJECT_NAME alone is enough)\n"
               "  ps      List the units of the project\n"
               "  logs    Print the journal of every unit of the project, from their machines\n"
               "            -n, --tail=N           Lines per unit (default 10)\n"
               "  config  Print the merged compose model as YAML (-q: only check it)\n");
}

static int add_string(char ***l, const char *v) {
        return strv_extend(l, v) < 0 ? log_oom() : 0;
}

static int parse_seconds_arg(const char *flag, const char *v, uint64_t *ret) {
        char *end = NULL;
        double d;

        errno = 0;
        d = strtod(v, &end);
        if (errno != 0 || end == v || *end || !(d > 0) || d > 86400.0 * 365)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid value '%s' for %s: seconds, more than 0.", v, flag);
        *ret = (uint64_t) (d * (double) USEC_PER_SEC);
        return 0;
}

/* The options before the command: the project's. getopt stops at the command. */
static int parse_project_options(int argc, char *argv[], ComposeArgs *a) {
        enum {
                ARG_PROFILE = 0x100,
                ARG_ENV_FILE,
                ARG_RUNTIME,
        };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'          },
                { "file",         required_argument, NULL, 'f'          },
                { "project-name", required_argument, NULL, 'p'          },
                { "profile",      required_argument, NULL, ARG_PROFILE  },
                { "env-file",     required_argument, NULL, ARG_ENV_FILE },
                { "runtime",      required_argument, NULL, ARG_RUNTIME  },
                {}
        };
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:hf:p:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        fleetctl_compose_help();
                        return 0;
                case 'f':
                        r = add_string(&a->files, optarg);
                        break;
                case 'p':
                        if (isempty(optarg))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose: --project-name must not be empty.");
                        /* Checked here: down, ps and logs use it without a file. */
                        if (!compose_project_name_valid(optarg))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "compose: invalid project name \"%s\" for -p: use lowercase letters, digits, "
                                                       "\"-\" and \"_\", starting with a letter or digit.", optarg);
                        free(a->project);
                        a->project = strdup(optarg);
                        r = a->project ? 0 : log_oom();
                        break;
                case ARG_PROFILE:
                        r = add_string(&a->profiles, optarg);
                        break;
                case ARG_ENV_FILE:
                        r = add_string(&a->env_files, optarg);
                        break;
                case ARG_RUNTIME:
                        a->runtime = runtime_from_string(optarg);
                        if (a->runtime < 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose: unknown runtime \"%s\": use docker or podman.", optarg);
                        r = 0;
                        break;
                case ':':
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose: flag needs an argument: %s", argv[optind - 1]);
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose: unknown flag: %s", argv[optind - 1]);
                }
                if (r < 0)
                        return r;
        }
        if (optind >= argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose: missing command: up, down, ps, logs or config.");

        a->command = _COMPOSE_COMMAND_INVALID;
        for (ComposeCommand i = 0; i < _COMPOSE_COMMAND_MAX; i++)
                if (streq(argv[optind], compose_command_table[i]))
                        a->command = i;
        if (a->command < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose: unknown command \"%s\": use up, down, ps, logs or config.",
                                       argv[optind]);
        return optind + 1;
}

/* The options after the command, each only where docker compose has it. */
static int parse_command_options(int argc, char *argv[], ComposeArgs *a) {
        enum {
                ARG_REMOVE_ORPHANS = 0x100,
                ARG_WAIT_TIMEOUT,
                ARG_NO_BLOCK,
                ARG_NO_LEGEND,
                ARG_NO_DEPS,
        };
        static const struct option up_options[] = {
                { "detach",         no_argument,       NULL, 'd'                },
                { "no-block",       no_argument,       NULL, ARG_NO_BLOCK       },
                { "no-deps",        no_argument,       NULL, ARG_NO_DEPS        },
                { "remove-orphans", no_argument,       NULL, ARG_REMOVE_ORPHANS },
                { "wait-timeout",   required_argument, NULL, ARG_WAIT_TIMEOUT   },
                {}
        }, down_options[] = {
                { "remove-orphans", no_argument,       NULL, ARG_REMOVE_ORPHANS },
                {}
        }, ps_options[] = {
                { "quiet",          no_argument,       NULL, 'q'                },
                { "no-legend",      no_argument,       NULL, ARG_NO_LEGEND      },
                { "full",           no_argument,       NULL, 'l'                },
                {}
        }, logs_options[] = {
                { "tail",           required_argument, NULL, 'n'                },
                { "follow",         no_argument,       NULL, 'f'                },
                {}
        }, config_options[] = {
                { "quiet",          no_argument,       NULL, 'q'                },
                {}
        };
        static const struct {
                const struct option *options;
                const char *shorts;
        } table[_COMPOSE_COMMAND_MAX] = {
                [COMPOSE_UP] = { up_options, "+:d" },
                [COMPOSE_DOWN] = { down_options, "+:" },
                [COMPOSE_PS] = { ps_options, "+:ql" },
                [COMPOSE_LOGS] = { logs_options, "+:n:f" },
                [COMPOSE_CONFIG] = { config_options, "+:q" },
        };
        const char *cmd = compose_command_table[a->command];
        int c, r;

        /* argv[0] is the command: getopt skips it. Operands and options may be mixed, as docker
         * compose allows: parse, take the operand, go on. */
        optind = 0;
        opterr = 0;
        for (;;) {
                c = getopt_long(argc, argv, table[a->command].shorts, table[a->command].options, NULL);
                if (c < 0) {
                        if (optind >= argc)
                                break;
                        r = add_string(&a->services, argv[optind]);
                        if (r < 0)
                                return r;
                        /* Restart after the operand. */
                        argv += optind;
                        argc -= optind;
                        optind = 0;
                        continue;
                }
                switch (c) {
                case 'd':
                case ARG_NO_BLOCK:
                        a->up.detach = true;
                        break;
                case ARG_REMOVE_ORPHANS:
                        a->up.remove_orphans = true;
                        break;
                case ARG_NO_DEPS:
                        a->no_deps = true;
                        break;
                case ARG_WAIT_TIMEOUT:
                        r = parse_seconds_arg("--wait-timeout", optarg, &a->up.timeout_usec);
                        if (r < 0)
                                return r;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_no_legend = true;
                        break;
                case 'l':
                        arg_full = true;
                        break;
                case 'n': {
                        uint64_t u;

                        if (parse_u64(optarg, &u) < 0 || u > 1000000)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose logs: invalid value '%s' for --tail.", optarg);
                        a->tail = (unsigned) u;
                        break;
                }
                case 'f':
                        a->follow = true;
                        break;
                case ':':
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose %s: flag needs an argument: %s", cmd, argv[optind - 1]);
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose %s: unknown flag: %s", cmd, argv[optind - 1]);
                }
        }
        if (a->command == COMPOSE_DOWN && a->services)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "compose down: unexpected argument \"%s\" (down removes the whole project).",
                                       a->services[0]);
        return 0;
}

static const char *const default_names[] = { "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml" };

/* The first of the default names that exists here, or -ENOENT. */
static int default_file_index(void) {
        for (size_t i = 0; i < ELEMENTSOF(default_names); i++)
                if (access(default_names[i], F_OK) >= 0)
                        return (int) i;
        return -ENOENT;
}

/* COMPOSE_FILE and the default names, as unitgen and docker compose look for them. */
static int default_files(ComposeArgs *a) {
        static const char *const overrides[] = { "compose.override.yaml", "compose.override.yml",
                                                 "docker-compose.override.yaml", "docker-compose.override.yml" };
        const char *e = getenv("COMPOSE_FILE");
        int i;

        if (a->files)
                return 0;
        if (!isempty(e)) {
                a->files = strv_split(e, getenv("COMPOSE_PATH_SEPARATOR") ?: ":");
                if (!a->files)
                        return log_oom();
                strv_remove(a->files, "");
                if (strv_length(a->files) == 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "COMPOSE_FILE is set but names no file.");
                return 0;
        }
        i = default_file_index();
        if (i >= 0) {
                if (add_string(&a->files, default_names[i]) < 0 ||
                    (access(overrides[i], F_OK) >= 0 && add_string(&a->files, overrides[i]) < 0))
                        return -ENOMEM;
                return 0;
        }
        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No compose file found: none of compose.yaml, compose.yml, "
                               "docker-compose.yaml, docker-compose.yml in the current directory; use -f.");
}

static void print_diag(const Diag *d) {
        STRV_FOREACH(l, d->lines)
                fprintf(stderr, "%s\n", *l);
}

static void load_options(const ComposeArgs *a, ComposeLoadOptions *ret) {
        *ret = (ComposeLoadOptions) {
                .files = a->files,
                .project_name = a->project,
                .profiles = a->profiles,
                .services = a->services,
                .env_files = a->env_files,
        };
}

/* The units of the project, rendered in this process by unitgen's library. Diagnostics (each
 * "file:line:column: key: message") go to stderr; an error stops here, before etcd is asked. */
static int generate(ComposeArgs *a, ComposeUnits *ret) {
        _cleanup_(diag_done) Diag d = {};
        ComposeLoadOptions o;
        int r;

        r = default_files(a);
        if (r < 0)
                return r;
        load_options(a, &o);
        r = unitgen_convert_objects(&o, a->runtime, NETWORKING_CLUSTER, &ret->units, &ret->n_units, &ret->project,
                                    &ret->objects, &ret->n_objects, &d);
        print_diag(&d);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "The compose file is not valid; nothing was changed.");

        STRV_FOREACH(s, a->services) {
                bool found = false;

                for (size_t i = 0; i < ret->n_units; i++)
                        found = found || streq(ret->units[i].service, *s);
                if (!found)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No such service: %s", *s);
        }
        ret->only_services = a->services;
        return 0;
}

/* up SERVICE...: as docker compose, the services they depend on are brought up too, unless
 * --no-deps. a->services grows (cu->only_services borrows it). */
static int add_dependencies(ComposeArgs *a, ComposeUnits *cu) {
        for (size_t i = 0; a->services && a->services[i]; i++)
                for (size_t j = 0; j < cu->n_units; j++) {
                        if (!streq(cu->units[j].service, a->services[i]))
                                continue;
                        STRV_FOREACH(dep, cu->units[j].depends)
                                if (!strv_contains(a->services, *dep) && strv_extend(&a->services, *dep) < 0)
                                        return log_oom();
                }
        cu->only_services = a->services;
        return 0;
}

/* As docker compose config: every service's depends_on names a service of the model (one that no
 * active profile enables is an error at its entry, as the converter says for up); with SERVICE
 * operands only those services and what they depend on are kept. */
static int config_select(ComposeProject *p, char **names, Diag *d) {
        YamlNode *services = yaml_mapping_get(p->root, "services"), *k, *v _unused_;
        _cleanup_strv_free_ char **keep = NULL;

        STRV_FOREACH(n, names)
                if (!yaml_mapping_get(services, *n))
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No such service: %s", *n);
        keep = strv_copy(names);
        if (!keep)
                return -ENOMEM;
        if (!names)
                YAML_MAPPING_FOREACH(k, v, services)
                        if (strv_extend(&keep, k->value) < 0)
                                return -ENOMEM;
        for (size_t i = 0; keep[i]; i++)
                YAML_MAPPING_FOREACH(k, v, yaml_mapping_get(yaml_mapping_get(services, keep[i]), "depends_on")) {
                        if (!yaml_mapping_get(services, k->value)) {
                                _cleanup_free_ char *key = NULL;

                                if (asprintf(&key, "services.%s.depends_on", keep[i]) < 0)
                                        return -ENOMEM;
                                return diag_error(d, k, key, "service \"%s\" is %s", k->value,
                                                  strv_contains(p->disabled, k->value) ? "not enabled: add its --profile" :
                                                                                        "unknown");
                        }
                        if (!strv_contains(keep, k->value) && strv_extend(&keep, k->value) < 0)
                                return -ENOMEM;
                }
        for (size_t i = 0; i + 1 < services->n_children;)
                if (strv_contains(keep, services->children[i]->value))
                        i += 2;
                else
                        yaml_node_free(yaml_mapping_steal(services, services->children[i]->value));
        return 0;
}

static int compose_config(ComposeArgs *a) {
        _cleanup_(compose_project_freep) ComposeProject *p = NULL;
        _cleanup_(diag_done) Diag d = {};
        ComposeLoadOptions o;
        int r;

        r = default_files(a);
        if (r < 0)
                return r;
        load_options(a, &o);
        r = compose_project_load(&o, &p, &d);
        if (r >= 0)
                r = config_select(p, a->services, &d);
        /* As docker compose config: relative host paths made absolute against the project
         * directory (the units get the same; "~" stays, see docs/fleetctl.md). */
        if (r >= 0)
                r = compose_tree_rebase(p->root, p->dir, NULL);
        print_diag(&d);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return r;
        if (a->quiet)
                return 0;

        /* As docker compose config: the project's name first, then the merged model. */
        printf("name: %s\n", p->name);
        r = yaml_node_dump(p->root, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to write the model: %m");
        return 0;
}

/* The units of the project in the cluster (compose-up.c decides what belongs to it), and with the
 * files, the units they render: a service on the host's network (network_mode: host) has no
 * [X-Fleet-Network] section to name its project. With SERVICE operands, only theirs. */
static int project_units(const ComposeArgs *a, const ClusterSnapshot *s, const ComposeUnits *cu, char ***ret) {
        _cleanup_strv_free_ char **names = NULL, **selected = NULL;
        int r;

        r = compose_project_units(s, cu ? cu->project : a->project, &names);
        if (r < 0)
                return log_oom();
        if (!cu) {
                *ret = TAKE_PTR(names);
                return 0;
        }
        selected = new0(char *, 1);
        if (!selected)
                return log_oom();
        for (size_t i = 0; i < s->n_units; i++) {
                const char *n = s->units[i].unit->name;

                if (((!cu->only_services && strv_contains(names, n)) || compose_units_owns(cu, n)) &&
                    strv_extend(&selected, n) < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(selected);
        return 0;
}

/* The project's name without a file when -p is given, or, as docker compose's down, ps and logs,
 * when no file is named or found and COMPOSE_PROJECT_NAME is set; otherwise the files' units
 * decide (the name is still -p, then COMPOSE_PROJECT_NAME, then "name:", then the directory). */
static int project_for_read(ComposeArgs *a, ComposeUnits *cu, bool *ret_generated) {
        const char *env = getenv("COMPOSE_PROJECT_NAME");
        int r;

        *ret_generated = false;
        if (!a->files && !a->services && isempty(getenv("COMPOSE_FILE"))) {
                if (a->project)
                        return 0;
                if (!isempty(env) && default_file_index() < 0) {
                        if (!compose_project_name_valid(env))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "compose: invalid project name \"%s\" in COMPOSE_PROJECT_NAME: use "
                                                       "lowercase letters, digits, \"-\" and \"_\", starting with a letter or digit.",
                                                       env);
                        a->project = strdup(env);
                        return a->project ? 0 : log_oom();
                }
        }
        r = generate(a, cu);
        if (r < 0)
                return r;
        *ret_generated = true;
        return 0;
}

/* The project's units in the cluster: read with -p alone, or rendered from the files. *ret_client
 * (optional) borrows the client. */
static int read_project(ComposeArgs *a, ComposeUnits *cu, EtcdClient **ret_client, ClusterSnapshot **ret_snapshot,
                        char ***ret_names) {
        bool generated;
        int r;

        r = project_for_read(a, cu, &generated);
        if (r < 0)
                return r;
        r = fleetctl_snapshot("read the cluster state", ret_client, ret_snapshot);
        if (r < 0)
                return r;
        r = project_units(a, *ret_snapshot, generated ? cu : NULL, ret_names);
        if (r < 0)
                return r;
        if (strv_length(*ret_names) == 0)
                log_info("Project %s has no units in the cluster.", generated ? cu->project : a->project);
        return 0;
}

static int compose_down(ComposeArgs *a) {
        _cleanup_(compose_units_done) ComposeUnits cu = {};
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        EtcdClient *c;
        int r;

        r = read_project(a, &cu, &c, &s, &names);
        if (r < 0 || strv_length(names) == 0)
                return r;
        return fleetctl_destroy_units(c, names);
}

static int compose_ps(ComposeArgs *a) {
        _cleanup_(compose_units_done) ComposeUnits cu = {};
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_project(a, &cu, NULL, &s, &names);
        if (r < 0)
                return r;
        if (a->quiet) {
                STRV_FOREACH(n, names)
                        puts(*n);
                return 0;
        }
        if (strv_length(names) == 0 && !arg_no_legend)
                return 0;

        ListOptions o = { .full = arg_full, .legend = !arg_no_legend, .mode = OUTPUT_TABLE, .only = names };
        r = list_units_format(s, &o, &text);
        if (r < 0)
                return log_oom();
        /* An empty "only" lists everything: the project has nothing, so print the legend alone. */
        if (strv_length(names) == 0) {
                char *nl = strchr(text, '\n');

                if (nl)
                        nl[1] = 0;
        }
        fputs(text, stdout);
        return 0;
}

static int compose_logs(ComposeArgs *a) {
        _cleanup_(compose_units_done) ComposeUnits cu = {};
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = read_project(a, &cu, NULL, &s, &names);
        if (r < 0)
                return r;
        /* Templates have no journal of their own. */
        for (size_t i = 0, j = 0; names && (names[j] = names[i]); i++)
                if (unit_name_is_template(names[i]))
                        free(names[i]);
                else
                        j++;
        if (strv_length(names) == 0)
                return -ENOENT;
        return fleetctl_journal_units(s, names, a->tail, a->follow);
}

int verb_compose(int argc, char *argv[]) {
        _cleanup_(compose_args_done) ComposeArgs a = { .runtime = RUNTIME_DOCKER, .tail = 10 };
        _cleanup_(compose_units_done) ComposeUnits cu = {};
        int n, r;

        n = parse_project_options(argc, argv, &a);
        if (n <= 0)
                return n;
        r = parse_command_options(argc - n + 1, argv + n - 1, &a);
        if (r < 0)
                return r;

        switch (a.command) {
        case COMPOSE_CONFIG:
                return compose_config(&a);
        case COMPOSE_DOWN:
                return compose_down(&a);
        case COMPOSE_PS:
                return compose_ps(&a);
        case COMPOSE_LOGS:
                return compose_logs(&a);
        case COMPOSE_UP:
                r = generate(&a, &cu);
                if (r < 0)
                        return r;
                if (!a.no_deps) {
                        r = add_dependencies(&a, &cu);
                        if (r < 0)
                                return r;
                }
                return compose_up(&cu, &a.up);
        default:
                assert_not_reached();
        }
}
