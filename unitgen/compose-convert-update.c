/* SPDX-License-Identifier: Apache-2.0 */

/* deploy.update_config and deploy.rollback_config: the rolling update fleetctl compose up performs
 * when a service's units change (compose-deploy spec; swarm's defaults). */

#include <math.h>

#include "compose-convert.h"

static const char *const update_order_table[_UPDATE_ORDER_MAX] = {
        [UPDATE_ORDER_STOP_FIRST] = "stop-first",
        [UPDATE_ORDER_START_FIRST] = "start-first",
};

static const char *const update_failure_action_table[_UPDATE_FAILURE_MAX] = {
        [UPDATE_FAILURE_PAUSE] = "pause",
        [UPDATE_FAILURE_CONTINUE] = "continue",
        [UPDATE_FAILURE_ROLLBACK] = "rollback",
};

const char *update_order_to_string(UpdateOrder o) {
        return o >= 0 && o < _UPDATE_ORDER_MAX ? update_order_table[o] : NULL;
}

UpdateOrder update_order_from_string(const char *s) {
        for (UpdateOrder o = 0; o < _UPDATE_ORDER_MAX; o++)
                if (streq_ptr(s, update_order_table[o]))
                        return o;
        return _UPDATE_ORDER_INVALID;
}

const char *update_failure_action_to_string(UpdateFailureAction a) {
        return a >= 0 && a < _UPDATE_FAILURE_MAX ? update_failure_action_table[a] : NULL;
}

UpdateFailureAction update_failure_action_from_string(const char *s) {
        for (UpdateFailureAction a = 0; a < _UPDATE_FAILURE_MAX; a++)
                if (streq_ptr(s, update_failure_action_table[a]))
                        return a;
        return _UPDATE_FAILURE_INVALID;
}

static int update_ratio(Converter *c, const char *path, const YamlNode *v, double *ret) {
        const char *s = yaml_node_scalar(v);
        char *end = NULL;
        double d;

        if (s) {
                errno = 0;
                d = strtod(s, &end);
        }
        if (!s || errno != 0 || end == s || *end || !isfinite(d) || d < 0 || d > 1)
                return diag_error(c->diag, v, path, "\"%s\" is not a ratio between 0 and 1", strna(s));
        *ret = d;
        return 0;
}

int convert_update_config(Converter *c, const char *key, YamlNode *v, ComposeUpdateConfig *ret) {
        _cleanup_free_ char *path = NULL;
        YamlNode *k, *val;
        int r, ret_r = 0;

        path = strdup(converter_path(c, key));
        if (!path)
                return -ENOMEM;
        if (yaml_node_is_null(v))
                return 0;
        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, path, "must be a mapping");

        YAML_MAPPING_FOREACH(k, val, v) {
                _cleanup_free_ char *sub = NULL;

                if (asprintf(&sub, "%s.%s", key, k->value) < 0)
                        return -ENOMEM;
                if (streq(k->value, "parallelism"))
                        r = converter_unsigned(c, sub, val, &ret->parallelism);
                else if (streq(k->value, "delay"))
                        r = converter_duration(c, sub, val, &ret->delay_usec);
                else if (streq(k->value, "monitor"))
                        r = converter_duration(c, sub, val, &ret->monitor_usec);
                else if (streq(k->value, "max_failure_ratio"))
                        r = update_ratio(c, converter_path(c, sub), val, &ret->max_failure_ratio);
                else if (streq(k->value, "order")) {
                        ret->order = update_order_from_string(yaml_node_scalar(val));
                        r = ret->order < 0 ? diag_error(c->diag, val, converter_path(c, sub),
                                                        "must be stop-first or start-first") : 0;
                } else if (streq(k->value, "failure_action")) {
                        ret->failure_action = update_failure_action_from_string(yaml_node_scalar(val));
                        r = ret->failure_action < 0 ? diag_error(c->diag, val, converter_path(c, sub),
                                                                 "must be pause, continue or rollback") : 0;
                        /* A rollback that fails has nothing to roll back to. */
                        if (r == 0 && ret->failure_action == UPDATE_FAILURE_ROLLBACK &&
                            streq(key, "deploy.rollback_config"))
                                r = diag_error(c->diag, val, converter_path(c, sub), "must be pause or continue");
                } else
                        r = diag_error(c->diag, k, path, "unknown key \"%s\"", k->value);
                /* Every bad key is reported, not only the first. */
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret_r = r;
        }
        return ret_r;
}
