/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>

#include "error-message.h"
#include "string-util.h"
#include "strv.h"
#include "unit-file.h"
#include "unit-syntax.h"
#include "utf8.h"

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
        assert(u);

        if (!unit_section_is_valid(section) || !unit_option_name_is_valid(name) ||
            !unit_option_value_is_valid(value))
                return -EINVAL;
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

/* "line N: ..." or, with a column, "line N, column C: ...", through lib's one error setter. */
static int parse_error(char **error_message, unsigned line, unsigned column, const char *format, ...)
        _printf_(4, 5);
static int parse_error(char **error_message, unsigned line, unsigned column, const char *format, ...) {
        _cleanup_free_ char *detail = NULL;
        va_list ap;
        int r;

        if (!error_message)
                return -EBADMSG;
        va_start(ap, format);
        r = vasprintf(&detail, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (column > 0)
                return error_message_set(error_message, EBADMSG, "line %u, column %u: %s", line, column, detail);
        return error_message_set(error_message, EBADMSG, "line %u: %s", line, detail);
}

static int unit_file_parse_line(UnitFile *u, char **section, const char *b, const char *e,
                                unsigned line, char **error_message) {
        _cleanup_free_ char *name = NULL;
        const char *eq, *name_end, *value;

        strip_range(&b, &e);
        if (b == e)
                return 0;

        if (*b == '[') {
                char *s;

                if (!memchr(b, ']', e - b))
                        return parse_error(error_message, line, 0, "unterminated section header");
                if (e[-1] != ']')
                        return parse_error(error_message, line, 0, "garbage after section header");
                if (e - b == 2)
                        return parse_error(error_message, line, 0, "empty section name");
                s = strndup(b + 1, e - b - 2);
                if (!s)
                        return -ENOMEM;
                if (!unit_section_is_valid(s)) {
                        free(s);
                        return parse_error(error_message, line, 0,
                                           "section name with a bracket, quote, backslash or control character");
                }
                free_and_replace(*section, s);
                return 0;
        }

        if (!*section)
                return parse_error(error_message, line, 0, "assignment outside of a section");

        eq = memchr(b, '=', e - b);
        if (!eq)
                return parse_error(error_message, line, 0, "missing '='");
        name_end = eq;
        strip_range(&b, &name_end);
        if (b == name_end)
                return parse_error(error_message, line, 0, "empty option name");
        name = strndup(b, name_end - b);
        if (!name)
                return -ENOMEM;
        if (!unit_option_name_is_valid(name))
                return parse_error(error_message, line, 0,
                                   "option name \"%s\" starts with '#', ';' or a byte order mark, or holds a control character",
                                   name);
        value = eq + 1;
        strip_range(&value, &e);
        /* "A=x\\ " is no continuation (it ends in a space), but written back without the space
         * it would be one: refused (found by fuzz-unit-file). */
        if (unit_line_ends_escaped(value, e))
                return parse_error(error_message, line, 0, "value ends in a backslash before trailing whitespace");

        return unit_file_add_full(u, *section, b, name_end - b, value, e - value, line);
}

/* The end of the physical line starting at p, as systemd's read_line() finds it: "\n", "\r",
 * "\r\n" or "\n\r" end one line. *ret_next is the start of the next line. A NUL byte (which
 * systemd would take for a line end too) stops the scan: *ret_next is NULL then. */
static const char *line_end(const char *p, const char *end, const char **ret_next) {
        const char *e = p;

        while (e < end && *e != '\n' && *e != '\r' && *e != '\0')
                e++;
        if (e < end && *e == '\0') {
                *ret_next = NULL;
                return e;
        }
        *ret_next = e;
        if (e < end) {
                (*ret_next)++;
                if (*ret_next < end && (**ret_next == '\n' || **ret_next == '\r') && **ret_next != *e)
                        (*ret_next)++;
        }
        return e;
}

/* A column counted in characters, for an offset into a line valid UTF-8 up to it. */
static unsigned column_of(const char *b, size_t offset) {
        unsigned column = 1;

        for (size_t i = 0; i < offset; i++)
                if (((unsigned char) b[i] & 0xC0) != 0x80)
                        column++;
        return column;
}

int unit_file_parse(const char *text, size_t size, UnitFile **ret, char **error_message) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *section = NULL, *joined = NULL;
        size_t joined_len = 0, joined_allocated = 0, bad;
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

        /* Line by line as systemd's config_parse() reads a unit, so that what we store and
         * schedule is what systemd will run; what it would read differently is refused. */
        while (p < end) {
                const char *b = p, *e = line_end(p, end, &p);

                line++;
                if (!p) {
                        if (!utf8_is_valid_n(b, e - b, &bad))
                                return parse_error(error_message, line, column_of(b, bad), "invalid UTF-8");
                        return parse_error(error_message, line, column_of(b, e - b), "NUL byte");
                }

                /* Comment lines are dropped even inside a continuation, and never continue. */
                if (unit_line_is_comment(b, e))
                        continue;

                if ((size_t) (e - b) >= strlen(UTF8_BOM) && memcmp(b, UTF8_BOM, strlen(UTF8_BOM)) == 0) {
                        if (line > 1)
                                return parse_error(error_message, line, 1, "byte order mark");
                        b += strlen(UTF8_BOM);
                }
                if (!utf8_is_valid_n(b, e - b, &bad))
                        return parse_error(error_message, line, column_of(b, bad),
                                           "invalid UTF-8");

                if (joined_len == 0)
                        first_line = line;
                if (!GREEDY_REALLOC(joined, joined_allocated, joined_len + (e - b) + 1))
                        return -ENOMEM;
                memcpy(joined + joined_len, b, e - b);
                joined_len += e - b;
                if (unit_line_ends_escaped(b, e)) {
                        /* The escaping backslash becomes a space. */
                        joined[joined_len - 1] = ' ';
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
