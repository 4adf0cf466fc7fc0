/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>

#include "cluster-object.h"
#include "error-message.h"
#include "parse-util.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"
#include "unit-depend.h"
#include "unit-name.h"
#include "xfleet.h"

/* The options, one entry per [X-Fleet] key fleet knows; deprecated names map to the same key. To add
 * an option: a field in XFleetOptions (xfleet.h), an XFleetKey, its parser below, one row in
 * xfleet_option_table (the name users write), a case in options_have(), the rows of
 * xfleet_exclusive_table it may not be combined with, and the field in free/copy/equal/is_empty
 * (equal/is_empty only for placement options: Secret= and Config= do not place). */
typedef enum XFleetKey {
        XFLEET_MACHINE_ID,
        XFLEET_MACHINE_OF,
        XFLEET_MACHINE_METADATA,
        XFLEET_CONFLICTS,
        XFLEET_REPLACES,
        XFLEET_GLOBAL,
        XFLEET_MACHINE_BOOT_ID,
        XFLEET_RESERVE_CPU,
        XFLEET_RESERVE_MEMORY,
        XFLEET_RESERVE_RESOURCE,
        XFLEET_MAX_REPLICAS_PER_MACHINE,
        XFLEET_SPREAD_METADATA,
        XFLEET_SECRET,
        XFLEET_CONFIG,
        XFLEET_HEALTHCHECK,
        XFLEET_MOVE_AFTER_FAILURES,
        XFLEET_FAILURE_WINDOW,
        XFLEET_DEPENDS_ON,
        _XFLEET_KEY_MAX,
        _XFLEET_KEY_INVALID = -EINVAL,
} XFleetKey;

/* value has its specifiers expanded already. Returns 0, -EINVAL after set_error(), -ENOMEM. */
typedef int (*XFleetParser)(XFleetOptions *x, const char *value, char **error_message);

static int parse_machine_id(XFleetOptions *x, const char *value, char **error_message);
static int parse_machine_boot_id(XFleetOptions *x, const char *value, char **error_message);
static int parse_machine_of(XFleetOptions *x, const char *value, char **error_message);
static int parse_machine_metadata(XFleetOptions *x, const char *value, char **error_message);
static int parse_conflicts(XFleetOptions *x, const char *value, char **error_message);
static int parse_replaces(XFleetOptions *x, const char *value, char **error_message);
static int parse_global(XFleetOptions *x, const char *value, char **error_message);
static int parse_reserve_cpu(XFleetOptions *x, const char *value, char **error_message);
static int parse_reserve_memory(XFleetOptions *x, const char *value, char **error_message);
static int parse_reserve_resource(XFleetOptions *x, const char *value, char **error_message);
static int parse_max_replicas_per_machine(XFleetOptions *x, const char *value, char **error_message);
static int parse_spread_metadata(XFleetOptions *x, const char *value, char **error_message);
static int parse_secret(XFleetOptions *x, const char *value, char **error_message);
static int parse_config(XFleetOptions *x, const char *value, char **error_message);
static int parse_healthcheck(XFleetOptions *x, const char *value, char **error_message);
static int parse_move_after_failures(XFleetOptions *x, const char *value, char **error_message);
static int parse_failure_window(XFleetOptions *x, const char *value, char **error_message);
static int parse_depends_on(XFleetOptions *x, const char *value, char **error_message);

typedef struct XFleetOptionDef {
        const char *name;
        XFleetKey key;
        bool deprecated;
        XFleetParser parse;
} XFleetOptionDef;

