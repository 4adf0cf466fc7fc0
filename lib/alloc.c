/* SPDX-License-Identifier: Apache-2.0 */

#include "macro.h"

void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t sz) {
        size_t n;
        void *q;

        assert(p);
        assert(allocated);

        if (*allocated >= need)
                return *p;

        /* Double, so that appending one element at a time stays amortized O(1). */
        n = MAX(need * 2, (size_t) 8);
        if (sz > 0 && n > (size_t) -1 / sz)
                return NULL;

        q = realloc(*p, n * sz);
        if (!q)
                return NULL;

        *p = q;
        *allocated = n;
        return q;
}
