/* SPDX-License-Identifier: Apache-2.0 */

/* The cluster network's pure parts: the rtnetlink messages (parsed back with libmnl, as the
 * kernel reads them), MAC text, the VTEP MAC, the CNI conflist, the nftables ruleset and the compose
 * networks' scope rules. */

#include <arpa/inet.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "network-docker.h"
#include "network-netlink.h"
#include "network-scopes.h"
#include "network.h"
#include "strv.h"
#include "tap.h"

#define IP(a, b, c, d) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) | (uint32_t) (d))

typedef struct Attrs {
        const struct nlattr *tb[64];
} Attrs;

static int collect(const struct nlattr *attr, void *data) {
        Attrs *a = data;

        if (mnl_attr_get_type(attr) < ELEMENTSOF(a->tb))
                a->tb[mnl_attr_get_type(attr)] = attr;
        return MNL_CB_OK;
}

static uint32_t be32(const struct nlattr *a) {
        return a ? ntohl(mnl_attr_get_u32(a)) : 0;
}

static void test_vxlan(void) {
        _Alignas(4) uint8_t buf[NETLINK_MSG_SIZE];
        NetlinkVxlan v = {
                .name = "fleet.1", .vni = 1, .local = IP(10, 99, 7, 11), .underlay_ifindex = 2, .port = 4789,
                .mac = { 0x02, 0xfa, 1, 2, 3, 4 }, .mtu = 1450,
        };
        struct nlmsghdr *nlh = netlink_build_vxlan_new(buf, 7, &v);
        Attrs top = {}, info = {}, data = {};
        NetlinkLink l;

        is_int(nlh->nlmsg_type, RTM_NEWLINK, "vxlan: RTM_NEWLINK");
        ok((nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK | NLM_F_REQUEST)) ==
           (NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK | NLM_F_REQUEST), "vxlan: create-only, acknowledged");
        is_int((int) nlh->nlmsg_seq, 7, "vxlan: sequence number");
        ok(mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect, &top) >= 0, "vxlan: attributes parse");
        is_str(mnl_attr_get_str(top.tb[IFLA_IFNAME]), "fleet.1", "vxlan: name");
        is_int((int) mnl_attr_get_u32(top.tb[IFLA_MTU]), 1450, "vxlan: MTU");
        ok(memcmp(mnl_attr_get_payload(top.tb[IFLA_ADDRESS]), v.mac, 6) == 0, "vxlan: MAC");
        ok(mnl_attr_parse_nested(top.tb[IFLA_LINKINFO], collect, &info) >= 0, "vxlan: link info parses");
        is_str(mnl_attr_get_str(info.tb[IFLA_INFO_KIND]), "vxlan", "vxlan: kind");
        ok(mnl_attr_parse_nested(info.tb[IFLA_INFO_DATA], collect, &data) >= 0, "vxlan: data parses");
        is_int((int) mnl_attr_get_u32(data.tb[IFLA_VXLAN_ID]), 1, "vxlan: VNI");
        ok(be32(data.tb[IFLA_VXLAN_LOCAL]) == IP(10, 99, 7, 11), "vxlan: local address in network order");
        is_int(ntohs(mnl_attr_get_u16(data.tb[IFLA_VXLAN_PORT])), 4789, "vxlan: port in network order");
        ok(data.tb[IFLA_VXLAN_LEARNING] && mnl_attr_get_u8(data.tb[IFLA_VXLAN_LEARNING]) == 0, "vxlan: no learning");
        is_int((int) mnl_attr_get_u32(data.tb[IFLA_VXLAN_LINK]), 2, "vxlan: underlay link");

        /* What the kernel would answer has the same shape: the parser reads it back. */
        nlh->nlmsg_type = RTM_NEWLINK;
        ((struct ifinfomsg *) mnl_nlmsg_get_payload(nlh))->ifi_index = 9;
        is_int(netlink_parse_link(nlh, &l), 0, "parse a link message");
        ok(l.ifindex == 9 && streq(l.name, "fleet.1") && streq(l.kind, "vxlan") && l.has_vxlan &&
           l.vxlan_vni == 1 && l.vxlan_local == IP(10, 99, 7, 11) && l.vxlan_port == 4789 &&
           !l.vxlan_learning && l.vxlan_link == 2 && l.mtu == 1450 && memcmp(l.mac, v.mac, 6) == 0,
           "every field read back");
        nlh->nlmsg_type = RTM_NEWROUTE;
        is_int(netlink_parse_link(nlh, &l), -EBADMSG, "a message of another type is refused");
}

