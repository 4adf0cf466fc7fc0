/* SPDX-License-Identifier: Apache-2.0 */

/* status, journal and ssh: commands run on the machine of a unit, or on a machine. */

#include "cluster.h"
#include "cli-exec.h"
#include "cli-units.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"
#include "utf8.h"

/* The machine of a placed unit. Returns 0 and borrows from s, or logs and returns an error. */
static int unit_machine(const ClusterSnapshot *s, const char *arg, RegistryMachine **ret) {
        _cleanup_free_ char *name = NULL;
        const char *reason = NULL;
        ClusterAssignment *a;
        RegistryUnitState *st;
        RegistryMachine *m;
        ClusterUnit *u;
        int r;

        r = cli_unit_name_from_arg(arg, &name, &reason);
        if (r == -EINVAL)
                return log_error_errno(r, "Invalid unit name \"%s\": %s", arg, reason);
        if (r < 0)
                return log_oom();

        u = cluster_snapshot_unit(s, name);
        if (!u)
                return fleetctl_log_missing_unit(s, name);
        a = cluster_snapshot_assignment(s, name);
        if (!a) {
                _cleanup_free_ char *why = NULL;

                if (cluster_snapshot_reason(s, name)) {
                        why = utf8_escape_non_printable(cluster_snapshot_reason(s, name));
                        if (!why)
                                return log_oom();
                }
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Unit %s does not appear to be running%s%s", name,
                                       why ? ": " : ".", strempty(why));
        }
        m = cluster_snapshot_machine(s, a->machine_id);
        if (!m)
                return log_error_errno(SYNTHETIC_ERRNO(EHOSTDOWN), "Machine %s of unit %s is not in the cluster.", a->machine_id, name);
        st = cluster_snapshot_state(s, name, a->machine_id);
        if (registry_unit_state_is_refused(st)) {
                /* systemctl there would show the machine's own unit of that name, not ours. */
                _cleanup_free_ char *why = utf8_escape_non_printable(st->reason);

                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Unit %s was refused by machine %.8s...: %s", name,
                                       a->machine_id, strna(why));
        }

        *ret = m;
        return 0;
}

/* A global unit runs on many machines: the command runs on this machine if it has the unit, else
 * on every machine that reports it, one after the other. Returns the last non-zero status. */
static int run_for_global_unit(const ClusterSnapshot *s, const char *name, char **command) {
        _cleanup_free_ char *local = NULL;
        bool any = false;
        int r, ret = 0;

        if (cli_local_machine_id(&local) >= 0 && cluster_snapshot_state(s, name, local) &&
            cluster_snapshot_machine(s, local))
                return cli_run_on_machine(cluster_snapshot_machine(s, local), command);

        for (size_t i = 0; i < s->n_states; i++) {
                RegistryMachine *m;

                if (!streq(s->states[i]->unit, name))
                        continue;
                m = cluster_snapshot_machine(s, s->states[i]->machine_id);
                if (!m)
                        continue;
                any = true;
                r = cli_run_on_machine(m, command);
                if (r < 0)
                        return r;
                if (r > 0)
                        ret = r;
        }
        if (!any)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Global unit %s does not appear to be running on any machine.", name);
        return ret;
}

static int run_for_unit(const ClusterSnapshot *s, const char *arg, char **command) {
        RegistryMachine *m;
        ClusterUnit *u;
        int r;

        u = cluster_snapshot_unit(s, arg);
        if (u && u->global)
                return run_for_global_unit(s, arg, command);

        r = unit_machine(s, arg, &m);
        if (r < 0)
                return r;
        return cli_run_on_machine(m, command);
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        int r, ret = 0;

        r = fleetctl_snapshot("read the cluster state", NULL, &s);
        if (r < 0)
                return r;

        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *name = NULL;

                r = cli_unit_name_from_arg(argv[i], &name, NULL);
                if (r < 0)
                        return log_error_errno(r, "Invalid unit name \"%s\".", argv[i]);
                if (i > 1)
                        putchar('\n');
                r = run_for_unit(s, name, STRV_MAKE("systemctl", "status", "-l", name));
                if (r < 0)
                        return r;
                if (r > 0)
                        ret = r;
        }
        return ret;
}

