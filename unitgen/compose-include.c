/* SPDX-License-Identifier: Apache-2.0 */

#include <libgen.h>

#include "compose-load.h"
#include "fileio.h"
#include "strv.h"

/* compose-spec 14-include.md: every entry of "include" is loaded as a compose application of its
 * own (its project directory, its .env, its relative paths), then its resources are copied into
 * the including model. Compose does not merge a resource defined on both sides: that is an error. */

#define INCLUDE_FILE_MAX (16U * 1024U * 1024U)

static const char *const include_resources[] = { "services", "networks", "volumes", "secrets", "configs" };

typedef struct IncludeEntry {
        char **paths;                   /* absolute */
        char *project_dir;              /* absolute, NULL: the first path's directory */
        char **env_files;               /* absolute, NULL: <project_dir>/.env if it exists */
} IncludeEntry;

static void include_entry_done(IncludeEntry *e) {
        strv_free(e->paths);
        free(e->project_dir);
        strv_free(e->env_files);
}

/* A scalar or a list of scalars, each made absolute against dir. */
static int include_path_list(const ComposeProject *p, YamlNode *v, const char *key, char ***ret, Diag *d) {
        _cleanup_strv_free_ char **l = NULL;
        YamlNode *item;
        int r;

        if (v->type == YAML_NODE_SCALAR && yaml_node_scalar(v)) {
                char *abs;

                r = compose_project_path(p, v->value, &abs);
                if (r < 0)
                        return r;
                r = strv_consume(&l, abs);
                if (r < 0)
                        return r;
        } else if (v->type == YAML_NODE_SEQUENCE && v->n_children > 0) {
                YAML_SEQUENCE_FOREACH(item, v) {
                        char *abs;

                        if (!yaml_node_scalar(item))
                                return diag_error(d, item, key, "must be a file name, not %s",
                                                  yaml_node_type_name(item));
                        r = compose_project_path(p, item->value, &abs);
                        if (r < 0)
                                return r;
                        r = strv_consume(&l, abs);
                        if (r < 0)
                                return r;
                }
        } else
                return diag_error(d, v, key, "must be a file name or a list of file names");
        *ret = TAKE_PTR(l);
        return 0;
}

static int include_entry_parse(const ComposeProject *p, YamlNode *entry, IncludeEntry *ret, Diag *d) {
        _cleanup_(include_entry_done) IncludeEntry e = {};
        YamlNode *k, *v;
        int r;

        if (entry->type != YAML_NODE_MAPPING) {
                r = include_path_list(p, entry, "include", &e.paths, d);
                if (r < 0)
                        return r;
                *ret = e;
                e = (IncludeEntry) {};
                return 0;
        }

        YAML_MAPPING_FOREACH(k, v, entry) {
                if (streq(k->value, "path"))
                        r = include_path_list(p, v, "include.path", &e.paths, d);
                else if (streq(k->value, "env_file"))
                        r = include_path_list(p, v, "include.env_file", &e.env_files, d);
                else if (streq(k->value, "project_directory")) {
                        if (!yaml_node_scalar(v))
                                return diag_error(d, v, "include.project_directory", "must be a directory name");
                        r = compose_project_path(p, v->value, &e.project_dir);
                } else
                        return diag_error(d, k, "include", "unknown key \"%s\"", k->value);
                if (r < 0)
                        return r;
        }
        if (!e.paths)
                return diag_error(d, entry, "include", "\"path\" is required");
        *ret = e;
        e = (IncludeEntry) {};
        return 0;
}

static int include_cycle(char **stack, const char *path, YamlNode *at, Diag *d) {
        _cleanup_strv_free_ char **chain = NULL;
        _cleanup_free_ char *text = NULL;
        ssize_t i = strv_index(stack, path);
        int r;

        assert(i >= 0);
        chain = strv_copy(stack + i);
        if (!chain)
                return -ENOMEM;
        r = strv_extend(&chain, path);
        if (r < 0)
                return r;
        text = strv_join(chain, " -> ");
        if (!text)
                return -ENOMEM;
        return diag_error(d, at, "include", "forms a cycle: %s", text);
}

static int include_env(ComposeProject *sub, const IncludeEntry *e, Diag *d) {
        _cleanup_free_ char *dotenv = NULL;
        int r;

        STRV_FOREACH(f, e->env_files) {
                r = compose_project_load_env(sub, *f, *f, true, d);
                if (r < 0)
                        return r;
        }
        if (e->env_files)
                return 0;
        r = compose_project_path(sub, ".env", &dotenv);
        if (r < 0)
                return r;
        return compose_project_load_env(sub, dotenv, dotenv, false, d);
}

