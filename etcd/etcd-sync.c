/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"
#include "etcd-sync.h"

typedef struct SyncResult {
        bool done;
        int error;
        EtcdResponse *response;
        char *message;
} SyncResult;

static void sync_on_done(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        SyncResult *s = userdata;

        s->done = true;
        s->error = error;

        if (response && response->error_message)
                s->message = strdup(response->error_message);
        if (error == 0 && response) {
                int r = etcd_response_copy(response, &s->response);
                if (r < 0)
                        s->error = r;
        }
}

/* Run the loop until the call started by the caller completed; then hand over its result. */
static int sync_wait(EtcdClient *c, int r, SyncResult *s, EtcdCall *call, EtcdResponse **ret) {
        free(c->sync_error);
        c->sync_error = NULL;

        if (r < 0)
                return r;

        while (!s->done) {
                r = sd_event_run(c->event, UINT64_MAX);
                if (r < 0) {
                        /* The call still points at s: it must not complete later. */
                        (void) etcd_call_cancel(call);
                        return r;
                }
        }

        c->sync_error = TAKE_PTR(s->message);

        if (s->error < 0) {
                s->response = etcd_response_free(s->response);
                return s->error;
        }

        if (ret)
                *ret = TAKE_PTR(s->response);
        else
                s->response = etcd_response_free(s->response);
        return 0;
}

int etcd_sync_put(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
                  unsigned flags, EtcdResponse **ret) {
        SyncResult s = {};
        EtcdCall *call = NULL;
        int r;

        r = etcd_put(c, key, value, value_size, lease, flags, sync_on_done, &s, &call);
        return sync_wait(c, r, &s, call, ret);
}

int etcd_sync_range(EtcdClient *c, const EtcdRangeOptions *options, EtcdResponse **ret) {
        SyncResult s = {};
        EtcdCall *call = NULL;
        int r;

        r = etcd_range(c, options, sync_on_done, &s, &call);
        return sync_wait(c, r, &s, call, ret);
}

int etcd_sync_list(EtcdClient *c, EtcdPager *p, int (*page_cb)(const EtcdResponse *page, void *userdata),
                   void *userdata) {
        int r;

        assert(c);
        assert(p);
        assert(page_cb);

        while (!p->done) {
                _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
                EtcdRangeOptions options = etcd_pager_options(p);

                r = etcd_sync_range(c, &options, &resp);
                r = etcd_pager_next(p, r, resp);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = page_cb(resp, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int etcd_sync_delete(EtcdClient *c, const char *key, unsigned flags, EtcdResponse **ret) {
        SyncResult s = {};
        EtcdCall *call = NULL;
        int r;

        r = etcd_delete(c, key, flags, sync_on_done, &s, &call);
        return sync_wait(c, r, &s, call, ret);
}

int etcd_sync_txn(EtcdClient *c, const EtcdTxn *t, EtcdResponse **ret) {
        SyncResult s = {};
        EtcdCall *call = NULL;
        int r;

        r = etcd_txn_commit(c, t, sync_on_done, &s, &call);
        return sync_wait(c, r, &s, call, ret);
}

int etcd_sync_lease_grant(EtcdClient *c, int64_t ttl_sec, int64_t id, EtcdResponse **ret) {
        SyncResult s = {};
        EtcdCall *call = NULL;
        int r;

        r = etcd_lease_grant(c, ttl_sec, id, sync_on_done, &s, &call);
        return sync_wait(c, r, &s, call, ret);
}

int etcd_sync_lease_revoke(EtcdClient *c, int64_t id) {
        SyncResult s = {};
        EtcdCall *call = NULL;
        int r;

        r = etcd_lease_revoke(c, id, sync_on_done, &s, &call);
        return sync_wait(c, r, &s, call, NULL);
}

const char *etcd_sync_last_error(EtcdClient *c) {
        assert(c);
        return strempty(c->sync_error);
}
