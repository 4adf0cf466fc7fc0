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
