/* SPDX-License-Identifier: Apache-2.0 */

/* cluster-sampler: what every node of a local cluster (tools/cluster) runs, sampled every
 * INTERVAL ms from the host, for the partition and soak tests. A unit runs on a node while the
 * cgroup its node's systemd made for it, <cgroup root>/node<N>/system.slice/<unit>, holds a
 * process: that is the ground truth of "a copy runs", and it can be read on both sides of a
 * partition, while the node is frozen (its systemd could not answer D-Bus) and without loading
 * the nodes' systemd with queries.
 *
 * usage: cluster-sampler CGROUP_ROOT NODES PREFIX [INTERVAL_MS]
 *   CGROUP_ROOT  the cluster's cgroup, e.g. /sys/fs/cgroup/fleet-cluster-36
 *   NODES        the highest node number (nodes 1..NODES are sampled)
 *   PREFIX       only units whose name starts with it (e.g. "soak-")
 * Prints one line per change, times in seconds of CLOCK_MONOTONIC (Python's time.monotonic()):
 *   T up N UNIT PID     a copy of UNIT appeared on node N (or its main process changed: a restart)
 *   T down N UNIT       it is gone
 *   T node N down|up|frozen|thawed
 * and, on SIGTERM or SIGINT, "T end TICKS MAXGAP_MS": how many samples were taken and the longest
 * time between two of them (the real resolution on a loaded machine). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "hashmap.h"
#include "log.h"
#include "parse-util.h"
#include "time-util.h"

typedef struct Copy {
        char *unit;
        pid_t pid;
        bool seen;
} Copy;

typedef enum NodeState {
        NODE_UNKNOWN,
        NODE_DOWN,
        NODE_UP,
        NODE_FROZEN,
} NodeState;

typedef struct Node {
        unsigned number;
        NodeState state;
        Hashmap *copies;        /* unit name -> Copy */
} Node;

static volatile sig_atomic_t stop;

static void on_signal(int sig _unused_) {
        stop = 1;
}

static void copy_free(void *p) {
        Copy *c = p;

        if (!c)
                return;
        free(c->unit);
        free(c);
}

static double sample_time(void) {
        return (double) now(CLOCK_MONOTONIC) / USEC_PER_SEC;
}

/* The first process of a unit's cgroup, 0 if it holds none. */
static pid_t sampler_unit_pid(int dir_fd, const char *unit) {
        char path[PATH_MAX];
        _cleanup_fclose_ FILE *f = NULL;
        int pid = 0;

        if ((size_t) snprintf(path, sizeof(path), "%s/cgroup.procs", unit) >= sizeof(path))
                return 0;
        int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        f = fdopen(fd, "re");
        if (!f) {
                safe_close(fd);
                return 0;
        }
        if (fscanf(f, "%d", &pid) != 1)
                return 0;
        return pid;
}

static NodeState sampler_node_state(const char *root, unsigned n) {
        _cleanup_free_ char *path = NULL, *events = NULL;

        if (asprintf(&path, "%s/node%u/cgroup.events", root, n) < 0)
                return NODE_UNKNOWN;
        if (read_full_file(path, &events, NULL, 4096) < 0)
                return NODE_DOWN;
        return strstr(events, "frozen 1") ? NODE_FROZEN : NODE_UP;
}

static void sampler_node_set_state(Node *node, NodeState state, double t) {
        static const char *const old_new[4][4] = {
                [NODE_UNKNOWN] = { [NODE_DOWN] = "down", [NODE_UP] = "up", [NODE_FROZEN] = "frozen" },
                [NODE_DOWN] = { [NODE_UP] = "up", [NODE_FROZEN] = "frozen" },
                [NODE_UP] = { [NODE_DOWN] = "down", [NODE_FROZEN] = "frozen" },
                [NODE_FROZEN] = { [NODE_DOWN] = "down", [NODE_UP] = "thawed" },
        };

        if (state == node->state || state == NODE_UNKNOWN)
                return;
        printf("%.3f node %u %s\n", t, node->number, old_new[node->state][state]);
        node->state = state;
}

