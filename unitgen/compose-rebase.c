/* SPDX-License-Identifier: Apache-2.0 */

#include "compose-load.h"

/* A file pulled in by "include" or "extends: file:" keeps the meaning of its relative paths: they
 * name things next to that file (compose-spec 14-include.md, 05-services.md "extends"), not next to
 * the including project. Rewriting them to absolute paths once, while the file's own directory is
 * still known, lets the converter treat every path alike. */

static bool path_is_relative(const char *s) {
        return !isempty(s) && s[0] != '/' && s[0] != '~';
}

/* Replace the text of scalar n by path made absolute against dir. */
static int rebase_scalar(YamlNode *n, const char *dir, const char *path, const char *rest) {
        _cleanup_free_ char *abs = NULL, *t = NULL;
        int r;

        r = compose_path_join(dir, path, &abs);
        if (r < 0)
                return r;
        if (asprintf(&t, "%s%s", abs, rest) < 0)
                return -ENOMEM;
        free_and_replace(n->value, t);
        return 0;
}

static int rebase_file_scalar(YamlNode *n, const char *dir) {
        const char *s = yaml_node_scalar(n);

        if (!s || !path_is_relative(s))
                return 0;
        return rebase_scalar(n, dir, s, "");
}

static int rebase_env_file(YamlNode *v, const char *dir) {
        YamlNode *item;
        int r;

        if (v->type == YAML_NODE_SCALAR)
                return rebase_file_scalar(v, dir);
        YAML_SEQUENCE_FOREACH(item, v) {
                r = rebase_file_scalar(item->type == YAML_NODE_MAPPING ? yaml_mapping_get(item, "path") : item, dir);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int warn_relative(YamlNode *at, const char *name, const char *src, const char *dir, Diag *d) {
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "services.%s.volumes", name) < 0)
                return -ENOMEM;
        /* The same words the converter uses for a relative path of the project's own files. */
        return diag_warning(d, at, key,
                            "relative host path \"%s\" is resolved against %s: it must exist there on every "
                            "machine that may run the unit", src, dir);
}

static int rebase_volumes(YamlNode *v, const char *name, const char *dir, Diag *d) {
        YamlNode *item;
        int r;

        YAML_SEQUENCE_FOREACH(item, v) {
                const char *s = yaml_node_scalar(item);

                if (s) {
                        /* Short syntax: only a source that starts with "." is a host path. */
                        _cleanup_free_ char *src = NULL;
                        size_t n = strcspn(s, ":");

                        if (s[0] != '.' || !s[n])
                                continue;
                        src = strndup(s, n);
                        if (!src)
                                return -ENOMEM;
                        r = warn_relative(item, name, src, dir, d);
                        if (r < 0)
                                return r;
                        r = rebase_scalar(item, dir, src, s + n);
                        if (r < 0)
                                return r;
                } else if (item->type == YAML_NODE_MAPPING &&
                           streq_ptr(yaml_node_scalar(yaml_mapping_get(item, "type")), "bind")) {
                        YamlNode *source = yaml_mapping_get(item, "source");

                        s = yaml_node_scalar(source);
                        if (!s || !path_is_relative(s))
                                continue;
                        r = warn_relative(source, name, s, dir, d);
                        if (r < 0)
                                return r;
                        r = rebase_scalar(source, dir, s, "");
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A build context names a directory unless it is remote (a URL, a git reference) or another
 * service's or image's ("service:web", "docker-image://..."): compose-go's paths/context.go. */
static int rebase_context(YamlNode *n, const char *dir) {
        const char *s = yaml_node_scalar(n);

        if (!s || strstr(s, "://") || startswith(s, "service:") || startswith(s, "github.com/") || startswith(s, "git@"))
                return 0;
        return rebase_file_scalar(n, dir);
}

static int rebase_build(YamlNode *build, const char *dir) {
        YamlNode *extra, *k _unused_, *v;
        int r;

        if (build->type == YAML_NODE_SCALAR)
                return rebase_context(build, dir);
        r = rebase_context(yaml_mapping_get(build, "context"), dir);
        if (r < 0)
                return r;
        extra = yaml_mapping_get(build, "additional_contexts");
        if (extra && extra->type == YAML_NODE_MAPPING)
                YAML_MAPPING_FOREACH(k, v, extra) {
                        r = rebase_context(v, dir);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int compose_service_rebase(YamlNode *svc, const char *name, const char *dir, Diag *d) {
        YamlNode *v, *item;
        int r;

        assert(name);
        assert(dir);

        v = yaml_mapping_get(svc, "env_file");
        if (v) {
                r = rebase_env_file(v, dir);
                if (r < 0)
                        return r;
        }
        v = yaml_mapping_get(svc, "label_file");
        if (v) {
                r = rebase_env_file(v, dir);
                if (r < 0)
                        return r;
        }
        v = yaml_mapping_get(svc, "volumes");
        if (v) {
                r = rebase_volumes(v, name, dir, d);
                if (r < 0)
                        return r;
        }
        v = yaml_mapping_get(svc, "build");
        if (v) {
                r = rebase_build(v, dir);
                if (r < 0)
                        return r;
        }
        YAML_SEQUENCE_FOREACH(item, yaml_mapping_get(yaml_mapping_get(svc, "develop"), "watch")) {
                r = rebase_file_scalar(yaml_mapping_get(item, "path"), dir);
                if (r < 0)
                        return r;
        }
        return rebase_file_scalar(yaml_mapping_get(yaml_mapping_get(svc, "extends"), "file"), dir);
}

int compose_tree_rebase(YamlNode *root, const char *dir, Diag *d) {
        static const char *const files[] = { "secrets", "configs" };
        YamlNode *k, *v;
        int r;

        assert(dir);

        YAML_MAPPING_FOREACH(k, v, yaml_mapping_get(root, "services")) {
                r = compose_service_rebase(v, k->value, dir, d);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                YAML_MAPPING_FOREACH(k, v, yaml_mapping_get(root, files[i])) {
                        r = rebase_file_scalar(yaml_mapping_get(v, "file"), dir);
                        if (r < 0)
                                return r;
                }
        /* A local volume that binds a host directory ("o: bind") names it by driver_opts.device. */
        YAML_MAPPING_FOREACH(k, v, yaml_mapping_get(root, "volumes")) {
                YamlNode *opts = yaml_mapping_get(v, "driver_opts");

                if (streq_ptr(yaml_node_scalar(yaml_mapping_get(v, "driver")) ?: "local", "local") &&
                    streq_ptr(yaml_node_scalar(yaml_mapping_get(opts, "o")), "bind")) {
                        r = rebase_file_scalar(yaml_mapping_get(opts, "device"), dir);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
