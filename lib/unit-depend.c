/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "error-message.h"
#include "string-util.h"
#include "strv.h"
#include "unit-depend.h"
#include "unit-name.h"

static const char *const unit_depend_condition_table[_UNIT_DEPEND_CONDITION_MAX] = {
        [UNIT_DEPEND_STARTED]   = "started",
        [UNIT_DEPEND_HEALTHY]   = "healthy",
        [UNIT_DEPEND_COMPLETED] = "completed",
};

const char *unit_depend_condition_to_string(UnitDependCondition c) {
        return c >= 0 && c < _UNIT_DEPEND_CONDITION_MAX ? unit_depend_condition_table[c] : NULL;
}

UnitDependCondition unit_depend_condition_from_string(const char *s) {
        for (UnitDependCondition c = 0; s && c < _UNIT_DEPEND_CONDITION_MAX; c++)
                if (streq(unit_depend_condition_table[c], s))
                        return c;
        return _UNIT_DEPEND_CONDITION_INVALID;
}

void unit_depend_done(UnitDepend *d) {
        d->unit = mfree(d->unit);
}

int unit_depend_parse(const char *value, UnitDepend *ret, char **error_message) {
        _cleanup_strv_free_ char **w = strv_split(value, WHITESPACE);
        UnitDepend d = { .condition = _UNIT_DEPEND_CONDITION_INVALID };
        const char *reason;

        assert(value);
        assert(ret);

        if (!w)
                return -ENOMEM;
        if (!w[0])
                return error_message_set(error_message, EINVAL, "DependsOn= names no unit (UNIT [started|healthy|completed] [restart])");
        if (unit_name_check(w[0], &reason) < 0)
                return error_message_set(error_message, EINVAL, "DependsOn=%s: '%s' is not a unit name: %s", value, w[0],
                                         reason);
        if (unit_name_is_template(w[0]))
                return error_message_set(error_message, EINVAL,
                                         "DependsOn=%s: '%s' is a template: name the instances to wait for", value, w[0]);
        STRV_FOREACH(word, w + 1) {
                UnitDependCondition c = unit_depend_condition_from_string(*word);

                if (c >= 0 && d.condition < 0)
                        d.condition = c;
                else if (streq(*word, "restart") && !d.restart)
                        d.restart = true;
                else
                        return error_message_set(error_message, EINVAL,
                                                 "DependsOn=%s: '%s' is not expected here (UNIT [started|healthy|completed] "
                                                 "[restart])", value, *word);
        }
        if (d.condition < 0)
                d.condition = UNIT_DEPEND_STARTED;
        d.unit = strdup(w[0]);
        if (!d.unit)
                return -ENOMEM;
        *ret = d;
        return 0;
}

char *unit_depend_format(const UnitDepend *d) {
        char *s;

        if (asprintf(&s, "%s %s%s", d->unit, unit_depend_condition_to_string(d->condition),
                     d->restart ? " restart" : "") < 0)
                return NULL;
        return s;
}

bool unit_depend_met(UnitDependCondition c, const char *active_state, const char *sub_state, UnitHealth health) {
        UnitActiveState s = unit_active_state_from_string(active_state);

        switch (c) {
        case UNIT_DEPEND_STARTED:
                return s == UNIT_ACTIVE || s == UNIT_RELOADING;
        case UNIT_DEPEND_HEALTHY:
                return (s == UNIT_ACTIVE || s == UNIT_RELOADING) && health == UNIT_HEALTH_HEALTHY;
        case UNIT_DEPEND_COMPLETED:
                return s == UNIT_ACTIVE && streq_ptr(sub_state, "exited");
        default:
                return false;
        }
}

char *unit_depend_describe_wait(const UnitDepend *d, const char *active_state, const char *sub_state,
                                UnitHealth health) {
        static const char *const awaited[_UNIT_DEPEND_CONDITION_MAX] = {
                [UNIT_DEPEND_STARTED]   = "to be started",
                [UNIT_DEPEND_HEALTHY]   = "to be healthy",
                [UNIT_DEPEND_COMPLETED] = "to complete successfully",
        };
        UnitActiveState s = unit_active_state_from_string(active_state);
        _cleanup_free_ char *now = NULL;
        char *text;

        if (!active_state)
                now = strdup("it runs on no machine");
        else if (d->condition == UNIT_DEPEND_HEALTHY && (s == UNIT_ACTIVE || s == UNIT_RELOADING))
                now = strdup(health == UNIT_HEALTH_NONE ? "it is active and reports no health (no healthcheck)" :
                             health == UNIT_HEALTH_STARTING ? "its healthcheck has not passed yet" : "it is unhealthy");
        else if (d->condition == UNIT_DEPEND_COMPLETED && s == UNIT_FAILED)
                now = strdup("it failed");
        else if (asprintf(&now, "it is %s/%s", active_state, strna(sub_state)) < 0)
                now = NULL;
        if (!now)
                return NULL;
        if (asprintf(&text, "waiting for %s %s: %s", d->unit, awaited[d->condition], now) < 0)
                return NULL;
        return text;
}
