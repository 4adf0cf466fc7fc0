/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The agent's line to its own systemd, over sd-bus on the agent's sd-event loop. As root it talks
 * to PID 1 directly on /run/systemd/private (no dbus-daemon, no Hello); otherwise it uses the
 * system bus. It subscribes to systemd's signals and reports unit state changes from
 * PropertiesChanged and JobRemoved as they happen, so nothing is ever polled. Every call is
 * asynchronous: the daemon's loop (which also runs the engine) never waits for systemd. */

#include <systemd/sd-event.h>

#include "macro.h"

typedef struct SystemdClient SystemdClient;

/* A unit's state as systemd reported it. Any of the three may be NULL when the report did not
 * carry it. Borrowed, valid during the call. */
typedef void (*systemd_unit_state_handler_t)(SystemdClient *s, const char *unit, const char *load_state,
                                             const char *active_state, const char *sub_state,
                                             void *userdata);
/* A job for unit finished (result: "done", "failed", "canceled", ...); job is its object path. */
typedef void (*systemd_job_removed_handler_t)(SystemdClient *s, const char *unit, const char *job,
                                              const char *result, void *userdata);
/* systemd queued the job asked for unit: job is its object path, as JobRemoved will name it (a job
 * merged into one already queued gets that one's path); NULL when systemd refused it. */
typedef void (*systemd_job_queued_t)(SystemdClient *s, const char *unit, const char *job, void *userdata);
/* Completion of an asynchronous call: error is 0 or a negative errno. */
typedef void (*systemd_done_t)(SystemdClient *s, int error, void *userdata);

typedef struct SystemdClientHandlers {
        systemd_unit_state_handler_t unit_state;
        systemd_job_removed_handler_t job_removed;
        void *userdata;
} SystemdClientHandlers;

/* Connect to systemd and subscribe to its signals. address is an sd-bus address
 * ("unix:path=/run/systemd/private"), or NULL to choose: the private socket when running as root
 * and it exists, else the system bus. The connection is attached to event. If systemd goes away
 * the event loop is exited (the daemon is restarted by systemd). Returns 0 or a negative errno
 * (connecting failed; a failed Subscribe is logged). */
int systemd_client_new(SystemdClient **ret, sd_event *event, const char *address,
                       const SystemdClientHandlers *handlers);
/* Disconnect; pending calls are dropped without their callbacks. Accepts NULL, returns NULL. */
SystemdClient *systemd_client_free(SystemdClient *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SystemdClient *, systemd_client_free);

/* Manager.Reload() (daemon-reload), asynchronously; done (optional) runs when it finished. */
int systemd_client_reload(SystemdClient *s, systemd_done_t done, void *userdata);

/* StartUnit / StopUnit with mode "replace". Fire and forget: a failure is logged, and the outcome
 * shows up as state reports. Returns 0 if the call was sent, or a negative errno. */
int systemd_client_start_unit(SystemdClient *s, const char *unit);
int systemd_client_stop_unit(SystemdClient *s, const char *unit);
/* RestartUnit "replace": for a unit whose body changed (starts it if it was not running). */
int systemd_client_restart_unit(SystemdClient *s, const char *unit);
/* The same jobs (method: "StartUnit", "StopUnit" or "RestartUnit"), and queued (optional) is called
 * with the job's path once systemd accepted it, so that its JobRemoved can be told from other jobs'
 * (with NULL when systemd refused it; the failure is logged). Returns 0 if the call was sent, or a
 * negative errno. */
int systemd_client_queue_job(SystemdClient *s, const char *method, const char *unit, systemd_job_queued_t queued,
                             void *userdata);

/* The [Install] section in the runtime scope (/run/systemd/system), fleet's Load and Unload. Each
 * is sent on the connection in order, so systemd has applied it before a Reload sent after it.
 * Fire and forget like the jobs: a failure is logged. Returns 0 if the call was sent, or a
 * negative errno.
 * enable: EnableUnitFiles([path], runtime, force): links path into the unit path (replacing what
 * is there) and creates the links its [Install] section asks for.
 * disable: DisableUnitFiles([unit], runtime): removes every link to unit in the runtime scope,
 * the unit's own link in the unit path included (so a unit that stays must be linked again).
 * link: LinkUnitFiles([path], runtime, force): links path into the unit path only. */
int systemd_client_enable_unit_file(SystemdClient *s, const char *path);
int systemd_client_disable_unit_file(SystemdClient *s, const char *unit);
int systemd_client_link_unit_file(SystemdClient *s, const char *path);

/* Ask for the current state of the given units in one ListUnitsByNames call; each answer is
 * reported through the unit_state handler (units systemd does not know come back as
 * "not-found"/"inactive"/"dead"). done (optional) runs after the reports. */
int systemd_client_refresh(SystemdClient *s, char *const *units, systemd_done_t done, void *userdata);

/* The type of the job systemd is running on the unit this process belongs to ("restart", "stop",
 * ...), asked synchronously (for shutdown, when the loop is about to end). *ret is NULL when there
 * is no job. Returns 0 or a negative errno (e.g. not running as a unit). */
int systemd_client_own_job_type(SystemdClient *s, char **ret);
