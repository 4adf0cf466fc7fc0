/* SPDX-License-Identifier: Apache-2.0 */

#include "cli-wait.h"
#include "log.h"
#include "strv.h"
#include "time-util.h"
#include "utf8.h"

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

CliUnitProgress cli_unit_progress(const ClusterSnapshot *s, const char *name, const char *hash,
                                  RegistryUnitState **ret_state, const char **ret_reason) {
        ClusterAssignment *a;
        RegistryUnitState *st = NULL;
        ClusterUnit *u;
        UnitActiveState active;

        assert(s);
        assert(name);

        if (ret_state)
                *ret_state = NULL;
        if (ret_reason)
                *ret_reason = NULL;
        if (!hash) {
                u = cluster_snapshot_unit(s, name);
                hash = u ? u->unit->hash : NULL;
        }
        a = cluster_snapshot_assignment(s, name);
        if (!a) {
                if (ret_reason)
                        *ret_reason = cluster_snapshot_reason(s, name);
                return CLI_UNIT_PENDING;
        }
        st = cluster_snapshot_state(s, name, a->machine_id);
        if (ret_state)
                *ret_state = st;
        if (!st)
                return CLI_UNIT_PENDING;
        if (registry_unit_state_is_refused(st))
                return CLI_UNIT_FAILED;
        /* An agent that has not said which body it runs is taken at its word. */
        if (st->hash && hash && !streq(st->hash, hash))
                return CLI_UNIT_PENDING;
        if (ret_reason)
                *ret_reason = st->reason;

        active = unit_active_state_from_string(st->active_state);
        /* Restart= makes a failing unit go activating again: "auto-restart" is its failure. */
        if (active == UNIT_FAILED || streq_ptr(st->sub_state, "auto-restart"))
                return CLI_UNIT_FAILED;
        if (active != UNIT_ACTIVE)
                return CLI_UNIT_PENDING;
        /* With a healthcheck, ready is healthy; unhealthy (its retries all failed) is a failure,
         * as swarm counts it in an update. */
        if (st->health == UNIT_HEALTH_UNHEALTHY)
                return CLI_UNIT_FAILED;
        if (st->health != UNIT_HEALTH_NONE && st->health != UNIT_HEALTH_HEALTHY)
                return CLI_UNIT_PENDING;
        return CLI_UNIT_READY;
}

int cli_unit_failed_message(const ClusterSnapshot *s, const char *name, const RegistryUnitState *st, char **ret) {
        _cleanup_free_ char *legend = NULL, *why = NULL;
        RegistryMachine *m;
        int r;

        assert(ret);

        m = st ? cluster_snapshot_machine(s, st->machine_id) : NULL;
        if (m) {
                r = cluster_machine_legend(st->machine_id, m, false, true, &legend);
                if (r < 0)
                        return r;
        }
        if (registry_unit_state_is_refused(st) && st->reason) {
                why = utf8_escape_non_printable(st->reason);
                if (!why)
                        return -ENOMEM;
                return asprintf(ret, "Unit %s was refused by machine %s: %s", name, strna(legend), why) < 0 ? -ENOMEM : 0;
        }
        return asprintf(ret, "Unit %s failed%s%s: %s/%s", name, legend ? " on " : "", strempty(legend),
                        st ? strna(st->active_state) : "?", st ? strna(st->sub_state) : "?") < 0 ? -ENOMEM : 0;
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
        char *const *names;
        size_t n_names;
        UnitDesiredState state;
        FILE *out;
        bool progress;
        char **reasons;                 /* "unit\treason" already printed */
        char **stale;                   /* failed already in the first snapshot, not seen otherwise since */
        bool seen_first;
        const char *failed;
} WaitUnits;

static void progress_clear(WaitUnits *wu) {
        if (wu->progress)
                fputs("\r\033[K", stderr);
}

/* The engine's reason for a unit it does not place, once per unit and text. */
static int report_reasons(const ClusterSnapshot *s, WaitUnits *wu) {
        STRV_FOREACH(p, wu->pending) {
                _cleanup_free_ char *key = NULL, *why = NULL;
                const char *reason = NULL;

                (void) cli_unit_progress(s, *p, NULL, NULL, &reason);
                if (!reason)
                        continue;
                if (asprintf(&key, "%s\t%s", *p, reason) < 0)
                        return -ENOMEM;
                if (strv_contains(wu->reasons, key))
                        continue;
                why = utf8_escape_non_printable(reason);
                if (!why)
                        return -ENOMEM;
                progress_clear(wu);
                fprintf(stderr, "Unit %s is not placed: %s\n", *p, why);
                if (strv_consume(&wu->reasons, TAKE_PTR(key)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The first pending unit that failed with its current body (waiting for launched only). */
static int check_failed(const ClusterSnapshot *s, WaitUnits *wu) {
        if (wu->state != UNIT_DESIRED_LAUNCHED)
                return 0;
        STRV_FOREACH(p, wu->pending) {
                _cleanup_free_ char *msg = NULL;
                RegistryUnitState *st;
                bool failed = cli_unit_progress(s, *p, NULL, &st, NULL) == CLI_UNIT_FAILED;

                /* A unit that had failed before this wait (and was stopped, or not yet restarted)
                 * still reports it: its failure counts once it has been seen doing anything else. */
                if (!wu->seen_first && failed) {
                        if (strv_extend(&wu->stale, *p) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (strv_contains(wu->stale, *p)) {
                        if (!failed)
                                strv_remove(wu->stale, *p);
                        continue;
                }
                if (!failed)
                        continue;
                if (cli_unit_failed_message(s, *p, st, &msg) < 0)
                        return -ENOMEM;
                progress_clear(wu);
                fprintf(stderr, "%s\n", msg);
                for (size_t i = 0; i < wu->n_names; i++)
                        if (streq(wu->names[i], *p))
                                wu->failed = wu->names[i];
                return -ENOEXEC;
        }
        wu->seen_first = true;
        return 0;
}

static int check_units(const ClusterSnapshot *s, void *userdata) {
        WaitUnits *wu = userdata;
        int r;

        progress_clear(wu);
        r = check_pending(s, wu->pending, wu->state, wu->out);
        if (r < 0)
                return r;
        r = report_reasons(s, wu);
        if (r < 0)
                return r;
        r = check_failed(s, wu);
        if (r < 0)
                return r;
        if (strv_length(wu->pending) == 0)
                return 1;
        if (wu->progress) {
                fprintf(stderr, "%zu/%zu %s", wu->n_names - strv_length(wu->pending), wu->n_names,
                        unit_desired_state_to_string(wu->state));
                fflush(stderr);
        }
        return 0;
}

int cli_wait_units(EtcdClient *c, const char *prefix, char *const *names, UnitDesiredState state,
                   int attempts, FILE *out, bool progress, const char **ret_failed) {
        _cleanup_strv_free_ char **pending = NULL;
        WaitUnits wu = { .names = names, .n_names = strv_length(names), .state = state, .out = out,
                         .progress = progress };
        int r;

        pending = strv_copy(names);
        if (!pending && names)
                return -ENOMEM;
        wu.pending = pending;

        r = cli_wait_until(c, prefix, attempts, check_units, &wu);
        progress_clear(&wu);
        strv_free(wu.reasons);
        strv_free(wu.stale);
        if (ret_failed)
                *ret_failed = wu.failed;
        if (r != -ETIME)
                return r;
        STRV_FOREACH(p, pending)
                fprintf(stderr, "Error waiting for units: timed out waiting for unit %s to report state %s\n",
                        *p, unit_desired_state_to_string(state));
        return -ETIME;
}
