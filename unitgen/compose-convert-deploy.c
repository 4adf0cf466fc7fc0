/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <stdio.h>

#include "compose-convert.h"
#include "cluster-dns.h"
#include "resources.h"
#include "strv.h"
#include "time-util.h"
#include "unit-name.h"
#include "unit-syntax.h"
#include "xfleet-map.h"

/* Dependencies, restart policy, deploy (replicas, global, placement, resources) and x-fleet. */

int converter_depend(Converter *c, const char *key, const char *service, DependCondition condition, bool required,
                     bool restart, bool colocate, const YamlNode *at) {
        ComposeService *s = c->service;
        ComposeDepend *d;

        /* A second mention (links plus depends_on) strengthens the first. */
        for (size_t i = 0; i < s->n_depends; i++)
                if (streq(s->depends[i].service, service)) {
                        d = s->depends + i;
                        d->required = d->required || required;
                        d->restart = d->restart || restart;
                        d->colocate = d->colocate || colocate;
                        if (condition != DEPEND_STARTED)
                                d->condition = condition;
                        return 0;
                }

        d = reallocarray(s->depends, s->n_depends + 1, sizeof(ComposeDepend));
        if (!d)
                return -ENOMEM;
        s->depends = d;
        d = s->depends + s->n_depends;
        *d = (ComposeDepend) {
                .service = strdup(service),
                .condition = condition,
                .required = required,
                .restart = restart,
                .colocate = colocate,
                .key = key,
                .at = at,
        };
        if (!d->service)
                return -ENOMEM;
        s->n_depends++;
        return 0;
}

