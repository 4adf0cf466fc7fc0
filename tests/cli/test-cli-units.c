/* SPDX-License-Identifier: Apache-2.0 */

/* Arguments to unit names (fleet's rules), brace expansion, unit records from text, globs. */

#include "cli-units.h"
#include "strv.h"
#include "tap.h"

static void test_names(void) {
        static const struct {
                const char *arg, *name;
        } good[] = {
                { "hello.service", "hello.service" },
                { "hello", "hello.service" },
                { "web.1", "web.1.service" },
                { "units/web@1.service", "web@1.service" },
                { "/abs/path/to/db.socket", "db.socket" },
                { "foo@.service", "foo@.service" },
                { "a:b_c-d.timer", "a:b_c-d.timer" },
        };
        static const char *const bad[] = {
                "",
                "dir/",
                "hello world.service",
                "x$y.service",
                "a@b@c.service",
                "caf\xc3\xa9.service",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *n = NULL;

                is_int(cli_unit_name_from_arg(good[i].arg, &n, NULL), 0, "'%s' is a unit", good[i].arg);
                is_str(n, good[i].name, "'%s' names %s", good[i].arg, good[i].name);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *reason = NULL;
                char *n = NULL;

                is_int(cli_unit_name_from_arg(bad[i], &n, &reason), -EINVAL, "'%s' is refused", bad[i]);
                ok(!n && reason && reason[0], "with a reason (%s) and no name", strna(reason));
        }

        _cleanup_free_ char *longname = malloc(300), *n = NULL;
        assert_se(longname);
        memset(longname, 'a', 248);
        strcpy(longname + 248, ".service");     /* 256 characters */
        is_int(cli_unit_name_from_arg(longname, &n, NULL), -EINVAL,
               "256 characters are too many (the agent could not write the file)");
        longname[247] = 0;
        strcat(longname, ".service");           /* 255 */
        is_int(cli_unit_name_from_arg(longname, &n, NULL), 0, "255 characters are fine");
}

static void test_expand(void) {
        _cleanup_strv_free_ char **l = NULL, **big = NULL;
        _cleanup_free_ char *j = NULL;

        is_int(cli_expand_args(STRV_MAKE("web@{1..3}.service", "db.service", "x{a,b}"), &l), 0, "expand");
        j = strv_join(l, " ");
        is_str(j, "web@1.service web@2.service web@3.service db.service xa xb", "braces expanded in order");
        is_int(cli_expand_args(STRV_MAKE("a{1..1000}{1..1000}"), &big), -E2BIG, "a million results are refused");
        ok(!big, "nothing returned then");
}

static void test_from_text(void) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL, *u2 = NULL, *inst = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL, *error3 = NULL;
        RegistryUnit *none = NULL;
        const char *text = "[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 1000\n";
        const char *messy = "# comment\n[Unit]\n  Description = Hello  \n[Service]\nExecStart=/bin/sleep \\\n 1000\n";

        is_int(cli_unit_from_text("hello.service", text, strlen(text), &u, &error), 0, "a plain unit");
        if (u) {
                is_str(u->name, "hello.service", "name");
                is_str(u->raw, text, "canonical text kept");
                is_int(strlen(u->hash), 40, "a full hash");
                is_int(u->desired, UNIT_DESIRED_INACTIVE, "submitted units are inactive");
        }
        is_int(cli_unit_from_text("hello.service", messy, strlen(messy), &u2, NULL), 0, "a messy unit");
        ok(u2 && startswith(u2->raw, "[Unit]\nDescription=Hello\n\n[Service]\n") && !strstr(u2->raw, "#"),
           "stored canonically: comments and spacing dropped");

        const char *conflict = "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineID=abc\nGlobal=true\n";
        is_int(cli_unit_from_text("a.service", conflict, strlen(conflict), &none, &error2), -EINVAL,
               "MachineID with Global is refused");
        ok(error2 && strstr(error2, "MachineID") && strstr(error2, "Global"), "the message names the options: %s",
           strna(error2));
        ok(!none, "no unit then");

        const char *broken = "ExecStart=/bin/true\n";
        is_int(cli_unit_from_text("a.service", broken, strlen(broken), &none, &error3), -EINVAL,
               "an assignment outside a section is refused");
        ok(error3 && strstr(error3, "line 1"), "with its line: %s", strna(error3));

        const char *tmpl = "[Service]\nExecStart=/bin/echo %i\n[X-Fleet]\nMachineMetadata=host=%i\n";
        is_int(cli_unit_from_text("m@smoke1.service", tmpl, strlen(tmpl), &inst, NULL), 0,
               "an instance of a template with specifiers");
        ok(inst && strstr(inst->raw, "%i"), "the body keeps its specifiers (systemd expands them)");

        _cleanup_(registry_unit_freep) RegistryUnit *w = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        const char *odd = "[Service]\nExecStart=/bin/true\n[X-Fleet]\nFoo=1\nX-Conflicts=b.service\n";
        is_int(cli_unit_from_text_full("a.service", odd, strlen(odd), &w, &warnings, NULL), 0,
               "unknown and deprecated options are not errors");
        ok(strv_length(warnings) == 2 && strstr(warnings[0], "Foo") && strstr(warnings[1], "X-Conflicts"),
           "but come back as warnings, from the one parse");
}

static void test_resolve(void) {
        _cleanup_strv_free_ char **l = NULL, **l2 = NULL;
        char **known = STRV_MAKE("a.service", "hello@1.service", "hello@2.service", "hello@.service", "z.socket");
        _cleanup_free_ char *j = NULL;
        const char *missing = NULL;
        char **none = NULL;

        is_int(cli_resolve_names(STRV_MAKE("hello@?.service", "z.socket", "a", "hello@1.service"), known, &l,
                                 &missing), 0, "resolve globs and names");
        j = strv_join(l, " ");
        is_str(j, "hello@1.service hello@2.service z.socket a.service", "globs expanded, duplicates dropped");

        is_int(cli_resolve_names(STRV_MAKE("nothing*"), known, &none, &missing), -ENOENT, "a glob matching nothing");
        is_str(missing, "nothing*", "names the glob");
        is_int(cli_resolve_names(STRV_MAKE("bad name"), known, &l2, &missing), -EINVAL, "a bad name");
        is_str(missing, "bad name", "names the argument");
        ok(cli_arg_is_glob("a*") && cli_arg_is_glob("[ab].service") && !cli_arg_is_glob("a.service"), "globs");
}

int main(void) {
        test_names();
        test_expand();
        test_from_text();
        test_resolve();
        return done_testing();
}
