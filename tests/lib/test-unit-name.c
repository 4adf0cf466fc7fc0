/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "tap.h"
#include "unit-name.h"

static void test_valid(void) {
        char long_name[UNIT_NAME_MAX + 2];
        const char *reason = NULL;

        ok(unit_name_is_valid("web.service"), "plain service");
        ok(unit_name_is_valid("a-b_c:d.e@1.2.timer"), "every allowed character");
        ok(unit_name_is_valid("foo@.service") && unit_name_is_valid("foo@1.socket"), "template, instance");
        ok(!unit_name_is_valid("web"), "no suffix");
        ok(!unit_name_is_valid("web.foo"), "unknown suffix");
        ok(!unit_name_is_valid("a/b.service"), "path separator");
        ok(!unit_name_is_valid("a b.service"), "space");
        ok(!unit_name_is_valid(".service"), "empty name before the suffix");
        ok(!unit_name_is_valid("a@b@c.service"), "two '@'");
        ok(!unit_name_is_valid("@.service"), "empty prefix");
        ok(!unit_name_is_valid(""), "empty");

        memset(long_name, 'a', sizeof(long_name));
        memcpy(long_name + UNIT_NAME_MAX - 8, ".service", 9);
        ok(unit_name_is_valid(long_name), "255 characters is allowed (systemd's limit)");
        memset(long_name, 'a', sizeof(long_name));
        memcpy(long_name + UNIT_NAME_MAX - 7, ".service", 9);
        is_int(unit_name_check(long_name, &reason), -EINVAL, "256 characters is not");
        ok(reason && strstr(reason, "255"), "and the reason says why");

        for (const char *const *t = (const char *const[]) { "service", "socket", "device", "mount",
                                                            "automount", "swap", "target", "path",
                                                            "timer", "snapshot", "slice", "scope",
                                                            NULL }; *t; t++)
                if (!ok(unit_type_is_known(*t), "type %s is known", *t))
                        break;
}

static void test_normalize(void) {
        static const char *const cases[][2] = {
                { "web", "web.service" },
                { "web.1", "web.1.service" },
                { "web.socket", "web.socket" },
                { "hello@1", "hello@1.service" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;

                assert_se(unit_name_fleetctl_normalize(cases[i][0], &s) == 0);
                is_str(s, cases[i][1], "fleetctl normalizes %s", cases[i][0]);
        }
}

static void test_template_instance(void) {
        _cleanup_free_ char *p = NULL, *i = NULL, *t = NULL, *n = NULL, *b = NULL, *p2 = NULL, *i2 = NULL;

        ok(unit_name_is_template("foo@.service") && !unit_name_is_instance("foo@.service"), "template");
        ok(unit_name_is_instance("foo@1.service") && !unit_name_is_template("foo@1.service"), "instance");
        ok(!unit_name_is_template("foo.service") && !unit_name_is_instance("foo.service"), "neither");
        ok(unit_name_template_type_ok("foo@.timer") && !unit_name_template_type_ok("foo@.mount"),
           "template types are limited");

        assert_se(unit_name_to_prefix("foo@1.service", &p) == 0);
        is_str(p, "foo", "prefix");
        assert_se(unit_name_to_instance("foo@1.service", &i) == 0);
        is_str(i, "1", "instance");
        assert_se(unit_name_template_of("foo@1.service", &t) == 0);
        is_str(t, "foo@.service", "template of an instance");
        is_int(unit_name_template_of("foo.service", &n), -EINVAL, "a plain unit has no template");
        assert_se(unit_name_build_instance("web@.socket", "a.b", &b) == 0);
        is_str(b, "web@a.b.socket", "build an instance");
        is_int(unit_name_build_instance("web.socket", "1", &n), -EINVAL, "not a template");
        is_int(unit_name_build_instance("web@.socket", "", &n), -EINVAL, "empty instance");
        assert_se(unit_name_to_prefix("plain.service", &p2) == 0);
        is_str(p2, "plain", "prefix of a plain unit");
        assert_se(unit_name_to_instance("plain.service", &i2) == 0);
        is_str(i2, "", "instance of a plain unit is empty");
        is_int(unit_name_to_prefix("nosuffix", &n), -EINVAL, "no suffix");
}

static void test_specifiers(void) {
        static const char *const cases[][3] = {
                { "hostname=%i", "metadata@smoke1.service", "hostname=smoke1" },
                { "%n %N %p %i", "web@a.b.service", "web@a.b.service web@a.b web a.b" },
                { "100%% %x %", "a@1.service", "100% %x %" },
                { "%p-%i", "db.service", "db-" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;

                assert_se(unit_name_specifier_expand(cases[i][0], cases[i][1], &s) == 0);
                is_str(s, cases[i][2], "'%s' for %s", cases[i][0], cases[i][1]);
        }
}

static void test_braces(void) {
        const struct {
                const char *pattern;
                char **expected;
        } cases[] = {
                { "web@{1..3}.service", STRV_MAKE("web@1.service", "web@2.service", "web@3.service") },
                { "{a,b}.service", STRV_MAKE("a.service", "b.service") },
                { "x{3..1}", STRV_MAKE("x3", "x2", "x1") },
                { "n{08..10}", STRV_MAKE("n08", "n09", "n10") },
                { "{a,b}@{1..2}", STRV_MAKE("a@1", "a@2", "b@1", "b@2") },
                { "plain.service", STRV_MAKE("plain.service") },
                { "odd{x}.service", STRV_MAKE("odd{x}.service") },
                { "open{1..2", STRV_MAKE("open{1..2") },
        };
        char **l = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **r = NULL;
                _cleanup_free_ char *j = NULL;

                assert_se(unit_name_expand_braces(cases[i].pattern, &r) == 0);
                j = strv_join(r, ",");
                if (!ok(strv_equal(r, cases[i].expected), "expand %s", cases[i].pattern))
                        diag("got %s", j);
        }
        is_int(unit_name_expand_braces("a{1..200000}", &l), -E2BIG, "too many results");
        is_int(unit_name_expand_braces("a{1..1000}{1..1000}", &l), -E2BIG, "product too large");
}

int main(void) {
        test_valid();
        test_normalize();
        test_template_instance();
        test_specifiers();
        test_braces();
        return done_testing();
}
