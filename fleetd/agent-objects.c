/* SPDX-License-Identifier: Apache-2.0 */

/* The cluster secrets and configs of this machine's units (issue 15): read and watched in etcd
 * (P secrets/, P configs/), and materialised for each unit that names them in [X-Fleet] under
 * <objects dir>/<unit>/<kind>s/<name>, with the owner and mode the unit asks, before it is started:
 * its container bind-mounts them from there. Secrets are opened with the machine's cluster key and
 * written only to a tmpfs (a secret is never on a disk). A unit whose object is missing or cannot
 * be opened is not started; the reason is in its state record, and it starts when the object
 * appears (the watch says so). A changed object is written again (a new file: a running container
 * keeps the value it started with until the unit is restarted); a unit's directory goes with the
 * unit. */

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "agent-internal.h"
#include "cluster-key.h"
#include "error-message.h"
#include "fileio.h"
#include "log.h"
#include "unit-name.h"
#include "xfleet.h"

#define OBJECTS_RETRY_USEC (1 * USEC_PER_SEC)

static const char *const kind_dirs[_CLUSTER_OBJECT_KIND_MAX] = {
        [CLUSTER_OBJECT_SECRET] = "secrets",
        [CLUSTER_OBJECT_CONFIG] = "configs",
};

static void objects_cache_free_value(void *p) {
        cluster_object_free(p);
}

void agent_objects_done(Agent *a) {
        for (ClusterObjectKind k = 0; k < _CLUSTER_OBJECT_KIND_MAX; k++) {
                AgentObjectCache *c = a->objects + k;

                c->sync_call = etcd_call_cancel(c->sync_call);
                c->watch = etcd_watch_free(c->watch);
                c->retry = sd_event_source_unref(c->retry);
                c->records = hashmap_free_with_destructor(c->records, objects_cache_free_value);
        }
}

void agent_objects_unit_clear(AgentUnit *u) {
        cluster_object_refs_free(u->object_refs, u->n_object_refs);
        u->object_refs = NULL;
        u->n_object_refs = 0;
        u->objects_blocked = mfree(u->objects_blocked);
}

int agent_objects_set_body(Agent *a, AgentUnit *u, const UnitFile *f) {
        ClusterObjectRef *secrets = NULL, *configs = NULL, *all;
        size_t n_secrets = 0, n_configs = 0;
        int r;

        cluster_object_refs_free(u->object_refs, u->n_object_refs);
        u->object_refs = NULL;
        u->n_object_refs = 0;
        if (!f)
                return 0;
        r = cluster_object_unit_file_refs(f, unit_name_is_template(u->name) ? NULL : u->name,
                                          CLUSTER_OBJECT_SECRET, &secrets, &n_secrets);
        if (r < 0)
                return r;
        r = cluster_object_unit_file_refs(f, unit_name_is_template(u->name) ? NULL : u->name,
                                          CLUSTER_OBJECT_CONFIG, &configs, &n_configs);
        if (r < 0) {
                cluster_object_refs_free(secrets, n_secrets);
                return r;
        }
        if (n_configs == 0) {
                all = secrets;
        } else {
                all = reallocarray(secrets, n_secrets + n_configs, sizeof(ClusterObjectRef));
                if (!all) {
                        cluster_object_refs_free(secrets, n_secrets);
                        cluster_object_refs_free(configs, n_configs);
                        return -ENOMEM;
                }
                memcpy(all + n_secrets, configs, n_configs * sizeof(ClusterObjectRef));
                free(configs);
        }
        u->object_refs = all;
        u->n_object_refs = n_secrets + n_configs;
        return 0;
}

static char *unit_dir(Agent *a, const char *unit) {
        char *s;

        if (asprintf(&s, "%s%s", a->objects_dir, unit) < 0)
                return NULL;
        return s;
}

/* Remove <objects dir>/<unit>/<kind>s/<name> files, but those in keep (NULL: all), and the
 * directories left empty. Only the layout we make is walked: no symlink is followed. */
