/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <inttypes.h>

#include "compose-convert.h"
#include "exec-quote.h"
#include "cluster-dns.h"
#include "cluster-object.h"
#include "parse-util.h"
#include "strv.h"

/* Ports, volumes, secrets, configs and networks: the keys that refer to the host or to project
 * resources. */

static int add_port(Converter *c, const char *key, const YamlNode *at, const char *spec) {
        _cleanup_free_ char *flag = NULL, *error = NULL;
        ComposeService *s = c->service;
        ComposePort port = {};
        int r;

        r = parse_port(spec, &flag, &port, &error);
        if (r == -EINVAL)
                return diag_error(c->diag, at, converter_path(c, key), "%s", error);
        if (r < 0)
                return r;
        port.at = at;
        ComposePort *ports = reallocarray(s->ports, s->n_ports + 1, sizeof(ComposePort));
        if (!ports) {
                free(port.host_ip);
                free(port.protocol);
                return -ENOMEM;
        }
        s->ports = ports;
        s->ports[s->n_ports++] = port;
        return converter_flag(c, "-p", flag);
}

int convert_ports(Converter *c, const char *key, YamlNode *v) {
        YamlNode *item;
        int r;

        if (v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, converter_path(c, key), "must be a list, not %s", yaml_node_type_name(v));
        YAML_SEQUENCE_FOREACH(item, v) {
                _cleanup_free_ char *spec = NULL;

                if (yaml_node_scalar(item)) {
                        r = add_port(c, key, item, item->value);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (item->type != YAML_NODE_MAPPING)
                        return diag_error(c->diag, item, converter_path(c, key), "a port is a string or a mapping, not %s",
                                          yaml_node_type_name(item));

                YamlNode *k, *val _unused_;
                YAML_MAPPING_FOREACH(k, val, item)
                        if (!STR_IN_SET(k->value, "target", "published", "host_ip", "protocol", "mode", "name",
                                        "app_protocol"))
                                return diag_error(c->diag, k, converter_path(c, key), "unknown port key \"%s\"", k->value);

                const char *target = yaml_node_scalar(yaml_mapping_get(item, "target"));
                const char *published = yaml_node_scalar(yaml_mapping_get(item, "published"));
                const char *ip = yaml_node_scalar(yaml_mapping_get(item, "host_ip"));
                const char *proto = yaml_node_scalar(yaml_mapping_get(item, "protocol"));
                const char *mode = yaml_node_scalar(yaml_mapping_get(item, "mode"));

                if (!target)
                        return diag_error(c->diag, item, converter_path(c, key), "a port needs \"target\"");
                if (mode && !STR_IN_SET(mode, "host", "ingress"))
                        return diag_error(c->diag, item, converter_path(c, key), "mode must be host or ingress");
                if (streq_ptr(mode, "ingress")) {
                        r = diag_warning(c->diag, item, converter_path(c, key),
                                         "ingress routing is not available: the port is published on the machine "
                                         "that runs the unit");
                        if (r < 0)
                                return r;
                }
                if (asprintf(&spec, "%s%s%s%s%s%s%s", ip && strchr(ip, ':') ? "[" : "", strempty(ip),
                             ip && strchr(ip, ':') ? "]" : "", ip ? ":" : "",
                             published ? published : "", published || ip ? ":" : "", target) < 0)
                        return -ENOMEM;
                if (proto) {
                        char *t;

                        if (asprintf(&t, "%s/%s", spec, proto) < 0)
                                return -ENOMEM;
                        free_and_replace(spec, t);
                }
                r = add_port(c, key, item, spec);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The source as a word: a path (home-relative ones after %h), or a volume's name. */
static int volume_source(Converter *c, const char *key, const YamlNode *at, const char *src, bool *ret_named,
                         ExecWord *ret) {
        ComposeResource *res;
        int r;

        *ret = (ExecWord) {};
        if (src[0] == '~' && (src[1] == '/' || src[1] == 0)) {
                /* The home directory of the user the unit runs as, on the machine it runs on. */
                *ret_named = false;
                return exec_word_make(ret, NULL, EXEC_SPECIFIER_HOME, src + 1);
        }
        if (src[0] == '/') {
                ret->text = strdup(src);
                *ret_named = false;
                return ret->text ? 0 : -ENOMEM;
        }
        if (src[0] == '.') {
                r = diag_warning(c->diag, at, converter_path(c, key),
                                 "relative host path \"%s\" is resolved against %s: it must exist there on every "
                                 "machine that may run the unit", src, c->project->dir);
                if (r < 0)
                        return r;
                *ret_named = false;
                return compose_project_path(c->project, src, &ret->text);
        }

        res = compose_resource_find(c->model->volumes, c->model->n_volumes, src);
        if (!res) {
                if (c->project->version != COMPOSE_V1)
                        return diag_error(c->diag, at, converter_path(c, key),
                                          "volume \"%s\" is not declared under the top-level \"volumes\"", src);
                /* v1 had no declarations: a name is a plain engine volume. */
                ret->text = strdup(src);
                *ret_named = true;
                return ret->text ? 0 : -ENOMEM;
        }
        if (!res->external && !strv_contains(c->service->volumes, res->name)) {
                r = strv_extend(&c->service->volumes, res->name);
                if (r < 0)
                        return r;
        }
        ret->text = strdup(res->name);
        *ret_named = true;
        return ret->text ? 0 : -ENOMEM;
}

static int volume_long(Converter *c, const char *key, YamlNode *item) {
        _cleanup_(exec_word_done) ExecWord src = {}, word = {};
        _cleanup_free_ char *arg = NULL;
        const char *type, *source, *target;
        YamlNode *k, *val, *sub;
        bool named = false, ro = false;
        int r;

        YAML_MAPPING_FOREACH(k, val, item)
                if (!STR_IN_SET(k->value, "type", "source", "target", "read_only", "bind", "volume", "tmpfs",
                                "consistency"))
                        return diag_error(c->diag, k, converter_path(c, key), "unknown volume key \"%s\"", k->value);

        type = yaml_node_scalar(yaml_mapping_get(item, "type"));
        source = yaml_node_scalar(yaml_mapping_get(item, "source"));
        target = yaml_node_scalar(yaml_mapping_get(item, "target"));
        if (!type)
                return diag_error(c->diag, item, converter_path(c, key), "a volume needs \"type\"");
        if (!target)
                return diag_error(c->diag, item, converter_path(c, key), "a volume needs \"target\"");
        if (!STR_IN_SET(type, "bind", "volume", "tmpfs"))
                return diag_error(c->diag, item, converter_path(c, key), "volume type \"%s\" is not supported", type);
        if ((val = yaml_mapping_get(item, "read_only"))) {
                r = converter_bool(c, key, val, &ro);
                if (r < 0)
                        return r;
        }

        if (streq(type, "tmpfs")) {
                uint64_t size = 0;

                sub = yaml_mapping_get(item, "tmpfs");
                if ((val = yaml_mapping_get(sub, "size"))) {
                        r = converter_bytes(c, key, val, &size);
                        if (r < 0)
                                return r;
                }
                const char *mode = yaml_node_scalar(yaml_mapping_get(sub, "mode"));
                if (size > 0)
                        r = asprintf(&arg, "type=tmpfs,dst=%s,tmpfs-size=%" PRIu64 "%s%s", target, size,
                                     mode ? ",tmpfs-mode=" : "", strempty(mode));
                else
                        r = asprintf(&arg, "type=tmpfs,dst=%s%s%s", target, mode ? ",tmpfs-mode=" : "", strempty(mode));
                if (r < 0)
                        return -ENOMEM;
                return converter_flag(c, "--mount", arg);
        }

        if (!source && streq(type, "bind"))
                return diag_error(c->diag, item, converter_path(c, key), "a bind mount needs \"source\"");
        if (source) {
                r = volume_source(c, key, item, source, &named, &src);
                if (r < 0)
                        return r;
                if (streq(type, "bind") && named)
                        return diag_error(c->diag, item, converter_path(c, key), "bind source \"%s\" must be a path",
                                          source);
        }

        if (streq(type, "bind")) {
                const char *prop;
                bool create = true;

                sub = yaml_mapping_get(item, "bind");
                prop = yaml_node_scalar(yaml_mapping_get(sub, "propagation"));
                if ((val = yaml_mapping_get(sub, "create_host_path"))) {
                        r = converter_bool(c, key, val, &create);
                        if (r < 0)
                                return r;
                }
                /* --mount, unlike -v, does not create a missing host path. */
                if (create && !exec_argv_contains(&c->service->mkdirs, &src)) {
                        r = exec_argv_add_word(&c->service->mkdirs, &src);
                        if (r < 0)
                                return r;
                }
                r = asprintf(&arg, ",dst=%s%s%s%s", target, ro ? ",readonly" : "", prop ? ",bind-propagation=" : "",
                             strempty(prop));
                if (r < 0)
                        return -ENOMEM;
                r = exec_word_wrap(&word, "type=bind,src=", &src, arg);
        } else {
                bool nocopy = false;

                sub = yaml_mapping_get(item, "volume");
                if ((val = yaml_mapping_get(sub, "nocopy"))) {
                        r = converter_bool(c, key, val, &nocopy);
                        if (r < 0)
                                return r;
                }
                r = asprintf(&arg, ",dst=%s%s%s", target, ro ? ",readonly" : "", nocopy ? ",volume-nocopy" : "");
                if (r < 0)
                        return -ENOMEM;
                r = src.text ? exec_word_wrap(&word, "type=volume,src=", &src, arg) :
                        exec_word_make(&word, "type=volume", EXEC_SPECIFIER_NONE, arg);
        }
        if (r < 0)
                return r;
        return converter_flag_word(c, "--mount", &word);
}

int convert_volumes(Converter *c, const char *key, YamlNode *v) {
        YamlNode *item;
        int r;

        if (v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, converter_path(c, key), "must be a list, not %s", yaml_node_type_name(v));
        YAML_SEQUENCE_FOREACH(item, v) {
                _cleanup_(exec_word_done) ExecWord src = {}, word = {};
                _cleanup_free_ char *first = NULL;
                const char *spec, *colon;
                bool named;

                if (item->type == YAML_NODE_MAPPING) {
                        r = volume_long(c, key, item);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = converter_string(c, key, item, &spec);
                if (r < 0)
                        return r;
                colon = strchr(spec, ':');
                if (!colon) {
                        /* An anonymous volume at a container path. */
                        if (spec[0] != '/')
                                return diag_error(c->diag, item, converter_path(c, key),
                                                  "\"%s\": a container path must be absolute", spec);
                        r = converter_flag(c, "-v", spec);
                        if (r < 0)
                                return r;
                        continue;
                }
                first = strndup(spec, (size_t) (colon - spec));
                if (!first)
                        return -ENOMEM;
                if (isempty(first) || colon[1] != '/')
                        return diag_error(c->diag, item, converter_path(c, key),
                                          "\"%s\" is not SOURCE:/CONTAINER/PATH[:OPTIONS]", spec);
                r = volume_source(c, key, item, first, &named, &src);
                if (r < 0)
                        return r;
                r = exec_word_wrap(&word, NULL, &src, colon);
                if (r < 0)
                        return r;
                r = converter_flag_word(c, "-v", &word);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_tmpfs(Converter *c, const char *key, YamlNode *v) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = converter_strings(c, key, v, &l);
        if (r < 0)
                return r;
        STRV_FOREACH(s, l) {
                if ((*s)[0] != '/')
                        return diag_error(c->diag, v, converter_path(c, key), "\"%s\": a container path must be absolute",
                                          *s);
                r = converter_flag(c, "--tmpfs", *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A mode as compose writes it: YAML 1.1 octal (0400, 0o400) or a decimal number. */
static int parse_mode(const char *s, mode_t *ret) {
        const char *digits = startswith(s, "0o") ?: s;
        unsigned long m;
        char *end;

        if (isempty(digits) || !strchr("0123456789", digits[0]))
                return -EINVAL;
        errno = 0;
        m = strtoul(digits, &end, digits != s || s[0] == '0' ? 8 : 10);
        if (*end || errno != 0 || m > 0777)
                return -EINVAL;
        *ret = (mode_t) m;
        return 0;
}

/* secrets and configs: cluster objects (issue 15), referred to by name in [X-Fleet] (Secret=,
 * Config=), materialised by the agent under /run on the unit's machine and bind-mounted from there.
 * Named per project as swarm does ("<project>_<key>", or the definition's "name:"); external ones
 * by their own name. */
int convert_secrets(Converter *c, const char *key, YamlNode *v) {
        bool secrets = streq(key, "secrets");
        ClusterObjectKind kind = secrets ? CLUSTER_OBJECT_SECRET : CLUSTER_OBJECT_CONFIG;
        YamlNode *top = yaml_mapping_get(c->project->root, key), *item;
        int r;

        if (v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, converter_path(c, key), "must be a list, not %s", yaml_node_type_name(v));
        YAML_SEQUENCE_FOREACH(item, v) {
                _cleanup_free_ char *objname = NULL, *tgt = NULL, *line = NULL, *source = NULL;
                _cleanup_(cluster_object_ref_done) ClusterObjectRef ref = { .kind = kind, .mode = 0444 };
                const char *name, *target = NULL, *file, *env, *uid = NULL, *gid = NULL, *mode = NULL, *given;
                YamlNode *def;
                bool external;

                if (item->type == YAML_NODE_MAPPING) {
                        name = yaml_node_scalar(yaml_mapping_get(item, "source"));
                        target = yaml_node_scalar(yaml_mapping_get(item, "target"));
                        uid = yaml_node_scalar(yaml_mapping_get(item, "uid"));
                        gid = yaml_node_scalar(yaml_mapping_get(item, "gid"));
                        mode = yaml_node_scalar(yaml_mapping_get(item, "mode"));
                        if (!name)
                                return diag_error(c->diag, item, converter_path(c, key), "needs \"source\"");
                } else {
                        r = converter_string(c, key, item, &name);
                        if (r < 0)
                                return r;
                }
                def = yaml_mapping_get(top, name);
                if (!def)
                        return diag_error(c->diag, item, converter_path(c, key),
                                          "\"%s\" is not declared under the top-level \"%s\"", name, key);
                /* external: true, or compose file format 2/3's external: {name: N}. */
                YamlNode *ext = yaml_mapping_get(def, "external");
                external = yaml_node_bool(ext) == 1 || yaml_node_is_mapping(ext);
                given = yaml_node_scalar(yaml_mapping_get(def, "name"));
                if (yaml_node_is_mapping(ext) && yaml_node_scalar(yaml_mapping_get(ext, "name")))
                        given = yaml_node_scalar(yaml_mapping_get(ext, "name"));
                file = yaml_node_scalar(yaml_mapping_get(def, "file"));
                env = yaml_node_scalar(yaml_mapping_get(def, "environment"));
                if (external)
                        objname = strdup(given ?: name);
                else if (given)
                        objname = strdup(given);
                else
                        r = asprintf(&objname, "%s_%s", c->project->name, name) < 0 ? -ENOMEM : 0;
                if (!objname)
                        return -ENOMEM;
                if (!cluster_object_name_is_valid(objname))
                        return diag_error(c->diag, item, converter_path(c, key),
                                          "%s \"%s\": \"%s\" cannot name a cluster %s (1..64 letters, digits, '_', "
                                          "'.', '-', beginning and ending with a letter or digit)",
                                          secrets ? "secret" : "config", name, objname, secrets ? "secret" : "config");

                if (external)
                        source = strdup("external");
                else if (file) {
                        _cleanup_free_ char *path = NULL;

                        r = compose_project_path(c->project, file, &path);
                        if (r < 0)
                                return r;
                        if (asprintf(&source, "file:%s", path) < 0)
                                return -ENOMEM;
                } else if (env)
                        r = asprintf(&source, "environment:%s", env) < 0 ? -ENOMEM : 0;
                else if (yaml_mapping_get(def, "content"))
                        source = strdup("content");
                else
                        return diag_error(c->diag, item, converter_path(c, key),
                                          "%s \"%s\" has no \"file\", \"environment\", \"content\" or \"external\"",
                                          secrets ? "secret" : "config", name);
                if (!source)
                        return -ENOMEM;

                /* The target in the container: compose's default is the short name, not the
                 * cluster object's. */
                if (!target)
                        r = asprintf(&tgt, secrets ? "/run/secrets/%s" : "/%s", name);
                else if (target[0] != '/')
                        r = asprintf(&tgt, secrets ? "/run/secrets/%s" : "/%s", target);
                else
                        r = (tgt = strdup(target)) ? 0 : -1;
                if (r < 0)
                        return -ENOMEM;

                ref.name = strdup(objname);
                ref.target = strdup(tgt);
                if (!ref.name || !ref.target)
                        return -ENOMEM;
                if (uid || gid) {
                        uint64_t n;

                        if ((uid && (parse_u64(uid, &n) < 0 || n >= UINT32_MAX)))
                                return diag_error(c->diag, item, converter_path(c, key), "uid \"%s\" is not a number", uid);
                        if (uid)
                                ref.uid = (uid_t) n;
                        if ((gid && (parse_u64(gid, &n) < 0 || n >= UINT32_MAX)))
                                return diag_error(c->diag, item, converter_path(c, key), "gid \"%s\" is not a number", gid);
                        if (gid)
                                ref.gid = (gid_t) n;
                }
                if (mode && parse_mode(mode, &ref.mode) < 0)
                        return diag_error(c->diag, item, converter_path(c, key),
                                          "mode \"%s\" is not a file mode (octal 0400, at most 0777)", mode);

                line = cluster_object_ref_format(&ref);
                if (!line)
                        return -ENOMEM;
                {
                        _cleanup_free_ char *check = NULL, *x = NULL;
                        _cleanup_(cluster_object_ref_done) ClusterObjectRef back = {};

                        /* What the unit will hold must parse back (a target with ':' or spaces
                         * cannot be mounted). */
                        r = cluster_object_ref_parse(kind, line, &back, &check);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return diag_error(c->diag, item, converter_path(c, key), "%s", check);
                }
                r = strv_extendf(&c->service->xfleet, "%s=%s", secrets ? "Secret" : "Config", line);
                if (r < 0)
                        return r;
                {
                        _cleanup_(exec_word_done) ExecWord word = {};
                        _cleanup_free_ char *rest = NULL;

                        /* The unit's own directory of objects, which the agent fills (%n). */
                        if (asprintf(&rest, "/%ss/%s:%s:ro", secrets ? "secret" : "config", objname, tgt) < 0)
                                return -ENOMEM;
                        r = exec_word_make(&word, CLUSTER_OBJECTS_DIR "/", EXEC_SPECIFIER_UNIT, rest);
                        if (r < 0)
                                return r;
                        r = converter_flag_word(c, "-v", &word);
                        if (r < 0)
                                return r;
                }

                {
                        _cleanup_free_ char *where = NULL;
                        YamlNode *content = yaml_mapping_get(def, "content"), *k, *d, *at = def;

                        /* The definition's key line, where a reader looks for it. */
                        YAML_MAPPING_FOREACH(k, d, top)
                                if (d == def)
                                        at = k;
                        if (asprintf(&where, "%s:%u:%u: %s.%s", at->file ?: "-", at->line, at->column, key, name) < 0)
                                return -ENOMEM;
                        r = compose_objects_add(&c->model->objects, &c->model->n_objects, &(ComposeObject) {
                                .kind = kind,
                                .name = objname,
                                .source = source,
                                .where = where,
                                .value = (char *) (env ? compose_project_lookup(env, c->project) :
                                                   content ? yaml_node_scalar(content) : NULL),
                        });
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int convert_networks(Converter *c, const char *key, YamlNode *v) {
        bool cluster = c->model->networking == NETWORKING_CLUSTER;
        YamlNode *k, *val;
        int r;

        if (yaml_mapping_get(c->service->node, "network_mode"))
                return diag_error(c->diag, v, converter_path(c, key), "cannot be combined with \"network_mode\"");
        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a list or a mapping, not %s",
                                  yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v) {
                ComposeResource *res = compose_resource_find(c->model->networks, c->model->n_networks, k->value);
                _cleanup_strv_free_ char **aliases = NULL;
                YamlNode *ak, *av;

                if (!res)
                        return diag_error(c->diag, k, converter_path(c, key),
                                          "network \"%s\" is not declared under the top-level \"networks\"", k->value);
                if (cluster) {
                        /* A scope of the cluster network: the service's names are published there. */
                        r = strv_contains(c->service->scopes, res->name) ? 0 :
                                strv_extend(&c->service->scopes, res->name);
                        if (r < 0)
                                return r;
                } else {
                        if (!res->external && !strv_contains(c->service->networks, res->name)) {
                                r = strv_extend(&c->service->networks, res->name);
                                if (r < 0)
                                        return r;
                        }
                        r = converter_flag(c, "--network", res->name);
                        if (r < 0)
                                return r;
                        /* Other services reach this one by its service name, as under compose. */
                        r = converter_flag(c, "--network-alias", c->service->name);
                        if (r < 0)
                                return r;
                }
                if (yaml_node_is_null(val))
                        continue;
                if (val->type != YAML_NODE_MAPPING)
                        return diag_error(c->diag, val, converter_path(c, key), "the settings of \"%s\" must be a mapping",
                                          k->value);
                YAML_MAPPING_FOREACH(ak, av, val) {
                        if (streq(ak->value, "aliases")) {
                                r = converter_strings(c, key, av, &aliases);
                                if (r < 0)
                                        return r;
                                STRV_FOREACH(a, aliases) {
                                        if (cluster && !cluster_dns_word_is_valid(*a))
                                                return diag_error(c->diag, av, converter_path(c, key),
                                                                  "alias \"%s\" is not a DNS name ([A-Za-z0-9._-])", *a);
                                        r = cluster ? (strv_contains(c->service->aliases, *a) ? 0 :
                                                       strv_extend(&c->service->aliases, *a)) :
                                                converter_flag(c, "--network-alias", *a);
                                        if (r < 0)
                                                return r;
                                }
                        } else if (streq(ak->value, "ipv4_address") || streq(ak->value, "ipv6_address") ||
                                   streq(ak->value, "mac_address")) {
                                const char *s;

                                r = converter_string(c, key, av, &s);
                                if (r < 0)
                                        return r;
                                if (cluster) {
                                        /* Addresses come from the machine's subnet, wherever the unit lands. */
                                        r = diag_warning(c->diag, ak, converter_path(c, key),
                                                         "\"%s\" is ignored on the cluster network (use --networking local)",
                                                         ak->value);
                                        if (r < 0)
                                                return r;
                                        continue;
                                }
                                r = converter_flag(c, streq(ak->value, "ipv4_address") ? "--ip" :
                                                   streq(ak->value, "ipv6_address") ? "--ip6" : "--mac-address", s);
                        } else if (STR_IN_SET(ak->value, "priority", "gw_priority", "link_local_ips", "driver_opts",
                                              "interface_name"))
                                r = diag_warning(c->diag, ak, converter_path(c, key), "\"%s\" is not supported, ignoring",
                                                 ak->value);
                        else
                                r = diag_error(c->diag, ak, converter_path(c, key), "unknown network key \"%s\"", ak->value);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int convert_network_mode(Converter *c, const char *key, YamlNode *v) {
        const char *s, *other;
        int r;

        r = converter_string(c, key, v, &s);
        if (r < 0)
                return r;
        if ((other = startswith(s, "service:"))) {
                /* The container is named when the model is complete; the word keeps the order. */
                r = converter_depend(c, "network_mode", other, DEPEND_STARTED, true, true, true, v);
                if (r < 0)
                        return r;
                return converter_flag_container(c, false, "--network", "container:", other, NULL);
        }
        if (!STR_IN_SET(s, "host", "none", "bridge", "default") && !startswith(s, "container:"))
                return diag_error(c->diag, v, converter_path(c, key), "\"%s\" is not a network mode", s);
        if (streq(s, "host")) {
                r = diag_warning(c->diag, v, converter_path(c, key),
                                 "host networking publishes every listening port on the machine; consider "
                                 "x-fleet Conflicts=");
                if (r < 0)
                        return r;
        }
        return converter_flag(c, "--network", streq(s, "default") ? "bridge" : s);
}

int convert_container_name(Converter *c, const char *key, YamlNode *v) {
        const char *s;
        int r;

        r = converter_string(c, key, v, &s);
        if (r < 0)
                return r;
        if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] ||
            !isalnum((unsigned char) s[0]))
                return diag_error(c->diag, v, converter_path(c, key), "\"%s\" is not a valid container name", s);
        exec_word_done(&c->service->container);
        c->service->container.text = strdup(s);
        return c->service->container.text ? 0 : -ENOMEM;
}
