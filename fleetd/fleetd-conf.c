/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>

#include "cluster-dns.h"
#include "error-message.h"
#include "etcd-client.h"
#include "fileio.h"
#include "cluster-key.h"
#include "fleetd-conf.h"
#include "network-docker.h"
#include "parse-util.h"
#include "registry.h"
#include "string-util.h"
#include "strv.h"
#include "subnet.h"

typedef enum OptionType {
        OPTION_STRING,
        OPTION_PATH_DIR,
        OPTION_PREFIX,
        OPTION_ENDPOINTS,
        OPTION_DURATION,
        OPTION_DURATION_OR_ZERO,
        OPTION_TTL,
        OPTION_BOOL,
        OPTION_INT,
        OPTION_IP,
        OPTION_METADATA,
        OPTION_CPU,
        OPTION_MEMORY,
        OPTION_RESOURCES,
        OPTION_STRATEGY,
        OPTION_SUBNET,
        OPTION_IGNORED,
} OptionType;

typedef struct Option {
        const char *name;
        OptionType type;
        size_t offset;
} Option;

#define OPT(n, t, field) { n, t, offsetof(FleetdConfig, field) }
#define OPT_IGNORED(n) { n, OPTION_IGNORED, 0 }

static const Option options[] = {
        OPT("etcd_servers", OPTION_ENDPOINTS, etcd_servers),
        OPT("etcd_key_prefix", OPTION_PREFIX, etcd_key_prefix),
        OPT("etcd_cafile", OPTION_STRING, etcd_cafile),
        OPT("etcd_certfile", OPTION_STRING, etcd_certfile),
        OPT("etcd_keyfile", OPTION_STRING, etcd_keyfile),
        OPT("etcd_username", OPTION_STRING, etcd_username),
        OPT("etcd_password", OPTION_STRING, etcd_password),
        OPT("etcd_request_timeout", OPTION_DURATION, etcd_request_timeout_usec),
        OPT("public_ip", OPTION_IP, public_ip),
        OPT("metadata", OPTION_METADATA, metadata),
        OPT("agent_ttl", OPTION_TTL, agent_ttl_usec),
        OPT("disable_engine", OPTION_BOOL, disable_engine),
        OPT("units_directory", OPTION_PATH_DIR, units_directory),
        OPT("verbosity", OPTION_INT, verbosity),
        OPT("fence_on_lease_loss", OPTION_BOOL, fence_on_lease_loss),
        OPT("name_drain", OPTION_DURATION_OR_ZERO, name_drain_usec),
        OPT("purge_on_shutdown", OPTION_BOOL, purge_on_shutdown),
        OPT("disable_dns", OPTION_BOOL, disable_dns),
        OPT("dns_domain", OPTION_STRING, dns_domain),
        OPT("dns_address", OPTION_IP, dns_address),
        OPT("dns_hosts_directory", OPTION_PATH_DIR, dns_hosts_directory),
        OPT("capacity_cpu", OPTION_CPU, capacity_cpu_milli),
        OPT("capacity_memory", OPTION_MEMORY, capacity_memory),
        OPT("reserve_cpu", OPTION_CPU, reserve_cpu_milli),
        OPT("reserve_memory", OPTION_MEMORY, reserve_memory),
        OPT("resources", OPTION_RESOURCES, resources),
        OPT("scheduler_strategy", OPTION_STRATEGY, scheduler_strategy),
        OPT("state_dir", OPTION_PATH_DIR, state_dir),
        OPT("network", OPTION_BOOL, network),
        OPT("network_range", OPTION_SUBNET, network_range),
        OPT("network_subnet_len", OPTION_INT, network_subnet_len),
        OPT("network_subnet", OPTION_SUBNET, network_subnet),
        OPT("network_vni", OPTION_INT, network_vni),
        OPT("network_port", OPTION_INT, network_port),
        OPT("network_device", OPTION_STRING, network_device),
        OPT("network_cni_dir", OPTION_PATH_DIR, network_cni_dir),
        OPT("network_docker_socket", OPTION_STRING, network_docker_socket),
        OPT("cluster_key", OPTION_STRING, cluster_key),
        /* fleet's options that have no meaning here: accepted so that old files keep working. */
        OPT_IGNORED("engine_reconcile_interval"),
        OPT_IGNORED("token_limit"),
        OPT_IGNORED("enable_grpc"),
        OPT_IGNORED("disable_watches"),
        OPT_IGNORED("systemd_user"),
        OPT_IGNORED("authorized_keys_file"),
        OPT_IGNORED("verify_units"),
        OPT_IGNORED("etcd_key_file"),
};

