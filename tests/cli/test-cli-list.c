/* SPDX-License-Identifier: Apache-2.0 */

/* The listings and the wait conditions on a registry snapshot built from records as fleetd and
 * fleetctl write them. The table layout itself is test-cli-table's business: here the expected
 * text is the expected cells laid out by the same table code. */

#include <jansson.h>

#include "cli-list.h"
#include "table.h"
#include "cli-units.h"
#include "cli-wait.h"
#include "strv.h"
#include "tap.h"

#define P REGISTRY_DEFAULT_PREFIX
#define M1 "113f16a7a5e541e6a4a3b48bfc4e7f61"
#define M2 "c9de9451aa3f4a2e8e1f47b0a1c7c3d2"

static ClusterSnapshot *snap;
static char hello_hash[8], pending_hash[8], glob_hash[8], sub_hash[8];

static void add(const char *key, const char *json) {
        EtcdKeyValue kv = {
                .key = (char *) key,
                .value = (char *) json,
                .value_size = strlen(json),
                .mod_revision = 7,
        };

        assert_se(cluster_snapshot_add(snap, P, &kv) == 0);
}

static void add_unit(const char *name, const char *text, UnitDesiredState desired, char short_hash[static 8]) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_free_ char *key = registry_unit_key(P, name), *json = NULL;

        assert_se(cli_unit_from_text(name, text, strlen(text), &u, NULL) == 0);
        u->desired = desired;
        assert_se(registry_unit_to_json(u, &json) == 0);
        add(key, json);
        snprintf(short_hash, 8, "%.7s", u->hash);
}

static void add_machine(const char *id, const char *ip, char **metadata) {
        RegistryMachine m = { .id = (char *) id, .public_ip = (char *) ip, .metadata = metadata,
                              .version = (char *) "0.1.0", .agent_ttl_sec = 30 };
        _cleanup_free_ char *key = registry_machine_key(P, id), *json = NULL;

        assert_se(registry_machine_to_json(&m, &json) == 0);
        add(key, json);
}

static void add_assignment(const char *id, const char *unit, UnitDesiredState desired) {
        ClusterUnit *u = cluster_snapshot_unit(snap, unit);
        _cleanup_free_ char *key = registry_assignment_key(P, id, unit), *json = NULL;
        RegistryAssignment a = { .unit = (char *) unit, .desired = desired };

        /* The unit records went in first: take the body from there (the snapshot is not sealed
         * yet, so look it up by hand). */
        for (size_t i = 0; !u && i < snap->n_units; i++)
                if (streq(snap->units[i].unit->name, unit))
                        u = &snap->units[i];
        assert_se(u);
        a.hash = u->unit->hash;
        a.raw = u->unit->raw;
        assert_se(registry_assignment_to_json(&a, &json) == 0);
        add(key, json);
}

static void add_state(const char *unit, const char *id, const char *active, const char *sub) {
        RegistryUnitState s = { .unit = (char *) unit, .machine_id = (char *) id, .load_state = (char *) "loaded",
                                .active_state = (char *) active, .sub_state = (char *) sub };
        _cleanup_free_ char *key = registry_state_key(P, unit, id), *json = NULL;

        assert_se(registry_unit_state_to_json(&s, &json) == 0);
        add(key, json);
}

