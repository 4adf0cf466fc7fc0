/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Which units need the cluster network: a fact derived from the unit itself, one definition for
 * fleetd (which holds such units back until the machine's network is up) and unitgen (which
 * writes them). A unit needs it when one of its [Service] commands attaches a container to the
 * cluster network CLUSTER_NETWORK_NAME ("podman run --network fleet", "--network=fleet",
 * "--net fleet", also with podman's ":options" or docker's ",options" after the name). */

#include <stdbool.h>

#include "macro.h"
#include "unit-file.h"

/* The container network every machine has over its subnet: the CNI network fleetd writes for
 * podman, or the docker network of the same name (docs/network.md). */
#define CLUSTER_NETWORK_NAME "fleet"

/* Whether the command line cmd (an Exec*= value) attaches a container to the cluster network. */
bool unit_command_uses_cluster_network(const char *cmd) _pure_;
/* Whether any ExecStartPre=, ExecStart= or ExecStartPost= of u's [Service] does. */
bool unit_file_needs_cluster_network(const UnitFile *u) _pure_;
