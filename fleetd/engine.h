/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The engine: the part of fleetd that, on the one machine elected leader, schedules units.
 *
 * It campaigns for P engine/leader under a lease of its own; while it holds the key it keeps an
 * in-memory model of machines, units and assignments, fed by one prefix watch over P (no periodic
 * re-read), asks the pure scheduler core what to change, and writes the changes in txns of up to
 * ETCD_TXN_MAX_OPS operations that each also compare the create_revision of P engine/leader, so a
 * deposed leader cannot write. Losing the lease stops all writing at once and campaigns again.
 *
 * Everything runs on the sd-event loop given to engine_new(); the engine never blocks. It logs
 * leadership changes at info level and everything else at debug level. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "etcd-client.h"
#include "macro.h"
#include "scheduler.h"

typedef struct Engine Engine;

typedef struct EngineConfig {
        const char *key_prefix;         /* P, ending in '/'; NULL = REGISTRY_DEFAULT_PREFIX */
        const char *machine_id;         /* this machine, written into P engine/leader */
        int64_t lease_ttl_sec;          /* TTL of the leadership lease; <= 0 = 10 s */
        SchedulerStrategy strategy;     /* for units that reserve resources; 0 = spread */
} EngineConfig;

/* Counters, for tests and benchmarks. */
typedef struct EngineStats {
        uint64_t n_campaigns;           /* leadership txns sent */
        uint64_t n_elected;             /* times this engine became leader */
        uint64_t n_reconciles;          /* scheduling passes run */
        uint64_t n_txns;                /* write txns committed (success branch ran) */
        uint64_t n_txns_fenced;         /* write txns refused because the leader key changed */
        uint64_t n_ops;                 /* operations in committed write txns */
        uint64_t n_relists;             /* full re-reads of P (start, leadership, -ESTALE) */
} EngineStats;

/* Create an engine on event, talking to etcd through etcd. Both are borrowed and must outlive the
 * engine. The config is copied. Does not contact etcd until engine_start(). Returns 0, -EINVAL for
 * a missing machine_id or a prefix not ending in '/', -ENOMEM. */
int engine_new(Engine **ret, sd_event *event, EtcdClient *etcd, const EngineConfig *config);

/* Start campaigning: grant the leadership lease, try to create P engine/leader, watch it and
 * campaign again whenever it disappears. An engine that loses revokes its lease and holds none
 * until it campaigns again (a new lease is granted first). While leader, load the cluster state
 * and schedule.
 * Returns 0 or a negative errno if the first step could not be started; later failures are
 * retried in the background. Calling it twice returns -EBUSY. */
int engine_start(Engine *e);

/* Stop everything. A leader revokes its lease in the background, which deletes P engine/leader
 * and its reasons at once, so another engine takes over without waiting for the TTL; the
 * EtcdClient must keep running its loop for the revoke to reach etcd. Accepts NULL; returns NULL. */
Engine *engine_free(Engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Engine *, engine_free);

/* Whether this engine currently holds the leadership (its lease is live and P engine/leader is
 * its own). */
bool engine_is_leader(const Engine *e);

/* Whether the leader has nothing left to write: its model is loaded, no reconcile is pending and
 * no write txn is in flight. False when not leader. For tests and benchmarks. */
bool engine_is_idle(const Engine *e);

/* The counters (borrowed; valid as long as e). */
const EngineStats *engine_get_stats(const Engine *e);
