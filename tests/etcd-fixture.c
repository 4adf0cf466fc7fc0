/* SPDX-License-Identifier: Apache-2.0 */

/* The etcd test fixture (etcd-fixture.h): real etcd members on free 127.0.0.1 ports. */

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "etcd-fixture.h"
#include "time-util.h"

/* A port free on 127.0.0.1 at this moment, outside the kernel's ephemeral range (32768 and up):
 * a port the kernel hands out for bind(0) can be taken by any outgoing connection before etcd binds
 * it, or before a killed member binds it again. Below the local clusters' etcd ports (20000-26399)
 * lies nothing of ours either; 27000-32767 is left to the tests. */
static int etcd_fixture_free_port(void) {
        /* Ports this process handed out already: free now, but promised to a member. */
        static uint16_t given[256];
        static unsigned n_given, seed;

        if (seed == 0)
                seed = (unsigned) getpid() ^ (unsigned) now(CLOCK_MONOTONIC);

        for (unsigned attempt = 0; attempt < 1000; attempt++) {
                uint16_t port = (uint16_t) (27000 + rand_r(&seed) % 5700);
                struct sockaddr_in sa = {
                        .sin_family = AF_INET,
                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                        .sin_port = htons(port),
                };
                bool taken = false;
                int fd, r;

                for (unsigned k = 0; k < n_given; k++)
                        taken = taken || given[k] == port;
                if (taken)
                        continue;

                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
                close(fd);
                if (r == 0) {
                        if (n_given < sizeof(given) / sizeof(given[0]))
                                given[n_given++] = port;
                        return port;
                }
        }
        return -EADDRINUSE;
}

static const char *etcd_fixture_scheme(const EtcdFixture *f) {
        return f->options.ca_file ? "https" : "http";
}

int etcd_fixture_spawn(EtcdFixture *f, unsigned i) {
        char name[16], data[PATH_MAX], log[PATH_MAX], client[64], peer[64], token[64];
        const char *argv[64];
        size_t n = 0;
        pid_t pid;

        snprintf(name, sizeof(name), "e%u", i + 1);
        snprintf(data, sizeof(data), "%s/%s", f->dir, name);
        snprintf(log, sizeof(log), "%s/%s.log", f->dir, name);
        snprintf(client, sizeof(client), "%s://127.0.0.1:%d", etcd_fixture_scheme(f), f->client_ports[i]);
        snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", f->peer_ports[i]);
        snprintf(token, sizeof(token), "fixture-%d", (int) getpid());

        argv[n++] = ETCD_FIXTURE_BINARY;
        argv[n++] = "--name";
        argv[n++] = name;
        argv[n++] = "--data-dir";
        argv[n++] = data;
        argv[n++] = "--listen-client-urls";
        argv[n++] = client;
        argv[n++] = "--advertise-client-urls";
        argv[n++] = client;
        argv[n++] = "--listen-peer-urls";
        argv[n++] = peer;
        argv[n++] = "--initial-advertise-peer-urls";
        argv[n++] = peer;
        argv[n++] = "--initial-cluster";
        argv[n++] = f->initial_cluster;
        argv[n++] = "--initial-cluster-state";
        argv[n++] = "new";
        argv[n++] = "--initial-cluster-token";
        argv[n++] = token;
        argv[n++] = "--logger=zap";
        argv[n++] = "--log-outputs=stderr";
        /* The timing our tools configure (tools/cluster, tools/vagrant/fleet-config.sh): the
         * keeper's renewal window is sized for elections with it. */
        argv[n++] = "--heartbeat-interval=50";
        argv[n++] = "--election-timeout=500";
        for (const char *const *a = f->options.extra_args; a && *a && n < 62; a++)
                argv[n++] = *a;
        argv[n] = NULL;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        dup2(fd, STDIN_FILENO);
                execv(argv[0], (char **) argv);
                _exit(127);
        }

        f->pids[i] = pid;
        f->frozen[i] = false;
        return 0;
}

static size_t etcd_fixture_on_data(char *p, size_t size, size_t n, void *userdata) {
        char *buf = userdata;
        size_t l = strlen(buf), k = size * n;

        if (l + k < 256) {
                memcpy(buf + l, p, k);
                buf[l + k] = 0;
        }
        return size * n;
}

/* Whether member i answers {"health":"true"}. */
bool etcd_fixture_member_healthy(EtcdFixture *f, unsigned i) {
        char url[128], body[256] = "";
        CURLcode result;
        CURL *curl;

        curl = curl_easy_init();
        if (!curl)
                return false;

        snprintf(url, sizeof(url), "%s/health", f->endpoints[i]);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 1000L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, etcd_fixture_on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, (void *) body);
        if (f->options.ca_file)
                curl_easy_setopt(curl, CURLOPT_CAINFO, f->options.ca_file);
        if (f->options.cert_file) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, f->options.cert_file);
                curl_easy_setopt(curl, CURLOPT_SSLKEY, f->options.key_file);
        }

        result = curl_easy_perform(curl);
        curl_easy_cleanup(curl);
        return result == CURLE_OK && strstr(body, "\"health\":\"true\"");
}

