/* SPDX-License-Identifier: Apache-2.0 */

/* fleetctl secret|config create|ls|inspect|rm: docker's verbs for the cluster's secrets and configs
 * (issue 15). A secret's value is sealed here, with the cluster key, before it leaves the machine,
 * and no verb ever prints it. */

#include <jansson.h>
#include <time.h>
#include <unistd.h>

#include "cluster-key.h"
#include "fileio.h"
#include "fleetctl.h"
#include "log.h"
#include "objects.h"
#include "strv.h"
#include "table.h"
#include "time-util.h"

static const char *kind_title(ClusterObjectKind kind) {
        return kind == CLUSTER_OBJECT_SECRET ? "Secret" : "Config";
}

int fleetctl_cluster_keyring(ClusterKeyring **ret) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = cluster_keyring_load(arg_cluster_key ?: CLUSTER_KEY_DEFAULT_PATH, ret, &msg);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s%s", msg,
                                       r == -ENOENT || r == -EACCES
                                               ? " (secrets are sealed with the cluster key: run as root on a "
                                                 "machine of the cluster, or give --cluster-key=FILE)"
                                               : "");
        return 0;
}

/* The value to store: FILE, or stdin for "-" or no FILE (docker's "-"). */
static int read_value(ClusterObjectKind kind, const char *name, const char *file, char **ret, size_t *ret_size) {
        _cleanup_free_ char *msg = NULL;
        int r;

        if (!file || streq(file, "-"))
                r = read_full_stream(stdin, ret, ret_size, CLUSTER_OBJECT_SIZE_MAX + 1);
        else
                r = read_full_file(file, ret, ret_size, CLUSTER_OBJECT_SIZE_MAX + 1);
        if (r == -EFBIG)
                return log_error_errno(r, "%s %s: %s is more than the limit of %u bytes (500 KiB)", kind_title(kind),
                                       name, file && !streq(file, "-") ? file : "the standard input",
                                       CLUSTER_OBJECT_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot read %s: %m", kind_title(kind), name,
                                       file && !streq(file, "-") ? file : "the standard input");
        r = cluster_object_size_check(kind, name, *ret_size, &msg);
        if (r < 0)
                return log_error_errno(r, "%s: %s", file && !streq(file, "-") ? file : "the standard input", msg);
        return 0;
}

static int object_create(ClusterObjectKind kind, int argc, char *argv[]) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *value = NULL, *msg = NULL;
        const char *name;
        size_t size = 0;
        EtcdClient *c;
        int r;

        if (argc < 3 || argc > 4)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Usage: fleetctl %s create NAME [FILE|-]",
                                       cluster_object_kind_to_string(kind));
        name = argv[2];
        r = cluster_object_name_check(kind, name, &msg);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : log_error_errno(r, "%s", msg);
        r = read_value(kind, name, argc > 3 ? argv[3] : NULL, &value, &size);
        if (r < 0)
                return r;
        if (kind == CLUSTER_OBJECT_SECRET) {
                r = fleetctl_cluster_keyring(&k);
                if (r < 0)
                        return r;
        }
        r = cluster_object_build(kind, name, value, size, k, now(CLOCK_REALTIME), &o, &msg);
        if (value)
                explicit_bzero(value, size);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", msg);

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = objects_create(c, arg_etcd_key_prefix, o);
        if (r == -EEXIST)
                return log_error_errno(r, "%s %s already exists (remove it first, or choose another name)",
                                       kind_title(kind), name);
        if (r < 0)
                return fleetctl_log_etcd_error(r, kind == CLUSTER_OBJECT_SECRET ? "create the secret" : "create the config");
        puts(name);
        return 0;
}

static char *format_time(uint64_t usec) {
        char buf[64];
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return strdup("-");
        return strdup(buf);
}

static int object_ls(ClusterObjectKind kind, int argc, char *argv[]) {
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ char *out = NULL;
        ClusterObject **l = NULL;
        size_t n = 0, bad = 0;
        EtcdClient *c;
        int r;

        if (argc != 2)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Usage: fleetctl %s ls",
                                       cluster_object_kind_to_string(kind));
        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = objects_list(c, arg_etcd_key_prefix, kind, &l, &n, &bad);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "list the objects");

        t = table_new();
        if (!t)
                goto oom;
        if (!arg_no_legend && table_add_row(t, STRV_MAKE("NAME", "SIZE", "CREATED", "UPDATED"), 4) < 0)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *size = NULL, *created = format_time(l[i]->created_usec),
                                    *updated = format_time(l[i]->updated_usec);

                if (asprintf(&size, "%" PRIu64, l[i]->size) < 0 || !created || !updated ||
                    table_add_row(t, STRV_MAKE(l[i]->name, size, created, updated), 4) < 0)
                        goto oom;
        }
        if (table_format(t, &out) < 0)
                goto oom;
        fputs(out, stdout);
        objects_list_free(l, n);
        if (bad > 0)
                log_warning("%zu malformed %s record(s) skipped", bad, cluster_object_kind_to_string(kind));
        return 0;
