/* SPDX-License-Identifier: Apache-2.0 */

#include "compose-values.h"
#include "strv.h"
#include "tap.h"

static void test_durations(void) {
        uint64_t u = 0;

        ok(parse_duration_usec("1m30s", &u) == 0 && u == 90000000ULL, "1m30s");
        ok(parse_duration_usec("500ms", &u) == 0 && u == 500000ULL, "500ms");
        ok(parse_duration_usec("1.5s", &u) == 0 && u == 1500000ULL, "1.5s");
        ok(parse_duration_usec("2h", &u) == 0 && u == 7200000000ULL, "2h");
        ok(parse_duration_usec("10", &u) == 0 && u == 10000000ULL, "a bare number is seconds");
        ok(parse_duration_usec("10x", &u) == -EINVAL, "unknown unit");
        ok(parse_duration_usec("s", &u) == -EINVAL, "unit without number");
        ok(parse_duration_usec("", &u) == -EINVAL, "empty");
}

static void test_bytes(void) {
        uint64_t b = 0;

        ok(parse_bytes("1024m", &b) == 0 && b == 1073741824ULL, "1024m (the seed's -m)");
        ok(parse_bytes("1.5G", &b) == 0 && b == 1610612736ULL, "1.5G");
        ok(parse_bytes("128mb", &b) == 0 && b == 134217728ULL, "128mb");
        ok(parse_bytes("512k", &b) == 0 && b == 524288ULL, "512k");
        ok(parse_bytes("100", &b) == 0 && b == 100, "bare bytes");
        ok(parse_bytes("12q", &b) == -EINVAL, "unknown unit");
        ok(parse_bytes("99999999999999999999g", &b) == -EINVAL, "overflow");
}

static void port(const char *spec, const char *flag, unsigned first, unsigned last, const char *ip, const char *proto) {
        _cleanup_free_ char *f = NULL, *error = NULL;
        ComposePort p = {};
        int r;

        r = parse_port(spec, &f, &p, &error);
        ok(r == 0 && streq_ptr(f, flag) && p.published_first == first && p.published_last == last &&
           streq_ptr(p.host_ip, ip) && streq_ptr(p.protocol, proto), "port \"%s\" → -p %s", spec, flag);
        if (r == 0 && !streq(f, flag))
                diag("got %s", f);
        free(p.host_ip);
        free(p.protocol);
}

static void bad_port(const char *spec, const char *message) {
        _cleanup_free_ char *f = NULL, *error = NULL;
        int r;

        r = parse_port(spec, &f, NULL, &error);
        ok(r == -EINVAL && streq_ptr(error, message), "port \"%s\": %s", spec, message);
        if (error && !streq(error, message))
                diag("got %s", error);
}

static void test_ports(void) {
        port("80", "80", 0, 0, NULL, "tcp");
        port("8080:80", "8080:80", 8080, 8080, NULL, "tcp");
        port("127.0.0.1:8080:80/udp", "127.0.0.1:8080:80/udp", 8080, 8080, "127.0.0.1", "udp");
        port("9090-9091:8080-8081", "9090-9091:8080-8081", 9090, 9091, NULL, "tcp");
        port("8000-9000:80", "8000-9000:80", 8000, 9000, NULL, "tcp");
        port("[::1]:6001:6001", "[::1]:6001:6001", 6001, 6001, "[::1]", "tcp");
        port("127.0.0.1::80", "127.0.0.1::80", 0, 0, "127.0.0.1", "tcp");
        bad_port("80/xtp", "invalid protocol in port \"80/xtp\": use tcp, udp or sctp");
        bad_port("70000", "invalid container port in \"70000\": use a number or a range 1-65535");
        bad_port("a:80", "invalid host port in \"a:80\": use a number or a range 1-65535");
        bad_port("1-3:1-2", "port ranges of different lengths in \"1-3:1-2\"");
        bad_port("::1:80:80", "invalid port \"::1:80:80\": too many \":\" (put IPv6 addresses in [])");
        bad_port("", "invalid container port in \"\": use a number or a range 1-65535");
}

static void test_shell(void) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *q = NULL;

        ok(shell_split("sh -c 'echo \"$HOME\"' \"a b\" c\\ d ''", &l) == 0 &&
           strv_equal(l, STRV_MAKE("sh", "-c", "echo \"$HOME\"", "a b", "c d", "")), "shell words");
        l = strv_free(l);
        ok(shell_split("unbalanced 'quote", &l) == -EINVAL, "unbalanced quotes");
        ok(shell_quote("it's", &q) == 0 && streq(q, "'it'\\''s'"), "quote a word with a quote");
        q = mfree(q);
        ok(shell_quote("plain-word", &q) == 0 && streq(q, "plain-word"), "plain words stay");
}

static void test_signals(void) {
        int s = 0;

        ok(parse_signal("SIGINT", &s) == 0 && s == 2, "SIGINT");
        ok(parse_signal("term", &s) == 0 && s == 15, "term");
        ok(parse_signal("9", &s) == 0 && s == 9, "a number");
        ok(parse_signal("SIGNOPE", &s) == -EINVAL, "unknown name");
        ok(parse_signal("0", &s) == -EINVAL, "0 is no signal");
}

int main(void) {
        test_signals();
        test_durations();
        test_bytes();
        test_ports();
        test_shell();
        return done_testing();
}
