/* SPDX-License-Identifier: Apache-2.0 */

#include "parse-util.h"
#include "tap.h"

static void test_boolean(void) {
        static const char *const yes[] = { "1", "true", "TRUE", "True", "yes", "Yes", "on", "ON", "t", "T", "y" };
        static const char *const no[] = { "0", "false", "FALSE", "no", "NO", "off", "Off", "f", "F", "n" };
        static const char *const bad[] = { "", "2", "-1", "tru", "truee", "yes ", " no", "oui", "enabled" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                is_int(parse_boolean(yes[i]), 1, "'%s' is true", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                is_int(parse_boolean(no[i]), 0, "'%s' is false", no[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                is_int(parse_boolean(bad[i]), -EINVAL, "'%s' is rejected", bad[i]);
}

int main(void) {
        test_boolean();
        return done_testing();
}