/* The first row of each key carries its current name (used in messages). */
static const XFleetOptionDef xfleet_option_table[] = {
        { "MachineID",                  XFLEET_MACHINE_ID,       false, parse_machine_id       },
        { "MachineOf",                  XFLEET_MACHINE_OF,       false, parse_machine_of       },
        { "MachineMetadata",            XFLEET_MACHINE_METADATA, false, parse_machine_metadata },
        { "Conflicts",                  XFLEET_CONFLICTS,        false, parse_conflicts        },
        { "Replaces",                   XFLEET_REPLACES,         false, parse_replaces         },
        { "Global",                     XFLEET_GLOBAL,           false, parse_global           },
        { "ReserveCPU",                 XFLEET_RESERVE_CPU,      false, parse_reserve_cpu      },
        { "ReserveMemory",              XFLEET_RESERVE_MEMORY,   false, parse_reserve_memory   },
        { "ReserveResource",            XFLEET_RESERVE_RESOURCE, false, parse_reserve_resource },
        { "MaxReplicasPerMachine",      XFLEET_MAX_REPLICAS_PER_MACHINE, false, parse_max_replicas_per_machine },
        { "SpreadMetadata",             XFLEET_SPREAD_METADATA,  false, parse_spread_metadata  },
        { "Secret",                     XFLEET_SECRET,           false, parse_secret           },
        { "Config",                     XFLEET_CONFIG,           false, parse_config           },
        { "Healthcheck",                XFLEET_HEALTHCHECK,      false, parse_healthcheck      },
        { "MoveAfterFailures",          XFLEET_MOVE_AFTER_FAILURES, false, parse_move_after_failures },
        { "FailureWindow",              XFLEET_FAILURE_WINDOW,   false, parse_failure_window   },
        { "DependsOn",                  XFLEET_DEPENDS_ON,       false, parse_depends_on       },
        { "X-ConditionMachineID",       XFLEET_MACHINE_ID,       true,  parse_machine_id       },
        { "X-ConditionMachineOf",       XFLEET_MACHINE_OF,       true,  parse_machine_of       },
        { "X-ConditionMachineMetadata", XFLEET_MACHINE_METADATA, true,  parse_machine_metadata },
        { "X-Conflicts",                XFLEET_CONFLICTS,        true,  parse_conflicts        },
        { "X-ConditionMachineBootID",   XFLEET_MACHINE_BOOT_ID,  true,  parse_machine_boot_id  },
};

/* Pairs fleet refuses together (api/units.go ValidateOptions), checked in this order. */
static const struct {
        XFleetKey a, b;
} xfleet_exclusive_table[] = {
        { XFLEET_MACHINE_ID, XFLEET_MACHINE_OF },
        { XFLEET_MACHINE_ID, XFLEET_CONFLICTS  },
        { XFLEET_MACHINE_ID, XFLEET_GLOBAL     },
        { XFLEET_MACHINE_ID, XFLEET_REPLACES   },
        { XFLEET_GLOBAL,     XFLEET_MACHINE_OF },
        { XFLEET_GLOBAL,     XFLEET_REPLACES   },
        { XFLEET_CONFLICTS,  XFLEET_REPLACES   },
        /* A global unit runs once per machine: a per-machine limit or a spread means nothing. */
        { XFLEET_GLOBAL,     XFLEET_MAX_REPLICAS_PER_MACHINE },
        { XFLEET_GLOBAL,     XFLEET_SPREAD_METADATA },
        /* ... and has no other machine to move to. */
        { XFLEET_GLOBAL,     XFLEET_MOVE_AFTER_FAILURES },
        { XFLEET_GLOBAL,     XFLEET_FAILURE_WINDOW },
};

static const XFleetOptionDef *option_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(xfleet_option_table); i++)
                if (streq(xfleet_option_table[i].name, name))
                        return xfleet_option_table + i;
        return NULL;
}

static const char *key_name(XFleetKey key) {
        for (size_t i = 0; i < ELEMENTSOF(xfleet_option_table); i++)
                if (xfleet_option_table[i].key == key)
                        return xfleet_option_table[i].name;
        assert_not_reached();
}

bool xfleet_option_is_known(const char *name) {
        return name && option_lookup(name);
}

XFleetOptions *xfleet_options_new(void) {
        XFleetOptions *x = new0(XFleetOptions, 1);

        if (!x)
                return NULL;
        x->move_after_failures = XFLEET_MOVE_AFTER_FAILURES_DEFAULT;
        x->failure_window_usec = XFLEET_FAILURE_WINDOW_DEFAULT_USEC;
        return x;
}

