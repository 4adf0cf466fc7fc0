/* SPDX-License-Identifier: Apache-2.0 */

#include "exec-quote.h"
#include "strv.h"
#include "tap.h"

static char *words_line(const ExecArgv *argv) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_se(f);
        assert_se(exec_write_line(f, "ExecStart", "-", argv) == 0);
        fclose(f);
        return buf;
}

static char *line(char **argv) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_se(f);
        assert_se(exec_write_strv(f, "ExecStart", NULL, argv) == 0);
        fclose(f);
        return buf;
}

/* systemd's own reading of an Exec line (unquote, unescape, then "$$"→"$" and "%%"→"%"), for
 * the characters the writer produces: the round trip must give back argv exactly. */
static char **systemd_split(const char *s) {
        char **l = NULL;
        const char *p = s;

        for (;;) {
                char *w = malloc(strlen(s) + 1), *e = w;
                bool quoted = false;

                assert_se(w);
                p += strspn(p, " ");
                if (!*p) {
                        free(w);
                        break;
                }
                for (; *p && (quoted || *p != ' '); p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        if (*p == '\\') {
                                p++;
                                switch (*p) {
                                case 'n': *e++ = '\n'; break;
                                case 't': *e++ = '\t'; break;
                                case 'r': *e++ = '\r'; break;
                                case 'x': {
                                        unsigned v;
                                        assert_se(sscanf(p + 1, "%2x", &v) == 1);
                                        *e++ = (char) v;
                                        p += 2;
                                        break;
                                }
                                default: *e++ = *p;
                                }
                                continue;
                        }
                        if ((*p == '$' || *p == '%') && p[1] == *p) {
                                *e++ = *p++;
                                continue;
                        }
                        *e++ = *p;
                }
                *e = 0;
                assert_se(strv_consume(&l, w) == 0);
        }
        return l;
}

/* Specifiers travel beside the text: the text's bytes are literal whatever they are (the bytes
 * that once marked specifiers inside strings included), the specifier is written where it stands. */
static void test_specifiers(void) {
        _cleanup_(exec_argv_done) ExecArgv argv = {}, copy = {};
        _cleanup_(exec_word_done) ExecWord name = {}, home = {}, unit = {}, wrapped = {}, alone = {};
        _cleanup_free_ char *l = NULL, *setting = NULL, *words = NULL, *w = NULL;
        _cleanup_strv_free_ char **back = NULL;
        const char *v;
        char **expect = STRV_MAKE("--name", "p-web-\002\003\004%i", "\002/x:/y");

        assert_se(exec_word_make(&name, "p-web-", EXEC_SPECIFIER_INSTANCE, NULL) == 0);
        assert_se(exec_word_make(&home, NULL, EXEC_SPECIFIER_HOME, "/x:/y") == 0);
        assert_se(exec_word_make(&unit, "/run/a b/", EXEC_SPECIFIER_UNIT, "/s:%n") == 0);
        assert_se(exec_word_make(&alone, NULL, EXEC_SPECIFIER_INSTANCE, NULL) == 0);
        assert_se(exec_argv_add(&argv, "--name") == 0);
        assert_se(exec_argv_add_word(&argv, &name) == 0);
        assert_se(exec_argv_add_word(&argv, &home) == 0);
        assert_se(exec_argv_add_word(&argv, &unit) == 0);
        assert_se(exec_argv_add_word(&argv, &alone) == 0);
        l = words_line(&argv);
        is_str(l, "ExecStart=---name p-web-%i %h/x:/y \"/run/a b/%n/s:%%n\" %i\n",
               "specifiers are written where they stand, the text around them quoted as text");

        /* The bytes \002 \003 \004 (the old in-band markers) and a literal "%i" are text. */
        exec_argv_done(&argv);
        assert_se(exec_argv_add_strv(&argv, expect) == 0);
        words = words_line(&argv);
        is_str(words, "ExecStart=---name \"p-web-\\x02\\x03\\x04%%i\" \"\\x02/x:/y\"\n",
               "marker-like bytes in a value are escaped as themselves, never a specifier");
        v = startswith(words, "ExecStart=-");
        assert_se(v);
        w = strndup(v, strlen(v) - 1);
        assert_se(w);
        back = systemd_split(w);
        ok(strv_equal(back, expect), "and systemd reads them back as the same bytes");

        assert_se(exec_word_wrap(&wrapped, "until x ", &name, " done") == 0);
        ok(wrapped.specifier == EXEC_SPECIFIER_INSTANCE && wrapped.at == strlen("until x p-web-") &&
           streq(wrapped.text, "until x p-web- done"), "wrapping keeps the specifier at its place");
        assert_se(exec_word_to_setting(&wrapped, &setting) == 0);
        is_str(setting, "until x p-web-%i done", "a setting gets the specifier unquoted");
        setting = mfree(setting);
        assert_se(exec_word_to_setting(&unit, &setting) == 0);
        is_str(setting, "/run/a b/%n/s:%%n", "and its literal %% doubled");

        assert_se(exec_argv_add_word(&copy, &name) == 0);
        ok(exec_argv_contains(&copy, &name), "a word equals its copy");
        ok(!exec_argv_contains(&copy, &alone), "not a word with another text");
        exec_word_done(&alone);
        assert_se(exec_word_make(&alone, "p-web-", EXEC_SPECIFIER_HOME, NULL) == 0);
        ok(!exec_argv_contains(&copy, &alone), "nor one with another specifier");
}

int main(void) {
        char **argv = STRV_MAKE("/usr/bin/docker", "run", "-e", "A=b c", "-e", "PRICE=5$ 100%", "img", "sh", "-c",
                                "echo \"$HOME\" 'x' \\ done; rm -rf /", "", "tab\there", "new\nline", "bell\a",
                                "$(id)", "`id`", "%i", "${X}");
        _cleanup_free_ char *l = line(argv), *spec = NULL;
        _cleanup_strv_free_ char **back = NULL;
        const char *v;

        v = startswith(l, "ExecStart=");
        ok(v && endswith(v, "\n"), "key first, newline last");
        _cleanup_free_ char *words = strndup(v, strlen(v) - 1);
        back = systemd_split(words);
        ok(strv_equal(back, argv), "every word comes back exactly (no lost characters, no shell)");
        ok(strstr(l, " \"A=b c\" ") != NULL, "words with spaces are quoted");
        ok(strstr(l, "\"PRICE=5$$ 100%%\"") != NULL, "$ and %% are doubled");
        ok(strstr(l, " \"\" ") != NULL, "an empty word is \"\"");
        ok(strstr(l, "\"bell\\x07\"") != NULL, "control characters are escaped");
        ok(strstr(l, " %%i ") != NULL, "a literal %%i is not a specifier");
        ok(endswith(l, " $${X}\n") != NULL, "a literal ${X} is not expanded");

        test_specifiers();
        return done_testing();
}
