/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cluster's DNS naming, shared by unitgen (what a container's resolver is told) and fleetd
 * (what each machine's DNS answers): the domain, the machine DNS address, the scope of a compose
 * network. The container network itself is CLUSTER_NETWORK_NAME (unit-network.h). Pure: no unit
 * model, no registry (unitgen has its own RenderedUnit). See service-names.h. */

#include "macro.h"

/* The unit section that carries a container's naming facts (service-names.h reads it). */
#define CLUSTER_DNS_SECTION "X-Fleet-Network"
/* The cluster's DNS domain, unless fleet.conf says otherwise. */
#define CLUSTER_DNS_DEFAULT_DOMAIN "fleet"
/* Where each machine's DNS answers containers: the same link-local address on every machine (on its
 * loopback device), so one generated unit can name it wherever it lands. */
#define CLUSTER_DNS_DEFAULT_ADDRESS "169.254.53.53"

/* The DNS label of a network scope: the network's name lowercased, anything but [a-z0-9-]
 * becoming '-' ("visits_default" → "visits-default"). Returns a malloc'd string, or NULL on OOM. */
char *cluster_dns_scope(const char *network);

/* The search domains of a container on networks (each network's scope under domain), as a new
 * strv. Returns 0 or -ENOMEM. */
int cluster_dns_search_domains(char *const *networks, const char *domain, char ***ret);

/* Whether s can be a DNS name part here: 1..253 of [A-Za-z0-9._-]. */
bool cluster_dns_word_is_valid(const char *s) _pure_;
