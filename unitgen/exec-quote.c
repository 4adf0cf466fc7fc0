/* SPDX-License-Identifier: Apache-2.0 */

#include "exec-quote.h"
#include "strv.h"

void exec_word_done(ExecWord *w) {
        w->text = mfree(w->text);
        w->at = 0;
        w->specifier = EXEC_SPECIFIER_NONE;
}

int exec_word_make(ExecWord *ret, const char *before, ExecSpecifier specifier, const char *after) {
        char *t;

        if (asprintf(&t, "%s%s", strempty(before), strempty(after)) < 0)
                return -ENOMEM;
        *ret = (ExecWord) { .text = t, .at = strlen(strempty(before)), .specifier = specifier };
        return 0;
}

int exec_word_wrap(ExecWord *ret, const char *before, const ExecWord *w, const char *after) {
        char *t;

        if (asprintf(&t, "%s%s%s", strempty(before), w->text, strempty(after)) < 0)
                return -ENOMEM;
        *ret = (ExecWord) { .text = t, .at = strlen(strempty(before)) + w->at, .specifier = w->specifier };
        return 0;
}

bool exec_word_equal(const ExecWord *a, const ExecWord *b) {
        return streq(a->text, b->text) && a->specifier == b->specifier &&
                (a->specifier == EXEC_SPECIFIER_NONE || a->at == b->at);
}

int exec_word_to_setting(const ExecWord *w, char **ret) {
        size_t n = 0, len = strlen(w->text);
        char *s = new(char, len * 2 + 3);

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i <= len; i++) {
                if (i == w->at && w->specifier != EXEC_SPECIFIER_NONE) {
                        s[n++] = '%';
                        s[n++] = (char) w->specifier;
                }
                if (i == len)
                        break;
                if (w->text[i] == '%')
                        s[n++] = '%';
                s[n++] = w->text[i];
        }
        s[n] = 0;
        *ret = s;
        return 0;
}

void exec_argv_done(ExecArgv *a) {
        for (size_t i = 0; i < a->n; i++)
                exec_word_done(a->words + i);
        a->words = mfree(a->words);
        a->n = a->allocated = 0;
}

static int argv_take(ExecArgv *a, ExecWord w) {
        if (!GREEDY_REALLOC(a->words, a->allocated, a->n + 1)) {
                exec_word_done(&w);
                return -ENOMEM;
        }
        a->words[a->n++] = w;
        return 0;
}

int exec_argv_add(ExecArgv *a, const char *text) {
        char *t = strdup(text);

        if (!t)
                return -ENOMEM;
        return argv_take(a, (ExecWord) { .text = t });
}

int exec_argv_add_strv(ExecArgv *a, char *const *l) {
        STRV_FOREACH(s, l) {
                int r = exec_argv_add(a, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int exec_argv_add_word(ExecArgv *a, const ExecWord *w) {
        char *t = strdup(w->text);

        if (!t)
                return -ENOMEM;
        return argv_take(a, (ExecWord) { .text = t, .at = w->at, .specifier = w->specifier });
}

int exec_argv_add_argv(ExecArgv *a, const ExecArgv *b) {
        for (size_t i = 0; i < b->n; i++) {
                int r = exec_argv_add_word(a, b->words + i);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool exec_argv_contains(const ExecArgv *a, const ExecWord *w) {
        for (size_t i = 0; i < a->n; i++)
                if (exec_word_equal(a->words + i, w))
                        return true;
        return false;
}

static bool word_is_plain(const ExecWord *w) {
        if (isempty(w->text))
                return w->specifier != EXEC_SPECIFIER_NONE;
        /* A leading "-", "@", ":", "+" or "!" is a prefix only for the executable, which the
         * generator writes itself; quoting never hurts, so "'" ";" and the like are quoted. */
        for (const char *c = w->text; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@+%$[]{}^~#", *c))
                        return false;
        return true;
}

void exec_quote_word(FILE *f, const ExecWord *w) {
        bool plain = word_is_plain(w);
        size_t len = strlen(w->text), n = 0;
        char buf[512];

        /* Built in a buffer: a stdio call per character costs more than the rest of the conversion. */
        if (!plain)
                buf[n++] = '"';
        for (size_t i = 0; i <= len; i++) {
                unsigned char c = (unsigned char) w->text[i];
                const char *esc = NULL;

                if (n + 6 >= sizeof(buf)) {
                        fwrite(buf, 1, n, f);
                        n = 0;
                }
                if (i == w->at && w->specifier != EXEC_SPECIFIER_NONE) {
                        buf[n++] = '%';
                        buf[n++] = (char) w->specifier;
                }
                if (i == len)
                        break;
                switch (c) {
                case '%': esc = "%%"; break;
                case '$': esc = "$$"; break;
                case '"': esc = "\\\""; break;
                case '\\': esc = "\\\\"; break;
                case '\n': esc = "\\n"; break;
                case '\t': esc = "\\t"; break;
                case '\r': esc = "\\r"; break;
                default:
                        if (c < 0x20 || c == 0x7f)
                                n += (size_t) snprintf(buf + n, 5, "\\x%02x", c);
                        else
                                buf[n++] = (char) c;
                        continue;
                }
                buf[n++] = esc[0];
                buf[n++] = esc[1];
        }
        if (!plain)
                buf[n++] = '"';
        /* Write errors stick to f; the caller checks once, at the end. */
        fwrite(buf, 1, n, f);
}

int exec_write_line(FILE *f, const char *key, const char *prefix, const ExecArgv *argv) {
        fputs(key, f);
        fputc('=', f);
        fputs(strempty(prefix), f);
        for (size_t i = 0; i < argv->n; i++) {
                if (i > 0)
                        fputc(' ', f);
                exec_quote_word(f, argv->words + i);
        }
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

int exec_write_strv(FILE *f, const char *key, const char *prefix, char *const *argv) {
        _cleanup_(exec_argv_done) ExecArgv a = {};
        int r;

        r = exec_argv_add_strv(&a, argv);
        if (r < 0)
                return r;
        return exec_write_line(f, key, prefix, &a);
}