int fleetd_config_new(FleetdConfig **ret) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;

        assert(ret);

        c = new0(FleetdConfig, 1);
        if (!c)
                return -ENOMEM;

        c->etcd_servers = strv_copy(STRV_MAKE("http://127.0.0.1:2379"));
        c->etcd_key_prefix = strdup(REGISTRY_DEFAULT_PREFIX);
        c->units_directory = strdup("/run/fleet/units/");
        c->metadata = new0(char *, 1);
        c->dns_domain = strdup(CLUSTER_DNS_DEFAULT_DOMAIN);
        c->dns_address = strdup(CLUSTER_DNS_DEFAULT_ADDRESS);
        c->dns_hosts_directory = strdup("/run/fleet/dns/hosts/");
        c->state_dir = strdup("/var/lib/fleet/");
        c->network_range = strdup(SUBNET_DEFAULT_RANGE);
        c->network_cni_dir = strdup("/etc/cni/net.d/");
        c->network_docker_socket = strdup(NETWORK_DOCKER_DEFAULT_SOCKET);
        c->cluster_key = strdup(CLUSTER_KEY_DEFAULT_PATH);
        if (!c->cluster_key || !c->etcd_servers || !c->etcd_key_prefix || !c->units_directory || !c->metadata || !c->dns_domain ||
            !c->dns_address || !c->dns_hosts_directory || !c->state_dir || !c->network_range || !c->network_cni_dir ||
            !c->network_docker_socket)
                return -ENOMEM;
        c->network = true;
        c->network_subnet_len = SUBNET_DEFAULT_LEN;
        c->network_vni = 1;
        c->network_port = 4789;
        c->etcd_request_timeout_usec = 1 * USEC_PER_SEC;
        c->agent_ttl_usec = FLEETD_AGENT_TTL_DEFAULT_USEC;
        c->fence_on_lease_loss = true;
        c->name_drain_usec = FLEETD_NAME_DRAIN_DEFAULT_USEC;
        c->capacity_cpu_milli = c->capacity_memory = UINT64_MAX;
        c->scheduler_strategy = strdup("spread");
        if (!c->scheduler_strategy)
                return -ENOMEM;

        *ret = TAKE_PTR(c);
        return 0;
}

FleetdConfig *fleetd_config_free(FleetdConfig *c) {
        if (!c)
                return NULL;
        strv_free(c->etcd_servers);
        free(c->etcd_key_prefix);
        free(c->etcd_cafile);
        free(c->etcd_certfile);
        free(c->etcd_keyfile);
        free(c->etcd_username);
        free(c->etcd_password);
        free(c->public_ip);
        strv_free(c->metadata);
        free(c->units_directory);
        free(c->cluster_key);
        free(c->dns_domain);
        free(c->dns_address);
        free(c->dns_hosts_directory);
        resources_done(&c->resources);
        free(c->scheduler_strategy);
        free(c->state_dir);
        free(c->network_range);
        free(c->network_subnet);
        free(c->network_device);
        free(c->network_cni_dir);
        free(c->network_docker_socket);
        return mfree(c);
}

static const Option *option_find(const char *key) {
        char name[64];
        size_t l = strlen(key);

        if (l == 0 || l >= sizeof(name))
                return NULL;
        for (size_t i = 0; i <= l; i++)
                name[i] = key[i] == '-' ? '_' : key[i];

        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                if (streq(options[i].name, name))
                        return &options[i];
        return NULL;
}

int fleetd_parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                double usec;
        } units[] = {
                /* Longest suffixes first, so that "ms" is not read as "m". */
                { "ns", 1.0 / NSEC_PER_USEC }, { "us", 1 }, { "ms", USEC_PER_MSEC }, { "h", USEC_PER_HOUR },
                { "m", USEC_PER_MINUTE }, { "s", USEC_PER_SEC },
        };
        double total = 0;
        const char *p = s;

        assert(ret_usec);

        if (isempty(s))
                return -EINVAL;

        while (*p) {
                char *end;
                double v;
                size_t i;

                if (!isdigit((unsigned char) *p) && *p != '.')
                        return -EINVAL;
                errno = 0;
                v = strtod(p, &end);
                if (errno != 0 || end == p || !isfinite(v) || v < 0)
                        return -EINVAL;
                p = end;

                if (*p == 0 && total == 0 && p != s) {
                        /* A bare number is seconds, as fleet's etcd_request_timeout=1.0. */
                        total = v * (double) USEC_PER_SEC;
                        break;
                }
                for (i = 0; i < ELEMENTSOF(units); i++)
                        if (startswith(p, units[i].suffix))
                                break;
                if (i >= ELEMENTSOF(units))
                        return -EINVAL;
                total += v * units[i].usec;
                p += strlen(units[i].suffix);
        }

        if (total > (double) (UINT64_MAX / 2))
                return -EINVAL;
        *ret_usec = (uint64_t) (total + 0.5);
        return 0;
}

