/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>

#include "registry.h"
#include "strv.h"
#include "xfleet.h"

/* A decoded string is usable if it has no embedded NUL (jansson allows "\u0000"). */
static bool text_ok(const char *s, size_t len) {
        return s && strlen(s) == len;
}

static bool opt_text_ok(const char *s, size_t len) {
        return !s || strlen(s) == len;
}

static bool word_ok(const char *s, size_t len) {
        return text_ok(s, len) && len > 0 && len <= 64 && !strpbrk(s, WHITESPACE);
}

static int dump(json_t *j, char **ret) {
        char *s;

        if (!j)
                return -ENOMEM;
        s = json_dumps(j, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* json_string() fails on invalid UTF-8 as well as on OOM; either way the record cannot be stored. */
static int set_str(json_t *o, const char *key, const char *value) {
        if (!value)
                return 0;
        return json_object_set_new(o, key, json_string(value)) < 0 ? -EINVAL : 0;
}

/* Load a record (a JSON object, no duplicate keys) and unpack it strictly with fmt: an unknown key,
 * a missing required one or a wrong type is -EBADMSG. The unpacked strings are borrowed from
 * *ret_root, which the caller releases. */
static int load_record(const char *json, size_t size, json_t **ret_root, const char *fmt, ...) {
        json_auto_t *j = NULL;
        va_list ap;
        int r;

        if (!json)
                return -EBADMSG;
        j = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
        if (!j || !json_is_object(j))
                return -EBADMSG;

        va_start(ap, fmt);
        r = json_vunpack_ex(j, NULL, JSON_STRICT, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -EBADMSG;

        *ret_root = TAKE_PTR(j);
        return 0;
}

static int dup_opt(const char *s, char **ret) {
        char *c = NULL;

        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        *ret = c;
        return 0;
}

/* ---- machine ---- */

static bool metadata_item_ok(const char *s) {
        const char *eq = strchr(s, '=');

        return eq && eq != s && !strpbrk(s, "\n\r");
}

/* Amounts go out as JSON integers, which jansson keeps as int64: more than that is refused. */
static int capacity_to_json(const Resources *c, json_t **ret) {
        json_auto_t *o = NULL, *extra = NULL;

        if (c->cpu_milli > INT64_MAX || c->memory > INT64_MAX)
                return -EINVAL;
        extra = json_object();
        if (!extra)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_extra; i++) {
                if (c->extra[i].amount > INT64_MAX)
                        return -EINVAL;
                if (json_object_set_new(extra, c->extra[i].name, json_integer((json_int_t) c->extra[i].amount)) < 0)
                        return -ENOMEM;
        }
        o = json_pack("{s:I, s:I, s:O}", "cpu_milli", (json_int_t) c->cpu_milli, "memory", (json_int_t) c->memory,
                      "resources", extra);
        if (!o)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static int capacity_from_json(json_t *o, Resources *ret) {
        json_int_t cpu = -1, mem = -1;
        json_t *extra = NULL, *v;
        const char *name;
        Resources c = {};
        int r;

        if (json_unpack_ex(o, NULL, JSON_STRICT, "{s:I, s:I, s?o}", "cpu_milli", &cpu, "memory", &mem,
                           "resources", &extra) < 0 || cpu < 0 || mem < 0 || (extra && !json_is_object(extra)))
                return -EBADMSG;
        c.cpu_milli = (uint64_t) cpu;
        c.memory = (uint64_t) mem;
        json_object_foreach(extra, name, v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || !resource_name_is_valid(name)) {
                        resources_done(&c);
                        return -EBADMSG;
                }
                r = resources_add_extra(&c, name, (uint64_t) json_integer_value(v));
                if (r < 0) {
                        resources_done(&c);
                        return r == -ENOMEM ? r : -EBADMSG;
                }
        }
        *ret = c;
        return 0;
}

int registry_machine_to_json(const RegistryMachine *m, char **ret) {
        _cleanup_strv_free_ char **sorted = NULL;
        json_auto_t *o = NULL, *md = NULL, *cap = NULL;
        int r;

        assert(m);
        assert(ret);

        if (!registry_machine_id_is_valid(m->id) || isempty(m->version) || m->agent_ttl_sec <= 0)
                return -EINVAL;

        md = json_array();
        if (!md)
                return -ENOMEM;
        if (m->metadata) {
                sorted = strv_copy(m->metadata);
                if (!sorted)
                        return -ENOMEM;
                strv_sort(sorted);
        }
        STRV_FOREACH(s, sorted) {
                if (!metadata_item_ok(*s))
                        return -EINVAL;
                if (json_array_append_new(md, json_string(*s)) < 0)
                        return -EINVAL;
        }

        o = json_object();
        if (!o)
                return -ENOMEM;
        if (set_str(o, "id", m->id) < 0 || set_str(o, "public_ip", m->public_ip) < 0 ||
            set_str(o, "hostname", m->hostname) < 0)
                return -EINVAL;
        if (json_object_set(o, "metadata", md) < 0)
                return -ENOMEM;
        if (set_str(o, "version", m->version) < 0)
                return -EINVAL;
        if (json_object_set_new(o, "agent_ttl_sec", json_integer(m->agent_ttl_sec)) < 0)
                return -ENOMEM;
        if (m->has_capacity) {
                r = capacity_to_json(&m->capacity, &cap);
                if (r < 0)
                        return r;
                if (json_object_set(o, "capacity", cap) < 0)
                        return -ENOMEM;
        }

        return dump(o, ret);
}

int registry_machine_from_json(const char *json, size_t size, RegistryMachine **ret) {
        _cleanup_(registry_machine_freep) RegistryMachine *m = NULL;
        const char *id = NULL, *ip = NULL, *host = NULL, *version = NULL;
        size_t id_len = 0, ip_len = 0, host_len = 0, version_len = 0;
        json_auto_t *root = NULL;
        json_t *md = NULL, *item, *cap = NULL;
        json_int_t ttl = 0;
        size_t i;
        int r;

        assert(ret);

        /* "capacity" is optional: records of older fleetd have none. */
        r = load_record(json, size, &root, "{s:s%, s?s%, s?s%, s:o, s:s%, s:I, s?o}",
                        "id", &id, &id_len,
                        "public_ip", &ip, &ip_len,
                        "hostname", &host, &host_len,
                        "metadata", &md,
                        "version", &version, &version_len,
                        "agent_ttl_sec", &ttl,
                        "capacity", &cap);
        if (r < 0)
                return r;

        if (!text_ok(id, id_len) || !registry_machine_id_is_valid(id) ||
            !opt_text_ok(ip, ip_len) || !opt_text_ok(host, host_len) ||
            !text_ok(version, version_len) || version_len == 0 ||
            ttl <= 0 || !json_is_array(md))
                return -EBADMSG;

        m = new0(RegistryMachine, 1);
        if (!m)
                return -ENOMEM;
        m->agent_ttl_sec = ttl;
        m->id = strdup(id);
        m->version = strdup(version);
        if (!m->id || !m->version)
                return -ENOMEM;
        if (dup_opt(ip, &m->public_ip) < 0 || dup_opt(host, &m->hostname) < 0)
                return -ENOMEM;
        if (cap) {
                if (!json_is_object(cap))
                        return -EBADMSG;
                r = capacity_from_json(cap, &m->capacity);
                if (r < 0)
                        return r;
                m->has_capacity = true;
        }

        json_array_foreach(md, i, item) {
                const char *s = json_string_value(item);

                if (!s || !text_ok(s, json_string_length(item)) || !metadata_item_ok(s))
                        return -EBADMSG;
                r = strv_extend(&m->metadata, s);
                if (r < 0)
                        return r;
        }
        strv_sort(m->metadata);

        *ret = TAKE_PTR(m);
        return 0;
}

RegistryMachine *registry_machine_free(RegistryMachine *m) {
        if (!m)
                return NULL;
        free(m->id);
        free(m->public_ip);
        free(m->hostname);
        strv_free(m->metadata);
        free(m->version);
        resources_done(&m->capacity);
        return mfree(m);
}

/* ---- unit and assignment: the same shape, with different key names for the name ---- */

/* global < 0: no "global" key (a unit record); else the assignment's flag. */
static int body_to_json(const char *name_key, const char *name, const char *hash, const char *raw,
                        UnitDesiredState desired, int global, char **ret) {
        json_auto_t *o = NULL;
        const char *d;

        assert(ret);

        d = unit_desired_state_to_string(desired);
        if (!d || !registry_unit_name_is_valid(name) || !registry_hash_is_valid(hash) || !raw ||
            strlen(raw) > REGISTRY_RAW_MAX)
                return -EINVAL;

        o = json_pack("{s:s, s:s, s:s, s:s}", name_key, name, "hash", hash, "raw", raw, "desired", d);
        if (!o)
                /* json_pack also fails on invalid UTF-8 */
                return -EINVAL;
        if (global >= 0 && json_object_set_new(o, "global", json_boolean(global)) < 0)
                return -ENOMEM;
        return dump(o, ret);
}

/* ret_global NULL: a unit record, which has no "global" key. Else *ret_global is the assignment's
 * flag, or -1 if the record has none (written before the flag existed). */
static int body_from_json(const char *json, size_t size, const char *name_key, char **ret_name,
                          char **ret_hash, char **ret_raw, UnitDesiredState *ret_desired, int *ret_global) {
        _cleanup_free_ char *n = NULL, *h = NULL, *w = NULL;
        const char *name = NULL, *hash = NULL, *raw = NULL, *desired = NULL;
        size_t name_len = 0, hash_len = 0, raw_len = 0, desired_len = 0;
        json_auto_t *root = NULL;
        json_t *global = NULL;
        UnitDesiredState d;
        int r;

        r = load_record(json, size, &root, ret_global ? "{s:s%, s:s%, s:s%, s:s%, s?o}" : "{s:s%, s:s%, s:s%, s:s%}",
                        name_key, &name, &name_len,
                        "hash", &hash, &hash_len,
                        "raw", &raw, &raw_len,
                        "desired", &desired, &desired_len,
                        "global", &global);
        if (r < 0)
                return r;
        if (global && !json_is_boolean(global))
                return -EBADMSG;

        if (!text_ok(name, name_len) || !registry_unit_name_is_valid(name) ||
            !text_ok(hash, hash_len) || !registry_hash_is_valid(hash) ||
            !text_ok(raw, raw_len) || raw_len > REGISTRY_RAW_MAX ||
            !text_ok(desired, desired_len))
                return -EBADMSG;
        d = unit_desired_state_from_string(desired);
        if (d < 0)
                return -EBADMSG;

        n = strdup(name);
        h = strdup(hash);
        w = strdup(raw);
        if (!n || !h || !w)
                return -ENOMEM;

        *ret_name = TAKE_PTR(n);
        *ret_hash = TAKE_PTR(h);
        *ret_raw = TAKE_PTR(w);
        *ret_desired = d;
        if (ret_global)
                *ret_global = global ? json_is_true(global) : -1;
        return 0;
}

int registry_unit_to_json(const RegistryUnit *u, char **ret) {
        assert(u);
        return body_to_json("name", u->name, u->hash, u->raw, u->desired, -1, ret);
}

int registry_unit_from_json(const char *json, size_t size, RegistryUnit **ret) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        int r;

        assert(ret);

        u = new0(RegistryUnit, 1);
        if (!u)
                return -ENOMEM;
        r = body_from_json(json, size, "name", &u->name, &u->hash, &u->raw, &u->desired, NULL);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(u);
        return 0;
}

RegistryUnit *registry_unit_free(RegistryUnit *u) {
        if (!u)
                return NULL;
        free(u->name);
        free(u->hash);
        free(u->raw);
        return mfree(u);
}

int registry_assignment_to_json(const RegistryAssignment *a, char **ret) {
        assert(a);

        /* Only placed units are assigned: an inactive unit has no assignment. */
        if (a->desired == UNIT_DESIRED_INACTIVE)
                return -EINVAL;
        return body_to_json("unit", a->unit, a->hash, a->raw, a->desired, a->global, ret);
}

/* What a record without the flag meant: the agent read Global from the body, and a body that did
 * not parse was not global. */
static int assignment_global_from_body(const RegistryAssignment *a, bool *ret) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_(unit_file_freep) UnitFile *f = NULL;
        int r;

        r = unit_file_parse(a->raw, strlen(a->raw), &f, NULL);
        if (r >= 0)
                r = xfleet_options_parse(f, a->unit, &x, NULL);
        if (r == -ENOMEM)
                return r;
        *ret = r >= 0 && x->global;
        return 0;
}

