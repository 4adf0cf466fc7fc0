/* SPDX-License-Identifier: Apache-2.0 */

#include <fnmatch.h>
#include "strv.h"
#include "tap.h"
#include "time-util.h"
#include "xfleet.h"

static XFleetOptions *parse(const char *text, const char *name, char **error) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        XFleetOptions *x = NULL;

        assert_se(unit_file_parse(text, strlen(text), &u, NULL) == 0);
        if (xfleet_options_parse(u, name, &x, error) < 0)
                return NULL;
        return x;
}

static void test_parse(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[Unit]\nDescription=x\n"
                "[X-Fleet]\n"
                "MachineID=abcdef0123456789\n"
                "MachineID=ignored\n"
                "MachineOf=db.service\n"
                "MachineMetadata=\"region=us\" \"disk=ssd\"\n"
                "MachineMetadata=region=eu role!=edge\n"
                "Conflicts=web@*.service  cache.service\n"
                "Conflicts=other.service\n"
                "Replaces=old.service\n"
                "Global=true\n"
                "Global=no\n"
                "Frobnicate=1\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;

        assert_se(x);
        is_str(x->machine_id, "abcdef0123456789", "first MachineID wins");
        ok(strv_equal(x->machine_of, STRV_MAKE("db.service")), "MachineOf");
        ok(strv_equal(x->machine_metadata, STRV_MAKE("region=us", "disk=ssd", "region=eu", "role!=edge")),
           "quoted and whitespace-separated metadata values");
        ok(strv_equal(x->conflicts, STRV_MAKE("web@*.service", "cache.service", "other.service")),
           "Conflicts split at whitespace and repeatable");
        ok(strv_equal(x->replaces, STRV_MAKE("old.service")), "Replaces");
        ok(!x->global, "last Global wins");
        ok(strv_length(x->warnings) == 1 && strstr(x->warnings[0], "Frobnicate"), "unknown key warns");

        assert_se(xfleet_options_copy(x, &c) == 0);
        ok(strv_equal(c->conflicts, x->conflicts) && streq(c->machine_id, x->machine_id), "copy");
        ok(xfleet_options_equal(x, c), "a copy is equal");
        c->global = !c->global;
        ok(!xfleet_options_equal(x, c), "a changed copy is not");
        ok(xfleet_options_equal(NULL, NULL) && !xfleet_options_equal(NULL, x), "NULL equals only an empty set");
        ok(!xfleet_options_is_empty(x), "not empty");
}

