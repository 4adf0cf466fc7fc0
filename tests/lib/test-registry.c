/* SPDX-License-Identifier: Apache-2.0 */

#include "registry.h"
#include "strv.h"
#include "tap.h"

#define P REGISTRY_DEFAULT_PREFIX
#define MID "0123456789abcdef0123456789abcdef"
#define HASH "da39a3ee5e6b4b0d3255bfef95601890afd80709"

static void test_keys(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *f = NULL, *g = NULL;

        a = registry_machine_key(P, MID);
        is_str(a, P "machines/" MID, "machine key");
        b = registry_assignment_key(P, MID, "web@1.service");
        is_str(b, P "schedule/" MID "/web@1.service", "assignment key");
        c = registry_state_key(P, "web@1.service", MID);
        is_str(c, P "states/web@1.service/" MID, "state key");
        d = registry_machine_schedule_prefix(P, MID);
        is_str(d, P "schedule/" MID "/", "machine schedule prefix ends in a slash");
        e = registry_unit_states_prefix("/x/", "a.service");
        is_str(e, "/x/states/a.service/", "unit states prefix with another prefix");
        f = registry_leader_key(P);
        is_str(f, P "engine/leader", "leader key");
        g = registry_reasons_prefix(P);
        is_str(g, P "reasons/", "reasons prefix");
}

