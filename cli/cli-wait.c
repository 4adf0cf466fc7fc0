/* SPDX-License-Identifier: Apache-2.0 */

#include <time.h>

#include "cli-wait.h"
#include "log.h"
#include "strv.h"

static bool state_matches_body(const ClusterSnapshot *s, const char *name, const RegistryUnitState *st) {
        ClusterUnit *u = cluster_snapshot_unit(s, name);

        /* An agent that has not said which body it runs is taken at its word. */
        return !st->hash || !u || streq(st->hash, u->unit->hash);
}

bool cli_unit_reached(const ClusterSnapshot *s, const char *name, UnitDesiredState state,
                      const char **ret_machine_id) {
        ClusterAssignment *a;
        RegistryUnitState *st;
        bool ok;

        assert(s);
        assert(name);

        a = cluster_snapshot_assignment(s, name);
        if (state == UNIT_DESIRED_INACTIVE) {
                if (a)
                        return false;
                if (ret_machine_id)
                        *ret_machine_id = NULL;
                return true;
        }
        if (!a || a->assignment->desired != state)
                return false;

        st = cluster_snapshot_state(s, name, a->machine_id);
        if (!st || !state_matches_body(s, name, st))
                return false;

        if (state == UNIT_DESIRED_LAUNCHED)
                ok = streq(st->active_state, "active");
        else
                ok = streq(st->load_state, "loaded") &&
                     (streq(st->active_state, "inactive") || streq(st->active_state, "failed"));
        if (!ok)
                return false;

        if (ret_machine_id)
                *ret_machine_id = a->machine_id;
        return true;
}

int cli_unit_reached_message(const ClusterSnapshot *s, const char *name, UnitDesiredState state,
                             const char *machine_id, char **ret) {
        _cleanup_free_ char *legend = NULL;
        RegistryMachine *m;
        char *msg;
        int r;

        assert(ret);

        m = cluster_snapshot_machine(s, machine_id);
        if (m) {
                r = cluster_machine_legend(machine_id, m, false, true, &legend);
                if (r < 0)
                        return r;
        }
        if (asprintf(&msg, "Unit %s %s%s%s", name, unit_desired_state_to_string(state),
                     legend ? " on " : "", strempty(legend)) < 0)
                return -ENOMEM;
        *ret = msg;
        return 0;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {
                .tv_sec = usec / 1000000ULL,
                .tv_nsec = (usec % 1000000ULL) * 1000,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int cli_wait_units(EtcdClient *c, const char *prefix, char *const *names, UnitDesiredState state,
                   int attempts, FILE *out) {
        _cleanup_strv_free_ char **pending = NULL;
        int r;

        pending = strv_copy(names);
        if (!pending && names)
                return -ENOMEM;

        for (int attempt = 0; strv_length(pending) > 0 && (attempts <= 0 || attempt < attempts); attempt++) {
                _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;

                if (attempt > 0)
                        sleep_usec(CLI_WAIT_INTERVAL_USEC);

                r = cluster_snapshot_load(c, prefix, &s);
                if (r < 0)
                        return r;

                for (size_t i = 0; pending[i];) {
                        _cleanup_free_ char *msg = NULL;
                        const char *mid = NULL;

                        if (!cli_unit_reached(s, pending[i], state, &mid)) {
                                i++;
                                continue;
                        }
                        r = cli_unit_reached_message(s, pending[i], state, mid, &msg);
                        if (r < 0)
                                return r;
                        fprintf(out, "%s\n", msg);
                        fflush(out);

                        free(pending[i]);
                        memmove(pending + i, pending + i + 1, sizeof(char *) * (strv_length(pending + i + 1) + 1));
                }
        }

        if (strv_length(pending) == 0)
                return 0;
        STRV_FOREACH(p, pending)
                fprintf(stderr, "Error waiting for units: timed out waiting for unit %s to report state %s\n",
                        *p, unit_desired_state_to_string(state));
        return -ETIME;
}
