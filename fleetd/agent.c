/* SPDX-License-Identifier: Apache-2.0 */

#include <signal.h>

#include "agent-internal.h"
#include "cluster-key.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"

AgentUnit *agent_unit_free(AgentUnit *u) {
        if (!u)
                return NULL;
        free(u->name);
        registry_assignment_free(u->assignment);
        free(u->file_hash);
        free(u->disk_body);
        free(u->load_state);
        free(u->active_state);
        free(u->sub_state);
        free(u->refused);
        free(u->published);
        free(u->stale_hash);
        free(u->stale_job);
        agent_names_unit_clear(u);
        agent_health_unit_clear(u);
        agent_failures_reset(u);
        agent_objects_unit_clear(u);
        agent_depends_unit_clear(u);
        return mfree(u);
}

static void agent_unit_free_void(void *p) {
        agent_unit_free(p);
}

AgentUnit *agent_unit_get_or_add(Agent *a, const char *name) {
        _cleanup_(agent_unit_freep) AgentUnit *u = NULL;
        AgentUnit *existing;

        existing = hashmap_get(a->units, name);
        if (existing)
                return existing;

        u = new0(AgentUnit, 1);
        if (!u)
                return NULL;
        u->name = strdup(name);
        if (!u->name)
                return NULL;
        if (hashmap_put(a->units, u->name, u) < 0)
                return NULL;
        return TAKE_PTR(u);
}

void agent_unit_drop(Agent *a, AgentUnit *u) {
        if (!u)
                return;
        (void) hashmap_remove(a->units, u->name);
        agent_unit_free(u);
        agent_depends_gc(a);
}

int agent_arm_timer(Agent *a, sd_event_source **source, uint64_t usec, sd_event_time_handler_t handler) {
        *source = sd_event_source_unref(*source);
        return sd_event_add_time_relative(a->event, source, CLOCK_MONOTONIC, usec, 0, handler, a);
}