XFleetOptions *xfleet_options_free(XFleetOptions *x) {
        if (!x)
                return NULL;
        free(x->machine_id);
        strv_free(x->machine_of);
        strv_free(x->machine_metadata);
        strv_free(x->conflicts);
        strv_free(x->replaces);
        strv_free(x->warnings);
        resources_done(&x->reserve);
        free(x->spread_metadata);
        strv_free(x->secrets);
        strv_free(x->configs);
        free(x->health_runtime);
        free(x->health_container);
        strv_free(x->depends_on);
        return mfree(x);
}

static int strv_copy_to(char *const *from, char ***to) {
        if (!from)
                return 0;
        *to = strv_copy(from);
        return *to ? 0 : -ENOMEM;
}

int xfleet_options_copy(const XFleetOptions *x, XFleetOptions **ret) {
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;

        assert(x);
        assert(ret);

        c = xfleet_options_new();
        if (!c)
                return -ENOMEM;
        if (x->machine_id) {
                c->machine_id = strdup(x->machine_id);
                if (!c->machine_id)
                        return -ENOMEM;
        }
        if (strv_copy_to(x->machine_of, &c->machine_of) < 0 ||
            strv_copy_to(x->machine_metadata, &c->machine_metadata) < 0 ||
            strv_copy_to(x->conflicts, &c->conflicts) < 0 ||
            strv_copy_to(x->replaces, &c->replaces) < 0 ||
            strv_copy_to(x->warnings, &c->warnings) < 0 ||
            strv_copy_to(x->secrets, &c->secrets) < 0 ||
            strv_copy_to(x->configs, &c->configs) < 0 ||
            strv_copy_to(x->depends_on, &c->depends_on) < 0)
                return -ENOMEM;
        c->global = x->global;
        c->machine_id_from_boot_id = x->machine_id_from_boot_id;
        c->max_per_machine = x->max_per_machine;
        if (x->spread_metadata) {
                c->spread_metadata = strdup(x->spread_metadata);
                if (!c->spread_metadata)
                        return -ENOMEM;
        }
        if (resources_copy(&x->reserve, &c->reserve) < 0)
                return -ENOMEM;
        if (x->health_runtime &&
            (!(c->health_runtime = strdup(x->health_runtime)) || !(c->health_container = strdup(x->health_container))))
                return -ENOMEM;
        c->health_interval_sec = x->health_interval_sec;
        c->move_after_failures = x->move_after_failures;
        c->move_after_failures_set = x->move_after_failures_set;
        c->failure_window_usec = x->failure_window_usec;
        c->failure_window_set = x->failure_window_set;

        *ret = TAKE_PTR(c);
        return 0;
}

bool xfleet_options_equal(const XFleetOptions *a, const XFleetOptions *b) {
        if (xfleet_options_is_empty(a) || xfleet_options_is_empty(b))
                return xfleet_options_is_empty(a) && xfleet_options_is_empty(b);
        return streq_ptr(a->machine_id, b->machine_id) && strv_equal(a->machine_of, b->machine_of) &&
               strv_equal(a->machine_metadata, b->machine_metadata) && strv_equal(a->conflicts, b->conflicts) &&
               strv_equal(a->replaces, b->replaces) && a->global == b->global &&
               resources_equal(&a->reserve, &b->reserve) && a->max_per_machine == b->max_per_machine &&
               streq_ptr(a->spread_metadata, b->spread_metadata);
}

bool xfleet_options_is_empty(const XFleetOptions *x) {
        return !x || (!x->machine_id && strv_length(x->machine_of) == 0 &&
                      strv_length(x->machine_metadata) == 0 && strv_length(x->conflicts) == 0 &&
                      strv_length(x->replaces) == 0 && !x->global && resources_is_empty(&x->reserve) &&
                      x->max_per_machine == 0 && !x->spread_metadata);
}

int xfleet_parse_boolean(const char *v) {
        return parse_boolean(v);
}

