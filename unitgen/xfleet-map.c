/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <inttypes.h>

#include "compose-convert.h"
#include "compose-values.h"
#include "error-message.h"
#include "exec-quote.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"
#include "unit-depend.h"
#include "xfleet-map.h"
#include "xfleet.h"

int xfleet_map_line_set(char ***xfleet, const char *key, const char *value) {
        size_t n = strlen(key);

        for (char **x = *xfleet; x && *x; x++)
                if (strneq(*x, key, n) && (*x)[n] == '=') {
                        char *l;

                        if (asprintf(&l, "%s=%s", key, value) < 0)
                                return -ENOMEM;
                        free_and_replace(*x, l);
                        return 0;
                }
        return strv_extendf(xfleet, "%s=%s", key, value);
}

static bool metadata_word_valid(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char) *s) || strchr("-_.:/", *s)))
                        return false;
        return true;
}

int xfleet_map_constraint(const char *expr, char **ret_line, char **ret_key, bool *ret_negated, char **ret_error) {
        _cleanup_free_ char *lhs = NULL, *rhs = NULL, *key = NULL, *line = NULL;
        const char *op, *label;
        bool negated;

        op = strstr(expr, "==");
        negated = !op;
        if (!op)
                op = strstr(expr, "!=");
        if (!op)
                return error_message_set(ret_error, EINVAL, "\"%s\": a constraint is \"attribute == value\" or \"attribute != value\"", expr);
        lhs = strndup_strip(expr, (size_t) (op - expr));
        rhs = strndup_strip(op + 2, strlen(op + 2));
        if (!lhs || !rhs)
                return -ENOMEM;
        if (!metadata_word_valid(rhs))
                return error_message_set(ret_error, EINVAL, "\"%s\": the value must be a single word", expr);

        if ((label = startswith(lhs, "node.labels.")) || (label = startswith(lhs, "engine.labels.")))
                key = strdup(label);
        else if (streq(lhs, "node.hostname"))
                key = strdup("hostname");
        else if (streq(lhs, "node.role"))
                key = strdup("role");
        else if (streq(lhs, "node.platform.os"))
                key = strdup("os");
        else if (streq(lhs, "node.platform.arch"))
                key = strdup("arch");
        else if (streq(lhs, "node.id")) {
                if (negated)
                        return error_message_set(ret_error, EINVAL,
                                          "\"%s\": fleet cannot exclude a machine by ID; label the machines "
                                          "and use node.labels instead", expr);
                key = strdup("machine-id");
                if (!key || asprintf(&line, "MachineID=%s", rhs) < 0)
                        return -ENOMEM;
                goto done;
        } else
                return error_message_set(ret_error, EINVAL,
                                  "\"%s\": unknown attribute (use node.labels.*, node.hostname, node.role, "
                                  "node.id, node.platform.os or node.platform.arch)", expr);
        if (!key)
                return -ENOMEM;
        if (!metadata_word_valid(key))
                return error_message_set(ret_error, EINVAL, "\"%s\": the label must be a single word", expr);
        if (asprintf(&line, "MachineMetadata=%s%s%s", key, negated ? "!=" : "=", rhs) < 0)
                return -ENOMEM;
done:
        *ret_line = TAKE_PTR(line);
        *ret_key = TAKE_PTR(key);
        *ret_negated = negated;
        return 0;
}

int xfleet_map_template(const ComposeProject *p, ComposeService *s) {
        char *unit;

        if (strchr(s->unit, '@'))
                return 0;
        if (asprintf(&unit, "%s-%s@.service", p->name, s->name) < 0)
                return -ENOMEM;
        free_and_replace(s->unit, unit);
        if (s->container.specifier != EXEC_SPECIFIER_INSTANCE) {
                _cleanup_free_ char *prefix = NULL;

                if (asprintf(&prefix, "%s-%s-", p->name, s->name) < 0)
                        return -ENOMEM;
                exec_word_done(&s->container);
                return exec_word_make(&s->container, prefix, EXEC_SPECIFIER_INSTANCE, NULL);
        }
        return 0;
}

/* The glob that stands for every unit of s. */
static int unit_glob(const ComposeService *s, char **ret) {
        const char *at = strchr(s->unit, '@');

        if (!at) {
                *ret = strdup(s->unit);
                return *ret ? 0 : -ENOMEM;
        }
        return asprintf(ret, "%.*s@*.service", (int) (at - s->unit), s->unit) < 0 ? -ENOMEM : 0;
}

