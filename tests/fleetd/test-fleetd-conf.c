/* SPDX-License-Identifier: Apache-2.0 */

#include <stdlib.h>

#include "fileio.h"
#include "fleetd-conf.h"
#include "strv.h"
#include "tap.h"

static void test_duration(void) {
        static const struct {
                const char *s;
                uint64_t usec;
        } good[] = {
                { "10s", 10000000 }, { "500ms", 500000 }, { "1m", 60000000 }, { "1m30s", 90000000 },
                { "1.5s", 1500000 }, { "1.0", 1000000 }, { "3", 3000000 }, { "2h", 7200000000ULL },
                { "250us", 250 }, { "0.5m", 30000000 },
        };
        static const char *const bad[] = { "", "s", "10x", "-1s", "1m30", "ten", "1 s", "1ss" };
        uint64_t u;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                u = 0;
                is_int(fleetd_parse_duration(good[i].s, &u), 0, "duration '%s' parses", good[i].s);
                is_int((int64_t) u, (int64_t) good[i].usec, "duration '%s' value", good[i].s);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                u = 4242;
                is_int(fleetd_parse_duration(bad[i], &u), -EINVAL, "duration '%s' is rejected", bad[i]);
                is_int((int64_t) u, 4242, "rejected duration '%s' leaves the output alone", bad[i]);
        }
}

static void test_metadata(void) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *bad = NULL, *joined = NULL;

        is_int(fleetd_parse_metadata(" region=us-west , az=b,,hostname=node1 ", &l, NULL), 0,
               "metadata parses");
        joined = strv_join(l, ",");
        is_str(joined, "az=b,hostname=node1,region=us-west", "metadata is trimmed and sorted");
        l = strv_free(l);

        is_int(fleetd_parse_metadata("", &l, NULL), 0, "empty metadata parses");
        is_int((int64_t) strv_length(l), 0, "empty metadata gives no entry");
        ok(l != NULL, "empty metadata is a non-NULL vector");
        l = strv_free(l);

        is_int(fleetd_parse_metadata("a=b,c", &l, &bad), -EINVAL, "entry without '=' is rejected");
        is_str(bad, "c", "the bad entry is named");
        ok(!l, "nothing returned on error");
        bad = mfree(bad);
        is_int(fleetd_parse_metadata("a=b=c", &l, &bad), -EINVAL, "two '=' are rejected");
        is_str(bad, "a=b=c", "the bad entry is named");
        bad = mfree(bad);
        is_int(fleetd_parse_metadata("=v", &l, NULL), -EINVAL, "empty key is rejected");
        is_int(fleetd_parse_metadata("k=", &l, NULL), -EINVAL, "empty value is rejected");
}

/* The list's syntax is etcd_endpoints_parse()'s (test-etcd-config); here: its error names the key. */
static void test_endpoints(void) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;
        _cleanup_free_ char *e = NULL;

        assert_se(fleetd_config_new(&c) == 0);
        is_int(fleetd_config_set(c, "etcd_servers", "http://a:2379,127.0.0.1:4001", &e), -EINVAL,
               "an endpoint without a scheme is rejected");
        ok(e && strstr(e, "etcd_servers") && strstr(e, "'127.0.0.1:4001'"), "naming key and entry: %s", strna(e));
        e = mfree(e);
        is_int(fleetd_config_set(c, "etcd_servers", " , ", &e), -EINVAL, "an empty list is rejected");
        ok(e && strstr(e, "no endpoint given"), "saying so: %s", strna(e));
        is_str(c->etcd_servers[0], "http://127.0.0.1:2379", "a refused value leaves the default");
}

static void test_defaults(void) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;

        is_int(fleetd_config_new(&c), 0, "defaults");
        is_str(c->etcd_servers[0], "http://127.0.0.1:2379", "default endpoint");
        is_str(c->etcd_key_prefix, "/_coreos.com/fleet/", "default key prefix");
        is_str(c->units_directory, "/run/fleet/units/", "default units directory");
        is_str(c->cluster_key, "/etc/fleet/cluster.key", "default cluster key file");
        is_int((int64_t) c->agent_ttl_usec, 10000000, "default agent_ttl is 10s");
        ok(c->fence_on_lease_loss, "fencing is on by default");
        is_int((int64_t) c->name_drain_usec, 2000000, "default name_drain is 2s");
        ok(!c->disable_engine, "the engine is on by default");
        ok(!c->purge_on_shutdown, "no purge by default");
        ok(!c->public_ip, "public_ip is detected by default");
}

