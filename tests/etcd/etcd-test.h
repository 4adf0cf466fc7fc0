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
