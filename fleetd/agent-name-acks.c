/* SPDX-License-Identifier: Apache-2.0 */

/* How far each machine's DNS has followed the names: P names-applied/<machine> holds the revision up
 * to which its hosts files follow P names/ (names-dns.h). This machine writes its own with the
 * states, under its lease, and reads and then watches everybody's. A unit whose name was withdrawn
 * at revision R is stopped only once every machine listed has reached R (agent-names.c): a fixed
 * period alone is too short when a machine's fleetd is slow to apply the delete, and needlessly
 * long when all are quick. A machine that is gone drops out with its lease; one whose fleetd is
 * frozen is waited for at most DRAIN_ACK_MAX_USEC. */

#include "agent-internal.h"
#include "log.h"
#include "parse-util.h"
#include "strv.h"

#define ACKS_RETRY_USEC (1 * USEC_PER_SEC)

typedef struct NameAck {
        char *machine_id;               /* the key in Agent.name_acks */
        int64_t revision;
} NameAck;

static NameAck *name_ack_free(NameAck *k) {
        if (!k)
                return NULL;
        free(k->machine_id);
        return mfree(k);
}

static void name_ack_free_void(void *p) {
        name_ack_free(p);
}

static void acks_clear(Agent *a) {
        NameAck *k;

        HASHMAP_FOREACH(k, a->name_acks)
                name_ack_free(k);
        hashmap_clear(a->name_acks);
}

/* A put of P names-applied/<machine>; anything else under the prefix is ignored. */
static int ack_put(Agent *a, const EtcdKeyValue *kv) {
        _cleanup_free_ char *text = NULL;
        const char *mid = registry_names_applied_key_machine(a->prefix, kv->key);
        NameAck *k;
        uint64_t v;

        if (!mid)
                return 0;
        text = strndup(kv->value ?: "", kv->value_size);
        if (!text)
                return -ENOMEM;
        if (parse_u64(text, &v) < 0 || v > INT64_MAX) {
                log_warning("Ignoring malformed names-applied record %s.", kv->key);
                return 0;
        }
        k = hashmap_get(a->name_acks, mid);
        if (!k) {
                k = new0(NameAck, 1);
                if (!k || !(k->machine_id = strdup(mid)) || hashmap_put(a->name_acks, k->machine_id, k) < 0) {
                        name_ack_free(k);
                        return -ENOMEM;
                }
        }
        k->revision = (int64_t) v;
        return 0;
}

static void ack_delete(Agent *a, const EtcdKeyValue *kv) {
        const char *mid = registry_names_applied_key_machine(a->prefix, kv->key);

        if (mid)
                name_ack_free(hashmap_remove(a->name_acks, mid));
}

static void acks_sync(Agent *a);

static int on_acks_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;

        a->name_acks_retry = sd_event_source_unref(a->name_acks_retry);
        acks_sync(a);
        return 0;
}

static void acks_sync_later(Agent *a) {
        int r;

        r = agent_arm_timer(a, &a->name_acks_retry, ACKS_RETRY_USEC, on_acks_retry);
        if (r < 0)
                log_error_errno(r, "Failed to arm the names-applied re-read: %m");
}

static void on_acks_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                          void *userdata) {
        Agent *a = userdata;

        if (error < 0) {
                log_warning_errno(error, "The names-applied watch ended, reading it again: %m");
                a->name_acks_watch = etcd_watch_free(a->name_acks_watch);
                acks_sync(a);
                return;
        }
        for (size_t i = 0; i < n_events; i++) {
                if (events[i].type == ETCD_EVENT_DELETE)
                        ack_delete(a, &events[i].kv);
                else if (ack_put(a, &events[i].kv) < 0)
                        log_oom();
        }
        agent_names_acks_changed(a);
}

static void on_acks_synced(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        _cleanup_free_ char *p = NULL;
        Agent *a = userdata;
        int r;

        a->name_acks_call = NULL;
        if (error < 0) {
                log_warning_errno(error, "Failed to read how far the machines' DNS are, retrying: %m");
                acks_sync_later(a);
                return;
        }
        acks_clear(a);
        for (size_t i = 0; i < response->n_kvs; i++)
                if (ack_put(a, &response->kvs[i]) < 0) {
                        log_oom();
                        acks_sync_later(a);
                        return;
                }
        p = registry_names_applied_prefix(a->prefix);
        r = p ? etcd_watch_new(&a->name_acks_watch, a->etcd, p, ETCD_PREFIX, response->revision + 1,
                               on_acks_watch, a)
              : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to watch how far the machines' DNS are, retrying: %m");
                acks_sync_later(a);
        }
        agent_names_acks_changed(a);
}

static void acks_sync(Agent *a) {
        _cleanup_free_ char *p = registry_names_applied_prefix(a->prefix);
        int r;

        if (a->shutting_down)
                return;
        a->name_acks_watch = etcd_watch_free(a->name_acks_watch);
        a->name_acks_call = etcd_call_cancel(a->name_acks_call);
        a->name_acks_retry = sd_event_source_unref(a->name_acks_retry);
        r = p ? etcd_range(a->etcd, &(EtcdRangeOptions) { .key = p, .flags = ETCD_PREFIX }, on_acks_synced, a,
                           &a->name_acks_call)
              : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to read how far the machines' DNS are, retrying: %m");
                acks_sync_later(a);
        }
}

int agent_name_acks_start(Agent *a) {
        if (!a->name_acks) {
                a->name_acks = hashmap_new();
                if (!a->name_acks)
                        return -ENOMEM;
        }
        acks_sync(a);
        return 0;
}

void agent_name_acks_done(Agent *a) {
        a->name_acks_call = etcd_call_cancel(a->name_acks_call);
        a->name_acks_watch = etcd_watch_free(a->name_acks_watch);
        a->name_acks_retry = sd_event_source_unref(a->name_acks_retry);
        a->name_acks = hashmap_free_with_destructor(a->name_acks, name_ack_free_void);
}

bool agent_name_acks_reached(Agent *a, int64_t revision) {
        NameAck *k;

        HASHMAP_FOREACH(k, a->name_acks)
                if (k->revision < revision)
                        return false;
        return true;
}

char *agent_name_acks_behind(Agent *a, int64_t revision) {
        _cleanup_strv_free_ char **l = NULL;
        NameAck *k;

        HASHMAP_FOREACH(k, a->name_acks)
                if (k->revision < revision && strv_extend(&l, k->machine_id) < 0)
                        return NULL;
        return strv_join(l, " ");
}

void agent_name_acks_set_local(Agent *a, int64_t revision) {
        if (revision <= a->names_applied)
                return;
        a->names_applied = revision;
        agent_schedule_publish(a);
}

int agent_name_acks_publish_build(Agent *a, EtcdTxn *t) {
        _cleanup_free_ char *key = NULL, *value = NULL;
        int r;

        if (a->names_applied == 0 ||
            (a->names_applied == a->names_applied_written && a->names_applied_lease == a->lease_id))
                return 0;
        if (etcd_txn_n_ops(t, true) >= ETCD_TXN_MAX_OPS)
                return 0;
        key = registry_names_applied_key(a->prefix, a->machine_id);
        if (!key || asprintf(&value, "%" PRIi64, a->names_applied) < 0)
                return -ENOMEM;
        r = etcd_txn_put(t, true, key, value, strlen(value), a->lease_id, 0);
        if (r < 0)
                return r;
        a->names_applied_written = a->names_applied;
        a->names_applied_lease = a->lease_id;
        return 0;
}