static void test_set(void) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;
        _cleanup_free_ char *err = NULL;

        assert_se(fleetd_config_new(&c) == 0);

        is_int(fleetd_config_set(c, "agent_ttl", "3s", &err), 0, "agent_ttl=3s");
        is_int((int64_t) c->agent_ttl_usec, 3000000, "agent_ttl applied");
        is_int(fleetd_config_set(c, "agent_ttl", "1500ms", &err), -EINVAL, "agent_ttl below 2s rejected");
        is_str(err, "agent_ttl: '1500ms' is below the minimum of 2s", "below-minimum message");
        is_int((int64_t) c->agent_ttl_usec, 3000000, "agent_ttl unchanged by the bad value");

        is_int(fleetd_config_set(c, "etcd_key_prefix", "/fleet_test", &err), 0, "prefix without slash");
        is_str(c->etcd_key_prefix, "/fleet_test/", "prefix gets a trailing slash");
        is_int(fleetd_config_set(c, "units_directory", "relative/dir", &err), -EINVAL,
               "relative dir rejected");

        is_int(fleetd_config_set(c, "disable-engine", "yes", &err), 0, "dashes are accepted");
        ok(c->disable_engine, "disable_engine=yes");
        is_int(fleetd_config_set(c, "fence_on_lease_loss", "maybe", &err), -EINVAL, "bad boolean rejected");
        is_str(err, "fence_on_lease_loss: 'maybe' is not a boolean (true or false)", "bad boolean message");

        is_int(fleetd_config_set(c, "name_drain", "0", &err), 0, "name_drain=0: no wait");
        is_int((int64_t) c->name_drain_usec, 0, "name_drain applied");
        is_int(fleetd_config_set(c, "name_drain", "500ms", &err), 0, "name_drain=500ms");
        is_int((int64_t) c->name_drain_usec, 500000, "name_drain applied");
        is_int(fleetd_config_set(c, "name_drain", "soon", &err), -EINVAL, "bad duration rejected");
        is_str(err, "name_drain: 'soon' is not a duration (e.g. 10s, 500ms, 1m)", "bad duration message");
        is_int(fleetd_config_set(c, "agent_ttl", "0", &err), -EINVAL, "agent_ttl=0 still rejected");

        is_int(fleetd_config_set(c, "public_ip", "10.99.0.11", &err), 0, "IPv4 public_ip");
        is_str(c->public_ip, "10.99.0.11", "public_ip applied");
        is_int(fleetd_config_set(c, "public_ip", "fd00::1", &err), 0, "IPv6 public_ip");
        is_int(fleetd_config_set(c, "public_ip", "10.99.0.300", &err), -EINVAL, "bad IP rejected");
        is_str(c->public_ip, "fd00::1", "public_ip unchanged by the bad value");

        is_int(fleetd_config_set(c, "verbosity", "2", &err), 0, "verbosity=2");
        is_int(c->verbosity, 2, "verbosity applied");
        is_int(fleetd_config_set(c, "verbosity", "-1", &err), -EINVAL, "negative verbosity rejected");

        is_int(fleetd_config_set(c, "engine_reconcile_interval", "2", &err), 1,
               "fleet's old option ignored");
        is_int(fleetd_config_set(c, "no_such_option", "1", &err), -EINVAL, "unknown option rejected");
        is_str(err, "no_such_option: unknown option", "unknown option message");

        is_int(fleetd_config_set(c, "etcd_request_timeout", "1.5", &err), 0, "fleet's float timeout");
        is_int((int64_t) c->etcd_request_timeout_usec, 1500000, "timeout applied");
}

