/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cluster's DNS on this machine: fleetd keeps a dnsmasq (fleet-dns.service, a runtime unit it
 * writes and starts) answering the names of every published container of the cluster. It reads
 * P names/ and then watches it; each record becomes one file in the hosts directory,
 * "<machine-id>_<unit>" holding "ADDRESS name ...", written atomically (a hidden temporary renamed
 * over it) and removed when the record goes. dnsmasq's --hostsdir picks every change up by inotify
 * before its next answer. Names and scopes: lib/service-names.h. */

#include <systemd/sd-event.h>

#include "systemd-client.h"
#include "etcd-client.h"
#include "macro.h"
#include "registry.h"

typedef struct NamesDns NamesDns;

typedef struct NamesDnsConfig {
        const char *key_prefix;         /* P, ending in '/' */
        const char *domain;             /* the cluster's DNS domain */
        const char *address;            /* where dnsmasq listens (put on lo) */
        const char *hosts_dir;          /* absolute; created if missing */
        const char *unit_directory;     /* where fleet-dns.service goes; NULL = /run/systemd/system/ */
} NamesDnsConfig;

typedef struct NamesDnsStats {
        uint64_t n_syncs;               /* full reads of P names/ */
        uint64_t n_writes;              /* hosts files written */
        uint64_t n_removals;            /* hosts files removed */
} NamesDnsStats;

/* Create the feeder (event and etcd borrowed, must outlive it; config copied). Returns 0, -EINVAL
 * for a bad prefix, domain, address or directory, -ENOMEM. */
int names_dns_new(NamesDns **ret, sd_event *event, EtcdClient *etcd, const NamesDnsConfig *config);
/* Create the hosts directory, write and start fleet-dns.service through systemd (if given; a
 * failure there is logged, names are still written), then read and watch the names. Returns 0 or
 * a negative errno (the directory). */
int names_dns_start(NamesDns *d, SystemdClient *systemd);
/* The text of fleet-dns.service for these settings (malloc'd). Returns 0 or -ENOMEM. */
int names_dns_unit_text(const char *address, const char *domain, const char *hosts_dir, char **ret);
const NamesDnsStats *names_dns_get_stats(const NamesDns *d);

/* Told every record the feeder sees: key and record for a put, key and NULL for a record gone, NULL
 * and NULL before the names are read again from scratch (forget them all). The record is borrowed
 * for the call. Others that need the published containers (the scopes' firewall) follow the one
 * watch this way. */
typedef void (*names_dns_record_handler_t)(const char *key, const RegistryName *n, void *userdata);
void names_dns_set_record_handler(NamesDns *d, names_dns_record_handler_t handler, void *userdata);
/* Told the etcd revision up to which the hosts files follow P names/, each time it grows (after a
 * read, after the files of a watch batch are written). The agent publishes it
 * (registry_names_applied_key()) so that a machine withdrawing a name knows when no DNS of the
 * cluster gives it out any more. */
typedef void (*names_dns_applied_handler_t)(int64_t revision, void *userdata);
void names_dns_set_applied_handler(NamesDns *d, names_dns_applied_handler_t handler, void *userdata);
/* Stop watching; files and dnsmasq stay (the next fleetd takes them over). Accepts NULL. */
NamesDns *names_dns_free(NamesDns *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(NamesDns *, names_dns_free);
