/* SPDX-License-Identifier: Apache-2.0 */

#include "cli-wait.h"
#include "log.h"
#include "strv.h"
#include "time-util.h"

static bool state_matches_body(const ClusterSnapshot *s, const char *name, const RegistryUnitState *st) {
        ClusterUnit *u = cluster_snapshot_unit(s, name);

        /* An agent that has not said which body it runs is taken at its word. */
        return !st->hash || !u || streq(st->hash, u->unit->hash);
}

bool cli_unit_reached(const ClusterSnapshot *s, const char *name, UnitDesiredState state,
                      const char **ret_machine_id) {
        ClusterAssignment *a;
        RegistryUnitState *st;
        UnitActiveState active;
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

        /* Launched: the start has finished (running is not enough: activating is still on its way).
         * Loaded: loaded into systemd and settled, not running. */
        active = unit_active_state_from_string(st->active_state);
        if (state == UNIT_DESIRED_LAUNCHED)
                ok = active == UNIT_ACTIVE;
        else
                ok = streq(st->load_state, "loaded") && (active == UNIT_INACTIVE || active == UNIT_FAILED);
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

/* Only for an event that was missed: the watch reports every change under the prefix. */
#define WAIT_SAFETY_POLL_USEC (5 * USEC_PER_SEC)

static void sleep_usec(uint64_t usec) {
        struct timespec ts;

        timespec_store(&ts, usec);

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

typedef struct WaitWatch {
        bool changed;
        bool failed;
} WaitWatch;

static void on_wait_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                          void *userdata) {
        WaitWatch *ww = userdata;

        if (error < 0)
                ww->failed = true;
        else if (n_events > 0)
                ww->changed = true;
}

/* Print the units of pending that got there, and drop them from it. */
static int check_pending(const ClusterSnapshot *s, char **pending, UnitDesiredState state, FILE *out) {
        int r;

        for (size_t i = 0; pending[i];) {
                _cleanup_free_ char *msg = NULL;
                const char *mid = NULL;

                if (!cli_unit_reached(s, pending[i], state, &mid)) {
                        i++;
                        continue;
                }
                if (out) {
                        r = cli_unit_reached_message(s, pending[i], state, mid, &msg);
                        if (r < 0)
                                return r;
                        fprintf(out, "%s\n", msg);
                        fflush(out);
                }

                free(pending[i]);
                memmove(pending + i, pending + i + 1, sizeof(char *) * (strv_length(pending + i + 1) + 1));
        }
        return 0;
}

/* Until something under the prefix changed, the safety poll is due or the deadline passed. */
static int wait_for_change(EtcdClient *c, WaitWatch *ww, uint64_t deadline) {
        sd_event *e = etcd_client_get_event(c);
        uint64_t until = MIN(deadline, now(CLOCK_MONOTONIC) + WAIT_SAFETY_POLL_USEC);
        int r;

        while (!ww->changed && !ww->failed) {
                uint64_t n = now(CLOCK_MONOTONIC);

                if (n >= until)
                        break;
                r = sd_event_run(e, until - n);
                if (r < 0)
                        return r;
        }
        /* Which of the two woke the wait, for --debug (and the test that shows the watch works). */
        if (ww->changed)
                log_debug("The registry changed, reading it again (watch event)");
        else if (!ww->failed && until < deadline)
                log_debug("No change seen, reading the registry again (safety poll)");
        ww->changed = false;
        return 0;
}

int cli_wait_until(EtcdClient *c, const char *prefix, int attempts, CliWaitCheck check, void *userdata) {
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
        uint64_t deadline = UINT64_MAX;
        WaitWatch ww = {};
        int r;

        if (attempts > 0)
                deadline = now(CLOCK_MONOTONIC) + (uint64_t) attempts * CLI_WAIT_INTERVAL_USEC;

        /* Re-read the registry whenever a watch on it reports a change (and every few seconds
         * regardless, should an event ever be missed); without a watch, poll as fleet did. */
        for (;;) {
                _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;

                r = cluster_snapshot_load(c, prefix, &s);
                if (r < 0)
                        return r;
                r = check(s, userdata);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (now(CLOCK_MONOTONIC) >= deadline)
                        return -ETIME;

                if (!w && !ww.failed) {
                        r = etcd_watch_new(&w, c, prefix, ETCD_PREFIX, s->revision + 1, on_wait_watch, &ww);
                        if (r < 0) {
                                log_debug_errno(r, "Cannot watch the registry, polling: %m");
                                ww.failed = true;
                        } else
                                log_debug("Watching %s from revision %" PRIi64, prefix, s->revision + 1);
                }
                if (w && !ww.failed)
                        r = wait_for_change(c, &ww, deadline);
                else {
                        sleep_usec(MIN(CLI_WAIT_INTERVAL_USEC, deadline - now(CLOCK_MONOTONIC)));
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
}

typedef struct WaitUnits {
        char **pending;
        UnitDesiredState state;
        FILE *out;
} WaitUnits;

static int check_units(const ClusterSnapshot *s, void *userdata) {
        WaitUnits *wu = userdata;
        int r;

        r = check_pending(s, wu->pending, wu->state, wu->out);
        if (r < 0)
                return r;
        return strv_length(wu->pending) == 0;
}

int cli_wait_units(EtcdClient *c, const char *prefix, char *const *names, UnitDesiredState state,
                   int attempts, FILE *out) {
        _cleanup_strv_free_ char **pending = NULL;
        WaitUnits wu = { .state = state, .out = out };
        int r;

        pending = strv_copy(names);
        if (!pending && names)
                return -ENOMEM;
        wu.pending = pending;

        r = cli_wait_until(c, prefix, attempts, check_units, &wu);
        if (r != -ETIME)
                return r;
        STRV_FOREACH(p, pending)
                fprintf(stderr, "Error waiting for units: timed out waiting for unit %s to report state %s\n",
                        *p, unit_desired_state_to_string(state));
        return -ETIME;
}