static void test_deprecated_and_specifiers(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[X-Fleet]\n"
                "X-ConditionMachineOf=%p-db@%i.service\n"
                "X-ConditionMachineMetadata=hostname=%i\n"
                "X-Conflicts=%N-*\n"
                "X-ConditionMachineBootID=bootid123\n", "metadata@smoke1.service", NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *y = parse(
                "[X-Fleet]\nX-ConditionMachineID=m1\nX-ConditionMachineBootID=b1\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *e = parse("[Unit]\nA=b\n", NULL, NULL);

        assert_se(x && y && e);
        ok(strv_equal(x->machine_of, STRV_MAKE("metadata-db@smoke1.service")), "old MachineOf with %%p %%i");
        ok(strv_equal(x->machine_metadata, STRV_MAKE("hostname=smoke1")), "old MachineMetadata with %%i");
        ok(strv_equal(x->conflicts, STRV_MAKE("metadata@smoke1-*")), "old Conflicts with %%N");
        is_str(x->machine_id, "bootid123", "BootID is the fallback MachineID");
        is_int(strv_length(x->warnings), 4, "each deprecated name warns");
        is_str(y->machine_id, "m1", "MachineID wins over BootID");
        ok(xfleet_options_is_empty(e) && xfleet_options_is_empty(NULL), "no [X-Fleet] is empty");
}

static void test_parse_errors(void) {
        static const char *const bad[] = {
                "[X-Fleet]\nMachineMetadata=region\n",
                "[X-Fleet]\nMachineMetadata==us\n",
                "[X-Fleet]\nMachineMetadata=region=\n",
                "[X-Fleet]\nMachineMetadata=a=b=c\n",
                "[X-Fleet]\nMachineMetadata=!=x\n",
                "[X-Fleet]\nMachineMetadata=\"a=b\n",
                "[X-Fleet]\nGlobal=maybe\n",
        };
        /* Reservations and placement knobs: the message names the key and the value. */
        static const char *const bad_named[][2] = {
                { "ReserveCPU=lots", "ReserveCPU=lots" },
                { "ReserveCPU=0.0001", "ReserveCPU=0.0001" },
                { "ReserveCPU=-1", "ReserveCPU=-1" },
                { "ReserveMemory=4X", "ReserveMemory=4X" },
                { "ReserveMemory=", "ReserveMemory=" },
                { "ReserveResource=gpu", "ReserveResource=gpu" },
                { "ReserveResource=gpu=1.5", "ReserveResource=gpu=1.5" },
                { "ReserveResource=nvidia.com/gpu=1", "ReserveResource=nvidia.com/gpu=1" },
                { "MaxReplicasPerMachine=0", "MaxReplicasPerMachine=0" },
                { "MaxReplicasPerMachine=two", "MaxReplicasPerMachine=two" },
                { "SpreadMetadata=zone=a", "SpreadMetadata=zone=a" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *msg = NULL;
                XFleetOptions *x = parse(bad[i], NULL, &msg);

                ok(!x && msg, "rejected: %s", bad[i] + 10);
                xfleet_options_free(x);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_named); i++) {
                _cleanup_free_ char *text = NULL, *msg = NULL;
                XFleetOptions *x;

                assert_se(asprintf(&text, "[X-Fleet]\n%s\n", bad_named[i][0]) >= 0);
                x = parse(text, NULL, &msg);
                ok(!x && msg && strstr(msg, bad_named[i][1]), "rejected, named: %s (%s)", bad_named[i][0], strna(msg));
                xfleet_options_free(x);
        }
}

static void test_resources(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[X-Fleet]\nReserveCPU=1.5\nReserveMemory=4G\nReserveResource=gpu=1\nReserveResource=gpu=1\n"
                "ReserveResource=fpga=2\nMaxReplicasPerMachine=3\nSpreadMetadata=zone\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL, *other = NULL;

        assert_se(x);
        is_int(x->reserve.cpu_milli, 1500, "ReserveCPU in thousandths");
        is_int(x->reserve.memory, 4LL << 30, "ReserveMemory in bytes");
        is_int(resources_get_extra(&x->reserve, "gpu"), 2, "ReserveResource repeats add up");
        is_int(resources_get_extra(&x->reserve, "fpga"), 2, "and several names");
        is_int(x->max_per_machine, 3, "MaxReplicasPerMachine");
        is_str(x->spread_metadata, "zone", "SpreadMetadata");
        ok(!xfleet_options_is_empty(x), "not empty");
        assert_se(xfleet_options_copy(x, &c) == 0);
        ok(xfleet_options_equal(x, c), "a copy is equal");
        other = parse("[X-Fleet]\nReserveCPU=1.5\nReserveMemory=4G\n", NULL, NULL);
        ok(!xfleet_options_equal(x, other), "different reservations differ");

        _cleanup_(xfleet_options_freep) XFleetOptions *g = parse("[X-Fleet]\nGlobal=true\nSpreadMetadata=zone\n", NULL, NULL);
        _cleanup_free_ char *msg = NULL;
        ok(g && xfleet_options_validate(g, NULL, &msg) == -EINVAL && strstr(msg, "SpreadMetadata"),
           "Global with SpreadMetadata is refused");
}

static void test_validate(void) {
        static const struct {
                const char *text;
                const char *needle;
        } cases[] = {
                { "MachineID=a\nMachineOf=b.service\n", "MachineID cannot be used with MachineOf" },
                { "MachineID=a\nConflicts=b*\n", "MachineID cannot be used with Conflicts" },
                { "MachineID=a\nGlobal=true\n", "MachineID cannot be used with Global" },
                { "MachineID=a\nReplaces=b.service\n", "MachineID cannot be used with Replaces" },
                { "Global=true\nMachineOf=b.service\n", "Global cannot be used with MachineOf" },
                { "Global=true\nReplaces=b.service\n", "Global cannot be used with Replaces" },
                { "Conflicts=a*\nReplaces=b.service\n", "Conflicts cannot be used with Replaces" },
                { "MachineOf=db.service\nConflicts=d*\n", "peer 'db.service' matches Conflicts" },
                { "MachineOf=db.service\nReplaces=db.*\n", "peer 'db.service' matches Replaces" },
                { "Global=true\nMoveAfterFailures=2\n", "Global cannot be used with MoveAfterFailures" },
                { "Global=true\nFailureWindow=1min\n", "Global cannot be used with FailureWindow" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = NULL, *msg = NULL;
                _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;

                assert_se(asprintf(&text, "[X-Fleet]\n%s", cases[i].text) >= 0);
                x = parse(text, NULL, NULL);
                assert_se(x);
                ok(xfleet_options_validate(x, "u.service", &msg) == -EINVAL && msg &&
                   strstr(msg, cases[i].needle), "%s", cases[i].needle);
        }

        _cleanup_(xfleet_options_freep) XFleetOptions *good = parse(
                "[X-Fleet]\nMachineOf=db.service\nConflicts=web*\nMachineMetadata=a=b\n", NULL, NULL);
        assert_se(good);
        is_int(xfleet_options_validate(good, "u.service", NULL), 0, "a compatible combination passes");
}

static void test_add(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = xfleet_options_new();
        _cleanup_free_ char *msg = NULL;

        assert_se(x);
        ok(xfleet_option_is_known("Replaces") && xfleet_option_is_known("X-ConditionMachineBootID") &&
           !xfleet_option_is_known("MachineMeta") && !xfleet_option_is_known(NULL), "the known option names");
        is_int(xfleet_options_add(x, "X-ConditionMachineBootID", "boot1", NULL, NULL), 0, "boot ID first");
        is_str(x->machine_id, "boot1", "stands in for MachineID");
        is_int(xfleet_options_add(x, "MachineID", "m1", NULL, NULL), 0, "then a MachineID");
        is_str(x->machine_id, "m1", "which replaces the boot ID");
        is_int(xfleet_options_add(x, "MachineID", "m2", NULL, NULL), 0, "a second MachineID");
        is_str(x->machine_id, "m1", "is ignored: the first wins");
        is_int(xfleet_options_add(x, "Global", "maybe", NULL, &msg), -EINVAL, "a bad value is refused");
        ok(msg && strstr(msg, "Global=maybe"), "with a message naming it");
        is_int(xfleet_options_add(x, "Frob", "1", NULL, NULL), 0, "an unknown name is not an error");
        ok(strv_length(x->warnings) == 2 && strstr(x->warnings[0], "deprecated") &&
           strstr(x->warnings[1], "Frob"), "but warns, as the deprecated boot ID did");
        is_int(xfleet_options_add(x, "Conflicts", "%p-*", "web@1.service", NULL), 0, "specifiers");
        ok(strv_equal(x->conflicts, STRV_MAKE("web-*")), "are expanded for the unit's name");
}

static void test_metadata_match(void) {
        char **m = STRV_MAKE("region=us", "disk=ssd", "hostname=smoke1");

        ok(xfleet_metadata_match(NULL, m), "no requirement");
        ok(xfleet_metadata_match(STRV_MAKE("region=us"), m), "one key");
        ok(xfleet_metadata_match(STRV_MAKE("region=eu", "region=us"), m), "same key: OR");
        ok(!xfleet_metadata_match(STRV_MAKE("region=eu", "region=ap"), m), "same key, no value matches");
        ok(xfleet_metadata_match(STRV_MAKE("region=us", "disk=ssd"), m), "different keys: AND");
        ok(!xfleet_metadata_match(STRV_MAKE("region=us", "disk=hdd"), m), "AND fails on one key");
        ok(!xfleet_metadata_match(STRV_MAKE("region!=us"), m), "!= excludes the value");
        ok(xfleet_metadata_match(STRV_MAKE("region!=eu"), m), "!= another value holds");
        ok(xfleet_metadata_match(STRV_MAKE("role!=edge"), m), "!= holds on a machine without the key");
        ok(!xfleet_metadata_match(STRV_MAKE("region!=eu", "region!=us"), m), "several != for one key");
        ok(xfleet_metadata_match(STRV_MAKE("region=us", "region!=eu", "disk=ssd"), m), "mixed");
        ok(!xfleet_metadata_match(STRV_MAKE("region=us"), NULL), "a machine without metadata");
        ok(!xfleet_metadata_match(STRV_MAKE("bad"), m), "malformed requirement never matches");
        ok(!xfleet_metadata_match(STRV_MAKE("reg=us"), m), "key prefix is not the key");
}

static void test_match_helpers(void) {
        ok(xfleet_machine_id_match("0123456789abcdef", "0123456789abcdef"), "full ID");
        ok(xfleet_machine_id_match("01234567", "0123456789abcdef"), "8-character short ID");
        ok(xfleet_machine_id_match("0123456789", "0123456789abcdef"), "longer prefix");
        ok(!xfleet_machine_id_match("0123", "0123456789abcdef"), "too short a prefix");
        ok(!xfleet_machine_id_match("01234568", "0123456789abcdef"), "other machine");

        ok(xfleet_glob_match("web@*.service", "web@1.service"), "star");
        ok(!xfleet_glob_match("web@*.service", "web.service"), "star needs the literal parts");
        ok(xfleet_glob_match("conflict.?.service", "conflict.3.service"), "question mark");
        ok(xfleet_glob_match("db[0-9].service", "db7.service"), "class");
        ok(!xfleet_glob_match("db[^0-9].service", "db7.service"), "negated class");
        ok(xfleet_glob_match("exact.service", "exact.service") &&
           !xfleet_glob_match("exact.service", "exact.socket"), "no metacharacters: exact");
        ok(xfleet_globs_match(STRV_MAKE("a*", "b*"), "bee") && !xfleet_globs_match(NULL, "x"), "lists");

        /* A trailing star is matched as a prefix, without fnmatch(): it must agree with it. */
        {
                static const char *const patterns[] = { "web@*", "web@1*", "*", "w*", "web@1.service*",
                                                        "web@*1", "web\\*", "we?@*", ".*", "a/*" };
                static const char *const names[] = { "web@1.service", "web@12.service", "web@.service",
                                                     "web.service", "w", "", ".hidden", "a/b", "web*" };
                bool same = true;

                for (size_t i = 0; i < ELEMENTSOF(patterns); i++)
                        for (size_t j = 0; j < ELEMENTSOF(names); j++)
                                if (xfleet_glob_match(patterns[i], names[j]) !=
                                    (fnmatch(patterns[i], names[j], 0) == 0)) {
                                        diag("%s against %s differs from fnmatch()", patterns[i], names[j]);
                                        same = false;
                                }
                ok(same, "prefix patterns match as fnmatch() does");
        }

        is_int(xfleet_parse_boolean("t"), 1, "t");
        is_int(xfleet_parse_boolean("On"), 1, "On");
        is_int(xfleet_parse_boolean("0"), 0, "0");
        is_int(xfleet_parse_boolean("2"), -EINVAL, "2");
}

static void test_split(void) {
        _cleanup_free_ char *k = NULL, *v = NULL;
        bool neg = false;

        ok(xfleet_metadata_split("role!=edge", &k, &v, &neg) == 0 && streq(k, "role") && streq(v, "edge") && neg,
           "split !=");
        is_int(xfleet_metadata_split("=x", &k, &v, &neg), -EINVAL, "empty key");
}

/* The leader went from 12 MB to 368 MB on one such unit: a 248-character name, 120 MachineOf=
 * lines of 4000 "%n" each (960 KB). */
static void test_expansion_bounded(void) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *text = NULL, *name = NULL, *error = NULL, *words = NULL;
        XFleetOptions *x = NULL;
        FILE *f;
        size_t size;

        name = malloc(249);
        assert_se(name);
        memset(name, 'a', 240);
        strcpy(name + 240, ".service");
        f = open_memstream(&text, &size);
        assert_se(f);
        fputs("[X-Fleet]\n", f);
        for (int i = 0; i < 120; i++) {
                fputs("MachineOf=", f);
                for (int j = 0; j < 4000; j++)
                        fputs("%n", f);
                fputc('\n', f);
        }
        assert_se(fclose(f) == 0);
        assert_se(unit_file_parse(text, size, &u, NULL) == 0);
        is_int(xfleet_options_parse(u, name, &x, &error), -EINVAL, "a value expanding past 64 KiB is refused");
        is_str(error, "[X-Fleet] MachineOf= expands to more than 65536 bytes", "and says so");
        error = mfree(error);
        u = unit_file_free(u);

        /* Without specifiers: 1 MiB of words would stay in the leader's memory as 500,000 strings. */
        words = malloc(40001);
        assert_se(words);
        for (int i = 0; i < 40000; i += 2)
                memcpy(words + i, "a ", 2);
        words[39999] = 'b';
        words[40000] = 0;
        free(text);
        assert_se(asprintf(&text, "[X-Fleet]\nConflicts=%s\nConflicts=%s\n", words, words) > 0);
        assert_se(unit_file_parse(text, strlen(text), &u, NULL) == 0);
        is_int(xfleet_options_parse(u, "w.service", &x, &error), -EINVAL, "two values of 40,000 bytes are refused");
        is_str(error, "[X-Fleet] values add up to more than 65536 bytes", "and says so");
}

/* Each [X-Fleet] line of bad[i][0] is refused with a message holding bad[i][1]. */
static void check_refused(const char *const (*bad)[2], size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL, *msg = NULL;
                XFleetOptions *y;

                assert_se(asprintf(&text, "[X-Fleet]\n%s\n", bad[i][0]) >= 0);
                y = parse(text, NULL, &msg);
                ok(!y && msg && strstr(msg, bad[i][1]), "refused: %s", strna(msg));
                xfleet_options_free(y);
        }
}

