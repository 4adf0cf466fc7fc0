/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by the engine's integration tests: an etcd of their own, the engines' event loop
 * and client, and an "admin" client on a second loop that writes machine and unit records and
 * reads back what the engines wrote. The admin loop is separate so that the test decides exactly
 * when the engines run. */

#include <inttypes.h>
#include <time.h>

#include "engine-internal.h"
#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "registry.h"
#include "strv.h"
#include "tap.h"
#include "time-util.h"
#include "unit-file.h"

typedef struct TestEnv {
        EtcdFixture *etcd;
        sd_event *loop;                 /* the engines' */
        EtcdClient *client;
        sd_event *admin_loop;
        EtcdClient *admin;
} TestEnv;

/* Start n_members etcd members (1 or 3) and both clients, which know every member. */
_unused_ static void test_env_setup_members(TestEnv *env, unsigned n_members) {
        int r;

        *env = (TestEnv) {};
        etcd_fixture_require();
        r = etcd_fixture_start(&env->etcd, n_members, &(EtcdFixtureOptions) { .in_memory = true });
        if (r < 0)
                bail_out("cannot start etcd: %s", strerror(-r));

        assert_se(sd_event_new(&env->loop) >= 0);
        assert_se(sd_event_new(&env->admin_loop) >= 0);
        assert_se(etcd_client_new(&env->client, env->loop,
                                  &(EtcdConfig) { .endpoints = env->etcd->endpoints }) >= 0);
        assert_se(etcd_client_new(&env->admin, env->admin_loop,
                                  &(EtcdConfig) { .endpoints = env->etcd->endpoints }) >= 0);
}

_unused_ static void test_env_setup(TestEnv *env) {
        test_env_setup_members(env, 1);
}

_unused_ static void test_env_teardown(TestEnv *env) {
        env->client = etcd_client_free(env->client);
        env->admin = etcd_client_free(env->admin);
        env->loop = sd_event_unref(env->loop);
        env->admin_loop = sd_event_unref(env->admin_loop);
        env->etcd = etcd_fixture_free(env->etcd);
}

typedef bool (*test_predicate_t)(TestEnv *env, void *userdata);

/* Run the engines' loop until until_usec. The admin loop gets a non-blocking turn every 20 ms:
 * the etcd client takes its clock from its loop (sd_event_now()), which goes stale while the loop
 * does not run, and a stale clock makes request deadlines expire at once. */
_unused_ static void test_run_slice(TestEnv *env, uint64_t until_usec) {
        while (now(CLOCK_MONOTONIC) < until_usec) {
                uint64_t slice_end = MIN(until_usec, now(CLOCK_MONOTONIC) + 20 * USEC_PER_MSEC);

                while (now(CLOCK_MONOTONIC) < slice_end)
                        assert_se(sd_event_run(env->loop, slice_end - now(CLOCK_MONOTONIC)) >= 0);
                assert_se(sd_event_run(env->admin_loop, 0) >= 0);
        }
}

/* Run the engines' loop until pred holds (checked every 20 ms of loop time) or max_sec passed.
 * The bound is a guard against hanging, not a measured figure. Returns whether pred held. */
_unused_ static bool test_run_until(TestEnv *env, test_predicate_t pred, void *userdata, unsigned max_sec) {
        uint64_t end = now(CLOCK_MONOTONIC) + max_sec * USEC_PER_SEC;

        for (;;) {
                if (pred(env, userdata))
                        return true;
                if (now(CLOCK_MONOTONIC) > end)
                        return false;
                test_run_slice(env, now(CLOCK_MONOTONIC) + 20 * USEC_PER_MSEC);
        }
}

/* Run the engines' loop for usec, whatever happens. */
_unused_ static void test_run_for(TestEnv *env, uint64_t usec) {
        test_run_slice(env, now(CLOCK_MONOTONIC) + usec);
}

_unused_ static bool test_engine_is_leader(TestEnv *env, void *userdata) {
        return engine_is_leader(userdata);
}

_unused_ static int64_t test_lease_grant(TestEnv *env, int64_t ttl) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;

        assert_se(etcd_sync_lease_grant(env->admin, ttl, 0, &resp) >= 0);
        return resp->lease_id;
}

_unused_ static void test_put_machine(TestEnv *env, const char *prefix, const char *id, char **metadata,
                                      int64_t lease) {
        _cleanup_free_ char *key = NULL, *json = NULL;
        RegistryMachine m = {
                .id = (char *) id,
                .metadata = metadata,
                .version = (char *) FLEET_VERSION,
                .agent_ttl_sec = 10,
        };

        key = registry_machine_key(prefix, id);
        assert_se(key);
        assert_se(registry_machine_to_json(&m, &json) >= 0);
        assert_se(etcd_sync_put(env->admin, key, json, strlen(json), lease, 0, NULL) >= 0);
}

