/* SPDX-License-Identifier: Apache-2.0 */

/* The pieces of the engine that need no etcd: a pass's batch of writes (one write per key, the
 * last one winning, so that its txns may commit in any order) and the engine's argument checks. */

#include "engine-internal.h"
#include "strv.h"
#include "tap.h"

static void test_batch(void) {
        _cleanup_(engine_batch_freep) EngineBatch *b = NULL;

        assert_se(engine_batch_new(&b) >= 0);
        is_int(engine_batch_add(b, strdup("/p/schedule/m1/a.service"), strdup("{\"a\":1}"), SIZE_MAX,
                                false), 0, "a put");
        is_int(engine_batch_add(b, strdup("/p/reasons/b.service"), strdup("no machine"), 5, true), 0,
               "a put of a prefix of the value, under the lease");
        is_int(engine_batch_add(b, strdup("/p/schedule/m2/a.service"), NULL, 0, false), 0, "a delete");
        is_int(b->n_ops, 3, "three keys, three writes");
        is_int(b->ops[0].value_size, strlen("{\"a\":1}"), "SIZE_MAX means the string's length");
        is_int(b->ops[1].value_size, 5, "an explicit size is kept");
        ok(b->ops[1].with_lease && !b->ops[0].with_lease, "the lease flag is per write");

        is_int(engine_batch_add(b, strdup("/p/schedule/m1/a.service"), NULL, 0, false), 0,
               "a delete of a key already put");
        is_int(b->n_ops, 3, "replaces the put instead of adding a write");
        ok(!b->ops[0].value, "the later write (the delete) wins");

        is_int(engine_batch_add(b, strdup("/p/schedule/m2/a.service"), strdup("{}"), SIZE_MAX, false), 0,
               "a put of a key already deleted");
        is_int(b->n_ops, 3, "still one write per key");
        ok(b->ops[2].value && streq(b->ops[2].value, "{}") && b->ops[2].value_size == 2, "the put wins");

        is_int(engine_batch_add(b, NULL, strdup("leaked?"), SIZE_MAX, false), -ENOMEM,
               "a failed key allocation is -ENOMEM (and the value is freed)");
        is_int(b->n_ops, 3, "and adds nothing");

        for (unsigned i = 0; i < 1000; i++) {
                char *k;

                assert_se(asprintf(&k, "/p/schedule/m/%u.service", i % 500) >= 0);
                assert_se(engine_batch_add(b, k, strdup("x"), SIZE_MAX, false) >= 0);
        }
        is_int(b->n_ops, 503, "1000 writes of 500 keys grow the batch by 500");
}

static void test_engine_new_checks(void) {
        _cleanup_(sd_event_unrefp) sd_event *loop = NULL;
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        Engine *e = NULL;

        assert_se(sd_event_new(&loop) >= 0);
        /* Never contacted: engine_new() does not talk to etcd. */
        assert_se(etcd_client_new(&c, loop,
                                  &(EtcdConfig) { .endpoints = STRV_MAKE("http://127.0.0.1:9") }) >= 0);

        is_int(engine_new(&e, loop, c, &(EngineConfig) { .key_prefix = "/p/" }), -EINVAL,
               "a machine id is required");
        is_int(engine_new(&e, loop, c, &(EngineConfig) { .key_prefix = "/p", .machine_id = "m" }), -EINVAL,
               "the prefix must end in '/'");
        ok(!e, "nothing is returned on failure");

        is_int(engine_new(&e, loop, c, &(EngineConfig) { .machine_id = "m" }), 0, "the default prefix is fine");
        ok(e && !engine_is_leader(e) && !engine_is_idle(e), "a new engine neither leads nor is idle");
        is_int(engine_get_stats(e)->n_campaigns, 0, "and has not campaigned");
        e = engine_free(e);
        ok(!engine_free(NULL), "engine_free(NULL) is fine");
}

int main(void) {
        test_batch();
        test_engine_new_checks();
        return done_testing();
}
