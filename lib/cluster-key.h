/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cluster key: what secret values are encrypted with before they go into etcd (issue 15).
 *
 * Encryption is libsodium's crypto_secretbox (XSalsa20-Poly1305, a random 24-byte nonce per
 * record): no crypto of our own. What is sealed is "<kind>/<name>\0<value>", so a record copied
 * under another name by someone who can write etcd fails to open instead of handing one secret to
 * the units of another.
 *
 * The key file (CLUSTER_KEY_DEFAULT_PATH, root-only, created by provisioning) holds one or more
 * keys, one a line: "<id> <base64 of 32 bytes>", '#' comments and empty lines ignored. The first
 * key seals new records; every key in the file opens records sealed under its id, which is how a
 * key is rotated without making old records unreadable (docs/secrets.md). */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define CLUSTER_KEY_DEFAULT_PATH "/etc/fleet/cluster.key"
#define CLUSTER_KEY_BYTES 32U
#define CLUSTER_KEY_ID_MAX 32U

typedef struct ClusterKey {
        char id[CLUSTER_KEY_ID_MAX + 1];        /* [A-Za-z0-9_.-], 1..32 characters */
        uint8_t key[CLUSTER_KEY_BYTES];
} ClusterKey;

typedef struct ClusterKeyring {
        ClusterKey *keys;               /* keys[0] seals; all open */
        size_t n_keys;
} ClusterKeyring;

/* Wipes the keys (sodium_memzero) and frees. Accepts NULL, returns NULL. */
ClusterKeyring *cluster_keyring_free(ClusterKeyring *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(ClusterKeyring *, cluster_keyring_free);

/* Whether id can name a key: 1..32 characters of [A-Za-z0-9_.-]. */
bool cluster_key_id_is_valid(const char *id) _pure_;

/* Parse the key file's text (size bytes). Returns 0 and a keyring of at least one key; -EINVAL with
 * a message naming the line for a malformed line, a key that is not 32 bytes of base64, a repeated
 * id or a file without keys; -ENOMEM. */
int cluster_keyring_parse(const char *text, size_t size, ClusterKeyring **ret, char **ret_error);

/* Read and parse the key file at path. A file that group or others may read or write, or that
 * another user than root (or the caller) owns, is refused (-EPERM, with a message): a key anyone
 * could read is no key. -ENOENT when it does not exist; messages name the path. */
int cluster_keyring_load(const char *path, ClusterKeyring **ret, char **ret_error);

/* A new key file's text: one line "<id> <fresh random key>\n". Returns 0, -EINVAL for a bad id,
 * -ENOMEM. */
int cluster_key_generate(const char *id, char **ret);

/* Seal value (size bytes) as the record of object kind/name. Returns 0 with malloc'd *ret_key_id
 * (keys[0]'s id), *ret_nonce and *ret_data (base64, original variant, padded); -ENOMEM. */
int cluster_key_seal(const ClusterKeyring *k, const char *kind, const char *name, const void *value,
                     size_t size, char **ret_key_id, char **ret_nonce, char **ret_data);

/* Open what cluster_key_seal() made. Returns 0 with a malloc'd, NUL-terminated *ret (size in
 * *ret_size); -ENOKEY when the keyring has no key of that id (a message names it); -EBADMSG when the
 * base64 is malformed, or the record does not authenticate or was sealed for another kind/name;
 * -ENOMEM. */
int cluster_key_open(const ClusterKeyring *k, const char *kind, const char *name, const char *key_id,
                     const char *nonce, const char *data, char **ret, size_t *ret_size, char **ret_error);

/* A digest of value, BLAKE2b-256 in hex. With a keyring, keyed with keys[0], so that it reveals
 * nothing without the key (a secret's); with k NULL, plain (a config's). compose up compares it to
 * know whether an object changed without decrypting the stored one. *ret is malloc'd. Returns 0,
 * -EIO (libsodium could not start) or -ENOMEM. */
int cluster_key_digest(const ClusterKeyring *k, const void *value, size_t size, char **ret);
