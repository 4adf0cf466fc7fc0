/* SPDX-License-Identifier: Apache-2.0 */

#include <stdlib.h>

#include "macro.h"

#include "tap.h"
#include "utf8.h"

static void check_escape(const char *in, const char *want, const char *what) {
        _cleanup_free_ char *s = utf8_escape_non_printable(in);

        is_str(s, want, "%s", what);
}

static void test_escape(void) {
        check_escape("10.0.0.1", "10.0.0.1", "plain text is kept");
        check_escape("", "", "the empty string stays empty");
        ok(!utf8_escape_non_printable(NULL), "NULL gives NULL");
        check_escape("caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93", "printable UTF-8 is kept");
        /* What issue 12 saw forge a row of list-machines: a cursor move, a colour and a new line. */
        check_escape("10.0.0.1\x1b[2K\r\n\x1b[31mfake\tup",
                     "10.0.0.1\\x1b[2K\\r\\n\\x1b[31mfake\\tup", "escape sequences and line ends are escaped");
        check_escape("a\x7f" "b", "a\\x7fb", "DEL is escaped");
        check_escape("a\xc2\x9b" "31m", "a\\xc2\\x9b31m", "a C1 control (CSI) is escaped byte by byte");
        check_escape("x\xe2\x80\xae" "cba", "x\\xe2\\x80\\xaecba", "a right-to-left override is escaped");
        check_escape("a\xff\xfe" "b", "a\\xff\\xfeb", "invalid bytes are escaped");
        check_escape("\xc0\xaf", "\\xc0\\xaf", "an overlong '/' is escaped");
        check_escape("\xe2\x9c", "\\xe2\\x9c", "a truncated sequence is escaped");
        check_escape("\xe2\x1b" "x", "\\xe2\\x1bx", "the byte after a bad lead byte is looked at afresh");
        check_escape("a\\x1b", "a\\x1b", "a backslash is printable and kept");
}

int main(void) {
        test_escape();
        return done_testing();
}
