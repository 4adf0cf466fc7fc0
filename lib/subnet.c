/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "subnet.h"

int subnet_addr_parse(const char *s, uint32_t *ret) {
        uint32_t a = 0;
        const char *p = s;

        assert(ret);

        if (!s)
                return -EINVAL;
        for (int i = 0; i < 4; i++) {
                unsigned v = 0, digits = 0;

                for (; *p >= '0' && *p <= '9'; p++, digits++) {
                        v = v * 10 + (unsigned) (*p - '0');
                        if (digits >= 3 || v > 255)
                                return -EINVAL;
                }
                /* No empty parts, no leading zeros ("010" would be octal to inet_aton). */
                if (digits == 0 || (digits > 1 && p[-(int) digits] == '0'))
                        return -EINVAL;
                a = (a << 8) | v;
                if (i < 3 && *p++ != '.')
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        *ret = a;
        return 0;
}

static int parse_with(const char *s, char sep, Subnet *ret) {
        _cleanup_free_ char *addr = NULL;
        const char *slash, *p;
        unsigned len = 0;
        uint32_t a;

        assert(ret);

        if (!s)
                return -EINVAL;
        slash = strrchr(s, sep);
        if (!slash || slash == s || !slash[1] || strlen(slash + 1) > 2)
                return -EINVAL;
        for (p = slash + 1; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                len = len * 10 + (unsigned) (*p - '0');
        }
        if (len > 32 || (slash[1] == '0' && slash[2]))
                return -EINVAL;
        addr = strndup(s, (size_t) (slash - s));
        if (!addr)
                return -ENOMEM;
        if (subnet_addr_parse(addr, &a) < 0 || (a & ~subnet_mask(len)) != 0)
                return -EINVAL;
        *ret = (Subnet) { .addr = a, .len = len };
        return 0;
}

int subnet_parse(const char *s, Subnet *ret) {
        return parse_with(s, '/', ret);
}

int subnet_from_key_name(const char *s, Subnet *ret) {
        return parse_with(s, '-', ret);
}

char *subnet_addr_format(uint32_t a, char buf[static 16]) {
        snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        return buf;
}

static char *format_with(Subnet s, char sep, char buf[static SUBNET_STRLEN]) {
        char a[16];

        snprintf(buf, SUBNET_STRLEN, "%s%c%u", subnet_addr_format(s.addr, a), sep, s.len);
        return buf;
}

char *subnet_format(Subnet s, char buf[static SUBNET_STRLEN]) {
        return format_with(s, '/', buf);
}

char *subnet_to_key_name(Subnet s, char buf[static SUBNET_STRLEN]) {
        return format_with(s, '-', buf);
}

uint32_t subnet_mask(unsigned len) {
        assert(len <= 32);
        return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

bool subnet_contains_addr(Subnet s, uint32_t addr) {
        return (addr & subnet_mask(s.len)) == s.addr;
}

bool subnet_contains(Subnet outer, Subnet inner) {
        return inner.len >= outer.len && subnet_contains_addr(outer, inner.addr);
}

bool subnet_overlaps(Subnet a, Subnet b) {
        return subnet_contains(a, b) || subnet_contains(b, a);
}

bool subnet_equal(Subnet a, Subnet b) {
        return a.addr == b.addr && a.len == b.len;
}

int subnet_pick(Subnet range, unsigned len, const Subnet *taken, size_t n_taken, uint64_t seed, Subnet *ret) {
        uint64_t count, start;

        assert(taken || n_taken == 0);
        assert(ret);

        if (range.len > 32 || (range.addr & ~subnet_mask(range.len)) || len < range.len || len > 30)
                return -EINVAL;
        count = UINT64_C(1) << (len - range.len);
        if (count < 2)
                return -ENOSPC;         /* only the first one, which is never given out */

        /* Index 0 is skipped: candidates are 1..count-1. */
        start = seed % (count - 1);
        for (uint64_t i = 0; i < count - 1; i++) {
                uint64_t idx = 1 + (start + i) % (count - 1);
                Subnet c = { .addr = range.addr + (uint32_t) (idx << (32 - len)), .len = len };
                bool free_ = true;

                for (size_t j = 0; j < n_taken && free_; j++)
                        if (subnet_overlaps(c, taken[j]))
                                free_ = false;
                if (free_) {
                        *ret = c;
                        return 0;
                }
        }
        return -ENOSPC;
}

uint64_t subnet_seed(const char *machine_id) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (const char *p = strempty(machine_id); *p; p++) {
                h ^= (uint8_t) *p;
                h *= UINT64_C(1099511628211);
        }
        return h;
}
