/* SPDX-License-Identifier: Apache-2.0 */

/* A container's address from the kernel (fleetd/container-address.c): the fib_trie parser on a
 * real container's text, and the cgroup walk on a directory laid out like a unit's cgroup, whose
 * processes are children of this test in network namespaces of their own (needs root to make
 * them; skipped otherwise). And its announcement (fleetd/container-announce.c) between two such
 * namespaces joined by a veth pair. */

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-address.h"
#include "container-announce.h"
#include "fileio.h"
#include "tap.h"

/* /proc/PID/net/fib_trie of a podman container on the cluster network (Debian 12, kernel 6.1). */
static const char fib_trie[] =
        "Main:\n"
        "  +-- 0.0.0.0/0 3 0 5\n"
        "     |-- 0.0.0.0\n"
        "        /0 universe UNICAST\n"
        "     +-- 10.42.174.0/24 2 0 2\n"
        "        +-- 10.42.174.0/30 2 0 2\n"
        "           |-- 10.42.174.0\n"
        "              /24 link UNICAST\n"
        "           |-- 10.42.174.3\n"
        "              /32 host LOCAL\n"
        "        |-- 10.42.174.255\n"
        "           /32 link BROADCAST\n"
        "     +-- 127.0.0.0/8 2 0 2\n"
        "        +-- 127.0.0.0/31 1 0 0\n"
        "           |-- 127.0.0.0\n"
        "              /8 host LOCAL\n"
        "           |-- 127.0.0.1\n"
        "              /32 host LOCAL\n"
        "Local:\n"
        "  +-- 0.0.0.0/0 3 0 5\n";

static void test_parse(void) {
        _cleanup_free_ char *a = NULL;
        char *none = NULL;

        is_int(container_address_parse_fib_trie(fib_trie, &a), 0, "a container's fib_trie has an address");
        is_str(a, "10.42.174.3", "its own (host LOCAL), not the subnet's or the broadcast");
        is_int(container_address_parse_fib_trie("Main:\n  |-- 127.0.0.1\n     /32 host LOCAL\n", &none), -ENOENT,
               "loopback only: none");
        is_int(container_address_parse_fib_trie("", &none), -ENOENT, "empty: none");
        is_int(container_address_parse_fib_trie("|-- 10.1.2.3\n/32 link BROADCAST\n|-- garbage\n/32 host LOCAL\n",
                                                &none), -ENOENT, "a broadcast, and a LOCAL that is no address: none");
}

