/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container-announce.h"
#include "ifaddrs-util.h"
#include "log.h"
#include "macro.h"

/* In the namespace to announce in: a packet socket, and the index and MAC of the Ethernet interface
 * holding address. */
static int announce_socket(struct in_addr address, int *ret_fd, int *ret_ifindex, uint8_t ret_mac[static ETH_ALEN]) {
        _cleanup_(freeifaddrsp) struct ifaddrs *list = NULL;
        const char *name = NULL;
        int fd;

        if (getifaddrs(&list) < 0)
                return -errno;
        for (struct ifaddrs *i = list; i; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                    ((struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr == address.s_addr) {
                        name = i->ifa_name;
                        break;
                }
        if (!name)
                return -ENOENT;
        /* The interface's link-layer entry has its index and MAC. */
        for (struct ifaddrs *i = list; i; i = i->ifa_next) {
                const struct sockaddr_ll *ll = (const struct sockaddr_ll *) i->ifa_addr;

                if (!ll || ll->sll_family != AF_PACKET || !streq(i->ifa_name, name))
                        continue;
                if (ll->sll_hatype != ARPHRD_ETHER || ll->sll_halen != ETH_ALEN)
                        return -ENOENT;
                /* Protocol 0: it sends, it receives nothing. */
                fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
                *ret_ifindex = ll->sll_ifindex;
                memcpy(ret_mac, ll->sll_addr, ETH_ALEN);
                return 0;
        }
        return -ENOENT;
}

int container_announce(pid_t pid, const char *address) {
        _cleanup_close_ int own = -EBADF, theirs = -EBADF, fd = -EBADF;
        struct ether_arp arp = {};
        struct sockaddr_ll to = {};
        struct in_addr ia;
        uint8_t mac[ETH_ALEN];
        char path[64];
        int ifindex = 0, r;

        assert(address);

        if (inet_pton(AF_INET, address, &ia) != 1)
                return -EINVAL;
        own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (own < 0)
                return -errno;
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        theirs = open(path, O_RDONLY | O_CLOEXEC);
        if (theirs < 0)
                return -errno;
        if (setns(theirs, CLONE_NEWNET) < 0)
                return -errno;
        r = announce_socket(ia, &fd, &ifindex, mac);
        if (setns(own, CLONE_NEWNET) < 0) {
                /* Cannot happen (we hold the namespace we came from); going on would run the whole
                 * daemon in a container's network. */
                log_error_errno(errno, "Cannot return to this machine's network namespace: %m");
                abort();
        }
        if (r < 0)
                return r;

        /* A request for its own address, sender = target: every host on the link that has an entry
         * for the address takes the new MAC (Linux's arp_is_garp), and nobody answers it. */
        arp.arp_hrd = htons(ARPHRD_ETHER);
        arp.arp_pro = htons(ETHERTYPE_IP);
        arp.arp_hln = ETH_ALEN;
        arp.arp_pln = sizeof ia;
        arp.arp_op = htons(ARPOP_REQUEST);
        memcpy(arp.arp_sha, mac, ETH_ALEN);
        memcpy(arp.arp_spa, &ia, sizeof ia);
        memcpy(arp.arp_tpa, &ia, sizeof ia);

        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_ARP);
        to.sll_ifindex = ifindex;
        to.sll_halen = ETH_ALEN;
        memset(to.sll_addr, 0xff, ETH_ALEN);
        if (sendto(fd, &arp, sizeof arp, 0, (struct sockaddr *) &to, sizeof to) < 0)
                return -errno;
        return 0;
}
