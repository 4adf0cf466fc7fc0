/* SPDX-License-Identifier: Apache-2.0 */

/* fleetctl secret|config against a real etcd (issue 15): what the verbs write, read back raw from
 * etcd (a secret's value is not there in clear, nor in base64, and opens with the cluster key),
 * what they print (inspect never a secret's value), and how they fail: a missing file, an
 * oversized value, a name with '/', a key file others can read, an object in use by a unit; each a
 * clear error and nothing written. argv[1] is the fleetctl binary. */

#include <errno.h>
#include <sodium.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#include "cluster-key.h"
#include "cluster-object.h"
#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "fileio.h"
#include "fleetctl-run.h"
#include "strv.h"
#include "tap.h"

static const char *fleetctl;
static const char *unitgen;
static char dir[] = "/tmp/test-fleetctl-objects-XXXXXX";
static char prefix[64];
static char keyfile[300];
static char *endpoint;
static EtcdClient *client;
static sd_event *event;

static const char password[] = "s3cr3t-Pa55word-for-the-db";

static Run run_env(const char *key, char *const *args) {
        _cleanup_strv_free_ char **env = NULL;
        Run r;

        if (strv_extendf(&env, "FLEETCTL_ENDPOINT=%s", endpoint) < 0 ||
            strv_extendf(&env, "FLEETCTL_ETCD_KEY_PREFIX=%s", prefix) < 0 ||
            strv_extendf(&env, "FLEETCTL_CLUSTER_KEY=%s", key) < 0 ||
            strv_extend(&env, "FLEETCTL_REQUEST_TIMEOUT=5") < 0 ||
            (unitgen && strv_extendf(&env, "FLEETCTL_UNITGEN=%s", unitgen) < 0) ||
            strv_extend(&env, "APP_TOKEN=tok-from-the-environment") < 0)
                bail_out("out of memory");
        r = fleetctl_collect(fleetctl_spawn(fleetctl, dir, env, args), dir);
        if (r.status != 0 && r.err[0])
                diag("fleetctl %s %s: %s", args[0], args[1] ?: "", line1(r.err));
        return r;
}

static Run run(char *const *args) {
        return run_env(keyfile, args);
}

static void write_in_dir(const char *name, const void *data, size_t size, mode_t mode) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_se(write_file_atomic(path, data, size, mode, false) == 0);
}

/* The raw value under P <kind>s/<name>, or NULL. */
static char *raw(const char *kind, const char *name, int64_t *ret_mod) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        char k[256];

        snprintf(k, sizeof(k), "%s%ss/%s", prefix, kind, name);
        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = k }, &resp) >= 0);
        if (resp->n_kvs == 0)
                return NULL;
        if (ret_mod)
                *ret_mod = resp->kvs[0].mod_revision;
        return strdup(resp->kvs[0].value);
}

static int64_t count(const char *sub) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        char k[256];

        snprintf(k, sizeof(k), "%s%s", prefix, sub);
        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = k, .flags = ETCD_PREFIX | ETCD_COUNT_ONLY },
                                  &resp) >= 0);
        return resp->count;
}

