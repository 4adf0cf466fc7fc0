/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <netinet/in.h>

#include "agent-machine.h"
#include "fileio.h"
#include "ifaddrs-util.h"

int machine_id_read(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t n;
        int r;

        assert(path);
        assert(ret);

        r = read_full_file(path, &s, &n, 4096);
        if (r < 0)
                return r;
        while (n > 0 && strchr(WHITESPACE, s[n - 1]))
                s[--n] = 0;
        if (n != 32)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return -EBADMSG;
                s[i] = (char) tolower((unsigned char) s[i]);
        }

        *ret = TAKE_PTR(s);
        return 0;
}

/* The interface of the IPv4 default route, from the kernel's routing table. */
static int default_route_interface(char ret[static IF_NAMESIZE]) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[512];

        f = fopen("/proc/net/route", "re");
        if (!f)
                return -errno;

        /* The first line is the header. */
        if (!fgets(line, sizeof(line), f))
                return -ENXIO;
        while (fgets(line, sizeof(line), f)) {
                char iface[IF_NAMESIZE + 1] = "";
                unsigned long destination, mask;
                unsigned flags;

                if (sscanf(line, "%15s %lx %*x %x %*d %*d %*d %lx", iface, &destination, &flags, &mask) != 4)
                        continue;
                if (destination == 0 && mask == 0 && (flags & 0x1 /* RTF_UP */)) {
                        iface[IF_NAMESIZE - 1] = 0;
                        memcpy(ret, iface, IF_NAMESIZE);
                        return 0;
                }
        }
        return -ENXIO;
}

int machine_public_ip_detect(char **ret) {
        _cleanup_(freeifaddrsp) struct ifaddrs *addrs = NULL;
        char iface[IF_NAMESIZE] = "", buf[INET_ADDRSTRLEN];
        const struct sockaddr_in *found = NULL;
        char *s;

        assert(ret);

        (void) default_route_interface(iface);

        if (getifaddrs(&addrs) < 0)
                return -errno;
        for (struct ifaddrs *i = addrs; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                if ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
                        continue;
                if (!isempty(iface) && streq(i->ifa_name, iface)) {
                        found = (const struct sockaddr_in *) i->ifa_addr;
                        break;
                }
                if (!found)
                        found = (const struct sockaddr_in *) i->ifa_addr;
        }
        if (!found)
                return -ENXIO;
        s = strdup(inet_ntop(AF_INET, &found->sin_addr, buf, sizeof(buf)) ?: "");
        if (!s)
                return -ENOMEM;

        *ret = s;
        return 0;
}
