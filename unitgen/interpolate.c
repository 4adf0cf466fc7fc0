/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <stdarg.h>

#include "error-message.h"
#include "exec-quote.h"
#include "interpolate.h"
#include "strv.h"

/* Nesting of ${A:-${B:-...}} is bounded: each level recurses. */
#define INTERPOLATE_DEPTH_MAX 64U

typedef struct Expander {
        InterpolateLookup lookup;
        void *userdata;
        char ***unset;
        char *error;
        char *buf;
        size_t n, allocated;
} Expander;

static int expander_put(Expander *x, const char *s, size_t n) {
        if (!GREEDY_REALLOC(x->buf, x->allocated, x->n + n + 1))
                return -ENOMEM;
        memcpy(x->buf + x->n, s, n);
        x->n += n;
        x->buf[x->n] = 0;
        return 0;
}

/* The first error is the one reported. */
_printf_(2, 3) static int expander_fail(Expander *x, const char *format, ...) {
        va_list ap;
        int r;

        if (x->error)
                return -EINVAL;
        va_start(ap, format);
        r = error_message_setv(&x->error, EINVAL, format, ap);
        va_end(ap);
        return r;
}

/* The value of name, refused when it holds a byte that is never text (an environment variable is
 * not YAML and was not checked). Returns 0 with *ret NULL when name is unset, or -EINVAL. */
static int expander_lookup(Expander *x, const char *name, const char **ret) {
        const char *value = x->lookup(name, x->userdata);

        if (value && text_has_control(value, strlen(value)))
                return expander_fail(x, "variable \"%s\" holds a control character", name);
        *ret = value;
        return 0;
}

static bool is_name_start(char c) {
        return c == '_' || isalpha((unsigned char) c);
}

static bool is_name_char(char c) {
        return c == '_' || isalnum((unsigned char) c);
}

static int expand(Expander *x, const char *s, size_t n, unsigned depth);

/* Expand s[0..n) into a fresh string, for messages. */
static int expand_to_string(Expander *x, const char *s, size_t n, unsigned depth, char **ret) {
        Expander sub = { .lookup = x->lookup, .userdata = x->userdata, .unset = x->unset };
        int r;

        r = expand(&sub, s, n, depth);
        if (r < 0) {
                free(sub.buf);
                if (sub.error && !x->error)
                        x->error = TAKE_PTR(sub.error);
                free(sub.error);
                return r;
        }
        *ret = sub.buf ?: strdup("");
        return *ret ? 0 : -ENOMEM;
}

static int note_unset(Expander *x, const char *name) {
        if (!x->unset || strv_contains(*x->unset, name))
                return 0;
        return strv_extend(x->unset, name);
}

static int expand_braced(Expander *x, const char *s, size_t n, unsigned depth) {
        _cleanup_free_ char *name = NULL;
        const char *value, *arg;
        size_t k = 0, arg_len;
        bool colon = false;
        char op;
        int r;

        while (k < n && is_name_char(s[k]))
                k++;
        if (k == 0 || !is_name_start(s[0]))
                return expander_fail(x, "invalid interpolation format for \"${%.*s}\"", (int) MIN(n, (size_t) 64), s);
        name = strndup(s, k);
        if (!name)
                return -ENOMEM;
        r = expander_lookup(x, name, &value);
        if (r < 0)
                return r;

        if (k == n) {
                if (!value)
                        return note_unset(x, name);
                return expander_put(x, value, strlen(value));
        }

        if (s[k] == ':') {
                colon = true;
                k++;
        }
        if (k >= n || !strchr("-?+", s[k]))
                return expander_fail(x, "invalid interpolation format for \"${%.*s}\"", (int) MIN(n, (size_t) 64), s);
        op = s[k++];
        arg = s + k;
        arg_len = n - k;

        /* With a colon, an empty value counts as unset. */
        bool set = value && (!colon || !isempty(value));

        switch (op) {
        case '-':
                if (set)
                        return expander_put(x, value, strlen(value));
                return expand(x, arg, arg_len, depth + 1);
        case '+':
                if (!set)
                        return 0;
                return expand(x, arg, arg_len, depth + 1);
        case '?': {
                _cleanup_free_ char *msg = NULL;

                if (set)
                        return expander_put(x, value, strlen(value));
                r = expand_to_string(x, arg, arg_len, depth + 1, &msg);
                if (r < 0)
                        return r;
                if (isempty(msg))
                        return expander_fail(x, "required variable %s is missing a value", name);
                return expander_fail(x, "required variable %s is missing a value: %s", name, msg);
        }
        default:
                assert_not_reached();
        }
        return 0;
}

static int expand(Expander *x, const char *s, size_t n, unsigned depth) {
        size_t i = 0;
        int r;

        if (depth > INTERPOLATE_DEPTH_MAX)
                return expander_fail(x, "interpolation nested too deeply");

        /* Make sure an empty expansion still yields a string. */
        r = expander_put(x, "", 0);
        if (r < 0)
                return r;

        while (i < n) {
                size_t start = i;

                while (i < n && s[i] != '$')
                        i++;
                r = expander_put(x, s + start, i - start);
                if (r < 0)
                        return r;
                if (i >= n)
                        break;

                /* s[i] == '$' */
                if (i + 1 < n && s[i + 1] == '$') {
                        r = expander_put(x, "$", 1);
                        i += 2;
                } else if (i + 1 < n && s[i + 1] == '{') {
                        size_t j = i + 2, level = 1;

                        for (; j < n; j++) {
                                if (s[j] == '$' && j + 1 < n && s[j + 1] == '{') {
                                        level++;
                                        j++;
                                } else if (s[j] == '}' && --level == 0)
                                        break;
                        }
                        if (j >= n)
                                return expander_fail(x, "invalid interpolation format for \"%.*s\": missing \"}\"",
                                                     (int) MIN(n - i, (size_t) 64), s + i);
                        r = expand_braced(x, s + i + 2, j - i - 2, depth);
                        i = j + 1;
                } else if (i + 1 < n && is_name_start(s[i + 1])) {
                        _cleanup_free_ char *name = NULL;
                        size_t j = i + 1;
                        const char *value;

                        while (j < n && is_name_char(s[j]))
                                j++;
                        name = strndup(s + i + 1, j - i - 1);
                        if (!name)
                                return -ENOMEM;
                        r = expander_lookup(x, name, &value);
                        if (r >= 0)
                                r = value ? expander_put(x, value, strlen(value)) : note_unset(x, name);
                        i = j;
                } else {
                        r = expander_put(x, "$", 1);
                        i++;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int interpolate_string(const char *s, InterpolateLookup lookup, void *userdata, char **ret, char ***unset,
                       char **ret_error) {
        Expander x = { .lookup = lookup, .userdata = userdata, .unset = unset };
        int r;

        assert(s);
        assert(lookup);
        assert(ret);

        r = expand(&x, s, strlen(s), 0);
        if (r < 0) {
                free(x.buf);
                if (ret_error)
                        *ret_error = TAKE_PTR(x.error);
                free(x.error);
                return r;
        }
        *ret = x.buf;
        return 0;
}
