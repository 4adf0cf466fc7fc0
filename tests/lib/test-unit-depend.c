/* SPDX-License-Identifier: Apache-2.0 */

#include "tap.h"
#include "unit-depend.h"

static void test_condition_names(void) {
        for (UnitDependCondition c = 0; c < _UNIT_DEPEND_CONDITION_MAX; c++)
                is_int(unit_depend_condition_from_string(unit_depend_condition_to_string(c)), c, "%s round-trips",
                       unit_depend_condition_to_string(c));
        is_int(unit_depend_condition_from_string("service_healthy"), -EINVAL, "compose's names are unitgen's");
        is_int(unit_depend_condition_from_string(NULL), -EINVAL, "NULL");
        ok(!unit_depend_condition_to_string(_UNIT_DEPEND_CONDITION_MAX), "out of range");
}

static void test_parse_format(void) {
        _cleanup_(unit_depend_done) UnitDepend d = {};
        _cleanup_free_ char *text = NULL, *msg = NULL;

        is_int(unit_depend_parse("db.service restart healthy", &d, NULL), 0, "words in any order");
        is_str(d.unit, "db.service", "the unit");
        is_int(d.condition, UNIT_DEPEND_HEALTHY, "the condition");
        ok(d.restart, "restart");
        text = unit_depend_format(&d);
        is_str(text, "db.service healthy restart", "canonical form");
        unit_depend_done(&d);
        is_int(unit_depend_parse("x@1.service", &d, NULL), 0, "an instance");
        is_int(d.condition, UNIT_DEPEND_STARTED, "started by default");
        ok(!d.restart, "no restart by default");
        unit_depend_done(&d);
        is_int(unit_depend_parse("x.service later", &d, &msg), -EINVAL, "an unknown word");
        ok(msg && strstr(msg, "'later'"), "named: %s", strna(msg));
}

static void test_met(void) {
        static const struct {
                UnitDependCondition c;
                const char *active, *sub;
                UnitHealth health;
                bool met;
        } cases[] = {
                { UNIT_DEPEND_STARTED,   "active",       "running", UNIT_HEALTH_NONE,      true  },
                { UNIT_DEPEND_STARTED,   "reloading",    "reload",  UNIT_HEALTH_NONE,      true  },
                { UNIT_DEPEND_STARTED,   "activating",   "start",   UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_STARTED,   "failed",       "failed",  UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_STARTED,   NULL,           NULL,      UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_STARTED,   "active",       "running", UNIT_HEALTH_UNHEALTHY, true  },
                { UNIT_DEPEND_HEALTHY,   "active",       "running", UNIT_HEALTH_HEALTHY,   true  },
                { UNIT_DEPEND_HEALTHY,   "active",       "running", UNIT_HEALTH_STARTING,  false },
                { UNIT_DEPEND_HEALTHY,   "active",       "running", UNIT_HEALTH_UNHEALTHY, false },
                /* compose refuses service_healthy on a service without a healthcheck: never met */
                { UNIT_DEPEND_HEALTHY,   "active",       "running", UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_HEALTHY,   "deactivating", "stop",    UNIT_HEALTH_HEALTHY,   false },
                { UNIT_DEPEND_COMPLETED, "active",       "exited",  UNIT_HEALTH_NONE,      true  },
                { UNIT_DEPEND_COMPLETED, "activating",   "start",   UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_COMPLETED, "active",       "running", UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_COMPLETED, "failed",       "failed",  UNIT_HEALTH_NONE,      false },
                { UNIT_DEPEND_COMPLETED, "inactive",     "dead",    UNIT_HEALTH_NONE,      false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(unit_depend_met(cases[i].c, cases[i].active, cases[i].sub, cases[i].health), cases[i].met,
                       "%s on %s/%s health %s", unit_depend_condition_to_string(cases[i].c), strna(cases[i].active),
                       strna(cases[i].sub), strna(unit_health_to_string(cases[i].health)));
}

static void test_describe(void) {
        UnitDepend d = { .unit = (char *) "db.service", .condition = UNIT_DEPEND_HEALTHY };
        _cleanup_free_ char *a = unit_depend_describe_wait(&d, NULL, NULL, UNIT_HEALTH_NONE),
                *b = unit_depend_describe_wait(&d, "active", "running", UNIT_HEALTH_STARTING),
                *c = unit_depend_describe_wait(&d, "activating", "start", UNIT_HEALTH_NONE),
                *n = unit_depend_describe_wait(&d, "active", "running", UNIT_HEALTH_NONE);
        UnitDepend m = { .unit = (char *) "migrate.service", .condition = UNIT_DEPEND_COMPLETED };
        _cleanup_free_ char *f = unit_depend_describe_wait(&m, "failed", "failed", UNIT_HEALTH_NONE);

        is_str(a, "waiting for db.service to be healthy: it runs on no machine", "nowhere");
        is_str(b, "waiting for db.service to be healthy: its healthcheck has not passed yet", "starting");
        is_str(c, "waiting for db.service to be healthy: it is activating/start", "activating");
        is_str(n, "waiting for db.service to be healthy: it is active and reports no health (no healthcheck)",
               "no healthcheck");
        is_str(f, "waiting for migrate.service to complete successfully: it failed", "failed");
}

int main(void) {
        test_condition_names();
        test_parse_format();
        test_met();
        test_describe();
        return done_testing();
}
