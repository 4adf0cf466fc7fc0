/* SPDX-License-Identifier: Apache-2.0 */

#include <nftables/libnftables.h>
#include <stdio.h>

#include "network.h"

void network_nft_set_print(FILE *f, const char *name, const char *comment, const uint32_t *addrs, size_t n) {
        char a[16];

        fprintf(f, "\tset %s {\n\t\ttype ipv4_addr\n", name);
        if (comment)
                fprintf(f, "\t\tcomment \"%s\"\n", comment);
        if (n > 0) {
                fputs("\t\telements = { ", f);
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "%s%s", i > 0 ? ", " : "", subnet_addr_format(addrs[i], a));
                fputs(" }\n", f);
        }
        fputs("\t}\n", f);
}

char *network_nft_ruleset(Subnet range, uint16_t port, const uint32_t *peers, size_t n_peers) {
        _cleanup_free_ char *buf = NULL;
        char rs[SUBNET_STRLEN];
        size_t size = 0;
        FILE *f;

        assert(peers || n_peers == 0);

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        subnet_format(range, rs);
        /* "table; delete table; table {...}" replaces the table in one transaction, whether or not
         * it existed: never a moment without the rules, never two copies. */
        fprintf(f, "table ip %s\ndelete table ip %s\n", NETWORK_NFT_TABLE, NETWORK_NFT_TABLE);
        fprintf(f, "table ip %s {\n", NETWORK_NFT_TABLE);
        network_nft_set_print(f, "machines", NULL, peers, n_peers);
        /* The overlay is plain text: only the cluster's machines may inject into it. */
        fprintf(f, "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
                   "\t\tudp dport %u ip saddr != @machines counter drop\n\t}\n", (unsigned) port);
        /* Containers reach the world through the machine's address; inside the range (another
         * machine's containers) they keep their own. */
        fprintf(f, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                   "\t\tip saddr %s ip daddr != %s masquerade\n\t}\n", rs, rs);
        fputs("}\n", f);
        if (fflush(f) != 0 || ferror(f)) {
                fclose(f);
                return NULL;
        }
        fclose(f);
        return TAKE_PTR(buf);
}

/* Run cmd with libnftables; with ret_output, in JSON, its output in *ret_output. */
static int nft_run(const char *cmd, char **ret_output, char **ret_error) {
        struct nft_ctx *ctx;
        int r = 0;

        assert(cmd);

        ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        if (ret_output)
                nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
        if ((ret_output && nft_ctx_buffer_output(ctx) < 0) || nft_ctx_buffer_error(ctx) < 0)
                r = -ENOMEM;
        else if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
                const char *e = nft_ctx_get_error_buffer(ctx);

                if (ret_error)
                        *ret_error = strdup(isempty(e) ? "nft failed" : e);
                r = -EIO;
        } else if (ret_output) {
                *ret_output = strdup(strempty(nft_ctx_get_output_buffer(ctx)));
                r = *ret_output ? 0 : -ENOMEM;
        }
        nft_ctx_free(ctx);
        return r;
}

int network_nft_apply(const char *ruleset, char **ret_error) {
        return nft_run(ruleset, NULL, ret_error);
}

int network_nft_list(const char *cmd, char **ret_json, char **ret_error) {
        assert(ret_json);

        return nft_run(cmd, ret_json, ret_error);
}