int verb_journal(int argc, char *argv[]) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **cmd = NULL;
        _cleanup_free_ char *name = NULL;
        ClusterUnit *u;
        int r;

        r = cli_unit_name_from_arg(argv[1], &name, NULL);
        if (r < 0)
                return log_error_errno(r, "Invalid unit name \"%s\".", argv[1]);
        r = fleetctl_snapshot("read the cluster state", NULL, &s);
        if (r < 0)
                return r;
        u = cluster_snapshot_unit(s, name);
        if (u && u->global)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unable to get journal for global unit %s. Check on a machine "
                                       "directly using 'fleetctl ssh' to check the journal.", name);

        if (arg_sudo && (r = strv_extend(&cmd, "sudo")) < 0)
                return log_oom();
        if (strv_extend(&cmd, "journalctl") < 0 || strv_extend(&cmd, "--unit") < 0 ||
            strv_extend(&cmd, name) < 0 || strv_extend(&cmd, "--no-pager") < 0 ||
            strv_extendf(&cmd, "-n%u", arg_lines) < 0 ||
            (arg_follow && strv_extend(&cmd, "-f") < 0) ||
            strv_extendf(&cmd, "--output=%s", arg_journal_output ?: "short") < 0)
                return log_oom();

        return run_for_unit(s, name, cmd);
}

/* A machine by full id or unique prefix. */
static int find_machine(const ClusterSnapshot *s, const char *id, RegistryMachine **ret) {
        int r = cluster_snapshot_find_machine(s, id, ret);

        if (r == -ENOTUNIQ)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Machine id prefix %s is ambiguous.", id);
        return r;
}

int verb_ssh(int argc, char *argv[]) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        RegistryMachine *m = NULL;
        char **command;
        int r;

        r = fleetctl_snapshot("read the cluster state", NULL, &s);
        if (r < 0)
                return r;

        command = argv + 1;
        if (arg_machine) {
                r = find_machine(s, arg_machine, &m);
                if (r == -ENOENT)
                        return log_error_errno(r, "Machine %s not found.", arg_machine);
        } else if (arg_unit)
                r = unit_machine(s, arg_unit, &m);
        else if (argc >= 2) {
                command = argv + 2;
                r = find_machine(s, argv[1], &m);
                if (r == -ENOENT)
                        r = unit_machine(s, argv[1], &m);
        } else
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Provide a machine or unit to connect to.");
        if (r < 0)
                return r;

        return cli_run_on_machine(m, strv_length(command) > 0 ? command : NULL);
}

int fleetctl_journal_tail(const char *name, unsigned lines) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        int r;

        r = fleetctl_snapshot("read the cluster state", NULL, &s);
        if (r < 0)
                return r;
        fprintf(stderr, "Last journal lines of %s:\n", name);
        r = fleetctl_journal_units(s, STRV_MAKE(name), lines, false);
        if (r != 0)
                fprintf(stderr, "(the journal of %s could not be read from its machine)\n", name);
        return r < 0 ? r : 0;
}

int fleetctl_journal_units(const ClusterSnapshot *s, char *const *names, unsigned lines, bool follow) {
        _cleanup_strv_free_ char **machines = NULL;
        int r, ret = 0;

        /* The machines, in the order their units come. */
        STRV_FOREACH(n, names) {
                ClusterAssignment *a = cluster_snapshot_assignment(s, *n);

                if (!a) {
                        log_warning("Unit %s is not placed on any machine: no journal.", *n);
                        continue;
                }
                if (!strv_contains(machines, a->machine_id) && strv_extend(&machines, a->machine_id) < 0)
                        return log_oom();
        }
        if (follow && strv_length(machines) > 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "The units run on %zu machines; -f follows one machine's "
                                       "journal only: name a service.", strv_length(machines));

        STRV_FOREACH(mid, machines) {
                _cleanup_strv_free_ char **cmd = NULL;
                RegistryMachine *m = cluster_snapshot_machine(s, *mid);

                if (!m) {
                        log_warning("Machine %s is not in the cluster: its units' journal cannot be read.", *mid);
                        continue;
                }
                if ((arg_sudo && strv_extend(&cmd, "sudo") < 0) || strv_extend(&cmd, "journalctl") < 0 ||
                    strv_extend(&cmd, "--no-pager") < 0 || strv_extendf(&cmd, "-n%u", lines) < 0 ||
                    (follow && strv_extend(&cmd, "-f") < 0))
                        return log_oom();
                STRV_FOREACH(n, names) {
                        ClusterAssignment *a = cluster_snapshot_assignment(s, *n);

                        if (a && streq(a->machine_id, *mid) &&
                            (strv_extend(&cmd, "--unit") < 0 || strv_extend(&cmd, *n) < 0))
                                return log_oom();
                }
                r = cli_run_on_machine(m, cmd);
                if (r < 0)
                        return r;
                if (r > 0)
                        ret = r;
        }
        return ret;
}
