/* SPDX-License-Identifier: Apache-2.0 */

#include "compose-convert.h"
#include "compose-model.h"
#include "cluster-dns.h"
#include "strv.h"
#include "unit-name.h"
#include "unit-network.h"
#include "xfleet-map.h"

static const char *const runtime_table[_RUNTIME_MAX] = {
        [RUNTIME_DOCKER] = "docker",
        [RUNTIME_PODMAN] = "podman",
};

const char *runtime_to_string(Runtime r) {
        return r >= 0 && r < _RUNTIME_MAX ? runtime_table[r] : NULL;
}

static const char *const networking_table[_NETWORKING_MAX] = {
        [NETWORKING_CLUSTER] = "cluster",
        [NETWORKING_LOCAL] = "local",
};

const char *networking_to_string(Networking n) {
        return n >= 0 && n < _NETWORKING_MAX ? networking_table[n] : NULL;
}

Networking networking_from_string(const char *s) {
        for (Networking n = 0; n < _NETWORKING_MAX; n++)
                if (streq_ptr(s, networking_table[n]))
                        return n;
        return _NETWORKING_INVALID;
}

Runtime runtime_from_string(const char *s) {
        for (Runtime r = 0; r < _RUNTIME_MAX; r++)
                if (streq_ptr(s, runtime_table[r]))
                        return r;
        return _RUNTIME_INVALID;
}

DependCondition depend_condition_from_string(const char *s) {
        if (streq_ptr(s, "service_started"))
                return DEPEND_STARTED;
        if (streq_ptr(s, "service_healthy"))
                return DEPEND_HEALTHY;
        if (streq_ptr(s, "service_completed_successfully"))
                return DEPEND_COMPLETED;
        return _DEPEND_CONDITION_INVALID;
}

static void compose_service_done(ComposeService *s) {
        free(s->name);
        free(s->unit);
        exec_word_done(&s->container);
        free(s->image);
        strv_free(s->global_args);
        exec_argv_done(&s->run_args);
        strv_free(s->docker_args);
        for (size_t i = 0; i < s->n_container_refs; i++)
                free(s->container_refs[i].service);
        free(s->container_refs);
        strv_free(s->args);
        strv_free(s->networks);
        strv_free(s->scopes);
        strv_free(s->aliases);
        strv_free(s->link_aliases);
        free(s->hostname);
        strv_free(s->volumes);
        exec_argv_done(&s->mkdirs);
        for (size_t i = 0; i < s->n_depends; i++)
                free(s->depends[i].service);
        free(s->depends);
        for (size_t i = 0; i < s->n_ports; i++) {
                free(s->ports[i].host_ip);
                free(s->ports[i].protocol);
        }
        free(s->ports);
        free(s->restart);
        free(s->stop_signal);
        strv_free(s->xfleet);
        strv_free(s->install);
}

static void resources_free(ComposeResource *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(t[i].key);
                free(t[i].name);
                strv_free(t[i].create_args);
        }
        free(t);
}

ComposeModel *compose_model_free(ComposeModel *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_services; i++)
                compose_service_done(m->services + i);
        free(m->services);
        resources_free(m->networks, m->n_networks);
        resources_free(m->volumes, m->n_volumes);
        compose_objects_free(m->objects, m->n_objects);
        return mfree(m);
}

ComposeService *compose_model_find(const ComposeModel *m, const char *name) {
        for (size_t i = 0; i < m->n_services; i++)
                if (streq(m->services[i].name, name))
                        return m->services + i;
        return NULL;
}

ComposeResource *compose_resource_find(ComposeResource *table, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(table[i].key, key))
                        return table + i;
        return NULL;
}

