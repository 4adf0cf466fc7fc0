/* SPDX-License-Identifier: Apache-2.0 */

#include "string-util.h"
#include "strv.h"
#include "tap.h"

static void test_strstrip(void) {
        char a[] = " \t hello world \r\n", b[] = "   ", c[] = "x";

        is_str(strstrip(a), "hello world", "both ends stripped, the inner space kept");
        is_str(strstrip(b), "", "only whitespace gives the empty string");
        is_str(strstrip(c), "x", "nothing to strip");
}

static void test_strip_range(void) {
        const char *s = "  key = value\t", *b = s, *e = s + 6;
        _cleanup_free_ char *d = NULL;

        strip_range(&b, &e);
        ok(b == s + 2 && e == s + 5, "the range narrows to 'key'");
        b = e = s + 1;
        strip_range(&b, &e);
        ok(b == e, "an empty range stays empty");
        d = strndup_strip(s + 7, strlen(s + 7));
        is_str(d, "value", "strndup_strip copies the stripped bytes");
}

/* Split s with extract_first_word() and join the words with '|'; "ERR" on an error. */
static char *words(const char *s, const char *separators, ExtractFlags flags) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;

        for (;;) {
                char *w;
                int r = extract_first_word(&p, &w, separators, flags);

                if (r < 0)
                        return strdup("ERR");
                if (r == 0)
                        break;
                assert_se(strv_consume(&l, w) >= 0);
        }
        return strv_join(l, "|");
}

static void test_extract_first_word(void) {
        static const struct {
                const char *in, *separators;
                ExtractFlags flags;
                const char *out;
        } cases[] = {
                { "  a b\tc  ", NULL, 0, "a|b|c" },
                { "", NULL, 0, "" },
                { "   ", NULL, 0, "" },
                { "a,,b, c", ",", 0, "a|b| c" },
                { "role=\"web server\" 'x y'z", NULL, EXTRACT_UNQUOTE, "role=web server|x yz" },
                { "\"a b\"", NULL, 0, "\"a|b\"" },
                { "a \"b", NULL, EXTRACT_UNQUOTE, "ERR" },
                { "'it''s'", NULL, EXTRACT_UNQUOTE, "its" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = words(cases[i].in, cases[i].separators, cases[i].flags);

                is_str(got, cases[i].out, "extract_first_word(\"%s\")", cases[i].in);
        }
}

static void test_extract_error_leaves_p(void) {
        const char *s = "ok 'open", *p = s;
        char *w;

        is_int(extract_first_word(&p, &w, NULL, EXTRACT_UNQUOTE), 1, "first word");
        free(w);
        const char *before = p;
        is_int(extract_first_word(&p, &w, NULL, EXTRACT_UNQUOTE), -EINVAL, "unterminated quote");
        ok(p == before, "*p is left where it was on error");
}

int main(void) {
        test_strstrip();
        test_strip_range();
        test_extract_first_word();
        test_extract_error_leaves_p();
        return done_testing();
}
