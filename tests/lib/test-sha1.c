/* SPDX-License-Identifier: Apache-2.0 */

#include "sha1.h"
#include "tap.h"

static void check(const char *input, size_t len, const char *expected, const char *name) {
        uint8_t d[SHA1_DIGEST_SIZE];
        char hex[SHA1_HEX_SIZE];

        sha1_buffer(input, len, d);
        is_str(sha1_to_hex(d, hex), expected, "%s", name);
}

static void test_vectors(void) {
        const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

        check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "empty input");
        check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d", "FIPS 180 'abc'");
        check(two_blocks, strlen(two_blocks), "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
              "FIPS 180 two-block message (padding spills into a second block)");
}

static void test_incremental(void) {
        static char million[1000000];
        uint8_t d1[SHA1_DIGEST_SIZE], d2[SHA1_DIGEST_SIZE];
        char hex[SHA1_HEX_SIZE];
        Sha1 ctx;

        memset(million, 'a', sizeof(million));
        sha1_init(&ctx);
        /* Odd chunk sizes cross block boundaries at every offset. */
        for (size_t off = 0, step = 1; off < sizeof(million); off += step, step = step % 127 + 1)
                sha1_update(&ctx, million + off, MIN(step, sizeof(million) - off));
        sha1_finish(&ctx, d1);
        is_str(sha1_to_hex(d1, hex), "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
               "one million 'a' fed in odd chunks");

        sha1_buffer(million, sizeof(million), d2);
        ok(memcmp(d1, d2, sizeof(d1)) == 0, "chunked and one-shot digests agree");

        for (size_t len = 55; len <= 65; len++) {
                uint8_t a[SHA1_DIGEST_SIZE], b[SHA1_DIGEST_SIZE];

                sha1_buffer(million, len, a);
                sha1_init(&ctx);
                sha1_update(&ctx, million, 1);
                sha1_update(&ctx, million + 1, len - 1);
                sha1_finish(&ctx, b);
                if (!ok(memcmp(a, b, sizeof(a)) == 0, "length %zu around the padding boundary", len))
                        break;
        }
}

static void test_hex(void) {
        uint8_t d[SHA1_DIGEST_SIZE], back[SHA1_DIGEST_SIZE];
        char hex[SHA1_HEX_SIZE];

        sha1_buffer("abc", 3, d);
        ok(sha1_from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D", back) == 0 &&
           memcmp(d, back, sizeof(d)) == 0, "hex parses back, any case");
        is_int(sha1_from_hex("a9993e", back), -EINVAL, "short hex is rejected");
        is_int(sha1_from_hex("g9993e364706816aba3e25717850c26c9cd0d89d", back), -EINVAL,
               "non-hex character is rejected");
        is_int(strlen(sha1_to_hex(d, hex)), 40, "hex is 40 characters");
}

int main(void) {
        test_vectors();
        test_incremental();
        test_hex();
        return done_testing();
}
