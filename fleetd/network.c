/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>
#include <sys/stat.h>

#include "error-message.h"
#include "fileio.h"
#include "log.h"
#include "network-internal.h"
#include "registry.h"
#include "sha1.h"
#include "time-util.h"

#define NETWORK_RETRY_USEC (2 * USEC_PER_SEC)
#define NETWORK_LEASE_ATTEMPTS 8

void network_vtep_mac(const char *machine_id, uint8_t ret[static 6]) {
        uint8_t d[SHA1_DIGEST_SIZE];
        Sha1 ctx;

        sha1_init(&ctx);
        sha1_update(&ctx, "fleet-vtep:", 11);
        sha1_update(&ctx, machine_id, strlen(machine_id));
        sha1_finish(&ctx, d);
        memcpy(ret, d, 6);
        ret[0] = (uint8_t) ((ret[0] & 0xfe) | 0x02);    /* unicast, locally administered */
}

int network_new(Network **ret, sd_event *event, EtcdClient *etcd, const NetworkConfig *c, char **ret_error) {
        _cleanup_(network_freep) Network *n = NULL;
        char a[SUBNET_STRLEN], b[SUBNET_STRLEN];
        int r;

        assert(ret);
        assert(c);

        if (c->subnet_len < c->range.len || c->subnet_len > 30 || c->subnet_len < 8)
                return error_message_set(ret_error, EINVAL, "network_subnet_len: %u does not fit in network_range %s "
                                    "(between its length and 30)", c->subnet_len, subnet_format(c->range, a));
        if (c->subnet && (!subnet_contains(c->range, *c->subnet) || c->subnet->len != c->subnet_len))
                return error_message_set(ret_error, EINVAL, "network_subnet: %s is not a /%u of network_range %s",
                                    subnet_format(*c->subnet, a), c->subnet_len, subnet_format(c->range, b));
        if (c->vni < 1 || c->vni > 0xffffff)
                return error_message_set(ret_error, EINVAL, "network_vni: %u is not 1..16777215", c->vni);
        if (c->port == 0)
                return error_message_set(ret_error, EINVAL, "network_port: must be 1..65535");
        if (isempty(c->public_ip))
                return error_message_set(ret_error, EINVAL, "the cluster network needs the machine's public_ip");

        n = new0(Network, 1);
        if (!n)
                return -ENOMEM;
        n->event = sd_event_ref(event);
        n->etcd = etcd;
        n->range = c->range;
        n->subnet_len = c->subnet_len;
        n->has_fixed = !!c->subnet;
        if (c->subnet)
                n->fixed = *c->subnet;
        n->vni = c->vni;
        n->port = c->port;
        n->ttl_sec = c->ttl_sec;
        if (subnet_addr_parse(c->public_ip, &n->public_ip) < 0)
                return error_message_set(ret_error, EINVAL, "the cluster network needs an IPv4 public_ip, not '%s'",
                                    c->public_ip);
        n->key_prefix = strdup(c->key_prefix);
        n->machine_id = strdup(c->machine_id);
        n->public_ip_text = strdup(c->public_ip);
        n->cni_dir = strdup(c->cni_dir);
        if (asprintf(&n->state_file, "%snetwork/subnet", c->state_dir) < 0)
                n->state_file = NULL;
        if (c->device)
                n->device = strdup(c->device);
        else if (asprintf(&n->device, "fleet.%u", c->vni) < 0)
                n->device = NULL;
        n->subnets_prefix = registry_subnets_prefix(c->key_prefix);
        n->status = strdup("starting");
        if (!n->key_prefix || !n->machine_id || !n->public_ip_text || !n->cni_dir || !n->state_file ||
            !n->device || !n->subnets_prefix || !n->status)
                return -ENOMEM;
        if (strlen(n->device) >= 16)
                return error_message_set(ret_error, EINVAL, "network_device: '%s' is longer than 15 characters", n->device);
        network_vtep_mac(n->machine_id, n->mac);
        if (!isempty(c->docker_socket)) {
                r = network_docker_new(&n->docker, event, c->docker_socket);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(n);
        return 0;
}

Network *network_free(Network *n) {
        if (!n)
                return NULL;
        network_docker_free(n->docker);
        etcd_watch_free(n->watch);
        etcd_call_cancel(n->list_call);
        etcd_call_cancel(n->call);
        etcd_lease_keeper_free(n->lease);
        sd_event_source_unref(n->retry);
        netlink_socket_close(n->nl);
        sd_event_unref(n->event);
        free(n->remotes);
        free(n->key_prefix);
        free(n->machine_id);
        free(n->public_ip_text);
        free(n->cni_dir);
        free(n->state_file);
        free(n->device);
        free(n->subnets_prefix);
        free(n->status);
        free(n->firewall);
        return mfree(n);
}

bool network_is_ready(const Network *n) {
        return n && n->ready;
}

const char *network_status(const Network *n) {
        return n ? n->status : "the cluster network is turned off";
}

bool network_get_subnet(const Network *n, Subnet *ret) {
        if (!n || !n->have_subnet)
                return false;
        *ret = n->subnet;
        return true;
}

unsigned network_n_remotes(const Network *n) {
        return n ? (unsigned) n->n_remotes : 0;
}

void network_set_status_handler(Network *n, network_status_handler_t handler, void *userdata) {
        assert(n);
        n->on_status = handler;
        n->on_status_userdata = userdata;
}

void network_set_status(Network *n, bool ready, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        bool changed;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s)
                return;
        if (!ready && (!n->status || !streq(n->status, s)))
                log_error("Cluster network: %s", s);
        else if (ready && !n->ready)
                log_info("Cluster network: %s", s);
        changed = ready != n->ready || !n->status || !streq(n->status, s);
        n->ready = ready;
        free_and_replace(n->status, s);
        s = NULL;
        if (changed && n->on_status)
                n->on_status(n, n->ready, n->status, n->on_status_userdata);
}

