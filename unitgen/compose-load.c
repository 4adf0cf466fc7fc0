/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <libgen.h>
#include <limits.h>

#include "compose-load.h"
#include "compose-normalize.h"
#include "dotenv.h"
#include "exec-quote.h"
#include "fileio.h"
#include "strv.h"
#include "utf8.h"

#define COMPOSE_FILE_MAX (16U * 1024U * 1024U)
#define EXTENDS_DEPTH_MAX 32U

extern char **environ;

ComposeProject *compose_project_free(ComposeProject *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->dir);
        strv_free(p->files);
        strv_free(p->env);
        strv_free(p->disabled);
        yaml_node_free(p->root);
        return mfree(p);
}

const char *compose_project_lookup(const char *name, void *userdata) {
        ComposeProject *p = userdata;

        return dotenv_get(p->env, name);
}

/* Lexically drop "." and "name/.." components and repeated slashes of an absolute path, in place,
 * as compose's filepath.Join does: a cycle of includes through "../" must name the same file. */
static void path_clean(char *s) {
        char *w = s, *c = s;

        if (s[0] != '/')
                return;
        while (*c) {
                size_t n;

                c += strspn(c, "/");
                n = strcspn(c, "/");
                if (n == 0)
                        break;
                if (n == 1 && c[0] == '.') {
                        c += n;
                        continue;
                }
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        while (w > s && *--w != '/')
                                ;
                        c += n;
                        continue;
                }
                *w++ = '/';
                memmove(w, c, n);
                w += n;
                c += n;
        }
        if (w == s)
                *w++ = '/';
        *w = 0;
}

int compose_path_join(const char *dir, const char *path, char **ret) {
        char *r;

        assert(dir);
        assert(path);
        assert(ret);

        if (path[0] == '/')
                r = strdup(path);
        else {
                const char *rel = path;

                while (startswith(rel, "./"))
                        rel += 2 + strspn(rel + 2, "/");
                if (streq(rel, "."))
                        rel = "";
                if (asprintf(&r, "%s%s%s", dir, isempty(rel) || streq(dir, "/") ? "" : "/", rel) < 0)
                        r = NULL;
        }
        if (!r)
                return -ENOMEM;
        path_clean(r);
        *ret = r;
        return 0;
}

int compose_project_path(const ComposeProject *p, const char *path, char **ret) {
        assert(p);

        return compose_path_join(p->dir, path, ret);
}

