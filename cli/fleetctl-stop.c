/* SPDX-License-Identifier: Apache-2.0 */

/* stop, unload, destroy and restart: act on units the cluster already has. */

#include "cli-cluster.h"
#include "cli-units.h"
#include "cli-wait.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"

int fleetctl_existing_units(char *const *args, char ***ret) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **expanded = NULL, **known = NULL, **names = NULL;
        const char *missing = NULL;
        EtcdClient *c;
        int r;

        r = cli_expand_args(args, &expanded);
        if (r == -E2BIG)
                return log_error_errno(r, "Too many units after brace expansion.");
        if (r < 0)
                return log_oom();

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = cluster_snapshot_load(c, arg_etcd_key_prefix, &s);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "read the units in the cluster");

        for (size_t i = 0; i < s->n_units; i++) {
                r = strv_extend(&known, s->units[i].unit->name);
                if (r < 0)
                        return log_oom();
        }

        r = cli_resolve_names(expanded, known, &names, &missing);
        if (r == -EINVAL)
                return log_error_errno(r, "Invalid unit name \"%s\".", missing);
        if (r == -ENOENT)
                return log_error_errno(r, "No unit in the cluster matches \"%s\".", missing);
        if (r < 0)
                return log_oom();

        STRV_FOREACH(n, names)
                if (!cluster_snapshot_unit(s, *n))
                        return log_error_errno(ENOENT, "Unit %s does not exist.", *n);

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
        EtcdClient *c;
        int r;

        r = fleetctl_existing_units(argv + 1, &names);
        if (r < 0)
                return r;

        /* Stopping means "loaded": a unit that is not even loaded must not get loaded by it. */
        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = cluster_snapshot_load(c, arg_etcd_key_prefix, &s);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "read the units in the cluster");
        STRV_FOREACH(n, names) {
                ClusterUnit *u = cluster_snapshot_unit(s, *n);

                if (u && !u->global && u->unit->desired == UNIT_DESIRED_INACTIVE)
                        return log_error_errno(EINVAL, "Unable to stop unit %s in state inactive", *n);
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

int verb_restart(int argc, char *argv[]) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = fleetctl_existing_units(argv + 1, &names);
        if (r < 0)
                return r;
        r = fleetctl_activate(names, UNIT_DESIRED_LOADED, "stop");
        if (r < 0)
                return r;
        return fleetctl_activate(names, UNIT_DESIRED_LAUNCHED, "start");
}

int verb_destroy(int argc, char *argv[]) {
        _cleanup_strv_free_ char **expanded = NULL, **names = NULL, **deleted = NULL;
        EtcdClient *c;
        int r;

        r = cli_expand_args(argv + 1, &expanded);
        if (r == -E2BIG)
                return log_error_errno(r, "Too many units after brace expansion.");
        if (r < 0)
                return log_oom();

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;

        /* Globs select from the cluster; a unit that does not exist is skipped, as fleet does. */
        if (any_glob(expanded)) {
                r = fleetctl_existing_units(expanded, &names);
                if (r < 0)
                        return r;
        } else {
                const char *missing = NULL;

                r = cli_resolve_names(expanded, NULL, &names, &missing);
                if (r == -EINVAL)
                        return log_error_errno(r, "Invalid unit name \"%s\".", missing);
                if (r < 0)
                        return log_oom();
        }

        r = cluster_units_destroy(c, arg_etcd_key_prefix, names, &deleted);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "destroy units");
        STRV_FOREACH(n, deleted)
                printf("Destroyed %s\n", *n);
        return 0;
}
