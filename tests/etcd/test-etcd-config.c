/* SPDX-License-Identifier: Apache-2.0 */

/* etcd_config_check(): TLS files that would be silently unused or cannot be read are refused, and
 * plain http to anything but loopback is a warning naming the risk. etcd_endpoints_parse(): the one
 * endpoint list syntax of fleetd and fleetctl. */

#include "etcd-client.h"
#include "strv.h"
#include "tap.h"

static int check(char **endpoints, const char *ca, const char *cert, const char *key, const char *password,
                 char **ret) {
        EtcdConfig c = {
                .endpoints = endpoints,
                .ca_file = ca,
                .cert_file = cert,
                .key_file = key,
                .username = password ? "u" : NULL,
                .password = password,
        };

        return etcd_config_check(&c, ret);
}

static void test_endpoints_parse(void) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *bad = NULL, *joined = NULL;

        is_int(etcd_endpoints_parse("http://10.99.0.1:12379,http://10.99.0.1:22379", &l, NULL), 0,
               "comma-separated endpoints parse");
        joined = strv_join(l, " ");
        is_str(joined, "http://10.99.0.1:12379 http://10.99.0.1:22379", "in the order given");
        l = strv_free(l);
        joined = mfree(joined);

        is_int(etcd_endpoints_parse("[\"https://b:2379\", \"http://a:2379\"]", &l, NULL), 0,
               "fleet's bracketed list parses");
        joined = strv_join(l, " ");
        is_str(joined, "https://b:2379 http://a:2379", "quotes and brackets are removed");
        l = strv_free(l);
        joined = mfree(joined);

        is_int(etcd_endpoints_parse("http://[::1]:2379 http://localhost", &l, NULL), 0,
               "whitespace separates too; brackets of an IPv6 host and no port are fine");
        l = strv_free(l);

        STRV_FOREACH(p, STRV_MAKE("127.0.0.1:4001", "http://a:2379/", "http://a:2379/v3", "http://a:",
                                  "ftp://a:2379", "http://", "http://a:2379?x")) {
                _cleanup_free_ char *list = NULL;
                const char *s = *p;

                assert_se(asprintf(&list, "http://ok:2379,%s", s) >= 0);
                is_int(etcd_endpoints_parse(list, &l, &bad), -EINVAL, "%s is refused", s);
                is_str(bad, s, "and named");
                bad = mfree(bad);
                ok(!etcd_endpoint_is_valid(s), "etcd_client_new() would refuse it too");
        }

        is_int(etcd_endpoints_parse(" , ", &l, &bad), -EINVAL, "an empty list is rejected");
        is_str(bad, "", "with an empty name");
        bad = mfree(bad);
        is_int(etcd_endpoints_parse("[]", &l, NULL), -EINVAL, "an empty bracketed list too");
}

int main(void) {
        test_endpoints_parse();

        char readable[] = "/tmp/test-etcd-config-XXXXXX";
        int fd = mkstemp(readable);
        char *m = NULL;

        assert_se(fd >= 0);
        close(fd);

        is_int(check(STRV_MAKE("http://127.0.0.1:2379", "http://localhost:2379", "http://[::1]:2379"),
                     NULL, NULL, NULL, NULL, &m), 0, "plain http on loopback: fine");
        ok(!m, "and no message");

        is_int(check(STRV_MAKE("http://127.0.0.1:2379", "http://10.0.0.2:2379"), NULL, NULL, NULL, NULL, &m),
               1, "plain http to another host: a warning");
        ok(m && strstr(m, "http://10.0.0.2:2379") && strstr(m, "root on every machine"),
           "naming the endpoint and the risk: %s", strna(m));
        m = mfree(m);
        is_int(check(STRV_MAKE("http://fleet-01:2379"), NULL, NULL, NULL, "secret", &m), 1,
               "with a password too");
        ok(m && strstr(m, "password"), "which says the password is exposed: %s", strna(m));
        m = mfree(m);
        is_int(check(STRV_MAKE("http://127.0.0.1.evil:2379"), NULL, NULL, NULL, NULL, &m), 1,
               "127.0.0.1.evil is no loopback");
        m = mfree(m);

        is_int(check(STRV_MAKE("https://10.0.0.2:2379"), readable, readable, readable, NULL, &m), 0,
               "https with readable TLS files: fine");
        is_int(check(STRV_MAKE("https://10.0.0.2:2379", "http://127.0.0.1:2379"), readable, NULL, NULL, NULL, &m),
               -EINVAL, "a CA file with an http:// endpoint (even loopback) is refused");
        ok(m && strstr(m, "http://127.0.0.1:2379") && strstr(m, "https://"), "saying which and what to do: %s",
           strna(m));
        m = mfree(m);
        is_int(check(STRV_MAKE("https://10.0.0.2:2379"), NULL, "/nonexistent/cert.pem", readable, NULL, &m),
               -ENOENT, "a missing certificate file is refused");
        ok(m && strstr(m, "/nonexistent/cert.pem"), "naming it: %s", strna(m));
        m = mfree(m);
        is_int(check(STRV_MAKE("http://10.0.0.2:2379"), "", NULL, NULL, NULL, &m), 1,
               "an empty file option counts as unset");
        m = mfree(m);

        ok(etcd_endpoint_is_loopback("https://127.1.2.3:1") && etcd_endpoint_is_loopback("http://localhost") &&
           !etcd_endpoint_is_loopback("http://[fe80::1]:2379") && !etcd_endpoint_is_loopback("http://localhost.x"),
           "loopback: 127/8, localhost, ::1 only");

        unlink(readable);
        return done_testing();
}
