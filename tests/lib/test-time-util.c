/* SPDX-License-Identifier: Apache-2.0 */

#include "tap.h"
#include "time-util.h"

static void test_units(void) {
        is_int(USEC_PER_SEC, 1000 * USEC_PER_MSEC, "a second is a thousand milliseconds");
        is_int(NSEC_PER_SEC, 1000 * NSEC_PER_MSEC, "in nanoseconds too");
        is_int(NSEC_PER_MSEC, 1000 * NSEC_PER_USEC, "a millisecond is a thousand microseconds");
        ok(USEC_PER_HOUR == UINT64_C(3600000000), "an hour");
}

static void test_timespec(void) {
        struct timespec ts;

        timespec_store(&ts, 3 * USEC_PER_SEC + 250 * USEC_PER_MSEC + 7);
        is_int(ts.tv_sec, 3, "store: seconds");
        is_int(ts.tv_nsec, 250007000, "store: nanoseconds");
        ok(timespec_load(&ts) == 3 * USEC_PER_SEC + 250 * USEC_PER_MSEC + 7, "load gives back what was stored");
        ts = (struct timespec) { .tv_sec = 1, .tv_nsec = 999 };
        ok(timespec_load(&ts) == USEC_PER_SEC, "load truncates below a microsecond");
}

static void test_clock(void) {
        usec_t a, b;
        struct timespec pause = { .tv_nsec = 20 * NSEC_PER_MSEC };

        a = now(CLOCK_MONOTONIC);
        (void) nanosleep(&pause, NULL);
        b = now(CLOCK_MONOTONIC);
        ok(b >= a + 20 * USEC_PER_MSEC, "the monotonic clock advanced by at least the pause");
        ok(now(CLOCK_REALTIME) > UINT64_C(1500000000) * USEC_PER_SEC, "the real-time clock is past 2017");
}

int main(void) {
        test_units();
        test_timespec();
        test_clock();
        return done_testing();
}
