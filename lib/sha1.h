/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "macro.h"

/* SHA-1 (FIPS 180-4), only for content addressing of unit files, as fleet does (unit hash =
 * SHA1 of the canonical unit text). Not for anything that needs collision resistance. */

#define SHA1_DIGEST_SIZE 20
#define SHA1_HEX_SIZE (SHA1_DIGEST_SIZE * 2 + 1)

typedef struct Sha1 {
        uint32_t state[5];
        uint64_t length;        /* bytes hashed so far */
        uint8_t buffer[64];
        size_t buffer_used;
} Sha1;

/* Start a new digest. */
void sha1_init(Sha1 *ctx);
/* Feed size bytes of data. */
void sha1_update(Sha1 *ctx, const void *data, size_t size);
/* Finish and write the 20-byte digest. ctx must be re-initialized before reuse. */
void sha1_finish(Sha1 *ctx, uint8_t ret_digest[static SHA1_DIGEST_SIZE]);

/* One-shot digest of a buffer. */
void sha1_buffer(const void *data, size_t size, uint8_t ret_digest[static SHA1_DIGEST_SIZE]);
/* Write the digest as 40 lowercase hex characters plus a NUL. Returns ret. */
char *sha1_to_hex(const uint8_t digest[static SHA1_DIGEST_SIZE], char ret[static SHA1_HEX_SIZE]);
/* Parse 40 hex characters (either case). Returns 0 or -EINVAL. */
int sha1_from_hex(const char *s, uint8_t ret_digest[static SHA1_DIGEST_SIZE]);
