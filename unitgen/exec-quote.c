/* SPDX-License-Identifier: Apache-2.0 */

#include "exec-quote.h"
#include "strv.h"

static bool word_is_plain(const char *w) {
        if (isempty(w))
                return false;
        /* A leading "-", "@", ":", "+" or "!" is a prefix only for the executable, which the
         * generator writes itself; quoting never hurts, so "'" ";" and the like are quoted. */
        for (const char *c = w; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@+%$[]{}^~#"
                            SPECIFIER_HOME SPECIFIER_INSTANCE SPECIFIER_UNIT, *c))
                        return false;
        return true;
}

int exec_quote_word(FILE *f, const char *word) {
        bool plain = word_is_plain(word);
        char buf[512];
        size_t n = 0;

        /* Built in a buffer: a stdio call per character costs more than the rest of the conversion. */
        if (!plain)
                buf[n++] = '"';
        for (const unsigned char *c = (const unsigned char *) word; *c; c++) {
                const char *esc = NULL;
                char hex[5];

                if (n + 4 >= sizeof(buf)) {
                        fwrite(buf, 1, n, f);
                        n = 0;
                }
                switch (*c) {
                case SPECIFIER_HOME_CHAR: esc = "%h"; break;
                case SPECIFIER_INSTANCE_CHAR: esc = "%i"; break;
                case SPECIFIER_UNIT_CHAR: esc = "%n"; break;
                case '%': esc = "%%"; break;
                case '$': esc = "$$"; break;
                case '"': esc = "\\\""; break;
                case '\\': esc = "\\\\"; break;
                case '\n': esc = "\\n"; break;
                case '\t': esc = "\\t"; break;
                case '\r': esc = "\\r"; break;
                default:
                        if (*c < 0x20 || *c == 0x7f) {
                                (void) snprintf(hex, sizeof(hex), "\\x%02x", *c);
                                memcpy(buf + n, hex, 4);
                                n += 4;
                        } else
                                buf[n++] = (char) *c;
                        continue;
                }
                buf[n++] = esc[0];
                buf[n++] = esc[1];
        }
        if (!plain)
                buf[n++] = '"';
        /* Write errors stick to f; the caller checks once, at the end. */
        fwrite(buf, 1, n, f);
        return 0;
}

int exec_write_line(FILE *f, const char *key, char *const *argv) {
        size_t i = 0;

        fputs(key, f);
        fputc('=', f);
        STRV_FOREACH(a, argv) {
                if (i++ > 0)
                        fputc(' ', f);
                (void) exec_quote_word(f, *a);
        }
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}
