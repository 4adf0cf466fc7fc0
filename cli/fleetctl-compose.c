/* SPDX-License-Identifier: Apache-2.0 */

/* compose up|down|ps [FILE]: unitgen turns the compose file into units in a private temporary
 * directory; up submits them all (templates included) and starts the rest, down destroys them,
 * ps lists them. unitgen is found next to fleetctl, in the build tree, or on PATH. */

#include <ftw.h>
#include <libgen.h>
#include <sys/mman.h>

#include "cluster.h"
#include "cli-exec.h"
#include "cli-list.h"
#include "cli-submit.h"
#include "fileio.h"
#include "fleetctl.h"
#include "log.h"
#include "objects.h"
#include "strv.h"
#include "unit-name.h"

static int find_unitgen(char **ret) {
        _cleanup_free_ char *self = NULL, *dir = NULL;
        const char *e;
        char *p;

        e = getenv("FLEETCTL_UNITGEN");
        if (!isempty(e)) {
                p = strdup(e);
                goto found;
        }

        self = realpath("/proc/self/exe", NULL);
        if (self) {
                dir = strdup(dirname(self));
                if (!dir)
                        return -ENOMEM;
                /* Installed side by side, or fleetctl in <build>/cli/ and unitgen in <build>/unitgen/. */
                for (size_t i = 0; i < 2; i++) {
                        if (asprintf(&p, i == 0 ? "%s/unitgen" : "%s/../unitgen/unitgen", dir) < 0)
                                return -ENOMEM;
                        if (access(p, X_OK) == 0)
                                goto found;
                        free(p);
                }
        }
        p = strdup("unitgen");
found:
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void tmpdir_removep(char **dir) {
        if (*dir) {
                (void) nftw(*dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
                free(*dir);
        }
}

/* Run unitgen on file into dir; the unit names it printed in *ret. With objects_fd (a memfd) >= 0,
 * unitgen writes the project's secrets and configs there, with their values. */
static int generate(const char *file, const char *dir, int objects_fd, char ***ret) {
        _cleanup_strv_free_ char **cmd = NULL, **names = NULL;
        _cleanup_free_ char *unitgen = NULL, *out = NULL;
        int r;

        r = find_unitgen(&unitgen);
        if (r < 0)
                return log_oom();
        if (strv_extend(&cmd, unitgen) < 0 || strv_extend(&cmd, "-o") < 0 || strv_extend(&cmd, dir) < 0)
                return log_oom();
        if (file && (strv_extend(&cmd, "-f") < 0 || strv_extend(&cmd, file) < 0))
                return log_oom();
        if (arg_project && (strv_extend(&cmd, "-p") < 0 || strv_extend(&cmd, arg_project) < 0))
                return log_oom();
        if (objects_fd >= 0 && strv_extendf(&cmd, "--objects=/proc/self/fd/%d", objects_fd) < 0)
                return log_oom();

        r = cli_run_capture(cmd, &out);
        if (r < 0)
                return log_error_errno(r, "Failed to run %s: %m", unitgen);
        if (r == 127)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Could not run unitgen (%s); set $FLEETCTL_UNITGEN.", unitgen);
        if (r != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "unitgen failed (exit status %d); nothing was changed.", r);

        names = strv_split(out, "\n");
        if (!names)
                return log_oom();
        STRV_FOREACH(n, names)
                if (!unit_name_is_valid(*n))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "unitgen printed an invalid unit name \"%s\".", *n);
        if (strv_length(names) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "unitgen generated no units.");

        *ret = TAKE_PTR(names);
        return 0;
}

/* The project's secrets and configs, before any unit that refers to them. */
static int compose_objects_up(EtcdClient *c, int objects_fd, char **paths) {
        _cleanup_free_ char *manifest = NULL, *msg = NULL, *path = NULL;
        size_t size = 0;
        int r;

        if (asprintf(&path, "/proc/self/fd/%d", objects_fd) < 0)
                return log_oom();
        r = read_full_file(path, &manifest, &size, 256U * 1024U * 1024U);
        if (r < 0)
                return log_error_errno(r, "Failed to read unitgen's objects: %m");
        if (size == 0)
                return 0;       /* no --objects support: an older unitgen */
        r = objects_compose_up(c, arg_etcd_key_prefix, manifest, size, fleetctl_cluster_keyring, paths, &msg);
        explicit_bzero(manifest, size);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && msg)
                return log_error_errno(r, "%s", msg);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "create the project's secrets and configs");
        return 0;
}

static int compose_up(const char *dir, char **names, int objects_fd) {
        _cleanup_strv_free_ char **paths = NULL, **submitted = NULL, **start = NULL;
        EtcdClient *c;
        int r;

        STRV_FOREACH(n, names)
                if (strv_extendf(&paths, "%s/%s", dir, *n) < 0)
                        return log_oom();

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = compose_objects_up(c, objects_fd, paths);
        if (r < 0)
                return r;
        r = cli_submit_units(c, paths, SUBMIT_ONLY, &submitted, NULL);
        if (r < 0)
                return r;

        STRV_FOREACH(n, submitted)
                if (!unit_name_is_template(*n) && strv_extend(&start, *n) < 0)
                        return log_oom();
        if (strv_length(start) == 0)
                return 0;
        return fleetctl_activate(start, UNIT_DESIRED_LAUNCHED, "start");
}

static int compose_down(char **names) {
        EtcdClient *c;
        int r;

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        return fleetctl_destroy_units(c, names);
}

static int compose_ps(char **names) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_free_ char *text = NULL;
        ListOptions o = { .full = arg_full, .legend = !arg_no_legend, .mode = OUTPUT_TABLE, .only = names };
        int r;

        r = fleetctl_snapshot("read the cluster state", NULL, &s);
        if (r < 0)
                return r;
        r = list_unit_files_format(s, &o, &text);
        if (r < 0)
                return log_oom();
        fputs(text, stdout);
        return 0;
}

int verb_compose(int argc, char *argv[]) {
        _cleanup_(tmpdir_removep) char *dir = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int objects_fd = -EBADF;
        const char *action = argv[1], *file = argc > 2 ? argv[2] : NULL;
        int r;

        if (!streq(action, "up") && !streq(action, "down") && !streq(action, "ps"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown compose action \"%s\": use up, down or ps.", action);

        dir = strdup("/tmp/fleetctl-compose.XXXXXX");
        if (!dir)
                return log_oom();
        if (!mkdtemp(dir)) {
                dir = mfree(dir);
                return log_error_errno(errno, "Failed to create a temporary directory: %m");
        }

        if (streq(action, "up")) {
                /* A memfd, inherited by unitgen: secret values never touch a disk on the way. */
                objects_fd = memfd_create("fleetctl-objects", 0);
                if (objects_fd < 0)
                        return log_error_errno(errno, "Failed to create a memfd: %m");
        }
        r = generate(file, dir, objects_fd, &names);
        if (r < 0)
                return r;

        if (streq(action, "up"))
                return compose_up(dir, names, objects_fd);
        if (streq(action, "down"))
                return compose_down(names);
        return compose_ps(names);
}