static int unit_dir_prune(Agent *a, const char *unit, const AgentUnit *keep) {
        _cleanup_free_ char *top = unit_dir(a, unit);
        _cleanup_close_ int dfd = -EBADF;
        bool empty = true;

        if (!top)
                return -ENOMEM;
        dfd = open(top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        for (ClusterObjectKind k = 0; k < _CLUSTER_OBJECT_KIND_MAX; k++) {
                _cleanup_close_ int kfd = openat(dfd, kind_dirs[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *d;
                struct dirent *de;
                bool kind_empty = true;

                if (kfd < 0)
                        continue;
                d = fdopendir(TAKE_FD(kfd));
                if (!d)
                        return -errno;
                while ((de = readdir(d))) {
                        bool kept = false;

                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        for (size_t i = 0; keep && i < keep->n_object_refs; i++)
                                kept = kept || (keep->object_refs[i].kind == k &&
                                                streq(keep->object_refs[i].name, de->d_name));
                        if (kept || unlinkat(dirfd(d), de->d_name, 0) < 0)
                                kind_empty = false;
                }
                closedir(d);
                if (!kind_empty || unlinkat(dfd, kind_dirs[k], AT_REMOVEDIR) < 0)
                        empty = false;
        }
        if (empty && unlinkat(AT_FDCWD, top, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* The value of object o as this machine reads it (a secret opened with the cluster key), or a
 * reason why not in *ret_why. */
static int object_value(Agent *a, const ClusterObject *o, char **ret, size_t *ret_size, char **ret_why) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_free_ char *msg = NULL;
        int r;

        if (o->kind == CLUSTER_OBJECT_CONFIG) {
                r = cluster_object_config_value(o, ret, ret_size);
                if (r == -EBADMSG)
                        return error_message_set(ret_why, EBADMSG, "config %s: its record in etcd is malformed", o->name);
                return r;
        }
        /* Read each time: a rotated key file is picked up without a restart. */
        r = cluster_keyring_load(a->cluster_key_path, &k, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_message_set(ret_why, -r, "secret %s cannot be opened: %s", o->name, msg);
        r = cluster_key_open(k, "secret", o->name, o->key_id, o->nonce, o->data, ret, ret_size, &msg);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOKEY)
                return error_message_set(ret_why, ENOKEY, "secret %s cannot be opened: %s", o->name, msg);
        if (r < 0)
                return error_message_set(ret_why, EBADMSG,
                                         "secret %s cannot be opened with this machine's cluster key (%s): %s",
                                         o->name, a->cluster_key_path, msg ?: "it does not authenticate");
        return 0;
}

static bool on_tmpfs(const char *path) {
        struct statfs s;

        return statfs(path, &s) >= 0 && (s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC);
}

/* Write ref's object for unit, atomically, with its owner and mode. */
static int ref_write(Agent *a, const char *unit, const ClusterObjectRef *ref, const ClusterObject *o, char **ret_why) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *tmp = NULL, *value = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;
        int r;

        if (asprintf(&dir, "%s%s/%s", a->objects_dir, unit, kind_dirs[ref->kind]) < 0 ||
            asprintf(&path, "%s/%s", dir, ref->name) < 0 || asprintf(&tmp, "%s/.#%s", dir, ref->name) < 0)
                return -ENOMEM;
        r = mkdir_p(dir, 0711);
        if (r < 0)
                return error_message_set(ret_why, -r, "cannot create %s: %s", dir, strerror(-r));
        if (ref->kind == CLUSTER_OBJECT_SECRET && !on_tmpfs(dir))
                return error_message_set(ret_why, EPERM,
                                         "%s is not on a tmpfs, and a secret is never written to a disk", dir);

        r = object_value(a, o, &value, &size, ret_why);
        if (r < 0)
                return r;
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                r = -errno;
        else if (fchown(fd, ref->uid, ref->gid) < 0 || fchmod(fd, ref->mode) < 0)
                r = -errno;
        else {
                for (size_t done = 0; done < size && r >= 0;) {
                        ssize_t n = write(fd, value + done, size - done);

                        if (n < 0 && errno != EINTR)
                                r = -errno;
                        else if (n > 0)
                                done += n;
                }
        }
        explicit_bzero(value, size);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return error_message_set(ret_why, -r, "cannot write %s (uid %u, gid %u, mode %04o): %s", path,
                                         (unsigned) ref->uid, (unsigned) ref->gid, (unsigned) ref->mode, strerror(-r));
        }
        return 0;
}

/* Write every object of u; 0, or a reason why not in *ret_why (and a negative errno). */
static int unit_write_all(Agent *a, AgentUnit *u, char **ret_why) {
        int r;

        for (size_t i = 0; i < u->n_object_refs; i++) {
                const ClusterObjectRef *ref = u->object_refs + i;
                const AgentObjectCache *c = a->objects + ref->kind;
                const char *kind = cluster_object_kind_to_string(ref->kind);
                const ClusterObject *o;

                if (!c->synced)
                        return error_message_set(ret_why, EAGAIN, "waiting for the cluster's %ss to be read from etcd",
                                                 kind);
                o = hashmap_get(c->records, ref->name);
                if (!o)
                        return error_message_set(ret_why, ENOENT,
                                                 "%s %s does not exist in the cluster (fleetctl %s create %s FILE)",
                                                 kind, ref->name, kind, ref->name);
                r = ref_write(a, u->name, ref, o, ret_why);
                if (r < 0)
                        return r;
        }
        /* What an older body named and this one does not goes. */
        return unit_dir_prune(a, u->name, u);
}

static void set_blocked(Agent *a, AgentUnit *u, char *why) {
        if (streq_ptr(u->objects_blocked, why)) {
                free(why);
                return;
        }
        if (why)
                log_notice("Not starting %s: %s.", u->name, why);
        else if (u->objects_blocked)
                log_info("The objects of %s are there now: starting it.", u->name);
        free_and_replace(u->objects_blocked, why);
        agent_schedule_publish(a);
}

int agent_objects_materialise(Agent *a, AgentUnit *u) {
        _cleanup_free_ char *why = NULL;
        int r;

        if (u->n_object_refs == 0) {
                set_blocked(a, u, NULL);
                return unit_dir_prune(a, u->name, NULL) == -ENOMEM ? -ENOMEM : 0;
        }
        r = unit_write_all(a, u, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                set_blocked(a, u, TAKE_PTR(why));
                return 1;
        }
        set_blocked(a, u, NULL);
        return 0;
}

void agent_objects_unit_gone(Agent *a, AgentUnit *u) {
        int r;

        r = unit_dir_prune(a, u->name, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the secrets and configs of %s: %m", u->name);
}

/* kind/name changed (o: its new record; NULL: deleted): write it again for the units that started
 * with it, and let those waiting for it try again. */
static void object_changed(Agent *a, ClusterObjectKind kind, const char *name, const ClusterObject *o) {
        AgentUnit *u;
        bool again = false;

        HASHMAP_FOREACH(u, a->units) {
                for (size_t i = 0; i < u->n_object_refs; i++) {
                        const ClusterObjectRef *ref = u->object_refs + i;
                        _cleanup_free_ char *why = NULL;
                        int r;

                        if (ref->kind != kind || !streq(ref->name, name))
                                continue;
                        if (u->objects_blocked || !u->started)
                                again = true;
                        else if (o) {
                                /* Running: its container keeps the file it mounted (a rename
                                 * makes a new one); the next start mounts the new value. */
                                r = ref_write(a, u->name, ref, o, &why);
                                if (r < 0)
                                        log_warning("%s of %s not updated: %s", name, u->name, strna(why));
                        }
                }
        }
        if (again)
                agent_schedule_reconcile(a);
}

static int cache_put(Agent *a, ClusterObjectKind kind, const EtcdKeyValue *kv, bool notify) {
        AgentObjectCache *c = a->objects + kind;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *p = cluster_objects_prefix(a->prefix, kind);
        const char *name;
        int r;

        if (!p)
                return -ENOMEM;
        name = startswith(kv->key, p);
        if (!name)
                return 0;
        r = cluster_object_from_json(kind, kv->value, kv->value_size, &o);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !streq(o->name, name)) {
                log_warning("Ignoring the malformed record %s.", kv->key);
                cluster_object_free(hashmap_remove(c->records, name));
                return 0;
        }
        cluster_object_free(hashmap_remove(c->records, name));
        r = hashmap_put(c->records, o->name, o);
        if (r < 0)
                return r;
        if (notify)
                object_changed(a, kind, o->name, o);
        TAKE_PTR(o);
        return 0;
}

static void objects_sync(Agent *a, ClusterObjectKind kind);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        AgentObjectCache *c = userdata;

        c->retry = sd_event_source_unref(c->retry);
        objects_sync(c->agent, c->kind);
        return 0;
}

static void sync_later(AgentObjectCache *c) {
        int r;

        r = sd_event_add_time_relative(c->agent->event, &c->retry, CLOCK_MONOTONIC, OBJECTS_RETRY_USEC, 0,
                                       on_retry, c);
        if (r < 0)
                log_error_errno(r, "Failed to arm the %ss' re-read: %m", cluster_object_kind_to_string(c->kind));
}

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        AgentObjectCache *c = userdata;
        Agent *a = c->agent;
        int r = 0;

        if (error < 0) {
                log_warning_errno(error, "The %ss' watch ended, reading them again: %m",
                                  cluster_object_kind_to_string(c->kind));
                c->watch = etcd_watch_free(c->watch);
                objects_sync(a, c->kind);
                return;
        }
        for (size_t i = 0; i < n_events; i++) {
                if (events[i].type == ETCD_EVENT_PUT)
                        r = cache_put(a, c->kind, &events[i].kv, true);
                else {
                        _cleanup_free_ char *p = cluster_objects_prefix(a->prefix, c->kind);
                        const char *name = p ? startswith(events[i].kv.key, p) : NULL;

                        if (!p)
                                r = -ENOMEM;
                        else if (name) {
                                cluster_object_free(hashmap_remove(c->records, name));
                                object_changed(a, c->kind, name, NULL);
                        }
                }
                if (r < 0)
                        log_error_errno(r, "Failed to apply a %s change: %m", cluster_object_kind_to_string(c->kind));
        }
}

static void on_synced(EtcdClient *e, int error, const EtcdResponse *response, void *userdata) {
        AgentObjectCache *c = userdata;
        Agent *a = c->agent;
        _cleanup_free_ char *p = NULL;
        int r;

        c->sync_call = NULL;
        if (error < 0) {
                log_warning_errno(error, "Failed to read the cluster's %ss, retrying: %m",
                                  cluster_object_kind_to_string(c->kind));
                sync_later(c);
                return;
        }
        {
                ClusterObject *o;

                HASHMAP_FOREACH(o, c->records)
                        cluster_object_free(o);
                hashmap_clear(c->records);
        }
        for (size_t i = 0; i < response->n_kvs; i++) {
                r = cache_put(a, c->kind, &response->kvs[i], false);
                if (r < 0) {
                        log_oom();
                        sync_later(c);
                        return;
                }
        }
        c->synced = true;

        p = cluster_objects_prefix(a->prefix, c->kind);
        r = p ? etcd_watch_new(&c->watch, a->etcd, p, ETCD_PREFIX, response->revision + 1, on_watch, c) : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to watch the cluster's %ss, retrying: %m",
                                  cluster_object_kind_to_string(c->kind));
                sync_later(c);
        }
        /* Units waiting for them, or for an object that appeared meanwhile, try again. */
        agent_schedule_reconcile(a);
}