bool etcd_fixture_member_alive(EtcdFixture *f, unsigned i) {
        int status;

        if (f->pids[i] <= 0)
                return false;
        if (waitpid(f->pids[i], &status, WNOHANG) == f->pids[i]) {
                f->pids[i] = 0;
                return false;
        }
        return true;
}

/* Wait up to timeout_usec until member i (or every member, i < 0) is healthy. */
int etcd_fixture_wait(EtcdFixture *f, int i, uint64_t timeout_usec) {
        uint64_t deadline = now(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                bool all = true;

                for (unsigned k = 0; k < f->n_members; k++) {
                        if (i >= 0 && (unsigned) i != k)
                                continue;
                        if (!etcd_fixture_member_alive(f, k))
                                return -ECHILD;
                        if (!etcd_fixture_member_healthy(f, k))
                                all = false;
                }
                if (all)
                        return 0;
                if (now(CLOCK_MONOTONIC) > deadline)
                        return -ETIMEDOUT;
                usleep(50 * USEC_PER_MSEC);
        }
}

/* Kill member i with SIGKILL and reap it. */
void etcd_fixture_kill(EtcdFixture *f, unsigned i) {
        if (i >= f->n_members || f->pids[i] <= 0)
                return;
        (void) kill(f->pids[i], SIGKILL);
        (void) waitpid(f->pids[i], NULL, 0);
        f->pids[i] = 0;
        f->frozen[i] = false;
}

/* True once every thread of pid is stopped: SIGSTOP takes effect asynchronously, and on a loaded
 * machine a thread of a Go program may still answer a request after kill() returned. */
static bool etcd_fixture_all_stopped(pid_t pid) {
        char path[64];
        struct dirent *de;
        bool stopped = true;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%i/task", (int) pid);
        d = opendir(path);
        if (!d)
                return true;
        while (stopped && (de = readdir(d))) {
                char stat_path[448], buf[512], *p;
                FILE *sf;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, de->d_name);
                sf = fopen(stat_path, "re");
                if (!sf)
                        continue;
                if (fgets(buf, sizeof(buf), sf) && (p = strrchr(buf, ')')) && p[1] == ' ')
                        stopped = p[2] == 'T' || p[2] == 't';
                fclose(sf);
        }
        closedir(d);
        return stopped;
}

void etcd_fixture_freeze(EtcdFixture *f, unsigned i) {
        if (i >= f->n_members || f->pids[i] <= 0 || kill(f->pids[i], SIGSTOP) < 0)
                return;
        f->frozen[i] = true;
        for (unsigned t = 0; t < 400 && !etcd_fixture_all_stopped(f->pids[i]); t++)
                usleep(5000);
}

void etcd_fixture_thaw(EtcdFixture *f, unsigned i) {
        if (i < f->n_members && f->pids[i] > 0 && kill(f->pids[i], SIGCONT) == 0)
                f->frozen[i] = false;
}

/* Start member i again (after etcd_fixture_kill()) on its data dir, and wait until it is healthy. */
int etcd_fixture_restart(EtcdFixture *f, unsigned i) {
        int r;

        if (i >= f->n_members)
                return -EINVAL;
        etcd_fixture_kill(f, i);

        r = etcd_fixture_spawn(f, i);
        if (r < 0)
                return r;
        return etcd_fixture_wait(f, (int) i, 20 * USEC_PER_SEC);
}

static int etcd_fixture_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) remove(path);
        return 0;
}

static void etcd_fixture_stop_all(EtcdFixture *f) {
        for (unsigned i = 0; i < f->n_members; i++) {
                if (f->frozen[i])
                        etcd_fixture_thaw(f, i);
                etcd_fixture_kill(f, i);
        }
}

/* Fixtures still alive when the program exits (bail_out(), skip_all(), exit()) are stopped and
 * removed by an atexit handler; a crash is covered for the members by PR_SET_PDEATHSIG. */
static EtcdFixture *etcd_fixture_live[8];

static void etcd_fixture_track(EtcdFixture *f, bool add) {
        for (size_t i = 0; i < sizeof(etcd_fixture_live) / sizeof(etcd_fixture_live[0]); i++)
                if (etcd_fixture_live[i] == (add ? NULL : f)) {
                        etcd_fixture_live[i] = add ? f : NULL;
                        return;
                }
}

