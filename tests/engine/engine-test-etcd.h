/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A single etcd member on free 127.0.0.1 ports in a temporary directory, for the engine's
 * integration tests: started with fork+exec, stopped by its PID, its directory removed. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

#define TEST_ETCD_BINARY "/usr/bin/etcd"

typedef struct TestEtcd {
        pid_t pid;
        char dir[64];
        char endpoint[64];
} TestEtcd;

static int test_etcd_free_port(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof(sa);
        _cleanup_close_ int fd = -EBADF;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || getsockname(fd, (struct sockaddr *) &sa, &l) < 0)
                return -errno;
        return ntohs(sa.sin_port);
}

static bool test_etcd_port_open(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        _cleanup_close_ int fd = -EBADF;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

static int test_etcd_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void test_etcd_stop(TestEtcd *t) {
        if (t->pid > 0) {
                (void) kill(t->pid, SIGKILL);
                (void) waitpid(t->pid, NULL, 0);
                t->pid = 0;
        }
        if (t->dir[0]) {
                (void) nftw(t->dir, test_etcd_rm, 16, FTW_DEPTH | FTW_PHYS);
                t->dir[0] = '\0';
        }
}

/* Start etcd and wait until its client port accepts connections. Returns 0, -ENOENT if etcd is
 * not installed, another negative errno on failure. */
static int test_etcd_start(TestEtcd *t) {
        char client[64], peer[64], cluster[96], data[96], log[96];
        int cport, pport;

        *t = (TestEtcd) {};
        if (access(TEST_ETCD_BINARY, X_OK) < 0)
                return -ENOENT;

        /* tmpfs when there is one: etcd's fsyncs dominate its latency on disk. */
        strcpy(t->dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/fleet-engine-etcd-XXXXXX" :
                                                        "/tmp/fleet-engine-etcd-XXXXXX");
        if (!mkdtemp(t->dir)) {
                t->dir[0] = '\0';
                return -errno;
        }

        cport = test_etcd_free_port();
        pport = test_etcd_free_port();
        if (cport < 0 || pport < 0 || cport == pport)
                return -EADDRINUSE;

        snprintf(client, sizeof(client), "http://127.0.0.1:%d", cport);
        snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", pport);
        snprintf(cluster, sizeof(cluster), "test=%s", peer);
        snprintf(data, sizeof(data), "%s/data", t->dir);
        snprintf(log, sizeof(log), "%s/etcd.log", t->dir);
        strcpy(t->endpoint, client);

        t->pid = fork();
        if (t->pid < 0)
                return -errno;
        if (t->pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                execl(TEST_ETCD_BINARY, "etcd", "--name", "test", "--data-dir", data,
                      "--listen-client-urls", client, "--advertise-client-urls", client,
                      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                      "--initial-cluster", cluster, (char *) NULL);
                _exit(127);
        }

        for (unsigned i = 0; i < 200; i++) {
                if (test_etcd_port_open(cport))
                        return 0;
                if (waitpid(t->pid, NULL, WNOHANG) == t->pid) {
                        t->pid = 0;
                        return -ECHILD;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        return -ETIMEDOUT;
}
