/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "strv.h"
#include "unit-name.h"

#define UNIT_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.@-"
#define EXPAND_BRACES_MAX 100000U

static const char *const unit_types[] = {
        "service", "socket", "device", "mount", "automount", "swap",
        "target", "path", "timer", "snapshot", "slice", "scope",
};

bool unit_type_is_known(const char *suffix) {
        if (!suffix)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(unit_types); i++)
                if (streq(unit_types[i], suffix))
                        return true;
        return false;
}

const char *unit_name_type(const char *name) {
        const char *dot;

        assert(name);

        dot = strrchr(name, '.');
        return dot ? dot + 1 : NULL;
}

int unit_name_check(const char *name, const char **reason) {
        const char *why = NULL, *type, *at;
        size_t n;

        assert(name);

        n = strlen(name);
        type = unit_name_type(name);
        at = strchr(name, '@');
        if (n == 0)
                why = "empty unit name";
        else if (n > UNIT_NAME_MAX)
                why = "unit name longer than 255 characters";
        else if (strspn(name, UNIT_NAME_CHARS) != n)
                why = "invalid character in unit name";
        else if (!type || !unit_type_is_known(type))
                why = "unknown unit type";
        else if (type - 1 == name || name[0] == '@')
                why = "empty unit name before the type";
        else if (at && (strchr(at + 1, '@') || at > type))
                why = "misplaced '@' in unit name";

        if (why) {
                if (reason)
                        *reason = why;
                return -EINVAL;
        }
        return 0;
}

bool unit_name_is_valid(const char *name) {
        return unit_name_check(name, NULL) >= 0;
}