oom:
        objects_list_free(l, n);
        return log_oom();
}

/* docker's inspect: a JSON array, one object per name. A secret's shows no value, sealed or not. */
static int object_inspect(ClusterObjectKind kind, int argc, char *argv[]) {
        json_auto_t *a = json_array();
        _cleanup_free_ char *s = NULL;
        EtcdClient *c;
        int r, ret = 0;

        if (argc < 3)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Usage: fleetctl %s inspect NAME...",
                                       cluster_object_kind_to_string(kind));
        if (!a)
                return log_oom();
        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        for (int i = 2; i < argc; i++) {
                _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
                _cleanup_free_ char *created = NULL, *updated = NULL;
                json_t *j;

                r = objects_get(c, arg_etcd_key_prefix, kind, argv[i], &o, NULL);
                if (r == -ENOENT) {
                        ret = log_error_errno(r, "%s %s not found", kind_title(kind), argv[i]);
                        continue;
                }
                if (r == -EBADMSG) {
                        ret = log_error_errno(r, "The record of %s %s in the cluster is malformed",
                                              cluster_object_kind_to_string(kind), argv[i]);
                        continue;
                }
                if (r < 0)
                        return fleetctl_log_etcd_error(r, "read the object");
                created = format_time(o->created_usec);
                updated = format_time(o->updated_usec);
                if (!created || !updated)
                        return log_oom();
                j = json_pack("{s:s, s:I, s:s, s:s, s:s}", "Name", o->name, "Size", (json_int_t) o->size,
                              "Digest", o->digest, "CreatedAt", created, "UpdatedAt", updated);
                if (!j || json_array_append_new(a, j) < 0)
                        return log_oom();
                if (kind == CLUSTER_OBJECT_SECRET)
                        r = json_object_set_new(j, "KeyID", json_string(o->key_id));
                else
                        r = json_object_set_new(j, "Data", json_string(o->data));
                if (r < 0)
                        return log_oom();
        }
        s = json_dumps(a, JSON_INDENT(4));
        if (!s)
                return log_oom();
        puts(s);
        return ret;
}

static int object_rm(ClusterObjectKind kind, int argc, char *argv[]) {
        EtcdClient *c;
        int r, ret = 0;

        if (argc < 3)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Usage: fleetctl %s rm NAME...",
                                       cluster_object_kind_to_string(kind));
        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        for (int i = 2; i < argc; i++) {
                _cleanup_strv_free_ char **users = NULL;
                _cleanup_free_ char *list = NULL;

                r = objects_remove(c, arg_etcd_key_prefix, kind, argv[i], &users);
                if (r == -ENOENT) {
                        ret = log_error_errno(r, "%s %s not found", kind_title(kind), argv[i]);
                        continue;
                }
                if (r == -EBUSY) {
                        list = strv_join(users, ", ");
                        ret = log_error_errno(r, "%s %s is in use by unit%s %s: destroy %s first",
                                              kind_title(kind), argv[i], strv_length(users) > 1 ? "s" : "",
                                              strna(list), strv_length(users) > 1 ? "them" : "it");
                        continue;
                }
                if (r == -EAGAIN) {
                        ret = log_error_errno(r, "%s %s changed while it was being removed: try again",
                                              kind_title(kind), argv[i]);
                        continue;
                }
                if (r == -EBADMSG) {
                        ret = log_error_errno(r, "The record of %s %s in the cluster is malformed",
                                              cluster_object_kind_to_string(kind), argv[i]);
                        continue;
                }
                if (r < 0)
                        return fleetctl_log_etcd_error(r, "remove the object");
                puts(argv[i]);
        }
        return ret;
}

static int object_verb(ClusterObjectKind kind, int argc, char *argv[]) {
        const char *sub = argv[1];

        if (streq(sub, "create"))
                return object_create(kind, argc, argv);
        if (streq(sub, "ls") || streq(sub, "list"))
                return object_ls(kind, argc, argv);
        if (streq(sub, "inspect"))
                return object_inspect(kind, argc, argv);
        if (streq(sub, "rm") || streq(sub, "remove"))
                return object_rm(kind, argc, argv);
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown command \"%s %s\": expected create, ls, inspect or rm",
                               cluster_object_kind_to_string(kind), sub);
}

int verb_secret(int argc, char *argv[]) {
        return object_verb(CLUSTER_OBJECT_SECRET, argc, argv);
}

int verb_config(int argc, char *argv[]) {
        return object_verb(CLUSTER_OBJECT_CONFIG, argc, argv);
}