/* Locate key and value of "k=v" / "k!=v" without copying. */
static int metadata_locate(const char *req, size_t *ret_key_len, const char **ret_value,
                           bool *ret_negated) {
        const char *eq = strchr(req, '=');
        bool negated;
        size_t key_len;

        if (!eq || strchr(eq + 1, '='))
                return -EINVAL;
        negated = eq > req && eq[-1] == '!';
        key_len = eq - req - negated;
        if (key_len == 0 || isempty(eq + 1))
                return -EINVAL;

        *ret_key_len = key_len;
        *ret_value = eq + 1;
        *ret_negated = negated;
        return 0;
}

int xfleet_metadata_split(const char *req, char **ret_key, char **ret_value, bool *ret_negated) {
        _cleanup_free_ char *k = NULL, *v = NULL;
        const char *value;
        size_t key_len;
        bool negated;
        int r;

        assert(req);
        assert(ret_key);
        assert(ret_value);

        r = metadata_locate(req, &key_len, &value, &negated);
        if (r < 0)
                return r;
        k = strndup(req, key_len);
        v = strdup(value);
        if (!k || !v)
                return -ENOMEM;

        *ret_key = TAKE_PTR(k);
        *ret_value = TAKE_PTR(v);
        if (ret_negated)
                *ret_negated = negated;
        return 0;
}

/* Whether the machine has key (of length key_len) = value. */
static bool machine_has(char *const *machine_metadata, const char *key, size_t key_len,
                        const char *value) {
        STRV_FOREACH(m, machine_metadata)
                if (strneq(*m, key, key_len) && (*m)[key_len] == '=' && streq(*m + key_len + 1, value))
                        return true;
        return false;
}

bool xfleet_metadata_match(char *const *requirements, char *const *machine_metadata) {
        size_t n = strv_length(requirements);

        for (size_t i = 0; i < n; i++) {
                const char *value;
                size_t key_len;
                bool negated, seen = false, any = false;

                if (metadata_locate(requirements[i], &key_len, &value, &negated) < 0)
                        return false;
                if (negated) {
                        if (machine_has(machine_metadata, requirements[i], key_len, value))
                                return false;
                        continue;
                }

                /* Evaluate each key's '=' group once, at its first member: one of them must hold. */
                for (size_t j = 0; j < i && !seen; j++) {
                        const char *v2;
                        size_t l2;
                        bool n2;

                        seen = metadata_locate(requirements[j], &l2, &v2, &n2) >= 0 && !n2 &&
                               l2 == key_len && strneq(requirements[j], requirements[i], key_len);
                }
                if (seen)
                        continue;
                for (size_t j = i; j < n && !any; j++) {
                        const char *v2;
                        size_t l2;
                        bool n2;

                        if (metadata_locate(requirements[j], &l2, &v2, &n2) < 0 || n2 || l2 != key_len ||
                            !strneq(requirements[j], requirements[i], key_len))
                                continue;
                        any = machine_has(machine_metadata, requirements[j], key_len, v2);
                }
                if (!any)
                        return false;
        }
        return true;
}

bool xfleet_machine_id_match(const char *required, const char *machine_id) {
        size_t n;

        assert(required);
        assert(machine_id);

        n = strlen(required);
        return streq(required, machine_id) || (n >= 8 && strneq(required, machine_id, n));
}

bool xfleet_glob_match(const char *pattern, const char *name) {
        const char *meta;

        assert(pattern);
        assert(name);

        meta = strpbrk(pattern, "*?[\\");
        if (!meta)
                return streq(pattern, name);
        /* "web@*", the usual Conflicts pattern, is a prefix (fnmatch() without flags lets '*' match
         * anything): the scheduler matches patterns against every neighbour of every machine it
         * checks, and fnmatch() costs ten times a strncmp(). */
        if (meta[0] == '*' && meta[1] == 0)
                return strncmp(pattern, name, meta - pattern) == 0;
        return fnmatch(pattern, name, 0) == 0;
}

bool xfleet_globs_match(char *const *patterns, const char *name) {
        STRV_FOREACH(p, patterns)
                if (xfleet_glob_match(*p, name))
                        return true;
        return false;
}

