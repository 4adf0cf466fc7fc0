/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>

#include "compose-convert.h"
#include "strv.h"

/* Every key of a Compose Specification service (and the v1/v2 keys that the specification
 * dropped), with what unitgen does with it. A key that is not in this table is an error, as in
 * compose. The table's order is the order of the run options, so output does not depend on the
 * order of keys in the file. */

typedef enum KeyVerdict {
        KEY_CONVERT,    /* handler converts it */
        KEY_WARN,       /* ignored with a warning saying why */
        KEY_ERROR,      /* rejected, saying why */
        KEY_LOADED,     /* used while loading (extends, profiles) */
} KeyVerdict;

typedef struct ComposeKey {
        const char *name;
        KeyVerdict verdict;
        KeyHandler handler;
        const char *flag;       /* for the generic handlers; the reason for KEY_WARN/KEY_ERROR */
} ComposeKey;

static const ComposeKey compose_keys[] = {
        { "image",              KEY_CONVERT, convert_image,             NULL },
        { "build",              KEY_CONVERT, convert_build,             NULL },
        { "container_name",     KEY_CONVERT, convert_container_name,    NULL },
        { "pull_policy",        KEY_CONVERT, convert_pull_policy,       NULL },
        { "platform",           KEY_CONVERT, convert_string_flag,       "--platform" },
        { "user",               KEY_CONVERT, convert_string_flag,       "--user" },
        { "group_add",          KEY_CONVERT, convert_list_flag,         "--group-add" },
        { "working_dir",        KEY_CONVERT, convert_string_flag,       "--workdir" },
        { "hostname",           KEY_CONVERT, convert_string_flag,       "--hostname" },
        { "domainname",         KEY_CONVERT, convert_string_flag,       "--domainname" },
        { "mac_address",        KEY_CONVERT, convert_string_flag,       "--mac-address" },
        { "network_mode",       KEY_CONVERT, convert_network_mode,      NULL },
        { "networks",           KEY_CONVERT, convert_networks,          NULL },
        { "links",              KEY_CONVERT, convert_links,             NULL },
        { "external_links",     KEY_CONVERT, convert_links,             NULL },
        { "ports",              KEY_CONVERT, convert_ports,             NULL },
        { "expose",             KEY_CONVERT, convert_list_flag,         "--expose" },
        { "dns",                KEY_CONVERT, convert_list_flag,         "--dns" },
        { "dns_search",         KEY_CONVERT, convert_list_flag,         "--dns-search" },
        { "dns_opt",            KEY_CONVERT, convert_list_flag,         "--dns-option" },
        { "extra_hosts",        KEY_CONVERT, convert_map_flag,          "--add-host" },
        { "env_file",           KEY_CONVERT, convert_env_file,          NULL },
        { "environment",        KEY_CONVERT, convert_environment,       NULL },
        { "labels",             KEY_CONVERT, convert_map_flag,          "--label" },
        { "annotations",        KEY_CONVERT, convert_map_flag,          "--annotation" },
        { "volumes",            KEY_CONVERT, convert_volumes,           NULL },
        { "volumes_from",       KEY_CONVERT, convert_volumes_from,      NULL },
        { "tmpfs",              KEY_CONVERT, convert_tmpfs,             NULL },
        { "secrets",            KEY_CONVERT, convert_secrets,           NULL },
        { "configs",            KEY_CONVERT, convert_secrets,           NULL },
        { "ipc",                KEY_CONVERT, convert_namespace_mode,    "--ipc" },
        { "pid",                KEY_CONVERT, convert_namespace_mode,    "--pid" },
        { "uts",                KEY_CONVERT, convert_string_flag,       "--uts" },
        { "userns_mode",        KEY_CONVERT, convert_string_flag,       "--userns" },
        { "cgroup",             KEY_CONVERT, convert_string_flag,       "--cgroupns" },
        { "cgroup_parent",      KEY_CONVERT, convert_string_flag,       "--cgroup-parent" },
        { "privileged",         KEY_CONVERT, convert_bool_flag,         "--privileged" },
        { "read_only",          KEY_CONVERT, convert_bool_flag,         "--read-only" },
        { "init",               KEY_CONVERT, convert_bool_flag,         "--init" },
        { "cap_add",            KEY_CONVERT, convert_list_flag,         "--cap-add" },
        { "cap_drop",           KEY_CONVERT, convert_list_flag,         "--cap-drop" },
        { "security_opt",       KEY_CONVERT, convert_list_flag,         "--security-opt" },
        { "devices",            KEY_CONVERT, convert_devices,           NULL },
        { "device_cgroup_rules", KEY_CONVERT, convert_list_flag,        "--device-cgroup-rule" },
        { "gpus",               KEY_CONVERT, convert_gpus,              NULL },
        { "sysctls",            KEY_CONVERT, convert_map_flag,          "--sysctl" },
        { "ulimits",            KEY_CONVERT, convert_ulimits,           NULL },
        { "storage_opt",        KEY_CONVERT, convert_map_flag,          "--storage-opt" },
        { "shm_size",           KEY_CONVERT, convert_bytes_flag,        "--shm-size" },
        { "mem_limit",          KEY_CONVERT, convert_memory,            "--memory" },
        { "mem_reservation",    KEY_CONVERT, convert_memory,            "--memory-reservation" },
        { "memswap_limit",      KEY_CONVERT, convert_memory,            "--memory-swap" },
        { "mem_swappiness",     KEY_CONVERT, convert_int_flag,          "--memory-swappiness" },
        { "oom_kill_disable",   KEY_CONVERT, convert_bool_flag,         "--oom-kill-disable" },
        { "oom_score_adj",      KEY_CONVERT, convert_int_flag,          "--oom-score-adj" },
        { "cpus",               KEY_CONVERT, convert_cpus,              "--cpus" },
        { "cpu_shares",         KEY_CONVERT, convert_int_flag,          "--cpu-shares" },
        { "cpu_quota",          KEY_CONVERT, convert_int_flag,          "--cpu-quota" },
        { "cpu_period",         KEY_CONVERT, convert_int_flag,          "--cpu-period" },
        { "cpu_rt_runtime",     KEY_CONVERT, convert_int_flag,          "--cpu-rt-runtime" },
        { "cpu_rt_period",      KEY_CONVERT, convert_int_flag,          "--cpu-rt-period" },
        { "cpuset",             KEY_CONVERT, convert_string_flag,       "--cpuset-cpus" },
        { "pids_limit",         KEY_CONVERT, convert_int_flag,          "--pids-limit" },
        { "blkio_config",       KEY_CONVERT, convert_blkio,             NULL },
        { "runtime",            KEY_CONVERT, convert_runtime,           NULL },
        { "logging",            KEY_CONVERT, convert_logging,           NULL },
        { "healthcheck",        KEY_CONVERT, convert_healthcheck,       NULL },
        { "stop_signal",        KEY_CONVERT, convert_string_flag,       "--stop-signal" },
        { "stop_grace_period",  KEY_CONVERT, convert_stop_grace_period, NULL },
        { "entrypoint",         KEY_CONVERT, convert_entrypoint,        NULL },
        { "command",            KEY_CONVERT, convert_command,           NULL },
        { "depends_on",         KEY_CONVERT, convert_depends_on,        NULL },
        { "restart",            KEY_CONVERT, convert_restart,           NULL },
        { "scale",              KEY_CONVERT, convert_scale,             NULL },
        { "deploy",             KEY_CONVERT, convert_deploy,            NULL },
        { "tty",                KEY_CONVERT, convert_drop,
          "a unit has no terminal to attach; dropped" },
        { "stdin_open",         KEY_CONVERT, convert_drop,
          "a unit has no terminal to attach; dropped" },
        { "x-fleet",            KEY_CONVERT, convert_xfleet,            NULL },
        { "x-install",          KEY_CONVERT, convert_install,           NULL },  /* after deploy: knows a template */

        { "extends",            KEY_LOADED,  NULL,                      NULL },
        { "profiles",           KEY_LOADED,  NULL,                      NULL },

        { "post_start",         KEY_WARN,    NULL, "lifecycle hooks are not supported, ignoring" },
        { "pre_stop",           KEY_WARN,    NULL, "lifecycle hooks are not supported, ignoring" },
        { "label_file",         KEY_WARN,    NULL, "not supported: put the labels under \"labels\", ignoring" },
        { "attach",             KEY_WARN,    NULL, "logs go to the journal; nothing to attach, ignoring" },
        { "develop",            KEY_WARN,    NULL, "a development-only setting, ignoring" },
        { "provider",           KEY_WARN,    NULL, "provider services are not containers, ignoring" },
        { "models",             KEY_WARN,    NULL, "AI models are not supported, ignoring" },
        { "use_api_socket",     KEY_WARN,    NULL, "exposing the engine's API socket is not supported, ignoring" },
        { "pull_refresh_after", KEY_WARN,    NULL, "not supported: images are pulled when missing, ignoring" },
        { "cpu_count",          KEY_WARN,    NULL, "Windows-only, ignoring" },
        { "cpu_percent",        KEY_WARN,    NULL, "Windows-only, ignoring" },
        { "credential_spec",    KEY_WARN,    NULL, "Windows-only, ignoring" },
        { "isolation",          KEY_WARN,    NULL, "Windows-only, ignoring" },
        { "volume_driver",      KEY_ERROR,   NULL, "not supported: declare the volume under top-level \"volumes\" with a driver" },
        { "dockerfile",         KEY_ERROR,   NULL, "a cluster cannot build images: build and push the image, then set \"image\"" },
};

