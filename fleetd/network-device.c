/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "log.h"
#include "network-internal.h"
#include "registry.h"

static int call(Network *n, struct nlmsghdr *nlh) {
        return netlink_call(n->nl, nlh);
}

static int firewall_apply(Network *n) {
        _cleanup_free_ uint32_t *peers = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t k = 0;
        int r;

        peers = new(uint32_t, n->n_remotes + 1);
        if (!peers)
                return -ENOMEM;
        peers[k++] = n->public_ip;
        for (size_t i = 0; i < n->n_remotes; i++)
                peers[k++] = n->remotes[i].public_ip;
        text = network_nft_ruleset(n->range, n->port, peers, k);
        if (!text)
                return -ENOMEM;
        if (n->firewall && streq(n->firewall, text))
                return 0;
        r = network_nft_apply(text, &error);
        if (r < 0) {
                log_error("Cluster network: nftables refused the ruleset: %s", strna(error));
                return r;
        }
        free_and_replace(n->firewall, text);
        text = NULL;
        return 0;
}

int network_device_setup(Network *n) {
        _Alignas(4) uint8_t buf[NETLINK_MSG_SIZE];
        char sn[SUBNET_STRLEN], ip[16], mac[18], mac2[18];
        NetlinkLink under = {}, have = {};
        bool created = false;
        int r, under_ifindex;

        subnet_format(n->subnet, sn);
        under_ifindex = netlink_ifindex_of_addr(n->nl, n->public_ip);
        if (under_ifindex < 0) {
                network_set_status(n, false, "public IP %s is on no interface of this machine: %s",
                                   n->public_ip_text, strerror(-under_ifindex));
                return under_ifindex;
        }
        r = netlink_link_get_by_index(n->nl, under_ifindex, &under);
        if (r < 0 || under.mtu <= NETWORK_VXLAN_OVERHEAD + 68) {
                network_set_status(n, false, "cannot read the MTU of the interface of %s", n->public_ip_text);
                return r < 0 ? r : -EINVAL;
        }
        n->mtu = under.mtu - NETWORK_VXLAN_OVERHEAD;

        r = netlink_link_get(n->nl, n->device, &have);
        if (r == -ENODEV) {
                NetlinkVxlan v = {
                        .name = n->device,
                        .vni = n->vni,
                        .local = n->public_ip,
                        .underlay_ifindex = under_ifindex,
                        .port = n->port,
                        .mtu = n->mtu,
                };

                memcpy(v.mac, n->mac, 6);
                r = call(n, netlink_build_vxlan_new(buf, netlink_socket_seq(n->nl), &v));
                if (r < 0) {
                        network_set_status(n, false, "cannot create VXLAN device %s: %s", n->device, strerror(-r));
                        return r;
                }
                created = true;
                r = netlink_link_get(n->nl, n->device, &have);
        }
        if (r < 0) {
                network_set_status(n, false, "cannot read device %s: %s", n->device, strerror(-r));
                goto fail;
        }
        if (!created && (!streq(have.kind, "vxlan") || !have.has_vxlan || have.vxlan_vni != n->vni ||
                         have.vxlan_local != n->public_ip || have.vxlan_port != n->port ||
                         have.vxlan_learning || memcmp(have.mac, n->mac, 6) != 0)) {
                network_set_status(n, false,
                                   "device %s exists as %s vni %u local %s port %u %s mac %s, but this machine "
                                   "wants vxlan vni %u local %s port %u nolearning mac %s: not touching it; "
                                   "delete it or set network_device",
                                   n->device, have.kind[0] ? have.kind : "(no kind)", have.vxlan_vni,
                                   subnet_addr_format(have.vxlan_local, ip), have.vxlan_port,
                                   have.vxlan_learning ? "learning" : "nolearning", netlink_mac_format(have.mac, mac),
                                   n->vni, n->public_ip_text, n->port, netlink_mac_format(n->mac, mac2));
                return -EEXIST;
        }
        n->ifindex = have.ifindex;

        /* <subnet>.0/32 is the VTEP address the other machines route to. */
        r = call(n, netlink_build_addr(buf, netlink_socket_seq(n->nl), true, n->ifindex, n->subnet.addr, 32));
        if (r >= 0)
                r = call(n, netlink_build_link_up(buf, netlink_socket_seq(n->nl), n->ifindex, n->mtu));
        if (r < 0) {
                network_set_status(n, false, "cannot set up device %s for %s: %s", n->device, sn, strerror(-r));
                goto fail;
        }

        r = network_cni_write(n->cni_dir, n->subnet, n->mtu);
        if (r < 0) {
                network_set_status(n, false, "cannot write the CNI network %s%s.conflist: %s", n->cni_dir,
                                   NETWORK_CNI_NAME, strerror(-r));
                goto fail;
        }
        r = firewall_apply(n);
        if (r < 0) {
                network_set_status(n, false, "cannot apply the nftables rules (table ip %s): %s",
                                   NETWORK_NFT_TABLE, strerror(-r));
                goto fail;
        }

        network_set_status(n, true, "subnet %s on %s (vni %u, port %u, mtu %u), CNI network %s", sn, n->device,
                           n->vni, n->port, n->mtu, NETWORK_CNI_NAME);
        /* docker's network is for docker's units only: podman's and plain units need not wait for it. */
        if (n->docker)
                network_docker_set(n->docker, n->range, n->subnet, n->mtu);
        return 0;

fail:
        if (created && n->ifindex > 0)
                (void) call(n, netlink_build_link_del(buf, netlink_socket_seq(n->nl), n->ifindex));
        else if (created && netlink_link_get(n->nl, n->device, &have) >= 0)
                (void) call(n, netlink_build_link_del(buf, netlink_socket_seq(n->nl), have.ifindex));
        n->ifindex = 0;
        return r;
}

