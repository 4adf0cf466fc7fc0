/* SPDX-License-Identifier: Apache-2.0 */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hashmap.h"
#include "log.h"
#include "names-dns.h"
#include "registry.h"
#include "service-names.h"
#include "strv.h"
#include "time-util.h"

#define SYNC_RETRY_USEC USEC_PER_SEC
#define DNS_UNIT "fleet-dns.service"

struct NamesDns {
        sd_event *event;
        EtcdClient *etcd;
        SystemdClient *systemd;
        char *prefix;
        char *names_prefix;
        char *domain;
        char *address;
        char *hosts_dir;
        char *unit_dir;

        EtcdCall *sync_call;
        EtcdWatch *watch;
        sd_event_source *sync_retry;
        Set *files;                     /* owns its names: the files in hosts_dir that are ours */
        names_dns_record_handler_t on_record;
        void *on_record_userdata;
        names_dns_applied_handler_t on_applied;
        void *on_applied_userdata;
        int64_t applied;                /* the revision the files follow the names up to */
        NamesDnsStats stats;
};

/* The file of a name key: "<machine-id>_<unit>" (never a dot-file: dnsmasq would skip it), or NULL
 * for a key that is not a name. */
static char *key_file(NamesDns *d, const char *key) {
        _cleanup_free_ char *unit = NULL, *machine = NULL;
        char *f;

        if (registry_parse_key(d->prefix, key, &unit, &machine) != REGISTRY_KEY_NAME)
                return NULL;
        if (asprintf(&f, "%s_%s", machine, unit) < 0)
                return NULL;
        return f;
}

static int file_path(NamesDns *d, const char *file, char **ret) {
        return asprintf(ret, "%s/%s", d->hosts_dir, file) < 0 ? -ENOMEM : 0;
}

/* One hosts line: "ADDRESS name name ...". */
static int apply_put(NamesDns *d, const EtcdKeyValue *kv) {
        _cleanup_(registry_name_freep) RegistryName *n = NULL;
        _cleanup_free_ char *file = NULL, *path = NULL, *names = NULL, *text = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        file = key_file(d, kv->key);
        if (!file)
                return 0;
        r = registry_name_from_json(kv->value, kv->value_size, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning("Ignoring malformed name record %s.", kv->key);
                return 0;
        }
        if (d->on_record)
                d->on_record(kv->key, n, d->on_record_userdata);
        r = service_names_of(n, d->domain, &l);
        if (r < 0)
                return r;
        names = strv_join(l, " ");
        if (!names || asprintf(&text, "%s %s\n", n->address, names) < 0)
                return -ENOMEM;
        r = file_path(d, file, &path);
        if (r < 0)
                return r;
        /* A hidden temporary renamed over the file: dnsmasq reads whole files only. */
        r = write_file_atomic(path, text, strlen(text), 0644, false);
        if (r < 0)
                return log_warning_errno(r, "Failed to write %s: %m", path);
        d->stats.n_writes++;
        if (!set_contains(d->files, file)) {
                r = set_consume(d->files, TAKE_PTR(file));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int remove_file(NamesDns *d, const char *file) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = file_path(d, file, &path);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return log_warning_errno(errno, "Failed to remove %s: %m", path);
        d->stats.n_removals++;
        free(set_remove(d->files, file));
        return 0;
}

static int apply_delete(NamesDns *d, const EtcdKeyValue *kv) {
        _cleanup_free_ char *file = key_file(d, kv->key);

        if (file && d->on_record)
                d->on_record(kv->key, NULL, d->on_record_userdata);
        return file ? remove_file(d, file) : 0;
}

static int names_dns_sync(NamesDns *d);

static void applied(NamesDns *d, int64_t revision) {
        if (revision <= d->applied)
                return;
        d->applied = revision;
        if (d->on_applied)
                d->on_applied(revision, d->on_applied_userdata);
}

static int on_sync_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        NamesDns *d = userdata;

        d->sync_retry = sd_event_source_unref(d->sync_retry);
        (void) names_dns_sync(d);
        return 0;
}

