/* SPDX-License-Identifier: Apache-2.0 */

#include "etcd-internal.h"

/* Token handling for etcd's user/password authentication. One /v3/auth/authenticate call is in
 * flight at a time; calls and watches that need a token wait for it and are resumed (or failed)
 * together. A token etcd no longer accepts (simple tokens expire, by default after 5 minutes
 * without use) is dropped on the first UNAUTHENTICATED reply and fetched again. */

bool etcd_auth_needed(EtcdClient *c) {
        assert(c);
        return c->username && !c->token;
}

static void auth_on_done(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        EtcdCall *call;

        if (!c)
                return;

        /* The list changes under us (a failed call is unlinked, a callback may start new calls),
         * so restart from the head after every waiter. */
        for (;;) {
                for (call = c->calls; call; call = call->next)
                        if (call->waiting_auth)
                                break;
                if (!call)
                        break;
                etcd_call_auth_done(call, error);
        }

        etcd_watches_auth_done(c, error);
}

int etcd_auth_start(EtcdClient *c) {
        json_auto_t *body = NULL;
        EtcdCallOptions options = ETCD_CALL_OPTIONS_DEFAULT;

        assert(c);

        if (c->auth_call)
                return 0;

        body = json_pack("{s:s, s:s}", "name", c->username, "password", c->password);
        if (!body)
                return -ENOMEM;

        options.no_auth = true;
        return etcd_call_start(c, ETCD_REQUEST_AUTHENTICATE, body, &options, auth_on_done, NULL,
                               &c->auth_call);
}

void etcd_auth_invalidate(EtcdClient *c, uint64_t generation) {
        assert(c);

        /* Another call may already have replaced the token that failed. */
        if (generation != c->auth_generation || !c->token)
                return;

        c->token = mfree(c->token);
        (void) etcd_client_update_headers(c);
}
