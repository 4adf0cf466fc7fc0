/* SPDX-License-Identifier: Apache-2.0 */

#include "service-names.h"
#include "strv.h"
#include "tap.h"

static int parse(const char *text, const char *name, ServiceNamesSpec **ret, char **error) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;

        assert_se(unit_file_parse(text, strlen(text), &u, NULL) == 0);
        return service_names_spec_parse(u, name, ret, error);
}

static void test_spec(void) {
        _cleanup_(service_names_spec_freep) ServiceNamesSpec *s = NULL, *none = NULL;
        _cleanup_free_ char *error = NULL;

        is_int(parse("[Service]\nExecStart=/bin/true\n", "a.service", &none, NULL), 0, "no section: no spec");
        ok(!none, "no section: NULL");

        is_int(parse("[X-Fleet-Network]\nProject=visits\nService=web\nContainer=visits-web-%i\n"
                     "Networks=visits_front visits_back\nNetworks=visits_front\nAliases=www site\nHostname=h1\n",
                     "visits-web@2.service", &s, NULL), 0, "a full section parses");
        is_str(s->container, "visits-web-2", "specifiers expanded for the instance");
        is_str(s->runtime, "podman", "podman by default");
        ok(strv_equal(s->networks, STRV_MAKE("visits_back", "visits_front")), "networks split, sorted, once each");
        ok(strv_equal(s->aliases, STRV_MAKE("site", "www")), "aliases");
        ok(!s->healthcheck, "no healthcheck");
        s = service_names_spec_free(s);

        is_int(parse("[X-Fleet-Network]\nService=web\n", "a.service", &s, &error), -EINVAL, "Project is required");
        ok(error && strstr(error, "Project"), "the message names the key: %s", strna(error));
        error = mfree(error);
        is_int(parse("[X-Fleet-Network]\nProject=p\nService=web\nAliases=ok b@d\n", "a.service", &s, &error),
               -EINVAL, "an alias that is no DNS name");
        ok(error && strstr(error, "Aliases=b@d"), "the message names key and value: %s", strna(error));
        error = mfree(error);
        is_int(parse("[X-Fleet-Network]\nProject=p\nService=web\nRuntime=lxc\n", "a.service", &s, &error),
               -EINVAL, "an unknown runtime");
        error = mfree(error);
        is_int(parse("[X-Fleet-Network]\nProject=p\nService=web\nContainer=--privileged\n", "a.service", &s, &error),
               -EINVAL, "a container name that looks like an option");
        error = mfree(error);
        is_int(parse("[X-Fleet-Network]\nProject=p\nService=web\nHealthcheck=maybe\n", "a.service", &s, &error),
               -EINVAL, "a healthcheck that is no boolean");
}

static void test_publishable(void) {
        ServiceNamesSpec plain = { .project = (char *) "p" }, checked = { .healthcheck = true };

        ok(service_names_spec_publishable(&plain, "active", NULL), "active is published");
        ok(!service_names_spec_publishable(&plain, "activating", NULL), "activating is not (nothing answers yet)");
        ok(!service_names_spec_publishable(&plain, "deactivating", NULL), "deactivating is not");
        ok(!service_names_spec_publishable(NULL, "active", NULL), "no spec, no name");
        ok(service_names_spec_publishable(&checked, "active", NULL), "health unknown: the state decides");
        ok(!service_names_spec_publishable(&checked, "active", "unhealthy"), "unhealthy is not published");
        ok(service_names_spec_publishable(&checked, "active", "healthy"), "healthy is");
}

static void test_names(void) {
        RegistryName n = {
                .unit = (char *) "visits-web@2.service", .machine_id = (char *) "m1",
                .project = (char *) "visits", .service = (char *) "web", .replica = (char *) "2",
                .address = (char *) "10.42.1.5",
                .networks = STRV_MAKE("visits_default", "Other.Net"),
                .aliases = STRV_MAKE("www"), .hostname = (char *) "h1",
        };
        _cleanup_strv_free_ char **l = NULL, **search = NULL;
        _cleanup_free_ char *scope = cluster_dns_scope("My_Net.x");

        is_str(scope, "my-net-x", "a scope label is lowercase [a-z0-9-]");
        is_int(service_names_of(&n, "fleet", &l), 0, "names");
        ok(strv_equal(l, STRV_MAKE("h1.other-net.fleet", "h1.visits-default.fleet",
                                   "web-2.other-net.fleet", "web-2.visits-default.fleet", "web-2.visits.fleet",
                                   "web.other-net.fleet", "web.visits-default.fleet", "web.visits.fleet",
                                   "www.other-net.fleet", "www.visits-default.fleet")),
           "full names, per-replica names, scoped names, aliases and hostname");
        is_int(cluster_dns_search_domains(STRV_MAKE("visits_default"), "fleet", &search), 0, "search domains");
        ok(strv_equal(search, STRV_MAKE("visits-default.fleet")), "one scope domain per network");
}

static void test_record(void) {
        RegistryName n = {
                .unit = (char *) "visits-redis.service", .machine_id = (char *) "abc",
                .project = (char *) "visits", .service = (char *) "redis",
                .address = (char *) "10.42.3.2", .networks = STRV_MAKE("visits_default"),
                .aliases = STRV_MAKE("cache", "cache", "a"),
        };
        _cleanup_(registry_name_freep) RegistryName *back = NULL, *bad = NULL;
        _cleanup_free_ char *json = NULL, *key = registry_name_key("/p/", "visits-redis.service", "abc"), *a = NULL,
                *b = NULL;
        const char *wrong = "{\"unit\":\"u.service\",\"machine_id\":\"m\",\"project\":\"p\",\"service\":\"s\","
                "\"address\":\"10.1.2\",\"networks\":[],\"aliases\":[]}";

        is_int(registry_name_to_json(&n, &json), 0, "a name record encodes");
        is_int(registry_name_from_json(json, strlen(json), &back), 0, "and decodes: %s", json);
        is_str(back->address, "10.42.3.2", "address");
        ok(strv_equal(back->aliases, STRV_MAKE("a", "cache")), "aliases sorted and once each");
        ok(!back->replica && !back->hostname, "optional fields stay absent");
        is_int(registry_name_from_json(wrong, strlen(wrong), &bad), -EBADMSG, "a malformed address is refused");
        n.address = (char *) "fe80::1";
        json = mfree(json);
        is_int(registry_name_to_json(&n, &json), -EINVAL, "an IPv6 address is not a cluster address");

        is_str(key, "/p/names/visits-redis.service/abc", "the key");
        is_int(registry_parse_key("/p/", key, &a, &b), REGISTRY_KEY_NAME, "the key parses as a name");
        ok(streq_ptr(a, "visits-redis.service") && streq_ptr(b, "abc"), "unit and machine");
}

int main(void) {
        test_spec();
        test_publishable();
        test_names();
        test_record();
        return done_testing();
}
