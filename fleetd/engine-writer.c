/* SPDX-License-Identifier: Apache-2.0 */

/* The leader's writes: a pass's batch cut into txns of up to ETCD_TXN_MAX_OPS operations, each
 * guarded by a compare on the create_revision of P engine/leader, so that a deposed leader's
 * writes fail as a whole. The keys of one batch are distinct, so its txns may commit in any order:
 * several are in flight at once. A txn that fails in transport leaves etcd unknown, so the model is
 * rebuilt from a new listing; one that fails its compare means we no longer lead. */

#include <stdint.h>

#include "engine-internal.h"
#include "log.h"

EngineBatch *engine_batch_free(EngineBatch *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n_ops; i++) {
                free(b->ops[i].key);
                free(b->ops[i].value);
        }
        free(b->ops);
        hashmap_free(b->by_key);
        return mfree(b);
}

int engine_batch_new(EngineBatch **ret) {
        _cleanup_(engine_batch_freep) EngineBatch *b = NULL;

        assert(ret);

        b = new0(EngineBatch, 1);
        if (!b)
                return -ENOMEM;
        b->by_key = hashmap_new();
        if (!b->by_key)
                return -ENOMEM;

        *ret = TAKE_PTR(b);
        return 0;
}

int engine_batch_add(EngineBatch *b, char *key, char *value, size_t value_size, bool with_lease) {
        _cleanup_free_ char *k = key, *v = value;
        EngineOp *op;
        size_t i;
        int r;

        assert(b);

        if (!k)
                return -ENOMEM;
        if (v && value_size == SIZE_MAX)
                value_size = strlen(v);

        i = (size_t) hashmap_get(b->by_key, k);
        if (i > 0) {
                /* A later write of the same key wins. */
                op = &b->ops[i - 1];
                free_and_replace(op->value, v);
                op->value_size = value_size;
                op->with_lease = with_lease;
                return 0;
        }

        if (!GREEDY_REALLOC(b->ops, b->n_allocated, b->n_ops + 1))
                return -ENOMEM;

        r = hashmap_put(b->by_key, k, (void *) (b->n_ops + 1));
        if (r < 0)
                return r;

        b->ops[b->n_ops++] = (EngineOp) {
                .key = TAKE_PTR(k),
                .value = TAKE_PTR(v),
                .value_size = value_size,
                .with_lease = with_lease,
        };
        return 0;
}

static void engine_writer_pump(Engine *e);

static void engine_writer_done(Engine *e) {
        e->batch = engine_batch_free(e->batch);
        e->batch_next = 0;
        if (e->reconcile_wanted)
                engine_reconcile_request(e);
}

static void engine_on_write(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        EngineWriteSlot *slot = userdata;
        Engine *e = slot->engine;
        bool current = slot->generation == e->writer_generation;

        slot->call = NULL;
        assert(e->n_inflight > 0);
        e->n_inflight--;

        if (error < 0 || !response) {
                log_debug_errno(error, "engine: write txn failed: %m");
                /* Did it land or not? Only a new listing can tell. */
                if (current && engine_is_leader(e))
                        engine_cache_reload_later(e, ENGINE_RETRY_USEC);
                return;
        }

        if (!response->succeeded) {
                e->stats.n_txns_fenced++;
                engine_step_down(e, "a write was fenced: P engine/leader is no longer ours");
                return;
        }

        e->stats.n_txns++;
        e->stats.n_ops += slot->n_ops;

        if (current)
                engine_writer_pump(e);
        else if (!engine_writer_busy(e) && e->reconcile_wanted)
                /* The last txn of a dropped batch landed: a pass may run again. */
                engine_reconcile_request(e);
}

static int engine_writer_send(Engine *e, EngineWriteSlot *slot) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        EngineBatch *b = e->batch;
        size_t n = 0, bytes = 0;
        int r;

        r = etcd_txn_new(&t);
        if (r < 0)
                return r;
        r = etcd_txn_compare_int(t, e->leader_key, ETCD_COMPARE_CREATE, ETCD_EQUAL, e->leader_revision);
        if (r < 0)
                return r;

        for (; e->batch_next + n < b->n_ops && n < ETCD_TXN_MAX_OPS; n++) {
                const EngineOp *op = &b->ops[e->batch_next + n];

                bytes += strlen(op->key) + op->value_size;
                if (n > 0 && bytes > ENGINE_TXN_MAX_BYTES)
                        break;

                if (op->value)
                        r = etcd_txn_put(t, true, op->key, op->value, op->value_size,
                                         op->with_lease ? e->lease_id : 0, 0);
                else
                        r = etcd_txn_delete(t, true, op->key, 0);
                if (r < 0)
                        return r;
        }

        r = etcd_txn_commit(e->etcd, t, engine_on_write, slot, &slot->call);
        if (r < 0)
                return r;

        slot->engine = e;
        slot->n_ops = n;
        slot->generation = e->writer_generation;
        e->batch_next += n;
        e->n_inflight++;
        return 0;
}

static void engine_writer_pump(Engine *e) {
        int r;

        if (!e->batch)
                return;

        for (size_t i = 0; i < ELEMENTSOF(e->slots) && e->batch_next < e->batch->n_ops; i++) {
                if (e->slots[i].call)
                        continue;
                if (!engine_is_leader(e) || !e->loaded)
                        return;

                r = engine_writer_send(e, &e->slots[i]);
                if (r < 0) {
                        log_debug_errno(r, "engine: cannot send a write txn: %m");
                        engine_cache_reload_later(e, ENGINE_RETRY_USEC);
                        return;
                }
        }

        if (e->batch_next >= e->batch->n_ops && e->n_inflight == 0)
                engine_writer_done(e);
}

int engine_writer_submit(Engine *e, EngineBatch *batch) {
        assert(e);
        assert(batch);

        if (engine_writer_busy(e)) {
                engine_batch_free(batch);
                return -EBUSY;
        }

        e->batch = batch;
        e->batch_next = 0;
        engine_writer_pump(e);
        return 0;
}

void engine_writer_stop(Engine *e) {
        assert(e);

        e->batch = engine_batch_free(e->batch);
        e->batch_next = 0;
        e->writer_generation++;
}

void engine_writer_cancel(Engine *e) {
        assert(e);

        engine_writer_stop(e);
        for (size_t i = 0; i < ELEMENTSOF(e->slots); i++)
                if (e->slots[i].call) {
                        e->slots[i].call = etcd_call_cancel(e->slots[i].call);
                        e->n_inflight--;
                }
}

bool engine_writer_busy(const Engine *e) {
        return e->batch || e->n_inflight > 0;
}
