/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A test fixture for everyone who needs a real etcd: start 1 or 3 members on free 127.0.0.1 ports
 * with their data in a temporary directory, wait until they are healthy, hand out the endpoint
 * list, kill / freeze / restart one member, and stop everything (by PID) and remove the directory.
 * A static test library (etcd_fixture_dep in tests/meson.build; it links libcurl). A test calls
 * etcd_fixture_require() first: without /usr/bin/etcd it skips the whole program. Members die with
 * the test process (PR_SET_PDEATHSIG), even when it crashes.
 *
 *     _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
 *     etcd_fixture_require();
 *     if (etcd_fixture_start(&f, 1, NULL) < 0)
 *             bail_out("etcd did not start");
 *     ... EtcdConfig config = { .endpoints = f->endpoints };
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "tap.h"

#define ETCD_FIXTURE_BINARY "/usr/bin/etcd"
#define ETCD_FIXTURE_ETCDCTL "/usr/bin/etcdctl"
#define ETCD_FIXTURE_MAX_MEMBERS 3

typedef struct EtcdFixtureOptions {
        const char *const *extra_args;  /* more etcd flags for every member (NULL-terminated) */
        const char *ca_file;            /* set: the members serve https; health checks use these */
        const char *cert_file;
        const char *key_file;
        bool in_memory;                 /* data on /dev/shm (benchmarks) */
} EtcdFixtureOptions;

typedef struct EtcdFixture {
        char dir[256];
        unsigned n_members;
        pid_t pids[ETCD_FIXTURE_MAX_MEMBERS];
        int client_ports[ETCD_FIXTURE_MAX_MEMBERS];
        int peer_ports[ETCD_FIXTURE_MAX_MEMBERS];
        bool frozen[ETCD_FIXTURE_MAX_MEMBERS];
        char *endpoints[ETCD_FIXTURE_MAX_MEMBERS + 1];  /* NULL-terminated: EtcdConfig.endpoints */
        char *initial_cluster;
        EtcdFixtureOptions options;
} EtcdFixture;

/* Skip the whole test program (TAP "1..0 # SKIP") if etcd is not installed. */
__attribute__((unused)) static void etcd_fixture_require(void) {
        if (access(ETCD_FIXTURE_BINARY, X_OK) < 0)
                skip_all("etcd not installed (" ETCD_FIXTURE_BINARY "): apt-get install etcd-server");
}

/* Start n_members (1..3) members and wait until all are healthy. options may be NULL; its strings
 * must outlive the fixture. On failure (a port taken meanwhile is retried) everything started is
 * stopped. Returns 0 or a negative errno. */
int etcd_fixture_start(EtcdFixture **ret, unsigned n_members, const EtcdFixtureOptions *options);

/* Kill every member (by PID), remove the directory (kept with $ETCD_FIXTURE_KEEP), free. Accepts
 * NULL; returns NULL. Fixtures still alive at exit (bail_out(), skip_all(), exit()) are freed by an
 * atexit handler. */
EtcdFixture *etcd_fixture_free(EtcdFixture *f);
void etcd_fixture_freep(EtcdFixture **f);

/* Start member i's etcd process (its ports and f->initial_cluster already set); does not wait.
 * Returns 0 or a negative errno. */
int etcd_fixture_spawn(EtcdFixture *f, unsigned i);
/* Whether member i answers {"health":"true"} on /health (1 s timeout). */
bool etcd_fixture_member_healthy(EtcdFixture *f, unsigned i);
/* Whether member i's process is still there (reaps it if not). */
bool etcd_fixture_member_alive(EtcdFixture *f, unsigned i);
/* Wait up to timeout_usec until member i (or every member, i < 0) is healthy. Returns 0,
 * -ECHILD if a member died, -ETIMEDOUT. */
int etcd_fixture_wait(EtcdFixture *f, int i, uint64_t timeout_usec);

/* Kill member i with SIGKILL and reap it. */
void etcd_fixture_kill(EtcdFixture *f, unsigned i);
/* Freeze (SIGSTOP, returning once every thread is stopped) / thaw (SIGCONT) member i: a member that
 * silently stops answering, as behind a partition; its sockets stay open. */
void etcd_fixture_freeze(EtcdFixture *f, unsigned i);
void etcd_fixture_thaw(EtcdFixture *f, unsigned i);
/* Start member i again (after etcd_fixture_kill()) on its data dir, and wait until it is healthy.
 * Returns 0 or a negative errno. */
int etcd_fixture_restart(EtcdFixture *f, unsigned i);

/* Run etcdctl against every member with the fixture's TLS files plus args (NULL-terminated);
 * returns its exit status, or a negative errno. Output goes to the fixture's etcdctl.log. */
int etcd_fixture_etcdctl(EtcdFixture *f, const char *const *args);
