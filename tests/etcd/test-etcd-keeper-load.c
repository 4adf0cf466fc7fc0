/* SPDX-License-Identifier: Apache-2.0 */

/* The lease keeper on a 3-member cluster with the CPUs oversubscribed (stress-ng, twice as many CPU
 * hogs as cores, started and ended here by PID): freezing or killing etcd's leader, and freezing or
 * killing the member the keeper renews through, never costs the lease at TTL 5 s. Each blow is
 * watched for TTL + 1 s, so a keeper that stopped renewing would report LOST and etcd would drop the
 * leased key. A frozen leader then is killed and restarted, not thawed (etcd#15247, see blow()). The keeper has the agent's margin at TTL 5 s (1.25 s: fleetd/agent-fence.c), and every
 * EXPIRING (an agent would fence: an election outlasted the renewal window) must be followed by
 * RENEWED of the same lease; how many there were is printed. Meant to pass under ASan too, where
 * the loop itself is slow. 20 in a row: tests/repeat.sh 20 build-asan/tests/etcd/test-etcd-keeper-load */

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/prctl.h>

#include "etcd-test.h"

#define TTL_SEC 5
#define MARGIN_USEC (1250 * USEC_PER_MSEC)
#define STRESS_NG "/usr/bin/stress-ng"

typedef struct KeeperState {
        TestKeeper events;
        EtcdLease *lease;
        usec_t min_ahead;               /* the least the lease was known alive ahead, sampled */
} KeeperState;

static int on_sample(sd_event_source *source, uint64_t usec, void *userdata) {
        KeeperState *s = userdata;
        usec_t t = now(CLOCK_MONOTONIC), deadline = etcd_lease_keeper_deadline(s->lease);

        if (s->events.granted)
                s->min_ahead = MIN(s->min_ahead, deadline > t ? deadline - t : 0);
        return sd_event_source_set_time(source, t + 100 * USEC_PER_MSEC) < 0 ? -EIO :
               sd_event_source_set_enabled(source, SD_EVENT_ON);
}

static pid_t stress_start(void) {
        long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
        char cpus[32];
        pid_t pid;

        snprintf(cpus, sizeof(cpus), "%ld", MAX(n_cpus, 1L) * 2);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (fd >= 0) {
                        dup2(fd, STDIN_FILENO);
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                /* Bounded even if we are killed before ending it. */
                execl(STRESS_NG, STRESS_NG, "--cpu", cpus, "--timeout", "300s", (char *) NULL);
                _exit(127);
        }
        return pid;
}

static void stress_stop(pid_t pid) {
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        (void) waitpid(pid, NULL, 0);
}

