/* SPDX-License-Identifier: Apache-2.0 */

/* A container's address from the kernel (fleetd/container-address.c): the fib_trie parser on a
 * real container's text, and the cgroup walk on a directory laid out like a unit's cgroup, whose
 * processes are children of this test in network namespaces of their own (needs root to make
 * them; skipped otherwise). */

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-address.h"
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
        pid_t c1, c2;

        if (geteuid() != 0) {
                skip(3, "making network namespaces needs root");
                return;
        }
        c1 = spawn_in_netns("10.42.9.7");
        c2 = spawn_in_netns(NULL);
        if (c1 < 0 || c2 < 0) {
                skip(3, "cannot make network namespaces here");
                goto finish;
        }
        assert_se(mkdtemp(dir));
        assert_se(asprintf(&sub, "%s/libpod-payload-abc", dir) > 0);
        write_procs(dir, getpid(), getpid());
        write_procs(sub, c1, c1);
        is_int(container_address_of_cgroup(dir, &a), 0, "one process in another namespace, a level down");
        is_str(a, "10.42.9.7", "its address");
        write_procs(sub, c1, c2);
        is_int(container_address_of_cgroup(dir, &none), -ENOTUNIQ, "two namespaces: not decided here");
        assert_se(asprintf(&cmd, "rm -rf %s", dir) > 0);
        assert_se(system(cmd) == 0);
finish:
        if (c1 > 0)
                (void) kill(c1, SIGKILL), (void) waitpid(c1, NULL, 0);
        if (c2 > 0)
                (void) kill(c2, SIGKILL), (void) waitpid(c2, NULL, 0);
}

int main(void) {
        test_parse();
        test_cgroup();
        return done_testing();
}
