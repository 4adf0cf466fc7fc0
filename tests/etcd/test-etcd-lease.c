/* SPDX-License-Identifier: Apache-2.0 */

/* Lease keepers against a real single-member etcd: kept alive past their TTL, LOST on revoke and
 * GRANTED again after; EXPIRING when etcd goes away (measured locally, so a partitioned client
 * knows), a margin before the deadline when asked, and RENEWED with the same lease when etcd comes
 * back (a restarted etcd extends every lease); expiry of an unrenewed lease observed through a
 * watch. */

#include "etcd-test.h"

static void test_keeper(sd_event *e, EtcdClient *c) {
        _cleanup_(etcd_lease_keeper_freep) EtcdLease *l = NULL;
        TestKeeper s = {};
        EtcdResponse *r = NULL;
        int64_t id;

        is_int(etcd_lease_keeper_new(&l, c, 2, test_keeper_on_event, &s), 0, "keeper with TTL 2");
        is_int(etcd_lease_keeper_id(l), 0, "no id before the grant");
        ok(test_run_until(e, &s.granted, 5 * USEC_PER_SEC), "GRANTED");
        id = etcd_lease_keeper_id(l);
        ok(id > 0 && id == s.last_id, "the id is the granted one");
        ok(etcd_lease_keeper_deadline(l) > 0, "a deadline is known");

        assert_se(etcd_sync_put(c, "/keeper/k", "v", 1, id, 0, NULL) >= 0);

        /* Three TTLs later the key is still there: the keeper renewed it. */
        test_run_for(e, 6 * USEC_PER_SEC);
        {
                _cleanup_free_ char *v = test_get(c, "/keeper/k");
                ok(v != NULL, "leased key alive after 3 TTLs");
        }
        is_int(s.n_lost, 0, "never LOST");
        is_int(etcd_lease_keeper_id(l), id, "same lease");

        /* Revoked behind its back: LOST, then a new lease. */
        s.granted = false;
        assert_se(etcd_sync_lease_revoke(c, id) >= 0);
        ok(test_run_until(e, &s.lost, 5 * USEC_PER_SEC), "LOST after a revoke");
        is_int(s.lost_id, id, "LOST names the old id");
        ok(test_run_until(e, &s.granted, 5 * USEC_PER_SEC), "GRANTED again");
        ok(s.last_id > 0 && s.last_id != id, "with a new id");
        is_int(etcd_lease_keeper_id(l), s.last_id, "the keeper holds the new id");

        /* revoke_and_free revokes. */
        id = s.last_id;
        assert_se(etcd_sync_put(c, "/keeper/k2", "v", 1, id, 0, NULL) >= 0);
        l = etcd_lease_keeper_revoke_and_free(l);
        ok(l == NULL, "revoke_and_free returns NULL");
        test_run_for(e, 300 * USEC_PER_MSEC);
        {
                _cleanup_free_ char *v = test_get(c, "/keeper/k2");
                ok(v == NULL, "revoke_and_free revoked the lease");
        }
        is_int(etcd_sync_range(c, &(EtcdRangeOptions) { .key = "/keeper/k2" }, &r), 0, "range");
        r = etcd_response_free(r);
}

typedef struct DeleteSeen {
        bool deleted;
        uint64_t at;
} DeleteSeen;

static void on_delete(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                      void *userdata) {
        DeleteSeen *d = userdata;

        for (size_t i = 0; i < n_events; i++)
                if (events[i].type == ETCD_EVENT_DELETE && !d->deleted) {
                        d->deleted = true;
                        d->at = now(CLOCK_MONOTONIC);
                }
}