static void test_objects(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[X-Fleet]\nSecret=db_pw  mode=0400 target=pw\nSecret=%p-tls\nConfig=app.conf target=/etc/app.conf uid=33\n",
                "web.service", NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;
        _cleanup_free_ char *msg = NULL;

        assert_se(x);
        ok(strv_equal(x->secrets, STRV_MAKE("db_pw target=pw mode=0400", "web-tls")),
           "Secret= kept in canonical form, specifiers expanded");
        ok(strv_equal(x->configs, STRV_MAKE("app.conf target=/etc/app.conf uid=33")), "Config=");
        ok(xfleet_options_is_empty(x), "objects place nothing");
        assert_se(xfleet_options_copy(x, &c) == 0);
        ok(strv_equal(c->secrets, x->secrets) && strv_equal(c->configs, x->configs), "copied");
        is_int(xfleet_options_validate(x, "web.service", NULL), 0, "valid");

        static const char *const bad[][2] = {
                { "Secret=a/b", "Invalid secret name \"a/b\": it must not contain '/'" },
                { "Secret=db\nSecret=db mode=0400", "Secret=db mode=0400: secret db is referred to twice" },
                { "Config=c mode=9", "Config=c mode=9: mode '9' is not an octal mode up to 0777" },
                { "Secret=", "Secret= needs a secret name" },
        };
        check_refused(bad, ELEMENTSOF(bad));
}