static bool stress_running(pid_t pid) {
        return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

typedef struct Reply {
        char data[2048];
        size_t size;
} Reply;

static size_t on_reply_data(char *p, size_t size, size_t n, void *userdata) {
        Reply *r = userdata;
        size_t k = MIN(size * n, sizeof(r->data) - 1 - r->size);

        memcpy(r->data + r->size, p, k);
        r->size += k;
        r->data[r->size] = 0;
        return size * n;
}

/* Ask member i whether it leads: /v3/maintenance/status carries the member's id and the leader's. */
static bool member_is_leader(EtcdFixture *f, unsigned i) {
        char url[128], member[32] = "", leader[32] = "";
        Reply body = {};
        const char *p;
        CURLcode result;
        CURL *curl;

        if (f->pids[i] <= 0 || f->frozen[i])
                return false;
        curl = curl_easy_init();
        if (!curl)
                return false;
        snprintf(url, sizeof(url), "%s/v3/maintenance/status", f->endpoints[i]);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 500L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_reply_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        result = curl_easy_perform(curl);
        curl_easy_cleanup(curl);
        if (result != CURLE_OK)
                return false;

        p = strstr(body.data, "\"member_id\":\"");
        if (p)
                sscanf(p + strlen("\"member_id\":\""), "%31[0-9]", member);
        p = strstr(body.data, "\"leader\":\"");
        if (p)
                sscanf(p + strlen("\"leader\":\""), "%31[0-9]", leader);
        return member[0] && streq(member, leader);
}

static int member_of(EtcdFixture *f, const char *endpoint) {
        for (unsigned i = 0; i < f->n_members; i++)
                if (endpoint && streq(f->endpoints[i], endpoint))
                        return (int) i;
        return -1;
}

/* Start a killed member again while the loop (and the keeper) keeps running. */
static int restart_in_loop(sd_event *e, EtcdFixture *f, unsigned i) {
        usec_t deadline = now(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        int r;

        r = etcd_fixture_spawn(f, i);
        if (r < 0)
                return r;
        while (now(CLOCK_MONOTONIC) < deadline) {
                test_run_for(e, 200 * USEC_PER_MSEC);
                if (!etcd_fixture_member_alive(f, i))
                        return -ECHILD;
                if (etcd_fixture_member_healthy(f, i))
                        return 0;
        }
        return -ETIMEDOUT;
}

/* Renewed just now, so the blow lands at a random point of no round in particular: wait until
 * the lease is known alive for nearly the whole TTL, then a little more. */
static void wait_fresh(sd_event *e, EtcdLease *l) {
        usec_t until = now(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;

        while (now(CLOCK_MONOTONIC) < until && etcd_lease_keeper_deadline(l) < now(CLOCK_MONOTONIC) + (TTL_SEC - 1) * USEC_PER_SEC)
                test_run_for(e, 50 * USEC_PER_MSEC);
        test_run_for(e, 700 * USEC_PER_MSEC);
}

static void blow(sd_event *e, EtcdFixture *f, EtcdClient *c, KeeperState *s, bool freeze, bool leader) {
        const char *what = freeze ? "frozen" : "killed";
        bool led = leader;
        int m = -1;

        wait_fresh(e, s->lease);
        if (leader) {
                for (unsigned i = 0; i < f->n_members && m < 0; i++)
                        if (member_is_leader(f, i))
                                m = (int) i;
        } else
                m = member_of(f, etcd_client_current_endpoint(c));
        if (m < 0) {
                ok(false, "%s %s: found the member", what, leader ? "etcd's leader" : "the keeper's member");
                return;
        }

        if (!leader)
                led = member_is_leader(f, (unsigned) m);
        diag("%s e%d (%s%s), lease known alive for %.2f s more", what, m + 1, led && !leader ? "etcd's leader, " : "",
             leader ? "etcd's leader" : "the keeper's member",
             ((double) etcd_lease_keeper_deadline(s->lease) - (double) now(CLOCK_MONOTONIC)) / 1e6);
        if (freeze)
                etcd_fixture_freeze(f, (unsigned) m);
        else
                etcd_fixture_kill(f, (unsigned) m);

        test_run_for(e, (TTL_SEC + 1) * USEC_PER_SEC);
        is_int(s->events.n_lost, 0, "keeper not LOST with e%d (%s) %s for TTL + 1 s", m + 1,
               leader ? "etcd's leader" : "its member", what);
        if (s->events.n_expiring > s->events.n_renewed)
                diag("EXPIRING, not yet RENEWED");

        /* A frozen leader is not thawed but killed and started again: a leader of etcd before
         * 3.4.28 / 3.5.11 that wakes up after more than a TTL still leads for a moment in its own
         * view and revokes every lease that expired in that view, through the new leader
         * (etcd-io/etcd#15247, fixed by #16822; Debian 12 ships 3.4.23). That lease is lost to
         * etcd, whatever the keeper does. A frozen follower is thawed. */
        if (freeze && !led)
                etcd_fixture_thaw(f, (unsigned) m);
        else {
                if (freeze)
                        etcd_fixture_kill(f, (unsigned) m);
                is_int(restart_in_loop(e, f, (unsigned) m), 0, "e%d started again", m + 1);
        }
        /* Let the member catch up before the next blow. */
        test_run_for(e, 2 * USEC_PER_SEC);
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_(etcd_lease_keeper_freep) EtcdLease *l = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *sample = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        KeeperState s = { .min_ahead = UINT64_MAX };
        uint64_t requests;
        pid_t stress;
        int64_t id;

        etcd_fixture_require();
        if (access(STRESS_NG, X_OK) < 0)
                skip_all("stress-ng not installed (" STRESS_NG "): apt-get install stress-ng");
        if (etcd_fixture_start(&f, 3, NULL) < 0)
                bail_out("could not start a 3-member etcd cluster");

        stress = stress_start();
        ok(stress > 0, "stress-ng started (pid %d)", (int) stress);

        assert_se(sd_event_new(&e) >= 0);
        assert_se(etcd_client_new(&c, e, &(EtcdConfig) { .endpoints = f->endpoints }) >= 0);
        is_int(etcd_lease_keeper_new(&l, c, TTL_SEC, test_keeper_on_event, &s.events), 0, "keeper: TTL %d", TTL_SEC);
        is_int(etcd_lease_keeper_set_margin(l, MARGIN_USEC), 0, "margin %.2f s", (double) MARGIN_USEC / 1e6);
        s.lease = l;
        assert_se(sd_event_add_time(e, &sample, CLOCK_MONOTONIC, 0, 1, on_sample, &s) >= 0);
        ok(test_run_until(e, &s.events.granted, 20 * USEC_PER_SEC), "keeper: GRANTED");
        id = etcd_lease_keeper_id(l);
        is_int(etcd_sync_put(c, "/keeper/load", "v", 1, id, 0, NULL), 0, "a key under the lease");
        requests = etcd_client_requests_sent(c);

        blow(e, f, c, &s, true, true);
        blow(e, f, c, &s, true, false);
        blow(e, f, c, &s, false, true);
        blow(e, f, c, &s, false, false);

        ok(stress_running(stress), "stress-ng ran throughout");
        stress_stop(stress);

        is_int(s.events.n_lost, 0, "keeper: never LOST");
        is_int(s.events.n_renewed, s.events.n_expiring, "keeper: every EXPIRING ended in RENEWED");
        is_int(s.events.n_granted, 1, "keeper: granted once");
        is_int(etcd_lease_keeper_id(l), id, "keeper: still the first lease");
        {
                _cleanup_free_ char *v = test_get(c, "/keeper/load");
                ok(v != NULL, "etcd kept the leased key");
        }
        diag("lease known alive at least %.2f s ahead throughout (EXPIRING at %.2f s); %u EXPIRING; "
             "%" PRIu64 " requests sent", (double) s.min_ahead / 1e6, (double) MARGIN_USEC / 1e6,
             s.events.n_expiring, etcd_client_requests_sent(c) - requests);

        return done_testing();
}
