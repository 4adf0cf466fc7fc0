/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"
#include "unit-network.h"

#define SYNC_RETRY_USEC (1 * USEC_PER_SEC)

int agent_unit_set_assignment(Agent *a, const char *name, RegistryAssignment *assignment) {
        _cleanup_(registry_assignment_freep) RegistryAssignment *new = assignment;
        RegistryAssignment *old;
        AgentUnit *u;

        u = hashmap_get(a->units, name);
        if (!u && !new)
                return 0;
        if (!u) {
                u = agent_unit_get_or_add(a, name);
                if (!u)
                        return -ENOMEM;
        }
        old = u->assignment;

        /* Adoption: the body on disk from before our start is the assigned one, so neither the
         * file nor the running unit need to be touched. */
        if (u->disk_body) {
                free(u->file_hash);
                /* "" stands for "another body": it is replaced, and the unit restarted. */
                u->file_hash = strdup(new && streq(u->disk_body, new->raw) ? new->hash : "");
                if (!u->file_hash)
                        return -ENOMEM;
                u->disk_body = mfree(u->disk_body);
        }

        if (old && new && streq(old->hash, new->hash) && old->desired == new->desired)
                return 0;

        /* A new body or desired state is started anew. A unit that goes away keeps "started": the
         * unload stops what we started, whatever systemd said last (a queued start job reads
         * inactive, and runs the unit later). */
        if (new && (!old || !streq(old->hash, new->hash) || old->desired != new->desired)) {
                u->started = false;
                /* A new body or a new start: its failures here count from zero. */
                agent_failures_reset(u);
        }
        if (new)
                u->global = new->global;
        if (new && (!old || !streq(old->hash, new->hash))) {
                /* What the agent needs of a body, read once per new body: an unparsable one has no
                 * [Install], network or names as far as we can tell; systemd will say more. */
                _cleanup_(unit_file_freep) UnitFile *f = NULL;

                if (unit_file_parse(new->raw, strlen(new->raw), &f, NULL) < 0)
                        f = unit_file_free(f);
                u->needs_network = f && unit_file_needs_cluster_network(f);
                u->assignment_install = f && unit_file_has_section(f, "Install");
                if (agent_names_set_body(a, u, f) < 0 || agent_health_set_body(a, u, f) < 0 ||
                    agent_failures_set_body(a, u, f) < 0 ||
                    agent_objects_set_body(a, u, f) < 0 || agent_depends_set_body(a, u, f) < 0)
                        return -ENOMEM;
        }

        registry_assignment_free(u->assignment);
        u->assignment = TAKE_PTR(new);
        agent_depends_gc(a);            /* once u's assignment is in place: it counts as a user */
        agent_schedule_reconcile(a);
        return 0;
}

/* The unit name of an assignment key of this machine, or NULL if the key is not one. */
static char *assignment_key_unit(Agent *a, const char *key) {
        _cleanup_free_ char *machine = NULL, *unit = NULL;
        int r;

        r = registry_parse_key(a->prefix, key, &machine, &unit);
        if (r != REGISTRY_KEY_ASSIGNMENT || !streq_ptr(machine, a->machine_id))
                return NULL;
        return TAKE_PTR(unit);
}

static int apply_put(Agent *a, const EtcdKeyValue *kv) {
        _cleanup_free_ char *unit = NULL;
        RegistryAssignment *assignment = NULL;
        int r;

        unit = assignment_key_unit(a, kv->key);
        if (!unit)
                return 0;
        r = registry_assignment_from_json(kv->value, kv->value_size, &assignment);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !streq_ptr(assignment->unit, unit)) {
                /* A malformed record must not take the unit down, nor stop the others. */
                log_warning("Ignoring malformed assignment %s.", kv->key);
                registry_assignment_free(assignment);
                return 0;
        }
        return agent_unit_set_assignment(a, unit, assignment);
}

static int on_sync_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;

        a->sync_retry = sd_event_source_unref(a->sync_retry);
        (void) agent_assignments_sync(a);
        return 0;
}

static void sync_later(Agent *a) {
        int r;

        r = agent_arm_timer(a, &a->sync_retry, SYNC_RETRY_USEC, on_sync_retry);
        if (r < 0)
                log_error_errno(r, "Failed to arm the schedule re-read: %m");
}

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Agent *a = userdata;
        int r;

        if (error < 0) {
                log_warning_errno(error, "The schedule watch ended, reading the schedule again: %m");
                a->watch = etcd_watch_free(a->watch);
                if (error == -ESTALE)
                        (void) agent_assignments_sync(a);
                else
                        sync_later(a);
                return;
        }

        for (size_t i = 0; i < n_events; i++) {
                const EtcdEvent *e = &events[i];

                if (e->type == ETCD_EVENT_PUT)
                        r = apply_put(a, &e->kv);
                else {
                        _cleanup_free_ char *unit = assignment_key_unit(a, e->kv.key);

                        r = unit ? agent_unit_set_assignment(a, unit, NULL) : 0;
                }
                if (r < 0)
                        log_error_errno(r, "Failed to apply a schedule change: %m");
        }
}

static void on_synced(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Agent *a = userdata;
        _cleanup_(set_freep) Set *seen = NULL;
        AgentUnit *u;
        int r;

        a->sync_call = NULL;
        if (error < 0) {
                log_warning_errno(error, "Failed to read the schedule of this machine, retrying: %m");
                sync_later(a);
                return;
        }

        seen = set_new();
        if (!seen)
                goto oom;

        for (size_t i = 0; i < response->n_kvs; i++) {
                _cleanup_free_ char *unit = assignment_key_unit(a, response->kvs[i].key);

                if (!unit)
                        continue;
                r = apply_put(a, &response->kvs[i]);
                if (r < 0)
                        goto oom;
                u = hashmap_get(a->units, unit);
                if (u && set_put(seen, u->name) < 0)
                        goto oom;
        }

        /* Whatever is not in the schedule any more is ours no longer. */
        HASHMAP_FOREACH(u, a->units)
                if (!set_contains(seen, u->name)) {
                        u->disk_body = mfree(u->disk_body);
                        /* "started" stays: the unload stops what we started (see above). */
                        u->assignment = registry_assignment_free(u->assignment);
                }

        agent_objects_clean_stale(a);
        a->stats.n_syncs++;
        log_debug("Schedule read at revision %" PRIi64 ": %zu units.", response->revision, set_size(seen));
        a->synced = true;

        r = etcd_watch_new(&a->watch, a->etcd, a->schedule_prefix, ETCD_PREFIX, response->revision + 1,
                           on_watch, a);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch the schedule, retrying: %m");
                sync_later(a);
        }

        /* The lease is back and the schedule is fresh: what is still ours may run again. */
        if (a->fenced && a->lease_id != 0)
                agent_unfence(a);
        agent_schedule_reconcile(a);
        return;

oom:
        log_oom();
        sync_later(a);
}

int agent_assignments_sync(Agent *a) {
        EtcdRangeOptions options = {
                .key = a->schedule_prefix,
                .flags = ETCD_PREFIX,
        };
        int r;

        assert(a);

        if (a->shutting_down)
                return 0;

        a->watch = etcd_watch_free(a->watch);
        a->sync_call = etcd_call_cancel(a->sync_call);
        a->sync_retry = sd_event_source_unref(a->sync_retry);

        r = etcd_range(a->etcd, &options, on_synced, a, &a->sync_call);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the schedule, retrying: %m");
                sync_later(a);
        }
        return 0;
}
