/* SPDX-License-Identifier: Apache-2.0 */

/* submit, load and start: make the units exist, then raise their desired state and wait. */

#include <limits.h>
#include <unistd.h>

#include "cluster.h"
#include "cli-submit.h"
#include "cli-wait.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"
#include "time-util.h"

int verb_submit(int argc, char *argv[]) {
        _cleanup_strv_free_ char **names = NULL, **created = NULL;
        EtcdClient *c;
        int r;

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = cli_submit_units(c, argv + 1, SUBMIT_ONLY, &names, &created);
        if (r < 0)
                return r;

        STRV_FOREACH(n, created)
                printf("Unit %s inactive\n", *n);
        return 0;
}

/* Set the desired state of every unit, then wait for the non-global ones. verb is fleet's word
 * for the messages ("load", "start"). */
int fleetctl_activate(char *const *names, UnitDesiredState desired, const char *verb) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **wait = NULL;
        const char *missing = NULL;
        EtcdClient *c;
        int r;

        r = fleetctl_snapshot("read the units in the cluster", &c, &s);
        if (r < 0)
                return r;

        wait = new0(char *, 1);
        if (!wait)
                return log_oom();

        r = cluster_units_set_desired(c, arg_etcd_key_prefix, names, desired, &missing);
        if (r == -ENOENT)
                return log_error_errno(r, "Unit %s does not exist.", strna(missing));
        if (r < 0)
                return fleetctl_log_etcd_error(r, "set the desired state of units");
        log_debug("Set the desired state of %d unit(s) to %s.", r, unit_desired_state_to_string(desired));

        STRV_FOREACH(n, names) {
                ClusterUnit *u = cluster_snapshot_unit(s, *n);

                if (u && u->global)
                        printf("Triggered global unit %s %s\n", *n, verb);
                else {
                        r = strv_extend(&wait, *n);
                        if (r < 0)
                                return log_oom();
                }
        }
        fflush(stdout);

        if (arg_no_block) {
                STRV_FOREACH(n, wait)
                        printf("Triggered unit %s %s\n", *n, verb);
                return 0;
        }

        return fleetctl_wait_units(c, wait, desired, fleetctl_wait_attempts());
}

int fleetctl_wait_attempts(void) {
        int t;

        if (arg_wait_timeout_usec == 0)
                return arg_block_attempts;
        t = (int) MIN(DIV_ROUND_UP(arg_wait_timeout_usec, CLI_WAIT_INTERVAL_USEC), (uint64_t) INT_MAX);
        return arg_block_attempts > 0 ? MIN(arg_block_attempts, t) : t;
}

int fleetctl_wait_units(EtcdClient *c, char *const *names, UnitDesiredState desired, int attempts) {
        const char *failed = NULL;
        int r;

        r = cli_wait_units(c, arg_etcd_key_prefix, names, desired, attempts, stdout, isatty(STDERR_FILENO), &failed);
        if (r == -ETIME)
                return r;
        if (r == -ENOEXEC) {
                /* Its last lines, where its machine can be reached. */
                if (failed)
                        (void) fleetctl_journal_tail(failed, arg_lines);
                return r;
        }
        if (r < 0)
                return fleetctl_log_etcd_error(r, "wait for the units");
        return 0;
}

static int submit_and_activate(int argc, char *argv[], UnitDesiredState desired, const char *verb) {
        _cleanup_strv_free_ char **names = NULL;
        EtcdClient *c;
        int r;

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = cli_submit_units(c, argv + 1, SUBMIT_ACTIVATE, &names, NULL);
        if (r < 0)
                return r;
        return fleetctl_activate(names, desired, verb);
}

int verb_load(int argc, char *argv[]) {
        return submit_and_activate(argc, argv, UNIT_DESIRED_LOADED, "load");
}

int verb_start(int argc, char *argv[]) {
        return submit_and_activate(argc, argv, UNIT_DESIRED_LAUNCHED, "start");
}
