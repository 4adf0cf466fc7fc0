/* SPDX-License-Identifier: Apache-2.0 */

#include "tap.h"
#include "unit-network.h"

static void test_commands(void) {
        static const char *const yes[] = {
                "/usr/bin/podman run --rm --network fleet --name web img",
                "/usr/bin/podman run --network=fleet img",
                "/usr/bin/docker run --net fleet img",
                "/usr/bin/docker run --net=fleet img",
                "/usr/bin/podman run --network fleet:ip=10.42.1.5 img",
                "/usr/bin/docker run --network=fleet,alias=db img",
                "podman run\t--network  fleet img",
        };
        static const char *const no[] = {
                "/usr/bin/podman run --network host img",
                "/usr/bin/podman run --network=fleet2 img",
                "/usr/bin/podman run --network fleetx img",
                "/usr/bin/podman run --network",
                "/usr/bin/podman run --networks fleet img",
                "/usr/bin/podman run img fleet",
                "/usr/bin/podman run --network=app_fleet img",
                "",
        };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ok(unit_command_uses_cluster_network(yes[i]), "cluster network: %s", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ok(!unit_command_uses_cluster_network(no[i]), "not the cluster network: '%s'", no[i]);
        ok(!unit_command_uses_cluster_network(NULL), "NULL command");
}

static void test_units(void) {
        static const char with[] = "[Unit]\nDescription=--network fleet in a description\n\n"
                                   "[Service]\nExecStartPre=-/usr/bin/podman rm -f web\n"
                                   "ExecStart=/usr/bin/podman run --network=fleet web\n";
        static const char only_desc[] = "[Unit]\nDescription=--network fleet\n\n[Service]\nExecStart=/bin/true\n";
        static const char stop[] = "[Service]\nExecStart=/bin/true\nExecStop=/usr/bin/podman run --network fleet x\n";
        _cleanup_(unit_file_freep) UnitFile *a = NULL, *b = NULL, *c = NULL;

        assert_se(unit_file_parse(with, strlen(with), &a, NULL) == 0);
        assert_se(unit_file_parse(only_desc, strlen(only_desc), &b, NULL) == 0);
        assert_se(unit_file_parse(stop, strlen(stop), &c, NULL) == 0);
        ok(unit_file_needs_cluster_network(a), "a unit whose ExecStart joins the cluster network needs it");
        ok(!unit_file_needs_cluster_network(b), "words elsewhere in the unit do not count");
        ok(!unit_file_needs_cluster_network(c), "nor ExecStop=");
}

int main(void) {
        test_commands();
        test_units();
        return done_testing();
}
