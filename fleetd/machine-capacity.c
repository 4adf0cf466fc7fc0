/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <stdio.h>

#include "fileio.h"
#include "machine-capacity.h"
#include "parse-util.h"
#include "strv.h"

static int read_text(const char *root, const char *name, char **ret) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", root, name) < 0)
                return -ENOMEM;
        return read_full_file(path, ret, NULL, 1024 * 1024);
}

/* "cpu0 ...", "cpu1 ..." lines of /proc/stat (not the "cpu " total). */
static int proc_cpus(const char *proc_root, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        uint64_t n = 0;
        int r;

        r = read_text(proc_root, "stat", &text);
        if (r < 0)
                return r;
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                n += startswith(p, "cpu") && p[3] >= '0' && p[3] <= '9';
        if (n == 0)
                return -EBADMSG;
        *ret = n * 1000;
        return 0;
}

static int proc_memory(const char *proc_root, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        const char *p;
        uint64_t kib;
        int r;

        r = read_text(proc_root, "meminfo", &text);
        if (r < 0)
                return r;
        p = strstr(text, "MemTotal:");
        if (!p || sscanf(p, "MemTotal: %" SCNu64 " kB", &kib) != 1)
                return -EBADMSG;
        *ret = kib * 1024;
        return 0;
}

/* cpu.max of one cgroup: "max 100000" (no limit) or "QUOTA PERIOD" → QUOTA/PERIOD CPUs. */
static void cgroup_lower_cpu(const char *dir, uint64_t *cpu) {
        _cleanup_free_ char *text = NULL;
        uint64_t quota, period;

        if (read_text(dir, "cpu.max", &text) < 0)
                return;
        if (sscanf(text, "%" SCNu64 " %" SCNu64, &quota, &period) != 2 || period == 0)
                return;         /* "max": no limit */
        *cpu = MIN(*cpu, quota * 1000 / period);
}

static void cgroup_lower_memory(const char *dir, uint64_t *mem) {
        _cleanup_free_ char *text = NULL;
        uint64_t v;

        if (read_text(dir, "memory.max", &text) < 0)
                return;
        text[strcspn(text, WHITESPACE)] = 0;
        if (parse_u64(text, &v) < 0)
                return;         /* "max" */
        *mem = MIN(*mem, v);
}

int machine_capacity_measure(const char *proc_root, const char *cgroup_root, Resources *ret) {
        _cleanup_free_ char *slice = NULL;
        uint64_t cpu, mem;
        int r;

        assert(proc_root);
        assert(cgroup_root);
        assert(ret);

        r = proc_cpus(proc_root, &cpu);
        if (r < 0)
                return r;
        r = proc_memory(proc_root, &mem);
        if (r < 0)
                return r;

        if (asprintf(&slice, "%s/system.slice", cgroup_root) < 0)
                return -ENOMEM;
        cgroup_lower_cpu(cgroup_root, &cpu);
        cgroup_lower_cpu(slice, &cpu);
        cgroup_lower_memory(cgroup_root, &mem);
        cgroup_lower_memory(slice, &mem);

        *ret = (Resources) { .cpu_milli = cpu, .memory = mem };
        return 0;
}

int machine_capacity_compute(const Resources *measured, uint64_t cpu_milli, uint64_t memory,
                             uint64_t reserve_cpu_milli, uint64_t reserve_memory, const Resources *extra,
                             Resources *ret) {
        Resources c = {};
        int r;

        assert(measured);
        assert(ret);

        if (extra) {
                r = resources_copy(extra, &c);
                if (r < 0)
                        return r;
        }
        c.cpu_milli = cpu_milli != UINT64_MAX ? cpu_milli : measured->cpu_milli;
        c.memory = memory != UINT64_MAX ? memory : measured->memory;
        c.cpu_milli -= MIN(c.cpu_milli, reserve_cpu_milli);
        c.memory -= MIN(c.memory, reserve_memory);
        *ret = c;
        return 0;
}
