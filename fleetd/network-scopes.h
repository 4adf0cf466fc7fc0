/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Compose networks as scopes, by packets (docs/network.md, "Scopes"): a container of the cluster
 * network reaches a published container only if both are on one compose network, as with docker.
 * DNS already answers a bare name only inside its scopes; these rules make an address typed by hand
 * fail the same way. Every machine keeps the nftables tables ip and bridge NETWORK_SCOPES_TABLE from
 * the published containers (P names/, fed by the names watch of names-dns.c): one set of addresses
 * per compose network, and a forward chain that accepts a packet between two containers of the
 * range only where saddr and daddr share a set. The ip table sees traffic routed across machines
 * (at both ends), the bridge table traffic between two containers of one machine.
 *
 * What stays open: destinations that are not published containers (the machines themselves,
 * containers without compose networks, containers not active yet), traffic from outside the range
 * (the machines' own addresses <subnet>.0 and .1, published ports through the host), replies being
 * judged by the same symmetric rule. A container is confined from the moment its record reaches a
 * machine: until then it is unknown there, and a client that starts talks to nobody's published
 * containers until its own record has arrived (milliseconds, see bench/README.md). */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "subnet.h"

#define NETWORK_SCOPES_TABLE "fleet_scopes"

typedef struct NetworkScopeMember {
        uint32_t address;
        char *const *networks;          /* compose network names, as published (name words) */
} NetworkScopeMember;

/* The nftables text replacing both tables in one transaction: sets of the members' addresses per
 * network, the forward chains (see above) for a cluster range cut into /subnet_len machine subnets.
 * Members with no networks are left out (nothing confines them). Deterministic: the same members in
 * any order give the same text. Returns a malloc'd text or NULL on OOM. */
char *network_scopes_ruleset(Subnet range, unsigned subnet_len, const NetworkScopeMember *members, size_t n_members);

typedef struct NetworkScopes NetworkScopes;

/* Create the scopes of a cluster range (event borrowed, must outlive it). Nothing is applied until
 * the first change. Returns 0 or -ENOMEM. */
int network_scopes_new(NetworkScopes **ret, sd_event *event, Subnet range, unsigned subnet_len);
/* Forget the tables' members (the kernel keeps its rules as they are). Accepts NULL. */
NetworkScopes *network_scopes_free(NetworkScopes *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetworkScopes *, network_scopes_free);

/* The container published under key is at address (dotted quad) on networks; replaces an earlier
 * one under that key. A failed or unchanged ruleset is not applied again until the next change or
 * retry; changes within one event loop iteration are applied once. Returns 0, -EINVAL for an
 * address that is not IPv4, -ENOMEM. */
int network_scopes_put(NetworkScopes *s, const char *key, const char *address, char *const *networks);
/* The container under key is gone. Returns 0 or -ENOMEM. */
int network_scopes_remove(NetworkScopes *s, const char *key);
/* Every container is gone (before the names are read again from scratch). */
void network_scopes_clear(NetworkScopes *s);
/* The number of times a ruleset was applied (for the tests). */
uint64_t network_scopes_n_applied(const NetworkScopes *s);