/* The table sorted by name, built on first use, for binary search. */
static const ComposeKey *compose_keys_sorted[ELEMENTSOF(compose_keys)];

static int compose_key_compare(const void *a, const void *b) {
        return strcmp((*(const ComposeKey *const *) a)->name, (*(const ComposeKey *const *) b)->name);
}

static const ComposeKey *compose_key_find(const char *name) {
        const ComposeKey key = { .name = name }, *k = &key, *const *found;

        if (!compose_keys_sorted[0]) {
                for (size_t i = 0; i < ELEMENTSOF(compose_keys); i++)
                        compose_keys_sorted[i] = compose_keys + i;
                qsort(compose_keys_sorted, ELEMENTSOF(compose_keys), sizeof(compose_keys_sorted[0]),
                      compose_key_compare);
        }
        found = bsearch(&k, compose_keys_sorted, ELEMENTSOF(compose_keys), sizeof(compose_keys_sorted[0]),
                        compose_key_compare);
        return found ? *found : NULL;
}

const char *converter_key_flag(const char *key) {
        const ComposeKey *ck = compose_key_find(key);

        assert(ck && ck->verdict == KEY_CONVERT && ck->flag);
        return ck->flag;
}

const char *converter_path(Converter *c, const char *key) {
        (void) snprintf(c->path, sizeof(c->path), "services.%s.%s", c->service->name, key);
        return c->path;
}

