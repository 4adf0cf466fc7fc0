/* SPDX-License-Identifier: Apache-2.0 */

/* The tables against the text fleet printed (Go's text/tabwriter with minwidth 0, tabwidth 8,
 * padding 1, padchar '\t'). The expected strings are fleet's documented outputs and cases worked
 * out from tabwriter's algorithm. */

#include "table.h"
#include "strv.h"
#include "tap.h"

static char *format_rows(char **const *rows, size_t n) {
        _cleanup_(table_freep) Table *t = table_new();
        char *s = NULL;

        assert_se(t);
        for (size_t i = 0; i < n; i++)
                assert_se(table_add_row(t, rows[i], strv_length(rows[i])) == 0);
        assert_se(table_format(t, &s) == 0);
        return s;
}

static void test_fleet_docs(void) {
        _cleanup_free_ char *machines = NULL, *files = NULL, *units = NULL;

        machines = format_rows((char **const[]) {
                STRV_MAKE("MACHINE", "IP", "METADATA"),
                STRV_MAKE("148a18ff...", "10.10.1.1", "-"),
                STRV_MAKE("491586a6...", "10.10.1.2", "-"),
                STRV_MAKE("c9de9451...", "10.10.1.3", "-"),
        }, 4);
        is_str(machines,
               "MACHINE\t\tIP\t\tMETADATA\n"
               "148a18ff...\t10.10.1.1\t-\n"
               "491586a6...\t10.10.1.2\t-\n"
               "c9de9451...\t10.10.1.3\t-\n",
               "list-machines as in fleet's documentation");

        files = format_rows((char **const[]) {
                STRV_MAKE("UNIT", "HASH", "DSTATE", "STATE", "TARGET"),
                STRV_MAKE("hello.service", "0d1c468", "launched", "launched", "113f16a7.../172.17.8.103"),
        }, 2);
        is_str(files,
               "UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n"
               "hello.service\t0d1c468\tlaunched\tlaunched\t113f16a7.../172.17.8.103\n",
               "list-unit-files as in fleet's documentation");

        units = format_rows((char **const[]) {
                STRV_MAKE("UNIT", "MACHINE", "ACTIVE", "SUB"),
                STRV_MAKE("hello.service", "113f16a7.../172.17.8.103", "active", "running"),
        }, 2);
        is_str(units,
               "UNIT\t\tMACHINE\t\t\t\tACTIVE\tSUB\n"
               "hello.service\t113f16a7.../172.17.8.103\tactive\trunning\n",
               "list-units as in fleet's documentation");
}

static void test_blocks(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        /* A row with fewer cells ends the column block: rows after it are aligned on their own. */
        a = format_rows((char **const[]) {
                STRV_MAKE("A", "B", "C"),
                STRV_MAKE("xx"),
                STRV_MAKE("longer-name", "D", "E"),
        }, 3);
        is_str(a, "A\tB\tC\nxx\nlonger-name\tD\tE\n", "a single-cell row splits the blocks");

        /* Exactly 8 characters plus the padding need two tab stops. */
        b = format_rows((char **const[]) {
                STRV_MAKE("abcdefgh", "x"),
                STRV_MAKE("ab", "y"),
        }, 2);
        is_str(b, "abcdefgh\tx\nab\t\ty\n", "a cell of tab width is padded to the next stop");

        /* The last cell is never padded, however wide; column 2 is aligned only where rows have it. */
        c = format_rows((char **const[]) {
                STRV_MAKE("u", "a-very-long-last-cell"),
                STRV_MAKE("v", "w", "z"),
                STRV_MAKE("x", "yyyyyyyyyyyy", "z"),
        }, 3);
        is_str(c, "u\ta-very-long-last-cell\nv\tw\t\tz\nx\tyyyyyyyyyyyy\tz\n",
               "nested column blocks");

        /* Widths count characters, not bytes. */
        d = format_rows((char **const[]) {
                STRV_MAKE("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "x"),
                STRV_MAKE("a", "y"),
        }, 2);
        is_str(d, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\tx\na\ty\n",
               "seven 2-byte characters fit one tab stop");
}

static void test_empty_and_null(void) {
        _cleanup_(table_freep) Table *t = table_new();
        _cleanup_free_ char *s = NULL, *s2 = NULL;

        assert_se(t);
        assert_se(table_format(t, &s) == 0);
        is_str(s, "", "an empty table prints nothing");
        is_int(table_n_rows(t), 0, "no rows");

        assert_se(table_add_row(t, (char *[]) { (char *) "a", NULL, (char *) "c" }, 3) == 0);
        assert_se(table_format(t, &s2) == 0);
        is_str(s2, "a\t-\tc\n", "a NULL cell prints as '-'");
        ok(!table_free(NULL), "table_free(NULL)");
}

int main(void) {
        test_fleet_docs();
        test_blocks();
        test_empty_and_null();
        return done_testing();
}