int registry_assignment_from_json(const char *json, size_t size, RegistryAssignment **ret) {
        _cleanup_(registry_assignment_freep) RegistryAssignment *a = NULL;
        int global, r;

        assert(ret);

        a = new0(RegistryAssignment, 1);
        if (!a)
                return -ENOMEM;
        r = body_from_json(json, size, "unit", &a->unit, &a->hash, &a->raw, &a->desired, &global);
        if (r < 0)
                return r;
        if (a->desired == UNIT_DESIRED_INACTIVE)
                return -EBADMSG;
        if (global < 0) {
                r = assignment_global_from_body(a, &a->global);
                if (r < 0)
                        return r;
        } else
                a->global = global;

        *ret = TAKE_PTR(a);
        return 0;
}

RegistryAssignment *registry_assignment_free(RegistryAssignment *a) {
        if (!a)
                return NULL;
        free(a->unit);
        free(a->hash);
        free(a->raw);
        return mfree(a);
}

/* ---- unit state ---- */

int registry_unit_state_to_json(const RegistryUnitState *s, char **ret) {
        json_auto_t *o = NULL;

        assert(s);
        assert(ret);

        if (!registry_unit_name_is_valid(s->unit) || !registry_machine_id_is_valid(s->machine_id) ||
            (s->hash && !registry_hash_is_valid(s->hash)) ||
            !s->load_state || !s->active_state || !s->sub_state ||
            !word_ok(s->load_state, strlen(s->load_state)) ||
            !word_ok(s->active_state, strlen(s->active_state)) ||
            !word_ok(s->sub_state, strlen(s->sub_state)) ||
            (s->health != UNIT_HEALTH_NONE && !unit_health_to_string(s->health)))
                return -EINVAL;

        o = json_object();
        if (!o)
                return -ENOMEM;
        if (set_str(o, "unit", s->unit) < 0 || set_str(o, "machine_id", s->machine_id) < 0 ||
            set_str(o, "hash", s->hash) < 0 || set_str(o, "load_state", s->load_state) < 0 ||
            set_str(o, "active_state", s->active_state) < 0 || set_str(o, "sub_state", s->sub_state) < 0 ||
            set_str(o, "reason", s->reason) < 0 ||
            set_str(o, "health", unit_health_to_string(s->health)) < 0 ||
            set_str(o, "gave_up", s->gave_up) < 0)
                return -EINVAL;
        if (s->failures > 0 && json_object_set_new(o, "failures", json_integer(s->failures)) < 0)
                return -ENOMEM;

        return dump(o, ret);
}

