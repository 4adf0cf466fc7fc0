/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small TAP producer (https://testanything.org), enough for meson's `protocol : 'tap'`.
 * Each test program includes it once, calls ok()/is_*() and ends with `return done_testing();`
 * (the plan then goes last, which TAP allows), or calls plan(N) first. A program whose
 * dependency is missing calls skip_all("reason"), which prints "1..0 # SKIP reason" and exits 0. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_count, tap_failed, tap_planned;

__attribute__((unused)) static void plan(unsigned n) {
        tap_planned = n;
        printf("1..%u\n", n);
        fflush(stdout);
}

__attribute__((format(printf, 1, 2), unused)) static void diag(const char *fmt, ...) {
        va_list ap;

        fputs("# ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
}

static bool tap_vreport(bool pass, const char *fmt, va_list ap) {
        tap_count++;
        if (!pass)
                tap_failed++;
        printf("%s %u - ", pass ? "ok" : "not ok", tap_count);
        /* A test point is one line: a name that quotes output (a unit line, an error) must not
         * end it early, or meson reads the rest as unknown TAP. */
        char *name = NULL;
        if (vasprintf(&name, fmt, ap) >= 0) {
                for (char *c = name; *c; c++)
                        if (*c == '\n' || *c == '\r')
                                *c = ' ';
                fputs(name, stdout);
                free(name);
        }
        fputc('\n', stdout);
        fflush(stdout);
        return pass;
}

/* ok(cond, "name"): one test point. Returns cond, so callers can add diagnostics on failure. */
__attribute__((format(printf, 2, 3), unused)) static bool ok(bool pass, const char *fmt, ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = tap_vreport(pass, fmt, ap);
        va_end(ap);
        return r;
}

__attribute__((format(printf, 3, 4), unused)) static bool is_int(int64_t got, int64_t expected,
                                                                  const char *fmt, ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = tap_vreport(got == expected, fmt, ap);
        va_end(ap);
        if (!r)
                diag("  got: %" PRIi64 "\n#   expected: %" PRIi64, got, expected);
        return r;
}

__attribute__((format(printf, 3, 4), unused)) static bool is_str(const char *got, const char *expected,
                                                                  const char *fmt, ...) {
        bool pass = (!got && !expected) || (got && expected && strcmp(got, expected) == 0);
        va_list ap;

        va_start(ap, fmt);
        tap_vreport(pass, fmt, ap);
        va_end(ap);
        if (!pass)
                diag("  got: '%s'\n#   expected: '%s'", got ?: "(null)", expected ?: "(null)");
        return pass;
}

/* Skip n test points, with the reason. */
__attribute__((unused)) static void skip(unsigned n, const char *reason) {
        for (unsigned i = 0; i < n; i++) {
                tap_count++;
                printf("ok %u # SKIP %s\n", tap_count, reason);
        }
        fflush(stdout);
}

/* Skip the whole program: prints an empty plan with the reason, exits 0. */
__attribute__((noreturn, unused)) static void skip_all(const char *reason) {
        printf("1..0 # SKIP %s\n", reason);
        fflush(stdout);
        exit(0);
}

/* Stop the whole run: something the remaining tests need is broken. */
__attribute__((noreturn, format(printf, 1, 2), unused)) static void bail_out(const char *fmt, ...) {
        va_list ap;

        fputs("Bail out! ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
        exit(1);
}

/* Print the plan (unless plan() was called) and return the exit status for main(). */
__attribute__((unused)) static int done_testing(void) {
        if (tap_planned == 0)
                printf("1..%u\n", tap_count);
        else if (tap_planned != tap_count) {
                printf("# planned %u tests but ran %u\n", tap_planned, tap_count);
                return 1;
        }
        fflush(stdout);
        return tap_failed > 0 ? 1 : 0;
}