int unit_name_fleetctl_normalize(const char *name, char **ret) {
        char *s;

        assert(name);
        assert(ret);

        if (unit_type_is_known(unit_name_type(name)))
                s = strdup(name);
        else if (asprintf(&s, "%s.service", name) < 0)
                s = NULL;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The '@' of name if it comes before the type suffix, else NULL. */
static const char *unit_name_at(const char *name) {
        const char *type = unit_name_type(name), *at = strchr(name, '@');

        return at && type && at < type ? at : NULL;
}

bool unit_name_is_fleet_own(const char *name) {
        return startswith(name, "fleetd.") || startswith(name, "fleet-dns.");
}

bool unit_name_is_template(const char *name) {
        const char *at = unit_name_at(name);

        return at && at[1] == '.' && at + 2 == unit_name_type(name);
}

bool unit_name_is_instance(const char *name) {
        const char *at = unit_name_at(name);

        return at && at + 2 <= unit_name_type(name) && at[1] != '.';
}

bool unit_name_template_type_ok(const char *name) {
        const char *type = unit_name_type(name);

        return type && (streq(type, "path") || streq(type, "service") || streq(type, "socket") ||
                        streq(type, "target") || streq(type, "timer"));
}

static int strndup_ret(const char *s, size_t n, char **ret) {
        char *c = strndup(s, n);

        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int unit_name_to_prefix(const char *name, char **ret) {
        const char *type, *at;

        assert(name);
        assert(ret);

        type = unit_name_type(name);
        if (!type)
                return -EINVAL;
        at = unit_name_at(name);
        return strndup_ret(name, (at ?: type - 1) - name, ret);
}

int unit_name_to_instance(const char *name, char **ret) {
        const char *type, *at;

        assert(name);
        assert(ret);

        type = unit_name_type(name);
        if (!type)
                return -EINVAL;
        at = unit_name_at(name);
        if (!at)
                return strndup_ret("", 0, ret);
        return strndup_ret(at + 1, type - 1 - (at + 1), ret);
}

int unit_name_without_type(const char *name, char **ret) {
        const char *type;

        assert(name);
        assert(ret);

        type = unit_name_type(name);
        if (!type)
                return -EINVAL;
        return strndup_ret(name, type - 1 - name, ret);
}

int unit_name_template_of(const char *name, char **ret) {
        const char *at;
        char *s;

        assert(name);
        assert(ret);

        if (!unit_name_is_instance(name))
                return -EINVAL;
        at = unit_name_at(name);
        if (asprintf(&s, "%.*s@.%s", (int) (at - name), name, unit_name_type(name)) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int unit_name_build_instance(const char *template, const char *instance, char **ret) {
        const char *at;
        char *s;

        assert(template);
        assert(instance);
        assert(ret);

        if (!unit_name_is_template(template) || isempty(instance) ||
            strspn(instance, UNIT_NAME_CHARS) != strlen(instance) || strchr(instance, '@'))
                return -EINVAL;
        at = unit_name_at(template);
        if (asprintf(&s, "%.*s@%s.%s", (int) (at - template), template, instance,
                     unit_name_type(template)) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int unit_name_specifier_expand(const char *text, const char *unit_name, char **ret) {
        _cleanup_free_ char *prefix = NULL, *instance = NULL, *without = NULL, *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0, len = 0;
        int r;

        assert(text);
        assert(unit_name);
        assert(ret);

        r = unit_name_to_prefix(unit_name, &prefix);
        if (r < 0)
                return r;
        r = unit_name_to_instance(unit_name, &instance);
        if (r < 0)
                return r;
        r = unit_name_without_type(unit_name, &without);
        if (r < 0)
                return r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (const char *p = text; *p; p++) {
                const char *sub = NULL;

                if (p[0] == '%')
                        switch (p[1]) {
                        case 'n':
                                sub = unit_name;
                                break;
                        case 'N':
                                sub = without;
                                break;
                        case 'p':
                                sub = prefix;
                                break;
                        case 'i':
                                sub = instance;
                                break;
                        case '%':
                                sub = "%";
                                break;
                        }
                if (sub) {
                        /* 4000 "%n" of a 248-character name made one value 1 MB: bounded. */
                        len += strlen(sub);
                        if (len > UNIT_NAME_EXPANSION_MAX)
                                return -E2BIG;
                        fputs(sub, f);
                        p++;
                } else {
                        if (++len > UNIT_NAME_EXPANSION_MAX)
                                return -E2BIG;
                        fputc(*p, f);
                }
        }
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        f = (fclose(f), NULL);
        if (!buf)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Parse a decimal number of at most 9 digits at [b, e). */
static bool parse_small_uint(const char *b, const char *e, long *ret) {
        long v = 0;

        if (b == e || e - b > 9)
                return false;
        for (; b < e; b++) {
                if (*b < '0' || *b > '9')
                        return false;
                v = v * 10 + (*b - '0');
        }
        *ret = v;
        return true;
}

/* The alternatives of the group "{...}" at [b, e) (braces excluded): a numeric range "x..y" or
 * a comma list with at least two members. Returns 0 and a strv, or -EINVAL if the group is not
 * well-formed, -E2BIG, -ENOMEM. */
static int brace_alternatives(const char *b, const char *e, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *dots = NULL;
        long lo, hi;
        int r;

        for (const char *p = b; p + 1 < e; p++)
                if (p[0] == '.' && p[1] == '.') {
                        dots = p;
                        break;
                }

        if (dots && parse_small_uint(b, dots, &lo) && parse_small_uint(dots + 2, e, &hi)) {
                int width = (dots - b == e - (dots + 2)) ? (int) (dots - b) : 0;
                long step = lo <= hi ? 1 : -1;

                if (labs(hi - lo) >= (long) EXPAND_BRACES_MAX)
                        return -E2BIG;
                for (long v = lo;; v += step) {
                        r = strv_extendf(&l, "%0*ld", width, v);
                        if (r < 0)
                                return r;
                        if (v == hi)
                                break;
                }
        } else {
                const char *p = b;

                if (!memchr(b, ',', e - b))
                        return -EINVAL;
                for (;;) {
                        const char *comma = memchr(p, ',', e - p) ?: e;

                        r = strv_consume(&l, strndup(p, comma - p));
                        if (r < 0)
                                return r;
                        if (comma == e)
                                break;
                        p = comma + 1;
                }
        }

        *ret = TAKE_PTR(l);
        return 0;
}

int unit_name_expand_braces(const char *pattern, char ***ret) {
        _cleanup_strv_free_ char **result = NULL, **alternatives = NULL;
        const char *open = NULL, *close = NULL;
        int r;

        assert(pattern);
        assert(ret);

        /* The first well-formed group; nested braces are not supported (fleetctl has none). */
        for (const char *p = pattern; (p = strchr(p, '{')); p++) {
                const char *c = strchr(p + 1, '}'), *o2 = strchr(p + 1, '{');

                if (!c)
                        break;
                if (o2 && o2 < c)
                        continue;
                r = brace_alternatives(p + 1, c, &alternatives);
                if (r == -EINVAL)
                        continue;
                if (r < 0)
                        return r;
                open = p;
                close = c;
                break;
        }

        if (!open) {
                r = strv_extend(&result, pattern);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(result);
                return 0;
        }

        /* Expand the rest recursively, then prefix each tail with each alternative. */
        _cleanup_strv_free_ char **tails = NULL;
        size_t n_result = 0, n_alt = strv_length(alternatives), n_tails;

        r = unit_name_expand_braces(close + 1, &tails);
        if (r < 0)
                return r;
        n_tails = strv_length(tails);
        if (n_alt * n_tails > EXPAND_BRACES_MAX)
                return -E2BIG;

        result = new0(char *, n_alt * n_tails + 1);
        if (!result)
                return -ENOMEM;
        STRV_FOREACH(a, alternatives)
                STRV_FOREACH(t, tails)
                        if (asprintf(&result[n_result++], "%.*s%s%s", (int) (open - pattern), pattern,
                                     *a, *t) < 0) {
                                result[--n_result] = NULL;
                                return -ENOMEM;
                        }

        *ret = TAKE_PTR(result);
        return 0;
}