static void test_capacity_options(void) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;

        assert_se(fleetd_config_new(&c) == 0);
        ok(c->capacity_cpu_milli == UINT64_MAX && c->capacity_memory == UINT64_MAX, "capacity measured by default");
        ok(c->reserve_cpu_milli == 0 && c->reserve_memory == 0, "nothing kept back by default");
        is_str(c->scheduler_strategy, "spread", "spread by default");

        {
                _cleanup_free_ char *err = NULL;

                is_int(fleetd_config_set(c, "capacity_cpu", "3.5", &err), 0, "capacity_cpu=3.5");
                is_int(c->capacity_cpu_milli, 3500, "in thousandths");
                is_int(fleetd_config_set(c, "capacity_memory", "6G", &err), 0, "capacity_memory=6G");
                is_int(c->capacity_memory, 6LL << 30, "in bytes");
                is_int(fleetd_config_set(c, "capacity_cpu", "auto", &err), 0, "back to auto");
                ok(c->capacity_cpu_milli == UINT64_MAX, "auto is measure");
                is_int(fleetd_config_set(c, "reserve_cpu", "0.5", &err), 0, "reserve_cpu=0.5");
                is_int(fleetd_config_set(c, "reserve_memory", "512M", &err), 0, "reserve_memory=512M");
                is_int(c->reserve_memory, 512LL << 20, "512 MiB kept back");
                is_int(fleetd_config_set(c, "resources", "gpu=2, fpga=1", &err), 0, "resources=gpu=2, fpga=1");
                ok(c->resources.n_extra == 2 && resources_get_extra(&c->resources, "gpu") == 2, "named counts");
                is_int(fleetd_config_set(c, "scheduler_strategy", "binpack", &err), 0, "binpack");
                is_str(c->scheduler_strategy, "binpack", "strategy set");
        }
        {
                static const char *const bad[][3] = {
                        { "reserve_cpu", "auto", "reserve_cpu: 'auto' is not a number of CPUs like 0.5 or 2" },
                        { "capacity_cpu", "two", "capacity_cpu: 'two' is not a number of CPUs like 0.5 or 2" },
                        { "capacity_memory", "8X", "capacity_memory: '8X' is not a size like 512M or 4G" },
                        { "resources", "gpu=2,fpga", "resources: 'fpga' is not name=N (a name and a whole number)" },
                        { "resources", "g/pu=1", "resources: 'g/pu=1' is not name=N (a name and a whole number)" },
                        { "scheduler_strategy", "random", "scheduler_strategy: 'random' is not spread or binpack" },
                };

                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        _cleanup_free_ char *err = NULL;

                        is_int(fleetd_config_set(c, bad[i][0], bad[i][1], &err), -EINVAL, "%s=%s refused", bad[i][0],
                               bad[i][1]);
                        is_str(err, bad[i][2], "message names key and value");
                }
                ok(resources_get_extra(&c->resources, "gpu") == 2, "a refused value changes nothing");
        }
}

static void test_text(void) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;
        _cleanup_free_ char *err = NULL, *md = NULL;
        const char *text =
                "# fleet.conf\n"
                "; another comment\n"
                "\n"
                "etcd_servers=[\"http://10.99.0.1:12379\",\"http://10.99.0.1:22379\"]\n"
                "  metadata = \"region=us-west,disk=ssd\"  \n"
                "agent_ttl='4s'\n"
                "disable_engine=true\n";

        assert_se(fleetd_config_new(&c) == 0);
        is_int(fleetd_config_load_text(c, text, "fleet.conf", &err), 0, "a fleet.conf parses");
        is_int((int64_t) strv_length(c->etcd_servers), 2, "two servers");
        is_str(c->etcd_servers[1], "http://10.99.0.1:22379", "second server");
        md = strv_join(c->metadata, ",");
        is_str(md, "disk=ssd,region=us-west", "quoted metadata");
        is_int((int64_t) c->agent_ttl_usec, 4000000, "single-quoted ttl");
        ok(c->disable_engine, "disable_engine");

        is_int(fleetd_config_load_text(c, "verbosity=1\n\nagent_ttl=10q\n", "fleet.conf", &err), -EINVAL,
               "a bad value fails");
        is_str(err, "fleet.conf:3: agent_ttl: '10q' is not a duration (e.g. 10s, 500ms, 1m)",
               "the error names file, line, key and problem");
        is_int(fleetd_config_load_text(c, "just words\n", "x.conf", &err), -EINVAL, "a line without '='");
        is_str(err, "x.conf:1: just words: expected key=value", "its message");
        is_int(fleetd_config_load_text(c, "metadata=a=b,c\n", "fleet.conf", &err), -EINVAL, "bad metadata");
        is_str(err, "fleet.conf:1: metadata: 'c' is not of the form key=value", "bad metadata message");
}

