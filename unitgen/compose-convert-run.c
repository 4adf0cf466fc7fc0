/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>

#include "compose-convert.h"
#include "exec-quote.h"
#include "dotenv.h"
#include "fileio.h"
#include "strv.h"

/* The handlers for keys that become plain "run" options. */

int convert_string_flag(Converter *c, const char *key, YamlNode *v) {
        const char *s;
        int r;

        r = converter_string(c, key, v, &s);
        if (r < 0)
                return r;
        if (streq(key, "stop_signal")) {
                if (parse_signal(s, &c->service->stop_signo) < 0)
                        return diag_error(c->diag, v, converter_path(c, key), "\"%s\" is not a signal", s);
                free(c->service->stop_signal);
                c->service->stop_signal = strdup(s);
                if (!c->service->stop_signal)
                        return -ENOMEM;
        }
        return converter_flag(c, converter_key_flag(key), s);
}

int convert_bool_flag(Converter *c, const char *key, YamlNode *v) {
        bool b;
        int r;

        r = converter_bool(c, key, v, &b);
        if (r < 0 || !b)
                return r;
        return converter_flag(c, converter_key_flag(key), NULL);
}

int convert_list_flag(Converter *c, const char *key, YamlNode *v) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = converter_strings(c, key, v, &l);
        if (r < 0)
                return r;
        STRV_FOREACH(s, l) {
                r = converter_flag(c, converter_key_flag(key), *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_map_flag(Converter *c, const char *key, YamlNode *v) {
        const char *sep = streq(key, "extra_hosts") ? ":" : "=";
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping or a list, not %s",
                                  yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v) {
                if (val->type != YAML_NODE_SCALAR)
                        return diag_error(c->diag, val, converter_path(c, key), "the value of \"%s\" must be a string",
                                          k->value);
                if (yaml_node_is_null(val) && streq(key, "extra_hosts"))
                        return diag_error(c->diag, val, converter_path(c, key), "\"%s\" needs an address", k->value);
                r = converter_flagf(c, converter_key_flag(key), "%s%s%s", k->value, sep,
                                    yaml_node_is_null(val) ? "" : val->value);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_bytes_flag(Converter *c, const char *key, YamlNode *v) {
        uint64_t b;
        int r;

        r = converter_bytes(c, key, v, &b);
        if (r < 0)
                return r;
        return converter_flagf(c, converter_key_flag(key), "%" PRIu64, b);
}

int convert_memory(Converter *c, const char *key, YamlNode *v) {
        uint64_t b;
        int r;

        /* memswap_limit: -1 means unlimited swap. */
        if (streq(key, "memswap_limit") && streq_ptr(yaml_node_scalar(v), "-1"))
                return converter_flag(c, "--memory-swap", "-1");
        r = converter_bytes(c, key, v, &b);
        if (r < 0)
                return r;
        if (streq(key, "mem_limit"))
                c->service->memory_max = b;
        else if (streq(key, "mem_reservation")) {
                c->service->memory_low = b;
                r = converter_reserve_memory(c, b);
                if (r < 0)
                        return r;
        }
        return converter_flagf(c, converter_key_flag(key), "%" PRIu64, b);
}

int convert_int_flag(Converter *c, const char *key, YamlNode *v) {
        const char *s = yaml_node_scalar(v);
        long long x;
        char *end;

        if (!s)
                return diag_error(c->diag, v, converter_path(c, key), "must be an integer, not %s", yaml_node_type_name(v));
        errno = 0;
        x = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end)
                return diag_error(c->diag, v, converter_path(c, key), "\"%s\" is not an integer", s);
        if (streq(key, "pids_limit") && x > 0)
                c->service->tasks_max = (uint64_t) x;
        return converter_flag(c, converter_key_flag(key), s);
}

int convert_cpus(Converter *c, const char *key, YamlNode *v) {
        const char *s = yaml_node_scalar(v);
        unsigned h;

        if (!s || parse_cpus_hundredths(s, &h) < 0)
                return diag_error(c->diag, v, converter_path(c, key), "must be a number of CPUs like 0.5 or 2");
        if (h == 0)
                return 0;
        c->service->cpu_quota_percent = h;
        return converter_flag(c, "--cpus", s);
}

int convert_image(Converter *c, const char *key, YamlNode *v) {
        const char *s;
        int r;

        r = converter_string(c, key, v, &s);
        if (r < 0)
                return r;
        /* [registry[:port]/]name[:tag][@digest]: nothing else may reach the unit's lines. */
        if (isempty(s) || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@")])
                return diag_error(c->diag, v, converter_path(c, key), "\"%s\" is not an image reference", s);
        c->service->image = strdup(s);
        return c->service->image ? 0 : -ENOMEM;
}

int convert_build(Converter *c, const char *key, YamlNode *v) {
        if (!c->service->image)
                return diag_error(c->diag, v, converter_path(c, key),
                                  "a cluster cannot build images: build and push the image, then set \"image\"");
        return diag_warning(c->diag, v, converter_path(c, key),
                            "a cluster cannot build images, using image \"%s\"", c->service->image);
}

static int command_words(Converter *c, const char *key, const YamlNode *v, char ***ret) {
        const char *s = yaml_node_scalar(v);
        int r;

        if (s || (v->type == YAML_NODE_SCALAR && !v->plain)) {
                r = shell_split(v->value, ret);
                if (r == -EINVAL)
                        return diag_error(c->diag, v, converter_path(c, key), "unbalanced quotes or trailing \"\\\"");
                return r;
        }
        return converter_strings(c, key, v, ret);
}

int convert_entrypoint(Converter *c, const char *key, YamlNode *v) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = command_words(c, key, v, &words);
        if (r < 0)
                return r;
        /* An empty entrypoint resets the image's. */
        r = converter_flag(c, "--entrypoint", words[0] ?: "");
        if (r < 0 || !words[0])
                return r;
        /* The entrypoint's other words come before the command's. */
        return strv_extend_strv(&c->service->args, words + 1);
}

int convert_command(Converter *c, const char *key, YamlNode *v) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = command_words(c, key, v, &words);
        if (r < 0)
                return r;
        return strv_extend_strv(&c->service->args, words);
}

static const char *scalar_text(const YamlNode *v) {
        /* Compose turns YAML's typed values back into their text; null is "". */
        return yaml_node_is_null(v) ? "" : v->value;
}

int convert_env_file(Converter *c, const char *key, YamlNode *v) {
        YamlNode *item, *one[1] = { v };
        YamlNode **items = v->type == YAML_NODE_SEQUENCE ? v->children : one;
        size_t n = v->type == YAML_NODE_SEQUENCE ? v->n_children : 1;
        YamlNode *env = yaml_mapping_get(c->service->node, "environment");
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_free_ char **vars = NULL;
                _cleanup_free_ char *data = NULL, *abs = NULL, *error = NULL;
                const char *path;
                bool required = true;
                unsigned line = 0;

                item = items[i];
                if (item->type == YAML_NODE_MAPPING) {
                        YamlNode *req = yaml_mapping_get(item, "required");

                        r = converter_string(c, key, yaml_mapping_get(item, "path"), &path);
                        if (r < 0)
                                return r;
                        if (req) {
                                r = converter_bool(c, key, req, &required);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        r = converter_string(c, key, item, &path);
                        if (r < 0)
                                return r;
                }

                r = compose_project_path(c->project, path, &abs);
                if (r < 0)
                        return r;
                r = read_full_file(abs, &data, NULL, 0);
                if (r == -ENOENT && !required)
                        continue;
                if (r < 0)
                        return diag_error(c->diag, item, converter_path(c, key), "cannot read \"%s\": %s", path,
                                          strerror(-r));
                r = dotenv_parse(data, compose_project_lookup, c->project, &vars, &line, &error);
                if (r == -EINVAL)
                        return diag_add_at(c->diag, DIAG_ERROR, path, line, 1, converter_path(c, key), "%s",
                                           strna(error));
                if (r < 0)
                        return r;

                STRV_FOREACH(e, vars) {
                        _cleanup_free_ char *name = strndup(*e, strcspn(*e, "="));
                        const char *value;

                        if (!name)
                                return -ENOMEM;
                        /* "environment" wins over env_file. */
                        if (yaml_mapping_get(env, name))
                                continue;
                        if (strchr(*e, '=')) {
                                r = converter_flag(c, "-e", *e);
                        } else {
                                value = compose_project_lookup(name, c->project);
                                if (!value)
                                        continue;
                                if (text_has_control(value, strlen(value)))
                                        return diag_error(c->diag, item, converter_path(c, key),
                                                          "\"%s\" from the environment holds a control character", name);
                                r = converter_flagf(c, "-e", "%s=%s", name, value);
                        }
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int convert_environment(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping or a list, not %s",
                                  yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v) {
                const char *value;

                if (val->type != YAML_NODE_SCALAR)
                        return diag_error(c->diag, val, converter_path(c, key),
                                          "the value of \"%s\" must be a string, a number, a boolean or null", k->value);
                if (strchr(k->value, '='))
                        return diag_error(c->diag, k, converter_path(c, key), "\"%s\": a variable name has no \"=\"",
                                          k->value);
                if (yaml_node_is_null(val)) {
                        /* A bare name passes the converting shell's value on, as compose does. */
                        value = compose_project_lookup(k->value, c->project);
                        if (!value) {
                                r = diag_warning(c->diag, val, converter_path(c, key),
                                                 "\"%s\" has no value and is not set in the environment, not passed",
                                                 k->value);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (text_has_control(value, strlen(value)))
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "\"%s\" from the environment holds a control character", k->value);
                } else
                        value = scalar_text(val);
                r = converter_flagf(c, "-e", "%s=%s", k->value, value);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int healthcheck_duration(Converter *c, YamlNode *hc, const char *name, const char *flag, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        YamlNode *v = yaml_mapping_get(hc, name);
        uint64_t usec;
        int r;

        if (!v || yaml_node_is_null(v))
                return 0;
        r = converter_duration(c, "healthcheck", v, &usec);
        if (r < 0)
                return r;
        if (ret)
                *ret = usec;
        r = format_duration(usec, &s);
        if (r < 0)
                return r;
        return converter_flag(c, flag, s);
}

int convert_healthcheck(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val, *test, *dis;
        bool disable = false;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping, not %s", yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v)
                if (!STR_IN_SET(k->value, "test", "interval", "timeout", "retries", "start_period", "start_interval",
                                "disable") && !startswith(k->value, "x-"))
                        return diag_error(c->diag, k, converter_path(c, key), "unknown key \"%s\"", k->value);

        dis = yaml_mapping_get(v, "disable");
        if (dis) {
                r = converter_bool(c, key, dis, &disable);
                if (r < 0)
                        return r;
        }
        test = yaml_mapping_get(v, "test");
        if (test && test->type == YAML_NODE_SEQUENCE && test->n_children > 0 &&
            streq_ptr(yaml_node_scalar(test->children[0]), "NONE"))
                disable = true;
        if (disable)
                return converter_flag(c, "--no-healthcheck", NULL);

        if (test && !yaml_node_is_null(test)) {
                _cleanup_free_ char *cmd = NULL;

                if (yaml_node_scalar(test))
                        cmd = strdup(test->value);
                else if (test->type == YAML_NODE_SEQUENCE && test->n_children >= 1 &&
                         yaml_node_scalar(test->children[0])) {
                        const char *kind = test->children[0]->value;
                        _cleanup_strv_free_ char **words = NULL;

                        if (streq(kind, "CMD-SHELL")) {
                                if (test->n_children != 2 || !yaml_node_scalar(test->children[1]))
                                        return diag_error(c->diag, test, converter_path(c, key),
                                                          "[\"CMD-SHELL\", command] takes one command string");
                                cmd = strdup(test->children[1]->value);
                        } else if (streq(kind, "CMD")) {
                                /* Docker's flag takes a shell string: quote each word. */
                                for (size_t i = 1; i < test->n_children; i++) {
                                        char *q;

                                        if (!yaml_node_scalar(test->children[i]))
                                                return diag_error(c->diag, test->children[i], converter_path(c, key),
                                                                  "test words must be strings");
                                        r = shell_quote(test->children[i]->value, &q);
                                        if (r < 0)
                                                return r;
                                        r = strv_consume(&words, q);
                                        if (r < 0)
                                                return r;
                                }
                                if (!words)
                                        return diag_error(c->diag, test, converter_path(c, key),
                                                          "[\"CMD\", ...] needs a command");
                                cmd = strv_join(words, " ");
                        } else
                                return diag_error(c->diag, test->children[0], converter_path(c, key),
                                                  "test must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
                } else
                        return diag_error(c->diag, test, converter_path(c, key), "test must be a string or a list");
                if (!cmd)
                        return -ENOMEM;
                r = converter_flag(c, "--health-cmd", cmd);
                if (r < 0)
                        return r;
                c->service->has_healthcheck = true;
        }

        r = healthcheck_duration(c, v, "interval", "--health-interval", &c->service->health_interval_usec);
        if (r < 0)
                return r;
        r = healthcheck_duration(c, v, "timeout", "--health-timeout", NULL);
        if (r < 0)
                return r;
        val = yaml_mapping_get(v, "retries");
        if (val && !yaml_node_is_null(val)) {
                unsigned n;

                r = converter_unsigned(c, key, val, &n);
                if (r < 0)
                        return r;
                r = converter_flag(c, "--health-retries", val->value);
                if (r < 0)
                        return r;
        }
        r = healthcheck_duration(c, v, "start_period", "--health-start-period", NULL);
        if (r < 0)
                return r;
        return healthcheck_duration(c, v, "start_interval", "--health-start-interval", NULL);
}

int convert_logging(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val, *opts;
        const char *driver;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping, not %s", yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v)
                if (!STR_IN_SET(k->value, "driver", "options"))
                        return diag_error(c->diag, k, converter_path(c, key), "unknown key \"%s\"", k->value);
        val = yaml_mapping_get(v, "driver");
        if (val && !yaml_node_is_null(val)) {
                r = converter_string(c, key, val, &driver);
                if (r < 0)
                        return r;
                r = converter_flag(c, "--log-driver", driver);
                if (r < 0)
                        return r;
        }
        opts = yaml_mapping_get(v, "options");
        if (opts && !yaml_node_is_null(opts)) {
                if (opts->type != YAML_NODE_MAPPING)
                        return diag_error(c->diag, opts, converter_path(c, key), "options must be a mapping");
                YAML_MAPPING_FOREACH(k, val, opts) {
                        if (val->type != YAML_NODE_SCALAR)
                                return diag_error(c->diag, val, converter_path(c, key), "option values must be strings");
                        r = converter_flagf(c, "--log-opt", "%s=%s", k->value, scalar_text(val));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int convert_ulimits(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping, not %s", yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v) {
                _cleanup_free_ char *arg = NULL;
                uint64_t soft, hard;

                if (yaml_node_scalar(val)) {
                        if (parse_u64(val->value, &soft) < 0 && !streq(val->value, "-1"))
                                return diag_error(c->diag, val, converter_path(c, key), "\"%s\" must be a number",
                                                  k->value);
                        r = asprintf(&arg, "%s=%s", k->value, val->value);
                } else if (val->type == YAML_NODE_MAPPING) {
                        const char *s = yaml_node_scalar(yaml_mapping_get(val, "soft"));
                        const char *h = yaml_node_scalar(yaml_mapping_get(val, "hard"));

                        if (!s || !h || parse_u64(s, &soft) < 0 || parse_u64(h, &hard) < 0)
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "\"%s\" needs numeric \"soft\" and \"hard\"", k->value);
                        if (soft > hard)
                                return diag_error(c->diag, val, converter_path(c, key),
                                                  "\"%s\": soft limit above the hard limit", k->value);
                        r = asprintf(&arg, "%s=%s:%s", k->value, s, h);
                } else
                        return diag_error(c->diag, val, converter_path(c, key), "\"%s\" must be a number or a mapping",
                                          k->value);
                if (r < 0)
                        return -ENOMEM;
                r = converter_flag(c, "--ulimit", arg);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_devices(Converter *c, const char *key, YamlNode *v) {
        YamlNode *item;
        int r;

        if (v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, converter_path(c, key), "must be a list, not %s", yaml_node_type_name(v));
        YAML_SEQUENCE_FOREACH(item, v) {
                _cleanup_free_ char *arg = NULL;

                if (yaml_node_scalar(item))
                        arg = strdup(item->value);
                else if (item->type == YAML_NODE_MAPPING) {
                        const char *src = yaml_node_scalar(yaml_mapping_get(item, "source"));
                        const char *dst = yaml_node_scalar(yaml_mapping_get(item, "target"));
                        const char *perm = yaml_node_scalar(yaml_mapping_get(item, "permissions"));

                        if (!src)
                                return diag_error(c->diag, item, converter_path(c, key), "a device needs \"source\"");
                        if (asprintf(&arg, "%s%s%s%s%s", src, dst || perm ? ":" : "", dst ?: src, perm ? ":" : "",
                                     strempty(perm)) < 0)
                                arg = NULL;
                } else
                        return diag_error(c->diag, item, converter_path(c, key), "devices are strings or mappings");
                if (!arg)
                        return -ENOMEM;
                r = converter_flag(c, "--device", arg);
                if (r < 0)
                        return r;
        }
        return 0;
}

int convert_runtime(Converter *c, const char *key, YamlNode *v) {
        const char *s;
        int r;

        r = converter_string(c, key, v, &s);
        if (r < 0)
                return r;
        /* docker selects the OCI runtime per container, podman globally. */
        if (c->runtime == RUNTIME_PODMAN) {
                r = strv_extend(&c->service->global_args, "--runtime");
                if (r < 0)
                        return r;
                return strv_extend(&c->service->global_args, s);
        }
        return converter_flag(c, "--runtime", s);
}

int convert_gpus(Converter *c, const char *key, YamlNode *v) {
        if (!streq_ptr(yaml_node_scalar(v), "all") && v->type != YAML_NODE_SEQUENCE)
                return diag_error(c->diag, v, converter_path(c, key), "must be \"all\" or a list");
        if (c->runtime == RUNTIME_PODMAN)
                return converter_flag(c, "--device", "nvidia.com/gpu=all");
        return converter_flag(c, "--gpus", "all");
}

int convert_blkio(Converter *c, const char *key, YamlNode *v) {
        YamlNode *k, *val;
        int r;

        if (v->type != YAML_NODE_MAPPING)
                return diag_error(c->diag, v, converter_path(c, key), "must be a mapping, not %s", yaml_node_type_name(v));
        YAML_MAPPING_FOREACH(k, val, v) {
                if (streq(k->value, "weight")) {
                        unsigned w;

                        r = converter_unsigned(c, key, val, &w);
                        if (r < 0)
                                return r;
                        if (w < 10 || w > 1000)
                                return diag_error(c->diag, val, converter_path(c, key), "weight must be 10..1000");
                        r = converter_flag(c, "--blkio-weight", val->value);
                } else
                        r = diag_warning(c->diag, k, converter_path(c, key), "\"%s\" is not supported, ignoring",
                                         k->value);
                if (r < 0)
                        return r;
        }
        return 0;
}