static bool is_top_level_key(const char *k) {
        static const char *const keys[] = { "version", "name", "services", "networks", "volumes", "secrets",
                                            "configs", "include", "models" };

        if (startswith(k, "x-"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(k, keys[i]))
                        return true;
        return false;
}

static ComposeVersion version_from_string(const char *v) {
        if (!v)
                return COMPOSE_SPEC;
        if (v[0] == '1')
                return COMPOSE_V1;
        if (v[0] == '2')
                return COMPOSE_V2;
        if (v[0] == '3')
                return COMPOSE_V3;
        return COMPOSE_SPEC;
}

/* v1: every top-level key is a service. Wrap them into "services:". */
static int v1_wrap(YamlNode **root) {
        _cleanup_(yaml_node_freep) YamlNode *top = NULL, *key = NULL;
        YamlNode *r0 = *root;
        int r;

        r = yaml_node_new(YAML_NODE_MAPPING, r0, &top);
        if (r < 0)
                return r;
        top->line = top->column = 1;
        r = yaml_node_new_scalar("services", false, r0, &key);
        if (r < 0)
                return r;
        r = yaml_mapping_append(top, TAKE_PTR(key), r0);
        if (r < 0) {
                *root = NULL;
                return r;
        }
        *root = TAKE_PTR(top);
        return 0;
}

static bool looks_like_v1(const YamlNode *root) {
        YamlNode *k, *v;

        if (yaml_mapping_get(root, "services") || yaml_mapping_get(root, "version") || root->n_children == 0)
                return false;
        /* Every entry is a service: a mapping with an image or something to build. */
        YAML_MAPPING_FOREACH(k, v, root) {
                if (startswith(k->value, "x-"))
                        continue;
                if (v->type != YAML_NODE_MAPPING || is_top_level_key(k->value) ||
                    !(yaml_mapping_get(v, "image") || yaml_mapping_get(v, "build") || yaml_mapping_get(v, "extends")))
                        return false;
        }
        return true;
}

/* Parse one file and check its top level; nothing is interpolated yet (the project's name, which
 * ${COMPOSE_PROJECT_NAME} stands for, comes from the files' "name:" first). */
static int file_read(const char *name, const char *data, size_t size, YamlNode **ret, ComposeVersion *ret_version,
                     Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *root = NULL;
        ComposeVersion version;
        YamlNode *k, *v _unused_;
        int r;

        r = yaml_parse(name, data, size, &root, d);
        if (r < 0)
                return r;
        if (root->type != YAML_NODE_MAPPING)
                return diag_error(d, root, "(root)", "a compose file must be a mapping, not %s",
                                  yaml_node_type_name(root));

        if (looks_like_v1(root)) {
                version = COMPOSE_V1;
                r = v1_wrap(&root);
                if (r < 0)
                        return r;
        } else {
                YamlNode *vn = yaml_mapping_get(root, "version");

                if (vn && !yaml_node_scalar(vn))
                        return diag_error(d, vn, "version", "must be a string");
                version = version_from_string(yaml_node_scalar(vn));
                if (version == COMPOSE_V1)
                        return diag_error(d, vn, "version", "version 1 files have no \"version\" key");
                YAML_MAPPING_FOREACH(k, v, root)
                        if (!is_top_level_key(k->value))
                                return diag_error(d, k, k->value, "unknown top-level key");
                k = yaml_mapping_get_key(root, "models");
                if (k) {
                        r = diag_warning(d, k, "models", "not supported (AI models have no place in a unit), ignoring");
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(root);
        *ret_version = version;
        return 0;
}

/* Interpolate a tree file_read() gave and bring its services into their normal forms. */
static int file_finish(ComposeProject *p, YamlNode *root, ComposeVersion version, Diag *d) {
        YamlNode *k, *v, *services;
        int r;

        r = compose_interpolate_tree(root, compose_project_lookup, p, d);
        if (r < 0)
                return r;

        services = yaml_mapping_get(root, "services");
        if (services && !yaml_node_is_null(services) && services->type != YAML_NODE_MAPPING)
                return diag_error(d, services, "services", "must be a mapping, not %s", yaml_node_type_name(services));
        YAML_MAPPING_FOREACH(k, v, services) {
                if (v->type != YAML_NODE_MAPPING)
                        return diag_error(d, v, k->value, "a service must be a mapping, not %s", yaml_node_type_name(v));
                r = compose_normalize_service(v, k->value, version == COMPOSE_V1, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int compose_file_parse(ComposeProject *p, const char *name, const char *data, size_t size, YamlNode **ret,
                       ComposeVersion *ret_version, Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *root = NULL;
        ComposeVersion version;
        int r;

        r = file_read(name, data, size, &root, &version, d);
        if (r < 0)
                return r;
        r = file_finish(p, root, version, d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        if (ret_version)
                *ret_version = version;
        return 0;
}

static int project_setup(ComposeProject *p, const ComposeLoadOptions *o, Diag *d) {
        _cleanup_free_ char *dotenv_path = NULL, *dotenv_name = NULL, *first = NULL;
        char **base_env = o->environment ?: environ;
        int r;

        if (o->project_dir)
                p->dir = strdup(o->project_dir);
        else {
                char cwd[PATH_MAX], *dir;

                first = strdup(o->files[0]);
                if (!first)
                        return -ENOMEM;
                dir = dirname(first);
                if (dir[0] == '/')
                        p->dir = strdup(dir);
                else if (!getcwd(cwd, sizeof(cwd)))
                        return -errno;
                else if (streq(dir, "."))
                        p->dir = strdup(cwd);
                else if (asprintf(&p->dir, "%s/%s", cwd, dir) < 0)
                        p->dir = NULL;
        }
        if (!p->dir)
                return -ENOMEM;
        /* The project's directory reaches units (relative paths are made absolute against it), and
         * it is the one text of a unit that comes from neither YAML nor the environment, which are
         * checked where they are read: a control byte in it would be taken for one of the
         * converter's specifier markers (exec-quote.h), "\003" written as "%i". */
        if (text_has_control(p->dir, strlen(p->dir))) {
                _cleanup_free_ char *shown = utf8_escape_non_printable(p->dir);

                return diag_add_at(d, DIAG_ERROR, o->files[0], 0, 0, "directory",
                                   "the project directory \"%s\" holds a control character: it would reach the "
                                   "units; rename the directory", strna(shown));
        }

        p->env = strv_copy(base_env);
        if (!p->env)
                return -ENOMEM;

        /* As compose: --env-file replaces .env; the environment still wins over both. */
        for (size_t i = strv_length(o->env_files); i > 0; i--) {
                r = compose_project_load_env(p, o->env_files[i - 1], o->env_files[i - 1], true, d);
                if (r < 0)
                        return r;
        }
        if (o->env_files)
                return 0;

        r = compose_project_path(p, ".env", &dotenv_path);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *copy = strdup(o->files[0]);
                const char *dir;

                if (!copy)
                        return -ENOMEM;
                dir = o->project_dir ?: dirname(copy);
                if (streq(dir, "."))
                        dotenv_name = strdup(".env");
                else if (asprintf(&dotenv_name, "%s/.env", dir) < 0)
                        dotenv_name = NULL;
                if (!dotenv_name)
                        return -ENOMEM;
        }
        return compose_project_load_env(p, dotenv_path, dotenv_name, false, d);
}

int compose_project_load_env(ComposeProject *p, const char *path, const char *name, bool required, Diag *d) {
        _cleanup_strv_free_ char **dotenv = NULL;
        _cleanup_free_ char *data = NULL, *error = NULL;
        unsigned line = 0;
        int r;

        assert(p);
        assert(path);
        assert(name);

        r = read_full_file(path, &data, NULL, COMPOSE_FILE_MAX);
        if (r == -ENOENT && !required)
                return 0;
        if (r < 0)
                return diag_add_at(d, DIAG_ERROR, name, 0, 0, ".env", "cannot read: %s", strerror(-r));

        r = dotenv_parse(data, compose_project_lookup, p, &dotenv, &line, &error);
        if (r == -EINVAL)
                return diag_add_at(d, DIAG_ERROR, name, line, 1, ".env", "%s", strna(error));
        if (r < 0)
                return r;
        /* It fills in what the environment (or the including project) does not set. */
        STRV_FOREACH(e, dotenv) {
                size_t n = strcspn(*e, "=");

                if (!(*e)[n])
                        continue;
                _cleanup_free_ char *k = strndup(*e, n);

                if (!k)
                        return -ENOMEM;
                if (dotenv_get(p->env, k))
                        continue;
                r = strv_extend(&p->env, *e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool service_enabled(const YamlNode *svc, char **profiles) {
        YamlNode *list = yaml_mapping_get(svc, "profiles"), *item;

        if (!list || yaml_node_is_null(list))
                return true;
        if (strv_contains(profiles, "*"))
                return true;
        YAML_SEQUENCE_FOREACH(item, list)
                if (yaml_node_scalar(item) && strv_contains(profiles, item->value))
                        return true;
        return false;
}

static int resolve_extends(ComposeProject *p, YamlNode *services, const char *name, const char *dir, char ***stack,
                           unsigned depth, Diag *d);

/* file is relative to dir, the directory of the file that names it. The base comes back with its
 * relative paths resolved against its own file's directory. */
static int extends_from_file(ComposeProject *p, YamlNode *ext, const char *file, const char *dir,
                             const char *base_name, const char *name, char ***stack, unsigned depth, YamlNode **ret,
                             Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *root = NULL, *base = NULL;
        _cleanup_free_ char *data = NULL, *path = NULL, *abs = NULL, *file_dir = NULL;
        const char *shown;
        YamlNode *services;
        size_t size;
        int r;

        if (asprintf(&path, "services.%s.extends.file", name) < 0)
                return -ENOMEM;
        r = compose_path_join(dir, file, &abs);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *copy = strdup(abs);

                if (!copy)
                        return -ENOMEM;
                file_dir = strdup(dirname(copy));
                if (!file_dir)
                        return -ENOMEM;
        }
        /* Messages name the file as the user wrote it when it is relative to the project. */
        shown = streq(dir, p->dir) ? file : abs;

        r = read_full_file(abs, &data, &size, COMPOSE_FILE_MAX);
        if (r < 0)
                return diag_error(d, ext, path, "cannot read \"%s\": %s", shown, strerror(-r));
        r = compose_file_parse(p, shown, data, size, &root, NULL, d);
        if (r < 0)
                return r;
        services = yaml_mapping_get(root, "services");
        if (!yaml_mapping_get(services, base_name))
                return diag_error(d, ext, path, "\"%s\" has no service \"%s\"", shown, base_name);
        r = resolve_extends(p, services, base_name, file_dir, stack, depth + 1, d);
        if (r < 0)
                return r;
        r = yaml_node_copy(yaml_mapping_get(services, base_name), &base);
        if (r < 0)
                return r;
        if (!streq(file_dir, p->dir)) {
                r = compose_service_rebase(base, base_name, file_dir, d);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(base);
        return 0;
}

static int resolve_extends(ComposeProject *p, YamlNode *services, const char *name, const char *dir, char ***stack,
                           unsigned depth, Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *base = NULL, *over = NULL, *owned = NULL;
        _cleanup_free_ char *path = NULL;
        YamlNode *svc = yaml_mapping_get(services, name), *ext;
        const char *base_name, *file = NULL;
        int r;

        if (!svc || !(ext = yaml_mapping_get(svc, "extends")))
                return 0;
        if (asprintf(&path, "services.%s.extends", name) < 0)
                return -ENOMEM;
        if (depth > EXTENDS_DEPTH_MAX || strv_contains(*stack, name))
                return diag_error(d, ext, path, "\"extends\" forms a cycle");
        r = strv_extend(stack, name);
        if (r < 0)
                return r;

        if (yaml_node_scalar(ext))
                base_name = ext->value;
        else if (ext->type == YAML_NODE_MAPPING) {
                YamlNode *k, *v _unused_;

                YAML_MAPPING_FOREACH(k, v, ext)
                        if (!streq(k->value, "service") && !streq(k->value, "file"))
                                return diag_error(d, k, path, "unknown key \"%s\"", k->value);
                base_name = yaml_node_scalar(yaml_mapping_get(ext, "service"));
                file = yaml_node_scalar(yaml_mapping_get(ext, "file"));
                if (!base_name)
                        return diag_error(d, ext, path, "\"service\" is required");
        } else
                return diag_error(d, ext, path, "must be a service name or a mapping, not %s", yaml_node_type_name(ext));

        if (file) {
                r = extends_from_file(p, ext, file, dir, base_name, name, stack, depth, &base, d);
                if (r < 0)
                        return r;
        } else {
                if (!yaml_mapping_get(services, base_name))
                        return diag_error(d, ext, path, "extends unknown service \"%s\"", base_name);
                r = resolve_extends(p, services, base_name, dir, stack, depth + 1, d);
                if (r < 0)
                        return r;
                r = yaml_node_copy(yaml_mapping_get(services, base_name), &base);
                if (r < 0)
                        return r;
        }
        strv_remove(*stack, name);

        /* The service is merged over a copy of its base, in place; "extends" itself goes. */
        svc = yaml_mapping_get(services, name);
        owned = yaml_mapping_steal(svc, "extends");
        r = yaml_node_copy(svc, &over);
        if (r < 0)
                return r;
        r = compose_merge(&base, TAKE_PTR(over), NULL);
        if (r < 0)
                return r;
        return compose_replace_value(services, name, TAKE_PTR(base));
}

bool compose_project_name_valid(const char *s) {
        if (isempty(s) || !(islower((unsigned char) s[0]) || isdigit((unsigned char) s[0])))
                return false;
        for (; *s; s++)
                if (!(islower((unsigned char) *s) || isdigit((unsigned char) *s) || *s == '-' || *s == '_'))
                        return false;
        return true;
}

/* n: the last file's "name:", interpolated, or NULL. */
static int project_name(ComposeProject *p, const ComposeLoadOptions *o, const YamlNode *n, Diag *d) {
        const char *name = o->project_name;

        if (name) {
                if (!compose_project_name_valid(name))
                        return diag_add_at(d, DIAG_ERROR, o->project_name_from ?: "-p", 0, 0, "name",
                                           "\"%s\" is not a valid project name: use lowercase letters, digits, "
                                           "\"-\" and \"_\", starting with a letter or digit", name);
        } else if (!isempty(name = dotenv_get(p->env, "COMPOSE_PROJECT_NAME"))) {
                /* As docker compose: the environment (or .env) over the file's "name:". */
                if (!compose_project_name_valid(name))
                        return diag_add_at(d, DIAG_ERROR, "COMPOSE_PROJECT_NAME", 0, 0, "name",
                                           "\"%s\" is not a valid project name", name);
        } else if (n) {
                name = yaml_node_scalar(n);
                if (!name || !compose_project_name_valid(name))
                        return diag_error(d, n, "name",
                                          "\"%s\" is not a valid project name: use lowercase letters, digits, "
                                          "\"-\" and \"_\", starting with a letter or digit", strna(name));
        } else {
                /* Like compose: the directory's name, lowercased, without the characters a name cannot
                 * have. */
                const char *base = strrchr(p->dir, '/');
                _cleanup_free_ char *norm = NULL;
                size_t j = 0;

                base = base ? base + 1 : p->dir;
                norm = new0(char, strlen(base) + 1);
                if (!norm)
                        return -ENOMEM;
                for (const char *c = base; *c; c++) {
                        char l = (char) tolower((unsigned char) *c);

                        if (islower((unsigned char) l) || isdigit((unsigned char) l) || ((l == '-' || l == '_') && j > 0))
                                norm[j++] = l;
                }
                if (j == 0)
                        return diag_add_at(d, DIAG_ERROR, p->dir, 0, 0, "name",
                                           "cannot derive a project name from the directory: use -p");
                p->name = TAKE_PTR(norm);
                return 0;
        }
        p->name = strdup(name);
        return p->name ? 0 : -ENOMEM;
}

/* As docker compose: ${COMPOSE_PROJECT_NAME} in the files is the project's name, however chosen. */
static int project_env_set_name(ComposeProject *p) {
        _cleanup_free_ char *e = NULL;

        if (asprintf(&e, "COMPOSE_PROJECT_NAME=%s", p->name) < 0)
                return -ENOMEM;
        for (size_t i = 0; p->env && p->env[i]; i++)
                if (startswith(p->env[i], "COMPOSE_PROJECT_NAME=") || streq(p->env[i], "COMPOSE_PROJECT_NAME"))
                        return free_and_replace(p->env[i], e);
        return strv_consume(&p->env, TAKE_PTR(e));
}

/* The project's name from -p, the environment, the files' "name:" (each interpolated on its own,
 * the last one counts; taken out of the trees so that nothing interpolates it twice) or the
 * directory; then the variable that names it. */
static int project_choose_name(ComposeProject *p, const ComposeLoadOptions *o, YamlNode **trees, size_t n, Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *last = NULL;
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_(yaml_node_freep) YamlNode *v = yaml_mapping_steal(trees[i], "name");

                if (!v || yaml_node_is_null(v))
                        continue;
                r = compose_interpolate_at(v, "name", compose_project_lookup, p, d);
                if (r < 0)
                        return r;
                yaml_node_free(last);
                last = TAKE_PTR(v);
        }
        r = project_name(p, o, last, d);
        if (r < 0)
                return r;
        return project_env_set_name(p);
}

/* Read and parse each -f file, merging them in order into p->root. The project's name is chosen
 * before anything is interpolated: ${COMPOSE_PROJECT_NAME} stands for it. Their "include" lists are
 * moved to includes (applied once all are merged, so that conflicts are seen against all of them),
 * and their absolute paths start the include chain. */
typedef struct FileTrees {
        YamlNode **trees;
        ComposeVersion *versions;
        size_t n;
} FileTrees;

static void file_trees_done(FileTrees *t) {
        for (size_t i = 0; t->trees && i < t->n; i++)
                yaml_node_free(t->trees[i]);
        free(t->trees);
        free(t->versions);
}

static int project_read_files(ComposeProject *p, const ComposeLoadOptions *o, YamlNode *includes, char ***chain,
                              Diag *d) {
        size_t n = strv_length(o->files);
        _cleanup_(file_trees_done) FileTrees t = {
                .trees = new0(YamlNode *, n),
                .versions = new0(ComposeVersion, n),
                .n = n,
        };
        YamlNode **trees = t.trees;
        ComposeVersion *versions = t.versions;
        int r;

        if (!trees || !versions)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *data = NULL;
                const char *content;
                size_t size;

                if (o->contents) {
                        content = o->contents[i];
                        size = o->sizes[i];
                } else {
                        r = read_full_file(o->files[i], &data, &size, COMPOSE_FILE_MAX);
                        if (r < 0)
                                return diag_add_at(d, DIAG_ERROR, o->files[i], 0, 0, "-f", "cannot read: %s",
                                                   strerror(-r));
                        content = data;
                }
                r = file_read(o->files[i], content, size, &trees[i], &versions[i], d);
                if (r < 0)
                        return r;
        }

        r = project_choose_name(p, o, trees, n, d);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_(yaml_node_freep) YamlNode *root = TAKE_PTR(trees[i]), *include = NULL;
                _cleanup_free_ char *abs = NULL;
                char cwd[PATH_MAX];

                r = file_finish(p, root, versions[i], d);
                if (r < 0)
                        return r;
                include = yaml_mapping_steal(root, "include");
                if (include) {
                        r = yaml_node_append(includes, TAKE_PTR(include));
                        if (r < 0)
                                return r;
                }
                /* The -f names are relative to the working directory: they start the include chain. */
                if (!getcwd(cwd, sizeof(cwd)))
                        return -errno;
                r = compose_path_join(cwd, o->files[i], &abs);
                if (r < 0)
                        return r;
                r = strv_consume(chain, TAKE_PTR(abs));
                if (r < 0)
                        return r;
                if (i == 0) {
                        p->version = versions[i];
                        p->root = TAKE_PTR(root);
                } else {
                        r = compose_merge(&p->root, TAKE_PTR(root), NULL);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Drop the services that no active profile (--profile, then $COMPOSE_PROFILES of the project's
 * environment) enables, remembering their names in p->disabled. */
static int project_apply_profiles(ComposeProject *p, const ComposeLoadOptions *o, YamlNode *services, Diag *d) {
        _cleanup_strv_free_ char **profiles = NULL;
        const char *env_profiles;
        int r;

        profiles = strv_copy(o->profiles);
        if (!profiles && o->profiles)
                return -ENOMEM;
        env_profiles = dotenv_get(p->env, "COMPOSE_PROFILES");
        if (env_profiles) {
                _cleanup_strv_free_ char **l = strv_split(env_profiles, ",");

                if (!l)
                        return -ENOMEM;
                r = strv_extend_strv(&profiles, l);
                if (r < 0)
                        return r;
        }
        /* A named service that the profiles leave out brings its profiles in, and with them every
         * service they enable (compose-go's WithServicesEnabled); not its dependencies of other
         * profiles: those stay out, and depends_on on them is an error. */
        _cleanup_strv_free_ char **named = NULL;
        STRV_FOREACH(n, o->services) {
                YamlNode *svc = yaml_mapping_get(services, *n), *item;

                if (!svc || service_enabled(svc, profiles))
                        continue;
                YAML_SEQUENCE_FOREACH(item, yaml_mapping_get(svc, "profiles"))
                        if (yaml_node_scalar(item) && !strv_contains(named, item->value)) {
                                r = strv_extend(&named, item->value);
                                if (r < 0)
                                        return r;
                        }
        }
        r = strv_extend_strv(&profiles, named);
        if (r < 0)
                return r;
        for (size_t i = 0; i + 1 < services->n_children;) {
                YamlNode *list = yaml_mapping_get(services->children[i + 1], "profiles"), *item;

                if (list && !yaml_node_is_null(list)) {
                        if (list->type != YAML_NODE_SEQUENCE)
                                return diag_error(d, list, "profiles", "must be a list of names");
                        YAML_SEQUENCE_FOREACH(item, list)
                                if (!yaml_node_scalar(item))
                                        return diag_error(d, item, "profiles", "must be a list of names");
                }
                if (service_enabled(services->children[i + 1], profiles)) {
                        i += 2;
                        continue;
                }
                r = strv_extend(&p->disabled, services->children[i]->value);
                if (r < 0)
                        return r;
                yaml_node_free(yaml_mapping_steal(services, services->children[i]->value));
        }
        if (services->n_children == 0)
                return diag_add_at(d, DIAG_ERROR, o->files[0], 1, 1, "profiles",
                                   "no service is enabled: every service needs a --profile");
        return 0;
}

int compose_project_load(const ComposeLoadOptions *o, ComposeProject **ret, Diag *d) {
        _cleanup_(compose_project_freep) ComposeProject *p = NULL;
        _cleanup_(yaml_node_freep) YamlNode *includes = NULL;
        _cleanup_strv_free_ char **chain = NULL;
        YamlNode *services, *k, *v _unused_, *inc;
        int r;

        assert(o);
        assert(o->files && o->files[0]);
        assert(ret);

        p = new0(ComposeProject, 1);
        if (!p)
                return -ENOMEM;
        p->files = strv_copy(o->files);
        if (!p->files)
                return -ENOMEM;

        r = project_setup(p, o, d);
        if (r < 0)
                return r;
        r = yaml_node_new(YAML_NODE_SEQUENCE, NULL, &includes);
        if (r < 0)
                return r;
        r = project_read_files(p, o, includes, &chain, d);
        if (r < 0)
                return r;

        YAML_SEQUENCE_FOREACH(inc, includes) {
                r = compose_include_apply(p, p->root, inc, &chain, 0, d);
                if (r < 0)
                        return r;
        }

        services = yaml_mapping_get(p->root, "services");
        if (!services || yaml_node_is_null(services) || services->n_children == 0)
                return diag_add_at(d, DIAG_ERROR, o->files[0], 1, 1, "services", "no services defined");

        YAML_MAPPING_FOREACH(k, v, services) {
                _cleanup_strv_free_ char **stack = NULL;

                r = resolve_extends(p, services, k->value, p->dir, &stack, 0, d);
                if (r < 0)
                        return r;
        }

        r = project_apply_profiles(p, o, services, d);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}
