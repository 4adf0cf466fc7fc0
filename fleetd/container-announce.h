/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/* A container's address announced on its network, as it gets its name. CNI's host-local IPAM hands
 * a freed address to a later container, and the bridge plugin gives every container a new random
 * MAC, while the machine (for packets from other machines) and the containers on its bridge keep
 * the former holder's MAC for the address in their neighbour tables, reachable or stale, for tens
 * of seconds: requests to the new container vanish until those entries expire (the rolling-update
 * benchmark lost 30 of 250 requests so). A gratuitous ARP from the container replaces them, as
 * Linux accepts one for an existing entry. docker needs none: it derives the MAC from the address. */

/* Sends one gratuitous ARP (a request for address, from address, broadcast) out of the interface
 * holding address in the network namespace of process pid. The socket is made in that namespace
 * (the calling thread enters it and returns); the caller needs CAP_SYS_ADMIN and CAP_NET_RAW.
 * Returns 0 when sent, -EINVAL if address is no IPv4 address, -ENOENT if no Ethernet interface
 * there holds it, another negative errno (the process gone, no permission). */
int container_announce(pid_t pid, const char *address);
