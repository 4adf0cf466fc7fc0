/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "unit-diff.h"

/* Units are short (tens of lines), so the plain O(n·m) longest-common-subsequence table is fine. */
#define DIFF_LINES_MAX 4096U

static char **split_lines(const char *text) {
        _cleanup_strv_free_ char **l = new0(char *, 1);
        const char *p = text;

        if (!l)
                return NULL;
        while (*p) {
                size_t n = strcspn(p, "\n");

                if (strv_consume(&l, strndup(p, n)) < 0)
                        return NULL;
                p += n;
                if (*p == '\n')
                        p++;
        }
        return TAKE_PTR(l);
}

int unit_diff(FILE *out, const char *old_name, const char *old_text, const char *new_name, const char *new_text) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL;
        _cleanup_free_ unsigned *t = NULL;
        size_t n, m, i = 0, j = 0;

        if (streq(old_text, new_text))
                return 0;

        a = split_lines(old_text);
        b = split_lines(new_text);
        if (!a || !b)
                return -ENOMEM;
        n = strv_length(a);
        m = strv_length(b);

        fprintf(out, "--- %s\n+++ %s\n", old_name, new_name);
        if (n > DIFF_LINES_MAX || m > DIFF_LINES_MAX) {
                fputs("@@ (too long to compare line by line) @@\n", out);
                return 1;
        }

        /* t[i][j]: length of the LCS of a[i..] and b[j..]. */
        t = new0(unsigned, (n + 1) * (m + 1));
        if (!t)
                return -ENOMEM;
#define T(x, y) t[(x) * (m + 1) + (y)]
        for (size_t x = n; x-- > 0;)
                for (size_t y = m; y-- > 0;)
                        T(x, y) = streq(a[x], b[y]) ? T(x + 1, y + 1) + 1 : MAX(T(x + 1, y), T(x, y + 1));

        while (i < n || j < m) {
                if (i < n && j < m && streq(a[i], b[j])) {
                        fprintf(out, " %s\n", a[i]);
                        i++;
                        j++;
                } else if (j < m && (i >= n || T(i, j + 1) >= T(i + 1, j))) {
                        fprintf(out, "+%s\n", b[j]);
                        j++;
                } else {
                        fprintf(out, "-%s\n", a[i]);
                        i++;
                }
        }
#undef T
        return 1;
}
