/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "tap.h"

#define MINUTE (60 * USEC_PER_SEC)

static void test_window(void) {
        FailureCounter c = {};

        is_int(failure_counter_count(&c, 0, 5 * MINUTE), 0, "no failures yet");
        is_int(failure_counter_add(&c, 10 * MINUTE, 5 * MINUTE, 3), 1, "first failure");
        is_int(failure_counter_add(&c, 12 * MINUTE, 5 * MINUTE, 3), 2, "second, 2 min later");
        is_int(failure_counter_count(&c, 14 * MINUTE, 5 * MINUTE), 2, "both still in the window");
        is_int(failure_counter_count(&c, 15 * MINUTE, 5 * MINUTE), 1, "the first leaves the window after 5 min");
        is_int(failure_counter_add(&c, 16 * MINUTE, 5 * MINUTE, 3), 2, "so a third failure makes 2, not 3");
        is_int(failure_counter_add(&c, 16 * MINUTE + 1, 5 * MINUTE, 3), 3, "and a fourth makes 3: the threshold");
        is_int(failure_counter_count(&c, 30 * MINUTE, 5 * MINUTE), 0, "all gone after a quiet window");
        failure_counter_done(&c);
        ok(!c.times && c.n == 0, "done frees");
}

static void test_limit(void) {
        FailureCounter c = {};
        int n = 0;

        /* A unit that fails in a loop keeps at most limit times, however many failures. */
        for (unsigned i = 0; i < 1000; i++)
                n = failure_counter_add(&c, i * USEC_PER_SEC, 5 * MINUTE, 3);
        is_int(n, 3, "the count stops at the limit");
        ok(c.n == 3 && c.times[0] == 997 * USEC_PER_SEC && c.times[2] == 999 * USEC_PER_SEC,
           "the newest failures are kept");
        failure_counter_done(&c);

        for (unsigned i = 0; i < 50; i++)
                n = failure_counter_add(&c, i * USEC_PER_SEC, 5 * MINUTE, 0);
        is_int(n, 50, "limit 0 (never move): still counted, unbounded by the limit");
        failure_counter_done(&c);
}

/* States as systemd reports them to the agent (agent-states.c) for a unit whose body a rolling
 * update replaced: the restart kills the old container ("failed" when it exits on SIGTERM with
 * an error), then starts the new body. Until the agent's job for the new body ends, systemd's
 * state is the old body's: only the job's outcome says whether the new body failed. */
static void state(Agent *a, const char *active, const char *sub) {
        agent_on_unit_state(NULL, "web@1.service", "loaded", active, sub, a);
}

static void replace(Agent *a, AgentUnit *u, const char *job) {
        char *old = strdup(u->file_hash);

        assert_se(old);
        agent_state_body_replaced(a, u, old);
        /* What agent_state_unit_job() and on_stale_job_queued() record for the restart job. */
        u->stale_job_sent = true;
        u->stale_job = strdup(job);
        assert_se(u->stale_job);
}

static void test_rolling_update(void) {
        Agent a = { .units = hashmap_new() };
        AgentUnit *u;

        assert_se(a.units);
        u = agent_unit_get_or_add(&a, "web@1.service");
        assert_se(u);
        u->assignment = new0(RegistryAssignment, 1);
        assert_se(u->assignment);
        u->assignment->desired = UNIT_DESIRED_LAUNCHED;
        u->file_hash = strdup("aaaa");
        assert_se(u->file_hash);
        u->move_after_failures = 3;
        u->failure_window_usec = 5 * MINUTE;
        state(&a, "active", "running");

        /* A rolling update: the old container dies failed under the restart, the new one runs. */
        replace(&a, u, "/org/freedesktop/systemd1/job/7");
        state(&a, "deactivating", "stop-sigterm");
        state(&a, "failed", "failed");
        state(&a, "activating", "start");
        state(&a, "active", "running");
        is_int(agent_failures_count(u), 0, "the old container killed by the restart is not a failure of the new body");
        agent_on_job_removed(NULL, "web@1.service", "/org/freedesktop/systemd1/job/7", "done", &a);
        ok(!u->stale_hash, "the restart job's end ends the old body's state");
        is_int(agent_failures_count(u), 0, "a new body that runs after its restart job: no failure");

        /* Another job's end does not end the old body's state, and a new body that fails in its
         * restart job is counted once, when that job ends. */
        replace(&a, u, "/org/freedesktop/systemd1/job/9");
        state(&a, "failed", "failed");
        agent_on_job_removed(NULL, "web@1.service", "/org/freedesktop/systemd1/job/8", "done", &a);
        is_int(agent_failures_count(u), 0, "still the old body's state before its job ends");
        agent_on_job_removed(NULL, "web@1.service", "/org/freedesktop/systemd1/job/9", "failed", &a);
        is_int(agent_failures_count(u), 1, "the new body failing in its restart job is one failure");
        ok(streq_ptr(u->failure_cause, "failed"), "counted as \"failed\"");

        /* Once the job has ended, the states are the new body's again: its failures count. */
        state(&a, "activating", "start");
        state(&a, "activating", "auto-restart");
        is_int(agent_failures_count(u), 2, "systemd's restart of the new body counts");

        agent_unit_drop(&a, u);
        hashmap_free(a.units);
}

int main(void) {
        test_window();
        test_limit();
        test_rolling_update();
        return done_testing();
}