static void test_route_neigh_fdb(void) {
        _Alignas(4) uint8_t buf[NETLINK_MSG_SIZE];
        const uint8_t mac[6] = { 0x02, 0xfa, 0, 0, 0, 2 };
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;
        struct ndmsg *ndm;
        struct ifaddrmsg *ifa;
        Attrs a = {};

        nlh = netlink_build_route(buf, 1, true, IP(10, 42, 2, 0), 24, IP(10, 42, 2, 0), 5);
        rtm = mnl_nlmsg_get_payload(nlh);
        is_int(nlh->nlmsg_type, RTM_NEWROUTE, "route: RTM_NEWROUTE");
        ok(nlh->nlmsg_flags & NLM_F_REPLACE, "route: replaces (a moved machine re-points it)");
        ok(rtm->rtm_family == AF_INET && rtm->rtm_dst_len == 24 && rtm->rtm_table == RT_TABLE_MAIN,
           "route: IPv4 /24 in the main table");
        ok(rtm->rtm_flags & RTNH_F_ONLINK, "route: onlink");
        assert_se(mnl_attr_parse(nlh, sizeof(*rtm), collect, &a) >= 0);
        ok(be32(a.tb[RTA_DST]) == IP(10, 42, 2, 0), "route: destination");
        ok(be32(a.tb[RTA_GATEWAY]) == IP(10, 42, 2, 0), "route: via the remote VTEP address <subnet>.0");
        is_int((int) mnl_attr_get_u32(a.tb[RTA_OIF]), 5, "route: on the VXLAN device");

        memset(&a, 0, sizeof(a));
        nlh = netlink_build_route(buf, 2, false, IP(10, 42, 2, 0), 24, 0, 5);
        is_int(nlh->nlmsg_type, RTM_DELROUTE, "route delete: RTM_DELROUTE");
        assert_se(mnl_attr_parse(nlh, sizeof(struct rtmsg), collect, &a) >= 0);
        ok(!a.tb[RTA_GATEWAY], "route delete: no gateway needed");

        memset(&a, 0, sizeof(a));
        nlh = netlink_build_neigh(buf, 3, true, 5, IP(10, 42, 2, 0), mac);
        ndm = mnl_nlmsg_get_payload(nlh);
        is_int(nlh->nlmsg_type, RTM_NEWNEIGH, "neighbour: RTM_NEWNEIGH");
        ok(ndm->ndm_family == AF_INET && ndm->ndm_state == NUD_PERMANENT && ndm->ndm_ifindex == 5,
           "neighbour: IPv4, permanent, on the device");
        assert_se(mnl_attr_parse(nlh, sizeof(*ndm), collect, &a) >= 0);
        ok(be32(a.tb[NDA_DST]) == IP(10, 42, 2, 0), "neighbour: the remote VTEP address");
        ok(memcmp(mnl_attr_get_payload(a.tb[NDA_LLADDR]), mac, 6) == 0, "neighbour: its MAC");

        memset(&a, 0, sizeof(a));
        nlh = netlink_build_fdb(buf, 4, true, 5, mac, IP(10, 99, 7, 12));
        ndm = mnl_nlmsg_get_payload(nlh);
        ok(ndm->ndm_family == AF_BRIDGE && (ndm->ndm_flags & NTF_SELF) && ndm->ndm_state == NUD_PERMANENT,
           "fdb: bridge family, the device's own table, permanent");
        assert_se(mnl_attr_parse(nlh, sizeof(*ndm), collect, &a) >= 0);
        ok(memcmp(mnl_attr_get_payload(a.tb[NDA_LLADDR]), mac, 6) == 0, "fdb: the VTEP MAC");
        ok(be32(a.tb[NDA_DST]) == IP(10, 99, 7, 12), "fdb: -> the remote public IP");

        memset(&a, 0, sizeof(a));
        nlh = netlink_build_addr(buf, 5, true, 5, IP(10, 42, 1, 0), 32);
        ifa = mnl_nlmsg_get_payload(nlh);
        ok(ifa->ifa_family == AF_INET && ifa->ifa_prefixlen == 32 && ifa->ifa_index == 5, "address: /32 on the device");
        assert_se(mnl_attr_parse(nlh, sizeof(*ifa), collect, &a) >= 0);
        ok(be32(a.tb[IFA_LOCAL]) == IP(10, 42, 1, 0), "address: <subnet>.0");

        nlh = netlink_build_link_up(buf, 6, 5, 1450);
        ok(((struct ifinfomsg *) mnl_nlmsg_get_payload(nlh))->ifi_flags & IFF_UP, "link up: IFF_UP");
        ok(((struct ifinfomsg *) mnl_nlmsg_get_payload(nlh))->ifi_change & IFF_UP, "link up: only IFF_UP changes");
}

