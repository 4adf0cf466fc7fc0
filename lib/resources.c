/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <stdio.h>

#include "parse-util.h"
#include "resources.h"

void resources_done(Resources *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_extra; i++)
                free(r->extra[i].name);
        free(r->extra);
        *r = (Resources) {};
}

int resources_copy(const Resources *from, Resources *to) {
        Resources c = {
                .cpu_milli = from->cpu_milli,
                .memory = from->memory,
        };

        if (from->n_extra > 0) {
                c.extra = new0(ResourceAmount, from->n_extra);
                if (!c.extra)
                        return -ENOMEM;
                for (size_t i = 0; i < from->n_extra; i++) {
                        c.extra[i].name = strdup(from->extra[i].name);
                        c.extra[i].amount = from->extra[i].amount;
                        c.n_extra++;
                        if (!c.extra[i].name) {
                                resources_done(&c);
                                return -ENOMEM;
                        }
                }
        }
        *to = c;
        return 0;
}

bool resources_equal(const Resources *a, const Resources *b) {
        if (a->cpu_milli != b->cpu_milli || a->memory != b->memory || a->n_extra != b->n_extra)
                return false;
        for (size_t i = 0; i < a->n_extra; i++)
                if (!streq(a->extra[i].name, b->extra[i].name) || a->extra[i].amount != b->extra[i].amount)
                        return false;
        return true;
}

bool resources_is_empty(const Resources *r) {
        return !r || (r->cpu_milli == 0 && r->memory == 0 && r->n_extra == 0);
}

bool resource_name_is_valid(const char *name) {
        size_t n;

        if (!name || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')))
                return false;
        n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
        return n == strlen(name) && n <= 32;
}

uint64_t resources_get_extra(const Resources *r, const char *name) {
        for (size_t i = 0; i < r->n_extra; i++)
                if (streq(r->extra[i].name, name))
                        return r->extra[i].amount;
        return 0;
}

int resources_add_extra(Resources *r, const char *name, uint64_t amount) {
        ResourceAmount *e;
        size_t i;

        if (!resource_name_is_valid(name))
                return -EINVAL;
        if (amount == 0)
                return 0;
        for (i = 0; i < r->n_extra; i++) {
                int c = strcmp(r->extra[i].name, name);

                if (c == 0) {
                        if (r->extra[i].amount > UINT64_MAX - amount)
                                return -EINVAL;
                        r->extra[i].amount += amount;
                        return 0;
                }
                if (c > 0)
                        break;
        }

        e = reallocarray(r->extra, r->n_extra + 1, sizeof(ResourceAmount));
        if (!e)
                return -ENOMEM;
        r->extra = e;
        memmove(e + i + 1, e + i, (r->n_extra - i) * sizeof(ResourceAmount));
        e[i] = (ResourceAmount) { .name = strdup(name), .amount = amount };
        if (!e[i].name) {
                memmove(e + i, e + i + 1, (r->n_extra - i) * sizeof(ResourceAmount));
                return -ENOMEM;
        }
        r->n_extra++;
        return 0;
}

int resources_parse_cpu(const char *s, uint64_t *ret_milli) {
        const char *dot;

        if (isempty(s))
                return -EINVAL;
        /* More precision than a thousandth would be silently dropped: refuse it instead. */
        dot = strchr(s, '.');
        if (dot && strlen(dot + 1) > 3)
                return -EINVAL;
        return parse_decimal_scaled(s, strlen(s), 1000, ret_milli);
}

int resources_parse_memory(const char *s, uint64_t *ret) {
        return parse_bytes(s, ret);
}

int resources_parse_extra(const char *s, char **ret_name, uint64_t *ret_amount) {
        const char *eq = s ? strchr(s, '=') : NULL;
        _cleanup_free_ char *name = NULL;
        uint64_t amount;

        if (!eq)
                return -EINVAL;
        name = strndup(s, eq - s);
        if (!name)
                return -ENOMEM;
        if (!resource_name_is_valid(name) || parse_u64(eq + 1, &amount) < 0)
                return -EINVAL;
        *ret_name = TAKE_PTR(name);
        *ret_amount = amount;
        return 0;
}

char *resources_format_cpu(char *buf, size_t size, uint64_t milli) {
        uint64_t frac = milli % 1000;

        if (frac == 0)
                snprintf(buf, size, "%" PRIu64, milli / 1000);
        else if (frac % 100 == 0)
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64, milli / 1000, frac / 100);
        else if (frac % 10 == 0)
                snprintf(buf, size, "%" PRIu64 ".%02" PRIu64, milli / 1000, frac / 10);
        else
                snprintf(buf, size, "%" PRIu64 ".%03" PRIu64, milli / 1000, frac);
        return buf;
}

char *resources_format_memory(char *buf, size_t size, uint64_t bytes) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        unsigned u = 0;
        uint64_t whole = bytes, tenths;

        while (whole >= 1024 && u + 1 < ELEMENTSOF(units)) {
                whole /= 1024;
                u++;
        }
        if (u == 0) {
                snprintf(buf, size, "%" PRIu64 " B", bytes);
                return buf;
        }
        /* Tenths of the unit, rounded down (128 bits: the product overflows 64 for EiB). */
        tenths = (uint64_t) ((unsigned __int128) (bytes - (whole << (10 * u))) * 10 >> (10 * u));
        if (tenths == 0)
                snprintf(buf, size, "%" PRIu64 " %s", whole, units[u]);
        else
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", whole, tenths, units[u]);
        return buf;
}

char *resources_format(const Resources *r) {
        char cpu[RESOURCES_FORMAT_MAX], mem[RESOURCES_FORMAT_MAX];
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        fprintf(f, "%s CPU / %s", resources_format_cpu(cpu, sizeof(cpu), r->cpu_milli),
                resources_format_memory(mem, sizeof(mem), r->memory));
        for (size_t i = 0; i < r->n_extra; i++)
                fprintf(f, " / %s %" PRIu64, r->extra[i].name, r->extra[i].amount);
        if (fflush(f) != 0 || ferror(f))
                return NULL;
        f = (fclose(f), NULL);
        return TAKE_PTR(buf);
}
