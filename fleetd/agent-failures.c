/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "agent-internal.h"
#include "log.h"
#include "xfleet.h"

/* Giving a unit up on this machine (issue 13; fleet's #1339: a unit that keeps failing stayed
 * failed where it was). Its failures here are counted over its [X-Fleet] FailureWindow=: systemd's
 * failed state, systemd's own automatic restarts (SubState "auto-restart": Restart= takes it back
 * up, so it never shows "failed"), and the agent's restarts of an unhealthy container
 * (agent-health.c). At MoveAfterFailures= the agent stops the unit instead of letting it start
 * again, and publishes in its state why ("gave_up"); the leader then places it on another machine
 * and never back here while the body stays the same (engine-cache.c). Global units are never given
 * up: they run everywhere, there is no elsewhere. The count starts over with a new body or a new
 * start asked by the user. */

void failure_counter_done(FailureCounter *c) {
        c->times = mfree(c->times);
        c->n = 0;
}

/* Drop the failures that left the window ending at now. */
static void failure_counter_prune(FailureCounter *c, usec_t now, usec_t window) {
        size_t keep = 0;

        for (size_t i = 0; i < c->n; i++)
                if (c->times[i] + window > now)
                        c->times[keep++] = c->times[i];
        c->n = keep;
}

int failure_counter_add(FailureCounter *c, usec_t now, usec_t window, unsigned limit) {
        usec_t *t;

        failure_counter_prune(c, now, window);
        /* Only the last limit failures matter: older ones can no longer make the count. */
        if (limit > 0 && c->n >= limit) {
                memmove(c->times, c->times + 1, (c->n - 1) * sizeof(usec_t));
                c->n--;
        }
        t = reallocarray(c->times, c->n + 1, sizeof(usec_t));
        if (!t)
                return -ENOMEM;
        c->times = t;
        c->times[c->n++] = now;
        return (int) c->n;
}

unsigned failure_counter_count(FailureCounter *c, usec_t now, usec_t window) {
        failure_counter_prune(c, now, window);
        return (unsigned) c->n;
}

/* "5min", "90s", "2h", "1d": the largest unit the span is a whole number of (the window is whole
 * seconds or more: the parser's lower bound). */
static void format_window(char *buf, size_t size, usec_t usec) {
        uint64_t sec = usec / USEC_PER_SEC;

        if (sec > 0 && sec % 86400 == 0)
                (void) snprintf(buf, size, "%" PRIu64 "d", sec / 86400);
        else if (sec > 0 && sec % 3600 == 0)
                (void) snprintf(buf, size, "%" PRIu64 "h", sec / 3600);
        else if (sec > 0 && sec % 60 == 0)
                (void) snprintf(buf, size, "%" PRIu64 "min", sec / 60);
        else
                (void) snprintf(buf, size, "%" PRIu64 "s", sec);
}

int agent_failures_set_body(Agent *a, AgentUnit *u, const UnitFile *f) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        int r;

        agent_failures_reset(u);
        u->move_after_failures = XFLEET_MOVE_AFTER_FAILURES_DEFAULT;
        u->failure_window_usec = XFLEET_FAILURE_WINDOW_DEFAULT_USEC;
        if (!f)
                return 0;
        r = xfleet_options_parse(f, u->name, &x, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;       /* agent_health_set_body() says why */
        u->move_after_failures = x->move_after_failures;
        u->failure_window_usec = x->failure_window_usec;
        return 0;
}

void agent_failures_reset(AgentUnit *u) {
        failure_counter_done(&u->failures);
        u->gave_up = mfree(u->gave_up);
        u->failure_cause = NULL;
        u->restarting_unhealthy = false;
}

unsigned agent_failures_count(AgentUnit *u) {
        return failure_counter_count(&u->failures, now(CLOCK_MONOTONIC), u->failure_window_usec);
}

bool agent_failures_record(Agent *a, AgentUnit *u, const char *cause) {
        char window[32];
        int n;

        if (u->gave_up || !u->assignment || u->assignment->desired != UNIT_DESIRED_LAUNCHED || a->fenced)
                return false;
        n = failure_counter_add(&u->failures, now(CLOCK_MONOTONIC), u->failure_window_usec,
                                u->move_after_failures);
        if (n < 0) {
                log_oom();
                return false;
        }
        u->failure_cause = cause;
        agent_schedule_publish(a);
        format_window(window, sizeof window, u->failure_window_usec);
        if (u->global || u->move_after_failures == 0 || (unsigned) n < u->move_after_failures) {
                log_notice("%s: failure %d in %s on this machine (%s).", u->name, n, window, cause);
                return false;
        }

        if (asprintf(&u->gave_up, "%d failures in %s (%s)", n, window, cause) < 0) {
                u->gave_up = NULL;
                log_oom();
                return false;
        }
        log_warning("%s: %s on this machine: stopping it here, the leader moves it to another machine.",
                    u->name, u->gave_up);
        /* The reconcile stops it and no longer starts it (agent-reconcile.c). */
        agent_schedule_reconcile(a);
        return true;
}

void agent_failures_on_state(Agent *a, AgentUnit *u, bool was_failed, bool was_auto_restart) {
        bool failed = streq_ptr(u->active_state, "failed");
        bool auto_restart = streq_ptr(u->sub_state, "auto-restart");

        if (agent_unit_is_running(u) && streq_ptr(u->active_state, "active"))
                u->restarting_unhealthy = false;
        /* The agent's own restart of an unhealthy container may pass through these states: that
         * failure is counted once, as "unhealthy". */
        if (u->restarting_unhealthy)
                return;
        /* A replaced body: until the agent's job for the new one ends, systemd's states are the old
         * body's (agent-states.c), and the old container a rolling update's restart kills is no
         * failure of the new body. The job's outcome is counted when it ends. */
        if (u->stale_hash)
                return;
        if (failed && !was_failed)
                (void) agent_failures_record(a, u, "failed");
        else if (auto_restart && !was_auto_restart)
                (void) agent_failures_record(a, u, "restarted by systemd");
}
