/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"
#include "strv.h"

#define PUBLISH_RETRY_USEC (1 * USEC_PER_SEC)

static int update_field(char **field, const char *value, bool *changed) {
        char *s;

        if (!value || streq_ptr(*field, value))
                return 0;
        s = strdup(value);
        if (!s)
                return -ENOMEM;
        free_and_replace(*field, s);
        *changed = true;
        return 0;
}

void agent_on_unit_state(SystemdClient *s, const char *unit, const char *load_state,
                         const char *active_state, const char *sub_state, void *userdata) {
        Agent *a = userdata;
        bool changed = false;
        bool was_failed, was_auto_restart;
        AgentUnit *u;

        u = hashmap_get(a->units, unit);
        if (!u || u->refused)
                return;         /* a refused unit's name is another unit's, whose state is not ours */
        was_failed = streq_ptr(u->active_state, "failed");
        was_auto_restart = streq_ptr(u->sub_state, "auto-restart");
        if (update_field(&u->load_state, load_state, &changed) < 0 ||
            update_field(&u->active_state, active_state, &changed) < 0 ||
            update_field(&u->sub_state, sub_state, &changed) < 0) {
                log_oom();
                return;
        }
        if (changed) {
                log_debug("%s: %s/%s/%s", unit, strna(u->load_state), strna(u->active_state),
                          strna(u->sub_state));
                agent_failures_on_state(a, u, was_failed, was_auto_restart);
                agent_health_on_state(a, u);
                agent_names_on_state(a, u);
                agent_schedule_publish(a);
                /* An unloading unit's file is removed once it has stopped. */
                if (u->unloading)
                        agent_schedule_reconcile(a);
        }
}

static void stale_end(Agent *a, AgentUnit *u) {
        u->stale_hash = mfree(u->stale_hash);
        u->stale_job = mfree(u->stale_job);
        u->stale_job_sent = false;
        agent_schedule_publish(a);
}

void agent_state_body_replaced(Agent *a, AgentUnit *u, char *old_hash) {
        /* Replaced again before the first replacement's job finished: systemd may still run the
         * first body, whose state it is. */
        if (u->stale_hash)
                free(old_hash);
        else
                u->stale_hash = old_hash;
        u->stale_job = mfree(u->stale_job);
        u->stale_job_sent = false;
}

static void on_stale_job_queued(SystemdClient *s, const char *unit, const char *job, void *userdata) {
        Agent *a = userdata;
        AgentUnit *u;

        u = hashmap_get(a->units, unit);
        if (!u || !u->stale_hash || !u->stale_job_sent || u->stale_job)
                return;         /* replaced again since: the next job counts */
        /* Refused: what systemd reports now is the new body's failure to run. */
        if (!job) {
                stale_end(a, u);
                return;
        }
        u->stale_job = strdup(job);
        if (!u->stale_job) {
                log_oom();
                stale_end(a, u);
        }
}

int agent_state_unit_job(Agent *a, AgentUnit *u, const char *method) {
        bool track = u->stale_hash && !u->stale_job_sent;
        int r;

        r = systemd_client_queue_job(a->systemd, method, u->name, track ? on_stale_job_queued : NULL, a);
        if (r < 0)
                return r;
        if (track)
                u->stale_job_sent = true;
        return 0;
}

void agent_state_settled(Agent *a, AgentUnit *u) {
        if (u->stale_hash && !u->stale_job_sent && !agent_unit_is_running(u))
                stale_end(a, u);
}