/* ---- the remembered subnet ---- */

static int state_read(Network *n, Subnet *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(n->state_file, &text, &size, 64);
        if (r < 0)
                return r;
        text[strcspn(text, WHITESPACE)] = 0;
        r = subnet_parse(text, ret);
        if (r < 0)
                log_warning("Ignoring %s: '%s' is not a subnet.", n->state_file, text);
        return r;
}

static int state_write(Network *n) {
        _cleanup_free_ char *dir = NULL;
        char s[SUBNET_STRLEN + 1];
        int r;

        dir = strndup(n->state_file, (size_t) (strrchr(n->state_file, '/') - n->state_file));
        if (!dir)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        subnet_format(n->subnet, s);
        strcat(s, "\n");
        return write_file_atomic(n->state_file, s, strlen(s), 0644, true);
}

/* ---- leasing ---- */

static void lease_try(Network *n);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Network *n = userdata;

        n->retry = sd_event_source_unref(n->retry);
        if (n->lease_id != 0 && !n->leased)
                lease_try(n);
        return 0;
}

static void retry_later(Network *n) {
        if (n->retry)
                return;
        (void) sd_event_add_time_relative(n->event, &n->retry, CLOCK_MONOTONIC, NETWORK_RETRY_USEC, 0, on_retry, n);
}

static int record_json(Network *n, char **ret) {
        char mac[18];
        RegistrySubnet s = {
                .machine_id = n->machine_id,
                .public_ip = n->public_ip_text,
                .vtep_mac = netlink_mac_format(n->mac, mac),
                .vni = n->vni,
        };

        return registry_subnet_to_json(&s, ret);
}

static void on_lease_txn(EtcdClient *c, int error, const EtcdResponse *resp, void *userdata);

/* Claim candidate: create-only, or take over our own record from an earlier lease (a quick
 * restart: compare its create revision, so only that very record is replaced). */
static int lease_claim(Network *n, Subnet candidate, int64_t own_create_rev) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        _cleanup_free_ char *key = NULL, *json = NULL;
        char name[SUBNET_STRLEN];
        int r;

        key = registry_subnet_key(n->key_prefix, subnet_to_key_name(candidate, name));
        if (!key)
                return -ENOMEM;
        r = record_json(n, &json);
        if (r < 0)
                return r;
        r = etcd_txn_new(&t);
        if (r < 0)
                return r;
        r = etcd_txn_compare_int(t, key, ETCD_COMPARE_CREATE, ETCD_EQUAL, own_create_rev);
        if (r >= 0)
                r = etcd_txn_put(t, true, key, json, strlen(json), n->lease_id, 0);
        if (r >= 0)
                r = etcd_txn_range(t, false, &(EtcdRangeOptions) { .key = key });
        if (r < 0)
                return r;
        n->candidate = candidate;
        n->call = etcd_call_cancel(n->call);
        return etcd_txn_commit(n->etcd, t, on_lease_txn, n, &n->call);
}

