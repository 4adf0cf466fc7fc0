/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the engine's files share: the Engine object and the entry points each concern offers the
 * others. Not for use outside fleetd/engine*.c.
 *
 *   engine.c            the object, leadership transitions
 *   engine-election.c   the lease, the campaign txn, the watch on P engine/leader
 *   engine-cache.c      the initial listing and the prefix watch that feed the scheduler model
 *   engine-reconcile.c  one scheduling pass: scheduler changes, rewrites and reasons → a batch
 *   engine-writer.c     a batch → fenced txns of up to ETCD_TXN_MAX_OPS operations */

#include "engine.h"
#include "hashmap.h"
#include "registry.h"
#include "scheduler.h"
#include "time-util.h"

#define ENGINE_DEFAULT_LEASE_TTL_SEC 10
/* Write txns of one pass committed at once; more wait for a slot. */
#define ENGINE_WRITER_MAX_INFLIGHT 8
/* etcd refuses requests above --max-request-bytes (1.5 MiB by default); the gateway's base64 and
 * JSON add a third: a txn stops growing past this many bytes of keys and values. */
#define ENGINE_TXN_MAX_BYTES (768 * 1024)
/* A listing that keeps failing is logged at error level at most this often (retried every
 * ENGINE_RETRY_USEC): nothing is scheduled meanwhile, which the operator must hear of. */
#define ENGINE_LIST_ERROR_INTERVAL_USEC (60 * USEC_PER_SEC)
/* Retry delay after a failed campaign, listing or write. */
#define ENGINE_RETRY_USEC (500 * USEC_PER_MSEC)

/* A unit as the engine knows it: its record from P units/, and why it cannot even be given to the
 * scheduler (a template, or [X-Fleet] that does not parse). */
typedef struct EngineUnit {
        RegistryUnit *record;           /* owned; record->name is the key in Engine.units */
        int64_t mod_revision;           /* of P units/<name>: a placement older than this lags */
        char *invalid;                  /* reason it is kept out of the scheduler, or NULL */
        bool is_template;
        bool global;                    /* [X-Fleet] Global=: carried in its assignments */
} EngineUnit;

