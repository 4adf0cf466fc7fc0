/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/* A unit's container address, read from the kernel instead of asked of the runtime: "podman
 * inspect" is a process start of hundreds of milliseconds on a busy machine, and it stood between
 * a unit turning active and its name being published (bench/network/bench-names.sh). podman with
 * --cgroups=split runs the container inside the unit's cgroup, so the unit's processes include the
 * container's, in a network namespace of its own, whose local addresses /proc/PID/net/fib_trie
 * lists. Whatever this cannot decide (no such process, several namespaces, docker's containers,
 * which live in the daemon's cgroup) is left to the runtime's inspect. */

/* The first local IPv4 address ("/32 host LOCAL") outside 127.0.0.0/8 in the text of a
 * /proc/PID/net/fib_trie. Returns 0 with a malloc'd dotted quad, -ENOENT if there is none,
 * -ENOMEM. */
int container_address_parse_fib_trie(const char *text, char **ret);

/* The address of the one container under the cgroup directory dir (absolute, in /sys/fs/cgroup):
 * the processes of dir and its children (4 levels deep at most) that are in another network
 * namespace than the caller, all in one namespace, with an address there. Returns 0 with a
 * malloc'd address, and in *ret_pid (unless NULL) one of those processes (the namespace's, for
 * container_announce()); -ENOENT if no process is in another namespace or it has no address yet,
 * -ENOTUNIQ if processes are in several, another negative errno if dir cannot be read. */
int container_address_of_cgroup(const char *dir, char **ret, pid_t *ret_pid);

/* The cgroup directory of a unit of the system manager that runs the caller, assuming the unit sits
 * in the caller's slice (the default system.slice; a unit with Slice= elsewhere is not found and
 * falls back to the runtime). Returns 0 with a malloc'd path, -ENOENT without a unified (v2) cgroup
 * line in /proc/self/cgroup, -ENOMEM. */
int container_address_unit_cgroup(const char *unit, char **ret);
