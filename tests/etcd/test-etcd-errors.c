/* SPDX-License-Identifier: Apache-2.0 */

/* Failures that the configuration explains, against a real etcd on loopback with neither TLS nor
 * authentication: an https:// endpoint on the plain server, a user and password for an etcd that
 * has authentication turned off. Each ends at once (no retry can help) with one line naming the
 * endpoint and what is wrong (etcd_client_error_detail()), and a call that succeeds afterwards
 * clears it. test-etcd-tls covers the other direction (http:// on a TLS server, no user for an
 * etcd with authentication on, a wrong password). */

#include <stdio.h>

#include "etcd-test.h"
#include "string-util.h"

static int range_once(EtcdClient *c, usec_t *ret_took) {
        usec_t t0 = now(CLOCK_MONOTONIC);
        int r = etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/x" }, NULL);

        *ret_took = now(CLOCK_MONOTONIC) - t0;
        return r;
}

int main(void) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *https = NULL, *want = NULL;
        EtcdClient *c = NULL;
        usec_t took;
        int r;

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("etcd did not start");
        assert_se(sd_event_new(&e) >= 0);

        /* A user and password for an etcd without authentication. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints, .username = "root",
                                                         .password = "secret",
                                                         .request_timeout_usec = 20 * USEC_PER_SEC }) >= 0);
        r = range_once(c, &took);
        ok(r < 0, "a user and password for an etcd without authentication: refused (%d)", r);
        ok(took < 10 * USEC_PER_SEC, "at once, not retried until the time-out (%" PRIu64 " ms)", took / USEC_PER_MSEC);
        assert_se(asprintf(&want, "%s: etcd has authentication turned off, but user \"root\" and a password were "
                           "given: give none", f->endpoints[0]) >= 0);
        is_str(etcd_client_error_detail(c), want, "the detail names the endpoint and what is wrong");
        c = etcd_client_free(c);

        /* https:// on the plain server. */
        assert_se(startswith(f->endpoints[0], "http://"));
        assert_se(asprintf(&https, "https://%s", f->endpoints[0] + strlen("http://")) >= 0);
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = STRV_MAKE(https),
                                                         .request_timeout_usec = 20 * USEC_PER_SEC }) >= 0);
        r = range_once(c, &took);
        ok(r < 0, "https:// on a plain-HTTP etcd: refused (%d)", r);
        ok(took < 10 * USEC_PER_SEC, "at once (%" PRIu64 " ms)", took / USEC_PER_MSEC);
        free(want);
        assert_se(asprintf(&want, "%s: the server does not speak TLS (", https) >= 0);
        ok(startswith(strempty(etcd_client_error_detail(c)), want) &&
           endswith(etcd_client_error_detail(c), "in the handshake): a plain-HTTP etcd wants http://, or turn TLS on "
                    "in etcd"), "the detail says the server does not speak TLS: %s", strna(etcd_client_error_detail(c)));
        c = etcd_client_free(c);

        /* The right configuration: no detail. */
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints }) >= 0);
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/x" }, NULL), 0, "the plain endpoint works");
        ok(!etcd_client_error_detail(c), "and leaves no detail");
        c = etcd_client_free(c);

        return done_testing();
}
