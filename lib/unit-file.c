/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>

#include "error-message.h"
#include "string-util.h"
#include "strv.h"
#include "unit-file.h"

UnitFile *unit_file_new(void) {
        return new0(UnitFile, 1);
}

UnitFile *unit_file_free(UnitFile *u) {
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n_options; i++) {
                free(u->options[i].section);
                free(u->options[i].name);
                free(u->options[i].value);
        }
        free(u->options);
        return mfree(u);
}

static int unit_file_add_full(UnitFile *u, const char *section, const char *name, size_t name_len,
                              const char *value, size_t value_len, unsigned line) {
        _cleanup_free_ char *s = NULL, *n = NULL, *v = NULL;

        assert(u);
        assert(section);
        assert(name);
        assert(value);

        s = strdup(section);
        n = strndup(name, name_len);
        v = strndup(value, value_len);
        if (!s || !n || !v)
                return -ENOMEM;
        if (!GREEDY_REALLOC(u->options, u->n_allocated, u->n_options + 1))
                return -ENOMEM;

        u->options[u->n_options++] = (UnitOption) {
                .section = TAKE_PTR(s),
                .name = TAKE_PTR(n),
                .value = TAKE_PTR(v),
                .line = line,
        };
        return 0;
}

int unit_file_add(UnitFile *u, const char *section, const char *name, const char *value) {
        return unit_file_add_full(u, section, name, strlen(name), value, strlen(value), 0);
}

