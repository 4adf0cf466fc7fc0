/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Blocking forms of the etcd client calls, for command-line tools. Each runs the client's sd-event
 * loop until its request completes (other sources on that loop run too), so it must not be called
 * from inside a callback of the same loop. On success *ret (optional) receives the response, which
 * the caller frees with etcd_response_free(). Errors are the negative errno of the asynchronous
 * calls; etcd's own message for the last failure is available from etcd_sync_last_error(). */

#include "etcd-client.h"

int etcd_sync_put(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
                  unsigned flags, EtcdResponse **ret);
int etcd_sync_range(EtcdClient *c, const EtcdRangeOptions *options, EtcdResponse **ret);
/* Read every page of the listing p (see EtcdPager), calling page_cb with each page's response
 * (borrowed for the call). Returns 0, the listing's error, or page_cb's negative return. */
int etcd_sync_list(EtcdClient *c, EtcdPager *p, int (*page_cb)(const EtcdResponse *page, void *userdata),
                   void *userdata);
int etcd_sync_delete(EtcdClient *c, const char *key, unsigned flags, EtcdResponse **ret);
int etcd_sync_txn(EtcdClient *c, const EtcdTxn *t, EtcdResponse **ret);
int etcd_sync_lease_grant(EtcdClient *c, int64_t ttl_sec, int64_t id, EtcdResponse **ret);
int etcd_sync_lease_revoke(EtcdClient *c, int64_t id);

/* The message etcd sent with the last failed synchronous call on this client ("" if none), for
 * error reports. Borrowed; valid until the next call. */
const char *etcd_sync_last_error(EtcdClient *c);