void agent_on_job_removed(SystemdClient *s, const char *unit, const char *job, const char *result,
                          void *userdata) {
        Agent *a = userdata;
        AgentUnit *u;

        u = hashmap_get(a->units, unit);
        if (!u)
                return;
        if (!streq(result, "done"))
                log_notice("Job for %s finished: %s.", unit, result);
        /* systemd sends a unit's pending state change before its job's JobRemoved: what it
         * reported last is the outcome of the job for the new body. */
        if (u->stale_job && streq(u->stale_job, job)) {
                stale_end(a, u);
                /* The new body's own failure within that job, not counted while the state was
                 * the old body's (agent-failures.c). */
                agent_failures_on_state(a, u, false, false);
        }
        agent_names_job_ended(a, u);
        /* PropertiesChanged normally tells the outcome already; a read makes sure of it. */
        agent_schedule_refresh(a, unit);
}

void agent_schedule_refresh(Agent *a, const char *unit) {
        if (!a->refresh_event || set_contains(a->refresh, unit))
                return;
        if (set_consume(a->refresh, strdup(unit)) < 0) {
                log_oom();
                return;
        }
        (void) sd_event_source_set_enabled(a->refresh_event, SD_EVENT_ONESHOT);
}

static int on_refresh(sd_event_source *s, void *userdata) {
        Agent *a = userdata;
        _cleanup_strv_free_ char **names = NULL;
        size_t i = 0;
        char *name;
        int r;

        names = new0(char *, set_size(a->refresh) + 1);
        if (!names)
                return log_oom();
        SET_FOREACH(name, a->refresh)
                names[i++] = name;
        hashmap_clear(a->refresh);      /* the names now belong to the vector */

        if (i == 0 || a->shutting_down)
                return 0;
        r = systemd_client_refresh(a->systemd, names, NULL, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to read unit states from systemd: %m");
        return 0;
}

void agent_schedule_publish(Agent *a) {
        if (!a->publish_event)
                return;
        (void) sd_event_source_set_enabled(a->publish_event, SD_EVENT_ONESHOT);
}

void agent_states_forget(Agent *a) {
        AgentUnit *u;
        char *name;

        HASHMAP_FOREACH(u, a->units) {
                u->published = mfree(u->published);
                u->published_lease = 0;
        }
        /* The keys left with the lease. */
        SET_FOREACH(name, a->state_deletes)
                free(set_remove(a->state_deletes, name));
        a->deletes_in_flight = strv_free(a->deletes_in_flight);
        agent_names_forget(a);
}

int agent_state_delete(Agent *a, AgentUnit *u) {
        if (agent_names_unit_gone(a, u) < 0)
                return -ENOMEM;
        if (!u->published)
                return 0;
        u->published = mfree(u->published);
        return set_consume(a->state_deletes, strdup(u->name)) < 0 ? -ENOMEM : 0;
}

static int on_publish_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;

        a->publish_retry = sd_event_source_unref(a->publish_retry);
        agent_schedule_publish(a);
        return 0;
}

static void on_published(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Agent *a = userdata;
        AgentUnit *u;
        int r;

        a->publish_call = NULL;

        if (error >= 0) {
                a->deletes_in_flight = strv_free(a->deletes_in_flight);
                agent_names_published(a, response->revision);
                agent_schedule_publish(a);
                return;
        }

        log_warning_errno(error, "Failed to publish unit states, retrying: %m");
        /* Not knowing what was written, write everything again. */
        HASHMAP_FOREACH(u, a->units)
                u->published_lease = 0;
        STRV_FOREACH(n, a->deletes_in_flight)
                if (set_consume(a->state_deletes, strdup(*n)) < 0)
                        log_oom();
        a->deletes_in_flight = strv_free(a->deletes_in_flight);
        agent_names_publish_failed(a);

        r = agent_arm_timer(a, &a->publish_retry, PUBLISH_RETRY_USEC, on_publish_retry);
        if (r < 0)
                log_error_errno(r, "Failed to arm the state publishing retry: %m");
}

