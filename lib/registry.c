/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "registry.h"

bool registry_machine_id_is_valid(const char *id) {
        size_t n = 0;

        if (isempty(id))
                return false;
        for (const char *p = id; *p; p++, n++) {
                if (n >= REGISTRY_MACHINE_ID_MAX)
                        return false;
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || *p == '_'))
                        return false;
        }
        return true;
}

bool registry_unit_name_is_valid(const char *name) {
        size_t n = 0;

        if (isempty(name))
                return false;
        for (const char *p = name; *p; p++, n++) {
                if (n >= REGISTRY_UNIT_NAME_MAX)
                        return false;
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr(":_.@-", *p)))
                        return false;
        }
        /* "." and ".." are no names, and would make odd etcd keys. */
        return !streq(name, ".") && !streq(name, "..");
}

bool registry_hash_is_valid(const char *hash) {
        size_t n = 0;

        if (!hash)
                return false;
        for (const char *p = hash; *p; p++, n++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return n == 40;
}

static char *key_join(const char *prefix, const char *a, const char *b, const char *c) {
        char *k;

        assert(prefix && endswith(prefix, "/"));

        if (asprintf(&k, "%s%s%s%s%s%s", prefix, a, b ? "/" : "", strempty(b), c ? "/" : "",
                     strempty(c)) < 0)
                return NULL;
        return k;
}

char *registry_machine_key(const char *prefix, const char *machine_id) {
        return key_join(prefix, "machines", machine_id, NULL);
}

char *registry_machines_prefix(const char *prefix) {
        return key_join(prefix, "machines", "", NULL);
}

char *registry_unit_key(const char *prefix, const char *unit) {
        return key_join(prefix, "units", unit, NULL);
}

char *registry_units_prefix(const char *prefix) {
        return key_join(prefix, "units", "", NULL);
}

char *registry_assignment_key(const char *prefix, const char *machine_id, const char *unit) {
        return key_join(prefix, "schedule", machine_id, unit);
}

char *registry_schedule_prefix(const char *prefix) {
        return key_join(prefix, "schedule", "", NULL);
}

char *registry_machine_schedule_prefix(const char *prefix, const char *machine_id) {
        return key_join(prefix, "schedule", machine_id, "");
}

char *registry_state_key(const char *prefix, const char *unit, const char *machine_id) {
        return key_join(prefix, "states", unit, machine_id);
}

char *registry_states_prefix(const char *prefix) {
        return key_join(prefix, "states", "", NULL);
}

char *registry_unit_states_prefix(const char *prefix, const char *unit) {
        return key_join(prefix, "states", unit, "");
}

char *registry_leader_key(const char *prefix) {
        return key_join(prefix, "engine", "leader", NULL);
}

char *registry_reason_key(const char *prefix, const char *unit) {
        return key_join(prefix, "reasons", unit, NULL);
}

char *registry_reasons_prefix(const char *prefix) {
        return key_join(prefix, "reasons", "", NULL);
}

char *registry_cordon_key(const char *prefix, const char *machine_id) {
        return key_join(prefix, "cordons", machine_id, NULL);
}

char *registry_cordons_prefix(const char *prefix) {
        return key_join(prefix, "cordons", "", NULL);
}

static const char *const registry_cordon_table[_REGISTRY_CORDON_MAX] = {
        [REGISTRY_CORDON_NONE] = "none",
        [REGISTRY_CORDON_CORDONED] = "cordoned",
        [REGISTRY_CORDON_DRAINED] = "drained",
};

const char *registry_cordon_to_string(RegistryCordon c) {
        if (c < 0 || c >= _REGISTRY_CORDON_MAX)
                return NULL;
        return registry_cordon_table[c];
}

RegistryCordon registry_cordon_from_string(const char *s, size_t size) {
        if (!s)
                return _REGISTRY_CORDON_INVALID;
        for (RegistryCordon i = 0; i < _REGISTRY_CORDON_MAX; i++)
                if (strlen(registry_cordon_table[i]) == size && memcmp(registry_cordon_table[i], s, size) == 0)
                        return i;
        return _REGISTRY_CORDON_INVALID;
}

char *registry_name_key(const char *prefix, const char *unit, const char *machine_id) {
        return key_join(prefix, "names", unit, machine_id);
}

char *registry_names_prefix(const char *prefix) {
        return key_join(prefix, "names", "", NULL);
}

char *registry_names_applied_key(const char *prefix, const char *machine_id) {
        return key_join(prefix, "names-applied", machine_id, NULL);
}

char *registry_names_applied_prefix(const char *prefix) {
        return key_join(prefix, "names-applied", "", NULL);
}

const char *registry_names_applied_key_machine(const char *prefix, const char *key) {
        const char *rest;

        assert(prefix);

        rest = key ? startswith(key, prefix) : NULL;
        rest = rest ? startswith(rest, "names-applied/") : NULL;
        return rest && registry_machine_id_is_valid(rest) ? rest : NULL;
}

/* Split "x/y" (two == true) or "x" (two == false) into validated, malloc'd parts. */
static int key_split(const char *rest, bool two, bool (*valid_a)(const char *), bool (*valid_b)(const char *),
                     char **ret_a, char **ret_b) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        const char *slash;

        slash = strchr(rest, '/');
        if (two != !!slash)
                return -EINVAL;

        a = two ? strndup(rest, slash - rest) : strdup(rest);
        if (!a)
                return -ENOMEM;
        if (!valid_a(a))
                return -EINVAL;
        if (two) {
                b = strdup(slash + 1);
                if (!b)
                        return -ENOMEM;
                if (!valid_b(b))
                        return -EINVAL;
        }

        if (ret_a)
                *ret_a = TAKE_PTR(a);
        if (ret_b)
                *ret_b = TAKE_PTR(b);
        return 0;
}

