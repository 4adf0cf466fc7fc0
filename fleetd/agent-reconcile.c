/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"
#include "strv.h"

/* One pass makes systemd match the schedule, in two steps around a single daemon-reload:
 *   before: stop what goes away or changes body, write and link new bodies, unlink old ones,
 *           enable and disable [Install] sections (sent ahead of the reload, applied before it);
 *   after:  start what should run and is not started yet, stop what should not run.
 * A pass that only writes units new to systemd, to start them, sends no reload: StartUnit loads a
 * unit's file the first time its name is mentioned (and a name it found missing before, once the
 * unit path changed: systemd's manager_unit_cache_should_retry_load()). A reload serialises and
 * reads again every unit of the machine, and holds the starts behind it: the survivors of a power
 * cut, taking over 150-300 units, waited 1-6 s for it under load before the first start.
 * A unit whose container's name is published is stopped (or restarted onto a new body) only once
 * the name was withdrawn and has drained (agent_names_drained()): the pass runs again then.
 * Changes that arrive while the reload is in flight are collected for one more pass. */

/* A loaded unit with an [Install] section may run without us: systemd pulls it in with the unit
 * that wants it (fleet's TestInstallUnit). Only what we started is ours to stop, unless fenced. */
static bool pulled_in(const Agent *a, const AgentUnit *u) {
        return u->file_install && u->assignment->desired == UNIT_DESIRED_LOADED && !agent_unit_fenced(a, u);
}

/* systemd's answer to the start of a unit written without a reload. Refused, it did not load the
 * file (a name it keeps as not found, pinned by another unit, with the unit path's cache not yet
 * outdated): the next pass reloads and starts it again. */
static void on_fresh_start_queued(SystemdClient *s, const char *unit, const char *job, void *userdata) {
        Agent *a = userdata;
        AgentUnit *u;

        u = hashmap_get(a->units, unit);
        if (!u || !u->fresh)
                return;
        u->fresh = false;
        if (job)
                return;
        log_info("systemd did not load %s for its start: reloading.", u->name);
        u->started = false;
        u->reread = true;
        a->reload_wanted = true;
        agent_schedule_reconcile(a);
}

/* Whether u's new file, the first this agent writes for it, may go without a reload: the pass
 * starts it, and its body has no [Install] section (the links a reload reads). */
static bool starts_without_reload(const Agent *a, const AgentUnit *u) {
        return !u->file_hash && !u->assignment_install && u->assignment->desired == UNIT_DESIRED_LAUNCHED &&
               !agent_unit_fenced(a, u) && !u->gave_up;
}

