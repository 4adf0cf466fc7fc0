/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>

#include "dotenv.h"
#include "exec-quote.h"
#include "strv.h"

typedef struct DotenvLookup {
        char **env;
        InterpolateLookup next;
        void *userdata;
} DotenvLookup;

const char *dotenv_get(char *const *env, const char *key) {
        size_t l = strlen(key);

        /* The last definition wins, so search from the end. */
        for (size_t i = strv_length(env); i > 0; i--)
                if (strneq(env[i - 1], key, l) && env[i - 1][l] == '=')
                        return env[i - 1] + l + 1;
        return NULL;
}

static const char *dotenv_lookup(const char *name, void *userdata) {
        DotenvLookup *d = userdata;
        const char *v = dotenv_get(d->env, name);

        if (v)
                return v;
        return d->next ? d->next(name, d->userdata) : NULL;
}

static bool is_key_char(char c) {
        return c == '_' || c == '.' || c == '-' || isalnum((unsigned char) c);
}

static int dotenv_set(char ***env, const char *key, size_t key_len, const char *value) {
        char **l = *env;
        size_t j = 0;

        /* Drop an earlier definition so that the vector stays in first-definition order of the rest. */
        STRV_FOREACH(s, l)
                if (!(strneq(*s, key, key_len) && ((*s)[key_len] == '=' || (*s)[key_len] == 0)))
                        l[j++] = *s;
                else
                        free(*s);
        if (l)
                l[j] = NULL;

        if (value)
                return strv_extendf(env, "%.*s=%s", (int) key_len, key, value);
        return strv_extendf(env, "%.*s", (int) key_len, key);
}

/* A quoted value: *pp is at its opening quote, and is left past the closing one; *line counts the
 * newlines inside. "..." takes \n \t \r \\ \" escapes and keeps \$ as "$$" (literal through
 * interpolation) and any other backslash as is; '...' takes nothing. Returns 0, -EINVAL if the
 * quote is not closed, -ENOMEM. */
static int read_quoted(const char **pp, unsigned *line, char **ret) {
        _cleanup_free_ char *raw = NULL;
        size_t n = 0, allocated = 0;
        const char *p = *pp;
        char q = *p++;

        for (;; p++) {
                char c = *p;

                if (c == 0)
                        return -EINVAL;
                if (c == q)
                        break;
                if (c == '\n')
                        (*line)++;
                if (q == '"' && c == '\\' && p[1]) {
                        p++;
                        switch (*p) {
                        case 'n': c = '\n'; break;
                        case 't': c = '\t'; break;
                        case 'r': c = '\r'; break;
                        case '\\': c = '\\'; break;
                        case '"': c = '"'; break;
                        case '$':
                                /* An escaped "$" stays literal through interpolation. */
                                if (!GREEDY_REALLOC(raw, allocated, n + 2))
                                        return -ENOMEM;
                                raw[n++] = '$';
                                c = '$';
                                break;
                        default:
                                if (!GREEDY_REALLOC(raw, allocated, n + 2))
                                        return -ENOMEM;
                                raw[n++] = '\\';
                                c = *p;
                        }
                }
                if (!GREEDY_REALLOC(raw, allocated, n + 2))
                        return -ENOMEM;
                raw[n++] = c;
                raw[n] = 0;
        }
        if (!raw) {
                raw = strdup("");
                if (!raw)
                        return -ENOMEM;
        }

        *pp = p + 1;
        *ret = TAKE_PTR(raw);
        return 0;
}

/* An unquoted value: the rest of the line up to an inline comment (a "#" after whitespace), with
 * surrounding whitespace trimmed. Returns 0 or -ENOMEM. */
static int read_unquoted(const char *p, char **ret) {
        size_t n = strcspn(p, "\n");
        const char *e;

        for (size_t i = 0; i < n; i++)
                if (p[i] == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t')) {
                        n = i;
                        break;
                }
        e = p + n;
        while (e > p && strchr(" \t\r", e[-1]))
                e--;
        *ret = strndup(p, (size_t) (e - p));
        return *ret ? 0 : -ENOMEM;
}

int dotenv_parse(const char *data, InterpolateLookup lookup, void *userdata, char ***ret, unsigned *ret_line,
                 char **ret_error) {
        _cleanup_strv_free_ char **env = NULL;
        DotenvLookup dl = { .next = lookup, .userdata = userdata };
        const char *p = data;
        unsigned line = 1;
        int r;

        assert(data);
        assert(ret);

        env = new0(char *, 1);
        if (!env)
                return -ENOMEM;

        while (*p) {
                _cleanup_free_ char *raw = NULL, *value = NULL, *error = NULL;
                const char *key;
                unsigned key_line = line;
                size_t key_len;
                bool interpolate = true;

                p += strspn(p, " \t\r");
                if (*p == '\n') {
                        p++;
                        line++;
                        continue;
                }
                if (*p == '#' || *p == 0) {
                        p += strcspn(p, "\n");
                        continue;
                }
                if (startswith(p, "export ") || startswith(p, "export\t"))
                        p += 7 + strspn(p + 7, " \t");

                key = p;
                while (is_key_char(*p))
                        p++;
                key_len = (size_t) (p - key);
                p += strspn(p, " \t\r");
                if (key_len == 0 || (*p != '=' && *p != '\n' && *p != 0 && *p != '#')) {
                        r = -EINVAL;
                        if (ret_error && asprintf(ret_error, "unexpected character \"%c\" in variable name",
                                                  *p ? *p : ' ') < 0)
                                r = -ENOMEM;
                        if (ret_line)
                                *ret_line = line;
                        return r;
                }
                if (*p != '=') {
                        r = dotenv_set(&env, key, key_len, NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                p++;
                p += strspn(p, " \t");

                if (*p == '\'' || *p == '"') {
                        interpolate = *p == '"';
                        r = read_quoted(&p, &line, &raw);
                        if (r == -EINVAL) {
                                if (ret_line)
                                        *ret_line = key_line;
                                if (ret_error)
                                        *ret_error = strdup("unterminated quoted value");
                        }
                        if (r < 0)
                                return r;
                } else {
                        r = read_unquoted(p, &raw);
                        if (r < 0)
                                return r;
                }
                p += strcspn(p, "\n");

                if (interpolate) {
                        dl.env = env;
                        r = interpolate_string(raw, dotenv_lookup, &dl, &value, NULL, &error);
                        if (r < 0) {
                                if (ret_line)
                                        *ret_line = key_line;
                                if (ret_error)
                                        *ret_error = TAKE_PTR(error);
                                return r;
                        }
                } else
                        value = TAKE_PTR(raw);

                /* Values go into units; YAML refuses these bytes, a .env must too. */
                if (text_has_control(value, strlen(value))) {
                        if (ret_line)
                                *ret_line = key_line;
                        if (ret_error && asprintf(ret_error, "the value of \"%.*s\" holds a control character",
                                                  (int) key_len, key) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }

                r = dotenv_set(&env, key, key_len, value);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(env);
        return 0;
}
