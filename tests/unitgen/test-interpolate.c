/* SPDX-License-Identifier: Apache-2.0 */

#include "interpolate.h"
#include "strv.h"
#include "tap.h"

static const char *lookup(const char *name, void *userdata) {
        /* SET=value, EMPTY= (set but empty), everything else unset. */
        if (streq(name, "SET"))
                return "value";
        if (streq(name, "EMPTY"))
                return "";
        if (streq(name, "PORT"))
                return "8080";
        return NULL;
}

static void expect(const char *in, const char *out) {
        _cleanup_free_ char *r = NULL, *error = NULL;

        assert_se(interpolate_string(in, lookup, NULL, &r, NULL, &error) == 0);
        is_str(r, out, "\"%s\" → \"%s\"", in, out);
}

static void expect_error(const char *in, const char *message) {
        _cleanup_free_ char *r = NULL, *error = NULL;
        int k;

        k = interpolate_string(in, lookup, NULL, &r, NULL, &error);
        ok(k == -EINVAL && !r && streq_ptr(error, message), "\"%s\" fails: %s", in, message);
        if (error && !streq(error, message))
                diag("got: %s", error);
}

int main(void) {
        _cleanup_strv_free_ char **unset = NULL;
        _cleanup_free_ char *r = NULL;

        expect("plain", "plain");
        expect("$SET", "value");
        expect("${SET}", "value");
        expect("a${SET}b$SET.c", "avaluebvalue.c");
        expect("$$SET", "$SET");
        expect("$$", "$");
        expect("cost: 5$", "cost: 5$");
        expect("$1 and $ alone", "$1 and $ alone");
        expect("${UNSET:-d}", "d");
        expect("${EMPTY:-d}", "d");
        expect("${EMPTY-d}", "");
        expect("${UNSET-d}", "d");
        expect("${SET:-d}", "value");
        expect("${UNSET:+r}", "");
        expect("${EMPTY:+r}", "");
        expect("${EMPTY+r}", "r");
        expect("${SET:+r}", "r");
        expect("${UNSET:-${ALSO:-${SET}}}", "value");
        expect("${UNSET:-a ${PORT}:80}", "a 8080:80");
        expect("${EXPOSE_PORT-:2283:2283}", ":2283:2283");
        expect("${SET:?must be set}", "value");
        expect("${UNSET:-$$}", "$");

        expect_error("${UNSET:?must be set}", "required variable UNSET is missing a value: must be set");
        expect_error("${EMPTY:?}", "required variable EMPTY is missing a value");
        expect_error("${UNSET?no ${SET}}", "required variable UNSET is missing a value: no value");
        expect_error("${}", "invalid interpolation format for \"${}\"");
        expect_error("${SET", "invalid interpolation format for \"${SET\": missing \"}\"");
        expect_error("${1X}", "invalid interpolation format for \"${1X}\"");
        expect_error("${SET!x}", "invalid interpolation format for \"${SET!x}\"");

        assert_se(interpolate_string("$A ${B} ${A} ${C:-x}", lookup, NULL, &r, &unset, NULL) == 0);
        is_str(r, "   x", "unset variables expand to nothing");
        ok(strv_equal(unset, STRV_MAKE("A", "B")), "unset variables without defaults are reported once each");

        return done_testing();
}
