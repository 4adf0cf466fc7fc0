/* SPDX-License-Identifier: Apache-2.0 */

#include "compose-load.h"
#include "strv.h"

/* Compose's merge rules (compose-spec 13-merge.md): mappings merge key by key, scalars and shell
 * commands are replaced, "unique resources" (ports, volumes, secrets, configs) are merged by their
 * identity, and any other sequence is appended without repeating equal scalars. */

static bool merge_replaces(const char *key) {
        return key && (streq(key, "command") || streq(key, "entrypoint") || streq(key, "test"));
}

static bool merge_unique(const char *key) {
        return key && (streq(key, "ports") || streq(key, "volumes") || streq(key, "secrets") ||
                       streq(key, "configs") || streq(key, "devices"));
}

/* The identity of an item of a unique-resource list: the container side of a volume or device,
 * the whole short port spec, the target (or source) of a secret/config. */
static char *merge_identity(const YamlNode *item, const char *key) {
        const char *s = yaml_node_scalar(item);

        if (s) {
                if (streq(key, "volumes") || streq(key, "devices")) {
                        const char *c = strchr(s, ':');
                        size_t n;

                        if (!c)
                                return strdup(s);
                        c++;
                        n = strcspn(c, ":");
                        return strndup(c, n);
                }
                return strdup(s);
        }
        if (item->type == YAML_NODE_MAPPING) {
                if (streq(key, "ports")) {
                        char *r;

                        if (asprintf(&r, "%s:%s:%s/%s", strempty(yaml_node_scalar(yaml_mapping_get(item, "host_ip"))),
                                     strempty(yaml_node_scalar(yaml_mapping_get(item, "published"))),
                                     strempty(yaml_node_scalar(yaml_mapping_get(item, "target"))),
                                     yaml_node_scalar(yaml_mapping_get(item, "protocol")) ?: "tcp") < 0)
                                return NULL;
                        return r;
                }
                s = yaml_node_scalar(yaml_mapping_get(item, "target")) ?:
                        yaml_node_scalar(yaml_mapping_get(item, "source"));
                return strdup(strempty(s));
        }
        return strdup("");
}

static int merge_sequence(YamlNode *base, YamlNode *over, const char *key) {
        int r;

        for (size_t i = 0; i < over->n_children; i++) {
                YamlNode *item = over->children[i];
                bool placed = false;

                over->children[i] = NULL;
                if (merge_unique(key)) {
                        _cleanup_free_ char *id = merge_identity(item, key);

                        if (!id) {
                                yaml_node_free(item);
                                return -ENOMEM;
                        }
                        for (size_t j = 0; j < base->n_children; j++) {
                                _cleanup_free_ char *other = merge_identity(base->children[j], key);

                                if (!other) {
                                        yaml_node_free(item);
                                        return -ENOMEM;
                                }
                                if (streq(id, other)) {
                                        yaml_node_free(base->children[j]);
                                        base->children[j] = item;
                                        placed = true;
                                        break;
                                }
                        }
                } else if (item->type == YAML_NODE_SCALAR)
                        for (size_t j = 0; j < base->n_children; j++)
                                if (base->children[j]->type == YAML_NODE_SCALAR &&
                                    streq(base->children[j]->value, item->value)) {
                                        yaml_node_free(item);
                                        placed = true;
                                        break;
                                }
                if (placed)
                        continue;
                r = yaml_node_append(base, item);
                if (r < 0)
                        return r;
        }
        return 0;
}

int compose_merge(YamlNode **base, YamlNode *over, const char *key) {
        _cleanup_(yaml_node_freep) YamlNode *o = over;
        YamlNode *b;
        int r;

        assert(base);
        assert(over);

        b = *base;
        if (!b || b->type != o->type || o->type == YAML_NODE_SCALAR || merge_replaces(key)) {
                yaml_node_free(b);
                *base = TAKE_PTR(o);
                return 0;
        }

        if (o->type == YAML_NODE_SEQUENCE)
                return merge_sequence(b, o, key);

        for (size_t i = 0; i + 1 < o->n_children; i += 2) {
                YamlNode *k = o->children[i], *v = o->children[i + 1];
                bool found = false;

                for (size_t j = 0; j + 1 < b->n_children; j += 2)
                        if (streq(b->children[j]->value, k->value)) {
                                o->children[i + 1] = NULL;
                                r = compose_merge(&b->children[j + 1], v, k->value);
                                if (r < 0)
                                        return r;
                                found = true;
                                break;
                        }
                if (found)
                        continue;
                o->children[i] = o->children[i + 1] = NULL;
                r = yaml_mapping_append(b, k, v);
                if (r < 0)
                        return r;
        }
        return 0;
}