/* Free the unit and its record. Accepts NULL; returns NULL. */
EngineUnit *engine_unit_free(EngineUnit *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(EngineUnit *, engine_unit_free);

/* One write: a put (value non-NULL) or a delete of key. */
typedef struct EngineOp {
        char *key;
        char *value;
        size_t value_size;
        bool with_lease;                /* put under the leadership lease (reasons) */
} EngineOp;

/* The writes of one pass, at most one per key (a later write of the same key replaces the
 * earlier one, so the batch can be split into txns committed in any order). */
typedef struct EngineBatch {
        EngineOp *ops;
        size_t n_ops;
        size_t n_allocated;
        Hashmap *by_key;                /* key → index + 1 into ops (borrowed keys) */
} EngineBatch;

/* Free the batch with every key and value. Accepts NULL; returns NULL. */
EngineBatch *engine_batch_free(EngineBatch *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(EngineBatch *, engine_batch_free);
/* An empty batch in *ret. Returns 0 or -ENOMEM. */
int engine_batch_new(EngineBatch **ret);
/* Add a put of value (value_size bytes, SIZE_MAX = strlen) to key, or a delete of key (value NULL);
 * a write of a key already in the batch replaces that write. key and value are taken over, also on
 * failure (a NULL key is taken as a failed allocation). Returns 0 or -ENOMEM. */
int engine_batch_add(EngineBatch *b, char *key, char *value, size_t value_size, bool with_lease);

/* A write txn in flight. Txns are not cancelled when the engine steps down: they are fenced, and
 * letting them finish keeps their outcome known (and counted). */
typedef struct EngineWriteSlot {
        Engine *engine;
        EtcdCall *call;                 /* NULL when the slot is free */
        size_t n_ops;
        uint64_t generation;
} EngineWriteSlot;

/* A reason we wrote to P reasons/<unit>: one allocation, the unit name is the map key. */
typedef struct EngineReason {
        char *text;                     /* points into unit[] past the name */
        char unit[];
} EngineReason;

/* Record in e->reasons that text (size bytes) is the reason written for unit (NULL text: none). */
int engine_reason_set(Engine *e, const char *unit, const char *text, size_t size);

struct Engine {
        sd_event *event;
        EtcdClient *etcd;
        char *prefix;
        char *machine_id;
        char *leader_key;
        int64_t lease_ttl_sec;
        SchedulerStrategy strategy;
        bool started;

        /* election */
        EtcdLease *lease;
        int64_t lease_id;               /* the live leadership lease, 0 while none */
        EtcdCall *campaign_call;
        EtcdWatch *leader_watch;
        sd_event_source *campaign_timer;
        int64_t leader_revision;        /* create_revision of our P engine/leader, 0 if not leader */

        /* cache: valid while leader */
        Scheduler *scheduler;
        Hashmap *units;                 /* name → EngineUnit */
        Hashmap *reasons;               /* unit → EngineReason we wrote under our lease (owned) */
        Set *touched;                   /* units whose reason to re-check in the next pass (owned) */
        Set *rewrite;                   /* units whose placements to rewrite in the next pass (owned) */
        char **stale_keys;              /* listed keys to delete in the first pass */
        EtcdCall *list_call;
        unsigned list_step;
        EtcdPager list_pager;           /* the current step's pages (by count and size) */
        bool list_paging;               /* list_pager is set up */
        int64_t list_page;              /* most keys per page; 0 = ETCD_PAGE_KEYS_MAX (tests make it small) */
        size_t list_reply_max;          /* a page's reply cap; 0 = ETCD_PAGE_REPLY_MAX (tests make it small) */
        int64_t list_revision;
        usec_t list_error_logged;       /* when a failed listing was last logged at error level */
        EtcdWatch *watch;
        sd_event_source *relist_timer;
        bool loaded;

        /* Teardown and campaigns requested from inside etcd watch callbacks, where libcurl
         * handles may not be added or removed, run from this defer source. */
        sd_event_source *sync_event;
        bool want_campaign;

        /* reconcile and writer */
        sd_event_source *reconcile_event;
        bool reconcile_wanted;
        EngineBatch *batch;             /* the pass being written */
        size_t batch_next;              /* first op of batch not yet sent */
        EngineWriteSlot slots[ENGINE_WRITER_MAX_INFLIGHT];
        unsigned n_inflight;
        uint64_t writer_generation;     /* bumped when a batch is dropped */

        EngineStats stats;
};

/* engine.c: leadership transitions, called by the election. */
void engine_become_leader(Engine *e, int64_t create_revision);
/* Stop writing at once; the model is dropped and a new campaign started (if the lease is live)
 * from a defer source, so this may be called from any callback. */
void engine_step_down(Engine *e, const char *why);
/* Campaign from a defer source (for callers inside watch callbacks). */
void engine_campaign_later(Engine *e);

/* engine-election.c */
int engine_election_start(Engine *e);
/* Free the lease keeper (revoking the lease if revoke) and every election source. */
void engine_election_stop(Engine *e, bool revoke);
/* Try to create P engine/leader now: grants the lease first if none is held (GRANTED campaigns);
 * a no-op while a grant or a campaign is in flight or while leader. Losing revokes the lease. */
void engine_campaign(Engine *e);

/* engine-cache.c */
/* List P and start the prefix watch; the model is rebuilt from scratch. */
int engine_cache_start(Engine *e);
void engine_cache_stop(Engine *e);
/* Stop using the model now; drop it and list again after delay_usec (after a failed write or a
 * compacted watch). Safe from any callback. */
void engine_cache_reload_later(Engine *e, uint64_t delay_usec);

/* engine-reconcile.c */
/* Ask for a scheduling pass: it runs once pending events are processed and no write is in flight. */
void engine_reconcile_request(Engine *e);
/* Run one pass now and hand its batch to the writer. */
int engine_reconcile_run(Engine *e);

/* engine-writer.c */
/* Write batch (taken over) in fenced txns. Returns 0, -EBUSY if a batch is still in flight. */
int engine_writer_submit(Engine *e, EngineBatch *batch);
/* Drop the batch: nothing more of it is sent; txns in flight finish (fenced) on their own. */
void engine_writer_stop(Engine *e);
/* Cancel the txns in flight too (when the engine is freed). */
void engine_writer_cancel(Engine *e);
/* Whether a batch is being written or any txn is in flight. */
bool engine_writer_busy(const Engine *e);