static void test_mac(void) {
        uint8_t m[6], m2[6];
        char buf[18];

        is_int(netlink_mac_parse("02:FA:00:0a:ff:01", m), 0, "parse a MAC (either case)");
        is_str(netlink_mac_format(m, buf), "02:fa:00:0a:ff:01", "print it lowercase");
        is_int(netlink_mac_parse("02:fa:00:0a:ff", m2), -EINVAL, "too short");
        is_int(netlink_mac_parse("02-fa-00-0a-ff-01", m2), -EINVAL, "wrong separator");
        is_int(netlink_mac_parse("02:fa:00:0a:ff:0g", m2), -EINVAL, "not hex");

        network_vtep_mac("0123456789abcdef0123456789abcdef", m);
        network_vtep_mac("0123456789abcdef0123456789abcdef", m2);
        ok(memcmp(m, m2, 6) == 0, "VTEP MAC is stable for a machine id");
        ok((m[0] & 0x03) == 0x02, "VTEP MAC is unicast and locally administered");
        network_vtep_mac("fedcba9876543210fedcba9876543210", m2);
        ok(memcmp(m, m2, 6) != 0, "two machines, two VTEP MACs");
}

static void test_cni(void) {
        Subnet s;
        _cleanup_free_ char *text = NULL;
        json_auto_t *j = NULL;
        json_t *p, *range;

        assert_se(subnet_parse("10.42.7.0/24", &s) == 0);
        text = network_cni_conflist(s, 1450);
        ok(text != NULL, "conflist built");
        j = json_loads(text, 0, NULL);
        ok(j != NULL, "conflist is JSON");
        is_str(json_string_value(json_object_get(j, "name")), "fleet", "network name 'fleet'");
        p = json_array_get(json_object_get(j, "plugins"), 0);
        is_str(json_string_value(json_object_get(p, "type")), "bridge", "bridge plugin");
        is_str(json_string_value(json_object_get(p, "bridge")), NETWORK_BRIDGE_NAME, "bridge name");
        ok(json_is_false(json_object_get(p, "ipMasq")), "no masquerade by CNI (fleetd's nftables do it)");
        ok(json_is_true(json_object_get(p, "isGateway")), "the bridge is the gateway");
        is_int((int) json_integer_value(json_object_get(p, "mtu")), 1450, "MTU = underlay - 50");
        is_str(json_string_value(json_object_get(json_object_get(p, "ipam"), "type")), "host-local", "host-local IPAM");
        range = json_array_get(json_array_get(json_object_get(json_object_get(p, "ipam"), "ranges"), 0), 0);
        is_str(json_string_value(json_object_get(range, "subnet")), "10.42.7.0/24", "over the machine's subnet");
        is_str(json_string_value(json_object_get(range, "gateway")), "10.42.7.1", "gateway .1");
        is_str(json_string_value(json_object_get(range, "rangeStart")), "10.42.7.2", "containers from .2");
        is_str(json_string_value(json_object_get(range, "rangeEnd")), "10.42.7.127",
               "... to .127: docker's network takes the upper half of the shared bridge's subnet");
        is_str(json_string_value(json_object_get(json_array_get(json_object_get(j, "plugins"), 1), "type")),
               "portmap", "ports: publish through portmap");
}

