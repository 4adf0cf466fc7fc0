/* SPDX-License-Identifier: Apache-2.0 */

/* name_sort() against qsort() with strcmp(): names that share long prefixes (so that the 16-byte
 * keys tie and the rest decides), end inside or right at the key, carry bytes above 0x7f (the
 * keys compare unsigned, as strcmp() does), and inputs sorted, reversed, or with runs, at sizes
 * around the insertion-sort cut-off and large enough to recurse deeply. */

#include "scheduler-internal.h"
#include "scheduler-test.h"

static unsigned long long rng_state;

static unsigned rnd(unsigned n) {
        return rng_next(&rng_state, n);
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *random_name(unsigned i) {
        static const char *const prefixes[] = { "", "a", "unit-", "web@", "abcdefghijklmno", "abcdefghijklmnop",
                                                "abcdefghijklmnopq", "0123456789abcdef0123456789abcdef" };
        const char *p = prefixes[rnd(ELEMENTSOF(prefixes))];
        char tail[24];
        char *name;
        size_t n = rnd(12);

        for (size_t k = 0; k < n; k++)
                tail[k] = (char) (rnd(4) == 0 ? 0x80 + rnd(0x7f) : 'a' + rnd(4));
        tail[n] = 0;
        /* The index at the end keeps names distinct, as unit names and machine IDs are. */
        assert_se(asprintf(&name, "%s%s.%u", p, tail, i) >= 0);
        return name;
}

static void check(unsigned seed, size_t n, int shape) {
        _cleanup_free_ NameSortItem *items = new(NameSortItem, MAX(n, (size_t) 1));
        _cleanup_free_ char **names = new(char *, MAX(n, (size_t) 1));
        bool same = true;

        assert_se(items && names);
        rng_state = seed * 2654435761ULL + n + 1;
        for (size_t i = 0; i < n; i++)
                names[i] = random_name(i);
        if (shape > 0)          /* sorted, or reversed */
                qsort(names, n, sizeof(char *), strcmp_ptr);
        for (size_t i = 0; i < n; i++) {
                const char *name = names[shape == 2 ? n - 1 - i : i];

                items[i] = (NameSortItem) { name_key(name), name, (void *) name };
        }

        name_sort(items, n);
        qsort(names, n, sizeof(char *), strcmp_ptr);
        for (size_t i = 0; i < n && same; i++)
                same = items[i].ptr == names[i] && items[i].name == names[i];
        ok(same, "seed %u: %zu names (%s) in strcmp() order", seed, n,
           shape == 0 ? "shuffled" : shape == 1 ? "sorted" : "reversed");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
}

static void test_keys(void) {
        NameKey a = name_key("abcdefghijklmnop-rest"), b = name_key("abcdefghijklmnop");
        NameKey c = name_key("ab"), d = name_key("ab\x80");

        ok(a.hi == b.hi && a.lo == b.lo, "the key holds the first 16 bytes only");
        ok(c.hi < d.hi, "a shorter name's key is below its extension's, and bytes compare unsigned");
}

int main(void) {
        static const size_t sizes[] = { 0, 1, 2, 3, 16, 17, 33, 100, 1000, 20000 };

        test_keys();
        for (unsigned seed = 0; seed < 4; seed++)
                for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                        for (int shape = 0; shape < 3; shape++)
                                check(seed, sizes[i], shape);
        return done_testing();
}