static void objects_sync(Agent *a, ClusterObjectKind kind) {
        AgentObjectCache *c = a->objects + kind;
        _cleanup_free_ char *p = cluster_objects_prefix(a->prefix, kind);
        int r;

        if (a->shutting_down)
                return;
        c->watch = etcd_watch_free(c->watch);
        c->sync_call = etcd_call_cancel(c->sync_call);
        c->retry = sd_event_source_unref(c->retry);
        r = p ? etcd_range(a->etcd, &(EtcdRangeOptions) { .key = p, .flags = ETCD_PREFIX }, on_synced, c,
                           &c->sync_call)
              : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to read the cluster's %ss, retrying: %m", cluster_object_kind_to_string(kind));
                sync_later(c);
        }
}

int agent_objects_start(Agent *a) {
        for (ClusterObjectKind k = 0; k < _CLUSTER_OBJECT_KIND_MAX; k++) {
                AgentObjectCache *c = a->objects + k;

                c->agent = a;
                c->kind = k;
                if (!c->records) {
                        c->records = hashmap_new();
                        if (!c->records)
                                return -ENOMEM;
                }
                objects_sync(a, k);
        }
        return 0;
}

void agent_objects_clean_stale(Agent *a) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        d = opendir(a->objects_dir);
        if (!d)
                return;
        while ((de = readdir(d))) {
                AgentUnit *u;
                int r;

                if (de->d_name[0] == '.')
                        continue;
                u = hashmap_get(a->units, de->d_name);
                if (u && u->assignment)
                        continue;
                r = unit_dir_prune(a, de->d_name, NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove the stale objects of %s: %m", de->d_name);
                else
                        log_info("Removed the secrets and configs of %s: it is not on this machine any more.",
                                 de->d_name);
        }
}