static void build(void) {
        _cleanup_free_ char *rkey = registry_reason_key(P, "pending.service");

        snap = cluster_snapshot_new();
        assert_se(snap);
        /* Out of order on purpose: the snapshot sorts. */
        add_unit("pending.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineMetadata=role=db\n",
                 UNIT_DESIRED_LAUNCHED, pending_hash);
        add_unit("hello.service", "[Unit]\nDescription=Hello World\n[Service]\nExecStart=/bin/sleep 1d\n",
                 UNIT_DESIRED_LAUNCHED, hello_hash);
        add_unit("glob.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\n",
                 UNIT_DESIRED_LAUNCHED, glob_hash);
        add_unit("sub.service", "[Service]\nExecStart=/bin/true\n", UNIT_DESIRED_INACTIVE, sub_hash);
        add_machine(M2, NULL, NULL);
        add_machine(M1, "172.17.8.103", STRV_MAKE("role=web", "az=1"));
        add_assignment(M1, "hello.service", UNIT_DESIRED_LAUNCHED);
        add_state("hello.service", M1, "active", "running");
        add_state("glob.service", M2, "active", "running");
        add_state("glob.service", M1, "failed", "failed");
        add(rkey, "no machine matches\nMachineMetadata=role=db");
        /* Garbage is skipped, not fatal. */
        add(P "units/broken.service", "{\"name\":1}");
        add(P "machines/x", "not json");
        add(P "job/old/object", "{}");
        assert_se(cluster_snapshot_seal(snap) == 0);
}

static char *table_of(char **const *rows, size_t n) {
        _cleanup_(table_freep) Table *t = table_new();
        char *s = NULL;

        assert_se(t);
        for (size_t i = 0; i < n; i++)
                assert_se(table_add_row(t, rows[i], strv_length(rows[i])) == 0);
        assert_se(table_format(t, &s) == 0);
        return s;
}

static void test_snapshot(void) {
        is_int(snap->n_units, 4, "four valid units, the broken one skipped");
        is_int(snap->n_machines, 2, "two machines");
        is_str(snap->units[0].unit->name, "glob.service", "units sorted by name");
        is_str(snap->machines[0]->id, M1, "machines sorted by id");
        ok(cluster_snapshot_unit(snap, "glob.service")->global, "Global=true is seen");
        is_str(cluster_snapshot_unit(snap, "hello.service")->description, "Hello World", "description");
        is_str(cluster_snapshot_current_state(snap, cluster_snapshot_unit(snap, "hello.service")), "launched",
               "an active assigned unit is launched");
        is_str(cluster_snapshot_current_state(snap, cluster_snapshot_unit(snap, "pending.service")), "inactive",
               "an unplaced unit is inactive");
        ok(!cluster_snapshot_current_state(snap, cluster_snapshot_unit(snap, "glob.service")),
           "a global unit has no single state");
        is_str(cluster_snapshot_reason(snap, "pending.service"), "no machine matches MachineMetadata=role=db",
               "the reason, on one line");
}

/* Only a running unit is launched: a failed one (or one going down) is merely loaded. */
static void test_current_state_running(void) {
        static const struct {
                const char *active, *sub, *current;
        } cases[] = {
                { "active", "running", "launched" },
                { "activating", "start", "launched" },
                { "reloading", "reload", "launched" },
                { "failed", "failed", "loaded" },
                { "inactive", "dead", "loaded" },
                { "deactivating", "stop-sigterm", "loaded" },
        };
        ClusterSnapshot *saved = snap;
        char hash[8];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snap = cluster_snapshot_new();
                assert_se(snap);
                add_unit("one.service", "[Service]\nExecStart=/bin/true\n", UNIT_DESIRED_LAUNCHED, hash);
                add_machine(M1, NULL, NULL);
                add_assignment(M1, "one.service", UNIT_DESIRED_LAUNCHED);
                add_state("one.service", M1, cases[i].active, cases[i].sub);
                assert_se(cluster_snapshot_seal(snap) == 0);
                is_str(cluster_snapshot_current_state(snap, cluster_snapshot_unit(snap, "one.service")),
                       cases[i].current, "a launched unit that is %s is %s", cases[i].active, cases[i].current);
                snap = cluster_snapshot_free(snap);
        }
        snap = saved;
}