/* Split a value into words at whitespace; single or double quotes group (and are removed). */
static int split_quoted(const char *value, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = value;
        int r;

        for (;;) {
                char *word;

                r = extract_first_word(&p, &word, NULL, EXTRACT_UNQUOTE);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = strv_consume(&l, word);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static int strv_extend_words(char ***l, const char *value) {
        _cleanup_strv_free_ char **words = strv_split(value, WHITESPACE);

        if (!words)
                return -ENOMEM;
        return strv_extend_strv(l, words);
}

static int parse_machine_id(XFleetOptions *x, const char *value, char **error_message) {
        /* The first MachineID wins; a legacy boot ID only stands in until one is seen, as in fleet. */
        if (isempty(value) || (x->machine_id && !x->machine_id_from_boot_id))
                return 0;
        free(x->machine_id);
        x->machine_id = strdup(value);
        if (!x->machine_id)
                return -ENOMEM;
        x->machine_id_from_boot_id = false;
        return 0;
}

static int parse_machine_boot_id(XFleetOptions *x, const char *value, char **error_message) {
        if (isempty(value) || x->machine_id)
                return 0;
        x->machine_id = strdup(value);
        if (!x->machine_id)
                return -ENOMEM;
        x->machine_id_from_boot_id = true;
        return 0;
}

static int parse_machine_of(XFleetOptions *x, const char *value, char **error_message) {
        return strv_extend_words(&x->machine_of, value);
}

static int parse_conflicts(XFleetOptions *x, const char *value, char **error_message) {
        return strv_extend_words(&x->conflicts, value);
}

static int parse_replaces(XFleetOptions *x, const char *value, char **error_message) {
        return strv_extend_words(&x->replaces, value);
}

static int parse_global(XFleetOptions *x, const char *value, char **error_message) {
        int r;

        r = parse_boolean(value);
        if (r < 0)
                return error_message_set(error_message, EINVAL, "Global=%s is not a boolean", value);
        x->global = r;
        return 0;
}

static int parse_machine_metadata(XFleetOptions *x, const char *value, char **error_message) {
        _cleanup_strv_free_ char **words = NULL;
        const char *v;
        size_t key_len;
        bool negated;
        int r;

        r = split_quoted(value, &words);
        if (r == -EINVAL)
                return error_message_set(error_message, EINVAL, "MachineMetadata=%s: unbalanced quotes", value);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words)
                if (metadata_locate(*w, &key_len, &v, &negated) < 0)
                        return error_message_set(error_message, EINVAL,
                                         "MachineMetadata '%s' is not of the form key=value "
                                         "or key!=value with a non-empty key and value", *w);
        return strv_extend_strv(&x->machine_metadata, words);
}

/* The last value wins, as for systemd's own settings. */
static int parse_reserve_cpu(XFleetOptions *x, const char *value, char **error_message) {
        if (resources_parse_cpu(value, &x->reserve.cpu_milli) < 0)
                return error_message_set(error_message, EINVAL,
                                 "ReserveCPU=%s is not a number of CPUs like 0.5 or 2 (at most 3 decimals)", value);
        return 0;
}

static int parse_reserve_memory(XFleetOptions *x, const char *value, char **error_message) {
        if (resources_parse_memory(value, &x->reserve.memory) < 0)
                return error_message_set(error_message, EINVAL, "ReserveMemory=%s is not a size like 512M, 4G or 1.5GiB", value);
        return 0;
}

/* name=N, repeatable: the amounts of one name add up. */
static int parse_reserve_resource(XFleetOptions *x, const char *value, char **error_message) {
        _cleanup_free_ char *name = NULL;
        uint64_t amount;
        int r;

        r = resources_parse_extra(value, &name, &amount);
        if (r == -EINVAL)
                return error_message_set(error_message, EINVAL,
                                 "ReserveResource=%s is not name=N (a name of letters, digits, '_', '.', '-' and a "
                                 "whole number)", value);
        if (r < 0)
                return r;
        r = resources_add_extra(&x->reserve, name, amount);
        if (r == -EINVAL)
                return error_message_set(error_message, EINVAL, "ReserveResource=%s: too much %s", value, name);
        return r;
}

static int parse_max_replicas_per_machine(XFleetOptions *x, const char *value, char **error_message) {
        uint64_t n;

        if (parse_u64(value, &n) < 0 || n == 0 || n > UINT32_MAX)
                return error_message_set(error_message, EINVAL, "MaxReplicasPerMachine=%s is not a positive whole number", value);
        x->max_per_machine = (unsigned) n;
        return 0;
}

static int parse_spread_metadata(XFleetOptions *x, const char *value, char **error_message) {
        char *k;

        if (isempty(value) || strpbrk(value, "=!" WHITESPACE))
                return error_message_set(error_message, EINVAL, "SpreadMetadata=%s is not a metadata key (no '=', '!' or spaces)",
                                 value);
        k = strdup(value);
        if (!k)
                return -ENOMEM;
        free_and_replace(x->spread_metadata, k);
        return 0;
}

/* Secret=/Config=: stored in canonical form (cluster_object_ref_format()), one reference per name. */
static int parse_object_ref(ClusterObjectKind kind, char ***refs, const char *value, char **error_message) {
        _cleanup_(cluster_object_ref_done) ClusterObjectRef ref = {};
        char *canonical;
        size_t n;
        int r;

        r = cluster_object_ref_parse(kind, value, &ref, error_message);
        if (r < 0)
                return r;
        n = strlen(ref.name);
        STRV_FOREACH(e, *refs)
                if (strneq(*e, ref.name, n) && ((*e)[n] == 0 || (*e)[n] == ' '))
                        return error_message_set(error_message, EINVAL, "%s=%s: %s %s is referred to twice",
                                                 kind == CLUSTER_OBJECT_SECRET ? "Secret" : "Config", value,
                                                 cluster_object_kind_to_string(kind), ref.name);
        canonical = cluster_object_ref_format(&ref);
        if (!canonical)
                return -ENOMEM;
        return strv_consume(refs, canonical);
}

static int parse_secret(XFleetOptions *x, const char *value, char **error_message) {
        return parse_object_ref(CLUSTER_OBJECT_SECRET, &x->secrets, value, error_message);
}

static int parse_config(XFleetOptions *x, const char *value, char **error_message) {
        return parse_object_ref(CLUSTER_OBJECT_CONFIG, &x->configs, value, error_message);
}

/* Healthcheck=RUNTIME CONTAINER [INTERVAL]: the runtime is one the agent knows how to ask, the
 * container a name the runtimes accept (it goes to their command line), the interval whole
 * seconds. */
static int parse_healthcheck(XFleetOptions *x, const char *value, char **error_message) {
        _cleanup_strv_free_ char **w = strv_split(value, WHITESPACE);
        uint64_t interval = XFLEET_HEALTH_INTERVAL_DEFAULT_SEC;
        char *runtime, *container;

        if (!w)
                return -ENOMEM;
        if (strv_length(w) < 2 || strv_length(w) > 3)
                return error_message_set(error_message, EINVAL,
                                         "Healthcheck=%s is not RUNTIME CONTAINER [INTERVAL]", value);
        if (!streq(w[0], "podman") && !streq(w[0], "docker"))
                return error_message_set(error_message, EINVAL,
                                         "Healthcheck=%s: runtime '%s' is not podman or docker", value, w[0]);
        if (!isalnum((unsigned char) w[1][0]) || strlen(w[1]) > 253 ||
            w[1][strspn(w[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != 0)
                return error_message_set(error_message, EINVAL,
                                         "Healthcheck=%s: '%s' is not a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                         value, w[1]);
        if (w[2] && (parse_u64(w[2], &interval) < 0 || interval == 0 || interval > 86400))
                return error_message_set(error_message, EINVAL,
                                         "Healthcheck=%s: interval '%s' is not 1..86400 seconds", value, w[2]);
        runtime = strdup(w[0]);
        container = strdup(w[1]);
        if (!runtime || !container) {
                free(runtime);
                free(container);
                return -ENOMEM;
        }
        free_and_replace(x->health_runtime, runtime);
        free_and_replace(x->health_container, container);
        x->health_interval_sec = (unsigned) interval;
        return 0;
}

/* The last value wins, as for systemd's own settings. */
static int parse_move_after_failures(XFleetOptions *x, const char *value, char **error_message) {
        uint64_t n;

        if (parse_u64(value, &n) < 0 || n > XFLEET_MOVE_AFTER_FAILURES_MAX)
                return error_message_set(error_message, EINVAL,
                                         "MoveAfterFailures=%s is not a whole number 0..%u (0: never move)", value,
                                         XFLEET_MOVE_AFTER_FAILURES_MAX);
        x->move_after_failures = (unsigned) n;
        x->move_after_failures_set = true;
        return 0;
}

static int parse_failure_window(XFleetOptions *x, const char *value, char **error_message) {
        uint64_t usec;

        if (parse_time_span(value, &usec) < 0 || usec < USEC_PER_SEC || usec > XFLEET_FAILURE_WINDOW_MAX_USEC)
                return error_message_set(error_message, EINVAL,
                                         "FailureWindow=%s is not a time span of 1s..7d like 5min, 300 or 1h", value);
        x->failure_window_usec = usec;
        x->failure_window_set = true;
        return 0;
}

/* DependsOn=: stored in canonical form (unit_depend_format()), one line per unit: two lines for
 * one unit would ask two things of it, which compose cannot say either. */
static int parse_depends_on(XFleetOptions *x, const char *value, char **error_message) {
        _cleanup_(unit_depend_done) UnitDepend d = {};
        char *canonical;
        size_t n;
        int r;

        r = unit_depend_parse(value, &d, error_message);
        if (r < 0)
                return r;
        n = strlen(d.unit);
        STRV_FOREACH(e, x->depends_on)
                if (strneq(*e, d.unit, n) && (*e)[n] == ' ')
                        return error_message_set(error_message, EINVAL, "DependsOn=%s: %s is named twice", value, d.unit);
        canonical = unit_depend_format(&d);
        if (!canonical)
                return -ENOMEM;
        return strv_consume(&x->depends_on, canonical);
}

/* xfleet_options_add(), counting the value's bytes after expansion against *budget (if given). */
static int options_add(XFleetOptions *x, const char *name, const char *value, const char *unit_name,
                       size_t *budget, char **error_message) {
        _cleanup_free_ char *expanded = NULL;
        const XFleetOptionDef *def;
        int r;

        assert(x);
        assert(name);
        assert(value);

        def = option_lookup(name);
        if (!def)
                return strv_extendf(&x->warnings, "Unknown [X-Fleet] option '%s'", name);
        if (def->deprecated) {
                r = strv_extendf(&x->warnings, "[X-Fleet] option '%s' is deprecated", name);
                if (r < 0)
                        return r;
        }

        if (unit_name) {
                if (!unit_name_type(unit_name))
                        return error_message_set(error_message, EINVAL, "invalid unit name '%s'", unit_name);
                r = unit_name_specifier_expand(value, unit_name, &expanded);
                if (r == -E2BIG)
                        return error_message_set(error_message, EINVAL,
                                                 "[X-Fleet] %s= expands to more than %u bytes", name,
                                                 UNIT_NAME_EXPANSION_MAX);
                if (r < 0)
                        return r;
                value = expanded;
        }
        /* A unit's options stay in the leader's memory as long as the unit: bounded per unit. */
        if (budget) {
                if (strlen(value) > *budget)
                        return error_message_set(error_message, EINVAL,
                                                 "[X-Fleet] values add up to more than %u bytes", XFLEET_VALUES_MAX);
                *budget -= strlen(value);
        }
        return def->parse(x, value, error_message);
}

int xfleet_options_add(XFleetOptions *x, const char *name, const char *value, const char *unit_name,
                       char **error_message) {
        return options_add(x, name, value, unit_name, NULL, error_message);
}

int xfleet_options_parse(const UnitFile *u, const char *unit_name, XFleetOptions **ret,
                         char **error_message) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        size_t budget = XFLEET_VALUES_MAX;
        int r;

        assert(u);
        assert(ret);

        if (unit_name && !unit_name_type(unit_name))
                return error_message_set(error_message, EINVAL, "invalid unit name '%s'", unit_name);

        x = xfleet_options_new();
        if (!x)
                return -ENOMEM;

        for (size_t i = 0; i < u->n_options; i++) {
                const UnitOption *o = u->options + i;

                if (!streq(o->section, XFLEET_SECTION))
                        continue;
                r = options_add(x, o->name, o->value, unit_name, &budget, error_message);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(x);
        return 0;
}

/* Whether x sets the option at all. */
static bool options_have(const XFleetOptions *x, XFleetKey key) {
        switch (key) {
        case XFLEET_MACHINE_ID:
                return x->machine_id;
        case XFLEET_MACHINE_OF:
                return strv_length(x->machine_of) > 0;
        case XFLEET_MACHINE_METADATA:
                return strv_length(x->machine_metadata) > 0;
        case XFLEET_CONFLICTS:
                return strv_length(x->conflicts) > 0;
        case XFLEET_REPLACES:
                return strv_length(x->replaces) > 0;
        case XFLEET_GLOBAL:
                return x->global;
        case XFLEET_MACHINE_BOOT_ID:
                return false;   /* folded into machine_id by its parser */
        case XFLEET_RESERVE_CPU:
                return x->reserve.cpu_milli > 0;
        case XFLEET_RESERVE_MEMORY:
                return x->reserve.memory > 0;
        case XFLEET_RESERVE_RESOURCE:
                return x->reserve.n_extra > 0;
        case XFLEET_MAX_REPLICAS_PER_MACHINE:
                return x->max_per_machine > 0;
        case XFLEET_SPREAD_METADATA:
                return x->spread_metadata;
        case XFLEET_SECRET:
                return strv_length(x->secrets) > 0;
        case XFLEET_CONFIG:
                return strv_length(x->configs) > 0;
        case XFLEET_HEALTHCHECK:
                return x->health_runtime;
        case XFLEET_MOVE_AFTER_FAILURES:
                return x->move_after_failures_set;
        case XFLEET_FAILURE_WINDOW:
                return x->failure_window_set;
        case XFLEET_DEPENDS_ON:
                return strv_length(x->depends_on) > 0;
        default:
                assert_not_reached();
        }
}

int xfleet_options_validate(const XFleetOptions *x, const char *unit_name, char **error_message) {
        assert(x);

        STRV_FOREACH(peer, x->machine_of) {
                STRV_FOREACH(c, x->conflicts)
                        if (xfleet_glob_match(*c, *peer))
                                return error_message_set(error_message, EINVAL,
                                                 "unresolvable requirements: MachineOf peer '%s' matches "
                                                 "Conflicts pattern '%s'", *peer, *c);
                STRV_FOREACH(c, x->replaces)
                        if (xfleet_glob_match(*c, *peer))
                                return error_message_set(error_message, EINVAL,
                                                 "unresolvable requirements: MachineOf peer '%s' matches "
                                                 "Replaces pattern '%s'", *peer, *c);
                if (unit_name && streq(*peer, unit_name))
                        return error_message_set(error_message, EINVAL, "MachineOf cannot name the unit itself");
        }
        STRV_FOREACH(dep, x->depends_on)
                if (unit_name && startswith(*dep, unit_name) && (*dep)[strlen(unit_name)] == ' ')
                        return error_message_set(error_message, EINVAL, "DependsOn cannot name the unit itself");

        for (size_t i = 0; i < ELEMENTSOF(xfleet_exclusive_table); i++)
                if (options_have(x, xfleet_exclusive_table[i].a) && options_have(x, xfleet_exclusive_table[i].b))
                        return error_message_set(error_message, EINVAL, "%s cannot be used with %s",
                                         key_name(xfleet_exclusive_table[i].a), key_name(xfleet_exclusive_table[i].b));
        return 0;
}
