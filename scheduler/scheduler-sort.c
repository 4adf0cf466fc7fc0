/* SPDX-License-Identifier: Apache-2.0 */

/* Sorting by name (units by name, machines by ID) in strcmp() order, cheaply: each name's first
 * 16 bytes are kept as two big-endian integers, so that most comparisons are two integer
 * comparisons on the item itself instead of strcmp() through two pointers, and the sort is
 * inlined rather than qsort()'s call per comparison. */

#include <endian.h>
#include <stdlib.h>

#include "scheduler-internal.h"

NameKey name_key(const char *name) {
        uint8_t b[16] = {};
        uint64_t hi, lo;

        memcpy(b, name, strnlen(name, sizeof(b)));
        memcpy(&hi, b, sizeof(hi));
        memcpy(&lo, b + 8, sizeof(lo));
        return (NameKey) { be64toh(hi), be64toh(lo) };
}

/* Equal keys: the names agree on their first 16 bytes, so either both are shorter (then equal:
 * the bytes after the NUL are zero) or both go on, and the rest decides. */
static int item_compare(const NameSortItem *a, const NameSortItem *b) {
        if (a->key.hi != b->key.hi)
                return a->key.hi < b->key.hi ? -1 : 1;
        if (a->key.lo != b->key.lo)
                return a->key.lo < b->key.lo ? -1 : 1;
        if (memchr(a->name, 0, 16))
                return 0;
        return strcmp(a->name + 16, b->name + 16);
}

static int item_compare_void(const void *a, const void *b) {
        return item_compare(a, b);
}

static void item_swap(NameSortItem *a, NameSortItem *b) {
        NameSortItem t = *a;

        *a = *b;
        *b = t;
}

static void insertion_sort(NameSortItem *v, size_t n) {
        for (size_t i = 1; i < n; i++) {
                NameSortItem t = v[i];
                size_t j = i;

                for (; j > 0 && item_compare(&t, v + j - 1) < 0; j--)
                        v[j] = v[j - 1];
                v[j] = t;
        }
}

/* Quicksort with a median-of-three pivot, recursing into the smaller part; past the depth limit
 * (an input that defeats the pivot choice) qsort() finishes the part, so it stays O(n log n). */
static void quick_sort(NameSortItem *v, size_t n, unsigned depth) {
        while (n > 16) {
                size_t i = 0, j = n - 1, mid = n / 2;

                if (depth-- == 0) {
                        qsort(v, n, sizeof(NameSortItem), item_compare_void);
                        return;
                }
                if (item_compare(v + mid, v) < 0)
                        item_swap(v + mid, v);
                if (item_compare(v + j, v + mid) < 0) {
                        item_swap(v + j, v + mid);
                        if (item_compare(v + mid, v) < 0)
                                item_swap(v + mid, v);
                }
                NameSortItem pivot = v[mid];

                /* Hoare partition: v[0..j] <= pivot <= v[j+1..n-1]. */
                for (;;) {
                        while (item_compare(v + i, &pivot) < 0)
                                i++;
                        while (item_compare(&pivot, v + j) < 0)
                                j--;
                        if (i >= j)
                                break;
                        item_swap(v + i, v + j);
                        i++;
                        j--;
                }
                if (j + 1 < n - j - 1) {
                        quick_sort(v, j + 1, depth);
                        v += j + 1;
                        n -= j + 1;
                } else {
                        quick_sort(v + j + 1, n - j - 1, depth);
                        n = j + 1;
                }
        }
        insertion_sort(v, n);
}

void name_sort(NameSortItem *items, size_t n) {
        unsigned depth = 0;

        for (size_t k = n; k > 1; k /= 2)
                depth += 2;
        quick_sort(items, n, depth);
}