static void test_list_unit_files(void) {
        _cleanup_free_ char *got = NULL, *want = NULL, *got2 = NULL, *want2 = NULL, *got3 = NULL, *want3 = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        ListOptions o = { .legend = true, .mode = OUTPUT_TABLE };

        assert_se(list_unit_files_format(snap, &o, &got) == 0);
        want = table_of((char **const[]) {
                STRV_MAKE("UNIT", "HASH", "DSTATE", "STATE", "TARGET", "REASON"),
                STRV_MAKE("glob.service", glob_hash, "launched", "-", "global", "-"),
                STRV_MAKE("hello.service", hello_hash, "launched", "launched", "113f16a7.../172.17.8.103", "-"),
                STRV_MAKE("pending.service", pending_hash, "launched", "inactive", "-",
                          "no machine matches MachineMetadata=role=db"),
                STRV_MAKE("sub.service", sub_hash, "inactive", "inactive", "-", "-"),
        }, 5);
        is_str(got, want, "list-unit-files: fleet's columns, plus REASON when a unit is not placed");

        assert_se(list_parse_fields("unit,global,desc,tmachine", (char **) list_unit_files_fields, &fields, NULL) == 0);
        o = (ListOptions) { .legend = false, .full = true, .fields = fields, .mode = OUTPUT_TABLE };
        assert_se(list_unit_files_format(snap, &o, &got2) == 0);
        want2 = table_of((char **const[]) {
                STRV_MAKE("glob.service", "true", "-", "global"),
                STRV_MAKE("hello.service", "false", "Hello World", M1 "/172.17.8.103"),
                STRV_MAKE("pending.service", "false", "-", "-"),
                STRV_MAKE("sub.service", "false", "-", "-"),
        }, 4);
        is_str(got2, want2, "--fields, --full and --no-legend (no REASON column when fields are given)");

        o = (ListOptions) { .legend = true, .mode = OUTPUT_TABLE, .only = STRV_MAKE("sub.service") };
        assert_se(list_unit_files_format(snap, &o, &got3) == 0);
        want3 = table_of((char **const[]) {
                STRV_MAKE("UNIT", "HASH", "DSTATE", "STATE", "TARGET"),
                STRV_MAKE("sub.service", sub_hash, "inactive", "inactive", "-"),
        }, 2);
        is_str(got3, want3, "restricted to some units (compose ps)");
}

static void test_list_units_and_machines(void) {
        _cleanup_free_ char *got = NULL, *want = NULL, *got2 = NULL, *want2 = NULL, *got3 = NULL, *want3 = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        ListOptions o = { .legend = true, .mode = OUTPUT_TABLE };

        assert_se(list_units_format(snap, &o, &got) == 0);
        want = table_of((char **const[]) {
                STRV_MAKE("UNIT", "MACHINE", "ACTIVE", "SUB"),
                STRV_MAKE("glob.service", "113f16a7.../172.17.8.103", "failed", "failed"),
                STRV_MAKE("glob.service", "c9de9451...", "active", "running"),
                STRV_MAKE("hello.service", "113f16a7.../172.17.8.103", "active", "running"),
        }, 4);
        is_str(got, want, "list-units: one row per reported state, sorted by unit and machine");

        assert_se(list_parse_fields("unit,load,hash", (char **) list_units_fields, &fields, NULL) == 0);
        o = (ListOptions) { .legend = true, .fields = fields, .mode = OUTPUT_TABLE };
        assert_se(list_units_format(snap, &o, &got2) == 0);
        want2 = table_of((char **const[]) {
                STRV_MAKE("UNIT", "LOAD", "HASH"),
                STRV_MAKE("glob.service", "loaded", "-"),
                STRV_MAKE("glob.service", "loaded", "-"),
                STRV_MAKE("hello.service", "loaded", "-"),
        }, 4);
        is_str(got2, want2, "list-units --fields: a state without a hash shows '-'");

        o = (ListOptions) { .legend = true, .mode = OUTPUT_TABLE };
        assert_se(list_machines_format(snap, &o, &got3) == 0);
        want3 = table_of((char **const[]) {
                STRV_MAKE("MACHINE", "IP", "METADATA"),
                STRV_MAKE("113f16a7...", "172.17.8.103", "az=1,role=web"),
                STRV_MAKE("c9de9451...", "-", "-"),
        }, 3);
        is_str(got3, want3, "list-machines: short ids, sorted metadata, '-' for empty fields");
}