static void sync_later(NamesDns *d) {
        int r;

        d->sync_retry = sd_event_source_unref(d->sync_retry);
        r = sd_event_add_time_relative(d->event, &d->sync_retry, CLOCK_MONOTONIC, SYNC_RETRY_USEC, 0,
                                       on_sync_retry, d);
        if (r < 0)
                log_error_errno(r, "Failed to arm the names re-read: %m");
}

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        NamesDns *d = userdata;
        int64_t last = 0;
        int r;

        if (error < 0) {
                log_warning_errno(error, "The names watch ended, reading the names again: %m");
                d->watch = etcd_watch_free(d->watch);
                if (error == -ESTALE)
                        (void) names_dns_sync(d);
                else
                        sync_later(d);
                return;
        }
        for (size_t i = 0; i < n_events; i++) {
                r = events[i].type == ETCD_EVENT_PUT ? apply_put(d, &events[i].kv) : apply_delete(d, &events[i].kv);
                if (r == -ENOMEM)
                        log_oom();
                last = MAX(last, events[i].kv.mod_revision);
        }
        /* The events' own revision, not the header's: etcd may send a backlog in several parts
         * under one header revision. A file that could not be written is no reason to hold back
         * the others' drains (it was logged). */
        applied(d, last);
}

static void on_synced(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        NamesDns *d = userdata;
        _cleanup_(set_free_freep) Set *seen = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int r;

        d->sync_call = NULL;
        if (error < 0) {
                log_warning_errno(error, "Failed to read the service names, retrying: %m");
                sync_later(d);
                return;
        }
        seen = set_new();
        if (!seen)
                goto oom;
        if (d->on_record)
                d->on_record(NULL, NULL, d->on_record_userdata);
        for (size_t i = 0; i < response->n_kvs; i++) {
                char *file = key_file(d, response->kvs[i].key);

                if (!file)
                        continue;
                if (set_consume(seen, file) < 0 || apply_put(d, &response->kvs[i]) == -ENOMEM)
                        goto oom;
        }
        /* Files of names that went while nobody watched (fleetd restarted, the watch broke). */
        dir = opendir(d->hosts_dir);
        while (dir && (de = readdir(dir)))
                if (de->d_name[0] != '.' && !set_contains(seen, de->d_name))
                        (void) remove_file(d, de->d_name);

        d->stats.n_syncs++;
        applied(d, response->revision);
        log_debug("Service names read at revision %" PRIi64 ": %zu records.", response->revision, (size_t) set_size(seen));
        r = etcd_watch_new(&d->watch, d->etcd, d->names_prefix, ETCD_PREFIX, response->revision + 1, on_watch, d);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch the service names, retrying: %m");
                sync_later(d);
        }
        return;
oom:
        log_oom();
        sync_later(d);
}

static int names_dns_sync(NamesDns *d) {
        EtcdRangeOptions options = {
                .key = d->names_prefix,
                .flags = ETCD_PREFIX,
        };
        int r;

        d->watch = etcd_watch_free(d->watch);
        d->sync_call = etcd_call_cancel(d->sync_call);
        r = etcd_range(d->etcd, &options, on_synced, d, &d->sync_call);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the service names, retrying: %m");
                sync_later(d);
        }
        return 0;
}

int names_dns_unit_text(const char *address, const char *domain, const char *hosts_dir, char **ret) {
        /* dnsmasq answers from the hosts directory (re-read by inotify on every rename) and nothing
         * else: no /etc/hosts, no config file. --local makes unknown names of the domain NXDOMAIN
         * (musl treats REFUSED as an error); other names go to the machine's resolvers. TTL 0:
         * a moved service is found at once. The address lives on lo, the same on every machine. */
        if (asprintf(ret,
                     "# Written by fleetd: the cluster's DNS on this machine (docs/network.md).\n"
                     "[Unit]\n"
                     "Description=fleet cluster DNS (dnsmasq, names of the cluster network's containers)\n"
                     "After=network.target\n"
                     "\n"
                     "[Service]\n"
                     "ExecStartPre=/sbin/ip address replace %s/32 dev lo\n"
                     "ExecStart=/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-hosts "
                     "--hostsdir=%s --listen-address=%s --bind-interfaces --local=/%s/ --domain-needed "
                     "--local-ttl=0 --pid-file=%s/../dnsmasq.pid --log-facility=-\n"
                     "Restart=always\n"
                     "RestartSec=1\n",
                     address, hosts_dir, address, domain, hosts_dir) < 0)
                return -ENOMEM;
        return 0;
}

