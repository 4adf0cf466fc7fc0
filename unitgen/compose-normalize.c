/* SPDX-License-Identifier: Apache-2.0 */

#include "compose-normalize.h"
#include "hashmap.h"
#include "interpolate.h"
#include "strv.h"

typedef struct Walk {
        InterpolateLookup lookup;
        void *userdata;
        Diag *diag;
        char path[512];
} Walk;

static int walk_scalar(Walk *w, YamlNode *n) {
        _cleanup_strv_free_ char **unset = NULL;
        _cleanup_free_ char *value = NULL, *error = NULL;
        int r;

        if (!interpolate_needed(n->value))
                return 0;

        r = interpolate_string(n->value, w->lookup, w->userdata, &value, &unset, &error);
        if (r == -EINVAL)
                return diag_error(w->diag, n, w->path, "%s", error ?: "invalid interpolation");
        if (r < 0)
                return r;
        STRV_FOREACH(u, unset) {
                r = diag_warning(w->diag, n, w->path, "variable \"%s\" is not set, defaulting to a blank string", *u);
                if (r < 0)
                        return r;
        }
        /* The converter uses control characters as markers; no value may carry them. */
        for (const char *c = value; *c; c++)
                if (*c < '\t')
                        return diag_error(w->diag, n, w->path, "interpolation produced a control character");
        free_and_replace(n->value, value);
        /* An interpolated value is a string, never YAML's null. */
        n->plain = false;
        return 0;
}

static int walk(Walk *w, YamlNode *n) {
        size_t len = strlen(w->path);
        int r;

        switch (n->type) {
        case YAML_NODE_SCALAR:
                return walk_scalar(w, n);
        case YAML_NODE_SEQUENCE:
                for (size_t i = 0; i < n->n_children; i++) {
                        r = walk(w, n->children[i]);
                        if (r < 0)
                                return r;
                }
                return 0;
        case YAML_NODE_MAPPING:
                for (size_t i = 0; i + 1 < n->n_children; i += 2) {
                        const char *k = n->children[i]->value;
                        size_t kl = strlen(k), at = len;

                        /* The dotted path, for messages only: cut when it does not fit. */
                        if (at > 0 && at + 1 < sizeof(w->path))
                                w->path[at++] = '.';
                        kl = MIN(kl, sizeof(w->path) - 1 - at);
                        memcpy(w->path + at, k, kl);
                        w->path[at + kl] = 0;
                        r = walk(w, n->children[i + 1]);
                        w->path[len] = 0;
                        if (r < 0)
                                return r;
                }
                return 0;
        default:
                assert_not_reached();
        }
        return 0;
}

int compose_interpolate_at(YamlNode *n, const char *path, InterpolateLookup lookup, void *userdata, Diag *d) {
        Walk w = { .lookup = lookup, .userdata = userdata, .diag = d };

        assert(n);
        assert(path);
        assert(lookup);

        strncpy(w.path, path, sizeof(w.path) - 1);
        return walk(&w, n);
}

int compose_interpolate_tree(YamlNode *root, InterpolateLookup lookup, void *userdata, Diag *d) {
        return compose_interpolate_at(root, "", lookup, userdata, d);
}

/* "K=V" / "K" items (or "host:ip" for extra_hosts) into a mapping. */
static int list_to_mapping(YamlNode *svc, const char *key, const char *seps, const char *name, Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *map = NULL;
        YamlNode *list = yaml_mapping_get(svc, key), *item;
        _cleanup_(hashmap_freep) Hashmap *index = NULL;         /* name → its value's slot + 1 */
        _cleanup_free_ char *path = NULL;
        int r;

        if (!list || list->type != YAML_NODE_SEQUENCE)
                return 0;
        if (asprintf(&path, "services.%s.%s", name, key) < 0)
                return -ENOMEM;
        /* A later item wins, as in compose; found by a lookup, not a scan (n items cost n). */
        index = hashmap_new();
        if (!index)
                return -ENOMEM;

        r = yaml_node_new(YAML_NODE_MAPPING, list, &map);
        if (r < 0)
                return r;

        YAML_SEQUENCE_FOREACH(item, list) {
                _cleanup_(yaml_node_freep) YamlNode *k = NULL, *v = NULL;
                const char *s = yaml_node_scalar(item);
                _cleanup_free_ char *ks = NULL;
                size_t n;

                if (!s)
                        return diag_error(d, item, path, "list items must be strings, not %s", yaml_node_type_name(item));
                n = strcspn(s, seps);
                if (n == 0)
                        return diag_error(d, item, path, "\"%s\" has an empty name", s);
                ks = strndup(s, n);
                if (!ks)
                        return -ENOMEM;
                r = yaml_node_new_scalar(ks, false, item, &k);
                if (r < 0)
                        return r;
                if (s[n])
                        r = yaml_node_new_scalar(s + n + 1, false, item, &v);
                else
                        r = yaml_node_new_scalar("", true, item, &v);
                if (r < 0)
                        return r;
                uintptr_t slot = (uintptr_t) hashmap_get(index, k->value);
                if (slot > 0) {
                        yaml_node_free(map->children[slot - 1]);
                        map->children[slot - 1] = TAKE_PTR(v);
                        continue;
                }
                r = yaml_mapping_append(map, TAKE_PTR(k), TAKE_PTR(v));
                if (r < 0)
                        return r;
                r = hashmap_put(index, map->children[map->n_children - 2]->value,
                                (void *) (uintptr_t) map->n_children);
                if (r < 0)
                        return r;
        }
        return compose_replace_value(svc, key, TAKE_PTR(map));
}

