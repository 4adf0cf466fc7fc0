/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"

/* Fencing: a lease is a lock with a deadline. The keeper knows the machine's lease alive until
 * its deadline: the send time of the last successful renewal plus the TTL, by our monotonic clock.
 * etcd cannot expire the lease before then (the renewal reached etcd's leader after we sent it, and
 * a new leader extends every lease), and only once it expired may the engine place our units
 * elsewhere. So the agent stops its non-global units a margin BEFORE the deadline, judged by its
 * own clock, not after a loss is reported: no unit then runs on two machines, also when this
 * machine is cut off together with an etcd member that still answers with a stale view. Global
 * units run everywhere anyway and keep running.
 *
 * The margin covers the stop itself (a job per unit, normally a few ms, sent at once) and the
 * difference in clock rates between this machine and etcd's leader: with margin m and TTL T, the
 * stop happens in time as long as our clock runs slow against the leader's by less than about
 * (m - stop time) / T, e.g. 5 % at the default TTL of 10 s (m = 1 s) and 10 % at 5 s (m = 0.5 s);
 * NTP keeps real clocks within 0.05 %.
 *
 * A renewal that gets through after the fence but before the deadline proves the lease never
 * lapsed, so nothing was moved: the units start again at once. After a real loss (LOST, a new
 * lease) they wait until the schedule was read again (agent-assignments.c). */

/* While fenced before the deadline, how often to look whether a late renewal got through. */
#define FENCE_POLL_USEC (200 * USEC_PER_MSEC)

usec_t agent_fence_margin_usec(int64_t ttl_sec) {
        usec_t ttl = (usec_t) MAX(ttl_sec, (int64_t) 1) * USEC_PER_SEC;

        return MIN(MAX(ttl / 10, 500 * USEC_PER_MSEC), 2 * USEC_PER_SEC);
}

bool agent_unit_fenced(const Agent *a, const AgentUnit *u) {
        return a->fenced && !u->global;
}

void agent_fence(Agent *a) {
        AgentUnit *u;
        size_t n = 0;

        if (a->fenced || a->shutting_down)
                return;
        a->fenced = true;
        a->stats.n_fences++;

        HASHMAP_FOREACH(u, a->units)
                if (!u->global && u->assignment && u->assignment->desired == UNIT_DESIRED_LAUNCHED)
                        n++;
        log_warning("Fencing: stopping %zu non-global units until the machine is registered again.", n);
        agent_schedule_reconcile(a);
}

void agent_unfence(Agent *a) {
        if (!a->fenced)
                return;
        a->fenced = false;
        a->fenced_lease = 0;
        log_info("Registered again: running the units of the schedule again.");
        agent_schedule_reconcile(a);
}

void agent_fence_watch_stop(Agent *a) {
        a->fence_timer = sd_event_source_disable_unref(a->fence_timer);
}

static int on_fence_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        agent_fence_watch(userdata);
        return 0;
}

void agent_fence_watch(Agent *a) {
        usec_t t, deadline, margin, fence_at, next;
        int r;

        agent_fence_watch_stop(a);
        if (!a->fence_on_lease_loss || a->shutting_down || !a->lease || a->lease_id == 0)
                return;

        t = now(CLOCK_MONOTONIC);
        deadline = etcd_lease_keeper_deadline(a->lease);
        margin = agent_fence_margin_usec(a->ttl_sec);
        fence_at = deadline > margin ? deadline - margin : 0;

        if (t < fence_at) {
                /* Renewed in time after all: the lease never lapsed, nothing was moved. */
                if (a->fenced && a->fenced_lease == a->lease_id) {
                        log_notice("The machine's lease %" PRIx64 " was renewed before its deadline after all.",
                                   (uint64_t) a->lease_id);
                        agent_unfence(a);
                }
                next = fence_at;
        } else {
                if (!a->fenced) {
                        log_warning("No renewal of the machine's lease %" PRIx64 " for %.1f s: its deadline is "
                                    "%.1f s away, stopping before etcd can expire it.",
                                    (uint64_t) a->lease_id,
                                    (double) (t + (usec_t) a->ttl_sec * USEC_PER_SEC - deadline) / 1e6,
                                    deadline > t ? (double) (deadline - t) / 1e6 : 0.0);
                        agent_fence(a);
                        a->fenced_lease = a->lease_id;
                }
                next = t + FENCE_POLL_USEC;
        }

        r = sd_event_add_time(a->event, &a->fence_timer, CLOCK_MONOTONIC, next, USEC_PER_MSEC, on_fence_timer, a);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the fence timer, fencing now: %m");
                agent_fence(a);
        }
}

void agent_lease_lost(Agent *a, int64_t lease_id) {
        agent_fence_watch_stop(a);
        a->fenced_lease = 0;
        if (a->fence_on_lease_loss)
                agent_fence(a);
}