int converter_flag(Converter *c, const char *flag, const char *value) {
        int r;

        r = exec_argv_add(&c->service->run_args, flag);
        if (r < 0 || !value)
                return r;
        return exec_argv_add(&c->service->run_args, value);
}

int converter_flag_word(Converter *c, const char *flag, const ExecWord *value) {
        int r;

        r = exec_argv_add(&c->service->run_args, flag);
        if (r < 0)
                return r;
        return exec_argv_add_word(&c->service->run_args, value);
}

int converter_flag_container(Converter *c, bool docker, const char *flag, const char *before, const char *service,
                             const char *after) {
        ComposeService *s = c->service;
        _cleanup_free_ char *text = NULL, *name = NULL;
        ComposeContainerRef *refs;
        int r;

        if (asprintf(&text, "%s%s", strempty(before), strempty(after)) < 0)
                return -ENOMEM;
        name = strdup(service);
        if (!name)
                return -ENOMEM;
        /* A few per service at most. */
        refs = reallocarray(s->container_refs, s->n_container_refs + 1, sizeof(*refs));
        if (!refs)
                return -ENOMEM;
        s->container_refs = refs;
        if (docker) {
                r = strv_extend(&s->docker_args, flag);
                if (r >= 0)
                        r = strv_extend(&s->docker_args, text);
        } else {
                r = exec_argv_add(&s->run_args, flag);
                if (r >= 0)
                        r = exec_argv_add(&s->run_args, text);
        }
        if (r < 0)
                return r;
        s->container_refs[s->n_container_refs++] = (ComposeContainerRef) {
                .docker = docker,
                .word = docker ? strv_length(s->docker_args) - 1 : s->run_args.n - 1,
                .at = strlen(strempty(before)),
                .service = TAKE_PTR(name),
        };
        return 0;
}

int converter_flagf(Converter *c, const char *flag, const char *format, ...) {
        _cleanup_free_ char *value = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&value, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return converter_flag(c, flag, value);
}