int compose_replace_value(YamlNode *map, const char *key, YamlNode *value) {
        ssize_t found = -1;

        for (size_t i = 0; i + 1 < map->n_children; i += 2)
                if (streq(map->children[i]->value, key))
                        found = (ssize_t) i;
        if (found < 0) {
                yaml_node_free(value);
                return -ENOENT;
        }
        yaml_node_free(map->children[found + 1]);
        map->children[found + 1] = value;
        return 0;
}

/* depends_on: [a, b] → {a: {condition: service_started}, b: ...}; networks: [a] → {a: null}. */
static int names_to_mapping(YamlNode *svc, const char *key, bool depends, const char *name, Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *map = NULL;
        YamlNode *list = yaml_mapping_get(svc, key), *item;
        _cleanup_(set_freep) Set *seen = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!list || list->type != YAML_NODE_SEQUENCE)
                return 0;
        if (asprintf(&path, "services.%s.%s", name, key) < 0)
                return -ENOMEM;
        seen = set_new();
        if (!seen)
                return -ENOMEM;

        r = yaml_node_new(YAML_NODE_MAPPING, list, &map);
        if (r < 0)
                return r;

        YAML_SEQUENCE_FOREACH(item, list) {
                _cleanup_(yaml_node_freep) YamlNode *k = NULL, *v = NULL;
                const char *s = yaml_node_scalar(item);

                if (!s)
                        return diag_error(d, item, path, "list items must be names, not %s", yaml_node_type_name(item));
                if (set_contains(seen, s))
                        return diag_error(d, item, path, "\"%s\" is listed twice", s);
                r = yaml_node_new_scalar(s, false, item, &k);
                if (r < 0)
                        return r;
                if (depends) {
                        _cleanup_(yaml_node_freep) YamlNode *ck = NULL, *cv = NULL;

                        r = yaml_node_new(YAML_NODE_MAPPING, item, &v);
                        if (r < 0)
                                return r;
                        r = yaml_node_new_scalar("condition", false, item, &ck);
                        if (r < 0)
                                return r;
                        r = yaml_node_new_scalar("service_started", false, item, &cv);
                        if (r < 0)
                                return r;
                        r = yaml_mapping_append(v, TAKE_PTR(ck), TAKE_PTR(cv));
                } else
                        r = yaml_node_new_scalar("", true, item, &v);
                if (r < 0)
                        return r;
                r = yaml_mapping_append(map, TAKE_PTR(k), TAKE_PTR(v));
                if (r < 0)
                        return r;
                r = set_put(seen, s);
                if (r < 0)
                        return r;
        }
        return compose_replace_value(svc, key, TAKE_PTR(map));
}

static int rename_key(YamlNode *svc, const char *from, const char *to) {
        YamlNode *k = yaml_mapping_get_key(svc, from);
        char *n;

        if (!k || yaml_mapping_get(svc, to))
                return 0;
        n = strdup(to);
        if (!n)
                return -ENOMEM;
        free_and_replace(k->value, n);
        return 0;
}

/* v1's log_driver/log_opt become logging: {driver, options}. */
static int v1_logging(YamlNode *svc) {
        _cleanup_(yaml_node_freep) YamlNode *driver = NULL, *opts = NULL, *logging = NULL, *k = NULL;
        YamlNode *at;
        int r;

        at = yaml_mapping_get_key(svc, "log_driver") ?: yaml_mapping_get_key(svc, "log_opt");
        if (!at || yaml_mapping_get(svc, "logging"))
                return 0;

        r = yaml_node_new(YAML_NODE_MAPPING, at, &logging);
        if (r < 0)
                return r;
        driver = yaml_mapping_steal(svc, "log_driver");
        opts = yaml_mapping_steal(svc, "log_opt");
        if (driver) {
                r = yaml_node_new_scalar("driver", false, driver, &k);
                if (r < 0)
                        return r;
                r = yaml_mapping_append(logging, TAKE_PTR(k), TAKE_PTR(driver));
                if (r < 0)
                        return r;
        }
        if (opts) {
                r = yaml_node_new_scalar("options", false, opts, &k);
                if (r < 0)
                        return r;
                r = yaml_mapping_append(logging, TAKE_PTR(k), TAKE_PTR(opts));
                if (r < 0)
                        return r;
        }
        r = yaml_node_new_scalar("logging", false, logging, &k);
        if (r < 0)
                return r;
        return yaml_mapping_append(svc, TAKE_PTR(k), TAKE_PTR(logging));
}

int compose_normalize_service(YamlNode *svc, const char *name, bool v1, Diag *d) {
        static const char *const map_keys[] = { "environment", "labels", "annotations", "sysctls" };
        int r;

        assert(svc);
        assert(name);

        if (svc->type != YAML_NODE_MAPPING)
                return 0;

        if (v1) {
                r = rename_key(svc, "net", "network_mode");
                if (r < 0)
                        return r;
                r = v1_logging(svc);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(map_keys); i++) {
                r = list_to_mapping(svc, map_keys[i], "=", name, d);
                if (r < 0)
                        return r;
        }
        r = list_to_mapping(svc, "extra_hosts", "=:", name, d);
        if (r < 0)
                return r;
        r = names_to_mapping(svc, "depends_on", true, name, d);
        if (r < 0)
                return r;
        return names_to_mapping(svc, "networks", false, name, d);
}