static void test_key_round_trip(void) {
        static const struct {
                char *(*key2)(const char *, const char *, const char *);
                const char *x, *y;
                RegistryKeyType type;
        } cases[] = {
                { registry_assignment_key, MID, "a.service", REGISTRY_KEY_ASSIGNMENT },
                { registry_state_key, "b@x.service", MID, REGISTRY_KEY_STATE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *k = cases[i].key2(P, cases[i].x, cases[i].y), *a = NULL, *b = NULL;

                is_int(registry_parse_key(P, k, &a, &b), cases[i].type, "parse %s", k);
                is_str(a, cases[i].x, "first part of %s", k);
                is_str(b, cases[i].y, "second part of %s", k);
        }

        _cleanup_free_ char *m = registry_machine_key(P, MID), *u = registry_unit_key(P, "c.socket");
        _cleanup_free_ char *r = registry_reason_key(P, "d.service"), *l = registry_leader_key(P);
        _cleanup_free_ char *ma = NULL, *ua = NULL, *ra = NULL;

        is_int(registry_parse_key(P, m, &ma, NULL), REGISTRY_KEY_MACHINE, "parse machine key");
        is_str(ma, MID, "machine id from the key");
        is_int(registry_parse_key(P, u, &ua, NULL), REGISTRY_KEY_UNIT, "parse unit key");
        is_str(ua, "c.socket", "unit from the key");
        is_int(registry_parse_key(P, r, &ra, NULL), REGISTRY_KEY_REASON, "parse reason key");
        is_str(ra, "d.service", "unit from the reason key");
        is_int(registry_parse_key(P, l, NULL, NULL), REGISTRY_KEY_LEADER, "parse leader key");

        _cleanup_free_ char *c = registry_cordon_key(P, MID), *cp = registry_cordons_prefix(P), *ca = NULL;

        is_str(cp, P "cordons/", "cordons prefix");
        is_int(registry_parse_key(P, c, &ca, NULL), REGISTRY_KEY_CORDON, "parse cordon key");
        is_str(ca, MID, "machine id from the cordon key");
        is_int(registry_parse_key(P, P "cordons/a/b", NULL, NULL), -EINVAL, "a cordon key has one part");
        is_int(registry_cordon_from_string("drained", 7), REGISTRY_CORDON_DRAINED, "\"drained\" parses");
        is_int(registry_cordon_from_string("cordonedx", 8), REGISTRY_CORDON_CORDONED, "the value's size counts, not a NUL");
        is_int(registry_cordon_from_string("cordon", 6), _REGISTRY_CORDON_INVALID, "a prefix is no value");
        is_int(registry_cordon_from_string("", 0), _REGISTRY_CORDON_INVALID, "empty is no value");
        for (RegistryCordon i = 0; i < _REGISTRY_CORDON_MAX; i++)
                is_int(registry_cordon_from_string(registry_cordon_to_string(i), strlen(registry_cordon_to_string(i))),
                       i, "cordon %s round trip", registry_cordon_to_string(i));
        ok(!registry_cordon_to_string(_REGISTRY_CORDON_MAX), "no string for an invalid mode");
}

static void test_key_rejects(void) {
        static const char *const bad[] = {
                "/other/machines/" MID,                 /* outside the prefix */
                P "machines/",                          /* empty id */
                P "machines/" MID "/object",            /* fleet v2's shape */
                P "units/",
                P "units/a/b.service",
                P "units/a b.service",
                P "units/..",
                P "schedule/" MID,                      /* no unit */
                P "schedule/" MID "/",
                P "schedule/" MID "/a.service/x",
                P "schedule//a.service",
                P "states/a.service",
                P "states/a.service/" MID "/x",
                P "states/a.service/bad!id",
                P "engine/leader/x",
                P "engine/",
                P "reasons/a/b",
                P "job/a.service/object",
                P,
                "",
        };
        char *a = (char *) "untouched";

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                is_int(registry_parse_key(P, bad[i], &a, NULL), -EINVAL, "reject key '%s'", bad[i]);
        is_str(a, "untouched", "ret_a is not written on failure");
        is_int(registry_parse_key(P, NULL, NULL, NULL), -EINVAL, "reject a NULL key");

        _cleanup_free_ char *long_unit = NULL, *k = NULL;
        long_unit = malloc(300);
        assert_se(long_unit);
        memset(long_unit, 'a', 290);
        strcpy(long_unit + 290, ".service");
        k = registry_unit_key(P, long_unit);
        is_int(registry_parse_key(P, k, NULL, NULL), -EINVAL, "reject a unit name over 256 characters");
}

static void test_names(void) {
        ok(registry_machine_id_is_valid(MID), "a machine id is valid");
        ok(!registry_machine_id_is_valid(""), "an empty machine id is not");
        ok(!registry_machine_id_is_valid("a/b"), "a slash in a machine id is not");
        ok(!registry_machine_id_is_valid(MID MID MID), "a 96-character machine id is not");
        ok(registry_unit_name_is_valid("a-b_c:d@e.service"), "all of fleet's unit name characters");
        ok(!registry_unit_name_is_valid("a\nb.service"), "a newline in a unit name");
        ok(registry_hash_is_valid(HASH), "a sha1 hex digest is a hash");
        ok(!registry_hash_is_valid("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"), "upper case is not canonical");
        ok(!registry_hash_is_valid(HASH "0"), "41 characters are not a hash");
}

static void test_machine(void) {
        RegistryMachine m = {
                .id = (char *) MID,
                .public_ip = (char *) "10.99.1.2",
                .hostname = NULL,
                .metadata = STRV_MAKE("role=web", "az=eu-1", "disk=ssd"),
                .version = (char *) "0.1.0",
                .agent_ttl_sec = 30,
        };
        _cleanup_(registry_machine_freep) RegistryMachine *back = NULL;
        _cleanup_free_ char *j = NULL, *j2 = NULL;

        is_int(registry_machine_to_json(&m, &j), 0, "encode a machine");
        is_str(j, "{\"id\":\"" MID "\",\"public_ip\":\"10.99.1.2\",\"metadata\":[\"az=eu-1\",\"disk=ssd\","
                  "\"role=web\"],\"version\":\"0.1.0\",\"agent_ttl_sec\":30}",
               "machine JSON: fixed key order, sorted metadata, no null hostname");
        is_int(registry_machine_from_json(j, strlen(j), &back), 0, "decode it");
        if (back) {
                is_str(back->id, MID, "id survives");
                is_str(back->public_ip, "10.99.1.2", "ip survives");
                ok(!back->hostname, "absent hostname stays NULL");
                ok(strv_equal(back->metadata, STRV_MAKE("az=eu-1", "disk=ssd", "role=web")), "metadata sorted");
                is_int(back->agent_ttl_sec, 30, "ttl survives");
                ok(!back->has_capacity, "a record without capacity (older fleetd) decodes, capacity unknown");
                is_int(registry_machine_to_json(back, &j2), 0, "re-encode");
                is_str(j2, j, "equal records encode identically");
        }

        m.metadata = STRV_MAKE("novalue");
        is_int(registry_machine_to_json(&m, &j2), -EINVAL, "metadata without '=' is refused");
        m.metadata = NULL;
        m.agent_ttl_sec = 0;
        is_int(registry_machine_to_json(&m, &j2), -EINVAL, "a zero ttl is refused");
}

static void test_machine_capacity(void) {
        RegistryMachine m = {
                .id = (char *) MID,
                .metadata = NULL,
                .version = (char *) "0.1.0",
                .agent_ttl_sec = 30,
                .has_capacity = true,
                .capacity = { .cpu_milli = 1500, .memory = 4ULL << 30 },
        };
        _cleanup_(registry_machine_freep) RegistryMachine *back = NULL;
        _cleanup_free_ char *j = NULL, *j2 = NULL;
        static const char *const bad[] = {
                "\"capacity\":{\"cpu_milli\":-1,\"memory\":1}",
                "\"capacity\":{\"cpu_milli\":1}",
                "\"capacity\":{\"cpu_milli\":1,\"memory\":1,\"disk\":5}",
                "\"capacity\":{\"cpu_milli\":1,\"memory\":1,\"resources\":{\"gpu\":\"2\"}}",
                "\"capacity\":{\"cpu_milli\":1,\"memory\":1,\"resources\":{\"g/pu\":2}}",
                "\"capacity\":[1,2]",
        };

        assert_se(resources_add_extra(&m.capacity, "gpu", 2) == 0);
        is_int(registry_machine_to_json(&m, &j), 0, "encode a machine with capacity");
        is_str(j, "{\"id\":\"" MID "\",\"metadata\":[],\"version\":\"0.1.0\",\"agent_ttl_sec\":30,"
                  "\"capacity\":{\"cpu_milli\":1500,\"memory\":4294967296,\"resources\":{\"gpu\":2}}}",
               "capacity JSON");
        is_int(registry_machine_from_json(j, strlen(j), &back), 0, "decode it");
        ok(back && back->has_capacity && resources_equal(&back->capacity, &m.capacity), "capacity survives");
        if (back) {
                is_int(registry_machine_to_json(back, &j2), 0, "re-encode");
                is_str(j2, j, "equal records encode identically");
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(registry_machine_freep) RegistryMachine *x = NULL;
                _cleanup_free_ char *t = NULL;

                assert_se(asprintf(&t, "{\"id\":\"" MID "\",\"metadata\":[],\"version\":\"1\","
                                       "\"agent_ttl_sec\":30,%s}", bad[i]) >= 0);
                is_int(registry_machine_from_json(t, strlen(t), &x), -EBADMSG, "malformed capacity refused: %s",
                       bad[i]);
        }
        resources_done(&m.capacity);
}

static void test_unit(void) {
        RegistryUnit u = {
                .name = (char *) "web@1.service",
                .hash = (char *) HASH,
                .raw = (char *) "[Service]\nExecStart=/bin/echo \"hi\" \\\\ \xc3\xa9\n",
                .desired = UNIT_DESIRED_LAUNCHED,
        };
        _cleanup_(registry_unit_freep) RegistryUnit *back = NULL;
        _cleanup_free_ char *j = NULL, *j2 = NULL;

        is_int(registry_unit_to_json(&u, &j), 0, "encode a unit");
        is_int(registry_unit_from_json(j, strlen(j), &back), 0, "decode it");
        if (back) {
                is_str(back->name, u.name, "name survives");
                is_str(back->hash, HASH, "hash survives");
                is_str(back->raw, u.raw, "raw text with quotes, backslashes and UTF-8 survives");
                is_int(back->desired, UNIT_DESIRED_LAUNCHED, "desired survives");
                is_int(registry_unit_to_json(back, &j2), 0, "re-encode");
                is_str(j2, j, "equal records encode identically");
        }
        ok(j && strstr(j, "\"desired\":\"launched\""), "desired is stored as fleet's word");

        u.desired = _UNIT_DESIRED_STATE_INVALID;
        is_int(registry_unit_to_json(&u, &j2), -EINVAL, "an invalid desired state is refused");
        u.desired = UNIT_DESIRED_INACTIVE;
        u.hash = (char *) "abc";
        is_int(registry_unit_to_json(&u, &j2), -EINVAL, "a short hash is refused");
        u.hash = (char *) HASH;
        u.raw = (char *) "\xff\xfe";
        is_int(registry_unit_to_json(&u, &j2), -EINVAL, "invalid UTF-8 is refused");
}

static void test_assignment_state_leader(void) {
        RegistryAssignment a = {
                .unit = (char *) "a.service", .hash = (char *) HASH, .raw = (char *) "", .desired = UNIT_DESIRED_LOADED,
        };
        RegistryUnitState s = {
                .unit = (char *) "a.service", .machine_id = (char *) MID, .hash = NULL,
                .load_state = (char *) "loaded", .active_state = (char *) "active", .sub_state = (char *) "running",
        };
        RegistryLeader l = { .machine_id = (char *) MID, .version = (char *) "0.1.0" };
        _cleanup_(registry_assignment_freep) RegistryAssignment *ab = NULL;
        _cleanup_(registry_unit_state_freep) RegistryUnitState *sb = NULL;
        _cleanup_(registry_leader_freep) RegistryLeader *lb = NULL;
        _cleanup_free_ char *ja = NULL, *js = NULL, *jl = NULL, *x = NULL;

        is_int(registry_assignment_to_json(&a, &ja), 0, "encode an assignment");
        is_int(registry_assignment_from_json(ja, strlen(ja), &ab), 0, "decode it");
        ok(ab && streq(ab->unit, "a.service") && ab->desired == UNIT_DESIRED_LOADED && streq(ab->raw, ""),
           "assignment survives");
        a.desired = UNIT_DESIRED_INACTIVE;
        is_int(registry_assignment_to_json(&a, &x), -EINVAL, "an inactive assignment is refused");

        is_int(registry_unit_state_to_json(&s, &js), 0, "encode a state");
        is_str(js, "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                   "\"active_state\":\"active\",\"sub_state\":\"running\"}", "state JSON without a hash");
        is_int(registry_unit_state_from_json(js, strlen(js), &sb), 0, "decode it");
        ok(sb && !sb->hash && streq(sb->active_state, "active") && streq(sb->machine_id, MID),
           "state survives");
        ok(sb && sb->health == UNIT_HEALTH_NONE, "a state without \"health\" has none");

        {
                _cleanup_(registry_unit_state_freep) RegistryUnitState *hb = NULL;
                _cleanup_free_ char *jh = NULL, *jbad = NULL;

                s.health = UNIT_HEALTH_UNHEALTHY;
                is_int(registry_unit_state_to_json(&s, &jh), 0, "encode a state with a health");
                is_str(jh, "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                           "\"active_state\":\"active\",\"sub_state\":\"running\",\"health\":\"unhealthy\"}",
                       "state JSON carries \"health\"");
                is_int(registry_unit_state_from_json(jh, strlen(jh), &hb), 0, "decode it");
                ok(hb && hb->health == UNIT_HEALTH_UNHEALTHY, "health survives");
                s.health = _UNIT_HEALTH_MAX;
                is_int(registry_unit_state_to_json(&s, &jbad), -EINVAL, "an invalid health is refused");
                s.health = UNIT_HEALTH_NONE;
        }

        {
                _cleanup_(registry_unit_state_freep) RegistryUnitState *gb = NULL, *nb = NULL;
                _cleanup_free_ char *jg = NULL;
                static const char neg[] = "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                                          "\"active_state\":\"failed\",\"sub_state\":\"failed\",\"failures\":-1}";

                s.failures = 3;
                s.gave_up = (char *) "3 failures in 5min (unhealthy)";
                is_int(registry_unit_state_to_json(&s, &jg), 0, "encode a state that gave up");
                is_str(jg, "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                           "\"active_state\":\"active\",\"sub_state\":\"running\","
                           "\"gave_up\":\"3 failures in 5min (unhealthy)\",\"failures\":3}",
                       "state JSON carries \"failures\" and \"gave_up\"");
                is_int(registry_unit_state_from_json(jg, strlen(jg), &gb), 0, "decode it");
                ok(gb && gb->failures == 3 && streq_ptr(gb->gave_up, "3 failures in 5min (unhealthy)"),
                   "failures and gave_up survive");
                ok(sb && sb->failures == 0 && !sb->gave_up, "a state without them has none");
                is_int(registry_unit_state_from_json(neg, strlen(neg), &nb), -EBADMSG, "negative failures refused");
                s.failures = 0;
                s.gave_up = NULL;
        }

        is_int(registry_leader_to_json(&l, &jl), 0, "encode a leader");
        is_str(jl, "{\"machine_id\":\"" MID "\",\"version\":\"0.1.0\"}", "leader JSON");
        is_int(registry_leader_from_json(jl, strlen(jl), &lb), 0, "decode it");
        ok(lb && streq(lb->machine_id, MID) && streq(lb->version, "0.1.0"), "leader survives");
}

static void test_hostile(void) {
        static const char *const units[] = {
                "",
                "null",
                "[]",
                "\"x\"",
                "{",
                "{}",
                "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"\"}",                      /* missing */
                "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"launched\","
                "\"extra\":1}",                                                                     /* unknown key */
                "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"running\"}",
                "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":5,\"desired\":\"launched\"}",
                "{\"name\":\"a.service\",\"hash\":null,\"raw\":\"\",\"desired\":\"launched\"}",
                "{\"name\":\"../../etc\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"launched\"}",
                "{\"name\":\"a\\u0000b\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"launched\"}",
                "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"x\\u0000y\",\"desired\":\"launched\"}",
                "{\"name\":\"a.service\",\"name\":\"b.service\",\"hash\":\"" HASH "\",\"raw\":\"\","
                "\"desired\":\"launched\"}",                                                        /* duplicate */
                "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"launched\"} x",
        };
        static const char *const machines[] = {
                "{\"id\":\"" MID "\",\"metadata\":[],\"version\":\"1\",\"agent_ttl_sec\":-1}",
                "{\"id\":\"" MID "\",\"metadata\":[],\"version\":\"1\",\"agent_ttl_sec\":\"30\"}",
                "{\"id\":\"" MID "\",\"metadata\":{},\"version\":\"1\",\"agent_ttl_sec\":30}",
                "{\"id\":\"" MID "\",\"metadata\":[1],\"version\":\"1\",\"agent_ttl_sec\":30}",
                "{\"id\":\"" MID "\",\"metadata\":[\"=v\"],\"version\":\"1\",\"agent_ttl_sec\":30}",
                "{\"id\":\"" MID "\",\"public_ip\":null,\"metadata\":[],\"version\":\"1\",\"agent_ttl_sec\":30}",
                "{\"id\":\"a/b\",\"metadata\":[],\"version\":\"1\",\"agent_ttl_sec\":30}",
                "{\"id\":\"" MID "\",\"metadata\":[],\"version\":\"\",\"agent_ttl_sec\":30}",
        };
        static const char *const states[] = {
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                "\"active_state\":\"\",\"sub_state\":\"running\"}",
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"hash\":\"zz\",\"load_state\":\"loaded\","
                "\"active_state\":\"active\",\"sub_state\":\"running\"}",
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                "\"active_state\":\"active running\",\"sub_state\":\"running\"}",
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                "\"active_state\":\"active\",\"sub_state\":\"running\",\"health\":\"none\"}",
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                "\"active_state\":\"active\",\"sub_state\":\"running\",\"health\":\"sick\"}",
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                "\"active_state\":\"active\",\"sub_state\":\"running\",\"health\":1}",
                "{\"unit\":\"a.service\",\"machine_id\":\"" MID "\",\"load_state\":\"loaded\","
                "\"active_state\":\"active\",\"sub_state\":\"running\",\"health\":null}",
        };
        RegistryUnit *u = (RegistryUnit *) 0x1;
        RegistryMachine *m = (RegistryMachine *) 0x1;
        RegistryUnitState *s = (RegistryUnitState *) 0x1;
        RegistryAssignment *a = (RegistryAssignment *) 0x1;
        RegistryLeader *l = (RegistryLeader *) 0x1;
        const char *inactive = "{\"unit\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"inactive\"}";

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                is_int(registry_unit_from_json(units[i], strlen(units[i]), &u), -EBADMSG, "reject unit %s", units[i]);
        for (size_t i = 0; i < ELEMENTSOF(machines); i++)
                is_int(registry_machine_from_json(machines[i], strlen(machines[i]), &m), -EBADMSG,
                       "reject machine %s", machines[i]);
        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                is_int(registry_unit_state_from_json(states[i], strlen(states[i]), &s), -EBADMSG,
                       "reject state %s", states[i]);
        is_int(registry_assignment_from_json(inactive, strlen(inactive), &a), -EBADMSG,
               "reject an inactive assignment");
        is_int(registry_leader_from_json("{\"machine_id\":\"" MID "\"}", 45, &l), -EBADMSG,
               "reject a leader without version");
        is_int(registry_unit_from_json(NULL, 0, &u), -EBADMSG, "reject NULL input");
        ok(u == (RegistryUnit *) 0x1 && m == (RegistryMachine *) 0x1 && s == (RegistryUnitState *) 0x1 &&
           a == (RegistryAssignment *) 0x1 && l == (RegistryLeader *) 0x1, "*ret untouched on failure");

        /* size is honoured: a valid record followed by garbage that is not part of the buffer */
        const char *good = "{\"name\":\"a.service\",\"hash\":\"" HASH "\",\"raw\":\"\",\"desired\":\"inactive\"}GARBAGE";
        _cleanup_(registry_unit_freep) RegistryUnit *g = NULL;
        is_int(registry_unit_from_json(good, strlen(good) - strlen("GARBAGE"), &g), 0, "size bounds the input");
        ok(g && g->desired == UNIT_DESIRED_INACTIVE, "desired inactive decoded");
}

static void test_free_null(void) {
        ok(!registry_machine_free(NULL) && !registry_unit_free(NULL) && !registry_assignment_free(NULL) &&
           !registry_unit_state_free(NULL) && !registry_leader_free(NULL), "destructors accept NULL");
}

/* Global rides in the assignment; a record from before the flag is read as the agents read it:
 * from the body. */
static void test_assignment_global(void) {
        RegistryAssignment a = {
                .unit = (char *) "g.service", .hash = (char *) HASH, .raw = (char *) "[X-Fleet]\nGlobal=true\n",
                .desired = UNIT_DESIRED_LAUNCHED, .global = true,
        };
        static const struct {
                const char *raw;
                bool global;
        } old[] = {
                { "[X-Fleet]\\nGlobal=true\\n", true },
                { "[X-Fleet]\\nGlobal=yes\\nGlobal=no\\n", false },
                { "[Service]\\nExecStart=/bin/true\\n", false },
                { "[X-Fleet]\\nGlobal=maybe\\n", false },
                { "not a unit", false },
        };
        _cleanup_(registry_assignment_freep) RegistryAssignment *b = NULL;
        _cleanup_free_ char *json = NULL;

        is_int(registry_assignment_to_json(&a, &json), 0, "encode a global assignment");
        is_str(json, "{\"unit\":\"g.service\",\"hash\":\"" HASH "\",\"raw\":\"[X-Fleet]\\nGlobal=true\\n\","
               "\"desired\":\"launched\",\"global\":true}", "with \"global\" last");
        is_int(registry_assignment_from_json(json, strlen(json), &b), 0, "decode it");
        ok(b && b->global, "global survives");
        b = registry_assignment_free(b);
        json = mfree(json);

        /* The flag, not the body, decides once it is there. */
        a.global = false;
        is_int(registry_assignment_to_json(&a, &json), 0, "encode the flag false with a Global body");
        is_int(registry_assignment_from_json(json, strlen(json), &b), 0, "decode it");
        ok(b && !b->global, "the flag wins over the body");
        b = registry_assignment_free(b);

        for (size_t i = 0; i < ELEMENTSOF(old); i++) {
                _cleanup_free_ char *o = NULL;

                assert_se(asprintf(&o, "{\"unit\":\"g.service\",\"hash\":\"" HASH "\",\"raw\":\"%s\","
                                   "\"desired\":\"launched\"}", old[i].raw) >= 0);
                is_int(registry_assignment_from_json(o, strlen(o), &b), 0, "an old record decodes: %s", old[i].raw);
                ok(b && b->global == old[i].global, "global %s from its body", old[i].global ? "true" : "false");
                b = registry_assignment_free(b);
        }

        const char *bad = "{\"unit\":\"g.service\",\"hash\":\"" HASH "\",\"raw\":\"\","
                          "\"desired\":\"launched\",\"global\":\"true\"}";
        is_int(registry_assignment_from_json(bad, strlen(bad), &b), -EBADMSG, "a global that is not a boolean is refused");
        json = mfree(json);
        RegistryUnit u = { .name = (char *) "g.service", .hash = (char *) HASH, .raw = (char *) "",
                           .desired = UNIT_DESIRED_LAUNCHED };
        _cleanup_(registry_unit_freep) RegistryUnit *ub = NULL;
        is_int(registry_unit_to_json(&u, &json), 0, "a unit record");
        ok(json && !strstr(json, "global"), "has no global");
        const char *unit_global = "{\"name\":\"g.service\",\"hash\":\"" HASH "\",\"raw\":\"\","
                                  "\"desired\":\"launched\",\"global\":true}";
        is_int(registry_unit_from_json(unit_global, strlen(unit_global), &ub), -EBADMSG, "and refuses one");
}

static void test_subnet(void) {
        _cleanup_free_ char *k = registry_subnet_key(P, "10.42.3.0-24"), *pre = registry_subnets_prefix(P);
        _cleanup_free_ char *j = NULL, *j2 = NULL;
        _cleanup_(registry_subnet_freep) RegistrySubnet *d = NULL;
        RegistrySubnet s = {
                .machine_id = (char *) MID, .public_ip = (char *) "10.99.7.11",
                .vtep_mac = (char *) "02:fa:01:02:03:04", .vni = 1,
        };
        static const char *const bad[] = {
                "{\"machine_id\":\"" MID "\",\"public_ip\":\"10.99.7.11\",\"vtep_mac\":\"02:FA:01:02:03:04\",\"vni\":1}",
                "{\"machine_id\":\"" MID "\",\"public_ip\":\"10.99.7.11\",\"vtep_mac\":\"02:fa:01:02:03\",\"vni\":1}",
                "{\"machine_id\":\"" MID "\",\"public_ip\":\"10.99.7.11\",\"vtep_mac\":\"02:fa:01:02:03:04\",\"vni\":0}",
                "{\"machine_id\":\"" MID "\",\"public_ip\":\"10.99.7.11\",\"vtep_mac\":\"02:fa:01:02:03:04\",\"vni\":16777216}",
                "{\"machine_id\":\"" MID "\",\"public_ip\":\"\",\"vtep_mac\":\"02:fa:01:02:03:04\",\"vni\":1}",
                "{\"machine_id\":\"" MID "\",\"vtep_mac\":\"02:fa:01:02:03:04\",\"vni\":1}",
                "{\"machine_id\":\"" MID "\",\"public_ip\":\"10.99.7.11\",\"vtep_mac\":\"02:fa:01:02:03:04\",\"vni\":1,\"x\":1}",
                "[]",
        };

        is_str(k, P "network/subnets/10.42.3.0-24", "subnet key");
        is_str(pre, P "network/subnets/", "subnets prefix");
        is_str(registry_subnet_key_name(P, k), "10.42.3.0-24", "subnet name from its key");
        ok(!registry_subnet_key_name(P, pre), "the prefix itself names no subnet");
        ok(!registry_subnet_key_name(P, P "network/subnets/a/b"), "nor a deeper key");
        ok(!registry_subnet_key_name("/other/", k), "nor a key under another prefix");

        is_int(registry_subnet_to_json(&s, &j), 0, "encode a subnet lease");
        is_str(j, "{\"machine_id\":\"" MID "\",\"public_ip\":\"10.99.7.11\",\"vtep_mac\":\"02:fa:01:02:03:04\",\"vni\":1}",
               "subnet JSON");
        is_int(registry_subnet_from_json(j, strlen(j), &d), 0, "decode it");
        ok(d && streq(d->machine_id, MID) && streq(d->public_ip, "10.99.7.11") &&
           streq(d->vtep_mac, "02:fa:01:02:03:04") && d->vni == 1, "same fields back");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(registry_subnet_freep) RegistrySubnet *x = NULL;

                is_int(registry_subnet_from_json(bad[i], strlen(bad[i]), &x), -EBADMSG, "reject %s", bad[i]);
                ok(!x, "nothing returned for a rejected record");
        }
        s.vni = 0;
        is_int(registry_subnet_to_json(&s, &j2), -EINVAL, "refuse to encode VNI 0");
        s.vni = 1;
        s.vtep_mac = (char *) "nonsense";
        is_int(registry_subnet_to_json(&s, &j2), -EINVAL, "refuse to encode a bad MAC");
        ok(!j2, "nothing encoded");
}

