/* SPDX-License-Identifier: Apache-2.0 */

#include "tap.h"
#include "unit-state.h"

static void test_desired_state(void) {
        is_str(unit_desired_state_to_string(UNIT_DESIRED_LAUNCHED), "launched", "to_string");
        is_int(unit_desired_state_from_string("loaded"), UNIT_DESIRED_LOADED, "from_string");
        is_int(unit_desired_state_from_string("running"), -EINVAL, "unknown state");
        is_int(unit_desired_state_from_string(NULL), -EINVAL, "NULL");
        ok(unit_desired_state_to_string(_UNIT_DESIRED_STATE_MAX) == NULL, "out of range");
        for (UnitDesiredState s = 0; s < _UNIT_DESIRED_STATE_MAX; s++)
                is_int(unit_desired_state_from_string(unit_desired_state_to_string(s)), s, "%s round-trips",
                       unit_desired_state_to_string(s));
}

static void test_active_state(void) {
        for (UnitActiveState s = 0; s < _UNIT_ACTIVE_STATE_MAX; s++)
                is_int(unit_active_state_from_string(unit_active_state_to_string(s)), s, "%s round-trips",
                       unit_active_state_to_string(s));
        is_int(unit_active_state_from_string("refreshing"), -EINVAL, "a name we do not know");
        is_int(unit_active_state_from_string(NULL), -EINVAL, "NULL");
        ok(unit_active_state_to_string(_UNIT_ACTIVE_STATE_MAX) == NULL, "out of range");
}

static void test_is_running(void) {
        static const struct {
                const char *state;
                bool running;
        } cases[] = {
                { "active", true },
                { "reloading", true },
                { "activating", true },
                { "inactive", false },
                { "failed", false },
                { "deactivating", false },
                { "maintenance", false },
                { "refreshing", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(unit_active_state_is_running(unit_active_state_from_string(cases[i].state)), cases[i].running,
                       "%s is %srunning", cases[i].state, cases[i].running ? "" : "not ");
        ok(!unit_active_state_is_running(_UNIT_ACTIVE_STATE_INVALID), "an invalid state is not running");
}

static void test_is_stopped(void) {
        for (UnitActiveState s = 0; s < _UNIT_ACTIVE_STATE_MAX; s++)
                is_int(unit_active_state_is_stopped(s), s == UNIT_INACTIVE || s == UNIT_FAILED,
                       "%s is %sstopped", unit_active_state_to_string(s),
                       s == UNIT_INACTIVE || s == UNIT_FAILED ? "" : "not ");
        ok(unit_active_state_is_stopped(_UNIT_ACTIVE_STATE_INVALID), "an invalid state counts as stopped");
}

static void test_health(void) {
        for (UnitHealth h = UNIT_HEALTH_STARTING; h < _UNIT_HEALTH_MAX; h++)
                is_int(unit_health_from_string(unit_health_to_string(h)), h, "%s round-trips",
                       unit_health_to_string(h));
        is_str(unit_health_to_string(UNIT_HEALTH_HEALTHY), "healthy", "healthy");
        ok(unit_health_to_string(UNIT_HEALTH_NONE) == NULL, "none has no name");
        ok(unit_health_to_string(_UNIT_HEALTH_MAX) == NULL, "out of range");
        ok(unit_health_to_string(_UNIT_HEALTH_INVALID) == NULL, "invalid");
        is_int(unit_health_from_string("none"), -EINVAL, "\"none\" is not a health");
        is_int(unit_health_from_string("Healthy"), -EINVAL, "names are case-sensitive");
        is_int(unit_health_from_string(NULL), -EINVAL, "NULL");
}

int main(void) {
        test_desired_state();
        test_active_state();
        test_is_running();
        test_is_stopped();
        test_health();
        return done_testing();
}
