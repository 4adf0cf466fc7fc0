/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "hashmap.h"
#include "strv.h"
#include "tap.h"

static void test_basic(void) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new();
        const char *k = NULL;
        int one = 1, two = 2;

        assert_se(h);
        is_int(hashmap_put(h, "a", &one), 1, "put adds");
        is_int(hashmap_put(h, "a", &one), 0, "put of the same value is a no-op");
        is_int(hashmap_put(h, "a", &two), -EEXIST, "put of another value fails");
        ok(hashmap_get(h, "a") == &one, "the first value stays");
        is_int(hashmap_replace(h, "a", &two), 0, "replace overwrites");
        ok(hashmap_get2(h, "a", &k) == &two && streq(k, "a"), "get2 returns value and key");
        ok(hashmap_get(h, "b") == NULL && !hashmap_contains(h, "b"), "missing key");
        is_int(hashmap_put(h, "null", NULL), 1, "NULL value");
        ok(hashmap_contains(h, "null"), "contains sees a NULL value");
        is_int(hashmap_size(h), 2, "size");
        ok(hashmap_remove(h, "a") == &two, "remove returns the value");
        ok(hashmap_remove(h, "a") == NULL, "second remove finds nothing");
        is_int(hashmap_size(h), 1, "size after remove");
        ok(hashmap_get(NULL, "a") == NULL && hashmap_size(NULL) == 0, "NULL map is empty");
        hashmap_clear(h);
        ok(hashmap_isempty(h) && !hashmap_contains(h, "null"), "clear empties");
}

/* Many keys with removals in between: every surviving key is still found, with its value. */
static void test_many(void) {
        enum { N = 50000 };
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new();
        char **keys = new0(char *, N + 1);
        bool good = true;
        size_t n = 0;
        void *v;

        assert_se(h && keys);
        for (size_t i = 0; i < N; i++) {
                assert_se(asprintf(&keys[i], "unit-%zu@x.service", i) >= 0);
                assert_se(hashmap_put(h, keys[i], keys[i]) == 1);
        }
        is_int(hashmap_size(h), N, "50000 keys added");

        for (size_t i = 0; i < N; i += 3)
                good = good && hashmap_remove(h, keys[i]) == keys[i];
        ok(good, "every third key removed");

        for (size_t i = 0; i < N; i++) {
                void *got = hashmap_get(h, keys[i]);

                if (i % 3 == 0 ? got != NULL : got != keys[i]) {
                        good = false;
                        diag("key %s: %p", keys[i], got);
                        break;
                }
        }
        ok(good, "lookups after backward-shift removals are exact");

        HASHMAP_FOREACH(v, h)
                n++;
        is_int(n, hashmap_size(h), "iteration visits every entry once");

        strv_free(keys);
}

static void test_iterate_remove(void) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new();
        _cleanup_(set_freep) Set *seen = set_new();
        char names[200][16];
        const char *k;
        void *v;
        size_t visited = 0;

        assert_se(h && seen);
        for (size_t i = 0; i < 200; i++) {
                snprintf(names[i], sizeof(names[i]), "k%zu", i);
                assert_se(hashmap_put(h, names[i], names[i]) == 1);
        }

        /* Remove every other entry while iterating: nothing may be skipped or repeated. */
        HASHMAP_FOREACH_KEY(v, k, h) {
                assert_se(set_put(seen, k) == 1);
                visited++;
                if (visited % 2 == 0)
                        assert_se(hashmap_remove(h, k) == v);
        }
        is_int(visited, 200, "removing the current entry skips nothing");
        is_int(set_size(seen), 200, "and repeats nothing");
        is_int(hashmap_size(h), 100, "half remain");
}

static void test_set(void) {
        _cleanup_(set_free_freep) Set *s = set_new();
        char *k;
        size_t n = 0;

        assert_se(s);
        is_int(set_consume(s, strdup("a")), 1, "consume adds");
        is_int(set_consume(s, strdup("a")), 0, "consume of a duplicate frees it");
        is_int(set_consume(s, strdup("b")), 1, "second key");
        ok(set_contains(s, "a") && set_contains(s, "b") && !set_contains(s, "c"), "contains");
        SET_FOREACH(k, s)
                n += streq(k, "a") || streq(k, "b");
        is_int(n, 2, "set iteration");
        k = set_remove(s, "a");
        is_str(k, "a", "remove returns the owned key");
        free(k);
        is_int(set_size(s), 1, "size after remove");
}

static void test_destructor(void) {
        Hashmap *h = hashmap_new();

        assert_se(h);
        assert_se(hashmap_put(h, "x", strdup("1")) == 1);
        assert_se(hashmap_put(h, "y", strdup("2")) == 1);
        ok(hashmap_free_free(h) == NULL, "free with values (ASan checks for leaks)");
        ok(hashmap_free(NULL) == NULL, "free accepts NULL");
}

int main(void) {
        test_basic();
        test_many();
        test_iterate_remove();
        test_set();
        test_destructor();
        return done_testing();
}
