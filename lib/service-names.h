/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Service names on the cluster network: what a unit says about the container it runs (its
 * [X-Fleet-Network] section, written by unitgen, read by the agent) and the DNS names a published
 * container answers to (read by every machine's DNS feeder). One definition for both sides.
 *
 * The section, all keys but Project and Service optional, specifiers (%i ...) allowed:
 *
 *   [X-Fleet-Network]
 *   Project=visits                 compose project
 *   Service=redis                  compose service
 *   Container=visits-redis         the container's name, to read its address from the runtime
 *   Runtime=podman                 podman (default) or docker: whose "inspect" tells the address
 *   Networks=visits_default        the compose networks it is on (runtime names), space-separated
 *   Aliases=cache db               network aliases and links aliases, space-separated
 *   Hostname=cache1                compose "hostname"
 *   Healthcheck=yes                publish only while healthy (see service_names_spec.healthcheck)
 *
 * The names, under the cluster's domain D (default "fleet"), for a container of service S in project
 * P, replica R (the unit's instance, if any), on networks N1..Nk (each a scope):
 *
 *   S.P.D, S-R.P.D                                   the full names, from anywhere
 *   S.L.D, S-R.L.D, A.L.D, H.L.D for each network    scoped names, L = cluster_dns_scope(Ni)
 *
 * A container's resolver searches its own networks' scope domains (L.D), so a bare "redis" resolves
 * only where redis shares a network: docker's rule. Several containers with one name answer
 * round-robin. */

#include "cluster-dns.h"
#include "macro.h"
#include "registry.h"
#include "unit-file.h"

typedef struct ServiceNamesSpec {
        char *project;
        char *service;
        char *container;                /* NULL: no address can be read, nothing is published */
        char *runtime;                  /* "podman" or "docker" */
        char **networks;
        char **aliases;
        char *hostname;
        /* The service has a healthcheck: its names may be published only while it is healthy
         * (the agent reads the health where the unit says how: [X-Fleet] Healthcheck=). */
        bool healthcheck;
} ServiceNamesSpec;

/* Parse u's [X-Fleet-Network] section for the unit called unit_name (specifiers expanded for it).
 * Returns 0 with *ret = NULL if there is no such section; 0 with a new spec; -EINVAL for a missing
 * Project or Service, a value that is no DNS name part, an unknown Runtime or a bad Healthcheck, with
 * a malloc'd message naming the key in *error_message (if non-NULL); -ENOMEM. Unknown keys are
 * ignored (a newer unitgen may add some). */
int service_names_spec_parse(const UnitFile *u, const char *unit_name, ServiceNamesSpec **ret,
                             char **error_message);
ServiceNamesSpec *service_names_spec_free(ServiceNamesSpec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ServiceNamesSpec *, service_names_spec_free);

/* Whether a container of spec in the given systemd ActiveState (and health, unknown = NULL) may be
 * published: the unit is "active" (not "activating": a starting container answers nothing yet)
 * and, where the service has a healthcheck, healthy once health is known. */
bool service_names_spec_publishable(const ServiceNamesSpec *s, const char *active_state, const char *health);


/* Every name record n answers to under domain (see above), as a new strv of fully-qualified names
 * without the trailing dot, deduplicated. Returns 0 or -ENOMEM. */
int service_names_of(const RegistryName *n, const char *domain, char ***ret);