int converter_string(Converter *c, const char *key, const YamlNode *v, const char **ret) {
        const char *s = yaml_node_scalar(v);

        if (!s)
                return diag_error(c->diag, v, converter_path(c, key), "must be a string, not %s", yaml_node_type_name(v));
        *ret = s;
        return 0;
}

int converter_bool(Converter *c, const char *key, const YamlNode *v, bool *ret) {
        int b = yaml_node_bool(v);

        if (b < 0)
                return diag_error(c->diag, v, converter_path(c, key), "must be true or false");
        *ret = b;
        return 0;
}

int converter_unsigned(Converter *c, const char *key, const YamlNode *v, unsigned *ret) {
        const char *s = yaml_node_scalar(v);

        if (!s || parse_unsigned(s, ret) < 0)
                return diag_error(c->diag, v, converter_path(c, key), "must be a non-negative integer");
        return 0;
}

int converter_bytes(Converter *c, const char *key, const YamlNode *v, uint64_t *ret) {
        const char *s = yaml_node_scalar(v);

        if (!s || parse_bytes(s, ret) < 0)
                return diag_error(c->diag, v, converter_path(c, key),
                                  "\"%s\" is not a byte value (like 512m, 1.5g, 1024)", strna(s));
        return 0;
}

int converter_duration(Converter *c, const char *key, const YamlNode *v, uint64_t *ret) {
        const char *s = yaml_node_scalar(v);

        if (!s || parse_duration_usec(s, ret) < 0)
                return diag_error(c->diag, v, converter_path(c, key),
                                  "\"%s\" is not a duration (like 10s, 1m30s, 500ms)", strna(s));
        return 0;
}

int converter_strings(Converter *c, const char *key, const YamlNode *v, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        YamlNode *item;
        int r;

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        if (yaml_node_scalar(v)) {
                r = strv_extend(&l, v->value);
                if (r < 0)
                        return r;
        } else if (v->type == YAML_NODE_SEQUENCE) {
                YAML_SEQUENCE_FOREACH(item, v) {
                        if (!yaml_node_scalar(item))
                                return diag_error(c->diag, item, converter_path(c, key),
                                                  "list items must be strings, not %s", yaml_node_type_name(item));
                        r = strv_extend(&l, item->value);
                        if (r < 0)
                                return r;
                }
        } else if (!yaml_node_is_null(v))
                return diag_error(c->diag, v, converter_path(c, key), "must be a string or a list of strings, not %s",
                                  yaml_node_type_name(v));
        *ret = TAKE_PTR(l);
        return 0;
}

int compose_convert_service(Converter *c, YamlNode *node) {
        YamlNode *values[ELEMENTSOF(compose_keys)] = {}, *k, *v;
        int r;

        /* First every key must be known, so that a typo is reported even if another key fails. */
        YAML_MAPPING_FOREACH(k, v, node) {
                const ComposeKey *ck;

                if (startswith(k->value, "x-") && !STR_IN_SET(k->value, "x-fleet", "x-install"))
                        continue;
                ck = compose_key_find(k->value);
                if (!ck)
                        return diag_error(c->diag, k, converter_path(c, k->value), "unknown key");
                values[ck - compose_keys] = v;
                if (ck->verdict == KEY_ERROR)
                        return diag_error(c->diag, k, converter_path(c, k->value), "%s", ck->flag);
                if (ck->verdict == KEY_WARN) {
                        r = diag_warning(c->diag, k, converter_path(c, k->value), "%s", ck->flag);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(compose_keys); i++) {
                const ComposeKey *ck = compose_keys + i;

                v = values[i];
                if (ck->verdict != KEY_CONVERT || !v)
                        continue;
                /* A null value means "not set", as in compose (after a merge, for example). */
                if (yaml_node_is_null(v) && !streq(ck->name, "build"))
                        continue;
                r = ck->handler(c, ck->name, v);
                if (r < 0)
                        return r;
        }

        if (!c->service->image)
                return diag_error(c->diag, node, converter_path(c, "image"), "is required (a cluster cannot build images)");
        return 0;
}

int convert_drop(Converter *c, const char *key, YamlNode *v) {
        const ComposeKey *ck = compose_key_find(key);
        bool b = false;
        int r;

        r = converter_bool(c, key, v, &b);
        if (r < 0 || !b)
                return r;
        return diag_warning(c->diag, v, converter_path(c, key), "%s", ck->flag);
}