int compose_service_instances(const ComposeService *s, char ***l) {
        const char *at = strchr(s->unit, '@');
        int r;

        if (!at)
                return strv_extend(l, s->unit);
        for (unsigned i = 1; i <= s->replicas; i++) {
                r = strv_extendf(l, "%.*s@%u.service", (int) (at - s->unit), s->unit, i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int resource_labels(ComposeResource *res, const YamlNode *labels, const char *path, Diag *d) {
        YamlNode *k, *v;
        int r;

        if (labels->type == YAML_NODE_SEQUENCE) {
                YAML_SEQUENCE_FOREACH(v, labels) {
                        if (!yaml_node_scalar(v))
                                return diag_error(d, v, path, "labels must be strings");
                        r = strv_extend(&res->create_args, "--label");
                        if (r < 0)
                                return r;
                        r = strv_extend(&res->create_args, v->value);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (labels->type != YAML_NODE_MAPPING)
                return diag_error(d, labels, path, "labels must be a mapping or a list");
        YAML_MAPPING_FOREACH(k, v, labels) {
                r = strv_extend(&res->create_args, "--label");
                if (r < 0)
                        return r;
                r = strv_extendf(&res->create_args, "%s=%s", k->value, strempty(yaml_node_scalar(v)));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int resource_ipam(ComposeResource *res, const YamlNode *ipam, const char *path, Diag *d) {
        YamlNode *k, *v, *item, *ck, *cv;
        int r;

        if (ipam->type != YAML_NODE_MAPPING)
                return diag_error(d, ipam, path, "ipam must be a mapping");
        YAML_MAPPING_FOREACH(k, v, ipam) {
                if (streq(k->value, "driver")) {
                        if (!yaml_node_scalar(v))
                                return diag_error(d, v, path, "ipam driver must be a string");
                        r = strv_extend_strv(&res->create_args, STRV_MAKE("--ipam-driver", v->value));
                } else if (streq(k->value, "config")) {
                        if (v->type != YAML_NODE_SEQUENCE)
                                return diag_error(d, v, path, "ipam config must be a list");
                        r = 0;
                        YAML_SEQUENCE_FOREACH(item, v)
                                YAML_MAPPING_FOREACH(ck, cv, item) {
                                        const char *flag = streq(ck->value, "subnet") ? "--subnet" :
                                                streq(ck->value, "gateway") ? "--gateway" :
                                                streq(ck->value, "ip_range") ? "--ip-range" : NULL;

                                        if (!flag)
                                                return diag_error(d, ck, path, "ipam config key \"%s\" is not supported",
                                                                  ck->value);
                                        if (!yaml_node_scalar(cv))
                                                return diag_error(d, cv, path, "%s must be a string", ck->value);
                                        r = strv_extend_strv(&res->create_args, STRV_MAKE(flag, cv->value));
                                        if (r < 0)
                                                return r;
                                }
                } else if (streq(k->value, "options"))
                        r = diag_warning(d, k, path, "ipam options are not supported, ignoring");
                else
                        r = diag_error(d, k, path, "unknown ipam key \"%s\"", k->value);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int resource_add(ComposeModel *m, bool network, const char *key, const YamlNode *def, Diag *d) {
        ComposeProject *p = m->project;
        ComposeResource **table = network ? &m->networks : &m->volumes;
        size_t *n = network ? &m->n_networks : &m->n_volumes;
        ComposeResource res = {}, *t;
        _cleanup_free_ char *path = NULL;
        const char *name = NULL;
        YamlNode *k, *v;
        int r;

        if (asprintf(&path, "%s.%s", network ? "networks" : "volumes", key) < 0)
                return -ENOMEM;

        t = reallocarray(*table, *n + 1, sizeof(ComposeResource));
        if (!t)
                return -ENOMEM;
        *table = t;
        res.key = strdup(key);
        if (!res.key)
                return -ENOMEM;
        t[(*n)++] = res;
        t += *n - 1;

        if (def && !yaml_node_is_null(def) && def->type != YAML_NODE_MAPPING)
                return diag_error(d, def, path, "must be a mapping, not %s", yaml_node_type_name(def));

        YAML_MAPPING_FOREACH(k, v, def) {
                const char *s = yaml_node_scalar(v);

                if (streq(k->value, "name")) {
                        if (!s)
                                return diag_error(d, v, path, "name must be a string");
                        name = s;
                } else if (streq(k->value, "external")) {
                        int b = yaml_node_bool(v);

                        /* Old files say "external: {name: x}". */
                        if (v->type == YAML_NODE_MAPPING) {
                                name = yaml_node_scalar(yaml_mapping_get(v, "name")) ?: name;
                                b = 1;
                        }
                        if (b < 0)
                                return diag_error(d, v, path, "external must be true or false");
                        t->external = b;
                } else if (streq(k->value, "driver")) {
                        if (!s)
                                return diag_error(d, v, path, "driver must be a string");
                        if (network && streq(s, "overlay")) {
                                /* The cluster network is what swarm's overlay gives: nothing to say. */
                                if (m->networking == NETWORKING_CLUSTER)
                                        continue;
                                r = diag_warning(d, v, path, "overlay networks need swarm: a bridge network is created "
                                                 "on each machine, so services on different machines cannot reach "
                                                 "each other through it");
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        r = strv_extend_strv(&t->create_args, STRV_MAKE("--driver", s));
                        if (r < 0)
                                return r;
                } else if (streq(k->value, "driver_opts")) {
                        YamlNode *ok, *ov;

                        if (v->type != YAML_NODE_MAPPING)
                                return diag_error(d, v, path, "driver_opts must be a mapping");
                        YAML_MAPPING_FOREACH(ok, ov, v) {
                                r = strv_extend(&t->create_args, "--opt");
                                if (r < 0)
                                        return r;
                                r = strv_extendf(&t->create_args, "%s=%s", ok->value, strempty(yaml_node_scalar(ov)));
                                if (r < 0)
                                        return r;
                        }
                } else if (streq(k->value, "labels")) {
                        r = resource_labels(t, v, path, d);
                        if (r < 0)
                                return r;
                } else if (network && (streq(k->value, "internal") || streq(k->value, "enable_ipv6"))) {
                        int b = yaml_node_bool(v);

                        if (b < 0)
                                return diag_error(d, v, path, "%s must be true or false", k->value);
                        if (b) {
                                r = strv_extend(&t->create_args, streq(k->value, "internal") ? "--internal" : "--ipv6");
                                if (r < 0)
                                        return r;
                        }
                } else if (network && streq(k->value, "ipam")) {
                        r = resource_ipam(t, v, path, d);
                        if (r < 0)
                                return r;
                } else if (network && streq(k->value, "attachable"))
                        continue;
                else if (startswith(k->value, "x-"))
                        continue;
                else
                        return diag_error(d, k, path, "unknown key \"%s\"", k->value);
        }

        if (name)
                t->name = strdup(name);
        else if (t->external)
                t->name = strdup(key);
        else if (asprintf(&t->name, "%s_%s", p->name, key) < 0)
                t->name = NULL;
        return t->name ? 0 : -ENOMEM;
}

static int model_resources(ComposeModel *m, Diag *d) {
        YamlNode *root = m->project->root, *k, *v, *top;
        int r;

        top = yaml_mapping_get(root, "networks");
        if (top && !yaml_node_is_null(top) && top->type != YAML_NODE_MAPPING)
                return diag_error(d, top, "networks", "must be a mapping");
        YAML_MAPPING_FOREACH(k, v, top) {
                r = resource_add(m, true, k->value, v, d);
                if (r < 0)
                        return r;
        }
        if (!compose_resource_find(m->networks, m->n_networks, "default")) {
                r = resource_add(m, true, "default", NULL, d);
                if (r < 0)
                        return r;
        }

        top = yaml_mapping_get(root, "volumes");
        if (top && !yaml_node_is_null(top) && top->type != YAML_NODE_MAPPING)
                return diag_error(d, top, "volumes", "must be a mapping");
        YAML_MAPPING_FOREACH(k, v, top) {
                r = resource_add(m, false, k->value, v, d);
                if (r < 0)
                        return r;
        }

        /* secrets and configs are checked where services use them; here only their shape. */
        for (size_t i = 0; i < 2; i++) {
                const char *kind = i == 0 ? "secrets" : "configs";

                top = yaml_mapping_get(root, kind);
                if (top && !yaml_node_is_null(top) && top->type != YAML_NODE_MAPPING)
                        return diag_error(d, top, kind, "must be a mapping");
                YAML_MAPPING_FOREACH(k, v, top) {
                        YamlNode *sk, *sv _unused_;

                        if (v->type != YAML_NODE_MAPPING)
                                return diag_error(d, v, kind, "\"%s\" must be a mapping", k->value);
                        YAML_MAPPING_FOREACH(sk, sv, v)
                                if (!STR_IN_SET(sk->value, "file", "external", "name", "environment", "content",
                                                "labels", "driver", "driver_opts", "template_driver") &&
                                    !startswith(sk->value, "x-"))
                                        return diag_error(d, sk, kind, "unknown key \"%s\"", sk->value);
                }
        }
        return 0;
}

static int service_init(ComposeModel *m, ComposeService *s, const char *name, const YamlNode *node) {
        const char *p = m->project->name;

        *s = (ComposeService) {
                .restart_usec = UNSET_U64,
                .start_limit_interval_usec = UNSET_U64,
                .stop_timeout_sec = 10,
                .update = COMPOSE_UPDATE_CONFIG_DEFAULT,
                .rollback = COMPOSE_UPDATE_CONFIG_DEFAULT,
                .node = node,
        };
        s->name = strdup(name);
        if (!s->name || asprintf(&s->unit, "%s-%s.service", p, name) < 0 ||
            asprintf(&s->container.text, "%s-%s", p, name) < 0)
                return -ENOMEM;
        return 0;
}

/* The unit's name, and the longest of its instances', must be valid unit names: a name past 255
 * characters is refused here, at the service, not by the agent that cannot write its file. */
static int service_check_unit_names(const ComposeService *s, const YamlNode *at, Diag *d) {
        _cleanup_strv_free_ char **instances = NULL;
        const char *reason = NULL;
        int r;

        r = compose_service_instances(s, &instances);
        if (r < 0)
                return r;
        if (unit_name_check(s->unit, &reason) < 0)
                return diag_error(d, at, "services", "unit name \"%s\": %s", s->unit, reason);
        STRV_FOREACH(i, instances)
                if (unit_name_check(*i, &reason) < 0)
                        return diag_error(d, at, "services", "unit name \"%s\": %s", *i, reason);
        return 0;
}

static int service_name_valid(const char *s) {
        if (isempty(s))
                return false;
        return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == 0;
}

/* The references to other services' containers get their names, now that every service is known. */
static int resolve_container_refs(ComposeModel *m, ComposeService *s, Diag *d) {
        for (size_t i = 0; i < s->n_container_refs; i++) {
                const ComposeContainerRef *ref = s->container_refs + i;
                char **word = ref->docker ? s->docker_args + ref->word : &s->run_args.words[ref->word].text, *n;
                ComposeService *t = compose_model_find(m, ref->service);

                if (!t)
                        continue;       /* reported with the dependency check */
                if (strchr(t->unit, '@') || t->global) {
                        const ComposeDepend *dep = NULL;

                        for (size_t j = 0; j < s->n_depends; j++)
                                if (streq(s->depends[j].service, t->name))
                                        dep = s->depends + j;
                        assert(dep);
                        return diag_error(d, dep->at, converter_path(&(Converter) { .service = s }, dep->key),
                                          "\"%s\" is %s: its container name is not fixed, so it cannot be linked to or "
                                          "shared with", t->name, t->global ? "global" : "replicated");
                }
                /* Neither replicated nor global: a plain name. */
                assert(t->container.specifier == EXEC_SPECIFIER_NONE);
                if (asprintf(&n, "%.*s%s%s", (int) ref->at, *word, t->container.text, *word + ref->at) < 0)
                        return -ENOMEM;
                free_and_replace(*word, n);
        }
        return 0;
}

static int check_cycles(ComposeModel *m, size_t i, unsigned char *state, char ***stack, Diag *d) {
        ComposeService *s = m->services + i;
        int r;

        state[i] = 1;
        r = strv_extend(stack, s->name);
        if (r < 0)
                return r;
        for (size_t j = 0; j < s->n_depends; j++) {
                ComposeService *t = compose_model_find(m, s->depends[j].service);
                size_t ti = (size_t) (t - m->services);

                if (state[ti] == 1) {
                        _cleanup_free_ char *chain = NULL;

                        r = strv_extend(stack, t->name);
                        if (r < 0)
                                return r;
                        chain = strv_join(*stack + strv_index(*stack, t->name), " -> ");
                        if (!chain)
                                return -ENOMEM;
                        return diag_error(d, s->depends[j].at,
                                          converter_path(&(Converter) { .service = s }, s->depends[j].key),
                                          "dependency cycle: %s", chain);
                }
                if (state[ti] == 0) {
                        r = check_cycles(m, ti, state, stack, d);
                        if (r < 0)
                                return r;
                }
        }
        state[i] = 2;
        free((*stack)[strv_length(*stack) - 1]);
        (*stack)[strv_length(*stack) - 1] = NULL;
        return 0;
}

/* Cluster networking: the service's container joins the machine's cluster network and resolves
 * names through the machine's DNS, searching the scopes of its compose networks first. */
static int cluster_network_flags(Converter *c) {
        _cleanup_strv_free_ char **search = NULL;
        int r;

        r = converter_flag(c, "--network", CLUSTER_NETWORK_NAME);
        if (r < 0)
                return r;
        r = converter_flag(c, "--dns", CLUSTER_DNS_DEFAULT_ADDRESS);
        if (r < 0)
                return r;
        r = cluster_dns_search_domains(c->service->scopes, CLUSTER_DNS_DEFAULT_DOMAIN, &search);
        if (r < 0)
                return r;
        STRV_FOREACH(s, search) {
                r = converter_flag(c, "--dns-search", *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Without networks, compose puts a service on the project's default network (v1 had none: its
 * links do that job, which on the cluster network its names do). */
static int service_default_network(Converter *c, const YamlNode *v) {
        ComposeService *s = c->service;
        ComposeResource *def;
        int r;

        if ((c->project->version == COMPOSE_V1 && c->model->networking != NETWORKING_CLUSTER) ||
            yaml_mapping_get(v, "networks") || yaml_mapping_get(v, "network_mode"))
                return 0;

        def = compose_resource_find(c->model->networks, c->model->n_networks, "default");
        if (c->model->networking == NETWORKING_CLUSTER)
                return strv_extend(&s->scopes, def->name);
        if (!def->external) {
                r = strv_extend(&s->networks, def->name);
                if (r < 0)
                        return r;
        }
        r = converter_flag(c, "--network", def->name);
        if (r < 0)
                return r;
        return converter_flag(c, "--network-alias", s->name);
}

/* After its keys: the cluster network's flags and the names the agent will publish. */
static int service_cluster_names(Converter *c, const YamlNode *v) {
        ComposeService *s = c->service;
        const char *hostname = yaml_node_scalar(yaml_mapping_get(v, "hostname"));

        if (!s->scopes)
                return 0;
        /* A hostname that is no DNS name is only the container's own business. */
        if (cluster_dns_word_is_valid(hostname)) {
                s->hostname = strdup(hostname);
                if (!s->hostname)
                        return -ENOMEM;
        }
        return cluster_network_flags(c);
}

/* A links alias ("db:mysql" in web) is a name of db's in db's scopes, published with db's
 * containers: the linking service reaches db by it from any machine. */
static int resolve_link_aliases(ComposeModel *m, ComposeService *s) {
        int r;

        STRV_FOREACH(l, s->link_aliases) {
                _cleanup_free_ char *name = strndup(*l, strcspn(*l, ":"));
                const char *alias = strchr(*l, ':') + 1;
                ComposeService *t;

                if (!name)
                        return -ENOMEM;
                t = compose_model_find(m, name);
                if (!t || streq(alias, t->name) || strv_contains(t->aliases, alias))
                        continue;       /* an unknown service is reported with the dependency check */
                r = strv_extend(&t->aliases, alias);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Convert the service named by key k (its mapping v) into the next slot of m->services. */
static int model_add_service(ComposeModel *m, const YamlNode *k, YamlNode *v, Diag *d) {
        ComposeService *s = m->services + m->n_services;
        Converter c = { .project = m->project, .model = m, .runtime = m->runtime, .diag = d, .service = s };
        int r;

        if (!service_name_valid(k->value))
                return diag_error(d, k, "services", "\"%s\" is not a valid service name (letters, digits, "
                                  "\".\", \"_\", \"-\")", k->value);
        r = service_init(m, s, k->value, v);
        m->n_services++;
        if (r < 0)
                return r;
        r = compose_convert_service(&c, v);
        if (r < 0)
                return r;
        r = service_check_unit_names(s, k, d);
        if (r < 0)
                return r;

        if (s->replicas > 1 && yaml_mapping_get(v, "container_name"))
                return diag_error(d, yaml_mapping_get(v, "container_name"), converter_path(&c, "container_name"),
                                  "a fixed container name allows one replica, not %u", s->replicas);

        r = service_default_network(&c, v);
        if (r < 0)
                return r;
        return service_cluster_names(&c, v);
}

/* What s's depends_on asks of the services it names: they exist (and are enabled), report
 * healthy (a warning without a healthcheck), or run to completion (a oneshot). */
static int service_resolve_depends(ComposeModel *m, ComposeService *s, Diag *d) {
        int r;

        for (size_t j = 0; j < s->n_depends; j++) {
                ComposeDepend *dep = s->depends + j;
                ComposeService *t = compose_model_find(m, dep->service);
                const char *path = converter_path(&(Converter) { .service = s }, dep->key);

                if (!t) {
                        if (strv_contains(m->project->disabled, dep->service))
                                return diag_error(d, dep->at, path,
                                                  "service \"%s\" is not enabled: add its --profile",
                                                  dep->service);
                        return diag_error(d, dep->at, path, "unknown service \"%s\"", dep->service);
                }
                if (dep->condition == DEPEND_HEALTHY) {
                        t->wait_healthy = true;
                        if (!t->has_healthcheck) {
                                r = diag_warning(d, dep->at, path,
                                                 "\"%s\" has no healthcheck: the image must define one",
                                                 t->name);
                                if (r < 0)
                                        return r;
                        }
                } else if (dep->condition == DEPEND_COMPLETED && !t->oneshot) {
                        t->oneshot = true;
                        /* A oneshot that stays active after exit is never restarted by "always". */
                        if (streq_ptr(t->restart, "always")) {
                                r = diag_warning(d, dep->at, path,
                                                 "\"%s\" runs to completion: its restart policy becomes "
                                                 "on-failure", t->name);
                                if (r < 0)
                                        return r;
                                free(t->restart);
                                t->restart = strdup("on-failure");
                                if (!t->restart)
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

/* A dependency cycle anywhere among the services is an error. */
static int model_check_cycles(ComposeModel *m, Diag *d) {
        _cleanup_free_ unsigned char *state = NULL;
        int r;

        state = new0(unsigned char, m->n_services);
        if (!state)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_services; i++) {
                _cleanup_strv_free_ char **stack = NULL;

                if (state[i] != 0)
                        continue;
                r = check_cycles(m, i, state, &stack, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int compose_model_build(ComposeProject *p, Runtime runtime, Networking networking, ComposeModel **ret, Diag *d) {
        _cleanup_(compose_model_freep) ComposeModel *m = NULL;
        YamlNode *services, *k, *v;
        int r;

        assert(p);
        assert(ret);

        m = new0(ComposeModel, 1);
        if (!m)
                return -ENOMEM;
        m->project = p;
        m->runtime = runtime;
        m->networking = networking;

        r = model_resources(m, d);
        if (r < 0)
                return r;

        services = yaml_mapping_get(p->root, "services");
        m->services = new0(ComposeService, services->n_children / 2);
        if (!m->services)
                return -ENOMEM;
        YAML_MAPPING_FOREACH(k, v, services) {
                r = model_add_service(m, k, v, d);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < m->n_services; i++) {
                ComposeService *s = m->services + i;

                r = service_resolve_depends(m, s, d);
                if (r < 0)
                        return r;
                r = resolve_link_aliases(m, s);
                if (r < 0)
                        return r;
                r = resolve_container_refs(m, s, d);
                if (r < 0)
                        return r;
        }

        r = model_check_cycles(m, d);
        if (r < 0)
                return r;

        r = xfleet_map_finish(m, d);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}
