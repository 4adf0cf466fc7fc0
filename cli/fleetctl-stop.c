/* SPDX-License-Identifier: Apache-2.0 */

/* stop, unload, destroy and restart: act on units the cluster already has. */

#include "cluster.h"
#include "cli-exec.h"
#include "cli-units.h"
#include "cli-wait.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"

int fleetctl_existing_units(char *const *args, char ***ret) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **expanded = NULL, **known = NULL, **names = NULL;
        int r;

        r = fleetctl_expand_args(args, &expanded);
        if (r < 0)
                return r;
        r = fleetctl_snapshot("read the units in the cluster", NULL, &s);
        if (r < 0)
                return r;

        for (size_t i = 0; i < s->n_units; i++) {
                r = strv_extend(&known, s->units[i].unit->name);
                if (r < 0)
                        return log_oom();
        }

        r = fleetctl_resolve_names(expanded, known, &names);
        if (r < 0)
                return r;

        STRV_FOREACH(n, names)
                if (!cluster_snapshot_unit(s, *n))
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Unit %s does not exist.", *n);

        *ret = TAKE_PTR(names);
        return 0;
}

static int print_stopped(char *const *names) {
        _cleanup_free_ char *j = strv_join(names, " ");

        if (!j)
                return log_oom();
        /* fleet prints Go's %v of a []string: "[a b c]". */
        fprintf(stderr, "Successfully stopped units [%s].\n", j);
        return 0;
}

static bool any_glob(char *const *args) {
        STRV_FOREACH(a, args)
                if (cli_arg_is_glob(*a))
                        return true;
        return false;
}

int verb_stop(int argc, char *argv[]) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = fleetctl_existing_units(argv + 1, &names);
        if (r < 0)
                return r;

        /* Stopping means "loaded": a unit that is not even loaded must not get loaded by it. */
        r = fleetctl_snapshot("read the units in the cluster", NULL, &s);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                ClusterUnit *u = cluster_snapshot_unit(s, *n);

                if (u && !u->global && u->unit->desired == UNIT_DESIRED_INACTIVE)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unable to stop unit %s in state inactive", *n);
        }
        r = fleetctl_activate(names, UNIT_DESIRED_LOADED, "stop");
        if (r < 0)
                return r;
        return print_stopped(names);
}

int verb_unload(int argc, char *argv[]) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = fleetctl_existing_units(argv + 1, &names);
        if (r < 0)
                return r;
        return fleetctl_activate(names, UNIT_DESIRED_INACTIVE, "unload");
}

/* fleet ran "systemctl restart" on every machine of a launched global unit, as its desired state
 * stays "launched": here when it is this machine, over ssh otherwise, one after the other. Each
 * machine is reported. Returns 0 if it succeeded everywhere, else -EIO (after logging). */
static int restart_global_unit(const ClusterSnapshot *s, const char *name) {
        _cleanup_strv_free_ char **cmd = NULL;
        unsigned n = 0, failed = 0;
        int r;

        if ((arg_sudo && strv_extend(&cmd, "sudo") < 0) || strv_extend(&cmd, "systemctl") < 0 ||
            strv_extend(&cmd, "restart") < 0 || strv_extend(&cmd, name) < 0)
                return log_oom();

        for (size_t i = 0; i < s->n_states; i++) {
                _cleanup_free_ char *legend = NULL;
                RegistryMachine *m;

                if (!streq(s->states[i]->unit, name))
                        continue;
                m = cluster_snapshot_machine(s, s->states[i]->machine_id);
                if (!m)
                        continue;
                n++;
                r = cluster_machine_legend(m->id, m, false, true, &legend);
                if (r < 0)
                        return log_oom();
                r = cli_run_on_machine(m, cmd);
                if (r == 0) {
                        printf("Restarted global unit %s on %s\n", name, legend);
                        fflush(stdout);
                        continue;
                }
                failed++;
                if (r < 0)
                        log_error_errno(r, "Failed to restart global unit %s on %s: %m", name, legend);
                else
                        log_error("Failed to restart global unit %s on %s: exit status %d", name, legend, r);
        }
        if (n == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Global unit %s does not appear to be running on any "
                                       "machine.", name);
        return failed > 0 ? -EIO : 0;
}

int verb_restart(int argc, char *argv[]) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **names = NULL, **cycle = NULL;
        int r, ret = 0;

        r = fleetctl_existing_units(argv + 1, &names);
        if (r < 0)
                return r;
        r = fleetctl_snapshot("read the units in the cluster", NULL, &s);
        if (r < 0)
                return r;

        /* Other units are restarted through their desired state: loaded, then launched. */
        STRV_FOREACH(n, names) {
                ClusterUnit *u = cluster_snapshot_unit(s, *n);

                if (u && u->global && u->unit->desired == UNIT_DESIRED_LAUNCHED) {
                        r = restart_global_unit(s, *n);
                        if (r < 0)
                                ret = r;
                } else if (strv_extend(&cycle, *n) < 0)
                        return log_oom();
        }
        if (strv_length(cycle) == 0)
                return ret;

        r = fleetctl_activate(cycle, UNIT_DESIRED_LOADED, "stop");
        if (r < 0)
                return r;
        r = fleetctl_activate(cycle, UNIT_DESIRED_LAUNCHED, "start");
        return r < 0 ? r : ret;
}

int verb_destroy(int argc, char *argv[]) {
        _cleanup_strv_free_ char **expanded = NULL, **names = NULL;
        EtcdClient *c;
        int r;

        r = fleetctl_expand_args(argv + 1, &expanded);
        if (r < 0)
                return r;

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;

        /* Globs select from the cluster; a unit that does not exist is skipped, as fleet does. */
        if (any_glob(expanded)) {
                r = fleetctl_existing_units(expanded, &names);
                if (r < 0)
                        return r;
        } else {
                r = fleetctl_resolve_names(expanded, NULL, &names);
                if (r < 0)
                        return r;
        }

        r = fleetctl_destroy_units(c, names);
        if (r < 0 || arg_no_block)
                return r;
        /* As fleet: wait until no machine is assigned the units any more. */
        r = cli_wait_units(c, arg_etcd_key_prefix, names, UNIT_DESIRED_INACTIVE, fleetctl_wait_attempts(), NULL,
                           isatty(STDERR_FILENO), NULL);
        if (r < 0 && r != -ETIME)
                return fleetctl_log_etcd_error(r, "wait for the units to go");
        return r;
}

int fleetctl_destroy_units(EtcdClient *c, char *const *names) {
        _cleanup_strv_free_ char **deleted = NULL;
        int r;

        r = cluster_units_destroy(c, arg_etcd_key_prefix, names, &deleted);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "destroy units");
        STRV_FOREACH(n, deleted)
                printf("Destroyed %s\n", *n);
        return 0;
}
