/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"

/* A transaction is kept as the gateway's JSON while it is built, so committing it is one dump. */
struct EtcdTxn {
        json_t *compare;
        json_t *success;
        json_t *failure;
};

int etcd_txn_new(EtcdTxn **ret) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

        assert(ret);

        t = new0(EtcdTxn, 1);
        if (!t)
                return -ENOMEM;

        t->compare = json_array();
        t->success = json_array();
        t->failure = json_array();
        if (!t->compare || !t->success || !t->failure)
                return -ENOMEM;

        *ret = TAKE_PTR(t);
        return 0;
}

EtcdTxn *etcd_txn_free(EtcdTxn *t) {
        if (!t)
                return NULL;

        json_decref(t->compare);
        json_decref(t->success);
        json_decref(t->failure);
        return mfree(t);
}

static const char *const compare_result_names[] = {
        [ETCD_EQUAL] = "EQUAL",
        [ETCD_NOT_EQUAL] = "NOT_EQUAL",
        [ETCD_GREATER] = "GREATER",
        [ETCD_LESS] = "LESS",
};

/* The target's name and the field that carries the compared number. */
static const struct {
        const char *target;
        const char *field;
} compare_targets[] = {
        [ETCD_COMPARE_VALUE] = { "VALUE", "value" },
        [ETCD_COMPARE_VERSION] = { "VERSION", "version" },
        [ETCD_COMPARE_CREATE] = { "CREATE", "create_revision" },
        [ETCD_COMPARE_MOD] = { "MOD", "mod_revision" },
        [ETCD_COMPARE_LEASE] = { "LEASE", "lease" },
};

static int txn_add_compare(EtcdTxn *t, const char *key, const char *range_end, EtcdCompareTarget target,
                           EtcdCompareResult result, json_t *operand) {
        json_auto_t *o = NULL, *v = operand;
        json_t *k;

        if (!operand)
                return -ENOMEM;

        k = etcd_json_bytes(key, strlen(key));
        if (!k)
                return -ENOMEM;

        o = json_pack("{s:o, s:s, s:s, s:O}",
                      "key", k,
                      "target", compare_targets[target].target,
                      "result", compare_result_names[result],
                      compare_targets[target].field, v);
        if (!o)
                return -ENOMEM;
        if (range_end && json_object_set_new(o, "range_end", etcd_json_bytes(range_end, strlen(range_end))) < 0)
                return -ENOMEM;

        if (json_array_append(t->compare, o) < 0)
                return -ENOMEM;
        return 0;
}

int etcd_txn_compare_value(EtcdTxn *t, const char *key, EtcdCompareResult result, const void *value,
                           size_t value_size) {
        assert(t);

        if (!key || (!value && value_size > 0) || (unsigned) result >= ELEMENTSOF(compare_result_names))
                return -EINVAL;

        return txn_add_compare(t, key, NULL, ETCD_COMPARE_VALUE, result, etcd_json_bytes(value ?: "", value_size));
}

int etcd_txn_compare_int(EtcdTxn *t, const char *key, EtcdCompareTarget target, EtcdCompareResult result,
                         int64_t number) {
        assert(t);

        if (!key || target == ETCD_COMPARE_VALUE || (unsigned) target >= ELEMENTSOF(compare_targets) ||
            (unsigned) result >= ELEMENTSOF(compare_result_names))
                return -EINVAL;

        return txn_add_compare(t, key, NULL, target, result, etcd_json_int64(number));
}

int etcd_txn_compare_prefix_int(EtcdTxn *t, const char *prefix, EtcdCompareTarget target, EtcdCompareResult result,
                                int64_t number) {
        _cleanup_free_ char *end = NULL;

        assert(t);

        if (isempty(prefix) || target == ETCD_COMPARE_VALUE || (unsigned) target >= ELEMENTSOF(compare_targets) ||
            (unsigned) result >= ELEMENTSOF(compare_result_names))
                return -EINVAL;
        end = etcd_prefix_end(prefix);
        if (!end)
                return -ENOMEM;
        return txn_add_compare(t, prefix, end, target, result, etcd_json_int64(number));
}

int etcd_txn_compare_unchanged(EtcdTxn *t, const char *key, int64_t mod_revision) {
        if (mod_revision == 0)
                return etcd_txn_compare_int(t, key, ETCD_COMPARE_CREATE, ETCD_EQUAL, 0);
        return etcd_txn_compare_int(t, key, ETCD_COMPARE_MOD, ETCD_EQUAL, mod_revision);
}

static int txn_add_operation(EtcdTxn *t, bool on_success, const char *name, json_t *request) {
        json_auto_t *r = request, *o = NULL;
        json_t *branch = on_success ? t->success : t->failure;

        if (json_array_size(branch) >= ETCD_TXN_MAX_OPS)
                return -E2BIG;

        o = json_pack("{s:O}", name, r);
        if (!o)
                return -ENOMEM;
        if (json_array_append(branch, o) < 0)
                return -ENOMEM;
        return 0;
}

int etcd_txn_put(EtcdTxn *t, bool on_success, const char *key, const void *value, size_t value_size,
                 int64_t lease, unsigned flags) {
        json_t *request = NULL;
        int r;

        assert(t);

        if (etcd_txn_n_ops(t, on_success) >= ETCD_TXN_MAX_OPS)
                return -E2BIG;

        r = etcd_json_build_put(&request, key, value, value_size, lease, flags);
        if (r < 0)
                return r;

        return txn_add_operation(t, on_success, "request_put", request);
}

int etcd_txn_range(EtcdTxn *t, bool on_success, const EtcdRangeOptions *options) {
        json_t *request = NULL;
        int r;

        assert(t);

        if (etcd_txn_n_ops(t, on_success) >= ETCD_TXN_MAX_OPS)
                return -E2BIG;

        r = etcd_json_build_range(&request, options);
        if (r < 0)
                return r;

        return txn_add_operation(t, on_success, "request_range", request);
}

int etcd_txn_delete(EtcdTxn *t, bool on_success, const char *key, unsigned flags) {
        json_t *request = NULL;
        int r;

        assert(t);

        if (etcd_txn_n_ops(t, on_success) >= ETCD_TXN_MAX_OPS)
                return -E2BIG;

        r = etcd_json_build_delete(&request, key, flags);
        if (r < 0)
                return r;

        return txn_add_operation(t, on_success, "request_delete_range", request);
}

size_t etcd_txn_n_ops(const EtcdTxn *t, bool on_success) {
        assert(t);
        return json_array_size(on_success ? t->success : t->failure);
}

int etcd_txn_commit(EtcdClient *c, const EtcdTxn *t, etcd_callback_t cb, void *userdata,
                    EtcdCall **ret_call) {
        json_auto_t *body = NULL;

        assert(c);
        assert(t);

        body = json_pack("{s:O, s:O, s:O}",
                         "compare", t->compare,
                         "success", t->success,
                         "failure", t->failure);
        if (!body)
                return -ENOMEM;

        return etcd_call_start(c, ETCD_REQUEST_TXN, body, NULL, cb, userdata, ret_call);
}