/* The JSON of a unit record for text (canonicalized and hashed as fleetctl does). */
_unused_ static char *test_unit_json(const char *name, const char *text, UnitDesiredState desired) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *raw = NULL;
        char hash[SHA1_HEX_SIZE], *json = NULL;
        RegistryUnit record = { .name = (char *) name, .desired = desired };

        assert_se(unit_file_parse(text, strlen(text), &u, NULL) >= 0);
        assert_se(unit_file_serialize(u, &raw, NULL) >= 0);
        assert_se(unit_file_hash_hex(u, hash) >= 0);
        record.raw = raw;
        record.hash = hash;
        assert_se(registry_unit_to_json(&record, &json) >= 0);
        return json;
}

_unused_ static void test_put_unit(TestEnv *env, const char *prefix, const char *name, const char *text,
                          UnitDesiredState desired) {
        _cleanup_free_ char *key = NULL, *json = NULL;

        key = registry_unit_key(prefix, name);
        json = test_unit_json(name, text, desired);
        assert_se(key && json);
        assert_se(etcd_sync_put(env->admin, key, json, strlen(json), 0, 0, NULL) >= 0);
}

_unused_ static void test_delete_key(TestEnv *env, char *key) {
        assert_se(key);
        assert_se(etcd_sync_delete(env->admin, key, 0, NULL) >= 0);
        free(key);
}

/* How many keys there are under prefix + sub. */
_unused_ static int64_t test_count(TestEnv *env, const char *prefix, const char *sub) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *key = NULL;

        assert_se(asprintf(&key, "%s%s", prefix, sub) >= 0);
        assert_se(etcd_sync_range(env->admin,
                                  &(EtcdRangeOptions) { .key = key, .flags = ETCD_PREFIX | ETCD_COUNT_ONLY },
                                  &resp) >= 0);
        return resp->count;
}

/* The machines unit is assigned to, sorted. */
_unused_ static char **test_unit_machines(TestEnv *env, const char *prefix, const char *unit) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *key = NULL;
        char **l = NULL;

        key = registry_schedule_prefix(prefix);
        assert_se(key);
        assert_se(etcd_sync_range(env->admin,
                                  &(EtcdRangeOptions) { .key = key, .flags = ETCD_PREFIX | ETCD_KEYS_ONLY },
                                  &resp) >= 0);
        for (size_t i = 0; i < resp->n_kvs; i++) {
                _cleanup_free_ char *m = NULL, *u = NULL;

                assert_se(registry_parse_key(prefix, resp->kvs[i].key, &m, &u) == REGISTRY_KEY_ASSIGNMENT);
                if (streq(u, unit))
                        assert_se(strv_consume(&l, TAKE_PTR(m)) >= 0);
        }
        return strv_sort(l);
}

/* The assignment record of unit on machine, or NULL. */
_unused_ static RegistryAssignment *test_get_assignment(TestEnv *env, const char *prefix,
                                                        const char *machine, const char *unit) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *key = NULL;
        RegistryAssignment *a = NULL;

        key = registry_assignment_key(prefix, machine, unit);
        assert_se(key);
        assert_se(etcd_sync_range(env->admin, &(EtcdRangeOptions) { .key = key }, &resp) >= 0);
        if (resp->n_kvs == 0)
                return NULL;
        assert_se(registry_assignment_from_json(resp->kvs[0].value, resp->kvs[0].value_size, &a) >= 0);
        return a;
}

/* The reason text written for unit, or NULL. */
_unused_ static char *test_get_reason(TestEnv *env, const char *prefix, const char *unit) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *key = NULL;

        key = registry_reason_key(prefix, unit);
        assert_se(key);
        assert_se(etcd_sync_range(env->admin, &(EtcdRangeOptions) { .key = key }, &resp) >= 0);
        if (resp->n_kvs == 0)
                return NULL;
        return strndup(resp->kvs[0].value, resp->kvs[0].value_size);
}

_unused_ static Engine *test_engine_new(TestEnv *env, const char *prefix, const char *machine_id,
                                        int64_t ttl) {
        Engine *e = NULL;

        assert_se(engine_new(&e, env->loop, env->client,
                             &(EngineConfig) { .key_prefix = prefix, .machine_id = machine_id,
                                               .lease_ttl_sec = ttl }) >= 0);
        assert_se(engine_start(e) >= 0);
        return e;
}