static int metadata_entry_check(const char *e) {
        const char *eq = strchr(e, '=');

        if (!eq || eq == e || eq[1] == 0 || strchr(eq + 1, '='))
                return -EINVAL;
        return 0;
}

int fleetd_parse_metadata(const char *s, char ***ret, char **ret_bad) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;
        int r;

        assert(s);
        assert(ret);

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;

        for (;;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *e = strndup_strip(p, n);

                if (!e)
                        return -ENOMEM;
                if (!isempty(e)) {
                        if (metadata_entry_check(e) < 0) {
                                if (ret_bad)
                                        *ret_bad = TAKE_PTR(e);
                                return -EINVAL;
                        }
                        r = strv_consume(&l, TAKE_PTR(e));
                        if (r < 0)
                                return r;
                }
                if (p[n] == 0)
                        break;
                p += n + 1;
        }

        *ret = strv_sort(TAKE_PTR(l));
        return 0;
}

static int dir_value(const char *v, char **ret) {
        size_t l = strlen(v);

        *ret = l > 0 && v[l - 1] == '/' ? strdup(v) : (char *) malloc(l + 2);
        if (!*ret)
                return -ENOMEM;
        if (l == 0 || v[l - 1] != '/') {
                memcpy(*ret, v, l);
                (*ret)[l] = '/';
                (*ret)[l + 1] = 0;
        }
        return 0;
}

/* A string option: a copy of value, or NULL (the default) for an empty one. */
static int set_optional_string(char **field, const char *value) {
        char *s = NULL;

        if (!isempty(value)) {
                s = strdup(value);
                if (!s)
                        return -ENOMEM;
        }
        free_and_replace(*field, s);
        return 0;
}

static int set_duration(const Option *o, uint64_t *field, const char *value, char **ret_error) {
        uint64_t usec;

        if (fleetd_parse_duration(value, &usec) < 0)
                return error_message_set(ret_error, EINVAL, "%s: '%s' is not a duration (e.g. 10s, 500ms, 1m)",
                                         o->name, value);
        if (o->type == OPTION_TTL && usec < FLEETD_AGENT_TTL_MIN_USEC)
                return error_message_set(ret_error, EINVAL, "%s: '%s' is below the minimum of 2s", o->name, value);
        if (usec == 0 && o->type != OPTION_DURATION_OR_ZERO)
                return error_message_set(ret_error, EINVAL, "%s: must be greater than zero", o->name);
        *field = usec;
        return 0;
}

/* capacity_cpu/reserve_cpu and capacity_memory/reserve_memory. */
static int set_cpu_memory(const Option *o, uint64_t *field, const char *value, char **ret_error) {
        bool cpu = o->type == OPTION_CPU;
        uint64_t v;

        /* The capacities may be "auto" (measure), the reservations not. */
        if (streq(value, "auto") && startswith(o->name, "capacity_")) {
                *field = UINT64_MAX;
                return 0;
        }
        if ((cpu ? resources_parse_cpu(value, &v) : resources_parse_memory(value, &v)) < 0 || v == UINT64_MAX)
                return error_message_set(ret_error, EINVAL, "%s: '%s' is not %s", o->name, value,
                                         cpu ? "a number of CPUs like 0.5 or 2" : "a size like 512M or 4G");
        *field = v;
        return 0;
}

/* "gpu=2,fpga=1": the same syntax as metadata, each value a whole number. */
static int set_resources(const Option *o, Resources *field, const char *value, char **ret_error) {
        _cleanup_strv_free_ char **l = NULL;
        Resources res = {};
        int r;

        l = strv_split(value, "," WHITESPACE);
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(e, l) {
                _cleanup_free_ char *name = NULL;
                uint64_t n;

                r = resources_parse_extra(*e, &name, &n);
                if (r == -EINVAL || (r >= 0 && resources_add_extra(&res, name, n) == -EINVAL)) {
                        resources_done(&res);
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not name=N (a name and a whole number)",
                                                 o->name, *e);
                }
                if (r < 0) {
                        resources_done(&res);
                        return r;
                }
        }
        resources_done(field);
        *field = res;
        return 0;
}