/* Copy every resource of sub into root; one defined on both sides is an error naming both files. */
static int include_copy_resources(YamlNode *root, const YamlNode *sub, Diag *d) {
        YamlNode *k, *v;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(include_resources); i++) {
                const char *key = include_resources[i];
                YamlNode *src = yaml_mapping_get(sub, key), *dst;

                if (!src || src->type != YAML_NODE_MAPPING || src->n_children == 0)
                        continue;
                dst = yaml_mapping_get(root, key);
                if (!dst || yaml_node_is_null(dst)) {
                        _cleanup_(yaml_node_freep) YamlNode *name = NULL, *map = NULL;

                        r = yaml_node_new_scalar(key, true, src, &name);
                        if (r < 0)
                                return r;
                        r = yaml_node_new(YAML_NODE_MAPPING, src, &map);
                        if (r < 0)
                                return r;
                        r = yaml_mapping_put(root, TAKE_PTR(name), TAKE_PTR(map));
                        if (r < 0)
                                return r;
                        dst = yaml_mapping_get(root, key);
                } else if (dst->type != YAML_NODE_MAPPING)
                        return diag_error(d, dst, key, "must be a mapping, not %s", yaml_node_type_name(dst));

                YAML_MAPPING_FOREACH(k, v, src) {
                        _cleanup_(yaml_node_freep) YamlNode *name = NULL, *value = NULL;
                        _cleanup_free_ char *path = NULL;
                        YamlNode *there = yaml_mapping_get_key(dst, k->value);

                        if (there) {
                                if (asprintf(&path, "%s.%s", key, k->value) < 0)
                                        return -ENOMEM;
                                return diag_error(d, there, path,
                                                  "also defined in the included file %s:%u:%u: compose does not "
                                                  "merge included resources, rename one of them",
                                                  strna(k->file), k->line, k->column);
                        }
                        r = yaml_node_new_scalar(k->value, k->plain, k, &name);
                        if (r < 0)
                                return r;
                        r = yaml_node_copy(v, &value);
                        if (r < 0)
                                return r;
                        r = yaml_mapping_append(dst, TAKE_PTR(name), TAKE_PTR(value));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int include_one(ComposeProject *p, YamlNode *root, YamlNode *entry, char ***stack, unsigned depth,
                       Diag *d) {
        _cleanup_(include_entry_done) IncludeEntry e = {};
        _cleanup_(compose_project_freep) ComposeProject *sub = NULL;
        _cleanup_(yaml_node_freep) YamlNode *tree = NULL, *nested = NULL;
        YamlNode *list;
        int r;

        r = include_entry_parse(p, entry, &e, d);
        if (r < 0)
                return r;
        STRV_FOREACH(f, e.paths)
                if (strv_contains(*stack, *f))
                        return include_cycle(*stack, *f, entry, d);

        sub = new0(ComposeProject, 1);
        if (!sub)
                return -ENOMEM;
        if (e.project_dir)
                sub->dir = TAKE_PTR(e.project_dir);
        else {
                _cleanup_free_ char *copy = strdup(e.paths[0]);

                if (!copy)
                        return -ENOMEM;
                sub->dir = strdup(dirname(copy));
                if (!sub->dir)
                        return -ENOMEM;
        }
        /* The including project's variables win over the included one's .env (compose-go #449). */
        sub->env = strv_copy(p->env);
        if (!sub->env)
                return -ENOMEM;
        r = include_env(sub, &e, d);
        if (r < 0)
                return r;

        r = yaml_node_new(YAML_NODE_SEQUENCE, entry, &nested);
        if (r < 0)
                return r;
        STRV_FOREACH(f, e.paths) {
                _cleanup_(yaml_node_freep) YamlNode *t = NULL, *inc = NULL;
                _cleanup_free_ char *data = NULL;
                size_t size;

                r = read_full_file(*f, &data, &size, INCLUDE_FILE_MAX);
                if (r < 0)
                        return diag_error(d, entry, "include", "cannot read \"%s\": %s", *f, strerror(-r));
                r = compose_file_parse(sub, *f, data, size, &t, NULL, d);
                if (r < 0)
                        return r;
                inc = yaml_mapping_steal(t, "include");
                if (inc) {
                        r = yaml_node_append(nested, TAKE_PTR(inc));
                        if (r < 0)
                                return r;
                }
                if (!tree)
                        tree = TAKE_PTR(t);
                else {
                        r = compose_merge(&tree, TAKE_PTR(t), NULL);
                        if (r < 0)
                                return r;
                }
        }

        r = strv_extend_strv(stack, e.paths);
        if (r < 0)
                return r;
        YAML_SEQUENCE_FOREACH(list, nested) {
                r = compose_include_apply(sub, tree, list, stack, depth + 1, d);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(f, e.paths)
                strv_remove(*stack, *f);

        r = compose_tree_rebase(tree, sub->dir, d);
        if (r < 0)
                return r;
        return include_copy_resources(root, tree, d);
}

int compose_include_apply(ComposeProject *p, YamlNode *root, YamlNode *include, char ***stack, unsigned depth,
                          Diag *d) {
        YamlNode *entry;
        int r;

        assert(p);
        assert(root);
        assert(include);
        assert(stack);

        if (yaml_node_is_null(include))
                return 0;
        if (include->type != YAML_NODE_SEQUENCE)
                return diag_error(d, include, "include", "must be a list, not %s", yaml_node_type_name(include));
        if (depth > COMPOSE_INCLUDE_DEPTH_MAX)
                return diag_error(d, include, "include", "nested deeper than %u files", COMPOSE_INCLUDE_DEPTH_MAX);
        YAML_SEQUENCE_FOREACH(entry, include) {
                r = include_one(p, root, entry, stack, depth, d);
                if (r < 0)
                        return r;
        }
        return 0;
}