/* A unit with a healthcheck adds a HEALTH column by default; -o json carries it (null for none). */
static void test_health(void) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *h = cluster_snapshot_new();
        _cleanup_free_ char *key = registry_state_key(P, "db.service", M1), *json = NULL;
        _cleanup_free_ char *got = NULL, *want = NULL, *got2 = NULL, *got3 = NULL, *want3 = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        RegistryUnitState st = { .unit = (char *) "db.service", .machine_id = (char *) M1,
                                 .load_state = (char *) "loaded", .active_state = (char *) "active",
                                 .sub_state = (char *) "running", .health = UNIT_HEALTH_UNHEALTHY };
        ClusterSnapshot *saved = snap;
        ListOptions o = { .legend = true, .mode = OUTPUT_TABLE };
        json_auto_t *j = NULL;

        assert_se(h);
        snap = h;
        assert_se(registry_unit_state_to_json(&st, &json) == 0);
        add(key, json);
        add_state("web.service", M2, "active", "running");
        snap = saved;
        assert_se(cluster_snapshot_seal(h) == 0);

        assert_se(list_units_format(h, &o, &got) == 0);
        want = table_of((char **const[]) {
                STRV_MAKE("UNIT", "MACHINE", "ACTIVE", "SUB", "HEALTH"),
                STRV_MAKE("db.service", "113f16a7...", "active", "running", "unhealthy"),
                STRV_MAKE("web.service", "c9de9451...", "active", "running", "-"),
        }, 3);
        is_str(got, want, "list-units adds HEALTH once a unit has a healthcheck");

        o.mode = OUTPUT_JSON;
        assert_se(list_units_format(h, &o, &got2) == 0);
        j = json_loads(got2, 0, NULL);
        is_str(json_string_value(json_object_get(json_array_get(j, 0), "health")), "unhealthy",
               "-o json carries the health");
        ok(json_is_null(json_object_get(json_array_get(j, 1), "health")), "null without a healthcheck");

        assert_se(list_parse_fields("unit,health", (char **) list_units_fields, &fields, NULL) == 0);
        o = (ListOptions) { .legend = false, .fields = fields, .mode = OUTPUT_TABLE };
        assert_se(list_units_format(h, &o, &got3) == 0);
        want3 = table_of((char **const[]) {
                STRV_MAKE("db.service", "unhealthy"),
                STRV_MAKE("web.service", "-"),
        }, 2);
        is_str(got3, want3, "--fields=unit,health");
}

static void test_fields(void) {
        _cleanup_strv_free_ char **f = NULL;
        const char *bad = NULL;

        is_int(list_parse_fields("unit,bogus", (char **) list_units_fields, &f, &bad), -EINVAL, "unknown field");
        is_str(bad, "bogus", "names it");
        is_int(list_parse_fields("", (char **) list_units_fields, &f, &bad), -EINVAL, "empty field list");
        is_int(list_parse_fields("ip", (char **) list_units_fields, &f, &bad), -EINVAL,
               "a field of another command");
        is_int(output_mode_from_string("json"), OUTPUT_JSON, "json");
        is_int(output_mode_from_string("yaml"), _OUTPUT_MODE_INVALID, "yaml is not a mode");
}