static void test_docker(void) {
        Subnet s, r, s29;
        _cleanup_free_ char *body = NULL, *why = NULL;
        json_auto_t *j = NULL;
        json_t *c, *o;
        /* Answers as docker 20.10 gives them (IPRange and the bridge name reported) ... */
        const char *docker_ok =
                "{\"Name\":\"fleet\",\"Driver\":\"bridge\",\"IPAM\":{\"Driver\":\"default\",\"Options\":null,"
                "\"Config\":[{\"Subnet\":\"10.42.7.0/24\",\"IPRange\":\"10.42.7.128/25\",\"Gateway\":\"10.42.7.1\"}]},"
                "\"Options\":{\"com.docker.network.bridge.name\":\"fleet0\",\"com.docker.network.driver.mtu\":\"1450\"}}";
        /* ... and as podman 4.3's compat API does (neither reported, its own "mtu" option). */
        const char *podman_ok =
                "{\"Name\":\"fleet\",\"Driver\":\"bridge\",\"IPAM\":{\"Driver\":\"default\",\"Options\":{\"driver\":\"host-local\"},"
                "\"Config\":[{\"Subnet\":\"10.42.7.0/24\",\"Gateway\":\"10.42.7.1\"}]},\"Options\":{\"mtu\":\"1450\"}}";
        const char *wrong =
                "{\"Name\":\"fleet\",\"Driver\":\"bridge\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.99.99.0/24\","
                "\"IPRange\":\"10.99.99.0/24\",\"Gateway\":\"10.99.99.1\"}]},"
                "\"Options\":{\"com.docker.network.bridge.name\":\"br-x\"}}";

        assert_se(subnet_parse("10.42.7.0/24", &s) == 0);
        ok(network_docker_range(s, &r) && r.addr == IP(10, 42, 7, 128) && r.len == 25, "docker's half: 10.42.7.128/25");
        assert_se(subnet_parse("10.42.7.8/29", &s29) == 0);
        ok(!network_docker_range(s29, &r), "a /29 is too small to share");

        body = network_docker_create_body(s, 1450);
        j = body ? json_loads(body, 0, NULL) : NULL;
        ok(j != NULL, "create body is JSON");
        is_str(json_string_value(json_object_get(j, "Name")), "fleet", "named fleet");
        is_str(json_string_value(json_object_get(j, "Driver")), "bridge", "bridge driver");
        c = json_array_get(json_object_get(json_object_get(j, "IPAM"), "Config"), 0);
        is_str(json_string_value(json_object_get(c, "Subnet")), "10.42.7.0/24", "IPAM subnet = the machine's");
        is_str(json_string_value(json_object_get(c, "Gateway")), "10.42.7.1", "gateway .1, the bridge");
        is_str(json_string_value(json_object_get(c, "IPRange")), "10.42.7.128/25", "addresses from the upper half");
        o = json_object_get(j, "Options");
        is_str(json_string_value(json_object_get(o, "com.docker.network.bridge.name")), NETWORK_BRIDGE_NAME,
               "on the bridge podman's CNI network uses");
        is_str(json_string_value(json_object_get(o, "com.docker.network.driver.mtu")), "1450", "VXLAN MTU");
        is_str(json_string_value(json_object_get(o, "com.docker.network.bridge.enable_ip_masquerade")), "false",
               "no masquerade by docker");

        is_int(network_docker_check(docker_ok, strlen(docker_ok), s, 1450, &why), 1, "docker's right network matches");
        is_int(network_docker_check(podman_ok, strlen(podman_ok), s, 1450, &why), 1,
               "podman's compat answer matches (what it does not report is not held against it)");
        is_int(network_docker_check(docker_ok, strlen(docker_ok), s, 1400, &why), 0, "another MTU does not");
        is_str(why, "mtu 1450 (wants 1400)", "... and says so");
        why = mfree(why);
        is_int(network_docker_check(wrong, strlen(wrong), s, 1450, &why), 0, "a wrong network does not match");
        is_str(why, "subnet 10.99.99.0/24 (wants 10.42.7.0/24), gateway 10.99.99.1 (wants 10.42.7.1), IP range "
               "10.99.99.0/24 (wants 10.42.7.128/25), bridge br-x (wants fleet0)", "... naming every difference");
        why = mfree(why);
        is_int(network_docker_check("[]", 2, s, 1450, &why), -EBADMSG, "not a network: -EBADMSG");
        is_int(network_docker_check("{\"Driver\":\"macvlan\",\"IPAM\":{\"Config\":[]}}", 41, s, 1450, &why), 0,
               "another driver, no config: differs");
        is_str(why, "driver macvlan (wants bridge), IPAM configs 0 (wants 1)", "... naming both");
}