static int dup_dir(const char *s, char **ret) {
        if (isempty(s) || !endswith(s, "/"))
                return -EINVAL;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int agent_new(Agent **ret, sd_event *event, EtcdClient *etcd, const AgentConfig *config) {
        _cleanup_(agent_freep) Agent *a = NULL;
        int r;

        assert(ret);
        assert(event);
        assert(etcd);
        assert(config);

        if (isempty(config->machine_id) || config->ttl_sec < 2)
                return -EINVAL;

        a = new0(Agent, 1);
        if (!a)
                return -ENOMEM;
        a->event = sd_event_ref(event);
        a->etcd = etcd;
        a->ttl_sec = config->ttl_sec;
        a->fence_on_lease_loss = config->fence_on_lease_loss;
        a->name_drain_usec = config->name_drain_usec;

        r = dup_dir(config->key_prefix ?: REGISTRY_DEFAULT_PREFIX, &a->prefix);
        if (r < 0)
                return r;
        r = dup_dir(config->units_directory, &a->units_dir);
        if (r < 0)
                return r;
        r = dup_dir(config->link_directory ?: "/run/systemd/system/", &a->link_dir);
        if (r < 0)
                return r;
        r = dup_dir(config->objects_directory ?: CLUSTER_OBJECTS_DIR "/", &a->objects_dir);
        if (r < 0)
                return r;
        a->cluster_key_path = strdup(config->cluster_key_path ?: CLUSTER_KEY_DEFAULT_PATH);
        if (!a->cluster_key_path)
                return -ENOMEM;
        if (config->unit_path) {
                a->unit_path = strv_copy(config->unit_path);
                if (!a->unit_path)
                        return -ENOMEM;
        }

        if (config->capacity) {
                r = resources_copy(config->capacity, &a->capacity);
                if (r < 0)
                        return r;
                a->has_capacity = true;
        }
        a->machine_id = strdup(config->machine_id);
        a->metadata = config->metadata ? strv_copy(config->metadata) : new0(char *, 1);
        if (!a->machine_id || !a->metadata)
                return -ENOMEM;
        if ((config->public_ip && !(a->public_ip = strdup(config->public_ip))) ||
            (config->hostname && !(a->hostname = strdup(config->hostname))) ||
            (config->systemd_address && !(a->systemd_address = strdup(config->systemd_address))))
                return -ENOMEM;

        a->machine_key = registry_machine_key(a->prefix, a->machine_id);
        a->schedule_prefix = registry_machine_schedule_prefix(a->prefix, a->machine_id);
        a->units = hashmap_new();
        a->state_deletes = set_new();
        a->refresh = set_new();
        a->name_deletes = set_new();
        if (!a->machine_key || !a->schedule_prefix || !a->units || !a->state_deletes || !a->refresh ||
            !a->name_deletes)
                return -ENOMEM;

        *ret = TAKE_PTR(a);
        return 0;
}

void agent_set_registered_handler(Agent *a, agent_registered_handler_t handler, void *userdata) {
        assert(a);
        a->on_registered = handler;
        a->on_registered_userdata = userdata;
}

int agent_start(Agent *a) {
        SystemdClientHandlers handlers = {
                .unit_state = agent_on_unit_state,
                .job_removed = agent_on_job_removed,
                .userdata = a,
        };
        int r;

        assert(a);

        if (a->systemd)
                return -EBUSY;

        r = mkdir_p(a->units_dir, 0755);
        if (r < 0)
                return r;
        r = mkdir_p(a->link_dir, 0755);
        if (r < 0)
                return r;

        /* The runtime's "inspect" children (agent-names.c) are reaped through the event loop. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = systemd_client_new(&a->systemd, a->event, a->systemd_address, &handlers);
        if (r < 0)
                return r;

        r = agent_reconcile_setup(a);
        if (r < 0)
                return r;
        r = agent_states_setup(a);
        if (r < 0)
                return r;

        r = agent_unit_files_scan(a);
        if (r < 0)
                return r;

        r = agent_objects_start(a);
        if (r < 0)
                return r;
        r = agent_name_acks_start(a);
        if (r < 0)
                return r;
        r = agent_registration_start(a);
        if (r < 0)
                return r;
        return agent_assignments_sync(a);
}

int agent_update_machine(Agent *a, const char *public_ip, char *const *metadata) {
        _cleanup_strv_free_ char **m = NULL;
        _cleanup_free_ char *ip = NULL;

        assert(a);

        if (streq_ptr(public_ip, a->public_ip) && strv_equal(a->metadata, (char **) metadata))
                return 0;

        m = metadata ? strv_copy(metadata) : new0(char *, 1);
        if (!m || (public_ip && !(ip = strdup(public_ip))))
                return -ENOMEM;
        free_and_replace(a->public_ip, ip);
        strv_free(a->metadata);
        a->metadata = TAKE_PTR(m);

        if (a->lease_id == 0)
                return 0;
        log_info("Machine information changed, registering again.");
        return agent_register(a);
}

void agent_set_network(Agent *a, bool ready, const char *status) {
        char *s = NULL;

        assert(a);

        if (status && !(s = strdup(status))) {
                log_oom();
                return;
        }
        free_and_replace(a->network_status, s);
        if (ready == a->network_ready)
                return;
        a->network_ready = ready;
        agent_schedule_reconcile(a);
}

void agent_set_fence_on_lease_loss(Agent *a, bool b) {
        assert(a);
        a->fence_on_lease_loss = b;
}

void agent_set_name_drain(Agent *a, uint64_t usec) {
        assert(a);
        a->name_drain_usec = usec;
}

static void agent_shutdown_finish(Agent *a) {
        if (a->on_shutdown) {
                agent_shutdown_handler_t done = a->on_shutdown;

                a->on_shutdown = NULL;
                done(a, a->on_shutdown_userdata);
        }
}

static void on_revoked(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Agent *a = userdata;

        a->revoke_call = NULL;
        if (error < 0)
                log_warning_errno(error, "Failed to revoke the machine's lease, it will expire: %m");
        else
                log_info("Released the machine's lease.");
        agent_shutdown_finish(a);
}

/* The purge (if any) is done: release the registration. */
static void agent_shutdown_release(Agent *a) {
        int64_t id = a->lease_id;
        int r;

        a->lease = etcd_lease_keeper_free(a->lease);
        a->lease_id = 0;
        a->registered = false;

        if (!a->shutdown_revoke || id == 0) {
                agent_shutdown_finish(a);
                return;
        }
        r = etcd_lease_revoke(a->etcd, id, on_revoked, a, &a->revoke_call);
        if (r < 0) {
                log_warning_errno(r, "Failed to revoke the machine's lease, it will expire: %m");
                agent_shutdown_finish(a);
        }
}

static void on_purge_reloaded(SystemdClient *s, int error, void *userdata) {
        agent_shutdown_release(userdata);
}

int agent_shutdown(Agent *a, bool purge, bool revoke, agent_shutdown_handler_t done, void *userdata) {
        AgentUnit *u;
        bool removed = false;
        int r;

        assert(a);

        a->shutting_down = true;
        a->on_shutdown = done;
        a->on_shutdown_userdata = userdata;
        a->shutdown_revoke = revoke;

        a->watch = etcd_watch_free(a->watch);
        a->sync_call = etcd_call_cancel(a->sync_call);
        a->sync_retry = sd_event_source_unref(a->sync_retry);
        a->register_retry = sd_event_source_unref(a->register_retry);
        if (a->reconcile_event)
                (void) sd_event_source_set_enabled(a->reconcile_event, SD_EVENT_OFF);

        if (!purge || !a->systemd) {
                agent_shutdown_release(a);
                return 0;
        }

        log_info("Stopping and unloading %zu units.", hashmap_size(a->units));
        HASHMAP_FOREACH(u, a->units) {
                (void) systemd_client_stop_unit(a->systemd, u->name);
                a->stats.n_stops++;
                r = agent_unit_file_uninstall(a, u);
                if (r < 0)
                        log_warning_errno(r, "Failed to disable %s, ignoring: %m", u->name);
                r = agent_unit_file_remove(a, u->name);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove unit file %s, ignoring: %m", u->name);
                removed = removed || r > 0;
                agent_unit_drop(a, u);
        }
        if (!removed) {
                agent_shutdown_release(a);
                return 0;
        }
        a->stats.n_reloads++;
        r = systemd_client_reload(a->systemd, on_purge_reloaded, a);
        if (r < 0) {
                agent_shutdown_release(a);
                return 0;
        }
        return 0;
}

bool agent_is_being_restarted(Agent *a) {
        _cleanup_free_ char *type = NULL;

        if (!a || !a->systemd)
                return false;
        if (systemd_client_own_job_type(a->systemd, &type) < 0)
                return false;
        return streq_ptr(type, "restart");
}

Agent *agent_free(Agent *a) {
        if (!a)
                return NULL;

        etcd_lease_keeper_free(a->lease);
        etcd_call_cancel(a->register_call);
        etcd_call_cancel(a->sync_call);
        etcd_call_cancel(a->publish_call);
        etcd_call_cancel(a->revoke_call);
        etcd_watch_free(a->watch);
        sd_event_source_unref(a->register_retry);
        sd_event_source_unref(a->sync_retry);
        sd_event_source_unref(a->reconcile_event);
        sd_event_source_unref(a->publish_event);
        sd_event_source_unref(a->refresh_event);
        sd_event_source_unref(a->publish_retry);
        systemd_client_free(a->systemd);
        agent_objects_done(a);
        agent_depends_done(a);
        agent_name_acks_done(a);

        hashmap_free_with_destructor(a->units, agent_unit_free_void);
        set_free_free(a->state_deletes);
        set_free_free(a->refresh);
        strv_free(a->deletes_in_flight);
        set_free_free(a->name_deletes);
        strv_free(a->name_deletes_in_flight);

        free(a->prefix);
        free(a->machine_id);
        free(a->public_ip);
        free(a->hostname);
        strv_free(a->metadata);
        resources_done(&a->capacity);
        free(a->units_dir);
        free(a->objects_dir);
        free(a->cluster_key_path);
        free(a->link_dir);
        strv_free(a->unit_path);
        free(a->systemd_address);
        free(a->network_status);
        free(a->machine_key);
        free(a->schedule_prefix);
        sd_event_unref(a->event);
        return mfree(a);
}

SystemdClient *agent_get_systemd(Agent *a) {
        return a ? a->systemd : NULL;
}

const AgentStats *agent_get_stats(const Agent *a) {
        return &a->stats;
}