static void test_json(void) {
        _cleanup_free_ char *files = NULL, *machines = NULL, *units = NULL;
        ListOptions o = { .mode = OUTPUT_JSON };
        json_auto_t *f = NULL, *m = NULL, *u = NULL;
        json_t *pending, *hello;

        assert_se(list_unit_files_format(snap, &o, &files) == 0);
        f = json_loads(files, 0, NULL);
        ok(json_is_array(f) && json_array_size(f) == 4, "list-unit-files -o json: an array of 4 units");
        pending = json_array_get(f, 2);
        hello = json_array_get(f, 1);
        is_str(json_string_value(json_object_get(pending, "reason")), "no machine matches MachineMetadata=role=db",
               "the reason of the unplaced unit");
        ok(json_is_null(json_object_get(pending, "target")), "no target");
        is_str(json_string_value(json_object_get(hello, "target")), M1, "full machine id as target");
        is_str(json_string_value(json_object_get(hello, "state")), "launched", "state");
        ok(json_is_true(json_object_get(json_array_get(f, 0), "global")), "global as a boolean");

        assert_se(list_machines_format(snap, &o, &machines) == 0);
        m = json_loads(machines, 0, NULL);
        ok(json_is_array(m) && json_array_size(m) == 2, "list-machines -o json");
        is_str(json_string_value(json_array_get(json_object_get(json_array_get(m, 0), "metadata"), 1)), "role=web",
               "metadata as an array");
        ok(json_is_null(json_object_get(json_array_get(m, 1), "ip")), "no ip is null");

        assert_se(list_units_format(snap, &o, &units) == 0);
        u = json_loads(units, 0, NULL);
        ok(json_is_array(u) && json_array_size(u) == 3, "list-units -o json");
        is_str(json_string_value(json_object_get(json_array_get(u, 2), "active")), "active", "active state");
}

static void test_reached(void) {
        _cleanup_free_ char *msg = NULL;
        const char *mid = NULL;

        ok(cli_unit_reached(snap, "hello.service", UNIT_DESIRED_LAUNCHED, &mid), "hello is launched");
        is_str(mid, M1, "on M1");
        assert_se(cli_unit_reached_message(snap, "hello.service", UNIT_DESIRED_LAUNCHED, mid, &msg) == 0);
        is_str(msg, "Unit hello.service launched on 113f16a7.../172.17.8.103", "fleet's message");
        ok(!cli_unit_reached(snap, "hello.service", UNIT_DESIRED_LOADED, NULL), "a launched unit is not 'loaded'");
        ok(!cli_unit_reached(snap, "hello.service", UNIT_DESIRED_INACTIVE, NULL), "nor inactive");
        ok(!cli_unit_reached(snap, "pending.service", UNIT_DESIRED_LAUNCHED, NULL), "an unplaced unit never launches");
        ok(cli_unit_reached(snap, "sub.service", UNIT_DESIRED_INACTIVE, &mid) && !mid, "sub is inactive");
        ok(cli_unit_reached(snap, "unknown.service", UNIT_DESIRED_INACTIVE, NULL), "an unknown unit is inactive");

        const char *reason = NULL;
        ok(cli_unit_progress(snap, "pending.service", NULL, NULL, &reason) == CLI_UNIT_PENDING &&
           streq_ptr(reason, "no machine matches MachineMetadata=role=db"), "an unplaced unit: pending, with the engine's reason");
}

