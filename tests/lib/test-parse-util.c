/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>

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

static void test_time_span(void) {
        static const struct {
                const char *s;
                uint64_t usec;
        } good[] = {
                { "300", 300000000ULL },
                { "5min", 300000000ULL },
                { "5m", 300000000ULL },
                { "1h 30min", 5400000000ULL },
                { "1h30m", 5400000000ULL },
                { "2.5s", 2500000ULL },
                { "90 sec", 90000000ULL },
                { "1d", 86400000000ULL },
                { "250ms", 250000ULL },
                { "7us", 7ULL },
                { " 2 hours ", 7200000000ULL },
        };
        static const char *const bad[] = { "", " ", "min", "5 fortnights", "-5s", "5S", "1.2.3s", "5min x",
                                           "99999999999999999999d" };
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ok(parse_time_span(good[i].s, &v) == 0 && v == good[i].usec, "'%s' is %" PRIu64 " us", good[i].s,
                   good[i].usec);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                is_int(parse_time_span(bad[i], &v), -EINVAL, "'%s' is rejected", bad[i]);
}

int main(void) {
        test_time_span();
        test_boolean();
        return done_testing();
}