static void test_secret(void) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *r = NULL, *b64 = NULL, *value = NULL, *msg = NULL;
        _cleanup_(run_done) Run c = {}, l = {}, i = {}, again = {};
        int64_t mod = 0, mod2 = 0;
        size_t n = 0;

        write_in_dir("pw.txt", password, strlen(password), 0600);
        c = run(STRV_MAKE("secret", "create", "db_password", "pw.txt"));
        is_int(c.status, 0, "secret create from a file");
        is_str(c.out, "db_password\n", "... prints the name, as docker");

        r = raw("secret", "db_password", &mod);
        ok(r, "the record is under P secrets/db_password");
        b64 = cluster_object_encode(password, strlen(password));
        ok(r && !strstr(r, password) && !strstr(r, b64), "the raw etcd value holds neither the password nor its base64");
        ok(r && !strstr(r, "s3cr3t"), "... nor a part of it");
        assert_se(cluster_object_from_json(CLUSTER_OBJECT_SECRET, r, strlen(r), &o) == 0);
        is_str(o->key_id, "k1", "sealed with the key file's first key");
        is_int(o->size, strlen(password), "size recorded");
        assert_se(cluster_keyring_load(keyfile, &k, &msg) == 0);
        is_int(cluster_key_open(k, "secret", "db_password", o->key_id, o->nonce, o->data, &value, &n, &msg), 0,
               "the record opens with the cluster key");
        is_str(value, password, "... to the value");

        l = run(STRV_MAKE("secret", "ls"));
        is_int(l.status, 0, "secret ls");
        ok(strstr(l.out, "NAME") && strstr(l.out, "db_password") && strstr(l.out, "26"), "lists name and size: %s",
           line1(strstr(l.out, "db_") ?: ""));
        i = run(STRV_MAKE("secret", "inspect", "db_password"));
        is_int(i.status, 0, "secret inspect");
        ok(strstr(i.out, "\"Name\": \"db_password\"") && strstr(i.out, "\"KeyID\": \"k1\""), "inspect shows name and key id");
        ok(!strstr(i.out, "s3cr3t") && !strstr(i.out, o->data) && !strstr(i.out, "Data"),
           "inspect shows neither the value nor the sealed data");

        again = run(STRV_MAKE("secret", "create", "db_password", "pw.txt"));
        ok(again.status != 0 && strstr(again.err, "Secret db_password already exists"), "creating it again fails: %s",
           line1(again.err));
        free(raw("secret", "db_password", &mod2));
        ok(mod == mod2, "... and leaves the record alone");

        /* docker's "-": the value from stdin. */
        char cmd[1024];
        snprintf(cmd, sizeof(cmd),
                 "printf 'from-stdin' | FLEETCTL_ENDPOINT=%s FLEETCTL_ETCD_KEY_PREFIX=%s FLEETCTL_CLUSTER_KEY=%s "
                 "%s secret create piped - >/dev/null",
                 endpoint, prefix, keyfile, fleetctl);
        is_int(system(cmd), 0, "secret create NAME - reads stdin");
        _cleanup_(cluster_object_freep) ClusterObject *p = NULL;
        _cleanup_free_ char *pr = raw("secret", "piped", NULL), *pv = NULL;
        ok(pr && cluster_object_from_json(CLUSTER_OBJECT_SECRET, pr, strlen(pr), &p) == 0 &&
           cluster_key_open(k, "secret", "piped", p->key_id, p->nonce, p->data, &pv, &n, NULL) == 0 &&
           streq(pv, "from-stdin"), "... and stores it");
}

static void test_bad_input(void) {
        int64_t before = count("secrets/") + count("configs/");
        char big[CLUSTER_OBJECT_SIZE_MAX + 1];
        char badkey[300];

        memset(big, 'x', sizeof(big));
        write_in_dir("big", big, sizeof(big), 0600);
        write_in_dir("limit", big, sizeof(big) - 1, 0600);
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "create", "big", "big"));
                ok(r.status != 0 && strstr(r.err, "big: Secret big is 512001 bytes, more than the limit of 512000 bytes"),
                   "an oversized secret is refused: %s", line1(r.err));
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("config", "create", "big", "big"));
                ok(r.status != 0 && strstr(r.err, "big: Config big is 512001 bytes, more than the limit"), "an oversized config too");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "create", "a/b", "pw.txt"));
                ok(r.status != 0 && strstr(r.err, "Invalid secret name \"a/b\": it must not contain '/'"),
                   "a name with '/' is refused: %s", line1(r.err));
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "create", "missing", "no-such-file"));
                ok(r.status != 0 && strstr(r.err, "Secret missing: cannot read no-such-file"),
                   "a missing file is named: %s", line1(r.err));
        }
        {
                _cleanup_(run_done) Run r = run_env("/nonexistent/cluster.key", STRV_MAKE("secret", "create", "nokey", "pw.txt"));
                ok(r.status != 0 && strstr(r.err, "/nonexistent/cluster.key") && strstr(r.err, "--cluster-key"),
                   "without the cluster key a secret cannot be created: %s", line1(r.err));
        }
        snprintf(badkey, sizeof(badkey), "%s/open.key", dir);
        {
                _cleanup_free_ char *text = NULL;
                assert_se(cluster_key_generate("k1", &text) == 0);
                write_in_dir("open.key", text, strlen(text), 0644);
                _cleanup_(run_done) Run r = run_env(badkey, STRV_MAKE("secret", "create", "openkey", "pw.txt"));
                ok(r.status != 0 && strstr(r.err, "mode 0644") && strstr(r.err, "chmod 0400"),
                   "a key file others can read is refused: %s", line1(r.err));
        }
        is_int(count("secrets/") + count("configs/"), before, "none of them wrote anything to etcd");

        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("config", "create", "limit", "limit"));
                is_int(r.status, 0, "exactly 500 KiB fits");
                _cleanup_(run_done) Run d = run(STRV_MAKE("config", "rm", "limit"));
                is_int(d.status, 0, "... removed again");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "frobnicate"));
                ok(r.status != 0 && strstr(r.err, "expected create, ls, inspect or rm"), "an unknown subcommand");
        }
}