static void test_names_applied(void) {
        _cleanup_free_ char *k = registry_names_applied_key(P, MID), *pre = registry_names_applied_prefix(P);
        _cleanup_free_ char *names = registry_names_prefix(P);
        _cleanup_free_ char *u = NULL, *m = NULL;

        is_str(k, P "names-applied/" MID, "names-applied key");
        is_str(pre, P "names-applied/", "names-applied prefix");
        ok(!startswith(k, names), "outside the names prefix: writing it wakes no names watch");
        is_str(registry_names_applied_key_machine(P, k), MID, "machine id from its key");
        ok(!registry_names_applied_key_machine(P, pre), "the prefix itself names no machine");
        ok(!registry_names_applied_key_machine(P, P "names-applied/a.b"), "nor an invalid machine id");
        ok(!registry_names_applied_key_machine(P, P "names-applied/" MID "/x"), "nor a deeper key");
        ok(!registry_names_applied_key_machine("/other/", k), "nor a key under another prefix");
        ok(registry_parse_key(P, k, &u, &m) < 0, "and it is none of the unit model's keys");
}

int main(void) {
        test_keys();
        test_names_applied();
        test_subnet();
        test_key_round_trip();
        test_key_rejects();
        test_names();
        test_machine();
        test_machine_capacity();
        test_unit();
        test_assignment_state_leader();
        test_assignment_global();
        test_hostile();
        test_free_null();
        return done_testing();
}
