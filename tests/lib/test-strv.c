/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "tap.h"

static void test_split_join(void) {
        _cleanup_strv_free_ char **l = strv_split("  a b\tc  ", WHITESPACE);
        _cleanup_free_ char *j = NULL;

        is_int(strv_length(l), 3, "split drops empty fields");
        j = strv_join(l, ",");
        is_str(j, "a,b,c", "join with a separator");

        _cleanup_strv_free_ char **e = strv_split("", ",");
        ok(e && strv_length(e) == 0, "an empty string splits into an empty vector");
}

static void test_sort_uniq_remove(void) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_se(strv_extend(&l, "b") == 0);
        assert_se(strv_extend(&l, "a") == 0);
        assert_se(strv_extend(&l, "b") == 0);
        assert_se(strv_extendf(&l, "%c", 'c') == 0);
        strv_uniq(strv_sort(l));
        j = strv_join(l, NULL);
        is_str(j, "a b c", "sort and uniq");
        strv_remove(l, "b");
        ok(!strv_contains(l, "b") && strv_contains(l, "c"), "remove");
        ok(strv_equal(l, STRV_MAKE("a", "c")), "equal after remove");
        ok(!strv_equal(l, STRV_MAKE("a")), "a longer vector is not equal to its prefix");
}

static void test_dedup(void) {
        _cleanup_strv_free_ char **l = strv_split("b a b c a b", " ");
        _cleanup_free_ char *j = NULL;

        assert_se(l);
        strv_dedup(l);
        j = strv_join(l, ",");
        is_str(j, "b,a,c", "dedup keeps the first of each, in order");
        ok(strv_dedup(NULL) == NULL, "dedup of NULL");
}

int main(void) {
        test_split_join();
        test_sort_uniq_remove();
        test_dedup();
        return done_testing();
}
