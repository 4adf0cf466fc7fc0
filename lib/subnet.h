/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* IPv4 subnets of the cluster network: parsing and printing "a.b.c.d/len", the form used in etcd
 * key names ("a.b.c.d-len", as flannel writes them), and the choice of a free per-machine subnet
 * in the cluster range. Pure: no I/O. Addresses are kept in host byte order. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define SUBNET_DEFAULT_RANGE "10.42.0.0/16"
#define SUBNET_DEFAULT_LEN 24
/* "255.255.255.255/32" and a NUL. */
#define SUBNET_STRLEN 19

typedef struct Subnet {
        uint32_t addr;                  /* the network address: host bits are zero */
        unsigned len;                   /* prefix length 0..32 */
} Subnet;

/* Parse "a.b.c.d/len" (len 0..32, decimal, no leading '+' or spaces). The host bits must be zero:
 * "10.42.1.5/24" is -EINVAL rather than silently 10.42.1.0/24. Returns 0 or -EINVAL. */
int subnet_parse(const char *s, Subnet *ret);
/* Parse the key-name form "a.b.c.d-len". Same rules as subnet_parse(). */
int subnet_from_key_name(const char *s, Subnet *ret);
/* Print as "a.b.c.d/len" into buf, which is returned. */
char *subnet_format(Subnet s, char buf[static SUBNET_STRLEN]);
/* Print as "a.b.c.d-len" (safe in an etcd key) into buf, which is returned. */
char *subnet_to_key_name(Subnet s, char buf[static SUBNET_STRLEN]);
/* Print the address a as "a.b.c.d" into buf (at least 16 bytes), which is returned. */
char *subnet_addr_format(uint32_t a, char buf[static 16]);
/* Parse a dotted quad into host byte order. Returns 0 or -EINVAL. */
int subnet_addr_parse(const char *s, uint32_t *ret);

/* The netmask of a prefix length (len 0..32), host byte order. */
uint32_t subnet_mask(unsigned len) _const_;
bool subnet_contains(Subnet outer, Subnet inner) _const_;
bool subnet_contains_addr(Subnet s, uint32_t addr) _const_;
bool subnet_overlaps(Subnet a, Subnet b) _const_;
bool subnet_equal(Subnet a, Subnet b) _const_;

/* Choose a free /len subnet of range for one machine. The first subnet of the range (e.g.
 * 10.42.0.0/24) is never given out, as in flannel: an address ending in .0.0 looks like the
 * range itself in logs. The search starts at a subnet derived from seed (a hash of the machine
 * id), so machines that join at once rarely race for the same one, and walks the range in order
 * from there; a subnet overlapping any of taken[0..n_taken) is skipped. Returns 0, -EINVAL when
 * len does not fit in range (len < range.len, len > 30: a machine needs its .0 VTEP address, a
 * gateway and a container), -ENOSPC when every subnet is taken. */
int subnet_pick(Subnet range, unsigned len, const Subnet *taken, size_t n_taken, uint64_t seed, Subnet *ret);

/* A seed for subnet_pick() from a machine id (FNV-1a). */
uint64_t subnet_seed(const char *machine_id) _pure_;
