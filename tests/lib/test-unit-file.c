/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "tap.h"
#include "unit-file.h"

static UnitFile *parse_ok(const char *text) {
        UnitFile *u = NULL;
        int r;

        r = unit_file_parse(text, strlen(text), &u, NULL);
        if (r < 0)
                diag("parse failed: %d", r);
        return u;
}

static void test_parse_basic(void) {
        _cleanup_(unit_file_freep) UnitFile *u = parse_ok(
                "# leading comment\n"
                "[Unit]\n"
                "Description = Hello World  \n"
                "; another comment\n"
                "\n"
                "[Service]\n"
                "ExecStart=/bin/echo a\n"
                "ExecStart=\n"
                "ExecStart=/bin/echo b\n"
                "Environment=A=1\n"
                "\t[X-Fleet]\t\n"
                "Conflicts=web@*.service\n");
        _cleanup_strv_free_ char **all = NULL;

        assert_se(u);
        is_int(u->n_options, 6, "six assignments, comments and blank lines dropped");
        is_str(u->options[0].value, "Hello World", "value trimmed on both sides");
        is_str(u->options[0].name, "Description", "name trimmed");
        is_int(u->options[0].line, 3, "line number kept");
        is_str(unit_file_get_last(u, "Service", "ExecStart"), "/bin/echo b", "last value");
        assert_se(unit_file_get_all(u, "Service", "ExecStart", &all) == 0);
        ok(strv_equal(all, STRV_MAKE("/bin/echo a", "", "/bin/echo b")),
           "every assignment kept in order, an empty value included");
        is_str(unit_file_get_last(u, "Service", "Environment"), "A=1", "only the first '=' splits");
        is_str(unit_file_get_last(u, "X-Fleet", "Conflicts"), "web@*.service", "indented header");
        ok(unit_file_get_last(u, "Unit", "Nope") == NULL, "missing option");
        ok(unit_file_has_section(u, "X-Fleet") && !unit_file_has_section(u, "Install"), "has_section");
}

static void test_continuation(void) {
        _cleanup_(unit_file_freep) UnitFile *u = parse_ok(
                "[Service]\n"
                "ExecStart=/bin/sh -c \\\n"
                "# a comment inside the continuation\n"
                "  'echo hi' \\\n"
                "  more\n"
                "After=x\r\n"
                "# comment ending in a backslash \\\n"
                "Before=y\n");

        assert_se(u);
        is_int(u->n_options, 3, "continued lines form one assignment");
        is_str(u->options[0].value, "/bin/sh -c    'echo hi'    more",
               "backslash-newline becomes a space, comment lines skipped");
        is_int(u->options[0].line, 2, "a continued assignment reports its first line");
        is_str(u->options[1].value, "x", "CRLF line ending");
        is_str(u->options[2].name, "Before", "a comment ending in a backslash does not continue");
}

static void test_errors(void) {
        static const struct {
                const char *text;
                const char *message;
        } cases[] = {
                { "Description=x\n", "line 1: assignment outside of a section" },
                { "[Unit]\nDescription x\n", "line 2: missing '='" },
                { "[Unit\nA=b\n", "line 1: unterminated section header" },
                { "[Unit]\n\n[]\n", "line 3: empty section name" },
                { "[Unit] x\n", "line 1: garbage after section header" },
                { "[Unit]\n =x\n", "line 2: empty option name" },
        };
        _cleanup_free_ char *big = NULL;
        UnitFile *u = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *msg = NULL;
                int r = unit_file_parse(cases[i].text, strlen(cases[i].text), &u, &msg);

                ok(r == -EBADMSG && u == NULL, "malformed unit %zu is rejected", i);
                is_str(msg, cases[i].message, "with its line and reason");
        }
        ok(unit_file_parse("A=b", 3, &u, NULL) == -EBADMSG, "error without a message buffer");

        big = malloc(UNIT_FILE_SIZE_MAX + 1);
        assert_se(big);
        memset(big, '#', UNIT_FILE_SIZE_MAX + 1);
        is_int(unit_file_parse(big, UNIT_FILE_SIZE_MAX + 1, &u, NULL), -EFBIG, "over 1 MiB is refused");
        big[UNIT_FILE_SIZE_MAX - 1] = '\n';
        ok(unit_file_parse(big, UNIT_FILE_SIZE_MAX, &u, NULL) == 0 && u && u->n_options == 0,
           "exactly 1 MiB is accepted");
        u = unit_file_free(u);
}