/* Kill every member (by PID), remove the directory, free. Accepts NULL; returns NULL. */
EtcdFixture *etcd_fixture_free(EtcdFixture *f) {
        if (!f)
                return NULL;

        etcd_fixture_track(f, false);

        etcd_fixture_stop_all(f);
        if (f->dir[0] && !getenv("ETCD_FIXTURE_KEEP"))
                (void) nftw(f->dir, etcd_fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
        for (unsigned i = 0; i <= ETCD_FIXTURE_MAX_MEMBERS; i++)
                free(f->endpoints[i]);
        free(f->initial_cluster);
        free(f);
        return NULL;
}

void etcd_fixture_freep(EtcdFixture **f) {
        if (*f)
                etcd_fixture_free(*f);
}

static void etcd_fixture_atexit(void) {
        for (size_t i = 0; i < sizeof(etcd_fixture_live) / sizeof(etcd_fixture_live[0]); i++)
                if (etcd_fixture_live[i])
                        etcd_fixture_free(etcd_fixture_live[i]);
}

static int etcd_fixture_try_start(EtcdFixture *f) {
        size_t l = 0;
        int r;

        for (unsigned i = 0; i < f->n_members; i++) {
                f->client_ports[i] = etcd_fixture_free_port();
                f->peer_ports[i] = etcd_fixture_free_port();
                if (f->client_ports[i] <= 0 || f->peer_ports[i] <= 0 || f->client_ports[i] == f->peer_ports[i])
                        return -EADDRNOTAVAIL;

                free(f->endpoints[i]);
                if (asprintf(&f->endpoints[i], "%s://127.0.0.1:%d", etcd_fixture_scheme(f),
                             f->client_ports[i]) < 0) {
                        f->endpoints[i] = NULL;
                        return -ENOMEM;
                }
        }

        free(f->initial_cluster);
        f->initial_cluster = calloc(f->n_members, 64);
        if (!f->initial_cluster)
                return -ENOMEM;
        for (unsigned i = 0; i < f->n_members; i++)
                l += snprintf(f->initial_cluster + l, 64, "%se%u=http://127.0.0.1:%d", i > 0 ? "," : "", i + 1,
                              f->peer_ports[i]);

        for (unsigned i = 0; i < f->n_members; i++) {
                r = etcd_fixture_spawn(f, i);
                if (r < 0)
                        return r;
        }

        return etcd_fixture_wait(f, -1, 30 * USEC_PER_SEC);
}

/* Start n_members (1..3) members and wait until all are healthy. options may be NULL; its strings
 * must outlive the fixture. On failure (a port taken meanwhile is retried) everything started is
 * stopped. Returns 0 or a negative errno. */
int etcd_fixture_start(EtcdFixture **ret, unsigned n_members, const EtcdFixtureOptions *options) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        EtcdFixture *f;
        int r = -EIO;

        if (n_members < 1 || n_members > ETCD_FIXTURE_MAX_MEMBERS)
                return -EINVAL;

        f = calloc(1, sizeof(EtcdFixture));
        if (!f)
                return -ENOMEM;
        f->n_members = n_members;
        if (options)
                f->options = *options;
        if (f->options.in_memory && access("/dev/shm", W_OK) == 0)
                tmp = "/dev/shm";

        {
                static bool registered = false;

                if (!registered && atexit(etcd_fixture_atexit) == 0)
                        registered = true;
        }
        etcd_fixture_track(f, true);

        snprintf(f->dir, sizeof(f->dir), "%s/etcd-fixture-XXXXXX", tmp);
        if (!mkdtemp(f->dir)) {
                r = -errno;
                f->dir[0] = 0;
                etcd_fixture_free(f);
                return r;
        }

        for (unsigned attempt = 0; attempt < 3; attempt++) {
                r = etcd_fixture_try_start(f);
                if (r >= 0) {
                        *ret = f;
                        return 0;
                }

                /* Most likely a port was taken between our probe and etcd's bind: start over. */
                etcd_fixture_stop_all(f);
                for (unsigned i = 0; i < f->n_members; i++) {
                        char data[PATH_MAX];

                        snprintf(data, sizeof(data), "%s/e%u", f->dir, i + 1);
                        (void) nftw(data, etcd_fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
                }
        }

        etcd_fixture_free(f);
        return r;
}

/* Run etcdctl against every member with the fixture's TLS files plus args (NULL-terminated);
 * returns its exit status, or a negative errno. Output goes to the fixture's etcdctl.log. */
int etcd_fixture_etcdctl(EtcdFixture *f, const char *const *args) {
        char endpoints[256] = "--endpoints=", cacert[PATH_MAX], cert[PATH_MAX], key[PATH_MAX],
                log[PATH_MAX];
        const char *argv[64];
        size_t n = 0;
        int status;
        pid_t pid;

        for (unsigned i = 0; i < f->n_members; i++) {
                if (i > 0)
                        strncat(endpoints, ",", sizeof(endpoints) - strlen(endpoints) - 1);
                strncat(endpoints, f->endpoints[i], sizeof(endpoints) - strlen(endpoints) - 1);
        }

        argv[n++] = ETCD_FIXTURE_ETCDCTL;
        argv[n++] = endpoints;
        if (f->options.ca_file) {
                snprintf(cacert, sizeof(cacert), "--cacert=%s", f->options.ca_file);
                argv[n++] = cacert;
        }
        if (f->options.cert_file) {
                snprintf(cert, sizeof(cert), "--cert=%s", f->options.cert_file);
                snprintf(key, sizeof(key), "--key=%s", f->options.key_file);
                argv[n++] = cert;
                argv[n++] = key;
        }
        for (const char *const *a = args; a && *a && n < 62; a++)
                argv[n++] = *a;
        argv[n] = NULL;

        snprintf(log, sizeof(log), "%s/etcdctl.log", f->dir);

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                setenv("ETCDCTL_API", "3", 1);
                execv(argv[0], (char **) argv);
                _exit(127);
        }

        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}
