/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cluster network's data plane on one machine (docs/network.md): a subnet of the cluster
 * range leased in etcd with a create-only txn and remembered in the state directory across
 * reboots; one VXLAN device programmed the flannel vxlan-backend way from a watch of the other
 * machines' subnet records; nftables rules (VXLAN only from the cluster's machines, masquerade
 * for container traffic leaving the range); a CNI network "fleet" over the machine's subnet for
 * podman. A network that cannot be set up is reported (network_status()) and retried; it never
 * stops fleetd, and nothing is left half set up. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "etcd-client.h"
#include "macro.h"
#include "subnet.h"
#include "unit-network.h"

#define NETWORK_CNI_NAME CLUSTER_NETWORK_NAME
#define NETWORK_BRIDGE_NAME "fleet0"
#define NETWORK_NFT_TABLE "fleet"
/* Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
#define NETWORK_VXLAN_OVERHEAD 50

typedef struct NetworkConfig {
        const char *key_prefix;
        const char *machine_id;
        const char *public_ip;          /* the underlay address; required */
        Subnet range;
        unsigned subnet_len;
        const Subnet *subnet;           /* NULL: any free one */
        uint32_t vni;
        uint16_t port;
        const char *device;             /* NULL: "fleet.<vni>" */
        const char *state_dir;          /* ends in '/' */
        const char *cni_dir;            /* ends in '/' */
        const char *docker_socket;      /* the Docker Engine API's socket; NULL or "": docker is not managed */
        int64_t ttl_sec;                /* the subnet lease's */
} NetworkConfig;

typedef struct Network Network;

/* Create the network of this machine (nothing is touched yet). Returns 0, -EINVAL for an
 * inconsistent configuration (subnet length outside range/8..30, a fixed subnet outside the range
 * or of another length, VNI/port out of bounds, no public IP) with a malloc'd message in
 * *ret_error (if non-NULL), -ENOMEM. */
int network_new(Network **ret, sd_event *event, EtcdClient *etcd, const NetworkConfig *config, char **ret_error);
/* Start leasing and programming; failures after this are reported through network_status() and
 * retried. Returns 0 or -ENOMEM. */
int network_start(Network *n);
/* Stop (the lease is revoked only when revoke is set; the kernel state stays as it is, so a
 * restarted fleetd takes the device over and containers keep their addresses). Accepts NULL. */
Network *network_free(Network *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(Network *, network_free);

/* Called whenever the network becomes ready or not, or its status text changes. */
typedef void (*network_status_handler_t)(Network *n, bool ready, const char *status, void *userdata);
void network_set_status_handler(Network *n, network_status_handler_t handler, void *userdata);

/* Whether the machine's subnet is leased and its device, firewall and CNI network are set up. */
bool network_is_ready(const Network *n);
/* A one-line status: the subnet when ready, else why not (borrowed). */
const char *network_status(const Network *n);
/* The leased subnet, when there is one. */
bool network_get_subnet(const Network *n, Subnet *ret);
/* The number of remote machines programmed into the device. */
unsigned network_n_remotes(const Network *n);

/* The VTEP MAC of a machine: derived from its id (stable across reboots), locally administered,
 * unicast. */
void network_vtep_mac(const char *machine_id, uint8_t ret[static 6]);

/* ---- pieces with no I/O, for the tests (network-cni.c, network-nft.c) ---- */

/* The CNI conflist of the machine's container network: bridge NETWORK_BRIDGE_NAME as gateway
 * (<subnet>.1), host-local IPAM over the subnet from .2, no masquerade (fleetd's nftables do it
 * for traffic leaving the cluster range only), MTU mtu. Returns a malloc'd JSON text or NULL. */
char *network_cni_conflist(Subnet subnet, uint32_t mtu);
/* Write it to DIR/fleet.conflist atomically. Returns 0 or a negative errno. */
int network_cni_write(const char *dir, Subnet subnet, uint32_t mtu);

/* The nftables ruleset (nft syntax) of table ip NETWORK_NFT_TABLE, replacing any earlier one in one
 * transaction: UDP port accepted only from the addresses peers[0..n_peers) (the cluster's
 * machines), masquerade of range's traffic to outside range. Returns a malloc'd text or NULL. */
char *network_nft_ruleset(Subnet range, uint16_t port, const uint32_t *peers, size_t n_peers);
/* Print an nft set of IPv4 addresses addrs[0..n) called name (comment: NULL or nft-safe text)
 * into a table body. */
void network_nft_set_print(FILE *f, const char *name, const char *comment, const uint32_t *addrs, size_t n);
/* Apply a ruleset with libnftables. On failure *ret_error gets nft's message. Returns 0 or a
 * negative errno. */
int network_nft_apply(const char *ruleset, char **ret_error);
/* Run one nft command (a "list ...") with JSON output into *ret_json (malloc'd). When nft refuses
 * it (a table or chain that does not exist, mostly), *ret_error gets nft's message and -EIO is
 * returned; otherwise 0 or -ENOMEM. */
int network_nft_list(const char *cmd, char **ret_json, char **ret_error);
