/* SPDX-License-Identifier: Apache-2.0 */

#include "error-message.h"
#include "tap.h"

static void test_set(void) {
        _cleanup_free_ char *e = NULL;

        is_int(error_message_set(&e, EINVAL, "%s: '%s' is not a number", "port", "x"), -EINVAL,
               "returns the negative errno");
        is_str(e, "port: 'x' is not a number", "the message is formatted");
        is_int(error_message_set(&e, -EBADMSG, "line %u: missing '='", 3), -EBADMSG,
               "a negative errno is returned as is");
        is_str(e, "line 3: missing '='", "a second message replaces (and frees) the first");
        is_int(error_message_set(NULL, EINVAL, "nobody asked"), -EINVAL, "without a place to put it");
}

int main(void) {
        test_set();
        return done_testing();
}
