/* SPDX-License-Identifier: Apache-2.0 */

#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>

#include "fileio.h"
#include "generator-install.h"
#include "log.h"
#include "strv.h"
#include "unit-diff.h"
#include "unitgen-convert.h"

#define GENERATOR_SOURCE_DIR "/etc/fleet/compose"
/* What a compose project dropped on the machine means: run it, at boot too (docker compose up). */
#define GENERATOR_WANTED_BY "multi-user.target"

static char **arg_files = NULL;
static char **arg_profiles = NULL;
static const char *arg_project = NULL;
static const char *arg_output = ".";
static const char *arg_objects = NULL;
static const char *arg_check = NULL;
static Runtime arg_runtime = RUNTIME_DOCKER;
static Networking arg_networking = NETWORKING_CLUSTER;
static bool arg_strict = false;

static void help(void) {
        printf("%s [OPTIONS...]\n"
               "%s NORMAL-DIR [EARLY-DIR LATE-DIR]\n\n"
               "Convert docker-compose files into systemd units with [X-Fleet] placement.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "  -f --file=FILE         Compose file (repeat to merge; default: compose.yaml,\n"
               "                         compose.yml, docker-compose.yaml, docker-compose.yml)\n"
               "  -p --project-name=NAME Project name (default: \"name:\", or the directory's name)\n"
               "  -o --output=DIR        Write the units into DIR (default: .)\n"
               "     --runtime=RUNTIME   docker (default) or podman\n"
               "     --networking=MODE   cluster (default: one network across the machines, names\n"
               "                         from each machine's DNS) or local (a bridge per compose\n"
               "                         network on each machine; dependencies share a machine)\n"
               "     --profile=PROFILE   Enable services of a profile (repeatable)\n"
               "     --strict            Treat warnings as errors\n"
               "     --check=DIR         Compare with the units in DIR; print a diff, exit 1 if stale\n"
               "     --objects=FILE      Write the secrets and configs the units need, with their\n"
               "                         values, as JSON to FILE (for fleetctl compose up)\n\n"
               "With one or three directory arguments it runs as a systemd generator and converts\n"
               "the compose files in " GENERATOR_SOURCE_DIR " into NORMAL-DIR.\n",
               program_invocation_short_name, program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_RUNTIME,
                ARG_NETWORKING,
                ARG_PROFILE,
                ARG_STRICT,
                ARG_CHECK,
                ARG_OBJECTS,
        };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'          },
                { "version",      no_argument,       NULL, ARG_VERSION  },
                { "file",         required_argument, NULL, 'f'          },
                { "project-name", required_argument, NULL, 'p'          },
                { "output",       required_argument, NULL, 'o'          },
                { "runtime",      required_argument, NULL, ARG_RUNTIME  },
                { "networking",   required_argument, NULL, ARG_NETWORKING },
                { "profile",      required_argument, NULL, ARG_PROFILE  },
                { "strict",       no_argument,       NULL, ARG_STRICT   },
                { "check",        required_argument, NULL, ARG_CHECK    },
                { "objects",      required_argument, NULL, ARG_OBJECTS  },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hf:p:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts("unitgen " FLEET_VERSION);
                        return 0;
                case 'f':
                        r = strv_extend(&arg_files, optarg);
                        if (r < 0)
                                return log_oom();
                        break;
                case 'p':
                        arg_project = optarg;
                        break;
                case 'o':
                        arg_output = optarg;
                        break;
                case ARG_RUNTIME:
                        arg_runtime = runtime_from_string(optarg);
                        if (arg_runtime < 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown runtime \"%s\": use docker or podman.", optarg);
                        break;
                case ARG_NETWORKING:
                        arg_networking = networking_from_string(optarg);
                        if (arg_networking < 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown networking \"%s\": use cluster or local.", optarg);
                        break;
                case ARG_PROFILE:
                        r = strv_extend(&arg_profiles, optarg);
                        if (r < 0)
                                return log_oom();
                        break;
                case ARG_STRICT:
                        arg_strict = true;
                        break;
                case ARG_CHECK:
                        arg_check = optarg;
                        break;
                case ARG_OBJECTS:
                        arg_objects = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        assert_not_reached();
                }

        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unexpected argument \"%s\" (compose files go after -f).", argv[optind]);
        return 1;
}