static void on_dns_reloaded(SystemdClient *s, int error, void *userdata) {
        int r;

        if (error < 0)
                log_warning_errno(error, "Failed to reload systemd for " DNS_UNIT ": %m");
        r = systemd_client_start_unit(s, DNS_UNIT);
        if (r < 0)
                log_warning_errno(r, "Failed to start " DNS_UNIT ": %m");
}

static int start_dnsmasq(NamesDns *d) {
        _cleanup_free_ char *text = NULL, *path = NULL, *old = NULL;
        int r;

        r = names_dns_unit_text(d->address, d->domain, d->hosts_dir, &text);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s" DNS_UNIT, d->unit_dir) < 0)
                return -ENOMEM;
        if (read_full_file(path, &old, NULL, 64 * 1024) >= 0 && streq(old, text))
                return systemd_client_start_unit(d->systemd, DNS_UNIT);
        r = mkdir_p(d->unit_dir, 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), 0644, false);
        if (r < 0)
                return r;
        return systemd_client_reload(d->systemd, on_dns_reloaded, d);
}

int names_dns_new(NamesDns **ret, sd_event *event, EtcdClient *etcd, const NamesDnsConfig *config) {
        _cleanup_(names_dns_freep) NamesDns *d = NULL;

        assert(ret);
        assert(config);

        if (!config->key_prefix || !endswith(config->key_prefix, "/") || !cluster_dns_word_is_valid(config->domain) ||
            isempty(config->address) || isempty(config->hosts_dir) || config->hosts_dir[0] != '/')
                return -EINVAL;
        d = new0(NamesDns, 1);
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->etcd = etcd;
        d->prefix = strdup(config->key_prefix);
        d->names_prefix = registry_names_prefix(config->key_prefix);
        d->domain = strdup(config->domain);
        d->address = strdup(config->address);
        d->hosts_dir = strdup(config->hosts_dir);
        d->unit_dir = strdup(config->unit_directory ?: "/run/systemd/system/");
        d->files = set_new();
        if (!d->prefix || !d->names_prefix || !d->domain || !d->address || !d->hosts_dir || !d->unit_dir || !d->files)
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

int names_dns_start(NamesDns *d, SystemdClient *systemd) {
        int r;

        assert(d);

        r = mkdir_p(d->hosts_dir, 0755);
        if (r < 0)
                return r;
        d->systemd = systemd;
        if (systemd) {
                r = start_dnsmasq(d);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up " DNS_UNIT ", names will not resolve here: %m");
        }
        return names_dns_sync(d);
}

void names_dns_set_record_handler(NamesDns *d, names_dns_record_handler_t handler, void *userdata) {
        assert(d);
        d->on_record = handler;
        d->on_record_userdata = userdata;
}

void names_dns_set_applied_handler(NamesDns *d, names_dns_applied_handler_t handler, void *userdata) {
        assert(d);
        d->on_applied = handler;
        d->on_applied_userdata = userdata;
}

const NamesDnsStats *names_dns_get_stats(const NamesDns *d) {
        return &d->stats;
}

NamesDns *names_dns_free(NamesDns *d) {
        if (!d)
                return NULL;
        etcd_call_cancel(d->sync_call);
        etcd_watch_free(d->watch);
        sd_event_source_unref(d->sync_retry);
        set_free_free(d->files);
        free(d->prefix);
        free(d->names_prefix);
        free(d->domain);
        free(d->address);
        free(d->hosts_dir);
        free(d->unit_dir);
        sd_event_unref(d->event);
        return mfree(d);
}