/* One network of docker's list (GET /networks) named name, with id, creation time and subnet
 * (fleet0's bridge and the 1450 MTU always). */
static char *docker_net(const char *name, const char *id, const char *created, const char *subnet) {
        char *s;

        assert_se(asprintf(&s, "{\"Name\":\"%s\",\"Id\":\"%s\",\"Created\":\"%s\",\"Driver\":\"bridge\","
                           "\"IPAM\":{\"Config\":[{\"Subnet\":\"%s\"}]},\"Options\":{\"com.docker.network.bridge.name\":"
                           "\"fleet0\",\"com.docker.network.driver.mtu\":\"1450\"}}", name, id, created, subnet) >= 0);
        return s;
}

/* docker's list made of up to three networks (NULL: fewer); takes them. */
static char *docker_list(char *a, char *b, char *c) {
        char *s;

        assert_se(asprintf(&s, "[%s%s%s%s%s]", strempty(a), b ? "," : "", strempty(b), c ? "," : "", strempty(c)) >= 0);
        free(a);
        free(b);
        free(c);
        return s;
}

static int plan_of(const char *list, NetworkDockerPlan *p) {
        Subnet s;

        assert_se(subnet_parse("10.42.7.0/24", &s) == 0);
        network_docker_plan_done(p);
        return network_docker_plan(list, strlen(list), s, 1450, p);
}

