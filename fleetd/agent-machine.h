/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Who this machine is: its ID from /etc/machine-id and the address other machines know it by. */

#include "macro.h"

/* Read a machine ID file (systemd's format: 32 hex characters and a newline). Returns 0 and a
 * malloc'd lowercase ID in *ret, -EBADMSG if the content is not a machine ID, or the negative errno
 * of reading the file. */
int machine_id_read(const char *path, char **ret);

/* The IPv4 address of the interface that holds the default route (from /proc/net/route), or, when
 * there is no default route (the local cluster's nodes have none), the first address of an up,
 * non-loopback interface. Returns 0 and a malloc'd dotted quad, -ENXIO if there is no such
 * address, or another negative errno. */
int machine_public_ip_detect(char **ret);