static bool ports_overlap(const ComposePort *a, const ComposePort *b) {
        bool any_a, any_b;

        if (a->published_first == 0 || b->published_first == 0)
                return false;
        if (!(a->published_first <= b->published_last && b->published_first <= a->published_last))
                return false;
        if (!streq(a->protocol, b->protocol))
                return false;
        any_a = !a->host_ip || STR_IN_SET(a->host_ip, "0.0.0.0", "[::]", "::");
        any_b = !b->host_ip || STR_IN_SET(b->host_ip, "0.0.0.0", "[::]", "::");
        return any_a || any_b || streq(a->host_ip, b->host_ip);
}

static int add_conflict(ComposeService *s, const ComposeService *other) {
        _cleanup_free_ char *glob = NULL;
        int r;

        r = unit_glob(other, &glob);
        if (r < 0)
                return r;
        return strv_extendf(&s->xfleet, "Conflicts=%s", glob);
}

int xfleet_map_options(char *const *lines, const char *unit, XFleetOptions **ret, char **ret_error) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        int r;

        x = xfleet_options_new();
        if (!x)
                return -ENOMEM;
        STRV_FOREACH(line, lines) {
                _cleanup_free_ char *name = NULL;
                const char *eq = strchr(*line, '=');

                assert(eq);
                name = strndup(*line, eq - *line);
                if (!name)
                        return -ENOMEM;
                if (!xfleet_option_is_known(name))
                        return error_message_set(ret_error, EINVAL, "\"%s\" is not an [X-Fleet] option", name);
                r = xfleet_options_add(x, name, eq + 1, unit, ret_error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(x);
        return 0;
}

/* Whether lib accepts the lines of s, leaving out those of option name (NULL: none). 1 yes, 0 no
 * (*ret_error then says why, if non-NULL), -ENOMEM. */
static int lines_accepted(const ComposeService *s, const char *name, char **ret_error) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        STRV_FOREACH(line, s->xfleet) {
                const char *rest = name ? startswith(*line, name) : NULL;

                if (rest && *rest == '=')
                        continue;
                r = strv_extend(&lines, *line);
                if (r < 0)
                        return r;
        }
        r = xfleet_map_options(lines, s->unit, &x, ret_error);
        if (r == 0)
                r = xfleet_options_validate(x, s->unit, ret_error);
        if (r == -EINVAL)
                return 0;
        return r < 0 ? r : 1;
}

/* The x-fleet key of s that, left out, makes lib accept the rest (the last such one: the option
 * written later is the one at odds with those before), or NULL if none does. */
static int blame_xfleet_key(const ComposeService *s, const YamlNode **ret) {
        const YamlNode *map = yaml_mapping_get(s->node, "x-fleet"), *blamed = NULL;
        YamlNode *k, *v _unused_;
        int r;

        if (map && map->type == YAML_NODE_MAPPING)
                YAML_MAPPING_FOREACH(k, v, map) {
                        r = lines_accepted(s, k->value, NULL);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                blamed = k;
                }
        *ret = blamed;
        return 0;
}

/* The [X-Fleet] section of s as fleet will judge it, by lib's rules: never write a unit that
 * fleetctl would refuse. The combination may come from several compose keys (x-fleet, placement
 * constraints, ports, depends_on, mode): the message lists the lines, and points at the x-fleet
 * key that causes the refusal if there is one, else at the service. */
static int service_validate(ComposeService *s, Diag *d) {
        _cleanup_free_ char *error = NULL, *lines = NULL, *key = NULL;
        const YamlNode *at;
        int r;

        r = lines_accepted(s, NULL, &error);
        if (r != 0)
                return r < 0 ? r : 0;

        r = blame_xfleet_key(s, &at);
        if (r < 0)
                return r;
        lines = strv_join(s->xfleet, ", ");
        if (!lines)
                return -ENOMEM;
        if (asprintf(&key, "services.%s%s%s", s->name, at ? ".x-fleet." : "", at ? at->value : "") < 0)
                return -ENOMEM;
        return diag_error(d, at ?: s->node, key,
                          "service \"%s\": fleet would refuse its [X-Fleet] options (%s): %s", s->name, lines,
                          strna(error));
}

/* Healthcheck=RUNTIME CONTAINER INTERVAL (lib/xfleet.h); a replica's container name keeps its
 * instance as %i, which the agent expands. */
static int xfleet_map_healthcheck(const ComposeModel *m, ComposeService *s) {
        _cleanup_free_ char *container = NULL;
        uint64_t sec = s->health_interval_usec > 0 ?
                DIV_ROUND_UP(s->health_interval_usec, USEC_PER_SEC) : XFLEET_HEALTH_INTERVAL_DEFAULT_SEC;
        int r;

        r = exec_word_to_setting(&s->container, &container);
        if (r < 0)
                return r;
        return strv_extendf(&s->xfleet, "Healthcheck=%s %s %" PRIu64, runtime_to_string(m->runtime), container,
                            MIN(sec, (uint64_t) 86400));
}