char *registry_subnet_key(const char *prefix, const char *subnet_name) {
        return key_join(prefix, "network", "subnets", subnet_name);
}

char *registry_subnets_prefix(const char *prefix) {
        return key_join(prefix, "network", "subnets", "");
}

const char *registry_subnet_key_name(const char *prefix, const char *key) {
        const char *rest;

        assert(prefix);

        rest = key ? startswith(key, prefix) : NULL;
        rest = rest ? startswith(rest, "network/subnets/") : NULL;
        return isempty(rest) || strchr(rest, '/') ? NULL : rest;
}

int registry_parse_key(const char *prefix, const char *key, char **ret_a, char **ret_b) {
        const char *rest, *p;
        int r;

        assert(prefix);

        if (!key)
                return -EINVAL;
        rest = startswith(key, prefix);
        if (!rest)
                return -EINVAL;

        if ((p = startswith(rest, "machines/"))) {
                r = key_split(p, false, registry_machine_id_is_valid, NULL, ret_a, NULL);
                return r < 0 ? r : REGISTRY_KEY_MACHINE;
        }
        if ((p = startswith(rest, "units/"))) {
                r = key_split(p, false, registry_unit_name_is_valid, NULL, ret_a, NULL);
                return r < 0 ? r : REGISTRY_KEY_UNIT;
        }
        if ((p = startswith(rest, "schedule/"))) {
                r = key_split(p, true, registry_machine_id_is_valid, registry_unit_name_is_valid, ret_a, ret_b);
                return r < 0 ? r : REGISTRY_KEY_ASSIGNMENT;
        }
        if ((p = startswith(rest, "states/"))) {
                r = key_split(p, true, registry_unit_name_is_valid, registry_machine_id_is_valid, ret_a, ret_b);
                return r < 0 ? r : REGISTRY_KEY_STATE;
        }
        if ((p = startswith(rest, "reasons/"))) {
                r = key_split(p, false, registry_unit_name_is_valid, NULL, ret_a, NULL);
                return r < 0 ? r : REGISTRY_KEY_REASON;
        }
        if ((p = startswith(rest, "cordons/"))) {
                r = key_split(p, false, registry_machine_id_is_valid, NULL, ret_a, NULL);
                return r < 0 ? r : REGISTRY_KEY_CORDON;
        }
        if ((p = startswith(rest, "names/"))) {
                r = key_split(p, true, registry_unit_name_is_valid, registry_machine_id_is_valid, ret_a, ret_b);
                return r < 0 ? r : REGISTRY_KEY_NAME;
        }
        if (streq(rest, "engine/leader"))
                return REGISTRY_KEY_LEADER;

        return -EINVAL;
}