static void test_docker_plan(void) {
        _cleanup_(network_docker_plan_done) NetworkDockerPlan p = {};
        _cleanup_free_ char *l = NULL;
        usec_t u, v;

        /* Go leaves out trailing zeros of the fraction: .1 is before .12, though it sorts after. */
        is_int(network_docker_created_parse("2026-12-03T00:17:25.1Z", &u), 0, "docker's Created parses");
        is_int(network_docker_created_parse("2026-12-03T00:17:25.12Z", &v), 0, "... with any number of digits");
        ok(u < v && v - u == 20 * USEC_PER_MSEC, ".1 s is 20 ms before .12 s");
        is_int(network_docker_created_parse("2026-12-03T01:17:25.1+01:00", &v), 0, "a zone other than Z parses");
        is_int(v, u, "... to the same instant");
        is_int(network_docker_created_parse("2026-12-02T23:47:25.100000000-00:30", &v), 0, "a negative zone too");
        is_int(v, u, "... to the same instant");
        is_int(network_docker_created_parse("0001-01-01T00:00:00Z", &v), -EINVAL, "Go's zero time: -EINVAL");
        is_int(network_docker_created_parse("2026-12-03 00:17:25Z", &v), -EINVAL, "not RFC 3339: -EINVAL");
        is_int(network_docker_created_parse("2026-12-03T00:17:25.1Zjunk", &v), -EINVAL, "trailing junk: -EINVAL");

        is_int(plan_of("[]", &p), 0, "no network: a plan");
        ok(!p.keep && !p.remove, "... to create one, removing nothing");

        l = docker_list(docker_net("fleet", "aa01", "2026-12-03T00:17:25Z", "10.42.7.0/24"), NULL, NULL);
        is_int(plan_of(l, &p), 0, "one right network");
        ok(streq_ptr(p.keep, "aa01") && !p.remove, "... is kept, nothing removed");
        l = mfree(l);

        /* The name filter matches parts of names: "fleet-old" and "myfleet" are not ours. */
        l = docker_list(docker_net("fleet-old", "bb01", "2026-12-03T00:17:25Z", "10.99.1.0/24"),
                        docker_net("myfleet", "bb02", "2026-12-03T00:17:25Z", "10.99.2.0/24"), NULL);
        is_int(plan_of(l, &p), 0, "only networks whose names contain fleet");
        ok(!p.keep && !p.remove, "... are not ours: create fleet, remove nothing");
        l = mfree(l);

        /* Two right ones and a wrong one (the newer listed first): only the oldest right one stays. */
        l = docker_list(docker_net("fleet", "cc02", "2026-12-03T00:17:25.12Z", "10.42.7.0/24"),
                        docker_net("fleet", "cc01", "2026-12-03T00:17:25.1Z", "10.42.7.0/24"),
                        docker_net("fleet", "cc03", "2026-12-03T00:17:29.26Z", "10.99.199.0/24"));
        is_int(plan_of(l, &p), 0, "three networks named fleet, two right");
        is_str(p.keep, "cc01", "... the oldest right one is kept (by time, not by its text)");
        is_int(strv_length(p.remove), 2, "... the two others removed");
        is_str(p.remove[0], "cc02", "... the right duplicate");
        is_str(p.why[0], "is a second network named fleet (the oldest right one, cc01, stays)", "... as such");
        is_str(p.remove[1], "cc03", "... and the wrong one");
        is_str(p.why[1], "has subnet 10.99.199.0/24 (wants 10.42.7.0/24)", "... saying what is wrong");
        l = mfree(l);

        /* An older wrong one does not win by age; one with no readable time counts as the newest. */
        l = docker_list(docker_net("fleet", "dd01", "2026-12-01T00:00:00Z", "10.99.199.0/24"),
                        docker_net("fleet", "dd03", "", "10.42.7.0/24"),
                        docker_net("fleet", "dd02", "2026-12-03T00:00:00Z", "10.42.7.0/24"));
        is_int(plan_of(l, &p), 0, "an old wrong network and two right ones");
        is_str(p.keep, "dd02", "... the oldest right one with a time is kept");
        ok(strv_length(p.remove) == 2 && streq(p.remove[0], "dd01") && streq(p.remove[1], "dd03"),
           "... the wrong one and the timeless one go");
        l = mfree(l);

        l = docker_list(docker_net("fleet", "ee01", "2026-12-01T00:00:00Z", "10.99.199.0/24"),
                        docker_net("fleet", "ee02", "2026-12-02T00:00:00Z", "10.99.198.0/24"), NULL);
        is_int(plan_of(l, &p), 0, "two wrong networks");
        ok(!p.keep && strv_length(p.remove) == 2, "... both removed, one to be created");
        l = mfree(l);

        l = docker_list(docker_net("fleet", "../containers", "2026-12-01T00:00:00Z", "10.42.7.0/24"), NULL, NULL);
        is_int(plan_of(l, &p), -EBADMSG, "an id that is not alphanumeric (it goes into a path): -EBADMSG");
        is_int(plan_of("{\"Name\":\"fleet\"}", &p), -EBADMSG, "not a list: -EBADMSG");
        is_int(plan_of("[{\"Name\":\"fleet\",\"Id\":\"ff01\"}]", &p), -EBADMSG, "a fleet with no driver: -EBADMSG");
}

