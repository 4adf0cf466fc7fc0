/* SPDX-License-Identifier: Apache-2.0 */

#include <jansson.h>
#include <sodium.h>

#include "cluster-key.h"
#include "error-message.h"
#include "etcd-sync.h"
#include "fileio.h"
#include "objects.h"
#include "registry.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"
#include "unit-name.h"

int objects_get(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, ClusterObject **ret,
                int64_t *ret_mod_revision) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *key = NULL;
        int r;

        assert(ret);

        key = cluster_object_key(prefix, kind, name);
        if (!key)
                return -ENOMEM;
        r = etcd_sync_range(c, &(EtcdRangeOptions) { .key = key }, &resp);
        if (r < 0)
                return r;
        if (resp->n_kvs == 0)
                return -ENOENT;
        r = cluster_object_from_json(kind, resp->kvs[0].value, resp->kvs[0].value_size, &o);
        if (r < 0)
                return r;
        if (!streq(o->name, name))
                return -EBADMSG;
        if (ret_mod_revision)
                *ret_mod_revision = resp->kvs[0].mod_revision;
        *ret = TAKE_PTR(o);
        return 0;
}

void objects_list_free(ClusterObject **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                cluster_object_free(l[i]);
        free(l);
}

int objects_list(EtcdClient *c, const char *prefix, ClusterObjectKind kind, ClusterObject ***ret, size_t *ret_n,
                 size_t *ret_n_bad) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *p = NULL;
        ClusterObject **l = NULL;
        size_t n = 0, bad = 0;
        int r;

        assert(ret && ret_n);

        p = cluster_objects_prefix(prefix, kind);
        if (!p)
                return -ENOMEM;
        r = etcd_sync_range(c, &(EtcdRangeOptions) { .key = p, .flags = ETCD_PREFIX,
                                                     .sort_order = ETCD_SORT_ASCEND, .sort_target = ETCD_SORT_KEY },
                            &resp);
        if (r < 0)
                return r;
        l = new0(ClusterObject *, resp->n_kvs + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < resp->n_kvs; i++) {
                ClusterObject *o = NULL;

                r = cluster_object_from_json(kind, resp->kvs[i].value, resp->kvs[i].value_size, &o);
                if (r == -ENOMEM) {
                        objects_list_free(l, n);
                        return r;
                }
                if (r < 0 || !streq(o->name, resp->kvs[i].key + strlen(p))) {
                        cluster_object_free(o);
                        bad++;
                        continue;
                }
                l[n++] = o;
        }
        *ret = l;
        *ret_n = n;
        if (ret_n_bad)
                *ret_n_bad = bad;
        return 0;
}

static int put_guarded(EtcdClient *c, const char *prefix, const ClusterObject *o, int64_t mod_revision) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        _cleanup_free_ char *key = NULL, *json = NULL;
        int r;

        key = cluster_object_key(prefix, o->kind, o->name);
        if (!key)
                return -ENOMEM;
        r = cluster_object_to_json(o, &json);
        if (r < 0)
                return r;
        r = etcd_txn_new(&t);
        if (r < 0)
                return r;
        r = etcd_txn_compare_unchanged(t, key, mod_revision);
        if (r < 0)
                return r;
        r = etcd_txn_put(t, true, key, json, strlen(json), 0, 0);
        if (r < 0)
                return r;
        r = etcd_sync_txn(c, t, &resp);
        if (r < 0)
                return r;
        return resp->succeeded ? 0 : -EEXIST;
}

int objects_create(EtcdClient *c, const char *prefix, const ClusterObject *o) {
        assert(o);
        return put_guarded(c, prefix, o, 0);
}

int objects_ensure(EtcdClient *c, const char *prefix, const ClusterObject *o) {
        _cleanup_(cluster_object_freep) ClusterObject *old = NULL;
        int64_t rev = 0;
        int r;

        assert(o);

        r = objects_get(c, prefix, o->kind, o->name, &old, &rev);
        if (r == -ENOENT)
                rev = 0;
        else if (r < 0 && r != -EBADMSG)
                return r;
        else if (r >= 0 && streq(old->digest, o->digest))
                return 0;

        if (old) {
                ClusterObject copy = *o;

                copy.created_usec = old->created_usec;
                r = put_guarded(c, prefix, &copy, rev);
        } else if (rev == 0 && r == -EBADMSG)
                return r;       /* a malformed record is not silently replaced */
        else
                r = put_guarded(c, prefix, o, rev);
        if (r == -EEXIST)
                return -EAGAIN;
        return r < 0 ? r : 1;
}