static int find_default_files(void) {
        static const char *const names[] = { "compose.yaml", "compose.yml", "docker-compose.yaml",
                                             "docker-compose.yml" };
        static const char *const overrides[] = { "compose.override.yaml", "compose.override.yml",
                                                 "docker-compose.override.yaml", "docker-compose.override.yml" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                if (access(names[i], F_OK) < 0)
                        continue;
                r = strv_extend(&arg_files, names[i]);
                if (r < 0)
                        return log_oom();
                /* As compose does: the override file next to the one found is merged over it. */
                if (access(overrides[i], F_OK) >= 0) {
                        r = strv_extend(&arg_files, overrides[i]);
                        if (r < 0)
                                return log_oom();
                }
                return 0;
        }
        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No compose file found: none of compose.yaml, compose.yml, "
                               "docker-compose.yaml, docker-compose.yml in the current directory; use -f.");
}

/* COMPOSE_FILE, as compose reads it: files separated by COMPOSE_PATH_SEPARATOR (default ':'). A
 * file it names that does not exist is an error, not a reason to fall back to compose.yaml. */
static int compose_file_from_env(void) {
        const char *sep = getenv("COMPOSE_PATH_SEPARATOR") ?: ":";
        _cleanup_strv_free_ char **files = NULL;

        files = strv_split(getenv("COMPOSE_FILE"), sep);
        if (!files)
                return log_oom();
        STRV_FOREACH(f, files) {
                if (isempty(*f))
                        continue;
                if (access(*f, F_OK) < 0)
                        return log_error_errno(errno, "COMPOSE_FILE names %s: %m", *f);
                if (strv_extend(&arg_files, *f) < 0)
                        return log_oom();
        }
        if (!arg_files)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "COMPOSE_FILE is set but names no file.");
        return 0;
}

static void print_diag(const Diag *d, bool generator) {
        STRV_FOREACH(l, d->lines) {
                if (generator)
                        log_full(strstr(*l, ": warning: ") ? LOG_WARNING : LOG_ERR, "%s", *l);
                else
                        fprintf(stderr, "%s\n", *l);
        }
}

/* Whether the file at path is a unit unitgen wrote for project (its header says so). */
static bool generated_for_project(const char *path, const char *project) {
        _cleanup_free_ char *text = NULL;

        return read_full_file(path, &text, NULL, 0) >= 0 && unit_render_is_for_project(text, project);
}

/* Units this project's earlier runs wrote into dir that the new model no longer has: removed, and
 * said so (a service removed from the compose file must not keep running from a stale unit). */
static int remove_stale_units(const char *dir, const char *project, RenderedUnit *units, size_t n) {
        _cleanup_(closedirp) DIR *dp = NULL;
        struct dirent *de;

        dp = opendir(dir);
        if (!dp)
                return log_error_errno(errno, "Failed to open %s: %m", dir);
        while ((de = readdir(dp))) {
                _cleanup_free_ char *path = NULL;
                bool known = false;

                if (!endswith(de->d_name, ".service"))
                        continue;
                for (size_t i = 0; i < n; i++)
                        known = known || streq(units[i].name, de->d_name);
                if (known)
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return log_oom();
                if (!generated_for_project(path, project))
                        continue;
                if (unlink(path) < 0)
                        return log_error_errno(errno, "Failed to remove the stale unit %s: %m", path);
                fprintf(stderr, "%s: removed %s: project \"%s\" no longer has it\n",
                        program_invocation_short_name, path, project);
        }
        return 0;
}

/* Write every unit into dir, all or nothing: on a failure the files this run replaced get their
 * previous contents back and the ones it created are removed. */
static int write_units(const char *dir, RenderedUnit *units, size_t n) {
        _cleanup_strv_free_ char **paths = NULL;
        char **previous;
        size_t done = 0;
        int r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", dir);

        previous = new0(char *, n + 1);
        if (!previous)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                r = strv_extendf(&paths, "%s/%s", dir, units[i].name);
                if (r < 0)
                        goto finish;
                r = read_full_file(paths[i], &previous[i], NULL, 0);
                if (r < 0 && r != -ENOENT) {
                        log_error_errno(r, "Failed to read %s: %m", paths[i]);
                        goto finish;
                }
        }

        for (; done < n; done++) {
                r = write_file_atomic(paths[done], units[done].text, strlen(units[done].text), 0644, false);
                if (r < 0) {
                        log_error_errno(r, "Failed to write %s: %m", paths[done]);
                        break;
                }
        }
        if (done < n)
                /* No partial output, and nothing lost: take back exactly what this run did. */
                for (size_t i = 0; i < done; i++) {
                        if (previous[i])
                                (void) write_file_atomic(paths[i], previous[i], strlen(previous[i]), 0644, false);
                        else
                                (void) unlink(paths[i]);
                }
finish:
        for (size_t i = 0; i < n; i++)
                free(previous[i]);
        free(previous);
        return r == -ENOMEM ? log_oom() : r;
}