static void test_healthcheck(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[X-Fleet]\nHealthcheck=podman app-web-%i 5\n", "app-web@2.service", NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *d = parse("[X-Fleet]\nHealthcheck=docker db\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;
        _cleanup_free_ char *msg = NULL;

        assert_se(x && d);
        is_str(x->health_runtime, "podman", "the runtime");
        is_str(x->health_container, "app-web-2", "the container, specifiers expanded");
        is_int(x->health_interval_sec, 5, "the interval");
        is_int(d->health_interval_sec, 30, "docker's default interval");
        ok(xfleet_options_is_empty(x), "a healthcheck places nothing");
        assert_se(xfleet_options_copy(x, &c) == 0);
        ok(streq_ptr(c->health_container, "app-web-2") && c->health_interval_sec == 5, "copied");

        static const char *const bad[][2] = {
                { "Healthcheck=podman", "Healthcheck=podman is not RUNTIME CONTAINER [INTERVAL]" },
                { "Healthcheck=podman a 5 6", "is not RUNTIME CONTAINER [INTERVAL]" },
                { "Healthcheck=rkt a", "Healthcheck=rkt a: runtime 'rkt' is not podman or docker" },
                { "Healthcheck=podman -x", "'-x' is not a container name" },
                { "Healthcheck=podman a;b", "'a;b' is not a container name" },
                { "Healthcheck=podman a 0", "interval '0' is not 1..86400 seconds" },
                { "Healthcheck=podman a 5s", "interval '5s' is not 1..86400 seconds" },
        };
        check_refused(bad, ELEMENTSOF(bad));
}

