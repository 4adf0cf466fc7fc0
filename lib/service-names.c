/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "service-names.h"
#include "strv.h"
#include "unit-name.h"

ServiceNamesSpec *service_names_spec_free(ServiceNamesSpec *s) {
        if (!s)
                return NULL;
        free(s->project);
        free(s->service);
        free(s->container);
        free(s->runtime);
        strv_free(s->networks);
        strv_free(s->aliases);
        free(s->hostname);
        return mfree(s);
}

static int fail(char **error_message, const char *key, const char *value, const char *why) {
        if (error_message &&
            asprintf(error_message, "[" CLUSTER_DNS_SECTION "] %s=%s: %s", key, strempty(value), why) < 0)
                return -ENOMEM;
        return -EINVAL;
}

/* The last value of key, specifiers expanded for unit_name (if given); NULL if unset. */
static int get_value(const UnitFile *u, const char *unit_name, const char *key, char **ret) {
        const char *v = unit_file_get_last(u, CLUSTER_DNS_SECTION, key);

        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (unit_name)
                return unit_name_specifier_expand(v, unit_name, ret);
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int get_words(const UnitFile *u, const char *unit_name, const char *key, char ***ret, char **error_message) {
        _cleanup_strv_free_ char **all = NULL, **words = NULL;
        int r;

        r = unit_file_get_all(u, CLUSTER_DNS_SECTION, key, &all);
        if (r < 0)
                return r;
        STRV_FOREACH(v, all) {
                _cleanup_free_ char *x = NULL;
                _cleanup_strv_free_ char **split = NULL;

                if (unit_name) {
                        r = unit_name_specifier_expand(*v, unit_name, &x);
                        if (r < 0)
                                return r;
                }
                split = strv_split(x ?: *v, WHITESPACE);
                if (!split)
                        return -ENOMEM;
                STRV_FOREACH(w, split)
                        if (!cluster_dns_word_is_valid(*w))
                                return fail(error_message, key, *w, "not a DNS name part ([A-Za-z0-9._-])");
                r = strv_extend_strv(&words, split);
                if (r < 0)
                        return r;
        }
        *ret = strv_uniq(strv_sort(TAKE_PTR(words)));
        return 0;
}

int service_names_spec_parse(const UnitFile *u, const char *unit_name, ServiceNamesSpec **ret,
                             char **error_message) {
        _cleanup_(service_names_spec_freep) ServiceNamesSpec *s = NULL;
        _cleanup_free_ char *health = NULL;
        int r;

        assert(u);
        assert(ret);

        if (!unit_file_has_section(u, CLUSTER_DNS_SECTION)) {
                *ret = NULL;
                return 0;
        }
        s = new0(ServiceNamesSpec, 1);
        if (!s)
                return -ENOMEM;
        if ((r = get_value(u, unit_name, "Project", &s->project)) < 0 ||
            (r = get_value(u, unit_name, "Service", &s->service)) < 0 ||
            (r = get_value(u, unit_name, "Container", &s->container)) < 0 ||
            (r = get_value(u, unit_name, "Runtime", &s->runtime)) < 0 ||
            (r = get_value(u, unit_name, "Hostname", &s->hostname)) < 0 ||
            (r = get_value(u, unit_name, "Healthcheck", &health)) < 0)
                return r;

        if (!cluster_dns_word_is_valid(s->project))
                return fail(error_message, "Project", s->project, "missing or not a DNS name part");
        if (!cluster_dns_word_is_valid(s->service))
                return fail(error_message, "Service", s->service, "missing or not a DNS name part");
        if (s->hostname && !cluster_dns_word_is_valid(s->hostname))
                return fail(error_message, "Hostname", s->hostname, "not a DNS name part");
        /* A container name goes onto a command line as one argument: no spaces or option look. */
        if (s->container && (isempty(s->container) || s->container[0] == '-' ||
                             strpbrk(s->container, WHITESPACE "/")))
                return fail(error_message, "Container", s->container, "not a container name");
        if (!s->runtime) {
                s->runtime = strdup("podman");
                if (!s->runtime)
                        return -ENOMEM;
        } else if (!strv_contains(STRV_MAKE("podman", "docker"), s->runtime))
                return fail(error_message, "Runtime", s->runtime, "must be podman or docker");
        if (health) {
                if (streq(health, "yes") || streq(health, "true") || streq(health, "1"))
                        s->healthcheck = true;
                else if (!(streq(health, "no") || streq(health, "false") || streq(health, "0")))
                        return fail(error_message, "Healthcheck", health, "must be a boolean");
        }

        r = get_words(u, unit_name, "Networks", &s->networks, error_message);
        if (r < 0)
                return r;
        r = get_words(u, unit_name, "Aliases", &s->aliases, error_message);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

bool service_names_spec_publishable(const ServiceNamesSpec *s, const char *active_state, const char *health) {
        if (!s || !streq_ptr(active_state, "active"))
                return false;
        /* No health read (health == NULL: a unit without [X-Fleet] Healthcheck=): the unit's state
         * decides. Else a service with a healthcheck is published only while "healthy". */
        return !s->healthcheck || !health || streq(health, "healthy");
}

static int add_name(char ***l, const char *head, const char *replica, const char *middle, const char *domain) {
        if (replica)
                return strv_extendf(l, "%s-%s.%s.%s", head, replica, middle, domain);
        return strv_extendf(l, "%s.%s.%s", head, middle, domain);
}

int service_names_of(const RegistryName *n, const char *domain, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        assert(n);
        assert(domain);
        assert(ret);

        if ((r = add_name(&l, n->service, NULL, n->project, domain)) < 0 ||
            (n->replica && (r = add_name(&l, n->service, n->replica, n->project, domain)) < 0))
                return r;
        STRV_FOREACH(net, n->networks) {
                _cleanup_free_ char *scope = cluster_dns_scope(*net);

                if (!scope)
                        return -ENOMEM;
                if ((r = add_name(&l, n->service, NULL, scope, domain)) < 0 ||
                    (n->replica && (r = add_name(&l, n->service, n->replica, scope, domain)) < 0) ||
                    (n->hostname && (r = add_name(&l, n->hostname, NULL, scope, domain)) < 0))
                        return r;
                STRV_FOREACH(a, n->aliases)
                        if ((r = add_name(&l, *a, NULL, scope, domain)) < 0)
                                return r;
        }
        *ret = strv_uniq(strv_sort(TAKE_PTR(l)));
        return 0;
}