static void test_serialize_hash(void) {
        _cleanup_(unit_file_freep) UnitFile *u = parse_ok(
                "[Unit]\n"
                "Description=Hello World\n"
                "\n\n"
                "[Service]\n"
                "ExecStart=/bin/bash -c \"while true; do echo Hello, World!; sleep 1; done\"\n");
        _cleanup_(unit_file_freep) UnitFile *v = parse_ok(
                "# a different layout of the same unit\n"
                "[Unit]\n"
                "  Description   =   Hello World\n"
                "[Service]\n"
                "ExecStart=/bin/bash -c \"while true; do echo Hello, World!; sleep 1; done\"\n");
        _cleanup_(unit_file_freep) UnitFile *w = parse_ok(
                "[A]\nx=1\n[B]\ny=2\n[A]\nz=3\n");
        _cleanup_(unit_file_freep) UnitFile *c = NULL, *empty = unit_file_new();
        _cleanup_free_ char *text = NULL, *text2 = NULL, *text3 = NULL;
        char hex[SHA1_HEX_SIZE], hex2[SHA1_HEX_SIZE];
        size_t size;

        assert_se(u && v && w && empty);
        assert_se(unit_file_serialize(u, &text, &size) == 0);
        is_str(text, "[Unit]\nDescription=Hello World\n\n[Service]\n"
               "ExecStart=/bin/bash -c \"while true; do echo Hello, World!; sleep 1; done\"\n",
               "canonical serialization (fleet's shape)");
        is_int(size, strlen(text), "size excludes the NUL");
        assert_se(unit_file_hash_hex(u, hex) == 0);
        /* sha1 of the canonical text above, computed independently (python3 hashlib). */
        is_str(hex, "22f25e029e50c9a5eece8467b98a9d0d60e40b97", "hash is SHA1 of the canonical text");
        assert_se(unit_file_hash_hex(v, hex2) == 0);
        is_str(hex2, hex, "layout and comments do not change the hash");

        assert_se(unit_file_serialize(w, &text2, NULL) == 0);
        is_str(text2, "[A]\nx=1\nz=3\n\n[B]\ny=2\n", "sections in first-seen order, grouped");

        assert_se(unit_file_serialize(empty, &text3, NULL) == 0);
        is_str(text3, "", "empty unit serializes to nothing");

        assert_se(unit_file_copy(u, &c) == 0);
        ok(unit_file_equal(u, c), "copy is equal");
        assert_se(unit_file_add(c, "X-Fleet", "Global", "true") == 0);
        ok(!unit_file_equal(u, c), "an added option makes it differ");
        assert_se(unit_file_hash_hex(c, hex2) == 0);
        ok(!streq(hex, hex2), "and changes the hash");
        is_str(unit_file_get_last(c, "X-Fleet", "Global"), "true", "added option is found");
}

/* Round trip: what we serialize reads back as the same assignments. */
static void check_round_trip(const UnitFile *u, const char *what) {
        _cleanup_(unit_file_freep) UnitFile *back = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;

        assert_se(unit_file_serialize(u, &text, &size) == 0);
        assert_se(unit_file_parse(text, size, &back, NULL) == 0);
        ok(unit_file_equal(u, back), "%s: serialized and parsed back, the same assignments", what);
}

/* Each reproduced against systemd 252: how it splits the text into lines and assignments. */
static void test_systemd_lines(void) {
        _cleanup_(unit_file_freep) UnitFile *cr = NULL, *lfcr = NULL, *bs = NULL, *bom = NULL, *cmt = NULL;
        _cleanup_free_ char *text = NULL;

        /* A lone "\r" ends a line for systemd: the injected ExecStartPre= is an assignment of its
         * own, and we must see it as one, not as part of a Description. */
        cr = parse_ok("[Unit]\nDescription=x\r[Service]\rExecStartPre=\rExecStartPre=/bin/touch /tmp/pwned\n");
        assert_se(cr);
        is_int(cr->n_options, 3, "a lone CR ends a line");
        is_str(cr->options[0].value, "x", "the Description ends at the CR");
        is_str(unit_file_get_last(cr, "Service", "ExecStartPre"), "/bin/touch /tmp/pwned",
               "what systemd would run is what we show");
        is_int(cr->options[2].line, 5, "lines counted as systemd counts them");
        assert_se(unit_file_serialize(cr, &text, NULL) == 0);
        is_str(text, "[Unit]\nDescription=x\n\n[Service]\nExecStartPre=\nExecStartPre=/bin/touch /tmp/pwned\n",
               "serialized with LF only");
        check_round_trip(cr, "CR unit");

        lfcr = parse_ok("[A]\na=1\n\rb=2\r\n\nc=3\n\r\nd=4");
        assert_se(lfcr);
        is_int(lfcr->n_options, 4, "LF CR is one line end, as CR LF");
        is_int(lfcr->options[1].line, 3, "b on line 3");
        is_int(lfcr->options[2].line, 5, "c on line 5 (CR LF then an empty line)");
        is_int(lfcr->options[3].line, 7, "LF CR LF: one line end, then an empty line");

        bs = parse_ok("[A]\nB=x\\\\\nC=y\\\\\\\nz\n");
        assert_se(bs);
        is_int(bs->n_options, 2, "two backslashes do not continue the line, three do");
        is_str(bs->options[0].value, "x\\\\", "an escaped backslash is kept as written");
        is_str(bs->options[1].value, "y\\\\ z", "an odd run continues");
        check_round_trip(bs, "backslash unit");

        bom = parse_ok("\xef\xbb\xbf[A]\nB=\xef\xbb\xbfx\n");
        assert_se(bom);
        is_str(bom->options[0].section, "A", "a byte order mark before the first line is dropped");
        is_str(bom->options[0].value, "\xef\xbb\xbfx", "one inside a value is a character");

        cmt = parse_ok("[A]\n# \xff\xfe not UTF-8 in a comment \\\nB=1\n");
        assert_se(cmt);
        is_int(cmt->n_options, 1, "a comment may hold anything but NUL, and never continues");
}

