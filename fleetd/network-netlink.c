/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "network-netlink.h"

struct NetlinkSocket {
        struct mnl_socket *nl;
        uint32_t portid;
        uint32_t seq;
};

static struct nlmsghdr *put_header(void *buf, uint16_t type, uint16_t flags, uint32_t seq) {
        struct nlmsghdr *nlh;

        memset(buf, 0, NETLINK_MSG_SIZE);
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh->nlmsg_seq = seq;
        return nlh;
}

struct nlmsghdr *netlink_build_vxlan_new(void *buf, uint32_t seq, const NetlinkVxlan *v) {
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;
        struct nlattr *linkinfo, *data;

        assert(v && v->name);

        /* Create only: an existing device is compared by the caller, never silently changed. */
        nlh = put_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
        mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
        linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, v->vni);
        mnl_attr_put_u32(nlh, IFLA_VXLAN_LOCAL, htonl(v->local));
        if (v->underlay_ifindex > 0)
                mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t) v->underlay_ifindex);
        mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(v->port));
        /* No learning: every remote VTEP is programmed from etcd, as flannel does. */
        mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, linkinfo);
        return nlh;
}

struct nlmsghdr *netlink_build_link_get(void *buf, uint32_t seq, const char *name, int ifindex) {
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        nlh = put_header(buf, RTM_GETLINK, 0, seq);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        if (name)
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        else
                ifi->ifi_index = ifindex;
        return nlh;
}

struct nlmsghdr *netlink_build_link_del(void *buf, uint32_t seq, int ifindex) {
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        nlh = put_header(buf, RTM_DELLINK, 0, seq);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        return nlh;
}

struct nlmsghdr *netlink_build_link_up(void *buf, uint32_t seq, int ifindex, uint32_t mtu) {
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        nlh = put_header(buf, RTM_NEWLINK, 0, seq);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        return nlh;
}

struct nlmsghdr *netlink_build_addr(void *buf, uint32_t seq, bool add, int ifindex, uint32_t addr, unsigned len) {
        struct nlmsghdr *nlh;
        struct ifaddrmsg *ifa;
        uint32_t a = htonl(addr);

        nlh = put_header(buf, add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, seq);
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (uint8_t) len;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t) ifindex;
        mnl_attr_put_u32(nlh, IFA_LOCAL, a);
        mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
        return nlh;
}

struct nlmsghdr *netlink_build_route(void *buf, uint32_t seq, bool add, uint32_t dst, unsigned len,
                                     uint32_t gateway, int ifindex) {
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;

        nlh = put_header(buf, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, seq);
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = (uint8_t) len;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        /* The gateway is the remote VTEP's address, which is on no local subnet. */
        rtm->rtm_flags = RTNH_F_ONLINK;
        mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
        if (gateway)
                mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) ifindex);
        return nlh;
}

struct nlmsghdr *netlink_build_neigh(void *buf, uint32_t seq, bool add, int ifindex, uint32_t ip,
                                     const uint8_t mac[static 6]) {
        struct nlmsghdr *nlh;
        struct ndmsg *ndm;

        nlh = put_header(buf, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, seq);
        ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
        ndm->ndm_family = AF_INET;
        ndm->ndm_ifindex = ifindex;
        ndm->ndm_state = NUD_PERMANENT;
        ndm->ndm_type = RTN_UNICAST;
        mnl_attr_put_u32(nlh, NDA_DST, htonl(ip));
        if (add)
                mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
        return nlh;
}

struct nlmsghdr *netlink_build_fdb(void *buf, uint32_t seq, bool add, int ifindex, const uint8_t mac[static 6],
                                   uint32_t dst) {
        struct nlmsghdr *nlh;
        struct ndmsg *ndm;

        nlh = put_header(buf, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, seq);
        ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
        ndm->ndm_family = AF_BRIDGE;
        ndm->ndm_ifindex = ifindex;
        ndm->ndm_state = NUD_PERMANENT;
        /* The VXLAN device's own forwarding table, not a bridge master's. */
        ndm->ndm_flags = NTF_SELF;
        mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
        mnl_attr_put_u32(nlh, NDA_DST, htonl(dst));
        return nlh;
}

/* One attribute table: every attribute of a known type (newer kernels' are skipped) by type. */
typedef struct AttrTable {
        const struct nlattr **tb;
        uint16_t max;
} AttrTable;

