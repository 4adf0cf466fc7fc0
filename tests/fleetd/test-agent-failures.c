/* SPDX-License-Identifier: Apache-2.0 */

#include "agent-internal.h"
#include "tap.h"

#define MINUTE (60 * USEC_PER_SEC)

static void test_window(void) {
        FailureCounter c = {};

        is_int(failure_counter_count(&c, 0, 5 * MINUTE), 0, "no failures yet");
        is_int(failure_counter_add(&c, 10 * MINUTE, 5 * MINUTE, 3), 1, "first failure");
        is_int(failure_counter_add(&c, 12 * MINUTE, 5 * MINUTE, 3), 2, "second, 2 min later");
        is_int(failure_counter_count(&c, 14 * MINUTE, 5 * MINUTE), 2, "both still in the window");
        is_int(failure_counter_count(&c, 15 * MINUTE, 5 * MINUTE), 1, "the first leaves the window after 5 min");
        is_int(failure_counter_add(&c, 16 * MINUTE, 5 * MINUTE, 3), 2, "so a third failure makes 2, not 3");
        is_int(failure_counter_add(&c, 16 * MINUTE + 1, 5 * MINUTE, 3), 3, "and a fourth makes 3: the threshold");
        is_int(failure_counter_count(&c, 30 * MINUTE, 5 * MINUTE), 0, "all gone after a quiet window");
        failure_counter_done(&c);
        ok(!c.times && c.n == 0, "done frees");
}

static void test_limit(void) {
        FailureCounter c = {};
        int n = 0;

        /* A unit that fails in a loop keeps at most limit times, however many failures. */
        for (unsigned i = 0; i < 1000; i++)
                n = failure_counter_add(&c, i * USEC_PER_SEC, 5 * MINUTE, 3);
        is_int(n, 3, "the count stops at the limit");
        ok(c.n == 3 && c.times[0] == 997 * USEC_PER_SEC && c.times[2] == 999 * USEC_PER_SEC,
           "the newest failures are kept");
        failure_counter_done(&c);

        for (unsigned i = 0; i < 50; i++)
                n = failure_counter_add(&c, i * USEC_PER_SEC, 5 * MINUTE, 0);
        is_int(n, 50, "limit 0 (never move): still counted, unbounded by the limit");
        failure_counter_done(&c);
}

int main(void) {
        test_window();
        test_limit();
        return done_testing();
}
