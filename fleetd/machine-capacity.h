/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What this machine offers to units that reserve resources: CPUs and memory measured from the
 * machine, the configured overrides and the share kept for the system itself, plus the named
 * resources the configuration declares (gpu=2). Published in the machine's registration. */

#include "resources.h"

/* Measure CPUs (thousandths) and memory (bytes). The kernel's view first, from proc_root
 * ("/proc"): the "cpuN" lines of stat and MemTotal in meminfo. Then the cgroup v2 limits under
 * cgroup_root ("/sys/fs/cgroup"): cpu.max ("QUOTA PERIOD" or "max PERIOD") and memory.max ("max"
 * or bytes) of the mount's root (inside a container with its own cgroup namespace: the
 * container's limits) and of system.slice (where units run), each lowering the figure where it is
 * set. Files that are missing leave the figure alone. Returns 0, -ENOMEM, or a negative errno
 * when /proc cannot be read at all. */
int machine_capacity_measure(const char *proc_root, const char *cgroup_root, Resources *ret);

/* The capacity to publish: cpu_milli/memory override what was measured unless UINT64_MAX
 * ("measure"); then reserve_cpu_milli/reserve_memory are taken away (down to 0); extra is copied
 * in. Returns 0 or -ENOMEM; *ret is the caller's (resources_done()). */
int machine_capacity_compute(const Resources *measured, uint64_t cpu_milli, uint64_t memory,
                             uint64_t reserve_cpu_milli, uint64_t reserve_memory, const Resources *extra,
                             Resources *ret);