static int attr_cb(const struct nlattr *attr, void *data) {
        const AttrTable *t = data;

        if (mnl_attr_type_valid(attr, t->max) < 0)
                return MNL_CB_OK;
        t->tb[mnl_attr_get_type(attr)] = attr;
        return MNL_CB_OK;
}

static bool attr_len_ok(const struct nlattr *a, size_t len) {
        return a && mnl_attr_get_payload_len(a) >= len;
}

int netlink_parse_link(const struct nlmsghdr *nlh, NetlinkLink *ret) {
        const struct nlattr *tb[IFLA_MAX + 1] = {}, *info[IFLA_INFO_MAX + 1] = {}, *vx[IFLA_VXLAN_MAX + 1] = {};
        const struct ifinfomsg *ifi;
        NetlinkLink l = {};

        assert(ret);

        if (!nlh || nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
                return -EBADMSG;
        ifi = mnl_nlmsg_get_payload(nlh);
        if (mnl_attr_parse(nlh, sizeof(*ifi), attr_cb, &(AttrTable) { tb, IFLA_MAX }) < 0)
                return -EBADMSG;

        l.ifindex = ifi->ifi_index;
        l.up = ifi->ifi_flags & IFF_UP;
        if (tb[IFLA_IFNAME])
                snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
        if (attr_len_ok(tb[IFLA_MTU], 4))
                l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
        if (attr_len_ok(tb[IFLA_ADDRESS], 6))
                memcpy(l.mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
        if (tb[IFLA_LINKINFO] && mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_cb, &(AttrTable) { info, IFLA_INFO_MAX }) >= 0) {
                if (info[IFLA_INFO_KIND])
                        snprintf(l.kind, sizeof(l.kind), "%s", mnl_attr_get_str(info[IFLA_INFO_KIND]));
                if (streq(l.kind, "vxlan") && info[IFLA_INFO_DATA] &&
                    mnl_attr_parse_nested(info[IFLA_INFO_DATA], attr_cb, &(AttrTable) { vx, IFLA_VXLAN_MAX }) >= 0) {
                        l.has_vxlan = true;
                        if (attr_len_ok(vx[IFLA_VXLAN_ID], 4))
                                l.vxlan_vni = mnl_attr_get_u32(vx[IFLA_VXLAN_ID]);
                        if (attr_len_ok(vx[IFLA_VXLAN_LOCAL], 4))
                                l.vxlan_local = ntohl(mnl_attr_get_u32(vx[IFLA_VXLAN_LOCAL]));
                        if (attr_len_ok(vx[IFLA_VXLAN_PORT], 2))
                                l.vxlan_port = ntohs(mnl_attr_get_u16(vx[IFLA_VXLAN_PORT]));
                        if (attr_len_ok(vx[IFLA_VXLAN_LEARNING], 1))
                                l.vxlan_learning = mnl_attr_get_u8(vx[IFLA_VXLAN_LEARNING]);
                        if (attr_len_ok(vx[IFLA_VXLAN_LINK], 4))
                                l.vxlan_link = (int) mnl_attr_get_u32(vx[IFLA_VXLAN_LINK]);
                }
        }
        *ret = l;
        return 0;
}

int netlink_mac_parse(const char *s, uint8_t ret[static 6]) {
        uint8_t m[6];

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                unsigned v = 0;

                for (int j = 0; j < 2; j++) {
                        char c = s[i * 3 + j];

                        v <<= 4;
                        if (c >= '0' && c <= '9')
                                v |= (unsigned) (c - '0');
                        else if (c >= 'a' && c <= 'f')
                                v |= (unsigned) (c - 'a' + 10);
                        else if (c >= 'A' && c <= 'F')
                                v |= (unsigned) (c - 'A' + 10);
                        else
                                return -EINVAL;
                }
                if (i < 5 && s[i * 3 + 2] != ':')
                        return -EINVAL;
                m[i] = (uint8_t) v;
        }
        memcpy(ret, m, 6);
        return 0;
}

char *netlink_mac_format(const uint8_t mac[static 6], char buf[static 18]) {
        snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}