/* ---- remote machines ---- */

static int remote_program(Network *n, const NetworkRemote *rm, bool add) {
        _Alignas(4) uint8_t buf[NETLINK_MSG_SIZE];
        int r, q;

        if (add) {
                /* FDB and neighbour first: once the route exists, packets must find both. */
                r = call(n, netlink_build_fdb(buf, netlink_socket_seq(n->nl), true, n->ifindex, rm->mac,
                                              rm->public_ip));
                if (r >= 0)
                        r = call(n, netlink_build_neigh(buf, netlink_socket_seq(n->nl), true, n->ifindex,
                                                        rm->subnet.addr, rm->mac));
                if (r >= 0)
                        r = call(n, netlink_build_route(buf, netlink_socket_seq(n->nl), true, rm->subnet.addr,
                                                        rm->subnet.len, rm->subnet.addr, n->ifindex));
                return r;
        }

        r = call(n, netlink_build_route(buf, netlink_socket_seq(n->nl), false, rm->subnet.addr, rm->subnet.len,
                                        0, n->ifindex));
        q = call(n, netlink_build_neigh(buf, netlink_socket_seq(n->nl), false, n->ifindex, rm->subnet.addr, rm->mac));
        if (r >= 0 || r == -ESRCH)
                r = q == -ENOENT ? 0 : q;
        q = call(n, netlink_build_fdb(buf, netlink_socket_seq(n->nl), false, n->ifindex, rm->mac, rm->public_ip));
        if (r >= 0 || r == -ESRCH || r == -ENOENT)
                r = q == -ENOENT ? 0 : q;
        return r == -ESRCH || r == -ENOENT ? 0 : r;
}

static NetworkRemote *remote_find(Network *n, Subnet s) {
        for (size_t i = 0; i < n->n_remotes; i++)
                if (subnet_equal(n->remotes[i].subnet, s))
                        return &n->remotes[i];
        return NULL;
}

static void remote_remove(Network *n, Subnet s) {
        NetworkRemote *rm = remote_find(n, s);
        char a[SUBNET_STRLEN];
        int r;

        if (!rm)
                return;
        r = remote_program(n, rm, false);
        if (r < 0)
                log_warning_errno(r, "Cluster network: failed to remove the route to %s: %m",
                                  subnet_format(s, a));
        else
                log_info("Cluster network: removed %s.", subnet_format(s, a));
        *rm = n->remotes[--n->n_remotes];
}

