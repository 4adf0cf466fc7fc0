/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-sync.h"
#include "objects.h"
#include "registry.h"
#include "strv.h"
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

int objects_users(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret) {
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
        *ret = TAKE_PTR(users);
        return 0;
}

int objects_remove(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret_users) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_strv_free_ char **users = NULL;
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        _cleanup_free_ char *key = NULL;
        int64_t rev = 0;
        int r;

        r = objects_get(c, prefix, kind, name, &o, &rev);
        if (r < 0)
                return r;
        r = objects_users(c, prefix, kind, name, &users);
        if (r < 0)
                return r;
        if (strv_length(users) > 0) {
                if (ret_users)
                        *ret_users = TAKE_PTR(users);
                return -EBUSY;
        }

        key = cluster_object_key(prefix, kind, name);
        if (!key)
                return -ENOMEM;
        r = etcd_txn_new(&t);
        if (r < 0)
                return r;
        r = etcd_txn_compare_int(t, key, ETCD_COMPARE_MOD, ETCD_EQUAL, rev);
        if (r < 0)
                return r;
        r = etcd_txn_delete(t, true, key, 0);
        if (r < 0)
                return r;
        r = etcd_sync_txn(c, t, &resp);
        if (r < 0)
                return r;
        return resp->succeeded ? 0 : -EAGAIN;
}