static void test_refused(void) {
        static const struct {
                const char *text;
                size_t size;
                const char *message;
        } cases[] = {
                { "[A]\nB=x\0y\n", 10, "line 2, column 4: NUL byte" },
                { "[A]\n#x\0\n", 8, "line 2, column 3: NUL byte" },
                { "[A]\nB=\xc3\xa9\xff\n", 0, "line 2, column 4: invalid UTF-8" },
                { "[A]\r\rB=\xc0\xaf\n", 0, "line 3, column 3: invalid UTF-8" },      /* overlong "/" */
                { "[A]\nB=\xed\xa0\x80\n", 0, "line 2, column 3: invalid UTF-8" },    /* surrogate */
                { "[A]\nB=\xf4\x90\x80\x80\n", 0, "line 2, column 3: invalid UTF-8" }, /* > U+10FFFF */
                { "[A]\nB=\xef\xbf\xbe\n", 0, "line 2, column 3: invalid UTF-8" },    /* U+FFFE */
                { "[A]\nB=\xe2\x82\n", 0, "line 2, column 3: invalid UTF-8" },        /* truncated */
                { "[A]\n\xef\xbb\xbf" "B=1\n", 0, "line 2, column 1: byte order mark" },
                { "[A\"B]\n", 0, "line 1: section name with a bracket, quote, backslash or control character" },
                { "[A]]\n", 0, "line 1: section name with a bracket, quote, backslash or control character" },
                { "[A]\nB=x\\ \nC=y\n", 0, "line 2: value ends in a backslash before trailing whitespace" },
                { "[A]\nB\x1b=1\n", 0,
                  "line 2: option name \"B\x1b\" starts with '#', ';' or a byte order mark, or holds a control character" },
        };
        UnitFile *u = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *msg = NULL;
                size_t size = cases[i].size ?: strlen(cases[i].text);
                int r = unit_file_parse(cases[i].text, size, &u, &msg);

                ok(r == -EBADMSG && u == NULL, "refused: case %zu", i);
                is_str(msg, cases[i].message, "with line, column and reason");
        }
}

static void test_add_checks(void) {
        _cleanup_(unit_file_freep) UnitFile *u = unit_file_new();

        assert_se(u);
        is_int(unit_file_add(u, "Unit", "Description", "a\nExecStart=/bin/evil"), -EINVAL, "LF in a value");
        is_int(unit_file_add(u, "Unit", "Description", "a\rExecStart=/bin/evil"), -EINVAL, "CR in a value");
        is_int(unit_file_add(u, "Unit", "Description", "a\\"), -EINVAL, "a continuation at a value's end");
        is_int(unit_file_add(u, "Unit", "Description", " a"), -EINVAL, "leading space (would be trimmed)");
        is_int(unit_file_add(u, "Unit", "Description", "\xff"), -EINVAL, "invalid UTF-8");
        is_int(unit_file_add(u, "Unit", "#Description", "a"), -EINVAL, "a name that reads as a comment");
        is_int(unit_file_add(u, "Unit", "A=B", "a"), -EINVAL, "'=' in a name");
        is_int(unit_file_add(u, "Unit]\n[Service", "A", "a"), -EINVAL, "a section that breaks its header");
        is_int(unit_file_add(u, "", "A", "a"), -EINVAL, "an empty section");
        is_int(u->n_options, 0, "nothing was added");
        is_int(unit_file_add(u, "Unit", "Description", "a\\\\ \x1b[31m%n"), 0,
               "an even backslash run, an escape sequence and a specifier are ordinary text");
        check_round_trip(u, "added unit");
}

int main(void) {
        test_parse_basic();
        test_continuation();
        test_errors();
        test_serialize_hash();
        test_systemd_lines();
        test_refused();
        test_add_checks();
        return done_testing();
}