int fleetd_config_set(FleetdConfig *c, const char *key, const char *value, char **ret_error) {
        const Option *o;
        void *field;
        int r;

        assert(c);
        assert(key);
        assert(value);

        o = option_find(key);
        if (!o)
                return error_message_set(ret_error, EINVAL, "%s: unknown option", key);
        if (o->type == OPTION_IGNORED)
                return 1;
        field = (uint8_t *) c + o->offset;

        switch (o->type) {

        case OPTION_STRING:
                return set_optional_string(field, value);

        case OPTION_PATH_DIR:
        case OPTION_PREFIX: {
                char *s;

                if (value[0] != '/')
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not an absolute path", o->name, value);
                r = dir_value(value, &s);
                if (r < 0)
                        return r;
                free_and_replace(*(char **) field, s);
                return 0;
        }

        case OPTION_ENDPOINTS: {
                _cleanup_free_ char *bad = NULL;
                char **l;

                r = etcd_endpoints_parse(value, &l, &bad);
                if (r == -EINVAL)
                        return isempty(bad) ? error_message_set(ret_error, EINVAL, "%s: no endpoint given", o->name)
                                            : error_message_set(ret_error, EINVAL,
                                                        "%s: '%s' is not an http:// or https:// URL "
                                                        "(scheme, host, optional port)",
                                                        o->name, bad);
                if (r < 0)
                        return r;
                strv_free(*(char ***) field);
                *(char ***) field = l;
                return 0;
        }

        case OPTION_DURATION:
        case OPTION_DURATION_OR_ZERO:
        case OPTION_TTL:
                return set_duration(o, field, value, ret_error);

        case OPTION_SUBNET: {
                Subnet sn;

                if (!isempty(value) && subnet_parse(value, &sn) < 0)
                        return error_message_set(ret_error, EINVAL,
                                                 "%s: '%s' is not an IPv4 subnet a.b.c.d/len "
                                                 "(with the host bits zero)", o->name, value);
                return set_optional_string(field, value);
        }

        case OPTION_BOOL:
                r = parse_boolean(value);
                if (r < 0)
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not a boolean (true or false)", o->name,
                                         value);
                *(bool *) field = r;
                return 0;

        case OPTION_INT: {
                char *end;
                long v;

                errno = 0;
                v = strtol(value, &end, 10);
                if (errno != 0 || end == value || *end != 0 || v < 0 || v > INT_MAX)
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not a non-negative integer", o->name,
                                         value);
                *(int *) field = (int) v;
                return 0;
        }

        case OPTION_IP: {
                unsigned char buf[sizeof(struct in6_addr)];

                if (!isempty(value) && inet_pton(AF_INET, value, buf) != 1 && inet_pton(AF_INET6, value, buf) != 1)
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not an IP address", o->name, value);
                return set_optional_string(field, value);
        }

        case OPTION_METADATA: {
                _cleanup_free_ char *bad = NULL;
                char **l;

                r = fleetd_parse_metadata(value, &l, &bad);
                if (r == -EINVAL)
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not of the form key=value", o->name, bad);
                if (r < 0)
                        return r;
                strv_free(*(char ***) field);
                *(char ***) field = l;
                return 0;
        }

        case OPTION_CPU:
        case OPTION_MEMORY:
                return set_cpu_memory(o, field, value, ret_error);

        case OPTION_RESOURCES:
                return set_resources(o, field, value, ret_error);

        case OPTION_STRATEGY:
                if (!strv_contains(STRV_MAKE("spread", "binpack"), value))
                        return error_message_set(ret_error, EINVAL, "%s: '%s' is not spread or binpack", o->name, value);
                return set_optional_string(field, value);

        default:
                assert_not_reached();
        }
}

static char *unquote(char *v) {
        size_t l = strlen(v);

        if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
                v[l - 1] = 0;
                return v + 1;
        }
        return v;
}

