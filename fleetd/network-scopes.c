/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>
#include <stdlib.h>

#include "hashmap.h"
#include "log.h"
#include "network-scopes.h"
#include "network.h"
#include "strv.h"
#include "time-util.h"

#define SCOPES_RETRY_USEC (2 * USEC_PER_SEC)

typedef struct ScopePair {
        const char *network;
        uint32_t address;
} ScopePair;

static int pair_compare(const void *a, const void *b) {
        const ScopePair *x = a, *y = b;
        int c = strcmp(x->network, y->network);

        if (c != 0)
                return c;
        return x->address < y->address ? -1 : x->address > y->address;
}

static int address_compare(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

/* One table of family: the sets and the forward chain. pairs are sorted and unique; scratch holds
 * n_pairs addresses. */
static void table_print(FILE *f, const char *family, Subnet range, unsigned subnet_len, const ScopePair *pairs,
                        size_t n_pairs, const uint32_t *members, size_t n_members, uint32_t *scratch) {
        char rs[SUBNET_STRLEN], hm[16], name[32];
        size_t k = 0;

        fprintf(f, "table %s %s\ndelete table %s %s\ntable %s %s {\n", family, NETWORK_SCOPES_TABLE, family,
                NETWORK_SCOPES_TABLE, family, NETWORK_SCOPES_TABLE);
        network_nft_set_print(f, "members", NULL, members, n_members);
        for (size_t i = 0, j; i < n_pairs; i = j, k++) {
                for (j = i; j < n_pairs && streq(pairs[j].network, pairs[i].network); j++)
                        scratch[j - i] = pairs[j].address;
                snprintf(name, sizeof name, "n%zu", k);
                network_nft_set_print(f, name, pairs[i].network, scratch, j - i);
        }

        fputs("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n", f);
        /* Only published containers are protected; everything else passes as before. */
        /* Only traffic between two addresses of the cluster range is judged: the world and the
         * published ports' traffic from outside pass as before. */
        subnet_format(range, rs);
        fprintf(f, "\t\tip daddr != %s accept\n\t\tip saddr != %s accept\n", rs, rs);
        /* The machines themselves: <subnet>.0 (the VXLAN device, the source of a machine's own
         * traffic to remote containers) and <subnet>.1 (the bridge); containers start at .2. */
        subnet_addr_format(~subnet_mask(subnet_len) & ~UINT32_C(1), hm);
        fprintf(f, "\t\tip saddr & %s == 0.0.0.0 accept\n\t\tip daddr & %s == 0.0.0.0 accept\n", hm, hm);
        for (size_t i = 0; i < k; i++)
                fprintf(f, "\t\tip saddr @n%zu ip daddr @n%zu accept\n", i, i);
        /* Containers on the cluster network with no compose network (a hand-made "podman run
         * --network fleet", a container of a unit not active yet) are on the bare network "fleet",
         * a scope of its own as a docker network is: they reach each other, and no compose
         * network's containers, nor are they reached by them. */
        fputs("\t\tip saddr != @members ip daddr != @members accept\n", f);
        /* Spelled with an address, not bare: "ip" makes it an IPv4-only rule, so the bridge's ARP
         * frames, which none of the rules above match, still pass. */
        fprintf(f, "\t\tip saddr %s counter drop\n\t}\n}\n", rs);
}

char *network_scopes_ruleset(Subnet range, unsigned subnet_len, const NetworkScopeMember *members, size_t n_members) {
        _cleanup_free_ ScopePair *pairs = NULL;
        _cleanup_free_ uint32_t *addrs = NULL, *scratch = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n_pairs = 0, n_addrs = 0, total = 0, size = 0;
        FILE *f;

        assert(members || n_members == 0);

        for (size_t i = 0; i < n_members; i++)
                total += strv_length(members[i].networks);
        pairs = new(ScopePair, total + 1);
        addrs = new(uint32_t, total + 1);
        scratch = new(uint32_t, total + 1);
        if (!pairs || !addrs || !scratch)
                return NULL;
        for (size_t i = 0; i < n_members; i++)
                STRV_FOREACH(net, members[i].networks)
                        pairs[n_pairs++] = (ScopePair) { .network = *net, .address = members[i].address };
        qsort(pairs, n_pairs, sizeof(ScopePair), pair_compare);
        /* One container twice (a record replaced under another key) or one network listed twice. */
        if (n_pairs > 0) {
                size_t w = 1;

                for (size_t i = 1; i < n_pairs; i++)
                        if (pair_compare(&pairs[i], &pairs[w - 1]) != 0)
                                pairs[w++] = pairs[i];
                n_pairs = w;
        }
        for (size_t i = 0; i < n_pairs; i++)
                addrs[n_addrs++] = pairs[i].address;
        qsort(addrs, n_addrs, sizeof(uint32_t), address_compare);
        if (n_addrs > 0) {
                size_t w = 1;

                for (size_t i = 1; i < n_addrs; i++)
                        if (addrs[i] != addrs[w - 1])
                                addrs[w++] = addrs[i];
                n_addrs = w;
        }

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        /* Routed traffic (across machines) and bridged traffic (within one machine), one transaction. */
        table_print(f, "ip", range, subnet_len, pairs, n_pairs, addrs, n_addrs, scratch);
        table_print(f, "bridge", range, subnet_len, pairs, n_pairs, addrs, n_addrs, scratch);
        if (fflush(f) != 0 || ferror(f)) {
                fclose(f);
                return NULL;
        }
        fclose(f);
        return TAKE_PTR(buf);
}

/* ---- the live tables ---- */

typedef struct ScopeEntry {
        char *key;                      /* the map's key */
        uint32_t address;
        char **networks;
} ScopeEntry;

struct NetworkScopes {
        sd_event *event;
        Subnet range;
        unsigned subnet_len;
        Hashmap *entries;               /* key → ScopeEntry (owned, holding its key) */
        sd_event_source *apply_event;
        sd_event_source *retry;
        char *applied;                  /* the ruleset last applied */
        uint64_t n_applied;
};

static void entry_free(void *p) {
        ScopeEntry *e = p;

        if (!e)
                return;
        free(e->key);
        strv_free(e->networks);
        free(e);
}

static int scopes_apply(NetworkScopes *s) {
        _cleanup_free_ NetworkScopeMember *members = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t n = 0;
        ScopeEntry *e;
        int r;

        members = new0(NetworkScopeMember, hashmap_size(s->entries) + 1);
        if (!members)
                return -ENOMEM;
        HASHMAP_FOREACH(e, s->entries)
                members[n++] = (NetworkScopeMember) { .address = e->address, .networks = e->networks };
        text = network_scopes_ruleset(s->range, s->subnet_len, members, n);
        if (!text)
                return -ENOMEM;
        if (s->applied && streq(s->applied, text))
                return 0;
        r = network_nft_apply(text, &error);
        if (r < 0) {
                log_error("Cluster network: nftables refused the scope rules (tables %s): %s",
                          NETWORK_SCOPES_TABLE, strna(error));
                return r;
        }
        log_debug("Cluster network: scope rules applied for %zu containers.", n);
        free_and_replace(s->applied, text);
        text = NULL;
        s->n_applied++;
        return 0;
}

static void schedule_apply(NetworkScopes *s);

static int on_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        NetworkScopes *s = userdata;

        s->retry = sd_event_source_unref(s->retry);
        schedule_apply(s);
        return 0;
}