static void on_subnets_listed(EtcdClient *c, int error, const EtcdResponse *resp, void *userdata) {
        Network *n = userdata;
        _cleanup_free_ Subnet *taken = NULL;
        size_t n_taken = 0;
        char a[SUBNET_STRLEN], b[SUBNET_STRLEN];
        Subnet want = {};
        bool have_want = false;
        int64_t own_rev = 0;
        int r;

        n->call = NULL;
        if (error < 0) {
                network_set_status(n, false, "cannot read the subnet leases from etcd: %s", strerror(-error));
                return retry_later(n);
        }

        taken = new0(Subnet, resp->n_kvs + 1);
        if (!taken)
                return (void) log_oom();

        if (n->has_fixed) {
                want = n->fixed;
                have_want = true;
        } else if (state_read(n, &want) >= 0) {
                if (subnet_contains(n->range, want) && want.len == n->subnet_len)
                        have_want = true;
                else
                        log_warning("Remembered subnet %s is not a /%u of %s any more, leasing another.",
                                    subnet_format(want, a), n->subnet_len, subnet_format(n->range, b));
        }

        for (size_t i = 0; i < resp->n_kvs; i++) {
                _cleanup_(registry_subnet_freep) RegistrySubnet *rec = NULL;
                const char *name = registry_subnet_key_name(n->key_prefix, resp->kvs[i].key);
                Subnet s;

                if (!name || subnet_from_key_name(name, &s) < 0)
                        continue;
                if (registry_subnet_from_json(resp->kvs[i].value, resp->kvs[i].value_size, &rec) < 0)
                        rec = NULL;     /* a broken record still holds its subnet */
                if (rec && streq(rec->machine_id, n->machine_id)) {
                        /* Ours, from an earlier lease: keep that subnet if nothing says otherwise. */
                        if (!have_want) {
                                want = s;
                                have_want = true;
                        }
                        if (subnet_equal(s, want)) {
                                own_rev = resp->kvs[i].create_revision;
                                continue;
                        }
                }
                if (have_want && subnet_overlaps(s, want)) {
                        network_set_status(n, false,
                                           "subnet %s (%s of this machine %s) is held by machine %s (%s) as %s: "
                                           "not setting up the network; free it or set network_subnet",
                                           subnet_format(want, a),
                                           n->has_fixed ? "network_subnet" : "remembered in the state file",
                                           n->machine_id, rec ? rec->machine_id : "?",
                                           rec ? rec->public_ip : "?", subnet_format(s, b));
                        return retry_later(n);
                }
                taken[n_taken++] = s;
        }

        if (!have_want) {
                r = subnet_pick(n->range, n->subnet_len, taken, n_taken,
                                subnet_seed(n->machine_id) + n->attempts, &want);
                if (r < 0) {
                        network_set_status(n, false, "no free /%u left in %s (%zu taken)", n->subnet_len,
                                           subnet_format(n->range, a), n_taken);
                        return retry_later(n);
                }
        }

        r = lease_claim(n, want, own_rev);
        if (r < 0) {
                network_set_status(n, false, "cannot send the subnet lease: %s", strerror(-r));
                retry_later(n);
        }
}

static void lease_try(Network *n) {
        int r;

        n->call = etcd_call_cancel(n->call);
        r = etcd_range(n->etcd, &(EtcdRangeOptions) { .key = n->subnets_prefix, .flags = ETCD_PREFIX },
                       on_subnets_listed, n, &n->call);
        if (r < 0) {
                network_set_status(n, false, "cannot list the subnet leases: %s", strerror(-r));
                retry_later(n);
        }
}

static void on_lease_txn(EtcdClient *c, int error, const EtcdResponse *resp, void *userdata) {
        Network *n = userdata;
        char a[SUBNET_STRLEN], b[SUBNET_STRLEN];
        int r;

        n->call = NULL;
        if (error < 0) {
                network_set_status(n, false, "the subnet lease of %s failed: %s",
                                   subnet_format(n->candidate, a), strerror(-error));
                return retry_later(n);
        }
        if (!resp->succeeded) {
                /* Someone took it between the list and the txn: list again (the holder is named
                 * then if it was ours to keep), or pick another. */
                if (++n->attempts >= NETWORK_LEASE_ATTEMPTS) {
                        network_set_status(n, false, "lost the race for a subnet %u times", n->attempts);
                        n->attempts = 0;
                        return retry_later(n);
                }
                return lease_try(n);
        }

        n->attempts = 0;
        if (n->have_subnet && !subnet_equal(n->subnet, n->candidate)) {
                /* Never re-address a running machine's containers silently. */
                network_set_status(n, false, "leased %s although the device is set up for %s: restart fleetd",
                                   subnet_format(n->candidate, a), subnet_format(n->subnet, b));
                return;
        }
        n->subnet = n->candidate;
        n->have_subnet = true;
        n->leased = true;
        log_info("Leased subnet %s of %s.", subnet_format(n->subnet, a), subnet_format(n->range, b));
        r = state_write(n);
        if (r < 0)
                log_warning_errno(r, "Failed to remember the subnet in %s, continuing: %m", n->state_file);

        r = network_device_setup(n);
        if (r < 0)
                return;         /* the status says why; the lease stays so nobody else takes it */
        network_remotes_start(n);
}

static void on_lease(EtcdLease *l, EtcdLeaseEvent event, int64_t lease_id, void *userdata) {
        Network *n = userdata;

        switch (event) {

        case ETCD_LEASE_GRANTED:
                n->lease_id = lease_id;
                n->leased = false;
                lease_try(n);
                break;

        case ETCD_LEASE_EXPIRING:
        case ETCD_LEASE_RENEWED:
                /* The claim stands until etcd says the lease is gone. */
                break;

        case ETCD_LEASE_LOST:
                /* The data plane stays: the containers keep working while etcd is away. */
                log_warning("Cluster network: lost the subnet lease, claiming it again when etcd answers.");
                n->lease_id = 0;
                n->leased = false;
                n->call = etcd_call_cancel(n->call);
                break;
        }
}

int network_start(Network *n) {
        int r;

        assert(n);

        r = netlink_socket_open(&n->nl);
        if (r < 0) {
                network_set_status(n, false, "cannot open a netlink socket: %s", strerror(-r));
                return 0;
        }
        return etcd_lease_keeper_new(&n->lease, n->etcd, n->ttl_sec, on_lease, n);
}
