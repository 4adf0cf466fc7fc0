/* SPDX-License-Identifier: Apache-2.0 */

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>

#include "cluster-key.h"
#include "cluster-object.h"
#include "error-message.h"
#include "parse-util.h"
#include "registry.h"
#include "strv.h"
#include "unit-file.h"
#include "xfleet.h"

static const char *const kind_table[_CLUSTER_OBJECT_KIND_MAX] = {
        [CLUSTER_OBJECT_SECRET] = "secret",
        [CLUSTER_OBJECT_CONFIG] = "config",
};

const char *cluster_object_kind_to_string(ClusterObjectKind k) {
        return k >= 0 && k < _CLUSTER_OBJECT_KIND_MAX ? kind_table[k] : NULL;
}

ClusterObjectKind cluster_object_kind_from_string(const char *s) {
        for (ClusterObjectKind k = 0; k < _CLUSTER_OBJECT_KIND_MAX; k++)
                if (streq_ptr(s, kind_table[k]))
                        return k;
        return _CLUSTER_OBJECT_KIND_INVALID;
}

static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool cluster_object_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n > CLUSTER_OBJECT_NAME_MAX || !is_alnum(name[0]) || !is_alnum(name[n - 1]))
                return false;
        for (const char *p = name; *p; p++)
                if (!is_alnum(*p) && !strchr("_.-", *p))
                        return false;
        return true;
}

int cluster_object_name_check(ClusterObjectKind kind, const char *name, char **ret_error) {
        const char *k = cluster_object_kind_to_string(kind);

        if (cluster_object_name_is_valid(name))
                return 0;
        if (isempty(name))
                return error_message_set(ret_error, EINVAL, "A %s needs a name", k);
        if (strchr(name, '/'))
                return error_message_set(ret_error, EINVAL, "Invalid %s name \"%s\": it must not contain '/'", k, name);
        if (strlen(name) > CLUSTER_OBJECT_NAME_MAX)
                return error_message_set(ret_error, EINVAL, "Invalid %s name \"%s\": longer than %u characters", k,
                                         name, CLUSTER_OBJECT_NAME_MAX);
        return error_message_set(ret_error, EINVAL,
                                 "Invalid %s name \"%s\": only letters, digits, '_', '.' and '-', beginning and "
                                 "ending with a letter or digit",
                                 k, name);
}

int cluster_object_size_check(ClusterObjectKind kind, const char *name, size_t size, char **ret_error) {
        if (size <= CLUSTER_OBJECT_SIZE_MAX)
                return 0;
        return error_message_set(ret_error, EFBIG, "%s %s is %zu bytes, more than the limit of %u bytes (500 KiB)",
                                 kind == CLUSTER_OBJECT_SECRET ? "Secret" : "Config", name, size,
                                 CLUSTER_OBJECT_SIZE_MAX);
}

char *cluster_object_key(const char *prefix, ClusterObjectKind kind, const char *name) {
        char *k;

        assert(prefix && endswith(prefix, "/"));
        assert(cluster_object_kind_to_string(kind));

        if (asprintf(&k, "%s%ss/%s", prefix, cluster_object_kind_to_string(kind), name) < 0)
                return NULL;
        return k;
}

char *cluster_objects_prefix(const char *prefix, ClusterObjectKind kind) {
        return cluster_object_key(prefix, kind, "");
}

ClusterObject *cluster_object_free(ClusterObject *o) {
        if (!o)
                return NULL;
        free(o->name);
        free(o->digest);
        free(o->key_id);
        free(o->nonce);
        free(o->data);
        return mfree(o);
}