static void reconcile_after_reload(Agent *a) {
        _cleanup_strv_free_ char **refresh = NULL;
        AgentUnit *u;
        int r;

        HASHMAP_FOREACH(u, a->units) {
                bool run, blocked = false;

                if (!u->assignment || u->refused)
                        continue;
                /* A unit given up here stays stopped until the leader moves it (agent-failures.c). */
                run = u->assignment->desired == UNIT_DESIRED_LAUNCHED && !agent_unit_fenced(a, u) && !u->gave_up;

                if (run && !u->started &&
                    ((r = agent_objects_materialise(a, u)) != 0 || (r = agent_depends_check(a, u)) != 0)) {
                        /* Its secrets and configs are not there, or a dependency does not meet its
                         * condition yet: it waits, and says why (its state is read once, to
                         * publish the reason). */
                        if (r < 0)
                                log_oom();
                        if (u->load_state && !u->reread)
                                continue;
                        blocked = true;
                } else if (run && !u->started && u->needs_network && !a->network_ready) {
                        /* Plain units run as ever; only those on the cluster network wait for it. */
                        if (!u->waiting_network)
                                log_notice("Not starting %s yet: it needs the cluster network, which is not up "
                                           "on this machine: %s", u->name,
                                           strna(a->network_status));
                        u->waiting_network = true;
                        continue;
                }
                if (blocked)
                        ;
                else if (run && !u->started) {
                        /* A restart onto a new body stops the old copy first. */
                        if (u->changed && !agent_names_drained(a, u))
                                continue;
                        if (u->waiting_network)
                                log_info("The cluster network is up: starting %s.", u->name);
                        u->waiting_network = false;
                        /* StartUnit on a unit that already runs is a no-op in systemd: adopted
                         * units keep their processes. */
                        /* A fresh unit has no old body's state to track (agent_state_unit_job()). */
                        if (u->fresh)
                                r = systemd_client_queue_job(a->systemd, "StartUnit", u->name,
                                                             on_fresh_start_queued, a);
                        else
                                r = agent_state_unit_job(a, u, u->changed ? "RestartUnit" : "StartUnit");
                        if (r < 0) {
                                log_warning_errno(r, "Failed to start %s: %m", u->name);
                                continue;
                        }
                        if (u->changed)
                                agent_names_stopping(a, u);
                        else
                                agent_names_drain_cancel(a, u);
                        if (u->changed || (u->active_state && !agent_unit_is_running(u)))
                                log_info("%s %s.", u->changed ? "Restarting" : "Starting", u->name);
                        else
                                log_debug("Making sure %s runs.", u->name);
                        u->changed = false;
                        a->stats.n_starts++;
                        u->started = true;
                } else if (!run && (u->started ||
                                    (!pulled_in(a, u) &&
                                     (!u->active_state || agent_unit_is_running(u))))) {
                        if (!agent_names_drained(a, u))
                                continue;
                        r = agent_state_unit_job(a, u, "StopUnit");
                        if (r < 0) {
                                log_warning_errno(r, "Failed to stop %s: %m", u->name);
                                continue;
                        }
                        if (u->started || agent_unit_is_running(u))
                                log_info("Stopping %s%s.", u->name,
                                         agent_unit_fenced(a, u) ? " (the machine's lease may expire)" : "");
                        agent_names_stopping(a, u);
                        a->stats.n_stops++;
                        u->started = false;
                        u->changed = false;
                } else {
                        agent_names_drain_cancel(a, u);
                        /* Neither started nor stopped: a new body that does not run (inactive
                         * after the reload) has the state. */
                        agent_state_settled(a, u);
                        if (u->load_state && !u->reread)
                                continue;
                }

                u->reread = false;
                r = strv_extend(&refresh, u->name);
                if (r < 0) {
                        log_oom();
                        return;
                }
        }

        if (strv_length(refresh) > 0) {
                r = systemd_client_refresh(a->systemd, refresh, NULL, NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to read unit states from systemd: %m");
        }
        agent_schedule_publish(a);
}

static void on_reloaded(SystemdClient *s, int error, void *userdata) {
        Agent *a = userdata;

        a->reloading = false;
        if (a->shutting_down)
                return;
        reconcile_after_reload(a);
        if (a->reconcile_again) {
                a->reconcile_again = false;
                agent_schedule_reconcile(a);
        }
}

static int reconcile_before_reload(Agent *a, bool *ret_reload) {
        AgentUnit *u;
        bool reload = false;
        int r;

        HASHMAP_FOREACH(u, a->units) {
                bool had_install, fresh;

                if (u->disk_body)
                        continue;       /* not adopted nor dropped until the schedule was read */

                if (!u->assignment && u->refused) {
                        /* Never ours: nothing to stop, disable or remove. */
                        r = agent_state_delete(a, u);
                        if (r < 0)
                                return r;
                        agent_unit_drop(a, u);
                        continue;
                }
                if (!u->assignment) {
                        /* A state not read yet (a unit found on disk at start, left running by the
                         * fleetd before us) may be a running one: stopped, then read. */
                        bool stopped = u->active_state && unit_active_state_is_stopped(
                                        unit_active_state_from_string(u->active_state));

                        if (!u->unloading && (u->started || !stopped)) {
                                /* Its name is withdrawn already (no assignment: not publishable);
                                 * the stop waits for the drain. */
                                if (!agent_names_drained(a, u))
                                        continue;
                                log_info("Unloading %s.", u->name);
                                (void) systemd_client_stop_unit(a->systemd, u->name);
                                agent_names_stopping(a, u);
                                a->stats.n_stops++;
                                u->started = false;
                                u->unloading = !stopped;
                                /* An inactive unit's stop changes nothing systemd would report. */
                                if (!u->active_state)
                                        agent_schedule_refresh(a, u->name);
                        }
                        /* Its file stays until systemd has stopped it: a file removed and written
                         * again under a unit that still stops does not load ("failed to load
                         * properly: Device or resource busy": its cgroup holds its slice), and the
                         * start of that new body could cancel the stop and leave the old body
                         * running. Submitted again meanwhile, it is a changed body like any other:
                         * written, reloaded and restarted. agent_on_unit_state() brings us back. */
                        if (u->unloading && !stopped)
                                continue;
                        u->unloading = false;
                        r = agent_unit_file_uninstall(a, u);
                        if (r < 0)
                                log_warning_errno(r, "Failed to disable %s, ignoring: %m", u->name);
                        r = agent_unit_file_remove(a, u->name);
                        if (r < 0)
                                log_warning_errno(r, "Failed to remove the unit file of %s, ignoring: %m",
                                                  u->name);
                        agent_objects_unit_gone(a, u);
                        reload = reload || r > 0;
                        r = agent_state_delete(a, u);
                        if (r < 0)
                                return r;
                        agent_unit_drop(a, u);
                        continue;
                }

                u->unloading = false;   /* assigned again while it stopped: the stop job is replaced */

                if (!u->file_hash) {
                        _cleanup_free_ char *why = NULL;

                        r = agent_unit_file_foreign(a, u->name, &why);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                if (!streq_ptr(u->refused, why)) {
                                        log_error("Refusing to load %s: %s.", u->name, why);
                                        free_and_replace(u->refused, why);
                                        agent_schedule_publish(a);
                                }
                                continue;
                        }
                        if (u->refused) {
                                log_info("%s is free now: loading it.", u->name);
                                u->refused = mfree(u->refused);
                        }
                }

                if (streq_ptr(u->file_hash, u->assignment->hash)) {
                        /* Written for a start that no longer comes (desired "loaded" since): the
                         * reload loads it, for its load state. */
                        if (u->fresh && !u->started && u->assignment->desired != UNIT_DESIRED_LAUNCHED) {
                                u->fresh = false;
                                u->reread = true;
                                reload = true;
                        }
                        if (!agent_unit_file_linked(a, u->name)) {
                                r = agent_unit_file_write(a, u);
                                if (r < 0)
                                        log_error_errno(r, "Failed to link %s: %m", u->name);
                                reload = true;
                        }
                        continue;
                }

                /* A new body replacing another: once systemd has reloaded, the unit is restarted
                 * so that it runs the new body (fleet's unload, load, reload, start). */
                if (u->file_hash)
                        u->changed = true;
                had_install = u->file_install;
                fresh = starts_without_reload(a, u);
                r = agent_unit_file_write(a, u);
                if (r < 0) {
                        log_error_errno(r, "Failed to write the unit file of %s: %m", u->name);
                        continue;
                }
                r = agent_unit_file_install(a, u, had_install);
                if (r < 0)
                        log_error_errno(r, "Failed to enable %s: %m", u->name);
                log_info("Loading %s (%.7s).", u->name, u->assignment->hash);
                if (u->file_hash)
                        agent_state_body_replaced(a, u, TAKE_PTR(u->file_hash));
                u->file_hash = strdup(u->assignment->hash);
                if (!u->file_hash)
                        return -ENOMEM;
                u->started = false;
                /* A state read before this file (a unit assigned while the last reload ran is
                 * stopped and read before its file exists: "not-found") is the old one's. */
                u->reread = true;
                u->fresh = fresh;
                reload = reload || !fresh;
        }

        *ret_reload = reload;
        return 0;
}