static void test_depends_on(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[X-Fleet]\nDependsOn=p-db.service healthy restart\nDependsOn=p-cache@%i.service\n"
                "DependsOn=  p-migrate.service   completed\n", "p-web@2.service", NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;
        _cleanup_free_ char *msg = NULL;

        assert_se(x);
        ok(strv_equal(x->depends_on, STRV_MAKE("p-db.service healthy restart", "p-cache@2.service started",
                                               "p-migrate.service completed")),
           "canonical lines, the condition defaulting to started, specifiers expanded");
        ok(xfleet_options_is_empty(x), "a dependency places nothing");
        assert_se(xfleet_options_copy(x, &c) == 0);
        ok(strv_equal(c->depends_on, x->depends_on), "copied");
        is_int(xfleet_options_validate(x, "p-web@2.service", NULL), 0, "valid");

        static const char *const bad[][2] = {
                { "DependsOn=", "DependsOn= names no unit" },
                { "DependsOn=db", "DependsOn=db: 'db' is not a unit name" },
                { "DependsOn=db@.service", "'db@.service' is a template: name the instances to wait for" },
                { "DependsOn=db.service ready", "DependsOn=db.service ready: 'ready' is not expected here" },
                { "DependsOn=db.service healthy started", "'started' is not expected here" },
                { "DependsOn=db.service restart restart", "'restart' is not expected here" },
                { "DependsOn=db.service\nDependsOn=db.service healthy", "DependsOn=db.service healthy: db.service is named twice" },
        };
        check_refused(bad, ELEMENTSOF(bad));

        xfleet_options_free(c);
        c = parse("[X-Fleet]\nDependsOn=web.service\n", NULL, NULL);
        assert_se(c);
        is_int(xfleet_options_validate(c, "web.service", &msg), -EINVAL, "depending on itself is refused");
        is_str(msg, "DependsOn cannot name the unit itself", "and said so");
}