int unit_file_copy(const UnitFile *u, UnitFile **ret) {
        _cleanup_(unit_file_freep) UnitFile *c = NULL;
        int r;

        assert(u);
        assert(ret);

        c = unit_file_new();
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < u->n_options; i++) {
                const UnitOption *o = u->options + i;

                r = unit_file_add_full(c, o->section, o->name, strlen(o->name), o->value,
                                       strlen(o->value), o->line);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static bool is_comment(const char *b, const char *e) {
        return b < e && (*b == '#' || *b == ';');
}

static int unit_file_parse_line(UnitFile *u, char **section, const char *b, const char *e,
                                unsigned line, char **error_message) {
        const char *eq, *name_end, *value;

        strip_range(&b, &e);
        if (b == e || is_comment(b, e))
                return 0;

        if (*b == '[') {
                const char *close = memchr(b, ']', e - b);
                char *s;

                if (!close)
                        return error_message_set(error_message, EBADMSG, "line %u: unterminated section header", line);
                if (close + 1 != e)
                        return error_message_set(error_message, EBADMSG, "line %u: garbage after section header", line);
                if (close == b + 1)
                        return error_message_set(error_message, EBADMSG, "line %u: empty section name", line);
                s = strndup(b + 1, close - b - 1);
                if (!s)
                        return -ENOMEM;
                free_and_replace(*section, s);
                return 0;
        }

        if (!*section)
                return error_message_set(error_message, EBADMSG, "line %u: assignment outside of a section", line);

        eq = memchr(b, '=', e - b);
        if (!eq)
                return error_message_set(error_message, EBADMSG, "line %u: missing '='", line);
        name_end = eq;
        strip_range(&b, &name_end);
        if (b == name_end)
                return error_message_set(error_message, EBADMSG, "line %u: empty option name", line);
        value = eq + 1;
        strip_range(&value, &e);

        return unit_file_add_full(u, *section, b, name_end - b, value, e - value, line);
}

int unit_file_parse(const char *text, size_t size, UnitFile **ret, char **error_message) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *section = NULL, *joined = NULL;
        size_t joined_len = 0, joined_allocated = 0;
        const char *p = text, *end = text + size;
        unsigned line = 0, first_line = 0;
        int r;

        assert(text || size == 0);
        assert(ret);

        if (size > UNIT_FILE_SIZE_MAX) {
                if (error_message && asprintf(error_message, "unit file is larger than %u bytes",
                                              UNIT_FILE_SIZE_MAX) < 0)
                        return -ENOMEM;
                return -EFBIG;
        }

        u = unit_file_new();
        if (!u)
                return -ENOMEM;

        while (p < end) {
                const char *nl = memchr(p, '\n', end - p), *b = p, *e = nl ?: end;
                bool continued;

                line++;
                p = nl ? nl + 1 : end;

                /* Inside a continuation, comment lines are dropped, as systemd does. */
                if (joined_len > 0) {
                        const char *tb = b, *te = e;

                        strip_range(&tb, &te);
                        if (is_comment(tb, te))
                                continue;
                }

                while (e > b && e[-1] == '\r')
                        e--;
                continued = e > b && e[-1] == '\\';
                if (continued && joined_len == 0) {
                        /* A comment line ending in a backslash is still just a comment. */
                        const char *tb = b, *te = e;

                        strip_range(&tb, &te);
                        if (is_comment(tb, te))
                                continued = false;
                }

                if (!continued && joined_len == 0) {
                        r = unit_file_parse_line(u, &section, b, e, line, error_message);
                        if (r < 0)
                                return r;
                        continue;
                }

                if (joined_len == 0)
                        first_line = line;
                if (continued)
                        e--;
                if (!GREEDY_REALLOC(joined, joined_allocated, joined_len + (e - b) + 2))
                        return -ENOMEM;
                memcpy(joined + joined_len, b, e - b);
                joined_len += e - b;
                if (continued) {
                        /* The backslash-newline becomes a space. */
                        joined[joined_len++] = ' ';
                        continue;
                }

                r = unit_file_parse_line(u, &section, joined, joined + joined_len, first_line,
                                         error_message);
                if (r < 0)
                        return r;
                joined_len = 0;
        }

        if (joined_len > 0) {
                r = unit_file_parse_line(u, &section, joined, joined + joined_len, first_line,
                                         error_message);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(u);
        return 0;
}

const char *unit_file_get_last(const UnitFile *u, const char *section, const char *name) {
        assert(u);
        assert(section);
        assert(name);

        for (size_t i = u->n_options; i > 0; i--)
                if (streq(u->options[i - 1].section, section) && streq(u->options[i - 1].name, name))
                        return u->options[i - 1].value;
        return NULL;
}

int unit_file_get_all(const UnitFile *u, const char *section, const char *name, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;

        assert(u);
        assert(section);
        assert(name);
        assert(ret);

        for (size_t i = 0; i < u->n_options; i++)
                if (streq(u->options[i].section, section) && streq(u->options[i].name, name))
                        n++;

        l = new0(char *, n + 1);
        if (!l)
                return -ENOMEM;
        n = 0;
        for (size_t i = 0; i < u->n_options; i++)
                if (streq(u->options[i].section, section) && streq(u->options[i].name, name)) {
                        l[n] = strdup(u->options[i].value);
                        if (!l[n++])
                                return -ENOMEM;
                }

        *ret = TAKE_PTR(l);
        return 0;
}

bool unit_file_has_section(const UnitFile *u, const char *section) {
        assert(u);
        assert(section);

        for (size_t i = 0; i < u->n_options; i++)
                if (streq(u->options[i].section, section))
                        return true;
        return false;
}

int unit_file_serialize(const UnitFile *u, char **ret, size_t *ret_size) {
        _cleanup_free_ bool *done = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        bool first = true;

        assert(u);
        assert(ret);

        done = new0(bool, u->n_options);
        if (!done)
                return -ENOMEM;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        /* Sections in first-seen order, each followed by all of its assignments in order. */
        for (size_t i = 0; i < u->n_options; i++) {
                const char *section = u->options[i].section;

                if (done[i])
                        continue;
                fprintf(f, "%s[%s]\n", first ? "" : "\n", section);
                first = false;
                for (size_t j = i; j < u->n_options; j++)
                        if (!done[j] && streq(u->options[j].section, section)) {
                                fprintf(f, "%s=%s\n", u->options[j].name, u->options[j].value);
                                done[j] = true;
                        }
        }

        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        f = (fclose(f), NULL);
        if (!buf)
                return -ENOMEM;

        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int unit_file_hash(const UnitFile *u, uint8_t ret_digest[static SHA1_DIGEST_SIZE]) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = unit_file_serialize(u, &text, &size);
        if (r < 0)
                return r;
        sha1_buffer(text, size, ret_digest);
        return 0;
}

int unit_file_hash_hex(const UnitFile *u, char ret[static SHA1_HEX_SIZE]) {
        uint8_t d[SHA1_DIGEST_SIZE];
        int r;

        r = unit_file_hash(u, d);
        if (r < 0)
                return r;
        sha1_to_hex(d, ret);
        return 0;
}

bool unit_file_equal(const UnitFile *a, const UnitFile *b) {
        assert(a);
        assert(b);

        if (a->n_options != b->n_options)
                return false;
        for (size_t i = 0; i < a->n_options; i++)
                if (!streq(a->options[i].section, b->options[i].section) ||
                    !streq(a->options[i].name, b->options[i].name) ||
                    !streq(a->options[i].value, b->options[i].value))
                        return false;
        return true;
}