static int on_apply(sd_event_source *source, void *userdata) {
        NetworkScopes *s = userdata;
        int r;

        r = scopes_apply(s);
        if (r < 0 && !s->retry) {
                r = sd_event_add_time_relative(s->event, &s->retry, CLOCK_MONOTONIC, SCOPES_RETRY_USEC, 0,
                                               on_retry, s);
                if (r < 0)
                        log_error_errno(r, "Failed to arm the scope rules' retry: %m");
        }
        return 0;
}

static void schedule_apply(NetworkScopes *s) {
        (void) sd_event_source_set_enabled(s->apply_event, SD_EVENT_ONESHOT);
}

int network_scopes_new(NetworkScopes **ret, sd_event *event, Subnet range, unsigned subnet_len) {
        _cleanup_(network_scopes_freep) NetworkScopes *s = NULL;
        int r;

        assert(ret);

        s = new0(NetworkScopes, 1);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->range = range;
        s->subnet_len = subnet_len;
        s->entries = hashmap_new();
        if (!s->entries)
                return -ENOMEM;
        r = sd_event_add_defer(event, &s->apply_event, on_apply, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->apply_event, SD_EVENT_OFF);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

NetworkScopes *network_scopes_free(NetworkScopes *s) {
        if (!s)
                return NULL;
        sd_event_source_unref(s->apply_event);
        sd_event_source_unref(s->retry);
        hashmap_free_with_destructor(s->entries, entry_free);
        free(s->applied);
        sd_event_unref(s->event);
        return mfree(s);
}

int network_scopes_put(NetworkScopes *s, const char *key, const char *address, char *const *networks) {
        ScopeEntry *e, *old;
        uint32_t a;
        int r;

        assert(s);
        assert(key);

        if (!address || subnet_addr_parse(address, &a) < 0)
                return -EINVAL;
        old = hashmap_get(s->entries, key);
        if (old && old->address == a && strv_equal(old->networks, networks))
                return 0;

        e = new0(ScopeEntry, 1);
        if (!e)
                return -ENOMEM;
        e->address = a;
        e->key = strdup(key);
        e->networks = networks ? strv_copy(networks) : NULL;
        if (!e->key || (networks && !e->networks)) {
                entry_free(e);
                return -ENOMEM;
        }
        r = hashmap_replace(s->entries, e->key, e);
        if (r < 0) {
                entry_free(e);
                return r;
        }
        entry_free(old);
        schedule_apply(s);
        return 0;
}

int network_scopes_remove(NetworkScopes *s, const char *key) {
        ScopeEntry *e;

        assert(s);
        assert(key);

        e = hashmap_remove(s->entries, key);
        if (!e)
                return 0;
        entry_free(e);
        schedule_apply(s);
        return 0;
}

void network_scopes_clear(NetworkScopes *s) {
        ScopeEntry *e;

        assert(s);

        if (hashmap_isempty(s->entries))
                return;
        HASHMAP_FOREACH(e, s->entries)
                entry_free(e);
        hashmap_clear(s->entries);
        schedule_apply(s);
}

uint64_t network_scopes_n_applied(const NetworkScopes *s) {
        return s ? s->n_applied : 0;
}
