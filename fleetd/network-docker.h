/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* docker's container network "fleet" on this machine, kept on the machine's subnet through the
 * Docker Engine API (the socket docker's own CLI talks to; podman's "system service" serves the
 * same API): created when missing, removed and created again when its driver, subnet, gateway, IP
 * range or bridge differ, left alone when right; checked again every NETWORK_DOCKER_CHECK_USEC, so
 * a docker started, restarted or fiddled with later is brought back in line. No socket: nothing to
 * do (checked again later). Each check lists docker's networks named "fleet" (there may be several:
 * docker's CheckDuplicate is no lock, and a create given up on and sent again can make a second),
 * keeps the oldest right one and removes the others (network_docker_plan()), so two networks of
 * one name, which make docker answer "ambiguous" to every use of the name, are repaired too. docker and podman share the bridge NETWORK_BRIDGE_NAME and the subnet,
 * so each allocates from its own half: podman's CNI the lower half, docker the upper one
 * (network_docker_range()). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "subnet.h"
#include "time-util.h"

#define NETWORK_DOCKER_DEFAULT_SOCKET "/run/docker.sock"
#define NETWORK_DOCKER_CHECK_USEC (10 * USEC_PER_SEC)
/* docker 20.10 (Debian 12's docker.io) and podman 4.3's compat API both speak 1.41. */
#define NETWORK_DOCKER_API "v1.41"
/* docker's chain for its users' own rules, jumped to first from FORWARD (table ip filter). */
#define NETWORK_DOCKER_USER_CHAIN "DOCKER-USER"

typedef struct NetworkDocker NetworkDocker;

/* A keeper for the docker network behind the socket at path (event must outlive it). Nothing is
 * asked until network_docker_set(). Returns 0 or a negative errno. */
int network_docker_new(NetworkDocker **ret, sd_event *event, const char *path);
/* Stop (a request on the way is cancelled; docker's network stays). Accepts NULL; returns NULL. */
NetworkDocker *network_docker_free(NetworkDocker *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetworkDocker *, network_docker_free);

/* Keep docker's network on subnet (of the cluster's range) with the given MTU from now on, and
 * while it is right, rules in docker's iptables chain NETWORK_DOCKER_USER_CHAIN that accept
 * forwarded traffic to and from range; checks at once. */
void network_docker_set(NetworkDocker *d, Subnet range, Subnet subnet, uint32_t mtu);
/* What the last check found, one line (borrowed): "docker network fleet on ...", "no docker at
 * ...", or what is wrong. */
const char *network_docker_status(const NetworkDocker *d);
/* Whether the last check found the network right. */
bool network_docker_is_ready(const NetworkDocker *d);

/* ---- pieces with no I/O, for the tests ---- */

/* The part of subnet docker allocates from: its upper half. Returns false when subnet is too small
 * to share (longer than /28). */
bool network_docker_range(Subnet subnet, Subnet *ret);
/* The JSON body of POST /networks/create for subnet and mtu. Returns a malloc'd text or NULL. */
char *network_docker_create_body(Subnet subnet, uint32_t mtu);
/* Compare one network as docker gives it (GET /networks/fleet, or one of GET /networks) with what
 * subnet and mtu want. Returns 1 when it matches, 0 when not (a malloc'd "has X, wants Y" in
 * *ret_why), -EBADMSG when the answer is not a network, -ENOMEM. Fields docker does not report
 * (podman's compat API leaves out the IP range and the bridge name) are not held against it. */
int network_docker_check(const char *json, size_t size, Subnet subnet, uint32_t mtu, char **ret_why);

/* What to do with docker's networks named "fleet" (network_docker_plan()). */
typedef struct NetworkDockerPlan {
        char *keep;             /* the id of the network kept; NULL: none is right, create one */
        char **remove;          /* the ids of the others, oldest first (a strv; NULL: none) */
        char **why;             /* for each of remove, why: "has subnet X (wants Y)" or "is a second ..." */
} NetworkDockerPlan;
/* Free what p holds (p itself is the caller's). */
void network_docker_plan_done(NetworkDockerPlan *p);
/* Decide from docker's answer to GET /networks (a JSON array, as the name filter leaves it: networks
 * whose name merely contains "fleet" are ignored) which network named "fleet" stays: the oldest
 * (by "Created"; one without a readable time counts as the newest) of those network_docker_check()
 * finds right. Every other one is to be removed: those that are wrong, and the right ones that
 * double the kept one. Returns 0 with *ret filled (the caller frees it with
 * network_docker_plan_done()), -EBADMSG when the answer is not a list of networks or an id is not
 * alphanumeric, -ENOMEM. */
int network_docker_plan(const char *json, size_t size, Subnet subnet, uint32_t mtu, NetworkDockerPlan *ret);
/* Parse docker's "Created" (Go's RFC 3339 with nanoseconds, any zone) into microseconds since the
 * epoch. Returns 0, or -EINVAL for anything else, Go's zero time included. */
int network_docker_created_parse(const char *s, usec_t *ret);
/* Given nft's JSON listing of chain ip filter NETWORK_DOCKER_USER_CHAIN, the nft commands that
 * insert what is missing of fleetd's two rules (accept forwarded traffic to range, and from it;
 * each known by its comment) in *ret, or NULL when both are there. Returns 0, -EBADMSG when json is
 * not nft's listing, -ENOMEM. */
int network_docker_forward_rules(Subnet range, const char *json, size_t size, char **ret);
