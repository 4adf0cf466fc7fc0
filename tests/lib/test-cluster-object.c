/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster-key.h"
#include "cluster-object.h"
#include "tap.h"

static void test_names(void) {
        static const char *const good[] = { "db", "db_password", "my-app.cert", "A1", "x",
                "a234567890123456789012345678901234567890123456789012345678901234" };
        static const char *const bad[] = { "", "a/b", "/db", "-db", "db-", ".db", "db pw", "db\n", "é",
                "a2345678901234567890123456789012345678901234567890123456789012345", "..", "a:b" };
        _cleanup_free_ char *msg = NULL;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ok(cluster_object_name_is_valid(good[i]), "name '%s' is valid", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ok(!cluster_object_name_is_valid(bad[i]), "bad name %zu is refused", i);  /* one has a newline: not in TAP */

        is_int(cluster_object_name_check(CLUSTER_OBJECT_SECRET, "a/b", &msg), -EINVAL, "check a/b");
        is_str(msg, "Invalid secret name \"a/b\": it must not contain '/'", "... says why");
        is_int(cluster_object_size_check(CLUSTER_OBJECT_CONFIG, "big", 500 * 1024, &msg), 0, "500 KiB fits");
        is_int(cluster_object_size_check(CLUSTER_OBJECT_CONFIG, "big", 500 * 1024 + 1, &msg), -EFBIG,
               "one byte more does not");
        is_str(msg, "Config big is 512001 bytes, more than the limit of 512000 bytes (500 KiB)", "... says so");
}

static void test_keys(void) {
        _cleanup_free_ char *a = cluster_object_key("/fleet/", CLUSTER_OBJECT_SECRET, "db");
        _cleanup_free_ char *b = cluster_objects_prefix("/fleet/", CLUSTER_OBJECT_CONFIG);

        is_str(a, "/fleet/secrets/db", "secret key");
        is_str(b, "/fleet/configs/", "configs prefix");
        is_str(cluster_object_kind_to_string(CLUSTER_OBJECT_CONFIG), "config", "kind name");
        is_int(cluster_object_kind_from_string("secret"), CLUSTER_OBJECT_SECRET, "kind from name");
        is_int(cluster_object_kind_from_string("secrets"), _CLUSTER_OBJECT_KIND_INVALID, "no plural");
}

static void test_record(void) {
        ClusterObject s = { .kind = CLUSTER_OBJECT_SECRET, .name = (char *) "db", .size = 3,
                            .digest = (char *) "ab", .created_usec = 1, .updated_usec = 2,
                            .key_id = (char *) "k1", .nonce = (char *) "bm9uY2U=", .data = (char *) "ZGF0YQ==" };
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *j = NULL, *j2 = NULL, *v = NULL;
        size_t n;

        is_int(cluster_object_to_json(&s, &j), 0, "encode a secret");
        is_str(j, "{\"name\":\"db\",\"size\":3,\"digest\":\"ab\",\"created\":1,\"updated\":2,\"key\":\"k1\","
                  "\"nonce\":\"bm9uY2U=\",\"data\":\"ZGF0YQ==\"}", "... in a fixed order");
        is_int(cluster_object_from_json(CLUSTER_OBJECT_SECRET, j, strlen(j), &o), 0, "decode it");
        is_int(cluster_object_to_json(o, &j2), 0, "encode again");
        is_str(j2, j, "... the same");
        o = cluster_object_free(o);

        is_int(cluster_object_from_json(CLUSTER_OBJECT_CONFIG, j, strlen(j), &o), -EBADMSG,
               "a config with a key id is refused");
        const char *bad[] = {
                "{\"name\":\"db\",\"size\":3,\"digest\":\"ab\",\"created\":1,\"updated\":2,\"data\":\"x\",\"more\":1}",
                "{\"name\":\"a/b\",\"size\":3,\"digest\":\"ab\",\"created\":1,\"updated\":2,\"data\":\"x\"}",
                "{\"name\":\"db\",\"size\":-3,\"digest\":\"ab\",\"created\":1,\"updated\":2,\"data\":\"x\"}",
                "{\"name\":\"db\",\"size\":999999999,\"digest\":\"ab\",\"created\":1,\"updated\":2,\"data\":\"x\"}",
                "{\"name\":\"db\",\"digest\":\"ab\",\"created\":1,\"updated\":2,\"data\":\"x\"}",
                "[]", "", "{",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                is_int(cluster_object_from_json(CLUSTER_OBJECT_CONFIG, bad[i], strlen(bad[i]), &o), -EBADMSG,
                       "malformed config record %zu refused", i);

        /* A config's value is its data in base64, in clear. */
        _cleanup_free_ char *b64 = cluster_object_encode("hello\0x", 7);
        ClusterObject c = { .kind = CLUSTER_OBJECT_CONFIG, .name = (char *) "c", .size = 7, .digest = (char *) "d",
                            .data = b64 };
        is_int(cluster_object_config_value(&c, &v, &n), 0, "decode a config value");
        ok(n == 7 && memcmp(v, "hello\0x", 7) == 0, "... byte for byte, NUL included");
        c.size = 6;
        free(v);
        v = NULL;
        is_int(cluster_object_config_value(&c, &v, &n), -EBADMSG, "a size that does not match is refused");
}

static void test_refs(void) {
        _cleanup_(cluster_object_ref_done) ClusterObjectRef r = {};
        _cleanup_free_ char *msg = NULL, *f = NULL, *p = NULL, *h = NULL;

        is_int(cluster_object_ref_parse(CLUSTER_OBJECT_SECRET, "db", &r, &msg), 0, "plain reference");
        ok(r.uid == 0 && r.gid == 0 && r.mode == 0444 && !r.target, "docker's defaults");
        p = cluster_object_ref_container_path(&r);
        is_str(p, "/run/secrets/db", "a secret goes to /run/secrets/NAME");
        h = cluster_object_ref_host_path(&r, "web.service");
        is_str(h, "/run/fleet/objects/web.service/secrets/db", "materialised per unit under /run");
        cluster_object_ref_done(&r);
        free(p);

        is_int(cluster_object_ref_parse(CLUSTER_OBJECT_SECRET, "db  target=pw uid=33 gid=34 mode=0400", &r, &msg), 0,
               "reference with options");
        ok(r.uid == 33 && r.gid == 34 && r.mode == 0400, "uid, gid, mode");
        p = cluster_object_ref_container_path(&r);
        is_str(p, "/run/secrets/pw", "relative target under /run/secrets");
        f = cluster_object_ref_format(&r);
        is_str(f, "db target=pw uid=33 gid=34 mode=0400", "canonical form");
        cluster_object_ref_done(&r);
        free(p);

        is_int(cluster_object_ref_parse(CLUSTER_OBJECT_CONFIG, "nginx.conf target=/etc/nginx/nginx.conf", &r, &msg),
               0, "config with an absolute target");
        p = cluster_object_ref_container_path(&r);
        is_str(p, "/etc/nginx/nginx.conf", "... as it is");
        cluster_object_ref_done(&r);
        free(p);
        is_int(cluster_object_ref_parse(CLUSTER_OBJECT_CONFIG, "app", &r, &msg), 0, "config, no target");
        p = cluster_object_ref_container_path(&r);
        is_str(p, "/app", "... at /NAME, as docker");
        cluster_object_ref_done(&r);
        free(f);
        is_int(cluster_object_ref_parse(CLUSTER_OBJECT_SECRET, "db mode=0400 digest=0123456789abcdef", &r, &msg), 0,
               "a digest (compose up's version mark)");
        is_str(r.digest, "0123456789abcdef", "... kept");
        f = cluster_object_ref_format(&r);
        is_str(f, "db mode=0400 digest=0123456789abcdef", "... last in the canonical form");
        cluster_object_ref_done(&r);

        static const char *const bad[] = { "", "a/b", "db target=../etc/shadow", "db target=a/../../x",
                "db mode=0999", "db mode=01777", "db mode=", "db uid=x", "db uid=-1", "db size=3", "db target=a:b",
                "db digest=0123ABCDEF", "db digest=abc", "db digest=0123456789abcdeg" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int q = cluster_object_ref_parse(CLUSTER_OBJECT_SECRET, bad[i], &r, &msg);

                /* The message is read after the call: the call replaces it. */
                is_int(q, -EINVAL, "'%s' refused: %s", bad[i], strna(msg));
        }
        is_int(cluster_object_ref_parse(CLUSTER_OBJECT_SECRET, "db mode=0777x", &r, &msg), -EINVAL, "mode junk");
        is_str(msg, "Secret=db mode=0777x: mode '0777x' is not an octal mode up to 0777", "... named");
}

static void test_keyring(void) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k1 = NULL, *k2 = NULL, *only2 = NULL;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL, *both = NULL, *msg = NULL;
        _cleanup_free_ char *id = NULL, *nonce = NULL, *data = NULL, *v = NULL, *d1 = NULL, *d2 = NULL, *d3 = NULL;
        size_t n;

        is_int(cluster_key_generate("k1", &t1), 0, "generate a key");
        is_int(cluster_key_generate("k2", &t2), 0, "generate another");
        is_int(cluster_key_generate("bad id", &t2), -EINVAL, "a bad id is refused");
        is_int(cluster_keyring_parse(t1, strlen(t1), &k1, &msg), 0, "parse it back");
        ok(k1->n_keys == 1 && streq(k1->keys[0].id, "k1"), "one key, k1");

        is_int(cluster_key_seal(k1, "secret", "db", "hunter2", 7, &id, &nonce, &data), 0, "seal");
        is_str(id, "k1", "sealed with the first key");
        ok(!strstr(data, "hunter2") && !strstr(data, "aHVudGVyMg"), "the sealed data holds no clear text or its base64");
        is_int(cluster_key_open(k1, "secret", "db", id, nonce, data, &v, &n, &msg), 0, "open");
        ok(n == 7 && streq(v, "hunter2"), "the value comes back");
        v = mfree(v);
        is_int(cluster_key_open(k1, "secret", "other", id, nonce, data, &v, &n, &msg), -EBADMSG,
               "a record copied under another name does not open");
        is_str(msg, "secret other holds a value sealed for another object", "... says so");
        char saved = data[5];
        data[5] = saved == 'A' ? 'B' : 'A';
        is_int(cluster_key_open(k1, "secret", "db", id, nonce, data, &v, &n, &msg), -EBADMSG, "altered data fails");
        data[5] = saved;

        /* Rotation: the new key goes first, the old one stays until every record is resealed. */
        assert_se(asprintf(&both, "# rotated\n%s\n%s", t2, t1) > 0);
        is_int(cluster_keyring_parse(both, strlen(both), &k2, &msg), 0, "parse two keys and a comment");
        ok(k2->n_keys == 2 && streq(k2->keys[0].id, "k2"), "the first line seals");
        is_int(cluster_key_open(k2, "secret", "db", id, nonce, data, &v, &n, &msg), 0, "an old record still opens");
        v = mfree(v);
        is_int(cluster_keyring_parse(t2, strlen(t2), &only2, &msg), 0, "the new key alone");
        is_int(cluster_key_open(only2, "secret", "db", id, nonce, data, &v, &n, &msg), -ENOKEY,
               "without the old key the record is not readable");
        is_str(msg, "secret db is sealed with key 'k1', which the cluster key file does not hold", "... says which");

        is_int(cluster_key_digest(k1, "hunter2", 7, &d1), 0, "keyed digest");
        is_int(cluster_key_digest(k2, "hunter2", 7, &d2), 0, "with another key");
        is_int(cluster_key_digest(NULL, "hunter2", 7, &d3), 0, "plain digest");
        ok(strlen(d1) == 64 && !streq(d1, d2) && !streq(d1, d3), "the keyed digest depends on the key");

        static const char *const bad[] = { "", "# nothing\n", "k1\n", "k1 notbase64!\n", "k1 aGVsbG8=\n",
                "k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= extra\n", "bad/id AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
                int q = cluster_keyring_parse(bad[i], strlen(bad[i]), &k, &msg);

                is_int(q, -EINVAL, "bad key file %zu: %s", i, strna(msg));
        }
        _cleanup_free_ char *twice = NULL;
        _cleanup_(cluster_keyring_freep) ClusterKeyring *kt = NULL;
        assert_se(asprintf(&twice, "%s%s", t1, t1) > 0);
        is_int(cluster_keyring_parse(twice, strlen(twice), &kt, &msg), -EINVAL, "a repeated id is refused");
        is_str(msg, "line 2: key id 'k1' appears twice", "... naming the line");
}

static void test_keyring_file(void) {
        char path[] = "/tmp/test-cluster-key-XXXXXX";
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_free_ char *t = NULL, *msg = NULL;
        int fd;

        assert_se(cluster_key_generate("k1", &t) == 0);
        fd = mkstemp(path);
        assert_se(fd >= 0);
        assert_se(write(fd, t, strlen(t)) == (ssize_t) strlen(t));
        close(fd);

        assert_se(chmod(path, 0644) == 0);
        is_int(cluster_keyring_load(path, &k, &msg), -EPERM, "a world-readable key file is refused");
        ok(msg && strstr(msg, "mode 0644") && strstr(msg, path), "... naming the file and its mode: %s", msg);
        assert_se(chmod(path, 0400) == 0);
        is_int(cluster_keyring_load(path, &k, &msg), 0, "a 0400 key file loads");
        unlink(path);
        k = cluster_keyring_free(k);
        is_int(cluster_keyring_load(path, &k, &msg), -ENOENT, "a missing key file");
        ok(msg && strstr(msg, path), "... names the path");
}

int main(void) {
        test_names();
        test_keys();
        test_record();
        test_refs();
        test_keyring();
        test_keyring_file();
        return done_testing();
}