int registry_unit_state_from_json(const char *json, size_t size, RegistryUnitState **ret) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *s = NULL;
        const char *unit = NULL, *mid = NULL, *hash = NULL, *load = NULL, *active = NULL, *sub = NULL,
                *reason = NULL, *health = NULL, *gave_up = NULL;
        size_t unit_len = 0, mid_len = 0, hash_len = 0, load_len = 0, active_len = 0, sub_len = 0,
                reason_len = 0, health_len = 0, gave_up_len = 0;
        UnitHealth h = UNIT_HEALTH_NONE;
        json_int_t failures = 0;
        json_auto_t *root = NULL;
        int r;

        assert(ret);

        r = load_record(json, size, &root, "{s:s%, s:s%, s?s%, s:s%, s:s%, s:s%, s?s%, s?s%, s?s%, s?I}",
                        "unit", &unit, &unit_len,
                        "machine_id", &mid, &mid_len,
                        "hash", &hash, &hash_len,
                        "load_state", &load, &load_len,
                        "active_state", &active, &active_len,
                        "sub_state", &sub, &sub_len,
                        "reason", &reason, &reason_len,
                        "health", &health, &health_len,
                        "gave_up", &gave_up, &gave_up_len,
                        "failures", &failures);
        if (r < 0)
                return r;
        if (failures < 0 || failures > UINT32_MAX)
                return -EBADMSG;

        if (health) {
                if (!word_ok(health, health_len))
                        return -EBADMSG;
                h = unit_health_from_string(health);
                if (h < 0)
                        return -EBADMSG;
        }

        if (!text_ok(unit, unit_len) || !registry_unit_name_is_valid(unit) ||
            !text_ok(mid, mid_len) || !registry_machine_id_is_valid(mid) ||
            (hash && (!text_ok(hash, hash_len) || !registry_hash_is_valid(hash))) ||
            !word_ok(load, load_len) || !word_ok(active, active_len) || !word_ok(sub, sub_len) ||
            !opt_text_ok(reason, reason_len) || !opt_text_ok(gave_up, gave_up_len))
                return -EBADMSG;

        s = new0(RegistryUnitState, 1);
        if (!s)
                return -ENOMEM;
        s->unit = strdup(unit);
        s->machine_id = strdup(mid);
        s->load_state = strdup(load);
        s->active_state = strdup(active);
        s->sub_state = strdup(sub);
        if (!s->unit || !s->machine_id || !s->load_state || !s->active_state || !s->sub_state ||
            dup_opt(hash, &s->hash) < 0 || dup_opt(reason, &s->reason) < 0 || dup_opt(gave_up, &s->gave_up) < 0)
                return -ENOMEM;
        s->health = h;
        s->failures = (unsigned) failures;

        *ret = TAKE_PTR(s);
        return 0;
}

