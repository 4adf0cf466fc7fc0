/* SPDX-License-Identifier: Apache-2.0 */

#include "unit-file.h"
#include "unit-syntax.h"
#include "utf8.h"

bool unit_char_is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_control(char c) {
        return (unsigned char) c < 0x20 || c == 0x7f;
}

bool unit_line_is_comment(const char *b, const char *e) {
        while (b < e && unit_char_is_blank(*b))
                b++;
        return b < e && (*b == '#' || *b == ';');
}

bool unit_line_ends_escaped(const char *b, const char *e) {
        size_t n = 0;

        while (e > b && e[-1] == '\\')
                e--, n++;
        return n % 2 == 1;
}

bool unit_section_is_valid(const char *s) {
        /* systemd refuses control characters, quotes and backslashes in a header (string_is_safe);
         * brackets inside it we could not write back unambiguously. */
        if (isempty(s) || !utf8_is_valid(s))
                return false;
        for (const char *c = s; *c; c++)
                if (is_control(*c) || strchr("[]\\\"'", *c))
                        return false;
        return true;
}

bool unit_option_name_is_valid(const char *n) {
        /* Written at the start of a line, the name must not read back as a header, a comment, or
         * a byte order mark systemd would drop. */
        if (isempty(n) || !utf8_is_valid(n) || strchr("[#;", n[0]) || startswith(n, UTF8_BOM))
                return false;
        for (const char *c = n; *c; c++)
                if (is_control(*c) || *c == '=')
                        return false;
        return n[0] != ' ' && n[strlen(n) - 1] != ' ';
}

bool unit_option_value_is_valid(const char *v) {
        size_t n;

        if (!v || !utf8_is_valid(v))
                return false;
        /* No line end (systemd ends a line at "\r" as well as "\n"), nothing trimmed on reading,
         * and no final backslash that would continue the line into the next assignment. */
        if (strpbrk(v, "\n\r"))
                return false;
        n = strlen(v);
        if (n > 0 && (unit_char_is_blank(v[0]) || unit_char_is_blank(v[n - 1])))
                return false;
        return !unit_line_ends_escaped(v, v + n);
}

int unit_file_check_written(const char *text, size_t size) {
        _cleanup_(unit_file_freep) UnitFile *parsed = NULL;
        size_t assignments = 0;
        int r;

        assert(text || size == 0);

        if (memchr(text, '\r', size))
                return -EBADMSG;
        r = unit_file_parse(text, size, &parsed, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        for (const char *l = text, *end = text + size; l < end;) {
                const char *nl = memchr(l, '\n', end - l), *e = nl ?: end;

                if (!unit_line_is_comment(l, e) && l < e && *l != '[')
                        assignments++;
                l = e + 1;
        }
        return assignments == parsed->n_options ? 0 : -EBADMSG;
}

