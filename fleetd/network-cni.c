/* SPDX-License-Identifier: Apache-2.0 */

#include <jansson.h>
#include <sys/stat.h>

#include "fileio.h"
#include "network-docker.h"
#include "network.h"

char *network_cni_conflist(Subnet subnet, uint32_t mtu) {
        json_auto_t *o = NULL;
        char sn[SUBNET_STRLEN], gw[16], start[16], end[16];
        uint32_t last = subnet.addr | ~subnet_mask(subnet.len);
        Subnet docker;

        subnet_format(subnet, sn);
        subnet_addr_format(subnet.addr + 1, gw);
        subnet_addr_format(subnet.addr + 2, start);
        /* docker's network shares the bridge and the subnet: it takes the upper half. */
        subnet_addr_format(network_docker_range(subnet, &docker) ? docker.addr - 1 : last - 1, end);

        /* podman 4 (CNI backend) reads cniVersion 0.4.0 conflists; its "podman network ls" shows
         * this one as NETWORK_CNI_NAME. .0 is the VTEP, .1 the bridge: containers start at .2. */
        o = json_pack("{s:s, s:s, s:[{s:s, s:s, s:b, s:b, s:b, s:b, s:i, s:{s:s, s:[[{s:s, s:s, s:s, s:s}]], "
                      "s:[{s:s}]}}, {s:s, s:{s:b}}]}",
                      "cniVersion", "0.4.0",
                      "name", NETWORK_CNI_NAME,
                      "plugins",
                        "type", "bridge",
                        "bridge", NETWORK_BRIDGE_NAME,
                        "isGateway", 1,
                        "ipMasq", 0,
                        "hairpinMode", 1,
                        "promiscMode", 0,
                        "mtu", (int) mtu,
                        "ipam",
                          "type", "host-local",
                          "ranges", "subnet", sn, "gateway", gw, "rangeStart", start, "rangeEnd", end,
                          "routes", "dst", "0.0.0.0/0",
                        "type", "portmap",
                        "capabilities", "portMappings", 1);
        if (!o)
                return NULL;
        return json_dumps(o, JSON_INDENT(2));
}

int network_cni_write(const char *dir, Subnet subnet, uint32_t mtu) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        int r;

        text = network_cni_conflist(subnet, mtu);
        if (!text)
                return -ENOMEM;
        if (asprintf(&path, "%s%s.conflist", dir, NETWORK_CNI_NAME) < 0)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, strlen(text), 0644, false);
}
