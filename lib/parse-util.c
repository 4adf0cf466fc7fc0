/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <strings.h>

#include "parse-util.h"

int parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "true", "yes", "on", "t", "y" };
        static const char *const no[] = { "0", "false", "no", "off", "f", "n" };

        assert(v);

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (isempty(s))
                return -EINVAL;
        for (const char *c = s; *c; c++) {
                if (!isdigit((unsigned char) *c))
                        return -EINVAL;
                if (v > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*c - '0');
        }
        *ret = v;
        return 0;
}

int parse_decimal_scaled(const char *s, size_t n, uint64_t scale, uint64_t *ret) {
        uint64_t whole = 0, frac = 0, div = 1, part;
        size_t i = 0;
        bool digits = false;

        for (; i < n && isdigit((unsigned char) s[i]); i++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                whole = whole * 10 + (uint64_t) (s[i] - '0');
                digits = true;
        }
        if (i < n && s[i] == '.') {
                for (i++; i < n && isdigit((unsigned char) s[i]); i++) {
                        digits = true;
                        if (div < 1000000000ULL) {
                                frac = frac * 10 + (uint64_t) (s[i] - '0');
                                div *= 10;
                        }
                }
        }
        if (!digits || i != n)
                return -EINVAL;
        if (scale > 0 && whole > UINT64_MAX / scale)
                return -EINVAL;
        part = (scale / div) * frac + (scale % div) * frac / div;
        if (whole * scale > UINT64_MAX - part)
                return -EINVAL;
        *ret = whole * scale + part;
        return 0;
}

int parse_bytes(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
                { "", 1ULL },         { "b", 1ULL },
                { "k", 1ULL << 10 },  { "kb", 1ULL << 10 },
                { "m", 1ULL << 20 },  { "mb", 1ULL << 20 },
                { "g", 1ULL << 30 },  { "gb", 1ULL << 30 },
                { "t", 1ULL << 40 },  { "tb", 1ULL << 40 },
                /* go-units (compose) and systemd also read these */
                { "kib", 1ULL << 10 }, { "mib", 1ULL << 20 }, { "gib", 1ULL << 30 }, { "tib", 1ULL << 40 },
        };
        size_t n;

        if (isempty(s))
                return -EINVAL;
        n = strspn(s, "0123456789.");
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcasecmp(s + n, units[i].suffix) == 0)
                        return parse_decimal_scaled(s, n, units[i].factor, ret);
        return -EINVAL;
}

int parse_time_span(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1ULL }, { "usec", 1ULL },
                { "ms", 1000ULL }, { "msec", 1000ULL },
                { "s", 1000000ULL }, { "sec", 1000000ULL }, { "second", 1000000ULL }, { "seconds", 1000000ULL },
                { "m", 60000000ULL }, { "min", 60000000ULL }, { "minute", 60000000ULL }, { "minutes", 60000000ULL },
                { "h", 3600000000ULL }, { "hr", 3600000000ULL }, { "hour", 3600000000ULL }, { "hours", 3600000000ULL },
                { "d", 86400000000ULL }, { "day", 86400000000ULL }, { "days", 86400000000ULL },
        };
        uint64_t total = 0;
        const char *p = s;
        bool any = false;

        if (isempty(s))
                return -EINVAL;
        for (;;) {
                size_t n, sp, ul;
                uint64_t factor = 0, v;

                p += strspn(p, WHITESPACE);
                if (!*p)
                        break;
                n = strspn(p, "0123456789.");
                sp = strspn(p + n, WHITESPACE);         /* "90 sec" */
                ul = strspn(p + n + sp, "abcdefghijklmnopqrstuvwxyz");
                if (n == 0)
                        return -EINVAL;
                if (ul == 0)
                        factor = 1000000ULL;    /* a bare number is seconds, as in systemd */
                for (size_t i = 0; i < ELEMENTSOF(units) && factor == 0; i++)
                        if (strlen(units[i].suffix) == ul && strneq(p + n + sp, units[i].suffix, ul))
                                factor = units[i].usec;
                if (factor == 0 || parse_decimal_scaled(p, n, factor, &v) < 0 || v > UINT64_MAX - total)
                        return -EINVAL;
                total += v;
                any = true;
                p += n + sp + ul;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}
