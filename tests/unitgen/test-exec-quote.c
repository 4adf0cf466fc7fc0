/* SPDX-License-Identifier: Apache-2.0 */

#include "exec-quote.h"
#include "strv.h"
#include "tap.h"

static char *line(char **argv) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_se(f);
        assert_se(exec_write_line(f, "ExecStart", argv) == 0);
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

        spec = line(STRV_MAKE("--name", "p-web-" SPECIFIER_INSTANCE, SPECIFIER_HOME "/x:/y"));
        is_str(spec, "ExecStart=--name p-web-%i %h/x:/y\n", "the converter's markers become specifiers");
        return done_testing();
}