static int check_units(const char *dir, RenderedUnit *units, size_t n) {
        _cleanup_(closedirp) DIR *dp = NULL;
        bool stale = false;
        struct dirent *de;
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *old = NULL, *label = NULL;

                if (asprintf(&path, "%s/%s", dir, units[i].name) < 0 ||
                    asprintf(&label, "generated/%s", units[i].name) < 0)
                        return log_oom();
                r = read_full_file(path, &old, NULL, 0);
                if (r == -ENOENT) {
                        printf("missing: %s\n", path);
                        stale = true;
                        continue;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to read %s: %m", path);
                r = unit_diff(stdout, path, old, label, units[i].text);
                if (r < 0)
                        return log_oom();
                stale = stale || r > 0;
        }

        /* A unit we once generated but no longer would. */
        dp = opendir(dir);
        if (!dp) {
                if (errno == ENOENT)
                        return 1;       /* every unit was reported missing above */
                return log_error_errno(errno, "Failed to open %s: %m", dir);
        }
        while ((de = readdir(dp))) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                bool known = false;

                if (!endswith(de->d_name, ".service"))
                        continue;
                for (size_t i = 0; i < n; i++)
                        known = known || streq(units[i].name, de->d_name);
                if (known)
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return log_oom();
                if (read_full_file(path, &text, NULL, 0) < 0 || !startswith(text, UNIT_RENDER_HEADER))
                        continue;
                printf("stale: %s (no longer generated)\n", path);
                stale = true;
        }
        return stale ? 1 : 0;
}

/* The units refer to cluster secrets and configs by name: say which must exist and how to make
 * them (fleetctl compose up creates them itself). On stderr: stdout lists the units. */
static void print_objects(const ComposeObject *objects, size_t n) {
        if (n == 0)
                return;
        fprintf(stderr, "%s: the units need these objects in the cluster (fleetctl compose up creates them):\n",
                program_invocation_short_name);
        for (size_t i = 0; i < n; i++) {
                const char *k = cluster_object_kind_to_string(objects[i].kind), *name = objects[i].name, *src;

                if ((src = startswith(objects[i].source, "file:")))
                        fprintf(stderr, "  fleetctl %s create %s %s\n", k, name, src);
                else if ((src = startswith(objects[i].source, "environment:")))
                        fprintf(stderr, "  printf %%s \"$%s\" | fleetctl %s create %s -\n", src, k, name);
                else if (streq(objects[i].source, "content"))
                        fprintf(stderr, "  fleetctl %s create %s -   (the \"content\" of the compose file)\n", k, name);
                else
                        fprintf(stderr, "  %s %s: external, must exist already (fleetctl %s create %s FILE)\n", k, name,
                                k, name);
        }
}

/* --objects=FILE (fleetctl compose up): the objects with their values, as JSON. fleetctl passes a
 * memfd's /proc/self/fd/N, so that no secret value is written to a disk on the way. */
static int write_objects(const char *path, const ComposeObject *objects, size_t n) {
        _cleanup_free_ char *json = NULL, *msg = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        r = compose_objects_manifest(objects, n, &json, &msg);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", msg);
        f = fopen(path, "we");
        if (!f)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        fputs(json, f);
        r = fflush_and_check(f);
        explicit_bzero(json, strlen(json));
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        return 0;
}

static int run_cli(void) {
        _cleanup_free_ char *project = NULL;
        ComposeLoadOptions o = {};
        ComposeObject *objects = NULL;
        size_t n_objects = 0;
        RenderedUnit *units = NULL;
        Diag d = { .strict = arg_strict };
        size_t n = 0;
        int r;

        if (!arg_files && getenv("COMPOSE_FILE")) {
                r = compose_file_from_env();
                if (r < 0)
                        return r;
        }
        if (!arg_files) {
                r = find_default_files();
                if (r < 0)
                        return r;
        }
        o = (ComposeLoadOptions) {
                .files = arg_files,
                .project_name = arg_project,
                .profiles = arg_profiles,
        };

        r = unitgen_convert_objects(&o, arg_runtime, arg_networking, &units, &n, &project, &objects, &n_objects, &d);
        print_diag(&d, false);
        diag_done(&d);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return r;

        if (arg_check) {
                compose_objects_free(objects, n_objects);
                r = check_units(arg_check, units, n);
                unit_render_free(units, n);
                if (r > 0) {
                        fprintf(stderr, "%s: the units in %s do not match the compose files; regenerate them.\n",
                                program_invocation_short_name, arg_check);
                        return -ESTALE;
                }
                return r;
        }

        /* The objects first: a value that cannot be read means nothing is written. */
        r = arg_objects ? write_objects(arg_objects, objects, n_objects) : 0;
        if (r >= 0)
                r = write_units(arg_output, units, n);
        if (r >= 0)
                r = remove_stale_units(arg_output, project, units, n);
        if (r >= 0 && !arg_objects)
                print_objects(objects, n_objects);
        if (r >= 0)
                for (size_t i = 0; i < n; i++)
                        STRV_FOREACH(inst, units[i].instances)
                                puts(*inst);
        unit_render_free(units, n);
        compose_objects_free(objects, n_objects);
        return r;
}