static int state_json(Agent *a, AgentUnit *u, char **ret) {
        RegistryUnitState s = {
                .unit = u->name,
                .machine_id = a->machine_id,
                .hash = u->stale_hash ?: u->file_hash,
                .load_state = u->load_state,
                .active_state = u->active_state,
                .sub_state = u->sub_state,
                .health = u->health,
                .reason = u->objects_blocked ?: u->depends_blocked,
                .failures = agent_failures_count(u),
                .gave_up = u->gave_up,
        };

        if (u->refused)
                s = (RegistryUnitState) {
                        .unit = u->name,
                        .machine_id = a->machine_id,
                        .hash = u->assignment->hash,
                        .load_state = (char *) REGISTRY_LOAD_REFUSED,
                        .active_state = (char *) "inactive",
                        .sub_state = (char *) "dead",
                        .reason = u->refused,
                };

        return registry_unit_state_to_json(&s, ret);
}

static int publish_build(Agent *a, EtcdTxn *t) {
        AgentUnit *u;
        char *name;
        int r;

        SET_FOREACH(name, a->state_deletes) {
                _cleanup_free_ char *key = NULL;

                if (etcd_txn_n_ops(t, true) >= ETCD_TXN_MAX_OPS)
                        return 0;
                /* A unit that is back is simply put again: a txn may not touch a key twice. */
                if (!hashmap_contains(a->units, name)) {
                        key = registry_state_key(a->prefix, name, a->machine_id);
                        if (!key)
                                return -ENOMEM;
                        r = etcd_txn_delete(t, true, key, 0);
                        if (r < 0)
                                return r;
                        r = strv_extend(&a->deletes_in_flight, name);
                        if (r < 0)
                                return r;
                }
                free(set_remove(a->state_deletes, name));
        }

        HASHMAP_FOREACH(u, a->units) {
                _cleanup_free_ char *json = NULL, *key = NULL;

                if (!u->assignment ||
                    (!u->refused && (!u->file_hash || !streq(u->file_hash, u->assignment->hash) || !u->load_state ||
                                     streq_ptr(u->stale_hash, ""))))
                        continue;
                r = state_json(a, u, &json);
                if (r < 0)
                        return r;
                if (u->published_lease == a->lease_id && streq_ptr(u->published, json))
                        continue;
                if (etcd_txn_n_ops(t, true) >= ETCD_TXN_MAX_OPS)
                        return 0;

                key = registry_state_key(a->prefix, u->name, a->machine_id);
                if (!key)
                        return -ENOMEM;
                r = etcd_txn_put(t, true, key, json, strlen(json), a->lease_id, 0);
                if (r < 0)
                        return r;
                free_and_replace(u->published, json);
                u->published_lease = a->lease_id;
        }
        return agent_names_publish_build(a, t);
}

static int on_publish(sd_event_source *s, void *userdata) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        Agent *a = userdata;
        int r;

        if (!a->registered || a->publish_call || a->publish_retry || a->shutting_down)
                return 0;

        r = etcd_txn_new(&t);
        if (r < 0)
                return log_oom();
        r = publish_build(a, t);
        if (r < 0) {
                log_error_errno(r, "Failed to prepare the unit states: %m");
                return 0;
        }
        if (etcd_txn_n_ops(t, true) == 0)
                return 0;

        r = etcd_txn_commit(a->etcd, t, on_published, a, &a->publish_call);
        if (r < 0) {
                on_published(a->etcd, r, NULL, a);
                return 0;
        }
        a->stats.n_state_txns++;
        a->stats.n_state_ops += etcd_txn_n_ops(t, true);
        return 0;
}

int agent_states_setup(Agent *a) {
        int r;

        r = sd_event_add_defer(a->event, &a->publish_event, on_publish, a);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(a->publish_event, SD_EVENT_OFF);
        if (r < 0)
                return r;
        /* Publish after the other work of an iteration, so that one txn carries a whole burst. */
        r = sd_event_source_set_priority(a->publish_event, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                return r;

        r = sd_event_add_defer(a->event, &a->refresh_event, on_refresh, a);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(a->refresh_event, SD_EVENT_OFF);
}
