/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "log.h"
#include "runtime-inspect.h"
#include "string-util.h"
#include "xfleet.h"

/* The health of this machine's containers. The runtime runs the healthcheck itself: podman 4.3
 * through the transient systemd timer it creates per container ("podman healthcheck run"), docker
 * in its daemon; both from the --health-* flags unitgen put on their command line. So the check
 * runs in the container's namespaces, with the runtime's own semantics for interval, timeout,
 * retries and start period, and its log is in "inspect". The agent only reads the result
 * (State.Health.Status) on the check's interval while the unit runs, publishes it with the unit's
 * state when it changes, and restarts the unit when it turns unhealthy, as swarm does: podman 4.3
 * and docker do nothing about an unhealthy container themselves. */

/* The first read after activation: soon, so that "starting" turns into the real answer early. */
#define HEALTH_FIRST_USEC (1 * USEC_PER_SEC)

typedef struct HealthProbe {
        Agent *agent;
        char *unit;
} HealthProbe;

static void health_probe_free(void *p) {
        HealthProbe *probe = p;

        if (!probe)
                return;
        free(probe->unit);
        free(probe);
}

void agent_health_unit_clear(AgentUnit *u) {
        u->health_probe = sd_event_source_unref(u->health_probe);
        u->health_timer = sd_event_source_unref(u->health_timer);
        u->health_runtime = mfree(u->health_runtime);
        u->health_container = mfree(u->health_container);
        u->health = UNIT_HEALTH_NONE;
}

int agent_health_set_body(Agent *a, AgentUnit *u, const UnitFile *f) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_free_ char *error = NULL;
        const char *restart;
        int r;

        agent_health_unit_clear(u);
        if (!f)
                return 0;
        r = xfleet_options_parse(f, u->name, &x, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning("%s: %s; its health is not read.", u->name, strna(error));
                return 0;
        }
        if (!x->health_runtime)
                return 0;
        u->health_runtime = TAKE_PTR(x->health_runtime);
        u->health_container = TAKE_PTR(x->health_container);
        u->health_interval_sec = x->health_interval_sec;
        /* systemd's default is no restart: an unhealthy unit is restarted where it would be
         * restarted after a crash. */
        restart = unit_file_get_last(f, "Service", "Restart");
        u->health_restart = restart && !streq(restart, "no");
        return 0;
}

static int health_arm(Agent *a, AgentUnit *u, uint64_t usec);

static void health_set(Agent *a, AgentUnit *u, UnitHealth h) {
        UnitHealth old = u->health;

        if (h == old)
                return;
        u->health = h;
        log_full(h == UNIT_HEALTH_UNHEALTHY ? LOG_NOTICE : LOG_INFO, "%s: container %s is %s.", u->name,
                 u->health_container, strna(unit_health_to_string(h)));
        agent_names_on_state(a, u);
        agent_schedule_publish(a);

        if (h == UNIT_HEALTH_UNHEALTHY && u->health_restart && u->assignment &&
            u->assignment->desired == UNIT_DESIRED_LAUNCHED && !a->fenced) {
                int r;

                /* A failure like a crash: the last one allowed here stops it instead. */
                if (agent_failures_record(a, u, "unhealthy"))
                        return;
                u->restarting_unhealthy = true;
                log_notice("%s: restarting it, its container is unhealthy.", u->name);
                r = systemd_client_restart_unit(a->systemd, u->name);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot restart it: %m", u->name);
        }
}

static void on_health_read(sd_event_source *s, const char *output, bool success, void *userdata) {
        HealthProbe *probe = userdata;
        Agent *a = probe->agent;
        _cleanup_free_ char *word = NULL;
        UnitHealth h = _UNIT_HEALTH_INVALID;
        AgentUnit *u;

        u = hashmap_get(a->units, probe->unit);
        if (!u || u->health_probe != s)
                return;
        u->health_probe = sd_event_source_unref(u->health_probe);       /* frees probe */

        if (success) {
                word = strndup(output, strcspn(output, WHITESPACE));
                if (!word) {
                        log_oom();
                        return;
                }
                h = unit_health_from_string(word);
        }
        if (h < 0)
                /* Gone between two reads, or not up yet (docker's unit is active before its
                 * container exists): no news, ask again on the interval. */
                log_debug("%s: no health from %s inspect %s (%s).", u->name, u->health_runtime,
                          u->health_container, success ? strna(word) : "failed");
        else
                health_set(a, u, h);
        (void) health_arm(a, u, u->health_interval_sec * USEC_PER_SEC);
}

static int on_health_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HealthProbe *probe = userdata;
        Agent *a = probe->agent;
        AgentUnit *u = hashmap_get(a->units, probe->unit);
        HealthProbe *p;
        int r;

        if (!u || u->health_timer != s)
                return 0;
        u->health_timer = sd_event_source_unref(u->health_timer);      /* frees probe */
        if (!u->health_runtime || !unit_active_state_is_running(unit_active_state_from_string(u->active_state)) ||
            u->health_probe)
                return 0;

        p = new0(HealthProbe, 1);
        if (!p || !(p->unit = strdup(u->name))) {
                health_probe_free(p);
                return log_oom();
        }
        p->agent = a;
        r = runtime_inspect_start(a->event, u->health_runtime, "{{.State.Health.Status}}", u->health_container,
                                  on_health_read, p, health_probe_free, &u->health_probe);
        if (r < 0) {
                log_warning_errno(r, "%s: cannot run %s inspect: %m", u->name, u->health_runtime);
                (void) health_arm(a, u, u->health_interval_sec * USEC_PER_SEC);
        }
        return 0;
}

static int health_arm(Agent *a, AgentUnit *u, uint64_t usec) {
        HealthProbe *probe;
        int r;

        u->health_timer = sd_event_source_unref(u->health_timer);
        probe = new0(HealthProbe, 1);
        if (!probe || !(probe->unit = strdup(u->name))) {
                health_probe_free(probe);
                return log_oom();
        }
        probe->agent = a;
        r = sd_event_add_time_relative(a->event, &u->health_timer, CLOCK_MONOTONIC, usec, USEC_PER_SEC / 10,
                                       on_health_timer, probe);
        if (r >= 0)
                r = sd_event_source_set_destroy_callback(u->health_timer, health_probe_free);
        if (r < 0) {
                if (!u->health_timer)
                        health_probe_free(probe);
                u->health_timer = sd_event_source_unref(u->health_timer);
                return log_warning_errno(r, "%s: cannot schedule reading its health: %m", u->name);
        }
        return 0;
}

void agent_health_on_state(Agent *a, AgentUnit *u) {
        bool running = unit_active_state_is_running(unit_active_state_from_string(u->active_state));

        if (!u->health_runtime)
                return;
        if (running) {
                if (u->health == UNIT_HEALTH_NONE) {
                        /* A new activation: "starting" until the runtime says otherwise. */
                        u->health = UNIT_HEALTH_STARTING;
                        agent_schedule_publish(a);
                }
                if (!u->health_timer && !u->health_probe)
                        (void) health_arm(a, u, HEALTH_FIRST_USEC);
                return;
        }
        /* Stopped, failed or restarting: no health until it runs again. */
        u->health_probe = sd_event_source_unref(u->health_probe);
        u->health_timer = sd_event_source_unref(u->health_timer);
        if (u->health != UNIT_HEALTH_NONE) {
                u->health = UNIT_HEALTH_NONE;
                agent_schedule_publish(a);
        }
}
