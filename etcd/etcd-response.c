/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"

void etcd_response_done(EtcdResponse *r) {
        if (!r)
                return;

        for (size_t i = 0; i < r->n_kvs; i++)
                etcd_key_value_done(r->kvs + i);
        r->kvs = mfree(r->kvs);
        r->n_kvs = 0;

        for (size_t i = 0; i < r->n_responses; i++)
                etcd_response_done(r->responses + i);
        r->responses = mfree(r->responses);
        r->n_responses = 0;

        r->error_message = mfree(r->error_message);
}

EtcdResponse *etcd_response_free(EtcdResponse *r) {
        if (!r)
                return NULL;

        etcd_response_done(r);
        return mfree(r);
}

static int key_value_copy(const EtcdKeyValue *kv, EtcdKeyValue *ret) {
        EtcdKeyValue copy = *kv;

        copy.key = strdup(kv->key ?: "");
        copy.value = malloc(kv->value_size + 1);
        if (!copy.key || !copy.value) {
                free(copy.key);
                free(copy.value);
                return -ENOMEM;
        }
        if (kv->value_size > 0)
                memcpy(copy.value, kv->value, kv->value_size);
        copy.value[kv->value_size] = 0;

        *ret = copy;
        return 0;
}

/* Copy r into *ret, which must be zeroed; on failure *ret holds what was copied so far, for
 * etcd_response_done(). */
static int response_copy_into(const EtcdResponse *r, EtcdResponse *ret) {
        int k;

        ret->revision = r->revision;
        ret->count = r->count;
        ret->more = r->more;
        ret->succeeded = r->succeeded;
        ret->lease_id = r->lease_id;
        ret->lease_ttl = r->lease_ttl;
        ret->lease_granted_ttl = r->lease_granted_ttl;
        ret->grpc_code = r->grpc_code;

        if (r->error_message) {
                ret->error_message = strdup(r->error_message);
                if (!ret->error_message)
                        return -ENOMEM;
        }

        if (r->n_kvs > 0) {
                ret->kvs = new0(EtcdKeyValue, r->n_kvs);
                if (!ret->kvs)
                        return -ENOMEM;
                for (size_t i = 0; i < r->n_kvs; i++) {
                        k = key_value_copy(r->kvs + i, ret->kvs + i);
                        if (k < 0)
                                return k;
                        ret->n_kvs = i + 1;
                }
        }

        if (r->n_responses > 0) {
                ret->responses = new0(EtcdResponse, r->n_responses);
                if (!ret->responses)
                        return -ENOMEM;
                for (size_t i = 0; i < r->n_responses; i++) {
                        ret->n_responses = i + 1;
                        k = response_copy_into(r->responses + i, ret->responses + i);
                        if (k < 0)
                                return k;
                }
        }
        return 0;
}

int etcd_response_copy(const EtcdResponse *r, EtcdResponse **ret) {
        _cleanup_(etcd_response_freep) EtcdResponse *copy = NULL;
        int k;

        assert(r);
        assert(ret);

        copy = new0(EtcdResponse, 1);
        if (!copy)
                return -ENOMEM;

        k = response_copy_into(r, copy);
        if (k < 0)
                return k;

        *ret = TAKE_PTR(copy);
        return 0;
}