int netlink_socket_open(NetlinkSocket **ret) {
        _cleanup_(netlink_socket_closep) NetlinkSocket *s = NULL;

        assert(ret);

        s = new0(NetlinkSocket, 1);
        if (!s)
                return -ENOMEM;
        s->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!s->nl)
                return -errno;
        if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        s->portid = mnl_socket_get_portid(s->nl);
        s->seq = (uint32_t) time(NULL);
        *ret = TAKE_PTR(s);
        return 0;
}

NetlinkSocket *netlink_socket_close(NetlinkSocket *s) {
        if (!s)
                return NULL;
        if (s->nl)
                mnl_socket_close(s->nl);
        return mfree(s);
}

uint32_t netlink_socket_seq(NetlinkSocket *s) {
        return ++s->seq;
}

typedef struct CallCtx {
        NetlinkLink *link;
        uint32_t want_addr;
        int found_ifindex;
        int parse_error;
} CallCtx;

static int data_cb(const struct nlmsghdr *nlh, void *data) {
        CallCtx *ctx = data;

        if (ctx && ctx->link && nlh->nlmsg_type == RTM_NEWLINK) {
                if (netlink_parse_link(nlh, ctx->link) < 0)
                        ctx->parse_error = -EBADMSG;
        } else if (ctx && nlh->nlmsg_type == RTM_NEWADDR && ctx->found_ifindex == 0) {
                const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
                const struct nlattr *tb[IFA_MAX + 1] = {};

                if (ifa->ifa_family == AF_INET && mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, &(AttrTable) { tb, IFA_MAX }) >= 0) {
                        const struct nlattr *a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];

                        if (attr_len_ok(a, 4) && ntohl(mnl_attr_get_u32(a)) == ctx->want_addr)
                                ctx->found_ifindex = (int) ifa->ifa_index;
                }
        }
        return MNL_CB_OK;
}

/* Send nlh and read answers until the ack (or NLMSG_DONE of a dump), passing data to data_cb. */
static int call_with(NetlinkSocket *s, struct nlmsghdr *nlh, CallCtx *ctx) {
        uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
        uint32_t seq = nlh->nlmsg_seq;
        ssize_t n;
        int r;

        assert(s);

        if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                n = mnl_socket_recvfrom(s->nl, buf, sizeof(buf));
                if (n < 0)
                        return errno == ENOBUFS ? -ENOBUFS : -errno;
                r = mnl_cb_run(buf, (size_t) n, seq, s->portid, data_cb, ctx);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP)
                        return ctx && ctx->parse_error ? ctx->parse_error : 0;
        }
}

int netlink_call(NetlinkSocket *s, struct nlmsghdr *nlh) {
        return call_with(s, nlh, NULL);
}

static int link_get(NetlinkSocket *s, const char *name, int ifindex, NetlinkLink *ret) {
        _Alignas(4) uint8_t buf[NETLINK_MSG_SIZE];
        NetlinkLink l = {};
        CallCtx ctx = { .link = &l };
        int r;

        assert(ret);

        r = call_with(s, netlink_build_link_get(buf, netlink_socket_seq(s), name, ifindex), &ctx);
        if (r == -ENODEV || (r >= 0 && l.ifindex == 0))
                return -ENODEV;
        if (r < 0)
                return r;
        *ret = l;
        return 0;
}

int netlink_link_get(NetlinkSocket *s, const char *name, NetlinkLink *ret) {
        assert(name);
        return link_get(s, name, 0, ret);
}

int netlink_link_get_by_index(NetlinkSocket *s, int ifindex, NetlinkLink *ret) {
        return link_get(s, NULL, ifindex, ret);
}

int netlink_ifindex_of_addr(NetlinkSocket *s, uint32_t addr) {
        _Alignas(4) uint8_t buf[NETLINK_MSG_SIZE];
        struct nlmsghdr *nlh;
        struct ifaddrmsg *ifa;
        CallCtx ctx = { .want_addr = addr };
        int r;

        nlh = put_header(buf, RTM_GETADDR, NLM_F_DUMP, netlink_socket_seq(s));
        nlh->nlmsg_flags &= (uint16_t) ~NLM_F_ACK;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        r = call_with(s, nlh, &ctx);
        if (r < 0)
                return r;
        return ctx.found_ifindex > 0 ? ctx.found_ifindex : -ENXIO;
}
