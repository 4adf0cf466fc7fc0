/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "tap.h"
#include "xfleet-map.h"

static void good(const char *expr, const char *line, const char *key, bool negated) {
        _cleanup_free_ char *l = NULL, *k = NULL, *error = NULL;
        bool n = !negated;

        ok(xfleet_map_constraint(expr, &l, &k, &n, &error) == 0 && streq_ptr(l, line) && streq_ptr(k, key) &&
           n == negated, "\"%s\" → %s", expr, line);
}

static void bad(const char *expr, const char *start) {
        _cleanup_free_ char *l = NULL, *k = NULL, *error = NULL;
        bool n;

        ok(xfleet_map_constraint(expr, &l, &k, &n, &error) == -EINVAL && error && startswith(error, start),
           "\"%s\" is refused", expr);
        if (error && !startswith(error, start))
                diag("got %s", error);
}

static void test_options(void) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_free_ char *error = NULL;

        ok(xfleet_map_options(STRV_MAKE("Global=true", "MachineMetadata=disk=ssd", "Replaces=old.service"),
                              "p-web.service", &x, &error) == 0 && x->global &&
           strv_equal(x->replaces, STRV_MAKE("old.service")), "lines become lib's options");
        ok(xfleet_options_validate(x, "p-web.service", NULL) == -EINVAL, "which lib's validator refuses");
        x = xfleet_options_free(x);
        ok(xfleet_map_options(STRV_MAKE("X-ConditionMachineBootID=abc"), "p-web.service", &x, &error) == 0 &&
           streq_ptr(x->machine_id, "abc"), "lib's deprecated names are known (X-ConditionMachineBootID)");
        x = xfleet_options_free(x);
        ok(xfleet_map_options(STRV_MAKE("MachineMeta=a=b"), "p-web.service", &x, &error) == -EINVAL && error &&
           strstr(error, "MachineMeta"), "an unknown option is refused");
        error = mfree(error);
        ok(xfleet_map_options(STRV_MAKE("Global=maybe"), "p-web.service", &x, &error) == -EINVAL && error &&
           strstr(error, "not a boolean"), "a malformed value is refused");
}

int main(void) {
        good("node.labels.disk==ssd", "MachineMetadata=disk=ssd", "disk", false);
        good("node.labels.disk != ssd", "MachineMetadata=disk!=ssd", "disk", true);
        good("engine.labels.region==eu", "MachineMetadata=region=eu", "region", false);
        good("node.role == manager", "MachineMetadata=role=manager", "role", false);
        good("node.role!=manager", "MachineMetadata=role!=manager", "role", true);
        good("node.hostname==node1", "MachineMetadata=hostname=node1", "hostname", false);
        good("node.id == 2c8a", "MachineID=2c8a", "machine-id", false);
        good("node.platform.os==linux", "MachineMetadata=os=linux", "os", false);
        bad("node.id!=2c8a", "\"node.id!=2c8a\": fleet cannot exclude a machine by ID");
        bad("node.labels.disk=ssd", "\"node.labels.disk=ssd\": a constraint is");
        bad("node.cpu==4", "\"node.cpu==4\": unknown attribute");
        bad("node.labels.disk==two words", "\"node.labels.disk==two words\": the value must be a single word");
        test_options();
        return done_testing();
}
