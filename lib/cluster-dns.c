/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "cluster-dns.h"
#include "strv.h"

bool cluster_dns_word_is_valid(const char *s) {
        return !isempty(s) && strlen(s) <= 253 &&
                s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == 0;
}

char *cluster_dns_scope(const char *network) {
        char *l = strdup(network);

        if (!l)
                return NULL;
        for (char *p = l; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
                else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        *p = '-';
        return l;
}

int cluster_dns_search_domains(char *const *networks, const char *domain, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        STRV_FOREACH(net, networks) {
                _cleanup_free_ char *scope = cluster_dns_scope(*net);

                if (!scope)
                        return -ENOMEM;
                r = strv_extendf(&l, "%s.%s", scope, domain);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = new0(char *, 1);
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
