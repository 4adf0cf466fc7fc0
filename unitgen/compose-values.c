/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "compose-values.h"
#include "error-message.h"
#include "parse-util.h"
#include "strv.h"
#include "time-util.h"

int parse_unsigned(const char *s, unsigned *ret) {
        uint64_t v;

        if (parse_u64(s, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int parse_duration_usec(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1 }, { "ms", USEC_PER_MSEC }, { "s", USEC_PER_SEC }, { "m", USEC_PER_MINUTE }, { "h", USEC_PER_HOUR },
        };
        uint64_t total = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        if (parse_u64(s, &total) == 0) {
                if (total > UINT64_MAX / USEC_PER_SEC - 1)
                        return -EINVAL;
                *ret = total * USEC_PER_SEC;
                return 0;
        }

        while (*p) {
                size_t n = strspn(p, "0123456789.");
                const char *u = p + n;
                size_t ul = strspn(u, "abcdefghijklmnopqrstuvwxyz");
                uint64_t v;
                bool found = false;

                if (n == 0 || ul == 0)
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (strlen(units[i].suffix) == ul && strneq(u, units[i].suffix, ul)) {
                                if (parse_decimal_scaled(p, n, units[i].usec, &v) < 0 || v > UINT64_MAX - 2 - total)
                                        return -EINVAL;
                                total += v;
                                found = true;
                                break;
                        }
                if (!found)
                        return -EINVAL;
                p = u + ul;
        }
        *ret = total;
        return 0;
}

int parse_cpus_hundredths(const char *s, unsigned *ret) {
        uint64_t v;

        if (isempty(s) || parse_decimal_scaled(s, strlen(s), 100, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int parse_signal(const char *s, int *ret) {
        const char *name = s;
        unsigned n;

        if (isempty(s))
                return -EINVAL;
        if (parse_unsigned(s, &n) == 0) {
                if (n < 1 || n >= (unsigned) NSIG)
                        return -EINVAL;
                *ret = (int) n;
                return 0;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (int i = 1; i < SIGRTMIN; i++) {
                const char *abbrev = sigabbrev_np(i);

                if (abbrev && strcasecmp(abbrev, name) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        return -EINVAL;
}

int format_duration(uint64_t usec, char **ret) {
        int r;

        if (usec % USEC_PER_SEC == 0)
                r = asprintf(ret, "%" PRIu64 "s", usec / USEC_PER_SEC);
        else if (usec % USEC_PER_MSEC == 0)
                r = asprintf(ret, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else
                r = asprintf(ret, "%" PRIu64 "us", usec);
        return r < 0 ? -ENOMEM : 0;
}

static int parse_port_range(const char *s, size_t n, unsigned *first, unsigned *last) {
        _cleanup_free_ char *a = NULL;
        char *dash;
        unsigned x, y;

        a = strndup(s, n);
        if (!a)
                return -ENOMEM;
        dash = strchr(a, '-');
        if (dash)
                *dash++ = 0;
        if (parse_unsigned(a, &x) < 0 || x < 1 || x > 65535)
                return -EINVAL;
        y = x;
        if (dash && (parse_unsigned(dash, &y) < 0 || y < x || y > 65535))
                return -EINVAL;
        *first = x;
        *last = y;
        return 0;
}

int parse_port(const char *s, char **ret_flag, ComposePort *ret_port, char **ret_error) {
        _cleanup_free_ char *ip = NULL, *flag = NULL;
        const char *proto = "tcp", *slash, *rest = s, *parts[3];
        size_t lens[3], n_parts = 0, len;
        unsigned pf = 0, pl = 0, tf, tl;
        int r;

        assert(s);

        slash = strrchr(s, '/');
        len = slash ? (size_t) (slash - s) : strlen(s);
        if (slash) {
                proto = slash + 1;
                if (!STR_IN_SET(proto, "tcp", "udp", "sctp"))
                        return error_message_set(ret_error, EINVAL, "invalid protocol in port \"%s\": use tcp, udp or sctp", s);
        }

        if (rest[0] == '[') {
                const char *close = memchr(rest, ']', len);

                if (!close || (size_t) (close - rest) + 1 >= len || close[1] != ':')
                        return error_message_set(ret_error, EINVAL, "invalid IPv6 address in port \"%s\"", s);
                ip = strndup(rest, (size_t) (close - rest) + 1);
                if (!ip)
                        return -ENOMEM;
                len -= (size_t) (close - rest) + 2;
                rest = close + 2;
        }

        for (const char *p = rest, *end = rest + len;;) {
                const char *c = memchr(p, ':', (size_t) (end - p));

                if (n_parts == 3)
                        return error_message_set(ret_error, EINVAL, "invalid port \"%s\": too many \":\" (put IPv6 addresses in [])", s);
                parts[n_parts] = p;
                lens[n_parts++] = c ? (size_t) (c - p) : (size_t) (end - p);
                if (!c)
                        break;
                p = c + 1;
        }
        if (n_parts == 3) {
                if (ip)
                        return error_message_set(ret_error, EINVAL, "invalid port \"%s\"", s);
                if (lens[0] > 0) {
                        ip = strndup(parts[0], lens[0]);
                        if (!ip)
                                return -ENOMEM;
                }
        }

        r = parse_port_range(parts[n_parts - 1], lens[n_parts - 1], &tf, &tl);
        if (r == -EINVAL)
                return error_message_set(ret_error, EINVAL, "invalid container port in \"%s\": use a number or a range 1-65535", s);
        if (r < 0)
                return r;
        if (n_parts >= 2 && lens[n_parts - 2] > 0) {
                r = parse_port_range(parts[n_parts - 2], lens[n_parts - 2], &pf, &pl);
                if (r == -EINVAL)
                        return error_message_set(ret_error, EINVAL, "invalid host port in \"%s\": use a number or a range 1-65535", s);
                if (r < 0)
                        return r;
                /* Equal-length ranges map one to one; a host range for one container port picks one. */
                if (pl - pf != tl - tf && tl != tf)
                        return error_message_set(ret_error, EINVAL, "port ranges of different lengths in \"%s\"", s);
        }

        {
                _cleanup_free_ char *pub = NULL, *tgt = NULL;

                if (pf == 0)
                        pub = strdup("");
                else if (pf == pl)
                        r = asprintf(&pub, "%u", pf);
                else
                        r = asprintf(&pub, "%u-%u", pf, pl);
                if (tf == tl)
                        r = asprintf(&tgt, "%u", tf);
                else
                        r = asprintf(&tgt, "%u-%u", tf, tl);
                if (!pub || r < 0)
                        return -ENOMEM;
                /* No host port: the runtime picks one (on the given address, if any). */
                if (pf == 0)
                        r = asprintf(&flag, "%s%s%s%s%s", strempty(ip), ip ? "::" : "", tgt, streq(proto, "tcp") ? "" : "/",
                                     streq(proto, "tcp") ? "" : proto);
                else
                        r = asprintf(&flag, "%s%s%s:%s%s%s", strempty(ip), ip ? ":" : "", pub, tgt,
                                     streq(proto, "tcp") ? "" : "/", streq(proto, "tcp") ? "" : proto);
                if (r < 0)
                        return -ENOMEM;
        }

        if (ret_port) {
                char *pr = strdup(proto);

                if (!pr)
                        return -ENOMEM;
                *ret_port = (ComposePort) {
                        .host_ip = TAKE_PTR(ip),
                        .published_first = pf,
                        .published_last = pl,
                        .protocol = pr,
                };
        }
        *ret_flag = TAKE_PTR(flag);
        return 0;
}

int shell_split(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *word = NULL;
        size_t n = 0, allocated = 0;
        bool in_word = false;
        int r;

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;

        for (const char *p = s;; p++) {
                char c = *p;

                if (c == 0 || strchr(" \t\n\r", c)) {
                        if (in_word) {
                                r = strv_consume(&l, strndup(word ?: "", n));
                                if (r < 0)
                                        return r;
                                n = 0;
                                in_word = false;
                        }
                        if (c == 0)
                                break;
                        continue;
                }
                in_word = true;
                if (c == '\'') {
                        const char *e = strchr(p + 1, '\'');

                        if (!e)
                                return -EINVAL;
                        if (!GREEDY_REALLOC(word, allocated, n + (size_t) (e - p) + 1))
                                return -ENOMEM;
                        memcpy(word + n, p + 1, (size_t) (e - p - 1));
                        n += (size_t) (e - p - 1);
                        p = e;
                        continue;
                }
                if (c == '"') {
                        for (p++;; p++) {
                                if (*p == 0)
                                        return -EINVAL;
                                if (*p == '"')
                                        break;
                                if (*p == '\\' && p[1] && strchr("\\\"$`\n", p[1]))
                                        p++;
                                if (!GREEDY_REALLOC(word, allocated, n + 2))
                                        return -ENOMEM;
                                word[n++] = *p;
                        }
                        continue;
                }
                if (c == '\\') {
                        if (!p[1])
                                return -EINVAL;
                        c = *++p;
                }
                if (!GREEDY_REALLOC(word, allocated, n + 2))
                        return -ENOMEM;
                word[n++] = c;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

int shell_quote(const char *s, char **ret) {
        size_t n = 2;
        char *q, *e;

        if (!isempty(s) && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@+%") ==
                                   strlen(s)) {
                q = strdup(s);
                if (!q)
                        return -ENOMEM;
                *ret = q;
                return 0;
        }
        for (const char *c = s; *c; c++)
                n += *c == '\'' ? 4 : 1;
        q = new(char, n + 1);
        if (!q)
                return -ENOMEM;
        e = q;
        *e++ = '\'';
        for (const char *c = s; *c; c++)
                if (*c == '\'')
                        e = stpcpy(e, "'\\''");
                else
                        *e++ = *c;
        *e++ = '\'';
        *e = 0;
        *ret = q;
        return 0;
}
