/* SPDX-License-Identifier: Apache-2.0 */

#include "unit-state.h"

static const char *const unit_desired_state_table[_UNIT_DESIRED_STATE_MAX] = {
        [UNIT_DESIRED_INACTIVE] = "inactive",
        [UNIT_DESIRED_LOADED]   = "loaded",
        [UNIT_DESIRED_LAUNCHED] = "launched",
};

static const char *const unit_active_state_table[_UNIT_ACTIVE_STATE_MAX] = {
        [UNIT_ACTIVE]       = "active",
        [UNIT_RELOADING]    = "reloading",
        [UNIT_INACTIVE]     = "inactive",
        [UNIT_FAILED]       = "failed",
        [UNIT_ACTIVATING]   = "activating",
        [UNIT_DEACTIVATING] = "deactivating",
        [UNIT_MAINTENANCE]  = "maintenance",
};

static const char *const unit_health_table[_UNIT_HEALTH_MAX] = {
        [UNIT_HEALTH_STARTING]  = "starting",
        [UNIT_HEALTH_HEALTHY]   = "healthy",
        [UNIT_HEALTH_UNHEALTHY] = "unhealthy",
};

static const char *table_to_string(const char *const *table, int n, int i) {
        return i >= 0 && i < n ? table[i] : NULL;
}

static int table_from_string(const char *const *table, int n, const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < n; i++)
                if (streq_ptr(table[i], s))
                        return i;
        return -EINVAL;
}

const char *unit_desired_state_to_string(UnitDesiredState s) {
        return table_to_string(unit_desired_state_table, _UNIT_DESIRED_STATE_MAX, s);
}

UnitDesiredState unit_desired_state_from_string(const char *s) {
        return table_from_string(unit_desired_state_table, _UNIT_DESIRED_STATE_MAX, s);
}

const char *unit_active_state_to_string(UnitActiveState s) {
        return table_to_string(unit_active_state_table, _UNIT_ACTIVE_STATE_MAX, s);
}

UnitActiveState unit_active_state_from_string(const char *s) {
        return table_from_string(unit_active_state_table, _UNIT_ACTIVE_STATE_MAX, s);
}

bool unit_active_state_is_running(UnitActiveState s) {
        return s == UNIT_ACTIVE || s == UNIT_RELOADING || s == UNIT_ACTIVATING;
}

bool unit_active_state_is_stopped(UnitActiveState s) {
        return s < 0 || s == UNIT_INACTIVE || s == UNIT_FAILED;
}

const char *unit_health_to_string(UnitHealth h) {
        return table_to_string(unit_health_table, _UNIT_HEALTH_MAX, h);
}

UnitHealth unit_health_from_string(const char *s) {
        return table_from_string(unit_health_table, _UNIT_HEALTH_MAX, s);
}
