/* SPDX-License-Identifier: Apache-2.0 */

/* What a configuration risks before any byte goes out: TLS files that would be silently unused, or
 * a cluster state anyone on the path can read and write. */

#include <arpa/inet.h>
#include <stdio.h>

#include "etcd-client.h"
#include "strv.h"

/* The host of an http(s):// endpoint, without port or brackets, malloc'd; NULL on OOM or junk. */
static char *endpoint_host(const char *e) {
        const char *rest = startswith(e, "http://") ?: startswith(e, "https://"), *end;

        if (!rest)
                return NULL;
        if (rest[0] == '[') {
                end = strchr(rest, ']');
                return end ? strndup(rest + 1, end - rest - 1) : NULL;
        }
        end = strchrnul(rest, ':');
        return strndup(rest, end - rest);
}

bool etcd_endpoint_is_loopback(const char *endpoint) {
        _cleanup_free_ char *host = endpoint_host(endpoint);
        struct in_addr a;

        if (!host)
                return false;
        if (inet_pton(AF_INET, host, &a) == 1)
                return ntohl(a.s_addr) >> 24 == 127;
        return streq(host, "localhost") || streq(host, "::1");
}

bool etcd_endpoint_is_valid(const char *e) {
        const char *rest;

        rest = startswith(e, "http://") ?: startswith(e, "https://");
        return rest && !isempty(rest) && !strpbrk(rest, " \t\r\n/?#") && !endswith(e, ":");
}

int etcd_endpoints_parse(const char *s, char ***ret, char **ret_bad) {
        _cleanup_strv_free_ char **words = NULL, **l = NULL;
        _cleanup_free_ char *inner = NULL;
        size_t n;

        assert(s);
        assert(ret);

        n = strlen(s);
        if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
                inner = strndup(s + 1, n - 2);
        else
                inner = strdup(s);
        if (!inner)
                return -ENOMEM;

        words = strv_split(inner, ", \t\n");
        if (!words)
                return -ENOMEM;

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(w, words) {
                size_t wl = strlen(*w);
                char *v;
                int r;

                if (wl >= 2 && (*w)[0] == '"' && (*w)[wl - 1] == '"')
                        v = strndup(*w + 1, wl - 2);
                else
                        v = strdup(*w);
                if (!v)
                        return -ENOMEM;
                if (!etcd_endpoint_is_valid(v)) {
                        if (ret_bad)
                                *ret_bad = v;
                        else
                                free(v);
                        return -EINVAL;
                }
                r = strv_consume(&l, v);
                if (r < 0)
                        return r;
        }
        if (strv_length(l) == 0) {
                if (ret_bad) {
                        *ret_bad = strdup("");
                        if (!*ret_bad)
                                return -ENOMEM;
                }
                return -EINVAL;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

int etcd_config_check(const EtcdConfig *config, char **ret_message) {
        const char *files[] = { config->ca_file, config->cert_file, config->key_file };
        const char *names[] = { "CA file", "certificate file", "key file" };
        char *msg = NULL;

        assert(config);
        assert(ret_message);

        *ret_message = NULL;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (isempty(files[i]))
                        continue;
                if (access(files[i], R_OK) < 0) {
                        int e = errno;

                        if (asprintf(&msg, "cannot read the etcd TLS %s %s: %s", names[i], files[i], strerror(e)) < 0)
                                return -ENOMEM;
                        *ret_message = msg;
                        return -e;
                }
                STRV_FOREACH(ep, config->endpoints)
                        if (startswith(*ep, "http://")) {
                                if (asprintf(&msg,
                                             "an etcd TLS %s is set, but endpoint %s is plain http: "
                                             "nothing would be encrypted or authenticated; use https://",
                                             names[i], *ep) < 0)
                                        return -ENOMEM;
                                *ret_message = msg;
                                return -EINVAL;
                        }
        }

        STRV_FOREACH(ep, config->endpoints)
                if (startswith(*ep, "http://") && !etcd_endpoint_is_loopback(*ep)) {
                        if (asprintf(&msg,
                                     "etcd endpoint %s is plain http: anyone who can reach it or the network "
                                     "between can read the cluster state%s and write units, that is run any "
                                     "command as root on every machine; use https:// with client certificates",
                                     *ep, config->password ? ", the etcd password" : "") < 0)
                                return -ENOMEM;
                        *ret_message = msg;
                        return 1;
                }
        return 0;
}
