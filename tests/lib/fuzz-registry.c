/* SPDX-License-Identifier: Apache-2.0 */

/* Fuzz target of the registry: every record decoder and the key parser, as the leader, the agents
 * and fleetctl meet them in etcd (anyone with write access to etcd can put anything there). Beyond
 * "no crash, no leak": a record that decodes encodes, and decodes again to the same encoding; a key
 * that parses is rebuilt from its parts to the same key. The input's first line is tried as a key,
 * the whole input as each record type.
 * With clang, as "fuzz-registry-libfuzzer" (see tests/unitgen/fuzz-compose.c for the build). */

#include "registry.h"

#ifndef FUZZING_ENGINE
#include "fuzz-replay.h"
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

#define P REGISTRY_DEFAULT_PREFIX

static void check_key(const char *key) {
        _cleanup_free_ char *a = NULL, *b = NULL, *rebuilt = NULL;
        int t;

        t = registry_parse_key(P, key, &a, &b);
        assert_se(t >= 0 || t == -EINVAL);
        switch (t) {
        case REGISTRY_KEY_MACHINE:
                rebuilt = registry_machine_key(P, a);
                break;
        case REGISTRY_KEY_UNIT:
                rebuilt = registry_unit_key(P, a);
                break;
        case REGISTRY_KEY_ASSIGNMENT:
                rebuilt = registry_assignment_key(P, a, b);
                break;
        case REGISTRY_KEY_STATE:
                rebuilt = registry_state_key(P, a, b);
                break;
        case REGISTRY_KEY_LEADER:
                rebuilt = registry_leader_key(P);
                break;
        case REGISTRY_KEY_REASON:
                rebuilt = registry_reason_key(P, a);
                break;
        default:
                return;
        }
        assert_se(rebuilt && streq(rebuilt, key));
}

/* decode → encode → decode → encode gives the same text twice. */
#define ROUND_TRIP(kind, Type, json, size)                                                      \
        do {                                                                                    \
                _cleanup_(registry_##kind##_freep) Type *x = NULL, *y = NULL;                   \
                _cleanup_free_ char *j1 = NULL, *j2 = NULL;                                     \
                int _r = registry_##kind##_from_json(json, size, &x);                           \
                                                                                                \
                assert_se(_r == 0 || _r == -EBADMSG || _r == -EINVAL);                          \
                if (_r == 0) {                                                                  \
                        _r = registry_##kind##_to_json(x, &j1);                                 \
                        assert_se(_r == 0 || _r == -EINVAL);                                    \
                        if (_r == 0) {                                                          \
                                assert_se(registry_##kind##_from_json(j1, strlen(j1), &y) == 0); \
                                assert_se(registry_##kind##_to_json(y, &j2) == 0);              \
                                assert_se(streq(j1, j2));                                       \
                        }                                                                       \
                }                                                                               \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *json = (const char *) data;
        _cleanup_free_ char *key = NULL;

        ROUND_TRIP(machine, RegistryMachine, json, size);
        ROUND_TRIP(unit, RegistryUnit, json, size);
        ROUND_TRIP(assignment, RegistryAssignment, json, size);
        ROUND_TRIP(unit_state, RegistryUnitState, json, size);
        ROUND_TRIP(leader, RegistryLeader, json, size);

        const char *nl = memchr(json, '\n', size);

        key = strndup(json, nl ? (size_t) (nl - json) : size);
        assert_se(key);
        check_key(key);
        return 0;
}

#ifndef FUZZING_ENGINE
int main(int argc, char *argv[]) {
        return fuzz_replay_main(argc, argv, "{}[]\":,\\/u0\n");
}
#endif
