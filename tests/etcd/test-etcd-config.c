/* SPDX-License-Identifier: Apache-2.0 */

/* etcd_config_check(): TLS files that would be silently unused or cannot be read are refused, and
 * plain http to anything but loopback is a warning naming the risk. */

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

int main(void) {
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
