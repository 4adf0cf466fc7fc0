/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"

/* Fencing: a lease is a lock with a deadline. etcd expires it at the earliest a TTL after it
 * received the last renewal, which it did after we sent it; from then on the leader may place our
 * units elsewhere. So, judged by our own clock, our non-global units must be stopped by the send
 * time of the last successful renewal plus the TTL. The keeper reports EXPIRING a margin before
 * that point (and no renewal succeeded meanwhile), and we stop them then; global units run
 * everywhere anyway and keep running.
 *
 * The margin is the stop budget plus a twentieth of the TTL. The budget covers the EXPIRING timer
 * firing late on a loaded machine, the reconcile pass and its StopUnit calls, and a unit's main
 * process exiting on SIGTERM; a unit that takes longer to stop (a long TimeoutStopSec=) may overlap
 * its new copy by the excess. The twentieth is for clock-rate drift: we stop by
 * (TTL - margin) * (1 + d) + budget of etcd's time, which stays within the TTL while
 * d <= (TTL/20) / (TTL - margin), more than 5 % at any TTL >= 3 s (6.7 % at TTL 5 s, 5.5 % at 30 s).
 * Below 3 s the margin is capped at half the TTL and leaves less room for drift.
 *
 * An etcd leader election looks the same from here, and may outlast the margin on a loaded
 * machine. The keeper keeps renewing the same lease: a renewal that succeeds, however late, proves
 * the lease never expired (no lease expires without a leader, and a new leader extends them all),
 * so the units run again at once; a renewal that succeeds before EXPIRING stops nothing. If etcd
 * says the lease is gone, the keeper grants a new one; we register again and read the schedule
 * before running anything (agent-assignments.c unfences then). */

/* From EXPIRING to every stopped unit's process gone. */
#define FENCE_STOP_BUDGET_USEC (1 * USEC_PER_SEC)

usec_t agent_fence_margin(int64_t ttl_sec) {
        usec_t ttl = (usec_t) ttl_sec * USEC_PER_SEC;

        return MIN(FENCE_STOP_BUDGET_USEC + ttl / 20, ttl / 2);
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
        log_warning("Fencing: stopping %zu non-global units until the machine's lease is renewed.", n);
        agent_schedule_reconcile(a);
}

void agent_unfence(Agent *a) {
        if (!a->fenced)
                return;
        a->fenced = false;
        a->fenced_until_sync = false;
        log_info("The machine's lease is live again: running the units of the schedule again.");
        agent_schedule_reconcile(a);
}