int convert_depends_on(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a list or a mapping, not %s",
                                  yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v) {
                DependCondition cond = DEPEND_STARTED;
                bool required = true, restart = false;
                YamlNode *ok, *ov;

                if (streq(k->value, c->service->name))
                        return diag_error(c->diag, k, converter_path(c, key), "a service cannot depend on itself");
                if (!yaml_node_is_null(val)) {
                        if (val->type != YAML_NODE_MAPPING)
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "the settings of \"%s\" must be a mapping", k->value);
                        YAML_MAPPING_FOREACH(ok, ov, val) {
                                r = 0;
                                if (streq(ok->value, "condition")) {
                                        cond = depend_condition_from_string(yaml_node_scalar(ov));
                                        if (cond < 0)
                                                return diag_error(c->diag, ov, converter_path(c, key),
                                                                  "condition must be service_started, service_healthy "
                                                                  "or service_completed_successfully");
                                } else if (streq(ok->value, "required"))
                                        r = converter_bool(c, key, ov, &required);
                                else if (streq(ok->value, "restart"))
                                        r = converter_bool(c, key, ov, &restart);
                                else
                                        r = diag_error(c->diag, ok, converter_path(c, key), "unknown key \"%s\"",
                                                       ok->value);
                                if (r < 0)
                                        return r;
                        }
                }
                /* On the cluster network a dependency is reached by name wherever it runs: no pinning
                 * (x-fleet MachineOf= still pins). Locally, an optional dependency must not keep
                 * the service from being scheduled. */
                r = converter_depend(c, "depends_on", k->value, cond, required, restart,
                                     c->model->networking == NETWORKING_LOCAL && required, k);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_links(Converter *c, const char *key, YamlNode *v) {
        _cleanup_strv_free_ char **l = NULL;
        bool external = streq(key, "external_links");
        int r;

        r = converter_strings(c, key, v, &l);
        if (r < 0)
                return r;
        if (c->runtime == RUNTIME_PODMAN && c->model->networking == NETWORKING_LOCAL) {
                r = diag_warning(c->diag, v, converter_path(c, key),
                                 "podman has no links: services reach each other by name on their networks");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; l[i]; i++) {
                _cleanup_free_ char *name = strndup(l[i], strcspn(l[i], ":")), *arg = NULL;
                const char *alias = strchr(l[i], ':');

                if (!name)
                        return -ENOMEM;
                if (!external && c->model->networking == NETWORKING_CLUSTER) {
                        /* No --link: the target may run on another machine. Its alias becomes one of
                         * its names, and the order stays (After=, Wants=). */
                        if (alias && !cluster_dns_word_is_valid(alias + 1))
                                return diag_error(c->diag, v, converter_path(c, key),
                                                  "link alias \"%s\" is not a DNS name ([A-Za-z0-9._-])", alias + 1);
                        if (alias) {
                                r = strv_extendf(&c->service->link_aliases, "%s:%s", name, alias + 1);
                                if (r < 0)
                                        return r;
                        }
                        r = converter_depend(c, "links", name, DEPEND_STARTED, true, false, false,
                                             v->type == YAML_NODE_SEQUENCE ? v->children[i] : v);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (external) {
                        r = diag_warning(c->diag, v, converter_path(c, key),
                                         "\"%s\" is outside the project: it must run on the same machine", name);
                        if (r < 0)
                                return r;
                        r = strv_extend(&c->service->docker_args, "--link");
                        if (r < 0)
                                return r;
                        r = strv_extend(&c->service->docker_args, l[i]);
                } else {
                        /* Resolved to the container name once every service is known. */
                        if (asprintf(&arg, ":%s", alias ? alias + 1 : name) < 0)
                                return -ENOMEM;
                        r = converter_flag_container(c, true, "--link", NULL, name, arg);
                        if (r < 0)
                                return r;
                        r = converter_depend(c, "links", name, DEPEND_STARTED, true, false, true,
                                             v->type == YAML_NODE_SEQUENCE ? v->children[i] : v);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_volumes_from(Converter *c, const char *key, YamlNode *v) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = converter_strings(c, key, v, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; l[i]; i++) {
                _cleanup_free_ char *name = NULL;
                const char *ref = l[i], *container = startswith(ref, "container:");

                if (container) {
                        r = converter_flag(c, "--volumes-from", container);
                        if (r < 0)
                                return r;
                        continue;
                }
                name = strndup(ref, strcspn(ref, ":"));
                if (!name)
                        return -ENOMEM;
                r = converter_flag_container(c, false, "--volumes-from", NULL, name, ref + strlen(name));
                if (r < 0)
                        return r;
                r = converter_depend(c, "volumes_from", name, DEPEND_STARTED, true, false, true,
                                     v->type == YAML_NODE_SEQUENCE ? v->children[i] : v);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_namespace_mode(Converter *c, const char *key, YamlNode *v) {
        const char *flag = streq(key, "ipc") ? "--ipc" : "--pid", *s, *other;
        int r;

        r = converter_string(c, key, v, &s);
        if (r < 0)
                return r;
        other = startswith(s, "service:");
        if (!other)
                return converter_flag(c, flag, s);
        r = converter_depend(c, key, other, DEPEND_STARTED, true, true, true, v);
        if (r < 0)
                return r;
        return converter_flag_container(c, false, flag, "container:", other, NULL);
}

int convert_restart(Converter *c, const char *key, YamlNode *v) {
        ComposeService *s = c->service;
        const char *p, *n;
        int r;

        /* deploy.restart_policy takes precedence. */
        if (yaml_mapping_get(yaml_mapping_get(s->node, "deploy"), "restart_policy"))
                return 0;
        p = yaml_node_scalar(v);
        if (!p && v->type == YAML_NODE_SCALAR)
                p = "no";
        if (!p)
                return diag_error(c->diag, v, converter_path(c, key), "must be a string, not %s", yaml_node_type_name(v));

        if (STR_IN_SET(p, "no", "false", ""))
                n = "no";
        else if (STR_IN_SET(p, "always", "unless-stopped"))
                n = "always";
        else if (streq(p, "on-failure"))
                n = "on-failure";
        else if (startswith(p, "on-failure:")) {
                n = "on-failure";
                r = parse_unsigned(p + 11, &s->start_limit_burst);
                if (r < 0 || s->start_limit_burst == 0)
                        return diag_error(c->diag, v, converter_path(c, key), "\"%s\": the retry count must be a positive "
                                          "integer", p);
                s->start_limit_interval_usec = INFINITY_U64;
        } else
                return diag_error(c->diag, v, converter_path(c, key),
                                  "\"%s\" is not no, always, unless-stopped or on-failure[:N]", p);
        free(s->restart);
        s->restart = strdup(n);
        return s->restart ? 0 : -ENOMEM;
}

static int deploy_restart_policy(Converter *c, YamlNode *v) {
        ComposeService *s = c->service;
        const char *cond = "any";
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, "deploy.restart_policy"), "must be a mapping");
        YAML_MAPPING_FOREACH(k, val, v) {
                const char *path = converter_path(c, "deploy.restart_policy");

                r = 0;
                if (streq(k->value, "condition")) {
                        cond = yaml_node_scalar(val);
                        if (!cond || !STR_IN_SET(cond, "none", "on-failure", "any"))
                                return diag_error(c->diag, val, path, "condition must be none, on-failure or any");
                } else if (streq(k->value, "delay"))
                        r = converter_duration(c, "deploy.restart_policy.delay", val, &s->restart_usec);
                else if (streq(k->value, "max_attempts"))
                        r = converter_unsigned(c, "deploy.restart_policy.max_attempts", val, &s->start_limit_burst);
                else if (streq(k->value, "window"))
                        r = converter_duration(c, "deploy.restart_policy.window", val, &s->start_limit_interval_usec);
                else
                        r = diag_error(c->diag, k, path, "unknown key \"%s\"", k->value);
                if (r < 0)
                        return r;
        }
        /* Attempts without a window count forever, as in swarm. */
        if (s->start_limit_burst > 0 && s->start_limit_interval_usec == UNSET_U64)
                s->start_limit_interval_usec = INFINITY_U64;
        free(s->restart);
        s->restart = strdup(streq(cond, "none") ? "no" : streq(cond, "any") ? "always" : "on-failure");
        return s->restart ? 0 : -ENOMEM;
}

int converter_reserve_memory(Converter *c, uint64_t bytes) {
        char v[32];

        snprintf(v, sizeof(v), "%" PRIu64, bytes);
        return xfleet_map_line_set(&c->service->xfleet, "ReserveMemory", v);
}

/* reservations.cpus: ReserveCPU=, rounded up to a thousandth (never reserve less than asked). */
static int reserve_cpus(Converter *c, YamlNode *v) {
        const char *s = yaml_node_scalar(v);
        char buf[RESOURCES_FORMAT_MAX];
        uint64_t micro;

        if (!s || parse_decimal_scaled(s, strlen(s), 1000000, &micro) < 0 || micro > UINT64_MAX - 999)
                return diag_error(c->diag, v, converter_path(c, "deploy.resources.reservations.cpus"),
                                  "must be a number of CPUs like 0.5 or 2");
        if (micro == 0)
                return 0;
        return xfleet_map_line_set(&c->service->xfleet, "ReserveCPU",
                               resources_format_cpu(buf, sizeof(buf), (micro + 999) / 1000));
}

/* generic_resources: [{discrete_resource_spec: {kind, value}}, {named_resource_spec: {kind,
 * value}}] → ReserveResource=kind=N (a named resource counts as one of its kind). */
static int reserve_generic(Converter *c, YamlNode *v) {
        const char *path = converter_path(c, "deploy.resources.reservations.generic_resources");
        YamlNode *item, *k, *spec;
        int r;

        if (v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, path, "must be a list");
        YAML_SEQUENCE_FOREACH(item, v) {
                YamlNode *kind_node, *value_node;
                const char *kind, *value;
                bool named;
                uint64_t n = 1;

                if (item->type != YAML_NODE_MAPPING || item->n_children != 2)
                        return diag_error(c->diag, item, path,
                                          "each entry is one discrete_resource_spec or named_resource_spec");
                k = item->children[0];
                spec = item->children[1];
                named = streq(k->value, "named_resource_spec");
                if (!named && !streq(k->value, "discrete_resource_spec"))
                        return diag_error(c->diag, k, path, "unknown key \"%s\"", k->value);
                kind_node = yaml_mapping_get(spec, "kind");
                value_node = yaml_mapping_get(spec, "value");
                kind = yaml_node_scalar(kind_node);
                value = yaml_node_scalar(value_node);
                if (!kind || !value)
                        return diag_error(c->diag, spec, path, "%s needs a kind and a value", k->value);
                if (!resource_name_is_valid(kind))
                        return diag_error(c->diag, kind_node, path,
                                          "kind \"%s\" is not a resource name (letters, digits, '_', '.', '-')", kind);
                if (!named && (parse_u64(value, &n) < 0 || n == 0))
                        return diag_error(c->diag, value_node, path, "value \"%s\" is not a positive whole number",
                                          value);
                r = strv_extendf(&c->service->xfleet, "ReserveResource=%s=%" PRIu64, kind, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int deploy_resources(Converter *c, YamlNode *v) {
        ComposeService *s = c->service;
        YamlNode *k, *val, *rk, *rv;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, "deploy.resources"), "must be a mapping");
        YAML_MAPPING_FOREACH(k, val, v) {
                bool limits = streq(k->value, "limits");

                if (!limits && !streq(k->value, "reservations"))
                        return diag_error(c->diag, k, converter_path(c, "deploy.resources"), "unknown key \"%s\"",
                                          k->value);
                if (val->type != YAML_NODE_MAPPING)
                        return diag_error(c->diag, val, converter_path(c, "deploy.resources"), "%s must be a mapping",
                                          k->value);
                YAML_MAPPING_FOREACH(rk, rv, val) {
                        const char *path = converter_path(c, limits ? "deploy.resources.limits" :
                                                          "deploy.resources.reservations");

                        if (streq(rk->value, "memory")) {
                                uint64_t b;

                                r = converter_bytes(c, limits ? "deploy.resources.limits.memory" :
                                                    "deploy.resources.reservations.memory", rv, &b);
                                if (r < 0)
                                        return r;
                                if (limits)
                                        s->memory_max = b;
                                else {
                                        s->memory_low = b;
                                        r = converter_reserve_memory(c, b);
                                        if (r < 0)
                                                return r;
                                }
                                r = converter_flagf(c, limits ? "--memory" : "--memory-reservation", "%" PRIu64,
                                                    b);
                        } else if (streq(rk->value, "cpus") && limits)
                                r = convert_cpus(c, "deploy.resources.limits.cpus", rv);
                        else if (streq(rk->value, "pids") && limits)
                                r = convert_int_flag(c, "pids_limit", rv);
                        else if (streq(rk->value, "devices") && !limits)
                                r = convert_gpus(c, "deploy.resources.reservations.devices", rv);
                        else if (streq(rk->value, "cpus"))
                                r = reserve_cpus(c, rv);
                        else if (streq(rk->value, "generic_resources"))
                                r = reserve_generic(c, rv);
                        else
                                r = diag_error(c->diag, rk, path, "unknown key \"%s\"", rk->value);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* preferences: [{spread: node.labels.K}] → SpreadMetadata=K. Swarm nests several preferences
 * (spread over the first, then within each value over the second); only the first is kept. */
static int placement_preferences(Converter *c, YamlNode *v) {
        const char *path = converter_path(c, "deploy.placement.preferences");
        YamlNode *item;
        bool first = true;
        int r;

        if (v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, path, "must be a list");
        YAML_SEQUENCE_FOREACH(item, v) {
                YamlNode *spread = yaml_mapping_get(item, "spread");
                const char *target = yaml_node_scalar(spread), *key;

                if (item->type != YAML_NODE_MAPPING || item->n_children != 2 || !target)
                        return diag_error(c->diag, item, path, "each preference is \"spread: node.labels.KEY\"");
                key = startswith(target, "node.labels.") ?: startswith(target, "engine.labels.");
                if (!key && streq(target, "node.hostname"))
                        key = "hostname";
                if (!key || isempty(key) || strpbrk(key, "=!" WHITESPACE)) {
                        r = diag_warning(c->diag, spread, path,
                                         "spread over \"%s\" is not supported (only node.labels.KEY and "
                                         "node.hostname), ignoring", target);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!first) {
                        r = diag_warning(c->diag, spread, path,
                                         "only the first spread preference is kept, ignoring \"%s\"", target);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = xfleet_map_line_set(&c->service->xfleet, "SpreadMetadata", key);
                if (r < 0)
                        return r;
                first = false;
        }
        return 0;
}

static int deploy_placement(Converter *c, YamlNode *v) {
        _cleanup_strv_free_ char **positive = NULL;
        ComposeService *s = c->service;
        YamlNode *k, *val, *item;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, "deploy.placement"), "must be a mapping");
        YAML_MAPPING_FOREACH(k, val, v) {
                if (streq(k->value, "constraints")) {
                        if (val->type != YAML_NODE_SEQUENCE)
                                return diag_error(c->diag, val, converter_path(c, "deploy.placement.constraints"),
                                                  "must be a list");
                        YAML_SEQUENCE_FOREACH(item, val) {
                                _cleanup_free_ char *line = NULL, *mkey = NULL, *error = NULL;
                                bool negated;

                                if (!yaml_node_scalar(item))
                                        return diag_error(c->diag, item, converter_path(c, "deploy.placement.constraints"),
                                                          "constraints are strings like node.labels.disk==ssd");
                                r = xfleet_map_constraint(item->value, &line, &mkey, &negated, &error);
                                if (r == -EINVAL)
                                        return diag_error(c->diag, item, converter_path(c, "deploy.placement.constraints"),
                                                          "%s", error);
                                if (r < 0)
                                        return r;
                                /* Swarm ANDs constraints; fleet ORs values of one key. */
                                if (!negated) {
                                        if (strv_contains(positive, mkey))
                                                return diag_error(c->diag, item,
                                                                  converter_path(c, "deploy.placement.constraints"),
                                                                  "two == constraints on \"%s\" can never both hold "
                                                                  "(fleet would read them as either)", mkey);
                                        r = strv_extend(&positive, mkey);
                                        if (r < 0)
                                                return r;
                                }
                                r = strv_consume(&s->xfleet, TAKE_PTR(line));
                                if (r < 0)
                                        return r;
                        }
                } else if (streq(k->value, "max_replicas_per_node")) {
                        unsigned n;

                        r = converter_unsigned(c, "deploy.placement.max_replicas_per_node", val, &n);
                        if (r < 0)
                                return r;
                        if (n > 1) {
                                char buf[16];

                                snprintf(buf, sizeof(buf), "%u", n);
                                r = xfleet_map_line_set(&s->xfleet, "MaxReplicasPerMachine", buf);
                                if (r < 0)
                                        return r;
                                s->colocated_replicas = true;
                        } else if (n == 1 && s->replicas > 1) {
                                r = strv_extendf(&s->xfleet, "Conflicts=%s-%s@*.service", c->project->name, s->name);
                                if (r < 0)
                                        return r;
                        }
                } else if (streq(k->value, "preferences")) {
                        r = placement_preferences(c, val);
                        if (r < 0)
                                return r;
                } else
                        return diag_error(c->diag, k, converter_path(c, "deploy.placement"), "unknown key \"%s\"",
                                          k->value);
        }
        return 0;
}

int convert_deploy(Converter *c, const char *key, YamlNode *v) {
        ComposeService *s = c->service;
        YamlNode *k, *val, *mode;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping, not %s", yaml_node_type_name(v));

        mode = yaml_mapping_get(v, "mode");
        if (mode) {
                const char *m = yaml_node_scalar(mode);

                if (!m || !STR_IN_SET(m, "replicated", "global"))
                        return diag_error(c->diag, mode, converter_path(c, "deploy.mode"), "must be replicated or global");
                s->global = streq(m, "global");
        }

        YAML_MAPPING_FOREACH(k, val, v) {
                if (streq(k->value, "mode"))
                        continue;
                if (streq(k->value, "replicas")) {
                        unsigned n;

                        r = converter_unsigned(c, "deploy.replicas", val, &n);
                        if (r < 0)
                                return r;
                        if (s->global)
                                return diag_error(c->diag, val, converter_path(c, "deploy.replicas"),
                                                  "cannot be combined with mode: global");
                        if (s->replicas > 0 && s->replicas != n)
                                return diag_error(c->diag, val, converter_path(c, "deploy.replicas"),
                                                  "%u disagrees with scale: %u", n, s->replicas);
                        if (n == 0)
                                return diag_error(c->diag, val, converter_path(c, "deploy.replicas"),
                                                  "0 replicas: leave the service out (or use a profile)");
                        s->replicas = n;
                } else if (streq(k->value, "restart_policy"))
                        r = deploy_restart_policy(c, val);
                else if (streq(k->value, "resources"))
                        r = deploy_resources(c, val);
                else if (streq(k->value, "placement"))
                        r = 0; /* after replicas are known: below */
                else if (streq(k->value, "update_config"))
                        r = convert_update_config(c, "deploy.update_config", val, &c->service->update);
                else if (streq(k->value, "rollback_config"))
                        r = convert_update_config(c, "deploy.rollback_config", val, &c->service->rollback);
                else if (streq(k->value, "endpoint_mode"))
                        r = diag_warning(c->diag, k, converter_path(c, "deploy.endpoint_mode"),
                                         "there is no virtual IP; containers are reached on their machines, ignoring");
                else if (streq(k->value, "labels"))
                        r = diag_warning(c->diag, k, converter_path(c, "deploy.labels"),
                                         "swarm service labels have no unit equivalent, ignoring");
                else
                        r = diag_error(c->diag, k, converter_path(c, "deploy"), "unknown key \"%s\"", k->value);
                if (r < 0)
                        return r;
        }

        if (s->replicas > 1 && !s->global) {
                r = xfleet_map_template(c->project, s);
                if (r < 0)
                        return r;
        }
        /* Swarm restarts by default. */
        if (!s->restart) {
                s->restart = strdup("always");
                if (!s->restart)
                        return -ENOMEM;
        }
        if ((val = yaml_mapping_get(v, "placement")) && !yaml_node_is_null(val))
                return deploy_placement(c, val);
        return 0;
}

int convert_scale(Converter *c, const char *key, YamlNode *v) {
        unsigned n;
        int r;

        r = converter_unsigned(c, key, v, &n);
        if (r < 0)
                return r;
        if (n == 0)
                return diag_error(c->diag, v, converter_path(c, key), "0 replicas: leave the service out (or use a profile)");
        c->service->replicas = n;
        if (n > 1)
                return xfleet_map_template(c->project, c->service);
        return 0;
}

int convert_stop_grace_period(Converter *c, const char *key, YamlNode *v) {
        uint64_t usec;
        int r;

        r = converter_duration(c, key, v, &usec);
        if (r < 0)
                return r;
        /* docker stop -t takes whole seconds: round up, never below the requested grace. */
        c->service->stop_timeout_sec = DIV_ROUND_UP(usec, USEC_PER_SEC);
        return 0;
}

int convert_pull_policy(Converter *c, const char *key, YamlNode *v) {
        const char *p;
        int r;

        r = converter_string(c, key, v, &p);
        if (r < 0)
                return r;
        if (streq(p, "always")) {
                c->service->pull_always = true;
                return 0;
        }
        if (STR_IN_SET(p, "missing", "if_not_present"))
                return 0;
        if (streq(p, "never"))
                return converter_flag(c, "--pull", "never");
        if (streq(p, "build"))
                return diag_error(c->diag, v, converter_path(c, key), "a cluster cannot build images");
        if (STR_IN_SET(p, "daily", "weekly") || startswith(p, "every_"))
                return diag_warning(c->diag, v, converter_path(c, key),
                                    "\"%s\" is not supported: the image is pulled when missing", p);
        return diag_error(c->diag, v, converter_path(c, key), "\"%s\" is not always, missing, never or build", p);
}

int convert_xfleet(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping of [X-Fleet] options");
        YAML_MAPPING_FOREACH(k, val, v) {
                _cleanup_strv_free_ char **values = NULL;

                if (!xfleet_option_is_known(k->value))
                        return diag_error(c->diag, k, converter_path(c, key), "\"%s\" is not an [X-Fleet] option",
                                          k->value);
                r = converter_strings(c, key, val, &values);
                if (r < 0)
                        return r;
                STRV_FOREACH(x, values) {
                        _cleanup_(xfleet_options_freep) XFleetOptions *options = NULL;
                        _cleanup_free_ char *error = NULL;

                        /* A line end (systemd ends lines at "\r" too) or a final backslash would let
                         * the value write assignments of its own. */
                        if (!unit_option_value_is_valid(*x))
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "\"%s\" cannot be written into a unit: it holds a line end "
                                                  "(\\n or \\r), invalid UTF-8, surrounding space or a final backslash",
                                                  k->value);
                        /* Each value alone, by lib's rules; the combination is checked once the
                         * whole service is known (xfleet_map_finish()). */
                        options = xfleet_options_new();
                        if (!options)
                                return -ENOMEM;
                        r = xfleet_options_add(options, k->value, *x, NULL, &error);
                        if (r == -EINVAL)
                                return diag_error(c->diag, val, converter_path(c, key), "%s", strna(error));
                        if (r < 0)
                                return r;
                        r = strv_extendf(&c->service->xfleet, "%s=%s", k->value, *x);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* x-install: the unit's [Install] section, which the systemd generator turns into links (as
 * quadlet does) and fleetd enables in the runtime scope. Only the keys that make links, each a
 * unit name: a path or a template as a target would make a link systemd never follows. */
int convert_install(Converter *c, const char *key, YamlNode *v) {
        ComposeService *s = c->service;
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING && !yaml_node_is_null(v))
                return diag_error(c->diag, v, converter_path(c, key),
                                  "must be a mapping of [Install] options (WantedBy, RequiredBy, Alias)");
        s->install_given = true;
        YAML_MAPPING_FOREACH(k, val, v) {
                _cleanup_strv_free_ char **values = NULL;
                bool alias = streq(k->value, "Alias");

                /* UpheldBy= is not in Debian 12's systemd (252): it would ignore it. */
                if (!alias && !STR_IN_SET(k->value, "WantedBy", "RequiredBy"))
                        return diag_error(c->diag, k, converter_path(c, key),
                                          "\"%s\" is not an [Install] option that makes a link: use WantedBy, "
                                          "RequiredBy or Alias", k->value);
                r = converter_strings(c, key, val, &values);
                if (r < 0)
                        return r;
                STRV_FOREACH(x, values) {
                        const char *reason = NULL;

                        if (unit_name_check(*x, &reason) < 0)
                                return diag_error(c->diag, val, converter_path(c, key), "%s=%s: %s", k->value,
                                                  *x, reason);
                        if (!alias && unit_name_is_template(*x))
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "%s=%s: a template cannot pull a unit in", k->value, *x);
                        if (alias && (!endswith(*x, ".service") ||
                                      unit_name_is_template(*x) != unit_name_is_template(s->unit)))
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "Alias=%s: an alias of %s must be a %s", *x, s->unit,
                                                  unit_name_is_template(s->unit) ? "template service (name@.service)" :
                                                  "service that is not a template");
                        r = strv_extendf(&s->install, "%s=%s", k->value, *x);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
