/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"
#include "strv.h"

#define REGISTER_RETRY_USEC (500 * USEC_PER_MSEC)

static int on_register_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;

        a->register_retry = sd_event_source_unref(a->register_retry);
        if (a->lease_id != 0 && !a->shutting_down)
                (void) agent_register(a);
        return 0;
}

static void on_registered(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Agent *a = userdata;
        int r;

        a->register_call = NULL;

        if (error < 0) {
                log_warning_errno(error, "Failed to register machine %s, retrying: %m", a->machine_id);
                r = agent_arm_timer(a, &a->register_retry, REGISTER_RETRY_USEC, on_register_retry);
                if (r < 0)
                        log_error_errno(r, "Failed to arm the registration retry: %m");
                return;
        }

        a->stats.n_registrations++;
        if (!a->registered)
                log_info("Registered machine %s (%s) under lease %" PRIx64 ".", a->machine_id,
                         strna(a->public_ip), (uint64_t) a->lease_id);
        a->registered = true;

        /* States are written under the lease: publish everything again under the new one. */
        agent_schedule_publish(a);

        if (!a->ever_registered) {
                a->ever_registered = true;
                if (a->on_registered)
                        a->on_registered(a, a->on_registered_userdata);
        }
}

int agent_register(Agent *a) {
        _cleanup_free_ char *json = NULL;
        RegistryMachine m = {
                .id = a->machine_id,
                .public_ip = a->public_ip,
                .hostname = a->hostname,
                .metadata = a->metadata,
                .version = (char *) FLEET_VERSION,
                .agent_ttl_sec = a->ttl_sec,
                .has_capacity = a->has_capacity,
                .capacity = a->capacity,
        };
        int r;

        assert(a);

        if (a->lease_id == 0)
                return 0;

        r = registry_machine_to_json(&m, &json);
        if (r < 0)
                return r;

        a->register_call = etcd_call_cancel(a->register_call);
        r = etcd_put(a->etcd, a->machine_key, json, strlen(json), a->lease_id, 0, on_registered, a,
                     &a->register_call);
        if (r < 0) {
                log_warning_errno(r, "Failed to send the registration, retrying: %m");
                return agent_arm_timer(a, &a->register_retry, REGISTER_RETRY_USEC, on_register_retry);
        }
        return 0;
}

static void on_lease(EtcdLease *l, EtcdLeaseEvent event, int64_t lease_id, void *userdata) {
        Agent *a = userdata;

        if (a->shutting_down)
                return;

        switch (event) {

        case ETCD_LEASE_GRANTED:
                log_debug("Machine lease %" PRIx64 " granted.", (uint64_t) lease_id);
                a->lease_id = lease_id;
                a->registered = false;
                (void) agent_register(a);
                /* After a loss the leader may have moved our units: read the schedule again before
                 * starting anything that was fenced. */
                if (a->fenced)
                        (void) agent_assignments_sync(a);
                break;

        case ETCD_LEASE_EXPIRING:
                log_warning("The machine's lease %" PRIx64 " was not renewed in time and may expire "
                            "within %.1fs.", (uint64_t) lease_id,
                            (double) agent_fence_margin(a->ttl_sec) / USEC_PER_SEC);
                if (a->fence_on_lease_loss)
                        agent_fence(a);
                break;

        case ETCD_LEASE_RENEWED:
                /* It never expired: the registration and the states are intact, the leader moved
                 * nothing, and the schedule watch catches up by itself. */
                log_info("Renewed the machine's lease %" PRIx64 " after all.", (uint64_t) lease_id);
                if (!a->fenced_until_sync)
                        agent_unfence(a);
                break;

        case ETCD_LEASE_LOST:
                log_warning("Lost the machine's lease %" PRIx64 " (etcd expired or revoked it).",
                            (uint64_t) lease_id);
                a->stats.n_leases_lost++;
                a->lease_id = 0;
                a->registered = false;
                a->register_call = etcd_call_cancel(a->register_call);
                a->register_retry = sd_event_source_unref(a->register_retry);
                agent_states_forget(a);
                if (a->fence_on_lease_loss) {
                        agent_fence(a);
                        a->fenced_until_sync = a->fenced;
                }
                break;
        }
}

int agent_registration_start(Agent *a) {
        int r;

        assert(a);

        r = etcd_lease_keeper_new(&a->lease, a->etcd, a->ttl_sec, on_lease, a);
        if (r < 0)
                return r;
        return etcd_lease_keeper_set_margin(a->lease, agent_fence_margin(a->ttl_sec));
}