static void test_reached_hash(void) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = cluster_snapshot_new();
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_free_ char *uj = NULL, *aj = NULL, *sj = NULL, *mj = NULL;
        const char *text = "[Service]\nExecStart=/bin/true\n";
        RegistryMachine m = { .id = (char *) M2, .version = (char *) "1", .agent_ttl_sec = 30 };
        RegistryUnitState st = { .unit = (char *) "a.service", .machine_id = (char *) M2,
                                 .hash = (char *) "0000000000000000000000000000000000000000",
                                 .load_state = (char *) "loaded", .active_state = (char *) "inactive",
                                 .sub_state = (char *) "dead" };

        assert_se(s);
        assert_se(cli_unit_from_text("a.service", text, strlen(text), &u, NULL) == 0);
        u->desired = UNIT_DESIRED_LOADED;
        assert_se(registry_unit_to_json(u, &uj) == 0);
        assert_se(registry_assignment_to_json(&(RegistryAssignment) { .unit = u->name, .hash = u->hash, .raw = u->raw,
                                                                      .desired = UNIT_DESIRED_LOADED }, &aj) == 0);
        assert_se(registry_unit_state_to_json(&st, &sj) == 0);
        assert_se(registry_machine_to_json(&m, &mj) == 0);
        assert_se(cluster_snapshot_add(s, P, &(EtcdKeyValue) { .key = (char *) P "units/a.service", .value = uj,
                                                               .value_size = strlen(uj) }) == 0);
        assert_se(cluster_snapshot_add(s, P, &(EtcdKeyValue) { .key = (char *) P "schedule/" M2 "/a.service",
                                                               .value = aj, .value_size = strlen(aj) }) == 0);
        assert_se(cluster_snapshot_add(s, P, &(EtcdKeyValue) { .key = (char *) P "states/a.service/" M2,
                                                               .value = sj, .value_size = strlen(sj) }) == 0);
        assert_se(cluster_snapshot_add(s, P, &(EtcdKeyValue) { .key = (char *) P "machines/" M2, .value = mj,
                                                               .value_size = strlen(mj) }) == 0);
        assert_se(cluster_snapshot_seal(s) == 0);

        ok(!cli_unit_reached(s, "a.service", UNIT_DESIRED_LOADED, NULL),
           "a report about an older body does not count");
        free(s->states[0]->hash);
        s->states[0]->hash = strdup(u->hash);
        assert_se(s->states[0]->hash);
        ok(cli_unit_reached(s, "a.service", UNIT_DESIRED_LOADED, NULL), "the current body's report does");

        _cleanup_free_ char *msg = NULL;
        assert_se(cli_unit_reached_message(s, "a.service", UNIT_DESIRED_LOADED, M2, &msg) == 0);
        is_str(msg, "Unit a.service loaded on c9de9451...", "no '/ip' for a machine without one");

        /* The progress towards a body, as waits and rolling updates read it. */
        RegistryUnitState *got = NULL;
        const char *reason = (const char *) 1;
        ok(cli_unit_progress(s, "a.service", NULL, &got, &reason) == CLI_UNIT_PENDING && got == s->states[0] && !reason,
           "inactive: pending");
        free(s->states[0]->active_state);
        s->states[0]->active_state = strdup("active");
        ok(cli_unit_progress(s, "a.service", NULL, NULL, NULL) == CLI_UNIT_READY, "active with the body: ready");
        ok(cli_unit_progress(s, "a.service", "1111111111111111111111111111111111111111", NULL, NULL) == CLI_UNIT_PENDING,
           "active with another body: pending");
        s->states[0]->health = UNIT_HEALTH_STARTING;
        ok(cli_unit_progress(s, "a.service", NULL, NULL, NULL) == CLI_UNIT_PENDING, "health starting: pending");
        s->states[0]->health = UNIT_HEALTH_HEALTHY;
        ok(cli_unit_progress(s, "a.service", NULL, NULL, NULL) == CLI_UNIT_READY, "healthy: ready");
        s->states[0]->health = UNIT_HEALTH_UNHEALTHY;
        ok(cli_unit_progress(s, "a.service", NULL, NULL, NULL) == CLI_UNIT_FAILED, "unhealthy: failed");
        s->states[0]->health = UNIT_HEALTH_NONE;
        free(s->states[0]->active_state);
        s->states[0]->active_state = strdup("activating");
        free(s->states[0]->sub_state);
        s->states[0]->sub_state = strdup("auto-restart");
        ok(cli_unit_progress(s, "a.service", NULL, NULL, NULL) == CLI_UNIT_FAILED, "waiting to restart: failed");
        ok(cli_unit_progress(s, "a.service", "1111111111111111111111111111111111111111", NULL, NULL) == CLI_UNIT_PENDING,
           "an older body's failure is not this body's");
        free(msg);
        assert_se(cli_unit_failed_message(s, "a.service", s->states[0], &msg) == 0);
        is_str(msg, "Unit a.service failed on c9de9451...: activating/auto-restart", "the failure's message");
        /* A unit its agent holds until a dependency runs somewhere is on its way, not refused: taken
         * for a refusal, fleetctl start failed the demo whenever web was placed before redis ran. */
        free(s->states[0]->active_state);
        s->states[0]->active_state = strdup("inactive");
        free(s->states[0]->sub_state);
        s->states[0]->sub_state = strdup("dead");
        s->states[0]->reason = strdup("waiting for redis.service to be started: it is activating/start");
        assert_se(s->states[0]->active_state && s->states[0]->sub_state && s->states[0]->reason);
        ok(cli_unit_progress(s, "a.service", NULL, NULL, &reason) == CLI_UNIT_PENDING &&
           streq_ptr(reason, s->states[0]->reason), "held for a dependency: pending, with the agent's reason");
        free(s->states[0]->load_state);
        s->states[0]->load_state = strdup(REGISTRY_LOAD_REFUSED);
        assert_se(s->states[0]->load_state);
        ok(cli_unit_progress(s, "a.service", NULL, NULL, NULL) == CLI_UNIT_FAILED, "refused by its agent: failed");
        free(msg);
        assert_se(cli_unit_failed_message(s, "a.service", s->states[0], &msg) == 0);
        is_str(msg, "Unit a.service was refused by machine c9de9451...: waiting for redis.service to be started: it is activating/start",
               "a refusal's message");
        ok(cli_unit_progress(s, "nothere.service", NULL, &got, &reason) == CLI_UNIT_PENDING && !got,
           "an unknown unit: pending");
}

