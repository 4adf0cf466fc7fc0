/* SPDX-License-Identifier: Apache-2.0 */

/* TLS with client certificates and etcd user/password authentication, against an etcd started
 * with certificates this test makes with openssl, then with auth enabled through etcdctl. */

#include <sys/wait.h>

#include "etcd-test.h"

static char dir[] = "/tmp/etcd-tls-XXXXXX";
static char ca[128], server_cert[128], server_key[128], client_cert[128], client_key[128];

static int run_shell(const char *script) {
        pid_t pid;
        int status;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (chdir(dir) < 0)
                        _exit(126);
                execl("/bin/sh", "sh", "-ec", script, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}

static int make_certificates(void) {
        /* EC keys are fast to make. The server certificate is also etcd's client certificate for
         * its gateway's own connection, hence both key usages. The client certificate has no
         * CommonName: with auth on, etcd's gateway refuses a client certificate that has one
         * ("CommonName of client sending a request against gateway will be ignored"). */
        return run_shell(
                "exec >openssl.log 2>&1\n"
                "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                "  -keyout ca.key -out ca.crt -subj /CN=fleet-test-ca\n"
                "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' >server.ext\n"
                "printf 'extendedKeyUsage=clientAuth\\n' >client.ext\n"
                "for n in server client; do\n"
                "  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key "
                "    -out $n.csr -subj /O=fleet/OU=$n\n"
                "  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
                "    -extfile $n.ext -out $n.crt\n"
                "done\n");
}

static int ctl(EtcdFixture *f, const char *const *args) {
        return etcd_fixture_etcdctl(f, args);
}

typedef struct Events {
        unsigned n;
        bool got;
} Events;

static void on_event(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Events *ev = userdata;

        ev->n += n_events;
        ev->got = ev->n > 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        EtcdClient *c = NULL;
        EtcdResponse *r = NULL;
        const char *extra[16];
        char cert_arg[160], key_arg[160], ca_arg[160];
        int k;

        etcd_fixture_require();
        if (access("/usr/bin/openssl", X_OK) < 0)
                skip_all("openssl not installed");
        if (access(ETCD_FIXTURE_ETCDCTL, X_OK) < 0)
                skip_all("etcdctl not installed");

        assert_se(mkdtemp(dir));
        snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
        snprintf(server_cert, sizeof(server_cert), "%s/server.crt", dir);
        snprintf(server_key, sizeof(server_key), "%s/server.key", dir);
        snprintf(client_cert, sizeof(client_cert), "%s/client.crt", dir);
        snprintf(client_key, sizeof(client_key), "%s/client.key", dir);

        if (make_certificates() != 0)
                bail_out("openssl could not make the test certificates (see %s/openssl.log)", dir);

        snprintf(cert_arg, sizeof(cert_arg), "--cert-file=%s", server_cert);
        snprintf(key_arg, sizeof(key_arg), "--key-file=%s", server_key);
        snprintf(ca_arg, sizeof(ca_arg), "--trusted-ca-file=%s", ca);
        extra[0] = cert_arg;
        extra[1] = key_arg;
        extra[2] = ca_arg;
        extra[3] = "--client-cert-auth";
        extra[4] = "--auth-token=simple";
        extra[5] = "--auth-token-ttl=2";
        extra[6] = NULL;

        if (etcd_fixture_start(&f, 1, &(EtcdFixtureOptions) { .extra_args = extra, .ca_file = ca,
                                                              .cert_file = client_cert,
                                                              .key_file = client_key }) < 0)
                bail_out("could not start etcd with TLS");
        ok(startswith(f->endpoints[0], "https://"), "etcd serves https: %s", f->endpoints[0]);

        assert_se(sd_event_new(&e) >= 0);

        /* Without our CA the server is not trusted. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints,
                                                         .request_timeout_usec = 2000000 }) >= 0);
        is_int(etcd_sync_put(c, "/tls/a", "1", 1, 0, 0, NULL), -EKEYREJECTED, "unknown CA: -EKEYREJECTED");
        ok(startswith(strempty(etcd_client_error_detail(c)), f->endpoints[0]) &&
           strstr(etcd_client_error_detail(c), ": TLS failed: "), "the detail names the endpoint: %s",
           strna(etcd_client_error_detail(c)));
        c = etcd_client_free(c);

        /* http:// on the TLS server: one clear line, at once. */
        {
                _cleanup_free_ char *http = NULL, *want = NULL;

                assert_se(asprintf(&http, "http://%s", f->endpoints[0] + strlen("https://")) >= 0);
                assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = STRV_MAKE(http),
                                                                 .request_timeout_usec = 20 * USEC_PER_SEC }) >= 0);
                k = etcd_sync_put(c, "/tls/a", "1", 1, 0, 0, NULL);
                is_int(k, -EPROTO, "http:// on an https etcd: -EPROTO, not retried");
                assert_se(asprintf(&want, "%s: the server speaks HTTPS, but the endpoint says http: use https:// "
                                   "with the cluster's CA file", http) >= 0);
                is_str(etcd_client_error_detail(c), want, "the detail says the server speaks HTTPS");
                c = etcd_client_free(c);
        }

        /* With the CA but no client certificate, etcd refuses the handshake. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints, .ca_file = ca,
                                                         .request_timeout_usec = 2000000 }) >= 0);
        k = etcd_sync_put(c, "/tls/a", "1", 1, 0, 0, NULL);
        ok(k < 0, "no client certificate: refused (%d)", k);
        c = etcd_client_free(c);

        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints, .ca_file = ca,
                                                         .cert_file = client_cert, .key_file = client_key }) >= 0);
        is_int(etcd_sync_put(c, "/tls/a", "1", 1, 0, 0, NULL), 0, "TLS with a client certificate: put");
        {
                _cleanup_free_ char *v = test_get(c, "/tls/a");
                ok(v && streq(v, "1"), "TLS: range");
        }
        c = etcd_client_free(c);

        /* Users, a role limited to /fleet/, auth on. */
        is_int(ctl(f, (const char *[]) { "user", "add", "root:rootpw", NULL }), 0, "etcdctl user add root");
        is_int(ctl(f, (const char *[]) { "role", "add", "fleet", NULL }), 0, "etcdctl role add fleet");
        is_int(ctl(f, (const char *[]) { "role", "grant-permission", "fleet", "--prefix=true", "readwrite", "/fleet/",
                                         NULL }), 0, "grant readwrite on /fleet/");
        is_int(ctl(f, (const char *[]) { "user", "add", "fleet:fleetpw", NULL }), 0, "etcdctl user add fleet");
        is_int(ctl(f, (const char *[]) { "user", "grant-role", "fleet", "fleet", NULL }), 0, "grant the role");
        is_int(ctl(f, (const char *[]) { "auth", "enable", NULL }), 0, "etcdctl auth enable");

        /* Authenticated as fleet. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints, .ca_file = ca,
                                                         .cert_file = client_cert, .key_file = client_key,
                                                         .username = "fleet", .password = "fleetpw" }) >= 0);
        is_int(etcd_sync_put(c, "/fleet/a", "1", 1, 0, 0, NULL), 0, "auth: put under /fleet/");
        {
                _cleanup_free_ char *v = test_get(c, "/fleet/a");
                ok(v && streq(v, "1"), "auth: range under /fleet/");
        }
        is_int(etcd_sync_put(c, "/other", "1", 1, 0, 0, NULL), -EPERM, "auth: outside the role: -EPERM");
        ok(strstr(etcd_sync_last_error(c), "permission denied") != NULL, "etcd's message: %s",
           etcd_sync_last_error(c));

        {
                _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
                Events ev = {};

                is_int(etcd_watch_new(&w, c, "/fleet/", ETCD_PREFIX, 0, on_event, &ev), 0, "auth: watch");
                test_run_for(e, 300 * USEC_PER_MSEC);
                assert_se(etcd_sync_put(c, "/fleet/b", "2", 1, 0, 0, NULL) >= 0);
                ok(test_run_until(e, &ev.got, 5 * USEC_PER_SEC), "auth: watch event");
        }

        /* The token expires after 2 idle seconds; the client gets a new one by itself. */
        {
                uint64_t before;

                test_run_for(e, 3500 * USEC_PER_MSEC);
                before = etcd_client_requests_sent(c);
                is_int(etcd_sync_put(c, "/fleet/c", "3", 1, 0, 0, NULL), 0, "auth: put after the token expired");
                ok(etcd_client_requests_sent(c) - before >= 3,
                   "rejected, re-authenticated, sent again (%" PRIu64 " requests)",
                   etcd_client_requests_sent(c) - before);
        }
        c = etcd_client_free(c);

        /* A wrong password. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints, .ca_file = ca,
                                                         .cert_file = client_cert, .key_file = client_key,
                                                         .username = "fleet", .password = "wrong" }) >= 0);
        is_int(etcd_sync_put(c, "/fleet/a", "1", 1, 0, 0, &r), -EINVAL, "wrong password: -EINVAL");
        ok(r == NULL, "no response");
        ok(startswith(strempty(etcd_client_error_detail(c)), f->endpoints[0]) &&
           strstr(etcd_client_error_detail(c), ": etcd refuses user \"fleet\": "), "the detail names the user: %s",
           strna(etcd_client_error_detail(c)));
        c = etcd_client_free(c);

        /* No credentials at all, with auth on. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints, .ca_file = ca,
                                                         .cert_file = client_cert, .key_file = client_key }) >= 0);
        k = etcd_sync_put(c, "/fleet/a", "1", 1, 0, 0, NULL);
        ok(k < 0, "no credentials: refused (%d: %s)", k, etcd_sync_last_error(c));
        {
                _cleanup_free_ char *want = NULL;

                assert_se(asprintf(&want, "%s: etcd has authentication turned on: give an etcd user and password",
                                   f->endpoints[0]) >= 0);
                is_str(etcd_client_error_detail(c), want, "the detail says authentication is on");
        }
        c = etcd_client_free(c);

        f = etcd_fixture_free(f);
        (void) run_shell("rm -f ca.* server.* client.* openssl.log");
        (void) rmdir(dir);
        return done_testing();
}