static void test_docker_forward(void) {
        _cleanup_free_ char *t = NULL;
        Subnet range;
        /* nft -j list chain ip filter DOCKER-USER, as docker 20.10 leaves it, and with fleetd's "to" rule. */
        const char *docker =
                "{\"nftables\":[{\"metainfo\":{\"version\":\"1.0.6\",\"json_schema_version\":1}},"
                "{\"chain\":{\"family\":\"ip\",\"table\":\"filter\",\"name\":\"DOCKER-USER\",\"handle\":12}},"
                "{\"rule\":{\"family\":\"ip\",\"table\":\"filter\",\"chain\":\"DOCKER-USER\",\"handle\":13,"
                "\"expr\":[{\"counter\":{\"packets\":0,\"bytes\":0}},{\"return\":null}]}}]}";
        const char *half =
                "{\"nftables\":[{\"rule\":{\"family\":\"ip\",\"table\":\"filter\",\"chain\":\"DOCKER-USER\",\"handle\":20,"
                "\"comment\":\"fleet: to cluster range 10.42.0.0/16\",\"expr\":[{\"accept\":null}]}}]}";
        const char *both =
                "{\"nftables\":[{\"rule\":{\"comment\":\"fleet: to cluster range 10.42.0.0/16\"}},"
                "{\"rule\":{\"comment\":\"fleet: from cluster range 10.42.0.0/16\"}}]}";

        assert_se(subnet_parse("10.42.0.0/16", &range) == 0);
        is_int(network_docker_forward_rules(range, docker, strlen(docker), &t), 0, "docker's own DOCKER-USER");
        is_str(t, "insert rule ip filter DOCKER-USER ip daddr 10.42.0.0/16 counter accept comment \"fleet: to cluster "
               "range 10.42.0.0/16\"\ninsert rule ip filter DOCKER-USER ip saddr 10.42.0.0/16 counter accept comment "
               "\"fleet: from cluster range 10.42.0.0/16\"\n", "... gets both accept rules, at its top");
        t = mfree(t);
        is_int(network_docker_forward_rules(range, half, strlen(half), &t), 0, "with the rule to the range");
        is_str(t, "insert rule ip filter DOCKER-USER ip saddr 10.42.0.0/16 counter accept comment \"fleet: from cluster "
               "range 10.42.0.0/16\"\n", "... only the one from it is added");
        t = mfree(t);
        is_int(network_docker_forward_rules(range, both, strlen(both), &t), 0, "with both");
        ok(!t, "... nothing to do (no second copy every check)");
        assert_se(subnet_parse("10.43.0.0/16", &range) == 0);
        is_int(network_docker_forward_rules(range, both, strlen(both), &t), 0, "another range");
        ok(t && strstr(t, "ip daddr 10.43.0.0/16") && strstr(t, "ip saddr 10.43.0.0/16"), "... gets its own rules");
        t = mfree(t);
        is_int(network_docker_forward_rules(range, "[]", 2, &t), -EBADMSG, "not nft's listing: -EBADMSG");
}

static void test_nft(void) {
        Subnet r;
        uint32_t peers[] = { IP(10, 99, 7, 11), IP(10, 99, 7, 12) };
        _cleanup_free_ char *t = NULL, *t0 = NULL;

        assert_se(subnet_parse("10.42.0.0/16", &r) == 0);
        t = network_nft_ruleset(r, 4789, peers, 2);
        ok(t != NULL, "ruleset built");
        ok(strstr(t, "table ip fleet\ndelete table ip fleet\ntable ip fleet {") == t,
           "the table is replaced in one transaction");
        ok(strstr(t, "elements = { 10.99.7.11, 10.99.7.12 }") != NULL, "the cluster's machines");
        ok(strstr(t, "udp dport 4789 ip saddr != @machines counter drop") != NULL,
           "VXLAN only from the cluster's machines");
        ok(strstr(t, "ip saddr 10.42.0.0/16 ip daddr != 10.42.0.0/16 masquerade") != NULL,
           "masquerade only what leaves the cluster range");
        t0 = network_nft_ruleset(r, 8472, NULL, 0);
        ok(t0 && !strstr(t0, "elements") && strstr(t0, "udp dport 8472"), "no machines yet: an empty set");
}