int fleetd_config_load_text(FleetdConfig *c, const char *text, const char *origin, char **ret_error) {
        const char *p = text;
        unsigned line = 0;
        int r;

        assert(c);
        assert(text);
        assert(origin);

        while (*p) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *l = strndup_strip(p, n);
                _cleanup_free_ char *err = NULL;
                char *eq, *key, *value;

                if (!l)
                        return -ENOMEM;
                line++;
                p += n + (p[n] == '\n');

                if (isempty(l) || l[0] == '#' || l[0] == ';' || l[0] == '[')
                        continue;

                eq = strchr(l, '=');
                if (!eq)
                        return error_message_set(ret_error, EINVAL, "%s:%u: %s: expected key=value", origin, line, l);
                *eq = 0;
                key = strstrip(l);
                value = unquote(strstrip(eq + 1));

                r = fleetd_config_set(c, key, value, &err);
                if (r == -EINVAL)
                        return error_message_set(ret_error, EINVAL, "%s:%u: %s", origin, line, strna(err));
                if (r < 0)
                        return r;
        }
        return 0;
}

int fleetd_config_load_file(FleetdConfig *c, const char *path, bool missing_ok, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        assert(c);
        assert(path);

        r = read_full_file(path, &text, NULL, 1024 * 1024);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r < 0) {
                if (error_message_set(ret_error, EINVAL, "%s: %s", path, strerror(-r)) == -ENOMEM)
                        return -ENOMEM;
                return r;
        }
        return fleetd_config_load_text(c, text, path, ret_error);
}

int fleetd_config_load_env(FleetdConfig *c, char **ret_error) {
        int r;

        assert(c);

        for (size_t i = 0; i < ELEMENTSOF(options); i++) {
                _cleanup_free_ char *err = NULL;
                char name[80];
                const char *v;
                size_t j;

                j = (size_t) snprintf(name, sizeof(name), "FLEET_%s", options[i].name);
                assert(j < sizeof(name));
                for (j = strlen("FLEET_"); name[j]; j++)
                        name[j] = (char) toupper((unsigned char) name[j]);

                v = getenv(name);
                if (!v)
                        continue;
                r = fleetd_config_set(c, options[i].name, v, &err);
                if (r == -EINVAL)
                        return error_message_set(ret_error, EINVAL, "$%s: %s", name, strna(err));
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *fleetd_config_find_path(int argc, char *argv[]) {
        const char *path = NULL;

        for (int i = 1; i < argc; i++) {
                const char *v = startswith(argv[i], "--config=");

                if (v)
                        path = v;
                else if (streq(argv[i], "--config") && i + 1 < argc)
                        path = argv[++i];
        }
        return path;
}

int fleetd_config_parse_argv(FleetdConfig *c, int argc, char *argv[], char **ret_error) {
        int r;

        assert(c);

        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *name = NULL, *err = NULL;
                const char *arg = startswith(argv[i], "--"), *eq, *value;
                const Option *o;

                if (!arg || isempty(arg))
                        return error_message_set(ret_error, EINVAL, "unexpected argument '%s'", argv[i]);
                if (streq(arg, "help") || streq(arg, "version"))
                        continue;

                eq = strchr(arg, '=');
                name = eq ? strndup(arg, eq - arg) : strdup(arg);
                if (!name)
                        return -ENOMEM;

                if (streq(name, "config")) {
                        if (!eq)
                                i++;
                        continue;
                }

                o = option_find(name);
                if (!o)
                        return error_message_set(ret_error, EINVAL, "--%s: unknown option", name);

                if (eq)
                        value = eq + 1;
                else if (o->type == OPTION_BOOL && (i + 1 >= argc || parse_boolean(argv[i + 1]) < 0))
                        value = "true";
                else if (i + 1 < argc)
                        value = argv[++i];
                else
                        return error_message_set(ret_error, EINVAL, "--%s: missing value", name);

                r = fleetd_config_set(c, name, value, &err);
                if (r == -EINVAL)
                        return error_message_set(ret_error, EINVAL, "--%s", strna(err));
                if (r < 0)
                        return r;
        }
        return 0;
}

int fleetd_config_load(FleetdConfig **ret, int argc, char *argv[], char **ret_error) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;
        const char *path;
        int r;

        assert(ret);

        r = fleetd_config_new(&c);
        if (r < 0)
                return r;

        path = fleetd_config_find_path(argc, argv);
        r = fleetd_config_load_file(c, path ?: FLEETD_CONFIG_FILE, !path, ret_error);
        if (r < 0)
                return r;
        r = fleetd_config_load_env(c, ret_error);
        if (r < 0)
                return r;
        r = fleetd_config_parse_argv(c, argc, argv, ret_error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}