static void test_expiry(sd_event *e, EtcdClient *c) {
        _cleanup_(etcd_watch_freep) EtcdWatch *w = NULL;
        DeleteSeen d = {};
        EtcdResponse *r = NULL;
        uint64_t granted;
        int64_t id;

        assert_se(etcd_watch_new(&w, c, "/expiry/k", 0, 0, on_delete, &d) >= 0);
        test_run_for(e, 200 * USEC_PER_MSEC);

        granted = now(CLOCK_MONOTONIC);
        is_int(etcd_sync_lease_grant(c, 2, 0, &r), 0, "grant TTL 2, never renewed");
        id = r ? r->lease_id : 0;
        r = etcd_response_free(r);
        assert_se(etcd_sync_put(c, "/expiry/k", "v", 1, id, 0, NULL) >= 0);

        /* The waiting bound is the requirement: expiry observed within TTL + 1 s. */
        ok(test_run_until(e, &d.deleted, 3 * USEC_PER_SEC - (now(CLOCK_MONOTONIC) - granted)),
           "expiry observed within TTL + 1 s");
        if (d.deleted)
                diag("lease TTL 2 s: key deleted %.2f s after the grant", (double) (d.at - granted) / 1e6);
}

static void test_expiring_without_etcd(sd_event *e, EtcdClient *c, EtcdFixture *f) {
        _cleanup_(etcd_lease_keeper_freep) EtcdLease *l = NULL;
        TestKeeper s = {};
        uint64_t killed, deadline;
        int64_t id;

        assert_se(etcd_lease_keeper_new(&l, c, 3, test_keeper_on_event, &s) >= 0);
        is_int(etcd_lease_keeper_set_margin(l, 2 * USEC_PER_SEC), -EINVAL, "a margin over TTL/2 is refused");
        is_int(etcd_lease_keeper_set_margin(l, USEC_PER_SEC), 0, "margin 1 s");
        ok(test_run_until(e, &s.granted, 5 * USEC_PER_SEC), "keeper TTL 3 granted");
        id = etcd_lease_keeper_id(l);
        assert_se(etcd_sync_put(c, "/keeper/back", "v", 1, id, 0, NULL) >= 0);
        test_run_for(e, 1500 * USEC_PER_MSEC);

        /* etcd gone: no renewal can succeed; the keeper must say EXPIRING by itself, the margin
         * before its deadline, and keep the lease. */
        killed = now(CLOCK_MONOTONIC);
        deadline = etcd_lease_keeper_deadline(l);
        etcd_fixture_kill(f, 0);
        ok(test_run_until(e, &s.expiring, 3 * USEC_PER_SEC), "EXPIRING reported with etcd down");
        if (s.n_expiring > 0)
                diag("EXPIRING %.2f s after etcd was killed, %.2f s after the last renewal was sent",
                     (double) (s.expiring_at - killed) / 1e6, (double) (s.expiring_at - (deadline - 3000000)) / 1e6);
        ok(deadline > 0 && s.expiring_at + 50 * USEC_PER_MSEC >= deadline - USEC_PER_SEC &&
           s.expiring_at < deadline, "at the deadline minus the margin, measured locally");
        test_run_for(e, 1500 * USEC_PER_MSEC);
        is_int(s.n_lost, 0, "not LOST past the deadline: etcd did not say so");
        is_int(etcd_lease_keeper_id(l), id, "the keeper still holds the lease");

        /* etcd back on its data: it extends every lease on becoming leader, so the keeper's
         * renewal of the same lease succeeds, and the key was never deleted. */
        is_int(etcd_fixture_restart(f, 0), 0, "etcd restarted");
        ok(test_run_until(e, &s.renewed, 10 * USEC_PER_SEC), "RENEWED once etcd is back");
        is_int(etcd_lease_keeper_id(l), id, "the same lease");
        is_int(s.n_lost + s.n_granted, 1, "neither LOST nor granted again");
        {
                _cleanup_free_ char *v = test_get(c, "/keeper/back");
                ok(v != NULL, "its key is still there");
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("could not start etcd");

        assert_se(sd_event_new(&e) >= 0);
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints,
                                                         .request_timeout_usec = 2 * USEC_PER_SEC }) >= 0);

        test_keeper(e, c);
        test_expiry(e, c);
        test_expiring_without_etcd(e, c, f);

        return done_testing();
}
