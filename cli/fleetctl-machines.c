/* SPDX-License-Identifier: Apache-2.0 */

/* cordon, uncordon and drain: whether the leader may place units on a machine, kept in
 * P cordons/<machine-id> (lib/registry.h). The leader's scheduler does the moving; drain shows it. */

#include "cluster.h"
#include "cli-wait.h"
#include "etcd-sync.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"
#include "utf8.h"

/* The registered machine id names, by id or unique prefix; with allow_unknown a full machine id
 * that is not registered (a machine gone for good, whose cordon is left) is taken as it is. */
static int resolve_machine(const ClusterSnapshot *s, const char *name, bool allow_unknown, char **ret) {
        RegistryMachine *m = NULL;
        char *id;
        int r;

        r = cluster_snapshot_find_machine(s, name, &m);
        if (r == -ENOTUNIQ)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Machine id prefix %s is ambiguous.", name);
        if (r == -ENOENT && allow_unknown && registry_machine_id_is_valid(name))
                id = strdup(name);
        else if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Machine %s not found (see 'fleetctl list-machines').", name);
        else
                id = strdup(m->id);
        if (!id)
                return log_oom();
        *ret = id;
        return 0;
}

static int machine_legend(const ClusterSnapshot *s, const char *id, char **ret) {
        if (cluster_machine_legend(id, cluster_snapshot_machine(s, id), false, true, ret) < 0)
                return log_oom();
        return 0;
}

static int cordon_write(EtcdClient *c, const char *id, RegistryCordon mode) {
        _cleanup_free_ char *key = registry_cordon_key(arg_etcd_key_prefix, id);
        const char *v = registry_cordon_to_string(mode);
        int r;

        if (!key)
                return log_oom();
        if (mode == REGISTRY_CORDON_NONE)
                r = etcd_sync_delete(c, key, 0, NULL);
        else
                r = etcd_sync_put(c, key, v, strlen(v), 0, 0, NULL);
        if (r < 0)
                return fleetctl_log_etcd_error(r, mode == REGISTRY_CORDON_NONE ? "uncordon the machine" :
                                                                                 "cordon the machine");
        return 0;
}

static int set_cordon(int argc, char *argv[], RegistryCordon mode) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        EtcdClient *c;
        int r;

        r = fleetctl_snapshot("read the machines", &c, &s);
        if (r < 0)
                return r;

        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *id = NULL, *legend = NULL;

                r = resolve_machine(s, argv[i], mode == REGISTRY_CORDON_NONE, &id);
                if (r < 0)
                        return r;
                r = cordon_write(c, id, mode);
                if (r < 0)
                        return r;
                r = machine_legend(s, id, &legend);
                if (r < 0)
                        return r;
                printf("Machine %s %s\n", legend, mode == REGISTRY_CORDON_NONE ? "uncordoned" : "cordoned");
        }
        return 0;
}

int verb_cordon(int argc, char *argv[]) {
        return set_cordon(argc, argv, REGISTRY_CORDON_CORDONED);
}

int verb_uncordon(int argc, char *argv[]) {
        return set_cordon(argc, argv, REGISTRY_CORDON_NONE);
}

/* What drain waits for: each unit that ran on the machine is running elsewhere, or has been
 * found no place (with the leader's reason), or is no longer wanted. */
typedef struct Drain {
        const char *machine_id;
        const char *legend;
        char **pending;
} Drain;

static int drain_unit_done(const ClusterSnapshot *s, const Drain *d, const char *name, char **ret_message) {
        ClusterUnit *u = cluster_snapshot_unit(s, name);
        ClusterAssignment *a = cluster_snapshot_assignment(s, name);
        _cleanup_free_ char *legend = NULL;
        const char *mid = NULL, *reason;
        char *msg = NULL;
        int r;

        if (!u || u->unit->desired == UNIT_DESIRED_INACTIVE)
                r = asprintf(&msg, "Unit %s left %s (no longer scheduled)", name, d->legend);
        else if (a && !streq(a->machine_id, d->machine_id)) {
                if (!cli_unit_reached(s, name, u->unit->desired, &mid))
                        return 0;
                if (machine_legend(s, mid, &legend) < 0)
                        return -ENOMEM;
                r = asprintf(&msg, "Unit %s moved from %s to %s, %s", name, d->legend, legend,
                             unit_desired_state_to_string(u->unit->desired));
        } else if (!a && (reason = cluster_snapshot_reason(s, name))) {
                _cleanup_free_ char *why = utf8_escape_non_printable(reason);

                if (!why)
                        return -ENOMEM;
                r = asprintf(&msg, "Unit %s left %s and is not placed: %s", name, d->legend, why);
        } else
                return 0;
        if (r < 0)
                return -ENOMEM;
        *ret_message = msg;
        return 1;
}

static int drain_check(const ClusterSnapshot *s, void *userdata) {
        Drain *d = userdata;

        for (size_t i = 0; d->pending[i];) {
                _cleanup_free_ char *msg = NULL;
                int r;

                r = drain_unit_done(s, d, d->pending[i], &msg);
                if (r < 0)
                        return log_oom();
                if (r == 0) {
                        i++;
                        continue;
                }
                printf("%s\n", msg);
                fflush(stdout);
                free(d->pending[i]);
                memmove(d->pending + i, d->pending + i + 1, sizeof(char *) * (strv_length(d->pending + i + 1) + 1));
        }
        return strv_length(d->pending) == 0;
}

int verb_drain(int argc, char *argv[]) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_free_ char *id = NULL, *legend = NULL;
        _cleanup_strv_free_ char **units = NULL;
        EtcdClient *c;
        Drain d;
        int r;

        r = fleetctl_snapshot("read the cluster state", &c, &s);
        if (r < 0)
                return r;
        r = resolve_machine(s, argv[1], false, &id);
        if (r < 0)
                return r;
        r = machine_legend(s, id, &legend);
        if (r < 0)
                return r;

        /* Global units stay: they run on every machine that matches. */
        for (size_t i = 0; i < s->n_assignments; i++) {
                const ClusterAssignment *a = s->assignments + i;
                const ClusterUnit *u = cluster_snapshot_unit(s, a->assignment->unit);

                if (streq(a->machine_id, id) && u && !u->global && strv_extend(&units, a->assignment->unit) < 0)
                        return log_oom();
        }

        r = cordon_write(c, id, REGISTRY_CORDON_DRAINED);
        if (r < 0)
                return r;
        printf("Machine %s drained: %zu unit%s to move\n", legend, strv_length(units),
               strv_length(units) == 1 ? "" : "s");
        if (arg_no_block || strv_length(units) == 0)
                return 0;
        fflush(stdout);

        d = (Drain) { .machine_id = id, .legend = legend, .pending = units };
        r = cli_wait_until(c, arg_etcd_key_prefix, arg_block_attempts, drain_check, &d);
        if (r == -ETIME) {
                STRV_FOREACH(p, units)
                        fprintf(stderr, "Error waiting for units: timed out waiting for unit %s to leave %s\n",
                                *p, legend);
                return r;
        }
        if (r < 0)
                return fleetctl_log_etcd_error(r, "follow the drain");
        return 0;
}