/* One project per .yaml or .yml file (named after the file) or per directory holding a compose
 * file (named after the directory). */
static int generator_project(const char *src, const char *entry, const char *dest, char ***written) {
        _cleanup_free_ char *path = NULL, *dir = NULL, *name = NULL;
        _cleanup_strv_free_ char **files = NULL;
        ComposeLoadOptions o = {};
        RenderedUnit *units = NULL;
        Diag d = {};
        struct stat st;
        size_t n = 0;
        int r;

        if (asprintf(&path, "%s/%s", src, entry) < 0)
                return log_oom();
        if (stat(path, &st) < 0)
                return 0;

        if (S_ISDIR(st.st_mode)) {
                static const char *const names[] = { "compose.yaml", "compose.yml", "docker-compose.yaml",
                                                     "docker-compose.yml" };

                for (size_t i = 0; i < ELEMENTSOF(names) && !files; i++) {
                        _cleanup_free_ char *f = NULL;

                        if (asprintf(&f, "%s/%s", path, names[i]) < 0)
                                return log_oom();
                        if (access(f, F_OK) >= 0 && strv_consume(&files, TAKE_PTR(f)) < 0)
                                return log_oom();
                }
                if (!files)
                        return 0;
                dir = strdup(path);
                name = strdup(entry);
        } else if (S_ISREG(st.st_mode) && (endswith(entry, ".yaml") || endswith(entry, ".yml"))) {
                if (strv_extend(&files, path) < 0)
                        return log_oom();
                dir = strdup(src);
                name = strndup(entry, (size_t) (strrchr(entry, '.') - entry));
        } else
                return 0;
        if (!dir || !name)
                return log_oom();

        o = (ComposeLoadOptions) { .files = files, .project_dir = dir, .project_name = name, .project_name_from = path,
                                   .wanted_by = GENERATOR_WANTED_BY };
        r = unitgen_convert(&o, RUNTIME_DOCKER, NETWORKING_LOCAL, &units, &n, NULL, &d);
        print_diag(&d, true);
        diag_done(&d);
        if (r < 0)
                return log_error_errno(r, "Skipping %s: it could not be converted.", path);
        /* Project "a" with service "b-c" and project "a-b" with service "c" both make
         * a-b-c.service: the later project is refused rather than silently winning. */
        for (size_t i = 0; i < n; i++)
                if (strv_contains(*written, units[i].name)) {
                        log_error("Skipping %s: its unit %s has the name of a unit of a project converted before it.",
                                  path, units[i].name);
                        unit_render_free(units, n);
                        return -EEXIST;
                }
        r = write_units(dest, units, n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = generator_install_links(dest, units + i);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (strv_extend(written, units[i].name) < 0)
                        r = log_oom();
        unit_render_free(units, n);
        return r;
}

static int run_generator(const char *dest) {
        const char *src = getenv("UNITGEN_COMPOSE_DIR") ?: GENERATOR_SOURCE_DIR;
        _cleanup_strv_free_ char **written = NULL;
        struct dirent **entries = NULL;
        int n, r = 0;

        log_set_target(LOG_TARGET_KMSG);

        n = scandir(src, &entries, NULL, alphasort);
        if (n < 0) {
                if (errno == ENOENT)
                        return 0;
                return log_error_errno(errno, "Failed to read %s: %m", src);
        }
        for (int i = 0; i < n; i++) {
                if (entries[i]->d_name[0] != '.') {
                        int k = generator_project(src, entries[i]->d_name, dest, &written);
                        if (k < 0 && r == 0)
                                r = k;
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

static bool is_generator_call(int argc, char *argv[]) {
        if (argc != 2 && argc != 4)
                return false;
        for (int i = 1; i < argc; i++)
                if (argv[i][0] != '/')
                        return false;
        return true;
}

int main(int argc, char *argv[]) {
        int r;

        log_parse_environment();

        if (is_generator_call(argc, argv))
                return run_generator(argv[1]) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = parse_argv(argc, argv);
        if (r > 0)
                r = run_cli();
        strv_free(arg_files);
        strv_free(arg_profiles);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