static void test_config(void) {
        static const char conf[] = "listen 8080;\nworkers 4;\n";
        _cleanup_(run_done) Run c = {}, i = {};
        _cleanup_free_ char *r = NULL, *b64 = cluster_object_encode(conf, strlen(conf));

        write_in_dir("app.conf", conf, strlen(conf), 0644);
        c = run_env("/nonexistent/cluster.key", STRV_MAKE("config", "create", "app.conf", "app.conf"));
        is_int(c.status, 0, "config create needs no cluster key");
        r = raw("config", "app.conf", NULL);
        ok(r && strstr(r, b64), "a config is stored in clear (base64 of its value)");
        i = run(STRV_MAKE("config", "inspect", "app.conf"));
        ok(i.status == 0 && strstr(i.out, b64) && strstr(i.out, "\"Data\""), "config inspect shows its data, as docker");
}

static void test_in_use(void) {
        static const char unit[] = "[Service]\nExecStart=/bin/true\n[X-Fleet]\nSecret=db_password mode=0400\nConfig=app.conf\n";
        int64_t mod = 0, mod2 = 0;

        write_in_dir("web.service", unit, strlen(unit), 0644);
        write_in_dir("api.service", unit, strlen(unit), 0644);
        {
                _cleanup_(run_done) Run s = run(STRV_MAKE("submit", "web.service", "api.service"));
                is_int(s.status, 0, "submit two units that use the secret and the config");
        }
        free(raw("secret", "db_password", &mod));
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "rm", "db_password"));
                ok(r.status != 0 && strstr(r.err, "Secret db_password is in use by units api.service, web.service"),
                   "removing a secret in use is refused, naming the units: %s", line1(r.err));
        }
        free(raw("secret", "db_password", &mod2));
        ok(mod2 == mod, "... and the record is untouched");
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("config", "rm", "app.conf"));
                ok(r.status != 0 && strstr(r.err, "Config app.conf is in use by units api.service, web.service"),
                   "the same for a config");
        }
        {
                _cleanup_(run_done) Run d = run(STRV_MAKE("destroy", "web.service", "api.service"));
                is_int(d.status, 0, "destroy the units");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "rm", "db_password", "piped"));
                is_int(r.status, 0, "now the secrets go");
                ok(!raw("secret", "db_password", NULL) && !raw("secret", "piped", NULL), "... from etcd");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("config", "rm", "app.conf"));
                is_int(r.status, 0, "and the config");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "rm", "db_password"));
                ok(r.status != 0 && strstr(r.err, "Secret db_password not found"), "removing it twice: not found");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "inspect", "db_password"));
                ok(r.status != 0 && strstr(r.err, "Secret db_password not found"), "inspect: not found");
        }
}

/* The secret name's value opened with the test's key, or NULL. */
static char *secret_value(const char *name, int64_t *ret_mod) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *r = raw("secret", name, ret_mod);
        char *v = NULL;
        size_t n;

        assert_se(cluster_keyring_load(keyfile, &k, NULL) == 0);
        if (!r || cluster_object_from_json(CLUSTER_OBJECT_SECRET, r, strlen(r), &o) < 0 ||
            cluster_key_open(k, "secret", name, o->key_id, o->nonce, o->data, &v, &n, NULL) < 0)
                return NULL;
        return v;
}

