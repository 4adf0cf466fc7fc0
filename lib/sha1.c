/* SPDX-License-Identifier: Apache-2.0 */

#include <stdint.h>

#include "sha1.h"

static inline uint32_t rol32(uint32_t x, unsigned n) {
        return (x << n) | (x >> (32 - n));
}

static void sha1_block(Sha1 *ctx, const uint8_t *p) {
        uint32_t w[80], a, b, c, d, e;

        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
                       (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
        for (unsigned i = 16; i < 80; i++)
                w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

        a = ctx->state[0];
        b = ctx->state[1];
        c = ctx->state[2];
        d = ctx->state[3];
        e = ctx->state[4];

        for (unsigned i = 0; i < 80; i++) {
                uint32_t f, k, t;

                if (i < 20) {
                        f = (b & c) | (~b & d);
                        k = 0x5a827999;
                } else if (i < 40) {
                        f = b ^ c ^ d;
                        k = 0x6ed9eba1;
                } else if (i < 60) {
                        f = (b & c) | (b & d) | (c & d);
                        k = 0x8f1bbcdc;
                } else {
                        f = b ^ c ^ d;
                        k = 0xca62c1d6;
                }
                t = rol32(a, 5) + f + e + k + w[i];
                e = d;
                d = c;
                c = rol32(b, 30);
                b = a;
                a = t;
        }

        ctx->state[0] += a;
        ctx->state[1] += b;
        ctx->state[2] += c;
        ctx->state[3] += d;
        ctx->state[4] += e;
}

void sha1_init(Sha1 *ctx) {
        assert(ctx);

        *ctx = (Sha1) {
                .state = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 },
        };
}

void sha1_update(Sha1 *ctx, const void *data, size_t size) {
        const uint8_t *p = data;

        assert(ctx);
        assert(data || size == 0);

        ctx->length += size;

        if (ctx->buffer_used > 0) {
                size_t n = MIN(size, sizeof(ctx->buffer) - ctx->buffer_used);

                memcpy(ctx->buffer + ctx->buffer_used, p, n);
                ctx->buffer_used += n;
                p += n;
                size -= n;
                if (ctx->buffer_used < sizeof(ctx->buffer))
                        return;
                sha1_block(ctx, ctx->buffer);
                ctx->buffer_used = 0;
        }

        for (; size >= 64; p += 64, size -= 64)
                sha1_block(ctx, p);

        if (size > 0) {
                memcpy(ctx->buffer, p, size);
                ctx->buffer_used = size;
        }
}

void sha1_finish(Sha1 *ctx, uint8_t ret_digest[static SHA1_DIGEST_SIZE]) {
        uint64_t bits;
        uint8_t pad[72] = { 0x80 };
        size_t padlen;

        assert(ctx);

        bits = ctx->length * 8;
        /* Pad to 56 mod 64, then the 64-bit big-endian bit length. */
        padlen = ctx->buffer_used < 56 ? 56 - ctx->buffer_used : 120 - ctx->buffer_used;
        for (unsigned i = 0; i < 8; i++)
                pad[padlen + i] = (uint8_t) (bits >> (56 - 8 * i));
        sha1_update(ctx, pad, padlen + 8);
        assert(ctx->buffer_used == 0);

        for (unsigned i = 0; i < 5; i++) {
                ret_digest[4 * i] = (uint8_t) (ctx->state[i] >> 24);
                ret_digest[4 * i + 1] = (uint8_t) (ctx->state[i] >> 16);
                ret_digest[4 * i + 2] = (uint8_t) (ctx->state[i] >> 8);
                ret_digest[4 * i + 3] = (uint8_t) ctx->state[i];
        }
}

void sha1_buffer(const void *data, size_t size, uint8_t ret_digest[static SHA1_DIGEST_SIZE]) {
        Sha1 ctx;

        sha1_init(&ctx);
        sha1_update(&ctx, data, size);
        sha1_finish(&ctx, ret_digest);
}

char *sha1_to_hex(const uint8_t digest[static SHA1_DIGEST_SIZE], char ret[static SHA1_HEX_SIZE]) {
        static const char hex[] = "0123456789abcdef";

        for (unsigned i = 0; i < SHA1_DIGEST_SIZE; i++) {
                ret[2 * i] = hex[digest[i] >> 4];
                ret[2 * i + 1] = hex[digest[i] & 15];
        }
        ret[SHA1_HEX_SIZE - 1] = 0;
        return ret;
}

static int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int sha1_from_hex(const char *s, uint8_t ret_digest[static SHA1_DIGEST_SIZE]) {
        uint8_t d[SHA1_DIGEST_SIZE];

        assert(s);

        if (strlen(s) != SHA1_HEX_SIZE - 1)
                return -EINVAL;
        for (unsigned i = 0; i < SHA1_DIGEST_SIZE; i++) {
                int hi = unhexchar(s[2 * i]), lo = unhexchar(s[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -EINVAL;
                d[i] = (uint8_t) (hi << 4 | lo);
        }
        memcpy(ret_digest, d, sizeof(d));
        return 0;
}