static int on_reconcile(sd_event_source *s, void *userdata) {
        Agent *a = userdata;
        bool reload = false;
        int r;

        if (a->shutting_down || !a->synced)
                return 0;
        if (a->reloading) {
                a->reconcile_again = true;
                return 0;
        }

        r = reconcile_before_reload(a, &reload);
        if (r < 0) {
                log_error_errno(r, "Failed to apply the schedule: %m");
                return 0;
        }
        reload = reload || a->reload_wanted;
        if (!reload) {
                reconcile_after_reload(a);
                return 0;
        }

        r = systemd_client_reload(a->systemd, on_reloaded, a);
        if (r < 0) {
                log_error_errno(r, "Failed to reload systemd: %m");
                reconcile_after_reload(a);
                return 0;
        }
        a->stats.n_reloads++;
        a->reloading = true;
        a->reload_wanted = false;
        return 0;
}

void agent_schedule_reconcile(Agent *a) {
        if (!a->reconcile_event || a->shutting_down)
                return;
        if (a->reloading) {
                a->reconcile_again = true;
                return;
        }
        (void) sd_event_source_set_enabled(a->reconcile_event, SD_EVENT_ONESHOT);
}

int agent_reconcile_setup(Agent *a) {
        int r;

        r = sd_event_add_defer(a->event, &a->reconcile_event, on_reconcile, a);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(a->reconcile_event, SD_EVENT_OFF);
}
