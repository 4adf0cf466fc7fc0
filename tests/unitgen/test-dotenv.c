/* SPDX-License-Identifier: Apache-2.0 */

#include "dotenv.h"
#include "strv.h"
#include "tap.h"

static const char *lookup(const char *name, void *userdata) {
        return streq(name, "OUTER") ? "outer" : NULL;
}

int main(void) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *error = NULL;
        unsigned line = 0;
        int r;

        r = dotenv_parse("# comment\n"
                         "A=1\n"
                         "export B = two words  \n"
                         "C='single $A # kept'\n"
                         "D=\"double ${A}\\n\\\"q\\\" \\$A\"\n"
                         "E=value # comment\n"
                         "F=a#b\n"
                         "G=\n"
                         "H\n"
                         "I=\"multi\n"
                         "line\"\n"
                         "J=${OUTER}-${A}\n"
                         "A=override\n",
                         lookup, NULL, &env, &line, &error);
        is_int(r, 0, "parses");
        is_str(dotenv_get(env, "A"), "override", "a later definition wins");
        is_str(dotenv_get(env, "B"), "two words", "export prefix, spaces trimmed");
        is_str(dotenv_get(env, "C"), "single $A # kept", "single quotes are literal");
        is_str(dotenv_get(env, "D"), "double 1\n\"q\" $A", "double quotes: escapes and interpolation");
        is_str(dotenv_get(env, "E"), "value", "inline comment after whitespace");
        is_str(dotenv_get(env, "F"), "a#b", "no comment without whitespace");
        is_str(dotenv_get(env, "G"), "", "empty value");
        ok(!dotenv_get(env, "H") && strv_contains(env, "H"), "a bare name is kept without value");
        is_str(dotenv_get(env, "I"), "multi\nline", "double quotes span lines");
        is_str(dotenv_get(env, "J"), "outer-1", "interpolation sees the environment and earlier lines");

        env = strv_free(env);
        r = dotenv_parse("A=1\nB C=2\n", NULL, NULL, &env, &line, &error);
        ok(r == -EINVAL && line == 2 && error, "a space in a name is an error, with its line");
        error = mfree(error);
        r = dotenv_parse("A=1\n\nB=\"open\n", NULL, NULL, &env, &line, &error);
        ok(r == -EINVAL && line == 3 && streq_ptr(error, "unterminated quoted value"), "unterminated quote");
        error = mfree(error);
        r = dotenv_parse("A=${X:?need X}\n", NULL, NULL, &env, &line, &error);
        ok(r == -EINVAL && line == 1 && streq_ptr(error, "required variable X is missing a value: need X"),
           "interpolation errors carry through");
        return done_testing();
}
