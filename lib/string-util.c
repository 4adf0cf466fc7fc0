/* SPDX-License-Identifier: Apache-2.0 */

#include "string-util.h"

char *strstrip(char *s) {
        char *e;

        assert(s);

        s += strspn(s, WHITESPACE);
        for (e = s + strlen(s); e > s && strchr(WHITESPACE, e[-1]); e--)
                ;
        *e = 0;
        return s;
}

void strip_range(const char **b, const char **e) {
        assert(b && *b);
        assert(e && *e);

        while (*b < *e && strchr(WHITESPACE, **b))
                (*b)++;
        while (*e > *b && strchr(WHITESPACE, (*e)[-1]))
                (*e)--;
}

char *strndup_strip(const char *s, size_t n) {
        const char *e = s + n;

        strip_range(&s, &e);
        return strndup(s, e - s);
}

int extract_first_word(const char **p, char **ret, const char *separators, ExtractFlags flags) {
        _cleanup_free_ char *word = NULL;
        const char *q;
        size_t len = 0;
        char quote = 0;

        assert(p && *p);
        assert(ret);

        separators = separators ?: WHITESPACE;
        q = *p + strspn(*p, separators);
        if (!*q) {
                *p = q;
                *ret = NULL;
                return 0;
        }

        word = new(char, strlen(q) + 1);
        if (!word)
                return -ENOMEM;
        for (; *q && (quote || !strchr(separators, *q)); q++) {
                if (quote && *q == quote)
                        quote = 0;
                else if (!quote && (flags & EXTRACT_UNQUOTE) && (*q == '"' || *q == '\''))
                        quote = *q;
                else
                        word[len++] = *q;
        }
        if (quote)
                return -EINVAL;
        word[len] = 0;

        *p = q;
        *ret = TAKE_PTR(word);
        return 1;
}