static int sampler_node(const char *root, Node *node, const char *prefix) {
        _cleanup_free_ char *slice = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        double t = sample_time();
        Copy *c;
        int r;

        sampler_node_set_state(node, sampler_node_state(root, node->number), t);

        HASHMAP_FOREACH(c, node->copies)
                c->seen = false;

        if (asprintf(&slice, "%s/node%u/system.slice", root, node->number) < 0)
                return log_oom();
        d = opendir(slice);     /* absent while the node is down */
        while (d && (de = readdir(d))) {
                pid_t pid;

                if (!startswith(de->d_name, prefix) || !endswith(de->d_name, ".service"))
                        continue;
                pid = sampler_unit_pid(dirfd(d), de->d_name);
                if (pid <= 0)
                        continue;

                c = hashmap_get(node->copies, de->d_name);
                if (!c) {
                        c = new0(Copy, 1);
                        if (!c)
                                return log_oom();
                        c->unit = strdup(de->d_name);
                        if (!c->unit) {
                                copy_free(c);
                                return log_oom();
                        }
                        r = hashmap_put(node->copies, c->unit, c);
                        if (r < 0) {
                                copy_free(c);
                                return log_oom();
                        }
                }
                c->seen = true;
                if (c->pid != pid) {
                        c->pid = pid;
                        printf("%.3f up %u %s %d\n", t, node->number, c->unit, (int) pid);
                }
        }

        HASHMAP_FOREACH(c, node->copies) {
                if (c->seen)
                        continue;
                printf("%.3f down %u %s\n", t, node->number, c->unit);
                hashmap_remove(node->copies, c->unit);
                copy_free(c);
        }
        return 0;
}

int main(int argc, char *argv[]) {
        uint64_t n_nodes, interval_ms = 100;
        unsigned ticks = 0;
        Node *nodes = NULL;
        usec_t next, last = 0, max_gap = 0;
        int r, ret = EXIT_FAILURE;

        log_set_target(LOG_TARGET_CONSOLE);
        log_parse_environment();

        if (argc < 4 || argc > 5 || parse_u64(argv[2], &n_nodes) < 0 || n_nodes == 0 || n_nodes > 200 ||
            (argc == 5 && (parse_u64(argv[4], &interval_ms) < 0 || interval_ms == 0 || interval_ms > 60000))) {
                log_error("usage: %s CGROUP_ROOT NODES PREFIX [INTERVAL_MS]", program_invocation_short_name);
                return EXIT_FAILURE;
        }

        nodes = new0(Node, n_nodes);
        if (!nodes)
                return log_oom(), EXIT_FAILURE;
        for (unsigned i = 0; i < n_nodes; i++) {
                nodes[i].number = i + 1;
                nodes[i].copies = hashmap_new();
                if (!nodes[i].copies) {
                        log_oom();
                        goto finish;
                }
        }

        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        setvbuf(stdout, NULL, _IOLBF, 0);

        next = now(CLOCK_MONOTONIC);
        while (!stop) {
                usec_t t = now(CLOCK_MONOTONIC);
                struct timespec ts;

                if (last > 0 && t - last > max_gap)
                        max_gap = t - last;
                last = t;
                for (unsigned i = 0; i < n_nodes; i++) {
                        r = sampler_node(argv[1], &nodes[i], argv[3]);
                        if (r < 0)
                                goto finish;
                }
                ticks++;

                /* On time when we can; after a stall, from now on rather than a burst of catch-up. */
                next += interval_ms * USEC_PER_MSEC;
                t = now(CLOCK_MONOTONIC);
                if (next < t)
                        next = t;
                ts.tv_sec = next / USEC_PER_SEC;
                ts.tv_nsec = (next % USEC_PER_SEC) * NSEC_PER_USEC;
                while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                        ;
        }
        printf("%.3f end %u %" PRIu64 "\n", sample_time(), ticks, max_gap / USEC_PER_MSEC);
        ret = EXIT_SUCCESS;

finish:
        for (unsigned i = 0; i < n_nodes; i++)
                hashmap_free_with_destructor(nodes[i].copies, copy_free);
        free(nodes);
        return ret;
}
