/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The Network object's insides, shared by network.c (leasing) and network-device.c (the kernel:
 * device, remote machines, firewall). */

#include "network-docker.h"
#include "network-netlink.h"
#include "network.h"

typedef struct NetworkRemote {
        Subnet subnet;
        uint32_t public_ip;
        uint8_t mac[6];
} NetworkRemote;

struct Network {
        sd_event *event;
        EtcdClient *etcd;
        char *key_prefix;
        char *machine_id;
        uint32_t public_ip;
        char *public_ip_text;
        Subnet range;
        unsigned subnet_len;
        bool has_fixed;
        Subnet fixed;
        uint32_t vni;
        uint16_t port;
        char *device;
        char *cni_dir;
        char *state_file;
        char *subnets_prefix;
        int64_t ttl_sec;
        uint8_t mac[6];

        EtcdLease *lease;
        int64_t lease_id;
        EtcdCall *call;
        sd_event_source *retry;
        unsigned attempts;
        Subnet candidate;
        bool leased;

        Subnet subnet;                  /* the one the device is set up for */
        bool have_subnet;
        bool ready;
        char *status;
        network_status_handler_t on_status;
        void *on_status_userdata;

        NetlinkSocket *nl;
        int ifindex;                    /* the VXLAN device's */
        uint32_t mtu;
        NetworkRemote *remotes;
        size_t n_remotes, n_remotes_allocated;
        EtcdCall *list_call;
        EtcdWatch *watch;
        char *firewall;                 /* the ruleset last applied */
        NetworkDocker *docker;          /* docker's network "fleet", when a socket is configured */
};

void network_set_status(Network *n, bool ready, const char *fmt, ...) _printf_(3, 4);
/* Create or adopt the VXLAN device, its address, the CNI network and the firewall. On failure the
 * status says why and whatever this call created is removed again. Returns 0 or a negative errno. */
int network_device_setup(Network *n);
/* List the other machines' subnets, program them, and follow changes with a watch. */
void network_remotes_start(Network *n);