static void test_scopes(void) {
        char *front[] = { (char *) "names_front", NULL }, *back[] = { (char *) "names_back", NULL },
             *both[] = { (char *) "names_front", (char *) "names_back", (char *) "names_front", NULL };
        NetworkScopeMember m[] = {
                { IP(10, 42, 3, 2), front },
                { IP(10, 42, 4, 2), back },
                { IP(10, 42, 4, 3), both },
                { IP(10, 42, 3, 2), front },    /* the same container under a second key */
                { IP(10, 42, 4, 5), NULL },     /* on no compose network: not confined */
        };
        NetworkScopeMember rev[ELEMENTSOF(m)];
        _cleanup_free_ char *t = NULL, *t2 = NULL, *t0 = NULL, *t16 = NULL;
        const char *bridge;
        Subnet r;

        assert_se(subnet_parse("10.42.0.0/16", &r) == 0);
        t = network_scopes_ruleset(r, 24, m, ELEMENTSOF(m));
        ok(t != NULL, "scope rules built");
        is_str(t ? strndupa(t, strstr(t, "table bridge") ? (size_t) (strstr(t, "table bridge") - t) : strlen(t)) : NULL,
               "table ip fleet_scopes\n"
               "delete table ip fleet_scopes\n"
               "table ip fleet_scopes {\n"
               "\tset members {\n\t\ttype ipv4_addr\n\t\telements = { 10.42.3.2, 10.42.4.2, 10.42.4.3 }\n\t}\n"
               "\tset n0 {\n\t\ttype ipv4_addr\n\t\tcomment \"names_back\"\n"
               "\t\telements = { 10.42.4.2, 10.42.4.3 }\n\t}\n"
               "\tset n1 {\n\t\ttype ipv4_addr\n\t\tcomment \"names_front\"\n"
               "\t\telements = { 10.42.3.2, 10.42.4.3 }\n\t}\n"
               "\tchain forward {\n"
               "\t\ttype filter hook forward priority filter; policy accept;\n"
               "\t\tip daddr != 10.42.0.0/16 accept\n"
               "\t\tip saddr != 10.42.0.0/16 accept\n"
               "\t\tip saddr & 0.0.0.254 == 0.0.0.0 accept\n"
               "\t\tip daddr & 0.0.0.254 == 0.0.0.0 accept\n"
               "\t\tip saddr @n0 ip daddr @n0 accept\n"
               "\t\tip saddr @n1 ip daddr @n1 accept\n"
               "\t\tip saddr != @members ip daddr != @members accept\n"
               "\t\tip saddr 10.42.0.0/16 counter drop\n"
               "\t}\n"
               "}\n",
               "routed traffic: a set per network, one container once, the machines' .0/.1 let through, "
               "containers of no compose network among themselves, the rest of the range dropped");
        bridge = t ? strstr(t, "table bridge fleet_scopes\ndelete table bridge fleet_scopes\ntable bridge fleet_scopes {") : NULL;
        ok(bridge && strstr(bridge, "ip saddr @n1 ip daddr @n1 accept") &&
           strstr(bridge, "ip saddr != @members ip daddr != @members accept\n\t\tip saddr 10.42.0.0/16 counter drop"), "bridged traffic (one machine) gets the same chain");

        for (size_t i = 0; i < ELEMENTSOF(m); i++)
                rev[i] = m[ELEMENTSOF(m) - 1 - i];
        t2 = network_scopes_ruleset(r, 24, rev, ELEMENTSOF(rev));
        is_str(t2, t, "the same containers in another order: the same text (nothing applied again)");

        t0 = network_scopes_ruleset(r, 24, NULL, 0);
        ok(t0 && strstr(t0, "set members {\n\t\ttype ipv4_addr\n\t}") && !strstr(t0, "set n0"),
           "no containers: an empty members set, everything passes");
        t16 = network_scopes_ruleset(r, 20, m, 1);
        ok(t16 && strstr(t16, "ip saddr & 0.0.15.254 == 0.0.0.0 accept"), "/20 machine subnets: .0 and .1 of each");
}

int main(void) {
        test_vxlan();
        test_route_neigh_fdb();
        test_mac();
        test_cni();
        test_docker();
        test_docker_plan();
        test_docker_forward();
        test_nft();
        test_scopes();
        return done_testing();
}
