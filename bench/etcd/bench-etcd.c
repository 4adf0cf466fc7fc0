/* SPDX-License-Identifier: Apache-2.0 */

/* bench-etcd: what one client of this library reaches on loopback.
 *
 *   bench-etcd [--tmpfs] [--puts N] [--txns N] [--in-flight K] [ENDPOINT...]
 *
 * Without endpoints it starts a single etcd member of its own (tests/etcd-fixture.[ch]; data in /tmp,
 * or /dev/shm with --tmpfs). Prints sequential puts/s (one request in flight, as fleetctl does),
 * puts/s with K requests in flight on the same loop (as fleetd does), and 128-operation txns/s.
 * bench/etcd/compare.sh measures etcdctl and curl on the same machine for comparison. */

#include <getopt.h>
#include <inttypes.h>

#include "etcd-client.h"
#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "strv.h"
#include "time-util.h"

typedef struct Pipeline {
        EtcdClient *client;
        unsigned total;
        unsigned started;
        unsigned done;
        unsigned failed;
        bool finished;
} Pipeline;

static double now_sec(void) {
        return (double) now(CLOCK_MONOTONIC) / (double) USEC_PER_SEC;
}

static void pipeline_next(Pipeline *p);

static void on_put(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Pipeline *p = userdata;

        if (error < 0)
                p->failed++;
        p->done++;
        p->finished = p->done >= p->total;
        pipeline_next(p);
}

static void pipeline_next(Pipeline *p) {
        char key[32], value[32];

        if (p->started >= p->total)
                return;

        snprintf(key, sizeof(key), "/bench/pipe/%u", p->started % 1000);
        snprintf(value, sizeof(value), "value-%u", p->started);
        p->started++;
        if (etcd_put(p->client, key, value, strlen(value), 0, 0, on_put, p, NULL) < 0) {
                p->failed++;
                p->done++;
                p->finished = p->done >= p->total;
        }
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "puts", required_argument, NULL, 'p' },
                { "txns", required_argument, NULL, 't' },
                { "in-flight", required_argument, NULL, 'k' },
                { "tmpfs", no_argument, NULL, 'm' },
                {}
        };
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        unsigned n_puts = 2000, n_txns = 200, in_flight = 16, failed = 0;
        bool tmpfs = false;
        char **endpoints;
        uint64_t requests;
        double t0, dt;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'p':
                        n_puts = (unsigned) atoi(optarg);
                        break;
                case 't':
                        n_txns = (unsigned) atoi(optarg);
                        break;
                case 'k':
                        in_flight = MAX((unsigned) atoi(optarg), 1U);
                        break;
                case 'm':
                        tmpfs = true;
                        break;
                default:
                        return 2;
                }

        if (optind < argc)
                endpoints = argv + optind;
        else {
                if (access(ETCD_FIXTURE_BINARY, X_OK) < 0) {
                        printf("bench-etcd: skipped, %s not installed\n", ETCD_FIXTURE_BINARY);
                        return 0;
                }
                r = etcd_fixture_start(&f, 1, &(EtcdFixtureOptions) { .in_memory = tmpfs });
                if (r < 0) {
                        fprintf(stderr, "bench-etcd: could not start etcd: %s\n", strerror(-r));
                        return 1;
                }
                endpoints = f->endpoints;
        }

        assert_se(sd_event_new(&e) >= 0);
        r = etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = endpoints });
        if (r < 0) {
                fprintf(stderr, "bench-etcd: bad endpoints: %s\n", strerror(-r));
                return 1;
        }

        printf("bench-etcd: etcd at %s (%s), one client, one sd-event loop\n", endpoints[0],
               f ? (tmpfs ? "own member, data on tmpfs" : "own member, data on disk") : "given endpoint");

        /* Warm up: connection, etcd's first writes. */
        for (unsigned i = 0; i < 50; i++)
                (void) etcd_sync_put(c, "/bench/warm", "x", 1, 0, 0, NULL);

        requests = etcd_client_requests_sent(c);
        t0 = now_sec();
        for (unsigned i = 0; i < n_puts; i++) {
                char value[32];

                snprintf(value, sizeof(value), "value-%u", i);
                if (etcd_sync_put(c, "/bench/seq", value, strlen(value), 0, 0, NULL) < 0)
                        failed++;
        }
        dt = now_sec() - t0;
        printf("sequential puts:        %6u in %.3f s = %7.0f puts/s  (%.3f ms each, %u failed, %" PRIu64 " requests)\n",
               n_puts, dt, n_puts / dt, dt * 1000 / n_puts, failed, etcd_client_requests_sent(c) - requests);

        {
                Pipeline p = { .client = c, .total = n_puts };
                bool done = false;

                t0 = now_sec();
                for (unsigned i = 0; i < in_flight; i++)
                        pipeline_next(&p);
                while (!p.finished && !done)
                        done = sd_event_run(e, UINT64_MAX) < 0;
                dt = now_sec() - t0;
                printf("puts, %2u in flight:     %6u in %.3f s = %7.0f puts/s  (%u failed)\n", in_flight, n_puts, dt,
                       n_puts / dt, p.failed);
        }

        {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) >= 0);
                for (unsigned i = 0; i < ETCD_TXN_MAX_OPS; i++) {
                        char key[32];

                        snprintf(key, sizeof(key), "/bench/txn/%03u", i);
                        assert_se(etcd_txn_put(t, true, key, key, strlen(key), 0, 0) >= 0);
                }

                failed = 0;
                t0 = now_sec();
                for (unsigned i = 0; i < n_txns; i++)
                        if (etcd_sync_txn(c, t, NULL) < 0)
                                failed++;
                dt = now_sec() - t0;
                printf("128-op txns:            %6u in %.3f s = %7.0f txns/s  (%.0f key writes/s, %u failed)\n",
                       n_txns, dt, n_txns / dt, n_txns * 128.0 / dt, failed);
        }

        (void) etcd_sync_delete(c, "/bench/", ETCD_PREFIX, NULL);
        return 0;
}