static void test_compose(void) {
        static const char compose[] =
                "services:\n"                                   /* 1 */
                "  web:\n"
                "    image: nginx\n"
                "    secrets:\n"
                "      - db\n"                                  /* 5 */
                "      - token\n"
                "      - source: ext\n"
                "        mode: 0400\n"
                "    configs:\n"
                "      - source: motd\n"                        /* 10 */
                "        target: /etc/motd\n"
                "secrets:\n"
                "  db:\n"
                "    file: ./db.txt\n"
                "  token:\n"                                    /* 15 */
                "    environment: APP_TOKEN\n"
                "  ext:\n"
                "    external: true\n"
                "configs:\n"
                "  motd:\n"                                     /* 20 */
                "    content: hello from the compose file\n";
        int64_t before, mod1 = 0, mod2 = 0, mod3 = 0;

        if (!unitgen) {
                skip(12, "unitgen not built");
                return;
        }
        write_in_dir("compose.yaml", compose, strlen(compose), 0644);
        write_in_dir("db.txt", "db-pass-1", strlen("db-pass-1"), 0600);
        before = count("secrets/") + count("configs/");
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("compose", "-p", "app", "up", "--no-block"));
                ok(r.status != 0 && strstr(r.err, "compose.yaml:17:") && strstr(r.err, "secrets.ext") &&
                   strstr(r.err, "external secret \"ext\" does not exist"),
                   "compose up with a missing external secret names file, line and key: %s", line1(r.err));
                ok(count("secrets/") + count("configs/") == before && count("job/") == 0,
                   "... and writes no object and submits no unit");
        }
        {
                char path[512];

                snprintf(path, sizeof(path), "%s/db.txt", dir);
                assert_se(unlink(path) == 0);
        }
        {
                _cleanup_(run_done) Run e = run(STRV_MAKE("secret", "create", "ext", "pw.txt"));
                _cleanup_(run_done) Run r = run(STRV_MAKE("compose", "-p", "app", "up", "--no-block"));
                ok(r.status != 0 && strstr(r.err, "compose.yaml:13:") && strstr(r.err, "secrets.db.file: cannot read"),
                   "a missing file: named with its definition: %s", line1(r.err));
                ok(count("secrets/") == before + 1 && count("job/") == 0, "... nothing written but the external one");
        }
        write_in_dir("db.txt", "db-pass-1", strlen("db-pass-1"), 0600);
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("compose", "-p", "app", "up", "--no-block"));
                _cleanup_free_ char *db = secret_value("app_db", &mod1), *tok = secret_value("app_token", NULL);
                _cleanup_free_ char *motd = raw("config", "app_motd", NULL);
                _cleanup_free_ char *b64 = cluster_object_encode("hello from the compose file", 27);
                _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
                _cleanup_(run_done) Run c = run(STRV_MAKE("cat", "app-web.service"));
                char mark[64] = "";

                is_int(r.status, 0, "compose up creates the project's objects");
                is_str(db, "db-pass-1", "file: secret, named <project>_<key>");
                is_str(tok, "tok-from-the-environment", "environment: secret");
                ok(motd && strstr(motd, b64), "content: config");
                if (db) {
                        _cleanup_free_ char *rec = raw("secret", "app_db", NULL);
                        assert_se(cluster_object_from_json(CLUSTER_OBJECT_SECRET, rec, strlen(rec), &o) == 0);
                        snprintf(mark, sizeof(mark), "Secret=app_db target=/run/secrets/db digest=%.16s\n", o->digest);
                }
                ok(mark[0] && strstr(c.out, mark), "the unit refers to the value's version (%s)", mark);
                ok(strstr(c.out, "Secret=ext target=/run/secrets/ext mode=0400 digest="), "... an external one's too");
        }
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("compose", "-p", "app", "up", "--no-block"));
                free(raw("secret", "app_db", &mod2));
                ok(r.status == 0 && mod2 == mod1, "up again: an unchanged value is not rewritten");
        }
        write_in_dir("db.txt", "db-pass-2", strlen("db-pass-2"), 0600);
        {
                _cleanup_(run_done) Run r = run(STRV_MAKE("compose", "-p", "app", "up", "--no-block"));
                _cleanup_free_ char *db = secret_value("app_db", &mod3);

                ok(r.status == 0 && mod3 > mod2, "a changed file: the secret is rewritten");
                is_str(db, "db-pass-2", "... with the new value");
        }
        {
                _cleanup_(run_done) Run d = run(STRV_MAKE("compose", "-p", "app", "down"));
                _cleanup_(run_done) Run r = run(STRV_MAKE("secret", "rm", "app_db", "app_token", "ext"));
                _cleanup_(run_done) Run c = run(STRV_MAKE("config", "rm", "app_motd"));

                ok(d.status == 0 && r.status == 0 && c.status == 0, "down, then the objects can go");
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        _cleanup_free_ char *key = NULL;
        EtcdConfig config = {};

        etcd_fixture_require();
        if (argc < 2)
                bail_out("usage: %s FLEETCTL", argv[0]);
        fleetctl = realpath(argv[1], NULL);
        if (!fleetctl)
                bail_out("%s not found", argv[1]);
        if (argc > 2)
                unitgen = realpath(argv[2], NULL);
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("etcd did not start");
        endpoint = f->endpoints[0];
        snprintf(prefix, sizeof(prefix), "/test-fleetctl-objects/%d/", (int) getpid());

        assert_se(sd_event_new(&event) >= 0);
        config.endpoints = f->endpoints;
        assert_se(etcd_client_new(&client, event, &config) >= 0);
        assert_se(mkdtemp(dir));
        assert_se(cluster_key_generate("k1", &key) == 0);
        write_in_dir("cluster.key", key, strlen(key), 0400);
        snprintf(keyfile, sizeof(keyfile), "%s/cluster.key", dir);

        test_secret();
        test_bad_input();
        test_config();
        test_in_use();
        test_compose();

        client = etcd_client_free(client);
        event = sd_event_unref(event);
        {
                char cmd[512];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                (void) system(cmd);
        }
        free((char *) fleetctl);
        free((char *) unitgen);
        return done_testing();
}
