/* SPDX-License-Identifier: Apache-2.0 */

/* Capacity measurement against a made-up /proc and cgroup tree: /proc alone, cgroup limits of the
 * mount's root and of system.slice lowering it, "max" meaning no limit, overrides and the share
 * kept for the system. */

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fileio.h"
#include "machine-capacity.h"
#include "tap.h"

#define GiB (1ULL << 30)

static char root[] = "/tmp/test-machine-capacity-XXXXXX";

static void put(const char *rel, const char *text) {
        _cleanup_free_ char *path = NULL;

        assert_se(asprintf(&path, "%s/%s", root, rel) >= 0);
        assert_se(write_file_atomic(path, text, strlen(text), 0644, false) == 0);
}

static void dir(const char *rel) {
        _cleanup_free_ char *path = NULL;

        assert_se(asprintf(&path, "%s/%s", root, rel) >= 0);
        assert_se(mkdir_p(path, 0755) == 0);
}

static int measure(Resources *r) {
        _cleanup_free_ char *proc = NULL, *cg = NULL;

        assert_se(asprintf(&proc, "%s/proc", root) >= 0);
        assert_se(asprintf(&cg, "%s/cgroup", root) >= 0);
        return machine_capacity_measure(proc, cg, r);
}

int main(void) {
        Resources r = {}, c = {}, extra = {};

        assert_se(mkdtemp(root));
        dir("proc");
        dir("cgroup/system.slice");

        is_int(measure(&r), -ENOENT, "no /proc/stat: an error");

        put("proc/stat", "cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\ncpu2 1 2 3\ncpu3 1 2 3\nintr 5\n");
        put("proc/meminfo", "MemTotal:        8388608 kB\nMemFree:         1000 kB\n");
        is_int(measure(&r), 0, "/proc alone");
        ok(r.cpu_milli == 4000 && r.memory == 8 * GiB, "4 CPUs, 8 GiB from /proc");

        put("cgroup/cpu.max", "max 100000\n");
        put("cgroup/memory.max", "max\n");
        is_int(measure(&r), 0, "cgroup without limits");
        ok(r.cpu_milli == 4000 && r.memory == 8 * GiB, "\"max\" changes nothing");

        put("cgroup/cpu.max", "250000 100000\n");
        put("cgroup/memory.max", "6442450944\n");
        is_int(measure(&r), 0, "container limits");
        ok(r.cpu_milli == 2500 && r.memory == 6 * GiB, "the container's 2.5 CPUs and 6 GiB");

        put("cgroup/system.slice/memory.max", "4294967296\n");
        put("cgroup/system.slice/cpu.max", "300000 100000\n");
        is_int(measure(&r), 0, "system.slice limits");
        ok(r.cpu_milli == 2500 && r.memory == 4 * GiB, "the lower of the two, per resource");

        assert_se(resources_add_extra(&extra, "gpu", 2) == 0);
        is_int(machine_capacity_compute(&r, UINT64_MAX, UINT64_MAX, 500, 1 * GiB, &extra, &c), 0, "compute");
        ok(c.cpu_milli == 2000 && c.memory == 3 * GiB && resources_get_extra(&c, "gpu") == 2,
           "the system's share taken off, GPUs added");
        resources_done(&c);
        is_int(machine_capacity_compute(&r, 8000, 16 * GiB, 0, 0, NULL, &c), 0, "overrides");
        ok(c.cpu_milli == 8000 && c.memory == 16 * GiB && c.n_extra == 0, "configured figures win");
        resources_done(&c);
        is_int(machine_capacity_compute(&r, UINT64_MAX, UINT64_MAX, 9000, 9 * GiB, NULL, &c), 0, "over-reserve");
        ok(c.cpu_milli == 0 && c.memory == 0, "keeping back more than there is leaves 0, not a wrap-around");
        resources_done(&c);
        resources_done(&extra);

        {
                _cleanup_free_ char *cmd = NULL;

                assert_se(asprintf(&cmd, "rm -rf '%s'", root) >= 0);
                (void) system(cmd);
        }
        return done_testing();
}
