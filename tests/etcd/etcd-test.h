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

static inline uint64_t test_now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Run the loop until *flag is true or timeout_usec passed (a bound on waiting, not a figure under
 * test). Returns *flag. */
static inline bool test_run_until(sd_event *e, const bool *flag, uint64_t timeout_usec) {
        uint64_t deadline = test_now() + timeout_usec;

        while (!*flag) {
                uint64_t now = test_now();

                if (now >= deadline)
                        break;
                if (sd_event_run(e, deadline - now) < 0)
                        break;
        }
        return *flag;
}

/* Run the loop for a while. */
static inline void test_run_for(sd_event *e, uint64_t usec) {
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