/* Capacity and reservations: opt-in fields; the default table stays fleet's. */
static void test_resources(void) {
        ClusterSnapshot *saved = snap;
        RegistryMachine m = { .id = (char *) M1, .version = (char *) "0.1.0", .agent_ttl_sec = 30,
                              .has_capacity = true, .capacity = { .cpu_milli = 2000, .memory = 4ULL << 30 } };
        _cleanup_free_ char *key = registry_machine_key(P, M1), *json = NULL, *got = NULL, *want = NULL,
                            *plain = NULL, *js = NULL;
        _cleanup_strv_free_ char **f = NULL;
        char h1[8], h2[8], h3[8];
        json_auto_t *j = NULL;
        ListOptions o;

        snap = cluster_snapshot_new();
        assert_se(snap);
        assert_se(resources_add_extra(&m.capacity, "gpu", 2) == 0);
        assert_se(registry_machine_to_json(&m, &json) == 0);
        add(key, json);
        add_machine(M2, NULL, NULL);
        add_unit("db.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nReserveCPU=1.5\nReserveMemory=3G\n",
                 UNIT_DESIRED_LAUNCHED, h1);
        add_unit("agent.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\nReserveCPU=0.25\n"
                 "ReserveResource=gpu=1\n", UNIT_DESIRED_LAUNCHED, h2);
        add_unit("plain.service", "[Service]\nExecStart=/bin/true\n", UNIT_DESIRED_LAUNCHED, h3);
        add_assignment(M1, "db.service", UNIT_DESIRED_LAUNCHED);
        add_assignment(M1, "agent.service", UNIT_DESIRED_LAUNCHED);
        add_assignment(M2, "agent.service", UNIT_DESIRED_LAUNCHED);
        add_assignment(M2, "plain.service", UNIT_DESIRED_LAUNCHED);
        assert_se(cluster_snapshot_seal(snap) == 0);

        assert_se(list_parse_fields("machine,cpu,cpu_reserved,memory,memory_reserved,resources,resources_reserved",
                                    (char **) list_machines_fields, &f, NULL) == 0);
        o = (ListOptions) { .legend = true, .fields = f, .mode = OUTPUT_TABLE };
        assert_se(list_machines_format(snap, &o, &got) == 0);
        want = table_of((char **const[]) {
                STRV_MAKE("MACHINE", "CPU", "CPU_RESERVED", "MEMORY", "MEMORY_RESERVED", "RESOURCES",
                          "RESOURCES_RESERVED"),
                STRV_MAKE("113f16a7...", "2", "1.75", "4 GiB", "3 GiB", "gpu=2", "gpu=1"),
                STRV_MAKE("c9de9451...", "-", "0.25", "-", "0 B", "-", "gpu=1"),
        }, 3);
        is_str(got, want, "list-machines --fields: capacity and the sum of the placed units' reservations");

        o = (ListOptions) { .legend = true, .mode = OUTPUT_TABLE };
        assert_se(list_machines_format(snap, &o, &plain) == 0);
        ok(plain && !strstr(plain, "CPU") && strstr(plain, "MACHINE") && strstr(plain, "METADATA"),
           "the default table has fleet's three columns only");

        o = (ListOptions) { .mode = OUTPUT_JSON };
        assert_se(list_machines_format(snap, &o, &js) == 0);
        j = json_loads(js, 0, NULL);
        ok(j && json_integer_value(json_object_get(json_object_get(json_array_get(j, 0), "capacity"), "cpu_milli")) == 2000,
           "-o json: capacity");
        ok(j && json_integer_value(json_object_get(json_object_get(json_array_get(j, 0), "reserved"), "memory")) ==
                        3LL << 30, "-o json: reserved");
        ok(j && json_is_null(json_object_get(json_array_get(j, 1), "capacity")), "-o json: no capacity published is null");

        resources_done(&m.capacity);
        cluster_snapshot_free(snap);
        snap = saved;
}

