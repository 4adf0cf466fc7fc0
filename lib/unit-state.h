/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* The states of a unit, one definition for every component: the state a user asks for (fleet's
 * desired/target state, stored in the registry under these names) and the state systemd reports
 * (its ActiveState, which agents publish as they get it). */

/* The state a user asks a unit to be in (fleet's target-state / desiredState). */
typedef enum UnitDesiredState {
        UNIT_DESIRED_INACTIVE,  /* submitted: stored, not scheduled */
        UNIT_DESIRED_LOADED,    /* scheduled, unit file loaded into systemd, not started */
        UNIT_DESIRED_LAUNCHED,  /* scheduled and started */
        _UNIT_DESIRED_STATE_MAX,
        _UNIT_DESIRED_STATE_INVALID = -EINVAL,
} UnitDesiredState;

/* "inactive", "loaded", "launched"; NULL for an invalid value. */
const char *unit_desired_state_to_string(UnitDesiredState s) _const_;
/* The inverse; _UNIT_DESIRED_STATE_INVALID (-EINVAL) for anything else (or NULL). */
UnitDesiredState unit_desired_state_from_string(const char *s) _pure_;

/* systemd's ActiveState of a unit (org.freedesktop.systemd1.Unit.ActiveState). */
typedef enum UnitActiveState {
        UNIT_ACTIVE,
        UNIT_RELOADING,
        UNIT_INACTIVE,
        UNIT_FAILED,
        UNIT_ACTIVATING,
        UNIT_DEACTIVATING,
        UNIT_MAINTENANCE,
        _UNIT_ACTIVE_STATE_MAX,
        _UNIT_ACTIVE_STATE_INVALID = -EINVAL,
} UnitActiveState;

/* systemd's names ("active", "reloading", ...); NULL for an invalid value. */
const char *unit_active_state_to_string(UnitActiveState s) _const_;
/* The inverse; _UNIT_ACTIVE_STATE_INVALID (-EINVAL) for NULL or a name we do not know (a newer
 * systemd may report one). */
UnitActiveState unit_active_state_from_string(const char *s) _pure_;

/* The one "is running" rule: the unit's processes are up or being brought up (active, reloading,
 * activating). The agent starts a launched unit that is not running, and fleetctl lists a
 * launched unit as launched only while it runs (a failed unit is merely loaded). An invalid
 * state is not running. */
bool unit_active_state_is_running(UnitActiveState s) _const_;
/* Whether the unit has no processes left to stop: inactive or failed. Deactivating, maintenance and
 * the running states are not. An invalid state counts as stopped: waiting for a state we do not
 * know to end could last forever. */
bool unit_active_state_is_stopped(UnitActiveState s) _const_;

/* A container's health as its healthcheck reports it (docker's and podman's State.Health.Status),
 * published by the agent with the unit's state. A unit without a healthcheck has none: no value,
 * no string, and no "health" key in its state record. Zero is none, so a state built with new0()
 * claims no health. */
typedef enum UnitHealth {
        UNIT_HEALTH_NONE,       /* no healthcheck */
        UNIT_HEALTH_STARTING,   /* within start_period, or no check has passed yet */
        UNIT_HEALTH_HEALTHY,
        UNIT_HEALTH_UNHEALTHY,  /* retries consecutive checks failed */
        _UNIT_HEALTH_MAX,
        _UNIT_HEALTH_INVALID = -EINVAL,
} UnitHealth;

/* "starting", "healthy", "unhealthy"; NULL for none or an invalid value. */
const char *unit_health_to_string(UnitHealth h) _const_;
/* The inverse of the three names; _UNIT_HEALTH_INVALID (-EINVAL) for anything else, NULL and
 * "none" included (none is the absence of a value, never spelled). */
UnitHealth unit_health_from_string(const char *s) _pure_;