int cluster_object_to_json(const ClusterObject *o, char **ret) {
        json_auto_t *j = NULL;
        bool secret;
        char *s;

        assert(o);
        assert(ret);

        secret = o->kind == CLUSTER_OBJECT_SECRET;
        if (!cluster_object_name_is_valid(o->name) || !o->digest || !o->data || secret != !!o->key_id ||
            secret != !!o->nonce)
                return -EINVAL;

        j = json_pack("{s:s, s:I, s:s, s:I, s:I}", "name", o->name, "size", (json_int_t) o->size, "digest",
                      o->digest, "created", (json_int_t) o->created_usec, "updated", (json_int_t) o->updated_usec);
        if (!j)
                return -ENOMEM;
        if (secret && (json_object_set_new(j, "key", json_string(o->key_id)) < 0 ||
                       json_object_set_new(j, "nonce", json_string(o->nonce)) < 0))
                return -EINVAL;
        if (json_object_set_new(j, "data", json_string(o->data)) < 0)
                return -EINVAL;
        s = json_dumps(j, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int cluster_object_from_json(ClusterObjectKind kind, const char *json, size_t size, ClusterObject **ret) {
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        const char *name = NULL, *digest = NULL, *key = NULL, *nonce = NULL, *data = NULL;
        json_int_t sz = -1, created = -1, updated = -1;
        json_auto_t *j = NULL;

        assert(ret);

        if (!json || !cluster_object_kind_to_string(kind))
                return -EBADMSG;
        j = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
        if (!j || !json_is_object(j))
                return -EBADMSG;
        if (json_unpack_ex(j, NULL, JSON_STRICT, "{s:s, s:I, s:s, s:I, s:I, s?s, s?s, s:s}", "name", &name,
                           "size", &sz, "digest", &digest, "created", &created, "updated", &updated, "key", &key,
                           "nonce", &nonce, "data", &data) < 0)
                return -EBADMSG;
        if (!cluster_object_name_is_valid(name) || sz < 0 || (uint64_t) sz > CLUSTER_OBJECT_SIZE_MAX ||
            created < 0 || updated < 0 || (kind == CLUSTER_OBJECT_SECRET) != !!key ||
            (kind == CLUSTER_OBJECT_SECRET) != !!nonce)
                return -EBADMSG;

        o = new0(ClusterObject, 1);
        if (!o)
                return -ENOMEM;
        o->kind = kind;
        o->size = (uint64_t) sz;
        o->created_usec = (uint64_t) created;
        o->updated_usec = (uint64_t) updated;
        o->name = strdup(name);
        o->digest = strdup(digest);
        o->data = strdup(data);
        if (!o->name || !o->digest || !o->data)
                return -ENOMEM;
        if (key) {
                o->key_id = strdup(key);
                o->nonce = strdup(nonce);
                if (!o->key_id || !o->nonce)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

char *cluster_object_encode(const void *value, size_t size) {
        size_t n = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(n);

        if (!s)
                return NULL;
        return sodium_bin2base64(s, n, value, size, sodium_base64_VARIANT_ORIGINAL);
}

int cluster_object_config_value(const ClusterObject *o, char **ret, size_t *ret_size) {
        size_t cap, len = 0;
        char *v;

        assert(o);
        assert(ret && ret_size);

        if (o->kind != CLUSTER_OBJECT_CONFIG)
                return -EINVAL;
        cap = strlen(o->data) / 4 * 3 + 3;
        v = malloc(cap + 1);
        if (!v)
                return -ENOMEM;
        if (sodium_base642bin((unsigned char *) v, cap, o->data, strlen(o->data), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) < 0 || len != o->size) {
                free(v);
                return -EBADMSG;
        }
        v[len] = 0;
        *ret = v;
        *ret_size = len;
        return 0;
}

void cluster_object_ref_done(ClusterObjectRef *r) {
        if (!r)
                return;
        r->name = mfree(r->name);
        r->target = mfree(r->target);
        r->digest = mfree(r->digest);
}

static bool digest_is_valid(const char *d) {
        size_t n = strlen(d);

        return n >= 8 && n <= 64 && strspn(d, "0123456789abcdef") == n;
}

static bool target_is_valid(const char *t) {
        if (isempty(t) || strlen(t) > 4096 || strpbrk(t, ",: \t\n\r\\\"'"))
                return false;
        /* No ".." component: the target is joined to /run/secrets. */
        for (const char *p = t; (p = strstr(p, "..")); p += 2)
                if ((p == t || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
                        return false;
        return true;
}

int cluster_object_ref_parse(ClusterObjectKind kind, const char *value, ClusterObjectRef *ret, char **ret_error) {
        _cleanup_(cluster_object_ref_done) ClusterObjectRef r = { .kind = kind, .mode = 0444 };
        _cleanup_strv_free_ char **words = NULL;
        const char *opt = kind == CLUSTER_OBJECT_SECRET ? "Secret" : "Config";
        _cleanup_free_ char *msg = NULL;
        int q;

        assert(ret);

        words = strv_split(value ?: "", WHITESPACE);
        if (!words)
                return -ENOMEM;
        if (!words[0])
                return error_message_set(ret_error, EINVAL, "%s= needs a %s name", opt,
                                         cluster_object_kind_to_string(kind));
        q = cluster_object_name_check(kind, words[0], &msg);
        if (q == -ENOMEM)
                return q;
        if (q < 0)
                return error_message_set(ret_error, EINVAL, "%s=%s: %s", opt, value, msg);
        r.name = strdup(words[0]);
        if (!r.name)
                return -ENOMEM;

        STRV_FOREACH(w, words + 1) {
                const char *v;
                uint64_t n;

                if ((v = startswith(*w, "target="))) {
                        if (!target_is_valid(v))
                                return error_message_set(ret_error, EINVAL,
                                                         "%s=%s: target '%s' is not a path without '..', ',', ':', "
                                                         "quotes or whitespace",
                                                         opt, value, v);
                        free(r.target);
                        r.target = strdup(v);
                        if (!r.target)
                                return -ENOMEM;
                } else if ((v = startswith(*w, "uid=")) || (v = startswith(*w, "gid="))) {
                        if (parse_u64(v, &n) < 0 || n >= UINT32_MAX)
                                return error_message_set(ret_error, EINVAL, "%s=%s: '%s' is not a numeric id",
                                                         opt, value, *w);
                        if ((*w)[0] == 'u')
                                r.uid = (uid_t) n;
                        else
                                r.gid = (gid_t) n;
                } else if ((v = startswith(*w, "mode="))) {
                        char *end;
                        unsigned long m;

                        errno = 0;
                        m = strtoul(v, &end, 8);
                        if (isempty(v) || *end || errno != 0 || m > 0777 || v[0] == '-' || v[0] == '+')
                                return error_message_set(ret_error, EINVAL,
                                                         "%s=%s: mode '%s' is not an octal mode up to 0777", opt,
                                                         value, v);
                        r.mode = (mode_t) m;
                } else if ((v = startswith(*w, "digest="))) {
                        if (!digest_is_valid(v))
                                return error_message_set(ret_error, EINVAL,
                                                         "%s=%s: digest '%s' is not 8 to 64 lowercase hex digits",
                                                         opt, value, v);
                        free(r.digest);
                        r.digest = strdup(v);
                        if (!r.digest)
                                return -ENOMEM;
                } else
                        return error_message_set(ret_error, EINVAL,
                                                 "%s=%s: unknown option '%s' (expected target=, uid=, gid=, mode=, digest=)",
                                                 opt, value, *w);
        }

        *ret = r;
        r = (ClusterObjectRef) {};
        return 0;
}

char *cluster_object_ref_format(const ClusterObjectRef *r) {
        char uid[32] = "", gid[32] = "", mode[32] = "";
        char *s;

        assert(r && r->name);

        if (r->uid != 0)
                snprintf(uid, sizeof(uid), " uid=%u", (unsigned) r->uid);
        if (r->gid != 0)
                snprintf(gid, sizeof(gid), " gid=%u", (unsigned) r->gid);
        if (r->mode != 0444)
                snprintf(mode, sizeof(mode), " mode=%04o", (unsigned) r->mode);
        if (asprintf(&s, "%s%s%s%s%s%s%s%s", r->name, r->target ? " target=" : "", strempty(r->target), uid, gid,
                     mode, r->digest ? " digest=" : "", strempty(r->digest)) < 0)
                return NULL;
        return s;
}

char *cluster_object_ref_container_path(const ClusterObjectRef *r) {
        const char *t;
        char *s;

        assert(r && r->name);

        t = r->target ?: r->name;
        if (t[0] == '/')
                return strdup(t);
        if (asprintf(&s, "%s/%s", r->kind == CLUSTER_OBJECT_SECRET ? "/run/secrets" : "", t) < 0)
                return NULL;
        return s;
}

char *cluster_object_unit_dir(const char *unit) {
        char *s;

        if (asprintf(&s, "%s/%s", CLUSTER_OBJECTS_DIR, unit) < 0)
                return NULL;
        return s;
}

char *cluster_object_ref_host_path(const ClusterObjectRef *r, const char *unit) {
        char *s;

        assert(r && r->name);

        if (asprintf(&s, "%s/%s/%ss/%s", CLUSTER_OBJECTS_DIR, unit, cluster_object_kind_to_string(r->kind),
                     r->name) < 0)
                return NULL;
        return s;
}

int cluster_object_build(ClusterObjectKind kind, const char *name, const void *value, size_t size,
                         const ClusterKeyring *keyring, uint64_t now_usec, ClusterObject **ret, char **ret_error) {
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        int r;

        assert(value || size == 0);
        assert(ret);

        r = cluster_object_name_check(kind, name, ret_error);
        if (r < 0)
                return r;
        r = cluster_object_size_check(kind, name, size, ret_error);
        if (r < 0)
                return r;
        if (kind == CLUSTER_OBJECT_SECRET && !keyring)
                return error_message_set(ret_error, EINVAL, "sealing secret %s needs the cluster key", name);

        o = new0(ClusterObject, 1);
        if (!o)
                return -ENOMEM;
        o->kind = kind;
        o->size = size;
        o->created_usec = o->updated_usec = now_usec;
        o->name = strdup(name);
        if (!o->name)
                return -ENOMEM;
        if (kind == CLUSTER_OBJECT_SECRET) {
                r = cluster_key_seal(keyring, "secret", name, value, size, &o->key_id, &o->nonce, &o->data);
                if (r < 0)
                        return r;
                r = cluster_key_digest(keyring, value, size, &o->digest);
        } else {
                o->data = cluster_object_encode(value, size);
                if (!o->data)
                        return -ENOMEM;
                r = cluster_key_digest(NULL, value, size, &o->digest);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

void cluster_object_refs_free(ClusterObjectRef *refs, size_t n) {
        for (size_t i = 0; i < n; i++)
                cluster_object_ref_done(refs + i);
        free(refs);
}

int cluster_object_unit_refs(const char *raw, const char *unit_name, ClusterObjectKind kind,
                             ClusterObjectRef **ret, size_t *ret_n) {
        _cleanup_(unit_file_freep) UnitFile *f = NULL;
        int r;

        assert(raw);
        assert(ret && ret_n);

        r = unit_file_parse(raw, strlen(raw), &f, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        return cluster_object_unit_file_refs(f, unit_name, kind, ret, ret_n);
}

int cluster_object_unit_file_refs(const UnitFile *f, const char *unit_name, ClusterObjectKind kind,
                                  ClusterObjectRef **ret, size_t *ret_n) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        ClusterObjectRef *refs = NULL;
        size_t n = 0;
        int r;

        assert(f);
        assert(ret && ret_n);

        r = xfleet_options_parse(f, unit_name, &x, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }

        STRV_FOREACH(e, kind == CLUSTER_OBJECT_SECRET ? x->secrets : x->configs) {
                ClusterObjectRef *a = reallocarray(refs, n + 1, sizeof(ClusterObjectRef));

                if (!a) {
                        cluster_object_refs_free(refs, n);
                        return -ENOMEM;
                }
                refs = a;
                /* Stored in canonical form by the parser: it parses again. */
                r = cluster_object_ref_parse(kind, *e, refs + n, NULL);
                if (r < 0) {
                        cluster_object_refs_free(refs, n);
                        return r;
                }
                n++;
        }
        *ret = refs;
        *ret_n = n;
        return 0;
}