/* fleetctl cordon/drain write P cordons/<id>; list-machines shows it in the opt-in field "cordon"
 * and in -o json, and fleet's default table stays byte for byte what it was. */
static void test_cordon(void) {
        ClusterSnapshot *saved = snap;
        _cleanup_free_ char *before = NULL, *after = NULL, *got = NULL, *want = NULL, *js = NULL;
        _cleanup_strv_free_ char **f = NULL;
        json_auto_t *j = NULL;
        ListOptions o = { .legend = true, .mode = OUTPUT_TABLE };

        for (int pass = 0; pass < 2; pass++) {
                snap = cluster_snapshot_new();
                assert_se(snap);
                add_machine(M1, "10.0.0.1", NULL);
                add_machine(M2, "10.0.0.2", NULL);
                if (pass == 1) {
                        add(P "cordons/" M1, "drained");
                        add(P "cordons/" M2, "sideways");       /* not a cordon: ignored */
                }
                assert_se(cluster_snapshot_seal(snap) == 0);
                assert_se(list_machines_format(snap, &o, pass == 0 ? &before : &after) == 0);
                if (pass == 0)
                        cluster_snapshot_free(snap);
        }
        is_str(after, before, "the default list-machines table is the same with a machine drained");
        ok(cluster_snapshot_cordon(snap, M1) == REGISTRY_CORDON_DRAINED &&
           cluster_snapshot_cordon(snap, M2) == REGISTRY_CORDON_NONE, "the snapshot reads P cordons/, ignoring bad values");

        assert_se(list_parse_fields("machine,cordon", (char **) list_machines_fields, &f, NULL) == 0);
        o.fields = f;
        assert_se(list_machines_format(snap, &o, &got) == 0);
        want = table_of((char **const[]) {
                STRV_MAKE("MACHINE", "CORDON"),
                STRV_MAKE("113f16a7...", "drained"),
                STRV_MAKE("c9de9451...", "-"),
        }, 3);
        is_str(got, want, "list-machines --fields machine,cordon");

        o = (ListOptions) { .mode = OUTPUT_JSON };
        assert_se(list_machines_format(snap, &o, &js) == 0);
        j = json_loads(js, 0, NULL);
        ok(j && streq_ptr(json_string_value(json_object_get(json_array_get(j, 0), "cordon")), "drained") &&
           streq_ptr(json_string_value(json_object_get(json_array_get(j, 1), "cordon")), "none"),
           "-o json: cordon is drained / none");

        cluster_snapshot_free(snap);
        snap = saved;
}

int main(void) {
        test_resources();
        test_cordon();
        build();
        test_snapshot();
        test_current_state_running();
        test_list_unit_files();
        test_list_units_and_machines();
        test_health();
        test_fields();
        test_json();
        test_reached();
        test_reached_hash();
        cluster_snapshot_free(snap);
        return done_testing();
}