static void test_move_after_failures(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *d = parse("[X-Fleet]\nMachineMetadata=a=b\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *x = parse(
                "[X-Fleet]\nMoveAfterFailures=5\nFailureWindow=1h 30min\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *o = parse("[X-Fleet]\nMoveAfterFailures=0\n", NULL, NULL);
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;
        _cleanup_free_ char *msg = NULL;

        assert_se(d && x && o);
        is_int(d->move_after_failures, 3, "3 failures by default");
        ok(d->failure_window_usec == 300 * USEC_PER_SEC, "in 5 minutes by default");
        ok(!d->move_after_failures_set && !d->failure_window_set, "defaults are not written");
        is_int(x->move_after_failures, 5, "MoveAfterFailures=5");
        ok(x->failure_window_usec == 90 * USEC_PER_MINUTE, "FailureWindow=1h 30min");
        is_int(o->move_after_failures, 0, "0: never moved");
        ok(xfleet_options_is_empty(x), "they place nothing");
        is_int(xfleet_options_validate(x, "u.service", NULL), 0, "valid alone");
        assert_se(xfleet_options_copy(x, &c) == 0);
        ok(c->move_after_failures == 5 && c->failure_window_usec == 90 * USEC_PER_MINUTE &&
           c->move_after_failures_set && c->failure_window_set, "copied");

        static const char *const bad[][2] = {
                { "MoveAfterFailures=-1", "MoveAfterFailures=-1 is not a whole number 0..1000" },
                { "MoveAfterFailures=1001", "MoveAfterFailures=1001 is not" },
                { "MoveAfterFailures=three", "MoveAfterFailures=three is not" },
                { "MoveAfterFailures=", "MoveAfterFailures= is not" },
                { "FailureWindow=0", "FailureWindow=0 is not a time span of 1s..7d" },
                { "FailureWindow=500ms", "FailureWindow=500ms is not" },
                { "FailureWindow=8d", "FailureWindow=8d is not" },
                { "FailureWindow=5 fortnights", "FailureWindow=5 fortnights is not" },
                { "FailureWindow=", "FailureWindow= is not" },
        };
        check_refused(bad, ELEMENTSOF(bad));
}

int main(void) {
        test_move_after_failures();
        test_depends_on();
        test_objects();
        test_healthcheck();
        test_parse();
        test_deprecated_and_specifiers();
        test_parse_errors();
        test_validate();
        test_add();
        test_resources();
        test_metadata_match();
        test_match_helpers();
        test_split();
        test_expansion_bounded();
        return done_testing();
}