/* The units under P units/ (as read at *ret_revision) that refer to kind/name. */
static int users_at(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret,
                    int64_t *ret_revision) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_strv_free_ char **users = NULL;
        _cleanup_free_ char *p = NULL;
        int r;

        assert(ret);

        p = registry_units_prefix(prefix);
        if (!p)
                return -ENOMEM;
        r = etcd_sync_range(c, &(EtcdRangeOptions) { .key = p, .flags = ETCD_PREFIX }, &resp);
        if (r < 0)
                return r;
        users = new0(char *, 1);
        if (!users)
                return -ENOMEM;
        for (size_t i = 0; i < resp->n_kvs; i++) {
                _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
                ClusterObjectRef *refs = NULL;
                size_t n = 0;
                bool uses = false;

                if (registry_unit_from_json(resp->kvs[i].value, resp->kvs[i].value_size, &u) < 0)
                        continue;
                /* A template's values keep their specifiers: expanded per instance. */
                r = cluster_object_unit_refs(u->raw, unit_name_is_template(u->name) ? NULL : u->name,
                                             kind, &refs, &n);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < n; j++)
                        if (streq(refs[j].name, name))
                                uses = true;
                cluster_object_refs_free(refs, n);
                if (uses && strv_extend(&users, u->name) < 0)
                        return -ENOMEM;
        }
        strv_sort(users);
        if (ret_revision)
                *ret_revision = resp->revision;
        *ret = TAKE_PTR(users);
        return 0;
}

int objects_users(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret) {
        return users_at(c, prefix, kind, name, ret, NULL);
}

/* How many times a remove reads again when a unit was written between its check and its delete. */
#define REMOVE_ATTEMPTS 5

int objects_remove(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret_users) {
        _cleanup_free_ char *key = NULL, *units = NULL;
        int r;

        key = cluster_object_key(prefix, kind, name);
        units = registry_units_prefix(prefix);
        if (!key || !units)
                return -ENOMEM;

        for (unsigned attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
                _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
                _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
                _cleanup_strv_free_ char **users = NULL;
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
                int64_t rev = 0, units_rev = 0;

                r = objects_get(c, prefix, kind, name, &o, &rev);
                if (r < 0)
                        return r;
                r = users_at(c, prefix, kind, name, &users, &units_rev);
                if (r < 0)
                        return r;
                if (strv_length(users) > 0) {
                        if (ret_users)
                                *ret_users = TAKE_PTR(users);
                        return -EBUSY;
                }

                /* One txn: the record is the one checked, and no unit was written since the units
                 * were read (a unit submitted in between could refer to it), or nothing happens. */
                r = etcd_txn_new(&t);
                if (r < 0)
                        return r;
                r = etcd_txn_compare_unchanged(t, key, rev);
                if (r < 0)
                        return r;
                r = etcd_txn_compare_prefix_int(t, units, ETCD_COMPARE_MOD, ETCD_LESS, units_rev + 1);
                if (r < 0)
                        return r;
                r = etcd_txn_delete(t, true, key, 0);
                if (r < 0)
                        return r;
                r = etcd_sync_txn(c, t, &resp);
                if (r < 0)
                        return r;
                if (resp->succeeded)
                        return 0;
        }
        return -EAGAIN;
}

typedef struct ManifestObject {
        ClusterObjectKind kind;
        const char *name, *where, *value;       /* borrowed from the JSON; value NULL: external */
        char *digest;                           /* the stored object's, once known */
} ManifestObject;

static int manifest_parse(json_t *a, ManifestObject **ret, size_t *ret_n, char **ret_error) {
        _cleanup_free_ ManifestObject *l = NULL;
        json_t *m;
        size_t i;

        if (!json_is_array(a))
                return error_message_set(ret_error, EBADMSG, "unitgen's list of objects is not a JSON array");
        l = new0(ManifestObject, json_array_size(a) + 1);
        if (!l)
                return -ENOMEM;
        json_array_foreach(a, i, m) {
                const char *kind = NULL;
                int external = 0;

                if (json_unpack(m, "{s:s, s:s, s:s, s?b, s?s}", "kind", &kind, "name", &l[i].name, "where",
                                &l[i].where, "external", &external, "value", &l[i].value) < 0 ||
                    cluster_object_kind_from_string(kind) < 0 || !cluster_object_name_is_valid(l[i].name) ||
                    !!external == !!l[i].value)
                        return error_message_set(ret_error, EBADMSG, "unitgen's object #%zu is malformed", i + 1);
                l[i].kind = cluster_object_kind_from_string(kind);
        }
        *ret = TAKE_PTR(l);
        *ret_n = json_array_size(a);
        return 0;
}