bool registry_unit_state_is_refused(const RegistryUnitState *s) {
        return s && streq_ptr(s->load_state, REGISTRY_LOAD_REFUSED);
}

RegistryUnitState *registry_unit_state_free(RegistryUnitState *s) {
        if (!s)
                return NULL;
        free(s->unit);
        free(s->machine_id);
        free(s->hash);
        free(s->load_state);
        free(s->active_state);
        free(s->sub_state);
        free(s->reason);
        free(s->gave_up);
        return mfree(s);
}

/* ---- leader ---- */

int registry_leader_to_json(const RegistryLeader *l, char **ret) {
        json_auto_t *o = NULL;

        assert(l);
        assert(ret);

        if (!registry_machine_id_is_valid(l->machine_id) || isempty(l->version))
                return -EINVAL;

        o = json_pack("{s:s, s:s}", "machine_id", l->machine_id, "version", l->version);
        if (!o)
                return -EINVAL;
        return dump(o, ret);
}

int registry_leader_from_json(const char *json, size_t size, RegistryLeader **ret) {
        _cleanup_(registry_leader_freep) RegistryLeader *l = NULL;
        const char *mid = NULL, *version = NULL;
        size_t mid_len = 0, version_len = 0;
        json_auto_t *root = NULL;
        int r;

        assert(ret);

        r = load_record(json, size, &root, "{s:s%, s:s%}",
                        "machine_id", &mid, &mid_len,
                        "version", &version, &version_len);
        if (r < 0)
                return r;
        if (!text_ok(mid, mid_len) || !registry_machine_id_is_valid(mid) ||
            !text_ok(version, version_len) || version_len == 0)
                return -EBADMSG;

        l = new0(RegistryLeader, 1);
        if (!l)
                return -ENOMEM;
        l->machine_id = strdup(mid);
        l->version = strdup(version);
        if (!l->machine_id || !l->version)
                return -ENOMEM;

        *ret = TAKE_PTR(l);
        return 0;
}