/* DependsOn=UNIT CONDITION [restart] (lib/unit-depend.h) for each unit of t (a replicated t's
 * every instance: compose waits for all of a service's containers). An optional dependency
 * (required: false) is only wanted, as compose only warns about it. */
static int xfleet_map_depends_on(ComposeService *s, const ComposeService *t, const ComposeDepend *dep) {
        static const UnitDependCondition conditions[_DEPEND_CONDITION_MAX] = {
                [DEPEND_STARTED]   = UNIT_DEPEND_STARTED,
                [DEPEND_HEALTHY]   = UNIT_DEPEND_HEALTHY,
                [DEPEND_COMPLETED] = UNIT_DEPEND_COMPLETED,
        };
        _cleanup_strv_free_ char **units = NULL;
        int r;

        r = compose_service_instances(t, &units);
        if (r < 0)
                return r;
        STRV_FOREACH(u, units) {
                _cleanup_free_ char *line = NULL;

                line = unit_depend_format(&(UnitDepend) { .unit = *u, .condition = conditions[dep->condition],
                                                          .restart = dep->restart });
                if (!line)
                        return -ENOMEM;
                r = strv_extendf(&s->xfleet, "DependsOn=%s", line);
                if (r < 0)
                        return r;
        }
        return 0;
}

int xfleet_map_finish(ComposeModel *m, Diag *d) {
        int r;

        for (size_t i = 0; i < m->n_services; i++) {
                ComposeService *s = m->services + i;
                bool template = strchr(s->unit, '@');

                /* A replicated service publishing a host port: one instance per machine. */
                if (template && !s->colocated_replicas)
                        for (size_t j = 0; j < s->n_ports; j++)
                                if (s->ports[j].published_first > 0) {
                                        r = add_conflict(s, s);
                                        if (r < 0)
                                                return r;
                                        break;
                                }

                /* Two services publishing the same host port cannot share a machine. */
                for (size_t o = 0; o < m->n_services; o++) {
                        ComposeService *t = m->services + o;
                        bool clash = false;

                        if (o == i)
                                continue;
                        for (size_t a = 0; a < s->n_ports && !clash; a++)
                                for (size_t b = 0; b < t->n_ports && !clash; b++)
                                        clash = ports_overlap(s->ports + a, t->ports + b);
                        if (clash) {
                                r = add_conflict(s, t);
                                if (r < 0)
                                        return r;
                        }
                }

                /* systemd's dependencies only hold on one machine: keep the services together
                 * where they must share a machine (local networking); elsewhere the agent holds
                 * the service until the dependency meets its condition wherever it runs. */
                for (size_t j = 0; j < s->n_depends; j++) {
                        ComposeDepend *dep = s->depends + j;
                        ComposeService *t = compose_model_find(m, dep->service);

                        if (t && !dep->colocate && dep->required) {
                                r = xfleet_map_depends_on(s, t, dep);
                                if (r < 0)
                                        return r;
                        }
                        if (!dep->colocate || !t)
                                continue;
                        if (t->global)
                                continue;       /* runs everywhere it may: nothing to pin */
                        if (strchr(t->unit, '@') || s->global) {
                                r = diag_warning(d, dep->at, converter_path(&(Converter) { .service = s }, "depends_on"),
                                                 "\"%s\" cannot be pinned next to %s \"%s\" (fleet's MachineOf= names "
                                                 "one unit): the dependency only orders starts on a shared machine",
                                                 s->name, s->global ? "the global service's dependency" :
                                                 "the replicated service", t->name);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        r = strv_extendf(&s->xfleet, "MachineOf=%s", t->unit);
                        if (r < 0)
                                return r;
                }

                if (s->global) {
                        r = strv_extend(&s->xfleet, "Global=true");
                        if (r < 0)
                                return r;
                }

                /* The agent reads the health the runtime's own checks find, on their interval;
                 * also the image's own HEALTHCHECK of a service others wait for healthy, so that
                 * the wait holds across machines too (its interval unknown: docker's default). */
                if (s->has_healthcheck || s->wait_healthy) {
                        r = xfleet_map_healthcheck(m, s);
                        if (r < 0)
                                return r;
                }

                strv_uniq(strv_sort(s->xfleet));

                r = service_validate(s, d);
                if (r < 0)
                        return r;
        }
        return 0;
}
