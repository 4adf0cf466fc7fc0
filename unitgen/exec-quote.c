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
                            SPECIFIER_HOME SPECIFIER_INSTANCE, *c))
                        return false;
        return true;
}

int exec_quote_word(FILE *f, const char *word) {
        bool plain = word_is_plain(word);

        if (!plain)
                fputc('"', f);
        for (const unsigned char *c = (const unsigned char *) word; *c; c++)
                switch (*c) {
                case SPECIFIER_HOME_CHAR:
                        fputs("%h", f);
                        break;
                case SPECIFIER_INSTANCE_CHAR:
                        fputs("%i", f);
                        break;
                case '%':
                        fputs("%%", f);
                        break;
                case '$':
                        fputs("$$", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*c < 0x20 || *c == 0x7f)
                                fprintf(f, "\\x%02x", *c);
                        else
                                fputc(*c, f);
                }
        if (!plain)
                fputc('"', f);
        return ferror(f) ? -EIO : 0;
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