/* A child in a network namespace of its own, holding address (NULL: none), until killed. */
static pid_t spawn_in_netns(const char *address) {
        int p[2];
        pid_t pid;
        char c;

        assert_se(pipe(p) == 0);
        pid = fork();
        assert_se(pid >= 0);
        if (pid == 0) {
                char cmd[128];

                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                snprintf(cmd, sizeof cmd, "ip link set lo up && ip address add %s/32 dev lo", address ?: "127.0.0.2");
                if (system(cmd) != 0)
                        _exit(1);
                (void) write(p[1], "x", 1);
                pause();
                _exit(0);
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
                pid = -1;
        close(p[0]);
        return pid;
}

static void write_procs(const char *dir, pid_t a, pid_t b) {
        _cleanup_free_ char *path = NULL, *text = NULL;

        assert_se(mkdir_p(dir, 0755) == 0);
        assert_se(asprintf(&path, "%s/cgroup.procs", dir) > 0);
        /* Our own PID stands for conmon: in the machine's namespace, skipped. */
        assert_se(asprintf(&text, "%d\n%d\n%d\n", (int) getpid(), (int) a, (int) b) > 0);
        assert_se(write_file_atomic(path, text, strlen(text), 0644, false) == 0);
}

static void test_cgroup(void) {
        char dir[] = "/tmp/test-container-address.XXXXXX";
        _cleanup_free_ char *sub = NULL, *a = NULL, *cmd = NULL;
        char *none = NULL;
        pid_t c1, c2, pid = 0;

        if (geteuid() != 0) {
                skip(4, "making network namespaces needs root");
                return;
        }
        c1 = spawn_in_netns("10.42.9.7");
        c2 = spawn_in_netns(NULL);
        if (c1 < 0 || c2 < 0) {
                skip(4, "cannot make network namespaces here");
                goto finish;
        }
        assert_se(mkdtemp(dir));
        assert_se(asprintf(&sub, "%s/libpod-payload-abc", dir) > 0);
        write_procs(dir, getpid(), getpid());
        write_procs(sub, c1, c1);
        is_int(container_address_of_cgroup(dir, &a, &pid), 0, "one process in another namespace, a level down");
        is_str(a, "10.42.9.7", "its address");
        is_int(pid, c1, "and that process");
        write_procs(sub, c1, c2);
        is_int(container_address_of_cgroup(dir, &none, NULL), -ENOTUNIQ, "two namespaces: not decided here");
        assert_se(asprintf(&cmd, "rm -rf %s", dir) > 0);
        assert_se(system(cmd) == 0);
finish:
        if (c1 > 0)
                (void) kill(c1, SIGKILL), (void) waitpid(c1, NULL, 0);
        if (c2 > 0)
                (void) kill(c2, SIGKILL), (void) waitpid(c2, NULL, 0);
}

/* A shell command's first output line, or NULL. */
static char *command_line(const char *cmd) {
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        FILE *f = popen(cmd, "r");

        if (!f)
                return NULL;
        if (getline(&line, &n, f) < 0)
                line = mfree(line);
        (void) pclose(f);
        if (line)
                line[strcspn(line, "\n")] = 0;
        return TAKE_PTR(line);
}

/* The MAC that the namespace of pid maps address to on dev, "" when none (or it failed). */
static char *neighbour_mac(pid_t pid, const char *dev, const char *address) {
        _cleanup_free_ char *cmd = NULL;
        char *mac;

        assert_se(asprintf(&cmd, "nsenter -t %d -n ip neigh show %s dev %s | awk '{ print $3 }'", (int) pid, address,
                           dev) > 0);
        mac = command_line(cmd);
        return mac ?: strdup("");
}

/* The announcement: a "container" c (10.42.9.7 on a veth) and a neighbour n (the machine or a
 * container beside it on the bridge) whose table still maps the address to a former holder's MAC,
 * reachable. The gratuitous ARP gives n the container's MAC. */
static void test_announce(void) {
        _cleanup_free_ char *cmd = NULL, *mac = NULL;
        pid_t c, n;

        if (geteuid() != 0) {
                skip(4, "making network namespaces needs root");
                return;
        }
        c = spawn_in_netns(NULL);
        n = spawn_in_netns(NULL);
        if (c < 0 || n < 0 ||
            asprintf(&cmd, "ip link add tca0 netns %d address 02:00:00:00:09:07 type veth peer name tca1 netns %d && "
                     "nsenter -t %d -n sh -c 'ip address add 10.42.9.7/24 dev tca0 && ip link set tca0 up' && "
                     "nsenter -t %d -n sh -c 'ip address add 10.42.9.1/24 dev tca1 && ip link set tca1 up && "
                     "ip neigh replace 10.42.9.7 lladdr 02:00:00:00:00:01 dev tca1 nud reachable'",
                     (int) c, (int) n, (int) c, (int) n) < 0 ||
            system(cmd) != 0) {
                skip(4, "cannot make network namespaces and veths here");
                goto finish;
        }
        mac = neighbour_mac(n, "tca1", "10.42.9.7");
        is_str(mac, "02:00:00:00:00:01", "the neighbour maps the address to the former holder's MAC");
        is_int(container_announce(c, "10.42.9.8"), -ENOENT, "an address the container does not hold: not announced");
        is_int(container_announce(c, "10.42.9.7"), 0, "the container's address announced");
        /* The ARP crosses the veth in the kernel; the neighbour's table changes as it is received. */
        for (unsigned i = 0; i < 200; i++) {
                mac = mfree(mac);
                mac = neighbour_mac(n, "tca1", "10.42.9.7");
                if (!streq(mac, "02:00:00:00:00:01"))
                        break;
                (void) usleep(10 * 1000);
        }
        is_str(mac, "02:00:00:00:09:07", "the neighbour now maps it to the container's MAC");
finish:
        if (c > 0)
                (void) kill(c, SIGKILL), (void) waitpid(c, NULL, 0);
        if (n > 0)
                (void) kill(n, SIGKILL), (void) waitpid(n, NULL, 0);
}

int main(void) {
        test_parse();
        test_cgroup();
        test_announce();
        return done_testing();
}
