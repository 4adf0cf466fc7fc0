/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"

int etcd_pager_init(EtcdPager *p, const char *key, const char *range_end, unsigned flags, int64_t revision) {
        assert(p);
        assert(key);

        *p = (EtcdPager) {
                .flags = flags & (ETCD_KEYS_ONLY | ETCD_SERIALIZABLE),
                .revision = revision,
        };
        p->key = strdup(key);
        p->range_end = range_end ? strdup(range_end) : etcd_prefix_end(key);
        if (!p->key || !p->range_end) {
                etcd_pager_done(p);
                return -ENOMEM;
        }
        return 0;
}

void etcd_pager_done(EtcdPager *p) {
        assert(p);

        p->key = mfree(p->key);
        p->range_end = mfree(p->range_end);
}

static int64_t pager_max_keys(const EtcdPager *p) {
        return p->max_keys > 0 ? p->max_keys : ETCD_PAGE_KEYS_MAX;
}

static int64_t pager_limit(const EtcdPager *p) {
        return p->limit > 0 ? p->limit : MIN(ETCD_PAGE_KEYS_FIRST, pager_max_keys(p));
}

EtcdRangeOptions etcd_pager_options(const EtcdPager *p) {
        int64_t limit = pager_limit(p);

        return (EtcdRangeOptions) {
                .key = p->key,
                .range_end = p->range_end,
                .flags = p->flags,
                .limit = limit,
                .revision = p->revision,
                /* One key alone gets the client's whole cap: a record etcd holds can be read. */
                .max_reply_size = limit == 1 ? 0 : (p->max_reply ?: ETCD_PAGE_REPLY_MAX),
        };
}

int etcd_pager_next(EtcdPager *p, int error, const EtcdResponse *response) {
        int64_t limit = pager_limit(p);
        size_t page_bytes = p->page_bytes ?: ETCD_PAGE_BYTES, bytes = 0;
        uint64_t next;
        char *key;

        assert(p);
        assert(!p->done);

        /* Too large, or too slow to build and send within the request's time (a busy etcd): the
         * same page with fewer keys, rather than the whole listing again. */
        if ((error == -EFBIG || error == -ETIMEDOUT) && limit > 1) {
                p->limit = MAX(limit / 8, 1);
                p->n_retries++;
                return 0;
        }
        if (error < 0)
                return error;
        if (!response)
                return -EBADMSG;

        p->n_pages++;
        if (p->revision == 0)
                p->revision = response->revision;

        if (!response->more || response->n_kvs == 0) {
                p->done = true;
                return 1;
        }

        /* Our keys are C strings: nothing sorts between "k" and "k\x01" but "k" itself. */
        if (asprintf(&key, "%s\x01", response->kvs[response->n_kvs - 1].key) < 0)
                return -ENOMEM;
        free_and_replace(p->key, key);

        for (size_t i = 0; i < response->n_kvs; i++)
                bytes += strlen(response->kvs[i].key) + response->kvs[i].value_size;
        next = (uint64_t) response->n_kvs * 8;
        if (bytes > 0)
                next = MIN(next, (uint64_t) response->n_kvs * page_bytes / bytes + 1);
        p->limit = (int64_t) MIN(next, (uint64_t) pager_max_keys(p));
        return 1;
}