static void test_layers(void) {
        _cleanup_(fleetd_config_freep) FleetdConfig *c = NULL;
        _cleanup_free_ char *err = NULL, *dir = NULL, *path = NULL, *arg = NULL;
        char tmpl[] = "/tmp/test-fleetd-conf.XXXXXX";
        const char *conf = "agent_ttl=5s\nverbosity=1\nmetadata=a=1\npublic_ip=10.0.0.1\n";

        dir = strdup(mkdtemp(tmpl) ?: "");
        assert_se(!isempty(dir));
        assert_se(asprintf(&path, "%s/fleet.conf", dir) > 0);
        assert_se(write_file_atomic(path, conf, strlen(conf), 0644, false) == 0);
        assert_se(asprintf(&arg, "--config=%s", path) > 0);

        unsetenv("FLEET_AGENT_TTL");
        setenv("FLEET_METADATA", "b=2", 1);
        setenv("FLEET_VERBOSITY", "3", 1);
        {
                char *argv[] = { (char *) "fleetd", arg, (char *) "--verbosity=0",
                                (char *) "--disable_engine",
                                 (char *) "--etcd-servers", (char *) "http://127.0.0.1:1", NULL };

                is_str(fleetd_config_find_path(6, argv), path, "--config is found");
                is_int(fleetd_config_load(&c, 6, argv, &err), 0, "file + env + flags");
                if (!c)
                        bail_out("config did not load: %s", strna(err));
                is_int((int64_t) c->agent_ttl_usec, 5000000, "the file sets agent_ttl");
                is_str(c->metadata[0], "b=2", "the environment overrides the file");
                is_int(c->verbosity, 0, "a flag overrides the environment");
                ok(c->disable_engine, "a bare boolean flag is true");
                is_str(c->etcd_servers[0], "http://127.0.0.1:1", "'--name value' form");
                is_str(c->public_ip, "10.0.0.1", "untouched file value stays");
                c = fleetd_config_free(c);
        }

        setenv("FLEET_AGENT_TTL", "1s", 1);
        {
                char *argv[] = { (char *) "fleetd", arg, NULL };

                is_int(fleetd_config_load(&c, 2, argv, &err), -EINVAL, "a bad environment value fails");
                is_str(err, "$FLEET_AGENT_TTL: agent_ttl: '1s' is below the minimum of 2s",
                       "env error message");
                ok(!c, "no config on error");
        }
        unsetenv("FLEET_AGENT_TTL");
        {
                char *argv[] = { (char *) "fleetd", arg, (char *) "--agent_ttl=zz", NULL };

                is_int(fleetd_config_load(&c, 3, argv, &err), -EINVAL, "a bad flag fails");
                is_str(err, "--agent_ttl: 'zz' is not a duration (e.g. 10s, 500ms, 1m)",
                       "flag error message");
        }
        {
                char *argv[] = { (char *) "fleetd", (char *) "--config=/nonexistent/fleet.conf", NULL };

                is_int(fleetd_config_load(&c, 2, argv, &err), -ENOENT, "an explicit missing file fails");
                is_str(err, "/nonexistent/fleet.conf: No such file or directory", "missing file message");
        }
        {
                char *argv[] = { (char *) "fleetd", (char *) "stray", NULL };

                is_int(fleetd_config_load(&c, 2, argv, &err), -EINVAL, "a stray argument fails");
        }

        unsetenv("FLEET_METADATA");
        unsetenv("FLEET_VERBOSITY");
        (void) unlink(path);
        (void) rmdir(dir);
}

int main(void) {
        test_duration();
        test_metadata();
        test_endpoints();
        test_defaults();
        test_set();
        test_capacity_options();
        test_text();
        test_layers();
        return done_testing();
}
