/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"

/* Fencing: an agent that could not renew its lease within the TTL must assume that the leader has
 * placed its units elsewhere, so it stops them at once; no unit then runs on two machines for
 * longer than the TTL. Global units run everywhere anyway and keep running.
 *
 * One case looks the same from here but is harmless: an etcd leader election. Renewals wait for
 * the new leader and may miss a short TTL, yet no lease can expire without a leader, and the new
 * leader extends every lease. So before stopping anything the agent asks the nearest member, with a
 * serializable read that needs no leader, whether it still holds the machine key under the lost
 * lease. A member that answers that it does means "not fenced yet": registering again must then
 * succeed within an election's time, else we fence after all (that member may be a minority one,
 * cut off with us, whose view is stale). No answer in a short while (a partition), an error, or
 * another lease means the registration is gone: fence at once. */

/* A reachable member answers a local read in milliseconds; a partition never answers. */
#define FENCE_CHECK_USEC (300 * USEC_PER_MSEC)

/* How long an etcd leader election may keep us from registering again before we fence anyway. */
#define FENCE_ELECTION_USEC (3 * USEC_PER_SEC)

bool agent_unit_fenced(const Agent *a, const AgentUnit *u) {
        return a->fenced && !u->global;
}

void agent_fence(Agent *a) {
        AgentUnit *u;
        size_t n = 0;

        agent_fence_cancel_check(a);
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
        log_info("Registered again: running the units of the schedule again.");
        agent_schedule_reconcile(a);
}

void agent_fence_cancel_check(Agent *a) {
        a->fence_check_call = etcd_call_cancel(a->fence_check_call);
        a->fence_timer = sd_event_source_unref(a->fence_timer);
        a->lost_lease = 0;
}

static int on_fence_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;

        if (a->fence_check_call)
                log_warning("etcd does not answer: the machine's registration must be considered gone.");
        else
                log_warning("Still not registered again %" PRIi64 "s after the lease was lost.", a->ttl_sec);
        agent_fence(a);
        return 0;
}

static void on_fence_check(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Agent *a = userdata;
        int r;

        a->fence_check_call = NULL;

        if (error < 0 || response->n_kvs == 0 || response->kvs[0].lease != a->lost_lease) {
                if (error < 0)
                        log_warning_errno(error, "Cannot check the registration: %m");
                else
                        log_warning("The machine's registration is gone from etcd.");
                agent_fence(a);
                return;
        }

        log_notice("etcd still holds the registration under lease %" PRIx64 " (an etcd leader election?): "
                   "units keep running while the machine registers again.", (uint64_t) a->lost_lease);
        /* An etcd election ends within a few seconds (election timeout 1 s, measured 2.3 s until a
         * write succeeds), and registering again follows at once. A member that keeps answering
         * "still registered" for longer may be a minority member cut off with us, whose view is
         * stale while the majority expires the lease and moves our units: so wait no longer than
         * an election takes, and at most a TTL. */
        r = agent_arm_timer(a, &a->fence_timer, MIN((usec_t) a->ttl_sec * USEC_PER_SEC, FENCE_ELECTION_USEC),
                            on_fence_timer);
        if (r < 0)
                agent_fence(a);
}

void agent_lease_lost(Agent *a, int64_t lease_id) {
        EtcdRangeOptions options = {
                .key = a->machine_key,
                .flags = ETCD_SERIALIZABLE,
        };
        int r;

        agent_fence_cancel_check(a);
        if (a->fenced)
                return;
        a->lost_lease = lease_id;

        r = agent_arm_timer(a, &a->fence_timer, FENCE_CHECK_USEC, on_fence_timer);
        if (r < 0) {
                agent_fence(a);
                return;
        }
        r = etcd_range(a->etcd, &options, on_fence_check, a, &a->fence_check_call);
        if (r < 0)
                agent_fence(a);
}
