/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "compose-model.h"
#include "compose-values.h"
#include "yaml-node.h"

/* The conversion of one service, key by key. compose-validate.c holds the table of every service
 * key with its verdict; the handlers live in compose-convert-*.c. */

typedef struct Converter {
        ComposeProject *project;
        ComposeModel *model;
        Runtime runtime;
        Diag *diag;
        ComposeService *service;
        char path[512];
} Converter;

typedef int (*KeyHandler)(Converter *c, const char *key, YamlNode *v);

/* "services.<service>.<key>", in a buffer of c that the next call overwrites. */
const char *converter_path(Converter *c, const char *key);

/* Append "flag" / "flag value" to the service's run options. */
int converter_flag(Converter *c, const char *flag, const char *value);
/* Append "flag" and the word value (one that carries a specifier). Returns 0 or -ENOMEM. */
int converter_flag_word(Converter *c, const char *flag, const ExecWord *value);
/* Append "flag" and before + the container name of service + after, to docker_args when docker
 * (else run_args). The name is filled in once every service is known (compose_model_build()), from
 * a reference kept beside the word. Returns 0 or -ENOMEM. */
int converter_flag_container(Converter *c, bool docker, const char *flag, const char *before, const char *service,
                             const char *after);
/* Append "flag" and the value formatted from format. Returns 0 or -ENOMEM. */
int converter_flagf(Converter *c, const char *flag, const char *format, ...) _printf_(3, 4);

/* The run option a key's generic handler writes, as the key table registers it (e.g. "--user" for
 * "user"). key must be a key registered with a flag. */
const char *converter_key_flag(const char *key);

/* Value checks that report "services.<s>.<key>: must be ..." errors. The returned strings are
 * borrowed from the tree. */
int converter_string(Converter *c, const char *key, const YamlNode *v, const char **ret);
int converter_bool(Converter *c, const char *key, const YamlNode *v, bool *ret);
int converter_unsigned(Converter *c, const char *key, const YamlNode *v, unsigned *ret);
int converter_bytes(Converter *c, const char *key, const YamlNode *v, uint64_t *ret);
/* Reserve memory for the service on its machine: [X-Fleet] ReserveMemory= (mem_reservation and
 * deploy.resources.reservations.memory; the last one converted wins). Returns 0 or -ENOMEM. */
int converter_reserve_memory(Converter *c, uint64_t bytes);
int converter_duration(Converter *c, const char *key, const YamlNode *v, uint64_t *ret);
/* A string or a list of strings (also numbers), as a new strv in *ret. */
int converter_strings(Converter *c, const char *key, const YamlNode *v, char ***ret);

/* Convert one service mapping into c->service (already named): every key must be in the table
 * (else an error), warned-about keys are reported, then the handlers run in the table's order.
 * Returns 0, -EINVAL after a message, -ENOMEM. Called by compose_model_build(). */
int compose_convert_service(Converter *c, YamlNode *node);

/* Handlers, one per key or family of keys. Each converts v, the value of key in the current
 * service (c->service), appending run options, dependencies or unit settings to it; strings are
 * copied, nothing of v is kept except borrowed locations for later messages. Return 0, -EINVAL
 * after an error message (or a warning under --strict) in c->diag, or -ENOMEM. */
int convert_string_flag(Converter *c, const char *key, YamlNode *v);
int convert_bool_flag(Converter *c, const char *key, YamlNode *v);
int convert_list_flag(Converter *c, const char *key, YamlNode *v);
int convert_map_flag(Converter *c, const char *key, YamlNode *v);
int convert_bytes_flag(Converter *c, const char *key, YamlNode *v);
int convert_int_flag(Converter *c, const char *key, YamlNode *v);
int convert_image(Converter *c, const char *key, YamlNode *v);
int convert_build(Converter *c, const char *key, YamlNode *v);
int convert_command(Converter *c, const char *key, YamlNode *v);
int convert_entrypoint(Converter *c, const char *key, YamlNode *v);
int convert_environment(Converter *c, const char *key, YamlNode *v);
int convert_env_file(Converter *c, const char *key, YamlNode *v);
int convert_healthcheck(Converter *c, const char *key, YamlNode *v);
int convert_logging(Converter *c, const char *key, YamlNode *v);
int convert_ulimits(Converter *c, const char *key, YamlNode *v);
int convert_cpus(Converter *c, const char *key, YamlNode *v);
int convert_memory(Converter *c, const char *key, YamlNode *v);
int convert_devices(Converter *c, const char *key, YamlNode *v);
int convert_runtime(Converter *c, const char *key, YamlNode *v);
int convert_gpus(Converter *c, const char *key, YamlNode *v);
int convert_blkio(Converter *c, const char *key, YamlNode *v);
int convert_drop(Converter *c, const char *key, YamlNode *v);

/* deploy.update_config or deploy.rollback_config (key: its dotted path) into *ret, over its defaults. */
int convert_update_config(Converter *c, const char *key, YamlNode *v, ComposeUpdateConfig *ret);

int convert_ports(Converter *c, const char *key, YamlNode *v);
int convert_volumes(Converter *c, const char *key, YamlNode *v);
int convert_tmpfs(Converter *c, const char *key, YamlNode *v);
int convert_secrets(Converter *c, const char *key, YamlNode *v);
int convert_networks(Converter *c, const char *key, YamlNode *v);
int convert_network_mode(Converter *c, const char *key, YamlNode *v);
int convert_container_name(Converter *c, const char *key, YamlNode *v);

int convert_depends_on(Converter *c, const char *key, YamlNode *v);
int convert_links(Converter *c, const char *key, YamlNode *v);
int convert_volumes_from(Converter *c, const char *key, YamlNode *v);
int convert_namespace_mode(Converter *c, const char *key, YamlNode *v);
int convert_restart(Converter *c, const char *key, YamlNode *v);
int convert_deploy(Converter *c, const char *key, YamlNode *v);
int convert_scale(Converter *c, const char *key, YamlNode *v);
int convert_stop_grace_period(Converter *c, const char *key, YamlNode *v);
int convert_pull_policy(Converter *c, const char *key, YamlNode *v);
int convert_xfleet(Converter *c, const char *key, YamlNode *v);
int convert_install(Converter *c, const char *key, YamlNode *v);

/* Record that the current service depends on service (checked once every service is known):
 * key names the compose key for messages, at the location. A second mention of the same
 * service strengthens the first. Returns 0 or -ENOMEM. */
int converter_depend(Converter *c, const char *key, const char *service, DependCondition condition, bool required,
                     bool restart, bool colocate, const YamlNode *at);
