/* SPDX-License-Identifier: Apache-2.0 */

#include "unit-network.h"

static bool is_cluster_network(const char *v, size_t n) {
        size_t l = strlen(CLUSTER_NETWORK_NAME);

        return n >= l && strneq(v, CLUSTER_NETWORK_NAME, l) && (n == l || v[l] == ':' || v[l] == ',');
}

/* The next whitespace-separated word of *p (quotes are kept: "--network=fleet" in quotes is
 * not an option podman sees unquoted either way). */
static const char *next_word(const char **p, size_t *ret_len) {
        const char *s = *p + strspn(*p, WHITESPACE);
        size_t n = strcspn(s, WHITESPACE);

        *p = s + n;
        *ret_len = n;
        return n > 0 ? s : NULL;
}

static const char *option_value(const char *w, size_t n, bool *ret_separate) {
        static const char *const opts[] = { "--network", "--net" };

        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                size_t l = strlen(opts[i]);

                if (n == l && strneq(w, opts[i], l)) {
                        *ret_separate = true;
                        return w + l;
                }
                if (n > l && strneq(w, opts[i], l) && w[l] == '=') {
                        *ret_separate = false;
                        return w + l + 1;
                }
        }
        return NULL;
}

bool unit_command_uses_cluster_network(const char *cmd) {
        const char *p = strempty(cmd), *w;
        size_t n;

        while ((w = next_word(&p, &n))) {
                bool separate;
                const char *v = option_value(w, n, &separate);

                if (!v)
                        continue;
                if (separate) {
                        v = next_word(&p, &n);
                        if (!v)
                                return false;
                } else
                        n -= (size_t) (v - w);
                if (is_cluster_network(v, n))
                        return true;
        }
        return false;
}

bool unit_file_needs_cluster_network(const UnitFile *u) {
        assert(u);

        for (size_t i = 0; i < u->n_options; i++) {
                const UnitOption *o = &u->options[i];

                if (streq(o->section, "Service") &&
                    (streq(o->name, "ExecStart") || streq(o->name, "ExecStartPre") || streq(o->name, "ExecStartPost")) &&
                    unit_command_uses_cluster_network(o->value))
                        return true;
        }
        return false;
}
