/* SPDX-License-Identifier: Apache-2.0 */

#include <malloc.h>
#include <stdio.h>

#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        return mfree(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        STRV_FOREACH(s, l)
                n++;
        return n;
}

char **strv_copy(char *const *l) {
        _cleanup_strv_free_ char **r = NULL;
        size_t i = 0;

        r = new0(char *, strv_length(l) + 1);
        if (!r)
                return NULL;
        STRV_FOREACH(s, l) {
                r[i] = strdup(*s);
                if (!r[i])
                        return NULL;
                i++;
        }
        return TAKE_PTR(r);
}

int strv_consume_with_size(char ***l, size_t *n, char *value) {
        size_t len;
        char **c;

        assert(l);

        if (!value)
                return -ENOMEM;

        len = n ? *n : strv_length(*l);
        /* Grow geometrically, as GREEDY_REALLOC does: a list built an item at a time then costs
         * O(n) copies, also where realloc always moves (ASan's does). */
        if (*l && malloc_usable_size(*l) >= sizeof(char *) * (len + 2))
                c = *l;
        else {
                c = realloc(*l, sizeof(char *) * MAX(len + 2, 2 * len));
                if (!c) {
                        free(value);
                        return -ENOMEM;
                }
        }
        c[len] = value;
        c[len + 1] = NULL;
        *l = c;
        if (n)
                (*n)++;
        return 0;
}

int strv_consume(char ***l, char *value) {
        return strv_consume_with_size(l, NULL, value);
}

int strv_extend_with_size(char ***l, size_t *n, const char *value) {
        return strv_consume_with_size(l, n, strdup(value));
}

int strv_extend(char ***l, const char *value) {
        return strv_extend_with_size(l, NULL, value);
}

int strv_extendf(char ***l, const char *format, ...) {
        va_list ap;
        char *x;
        int r;

        va_start(ap, format);
        r = vasprintf(&x, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(l, x);
}

int strv_extend_strv(char ***a, char *const *b) {
        size_t n = strv_length(*a);
        int r;

        STRV_FOREACH(s, b) {
                r = strv_extend_with_size(a, &n, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

ssize_t strv_index(char *const *l, const char *s) {
        ssize_t i = 0;

        STRV_FOREACH(x, l) {
                if (streq(*x, s))
                        return i;
                i++;
        }
        return -1;
}

bool strv_contains(char *const *l, const char *s) {
        return strv_index(l, s) >= 0;
}

char **strv_remove(char **l, const char *s) {
        char **f, **t;

        if (!l)
                return NULL;
        for (f = t = l; *f; f++)
                if (streq(*f, s))
                        free(*f);
                else
                        *(t++) = *f;
        *t = NULL;
        return l;
}

char **strv_split(const char *s, const char *separators) {
        _cleanup_strv_free_ char **l = new0(char *, 1);
        const char *p = s;

        if (!l)
                return NULL;
        for (;;) {
                size_t n;

                p += strspn(p, separators);
                if (!*p)
                        break;
                n = strcspn(p, separators);
                if (strv_consume(&l, strndup(p, n)) < 0)
                        return NULL;
                p += n;
        }
        return TAKE_PTR(l);
}

char *strv_join(char *const *l, const char *separator) {
        size_t n = 0, k, sl;
        char *r, *e;

        separator = separator ?: " ";
        sl = strlen(separator);
        STRV_FOREACH(s, l)
                n += strlen(*s) + sl;

        r = new(char, n + 1);
        if (!r)
                return NULL;

        e = r;
        k = 0;
        STRV_FOREACH(s, l) {
                if (k++ > 0)
                        e = stpcpy(e, separator);
                e = stpcpy(e, *s);
        }
        *e = 0;
        return r;
}

static int str_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

char **strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), str_compare);
        return l;
}

char **strv_dedup(char **l) {
        size_t j = 0;

        if (!l)
                return l;
        for (size_t i = 0; l[i]; i++) {
                bool seen = false;

                for (size_t k = 0; k < j && !seen; k++)
                        seen = streq(l[k], l[i]);
                if (seen)
                        free(l[i]);
                else
                        l[j++] = l[i];
        }
        l[j] = NULL;
        return l;
}

char **strv_uniq(char **l) {
        char **f, **t;

        if (!l || !l[0])
                return l;
        for (f = t = l + 1; *f; f++)
                if (streq(*f, t[-1]))
                        free(*f);
                else
                        *(t++) = *f;
        *t = NULL;
        return l;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t i;

        for (i = 0; a && a[i]; i++)
                if (!b || !b[i] || !streq(a[i], b[i]))
                        return false;
        return !b || !b[i];
}
