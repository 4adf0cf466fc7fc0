/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"

/* Fencing: an agent that could not renew its lease within the TTL must assume that the leader has
 * placed its units elsewhere, so it stops them at once; no unit then runs on two machines for
 * longer than the TTL. Global units run everywhere anyway and keep running. */

bool agent_unit_fenced(const Agent *a, const AgentUnit *u) {
        return a->fenced && !u->global;
}

void agent_fence(Agent *a) {
        AgentUnit *u;
        size_t n = 0;

        if (a->fenced)
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
