/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rtnetlink for the cluster network's data plane, with libmnl: the flannel vxlan-backend layout
 * (one VXLAN device without learning; per remote machine a route "<subnet> via <subnet>.0
 * onlink", a permanent neighbour <subnet>.0 -> its VTEP MAC, an FDB entry VTEP MAC -> its public
 * IP). The netlink_build_*() functions only fill a message (pure, unit-tested); NetlinkSocket sends
 * them and waits for the kernel's answer. Addresses are in host byte order. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

struct nlmsghdr;

/* Room for any message built here (they are all far smaller). */
#define NETLINK_MSG_SIZE 1024

typedef struct NetlinkVxlan {
        const char *name;
        uint32_t vni;
        uint32_t local;                 /* underlay source address */
        int underlay_ifindex;           /* 0: let the kernel route */
        uint16_t port;                  /* UDP destination port */
        uint8_t mac[6];
        uint32_t mtu;
} NetlinkVxlan;

/* What the kernel says about a link, for comparing an existing device with the wanted one. */
typedef struct NetlinkLink {
        int ifindex;
        char name[16];
        char kind[16];                  /* "" when it has no IFLA_LINKINFO kind */
        bool up;
        uint32_t mtu;
        uint8_t mac[6];
        bool has_vxlan;                 /* the vxlan_* fields were reported */
        uint32_t vxlan_vni;
        uint32_t vxlan_local;
        uint16_t vxlan_port;
        bool vxlan_learning;
        int vxlan_link;
} NetlinkLink;

/* Each builder writes one request with NLM_F_REQUEST|NLM_F_ACK and sequence number seq into buf
 * (NETLINK_MSG_SIZE bytes, 4-byte aligned) and returns its header. */
struct nlmsghdr *netlink_build_vxlan_new(void *buf, uint32_t seq, const NetlinkVxlan *v);
/* RTM_GETLINK by name (or, with name NULL, by ifindex); RTM_DELLINK by ifindex; RTM_NEWLINK setting the link up and its MTU. */
struct nlmsghdr *netlink_build_link_get(void *buf, uint32_t seq, const char *name, int ifindex);
struct nlmsghdr *netlink_build_link_del(void *buf, uint32_t seq, int ifindex);
struct nlmsghdr *netlink_build_link_up(void *buf, uint32_t seq, int ifindex, uint32_t mtu);
/* RTM_NEWADDR (replace) / RTM_DELADDR of addr/len on ifindex. */
struct nlmsghdr *netlink_build_addr(void *buf, uint32_t seq, bool add, int ifindex, uint32_t addr, unsigned len);
/* RTM_NEWROUTE (replace) / RTM_DELROUTE of dst/len via gateway on ifindex, onlink, in the main
 * table. For a delete, gateway may be 0. */
struct nlmsghdr *netlink_build_route(void *buf, uint32_t seq, bool add, uint32_t dst, unsigned len,
                                     uint32_t gateway, int ifindex);
/* RTM_NEWNEIGH (replace, permanent) / RTM_DELNEIGH: IPv4 neighbour ip -> mac on ifindex. */
struct nlmsghdr *netlink_build_neigh(void *buf, uint32_t seq, bool add, int ifindex, uint32_t ip,
                                     const uint8_t mac[static 6]);
/* RTM_NEWNEIGH (replace, permanent, NTF_SELF) / RTM_DELNEIGH: bridge FDB entry mac -> underlay dst
 * on the VXLAN device ifindex. */
struct nlmsghdr *netlink_build_fdb(void *buf, uint32_t seq, bool add, int ifindex, const uint8_t mac[static 6],
                                   uint32_t dst);

/* Parse an RTM_NEWLINK message (the answer to netlink_build_link_get()) into *ret. Returns 0 or
 * -EBADMSG. */
int netlink_parse_link(const struct nlmsghdr *nlh, NetlinkLink *ret);

/* Parse "xx:xx:xx:xx:xx:xx" (either case) / print lowercase into buf (18 bytes), which is
 * returned. */
int netlink_mac_parse(const char *s, uint8_t ret[static 6]);
char *netlink_mac_format(const uint8_t mac[static 6], char buf[static 18]);

typedef struct NetlinkSocket NetlinkSocket;

/* Open a NETLINK_ROUTE socket in the caller's network namespace. Returns 0 or a negative errno. */
int netlink_socket_open(NetlinkSocket **ret);
NetlinkSocket *netlink_socket_close(NetlinkSocket *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetlinkSocket *, netlink_socket_close);

/* A fresh sequence number for the next message. */
uint32_t netlink_socket_seq(NetlinkSocket *s);

/* Send one request built above and wait for the kernel's acknowledgement. Returns 0 or the
 * kernel's negative errno (-EEXIST, -ENODEV, ...). */
int netlink_call(NetlinkSocket *s, struct nlmsghdr *nlh);

/* Look a link up by index. Returns 0, -ENODEV, or another negative errno. */
int netlink_link_get_by_index(NetlinkSocket *s, int ifindex, NetlinkLink *ret);

/* Look a link up by name. Returns 0 with *ret filled, -ENODEV if there is none, or another
 * negative errno. */
int netlink_link_get(NetlinkSocket *s, const char *name, NetlinkLink *ret);

/* The index of the link that holds the IPv4 address addr. Returns the ifindex, -ENXIO if no link
 * has it, or a negative errno. */
int netlink_ifindex_of_addr(NetlinkSocket *s, uint32_t addr);
