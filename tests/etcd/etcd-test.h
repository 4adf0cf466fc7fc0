/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by the etcd client's integration tests. */

#include <systemd/sd-event.h>
#include <inttypes.h>
#include <time.h>

#include "etcd-client.h"
#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "strv.h"
#include "tap.h"
#include "time-util.h"

/* Run the loop until *flag is true or timeout_usec passed (a bound on waiting, not a figure under
 * test). Returns *flag. */
static inline bool test_run_until(sd_event *e, const bool *flag, usec_t timeout_usec) {
        usec_t deadline = now(CLOCK_MONOTONIC) + timeout_usec;

        while (!*flag) {
                usec_t t = now(CLOCK_MONOTONIC);

                if (t >= deadline)
                        break;
                if (sd_event_run(e, deadline - t) < 0)
                        break;
        }
        return *flag;
}

/* Run the loop for a while. */
static inline void test_run_for(sd_event *e, usec_t usec) {
        bool never = false;

        (void) test_run_until(e, &never, usec);
}

/* A blocking get of one key's value: NULL when missing or on error. */
static inline char *test_get(EtcdClient *c, const char *key) {
        EtcdResponse *r = NULL;
        char *v = NULL;

        if (etcd_sync_range(c, &(EtcdRangeOptions) { .key = key }, &r) >= 0 && r->n_kvs == 1)
                v = strdup(r->kvs[0].value);
        etcd_response_free(r);
        return v;
}

/* What a lease keeper reported; test_keeper_on_event is its handler. */
typedef struct TestKeeper {
        unsigned n_granted;
        unsigned n_expiring;
        unsigned n_renewed;
        unsigned n_lost;
        uint64_t expiring_at;
        int64_t last_id;
        int64_t lost_id;
        uint64_t lost_at;
        uint64_t deadline_at_lost;      /* for the test to fill in */
        bool granted;
        bool expiring;
        bool renewed;
        bool lost;
} TestKeeper;

static inline void test_keeper_on_event(EtcdLease *l, EtcdLeaseEvent event, int64_t id, void *userdata) {
        TestKeeper *s = userdata;

        if (event == ETCD_LEASE_GRANTED) {
                s->n_granted++;
                s->last_id = id;
                s->granted = true;
        } else if (event == ETCD_LEASE_EXPIRING) {
                s->n_expiring++;
                s->expiring_at = now(CLOCK_MONOTONIC);
                s->expiring = true;
        } else if (event == ETCD_LEASE_RENEWED) {
                s->n_renewed++;
                s->renewed = true;
        } else {
                s->n_lost++;
                s->lost_id = id;
                s->lost_at = now(CLOCK_MONOTONIC);
                s->lost = true;
        }
}