static int manifest_write(EtcdClient *c, const char *prefix, ManifestObject *m, const ClusterKeyring *k,
                          char **ret_error) {
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *value = NULL;
        size_t cap = strlen(m->value) / 4 * 3 + 3, len = 0;
        int r;

        value = malloc(cap);
        if (!value)
                return -ENOMEM;
        if (sodium_base642bin((unsigned char *) value, cap, m->value, strlen(m->value), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) < 0)
                return error_message_set(ret_error, EBADMSG, "%s: unitgen's value is not base64", m->where);
        r = cluster_object_build(m->kind, m->name, value, len, k, now(CLOCK_REALTIME), &o, ret_error);
        explicit_bzero(value, len);
        if (r < 0)
                return r;
        r = objects_ensure(c, prefix, o);
        if (r == -EAGAIN)
                return error_message_set(ret_error, EAGAIN, "%s: %s %s changed while compose up wrote it; run it again",
                                         m->where, cluster_object_kind_to_string(m->kind), m->name);
        if (r == -EBADMSG)
                return error_message_set(ret_error, EBADMSG, "%s: the stored %s %s is malformed; remove it first",
                                         m->where, cluster_object_kind_to_string(m->kind), m->name);
        if (r < 0)
                return r;
        m->digest = TAKE_PTR(o->digest);
        return r;
}

/* Secret=NAME ... / Config=NAME ... lines of [X-Fleet] get " digest=D" (an old one replaced). */
static int unit_mark_digests(char **textp, const ManifestObject *l, size_t n) {
        _cleanup_free_ char *out = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const char *text = *textp;
        size_t out_size = 0;
        bool xfleet = false, changed = false;
        int r;

        f = open_memstream(&out, &out_size);
        if (!f)
                return -ENOMEM;
        for (const char *line = text, *eol; *line; line = eol + (*eol == '\n')) {
                ClusterObjectKind kind = _CLUSTER_OBJECT_KIND_INVALID;
                const ManifestObject *m = NULL;
                const char *rest = NULL;
                size_t len;

                eol = line + strcspn(line, "\n");
                len = eol - line;
                if (line[0] == '[')
                        xfleet = len == strlen("[X-Fleet]") && startswith(line, "[X-Fleet]");
                else if (xfleet && (rest = startswith(line, "Secret=")))
                        kind = CLUSTER_OBJECT_SECRET;
                else if (xfleet && (rest = startswith(line, "Config=")))
                        kind = CLUSTER_OBJECT_CONFIG;
                for (size_t i = 0; kind >= 0 && i < n; i++) {
                        size_t w = strcspn(rest, " \n");

                        if (l[i].kind == kind && l[i].digest && strlen(l[i].name) == w && strneq(rest, l[i].name, w))
                                m = l + i;
                }
                if (m) {
                        const char *mark = memmem(line, len, " digest=", strlen(" digest="));

                        fprintf(f, "%.*s digest=%.16s\n", (int) (mark ? (size_t) (mark - line) : len), line, m->digest);
                        changed = true;
                } else
                        fprintf(f, "%.*s%s", (int) len, line, *eol ? "\n" : "");
        }
        r = fflush_and_check(f);
        if (r < 0)
                return r;
        if (!changed)
                return 0;
        fclose(TAKE_PTR(f));      /* open_memstream: out is final once closed */
        free_and_replace(*textp, out);
        return 0;
}

int objects_compose_up(EtcdClient *c, const char *prefix, const char *manifest, size_t size,
                       int (*load_keyring)(ClusterKeyring **ret), char **units, size_t n_units, char **ret_error) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_free_ ManifestObject *l = NULL;
        json_auto_t *a = NULL;
        size_t n = 0;
        int r, written = 0;

        a = json_loadb(manifest, size, 0, NULL);
        r = manifest_parse(a, &l, &n, ret_error);
        if (r < 0)
                return r;

        /* Every external one must be there before anything is written. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
                const char *kind = cluster_object_kind_to_string(l[i].kind);

                if (l[i].value)
                        continue;
                r = objects_get(c, prefix, l[i].kind, l[i].name, &o, NULL);
                if (r == -ENOENT)
                        r = error_message_set(ret_error, ENOENT,
                                              "%s: external %s \"%s\" does not exist in the cluster (create it "
                                              "with: fleetctl %s create %s FILE); nothing was submitted",
                                              l[i].where, kind, l[i].name, kind, l[i].name);
                else if (r == -EBADMSG)
                        r = error_message_set(ret_error, EBADMSG, "%s: the stored %s %s is malformed", l[i].where,
                                              kind, l[i].name);
                if (r < 0)
                        goto finish;
                l[i].digest = TAKE_PTR(o->digest);
        }

        for (size_t i = 0; i < n; i++) {
                if (!l[i].value)
                        continue;
                if (l[i].kind == CLUSTER_OBJECT_SECRET && !k) {
                        r = load_keyring(&k);
                        if (r < 0)
                                goto finish;
                }
                r = manifest_write(c, prefix, l + i, k, ret_error);
                if (r < 0)
                        goto finish;
                written += r;
        }

        for (size_t i = 0; i < n_units; i++) {
                r = unit_mark_digests(units + i, l, n);
                if (r < 0)
                        goto finish;
        }
        r = written;
finish:
        for (size_t i = 0; i < n; i++)
                free(l[i].digest);
        return r;
}