RegistryLeader *registry_leader_free(RegistryLeader *l) {
        if (!l)
                return NULL;
        free(l->machine_id);
        free(l->version);
        return mfree(l);
}

bool registry_mac_is_valid(const char *s) {
        if (!s || strlen(s) != 17)
                return false;
        for (int i = 0; i < 17; i++) {
                char c = s[i];

                if (i % 3 == 2) {
                        if (c != ':')
                                return false;
                } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        return true;
}

static bool vni_ok(json_int_t vni) {
        return vni >= 1 && vni <= 0xffffff;
}

int registry_subnet_to_json(const RegistrySubnet *s, char **ret) {
        json_auto_t *o = NULL;

        assert(s);
        assert(ret);

        if (!registry_machine_id_is_valid(s->machine_id) || isempty(s->public_ip) ||
            !registry_mac_is_valid(s->vtep_mac) || !vni_ok(s->vni))
                return -EINVAL;

        o = json_pack("{s:s, s:s, s:s, s:I}", "machine_id", s->machine_id, "public_ip", s->public_ip,
                      "vtep_mac", s->vtep_mac, "vni", (json_int_t) s->vni);
        if (!o)
                return -EINVAL;
        return dump(o, ret);
}

int registry_subnet_from_json(const char *json, size_t size, RegistrySubnet **ret) {
        _cleanup_(registry_subnet_freep) RegistrySubnet *s = NULL;
        const char *mid = NULL, *ip = NULL, *mac = NULL;
        size_t mid_len = 0, ip_len = 0, mac_len = 0;
        json_auto_t *root = NULL;
        json_int_t vni = 0;
        int r;

        assert(ret);

        r = load_record(json, size, &root, "{s:s%, s:s%, s:s%, s:I}",
                        "machine_id", &mid, &mid_len,
                        "public_ip", &ip, &ip_len,
                        "vtep_mac", &mac, &mac_len,
                        "vni", &vni);
        if (r < 0)
                return r;
        if (!text_ok(mid, mid_len) || !registry_machine_id_is_valid(mid) || !word_ok(ip, ip_len) ||
            !text_ok(mac, mac_len) || !registry_mac_is_valid(mac) || !vni_ok(vni))
                return -EBADMSG;

        s = new0(RegistrySubnet, 1);
        if (!s)
                return -ENOMEM;
        s->machine_id = strdup(mid);
        s->public_ip = strdup(ip);
        s->vtep_mac = strdup(mac);
        if (!s->machine_id || !s->public_ip || !s->vtep_mac)
                return -ENOMEM;
        s->vni = (uint32_t) vni;

        *ret = TAKE_PTR(s);
        return 0;
}

RegistrySubnet *registry_subnet_free(RegistrySubnet *s) {
        if (!s)
                return NULL;
        free(s->machine_id);
        free(s->public_ip);
        free(s->vtep_mac);
        return mfree(s);
}

/* ---- name ---- */

/* A DNS label or name part: what dnsmasq and resolvers take without question. */
static bool name_word_ok(const char *s) {
        return !isempty(s) && strlen(s) <= 253 &&
                s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == 0;
}

static bool ipv4_ok(const char *s) {
        struct in_addr a;

        return s && inet_pton(AF_INET, s, &a) == 1;
}

static int words_to_json(char *const *l, json_t **ret) {
        _cleanup_strv_free_ char **sorted = NULL;
        json_auto_t *arr = NULL;

        arr = json_array();
        sorted = strv_copy(l);
        if (!arr || (l && !sorted))
                return -ENOMEM;
        strv_uniq(strv_sort(sorted));
        STRV_FOREACH(w, sorted) {
                if (!name_word_ok(*w))
                        return -EINVAL;
                if (json_array_append_new(arr, json_string(*w)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(arr);
        return 0;
}

static int words_from_json(json_t *arr, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_t *item;
        size_t i;
        int r;

        if (!json_is_array(arr))
                return -EBADMSG;
        json_array_foreach(arr, i, item) {
                const char *s = json_string_value(item);

                if (!s || !text_ok(s, json_string_length(item)) || !name_word_ok(s))
                        return -EBADMSG;
                r = strv_extend(&l, s);
                if (r < 0)
                        return r;
        }
        *ret = strv_sort(TAKE_PTR(l));
        return 0;
}

int registry_name_to_json(const RegistryName *n, char **ret) {
        json_auto_t *o = NULL, *nets = NULL, *aliases = NULL;
        int r;

        assert(n);
        assert(ret);

        if (!registry_unit_name_is_valid(n->unit) || !registry_machine_id_is_valid(n->machine_id) ||
            !name_word_ok(n->project) || !name_word_ok(n->service) || !ipv4_ok(n->address) ||
            (n->replica && !name_word_ok(n->replica)) || (n->hostname && !name_word_ok(n->hostname)))
                return -EINVAL;
        r = words_to_json(n->networks, &nets);
        if (r < 0)
                return r;
        r = words_to_json(n->aliases, &aliases);
        if (r < 0)
                return r;

        o = json_object();
        if (!o)
                return -ENOMEM;
        if (set_str(o, "unit", n->unit) < 0 || set_str(o, "machine_id", n->machine_id) < 0 ||
            set_str(o, "project", n->project) < 0 || set_str(o, "service", n->service) < 0 ||
            set_str(o, "replica", n->replica) < 0 || set_str(o, "address", n->address) < 0 ||
            json_object_set(o, "networks", nets) < 0 || json_object_set(o, "aliases", aliases) < 0 ||
            set_str(o, "hostname", n->hostname) < 0)
                return -ENOMEM;
        return dump(o, ret);
}

int registry_name_from_json(const char *json, size_t size, RegistryName **ret) {
        _cleanup_(registry_name_freep) RegistryName *n = NULL;
        const char *unit = NULL, *machine = NULL, *project = NULL, *service = NULL, *replica = NULL,
                *address = NULL, *hostname = NULL;
        size_t unit_len = 0, machine_len = 0, project_len = 0, service_len = 0, replica_len = 0,
                address_len = 0, hostname_len = 0;
        json_auto_t *root = NULL;
        json_t *nets = NULL, *aliases = NULL;
        int r;

        assert(ret);

        r = load_record(json, size, &root, "{s:s%, s:s%, s:s%, s:s%, s?s%, s:s%, s:o, s:o, s?s%}",
                        "unit", &unit, &unit_len,
                        "machine_id", &machine, &machine_len,
                        "project", &project, &project_len,
                        "service", &service, &service_len,
                        "replica", &replica, &replica_len,
                        "address", &address, &address_len,
                        "networks", &nets,
                        "aliases", &aliases,
                        "hostname", &hostname, &hostname_len);
        if (r < 0)
                return r;
        if (!text_ok(unit, unit_len) || !registry_unit_name_is_valid(unit) ||
            !text_ok(machine, machine_len) || !registry_machine_id_is_valid(machine) ||
            !text_ok(project, project_len) || !name_word_ok(project) ||
            !text_ok(service, service_len) || !name_word_ok(service) ||
            !opt_text_ok(replica, replica_len) || (replica && !name_word_ok(replica)) ||
            !text_ok(address, address_len) || !ipv4_ok(address) ||
            !opt_text_ok(hostname, hostname_len) || (hostname && !name_word_ok(hostname)))
                return -EBADMSG;

        n = new0(RegistryName, 1);
        if (!n)
                return -ENOMEM;
        n->unit = strdup(unit);
        n->machine_id = strdup(machine);
        n->project = strdup(project);
        n->service = strdup(service);
        n->address = strdup(address);
        if (!n->unit || !n->machine_id || !n->project || !n->service || !n->address ||
            dup_opt(replica, &n->replica) < 0 || dup_opt(hostname, &n->hostname) < 0)
                return -ENOMEM;
        r = words_from_json(nets, &n->networks);
        if (r < 0)
                return r;
        r = words_from_json(aliases, &n->aliases);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(n);
        return 0;
}

RegistryName *registry_name_free(RegistryName *n) {
        if (!n)
                return NULL;
        free(n->unit);
        free(n->machine_id);
        free(n->project);
        free(n->service);
        free(n->replica);
        free(n->address);
        strv_free(n->networks);
        strv_free(n->aliases);
        free(n->hostname);
        return mfree(n);
}