static void remote_put(Network *n, Subnet s, const char *json, size_t size) {
        _cleanup_(registry_subnet_freep) RegistrySubnet *rec = NULL;
        NetworkRemote want = { .subnet = s }, *have;
        char a[SUBNET_STRLEN];
        int r;

        if (registry_subnet_from_json(json, size, &rec) < 0 ||
            subnet_addr_parse(rec->public_ip, &want.public_ip) < 0 ||
            netlink_mac_parse(rec->vtep_mac, want.mac) < 0) {
                log_warning("Cluster network: ignoring the malformed lease of %s.", subnet_format(s, a));
                return;
        }
        if (streq(rec->machine_id, n->machine_id) || subnet_overlaps(s, n->subnet))
                return;         /* our own, or a conflict the holder reports */
        if (rec->vni != n->vni) {
                log_warning("Cluster network: %s of machine %s uses VNI %u, this machine %u: ignoring it.",
                            subnet_format(s, a), rec->machine_id, rec->vni, n->vni);
                return;
        }

        have = remote_find(n, s);
        if (have && have->public_ip == want.public_ip && memcmp(have->mac, want.mac, 6) == 0)
                return;
        if (have)
                remote_remove(n, s);
        r = remote_program(n, &want, true);
        if (r < 0) {
                log_warning_errno(r, "Cluster network: failed to program %s via %s: %m", subnet_format(s, a),
                                  rec->public_ip);
                (void) remote_program(n, &want, false);
                return;
        }
        if (!GREEDY_REALLOC(n->remotes, n->n_remotes_allocated, n->n_remotes + 1)) {
                (void) log_oom();
                (void) remote_program(n, &want, false);
                return;
        }
        n->remotes[n->n_remotes++] = want;
        log_info("Cluster network: %s is at %s (machine %s).", subnet_format(s, a), rec->public_ip, rec->machine_id);
}

static bool key_subnet(Network *n, const char *key, Subnet *ret) {
        const char *name = registry_subnet_key_name(n->key_prefix, key);

        return name && subnet_from_key_name(name, ret) >= 0;
}

static void on_watch(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events, int64_t revision,
                     void *userdata) {
        Network *n = userdata;
        Subnet s;
        int r;

        if (error < 0) {
                log_warning_errno(error, "Cluster network: the subnet watch ended, listing again: %m");
                n->watch = etcd_watch_free(n->watch);
                return network_remotes_start(n);
        }
        for (size_t i = 0; i < n_events; i++) {
                if (!key_subnet(n, events[i].kv.key, &s))
                        continue;
                if (events[i].type == ETCD_EVENT_PUT)
                        remote_put(n, s, events[i].kv.value, events[i].kv.value_size);
                else
                        remote_remove(n, s);
        }
        r = firewall_apply(n);
        if (r < 0)
                log_warning_errno(r, "Cluster network: failed to update the firewall: %m");
}

static void on_listed(EtcdClient *c, int error, const EtcdResponse *resp, void *userdata) {
        Network *n = userdata;
        int r;

        n->list_call = NULL;
        if (error < 0) {
                log_warning_errno(error, "Cluster network: cannot list the subnets, retrying: %m");
                return network_remotes_start(n);
        }
        /* Drop what is gone, program what is there. */
        for (size_t i = n->n_remotes; i > 0; i--) {
                bool found = false;

                for (size_t j = 0; j < resp->n_kvs && !found; j++) {
                        Subnet s;

                        found = key_subnet(n, resp->kvs[j].key, &s) && subnet_equal(s, n->remotes[i - 1].subnet);
                }
                if (!found)
                        remote_remove(n, n->remotes[i - 1].subnet);
        }
        for (size_t j = 0; j < resp->n_kvs; j++) {
                Subnet s;

                if (key_subnet(n, resp->kvs[j].key, &s))
                        remote_put(n, s, resp->kvs[j].value, resp->kvs[j].value_size);
        }
        r = firewall_apply(n);
        if (r < 0)
                log_warning_errno(r, "Cluster network: failed to update the firewall: %m");

        r = etcd_watch_new(&n->watch, n->etcd, n->subnets_prefix, ETCD_PREFIX, resp->revision + 1, on_watch, n);
        if (r < 0)
                log_error_errno(r, "Cluster network: cannot watch the subnets: %m");
}

void network_remotes_start(Network *n) {
        int r;

        if (n->watch || n->list_call)
                return;
        r = etcd_range(n->etcd, &(EtcdRangeOptions) { .key = n->subnets_prefix, .flags = ETCD_PREFIX },
                       on_listed, n, &n->list_call);
        if (r < 0)
                log_error_errno(r, "Cluster network: cannot list the subnets: %m");
}
