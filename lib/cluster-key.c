/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster-key.h"
#include "error-message.h"
#include "fileio.h"

/* The whole key file is small: a few keys. */
#define KEY_FILE_MAX (64U * 1024U)

static int sodium_ready(void) {
        /* sodium_init() is idempotent and thread-safe; < 0 only when no entropy source works. */
        return sodium_init() < 0 ? -EIO : 0;
}

ClusterKeyring *cluster_keyring_free(ClusterKeyring *k) {
        if (!k)
                return NULL;
        if (k->keys)
                sodium_memzero(k->keys, k->n_keys * sizeof(ClusterKey));
        free(k->keys);
        return mfree(k);
}

bool cluster_key_id_is_valid(const char *id) {
        size_t n = 0;

        if (isempty(id))
                return false;
        for (const char *p = id; *p; p++, n++)
                if (n >= CLUSTER_KEY_ID_MAX ||
                    !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_.-", *p)))
                        return false;
        return true;
}

static int b64_decode(const char *s, size_t len, uint8_t *buf, size_t buf_size, size_t *ret_len) {
        if (sodium_base642bin(buf, buf_size, s, len, NULL, ret_len, NULL, sodium_base64_VARIANT_ORIGINAL) < 0)
                return -EBADMSG;
        return 0;
}

static char *b64_encode(const void *data, size_t size) {
        size_t n = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(n);

        if (!s)
                return NULL;
        return sodium_bin2base64(s, n, data, size, sodium_base64_VARIANT_ORIGINAL);
}

static int parse_line(ClusterKeyring *k, const char *line, size_t len, unsigned lineno, char **ret_error) {
        const char *p = line, *end = line + len, *id, *b64;
        size_t id_len, b64_len, key_len = 0;
        ClusterKey key = {};
        int r;

        while (p < end && strchr(" \t\r", *p))
                p++;
        if (p == end || *p == '#')
                return 0;
        id = p;
        while (p < end && !strchr(" \t\r", *p))
                p++;
        id_len = (size_t) (p - id);
        while (p < end && strchr(" \t\r", *p))
                p++;
        b64 = p;
        while (p < end && !strchr(" \t\r", *p))
                p++;
        b64_len = (size_t) (p - b64);
        while (p < end && strchr(" \t\r", *p))
                p++;

        if (id_len == 0 || id_len > CLUSTER_KEY_ID_MAX || b64_len == 0 || p != end)
                return error_message_set(ret_error, EINVAL,
                                         "line %u: expected \"<key id> <base64 key>\"", lineno);
        memcpy(key.id, id, id_len);
        if (!cluster_key_id_is_valid(key.id))
                return error_message_set(ret_error, EINVAL,
                                         "line %u: key id '%s' is not 1..%u characters of [A-Za-z0-9_.-]",
                                         lineno, key.id, CLUSTER_KEY_ID_MAX);
        for (size_t i = 0; i < k->n_keys; i++)
                if (streq(k->keys[i].id, key.id))
                        return error_message_set(ret_error, EINVAL, "line %u: key id '%s' appears twice",
                                                 lineno, key.id);
        r = b64_decode(b64, b64_len, key.key, sizeof(key.key), &key_len);
        if (r < 0 || key_len != CLUSTER_KEY_BYTES) {
                sodium_memzero(&key, sizeof(key));
                return error_message_set(ret_error, EINVAL, "line %u: key '%s' is not %u bytes in base64",
                                         lineno, key.id, CLUSTER_KEY_BYTES);
        }

        ClusterKey *n = reallocarray(k->keys, k->n_keys + 1, sizeof(ClusterKey));
        if (!n) {
                sodium_memzero(&key, sizeof(key));
                return -ENOMEM;
        }
        k->keys = n;
        k->keys[k->n_keys++] = key;
        sodium_memzero(&key, sizeof(key));
        return 0;
}

int cluster_keyring_parse(const char *text, size_t size, ClusterKeyring **ret, char **ret_error) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        const char *p = text, *end = text + size;
        unsigned lineno = 0;
        int r;

        assert(text || size == 0);
        assert(ret);

        k = new0(ClusterKeyring, 1);
        if (!k)
                return -ENOMEM;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)) ?: end;

                lineno++;
                if (memchr(p, '\0', (size_t) (nl - p)))
                        return error_message_set(ret_error, EINVAL, "line %u: contains a NUL byte", lineno);
                r = parse_line(k, p, (size_t) (nl - p), lineno, ret_error);
                if (r < 0)
                        return r;
                p = nl < end ? nl + 1 : end;
        }
        if (k->n_keys == 0)
                return error_message_set(ret_error, EINVAL, "no key in it (expected \"<key id> <base64 key>\")");

        *ret = TAKE_PTR(k);
        return 0;
}

int cluster_keyring_load(const char *path, ClusterKeyring **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *msg = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        struct stat st;
        int r;

        assert(path);
        assert(ret);

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_message_set(ret_error, errno, "cannot open the cluster key %s: %m", path);
        if (fstat(fd, &st) < 0)
                return error_message_set(ret_error, errno, "cannot stat the cluster key %s: %m", path);
        if (!S_ISREG(st.st_mode))
                return error_message_set(ret_error, EINVAL, "the cluster key %s is not a regular file", path);
        if ((st.st_mode & 077) != 0 || (st.st_uid != 0 && st.st_uid != geteuid()))
                return error_message_set(ret_error, EPERM,
                                         "the cluster key %s is mode %04o owned by uid %u: it must be readable "
                                         "by its owner (root) only (chmod 0400)",
                                         path, (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid);

        f = fdopen(fd, "r");
        if (!f)
                return -errno;
        TAKE_FD(fd);
        r = read_full_stream(f, &text, &size, KEY_FILE_MAX);
        if (r < 0)
                return error_message_set(ret_error, r, "cannot read the cluster key %s: %s", path,
                                         r == -EFBIG ? "too large" : strerror(-r));
        r = sodium_ready();
        if (r < 0)
                return error_message_set(ret_error, r, "libsodium cannot be initialised");
        r = cluster_keyring_parse(text, size, ret, &msg);
        sodium_memzero(text, size);
        if (r == -EINVAL)
                return error_message_set(ret_error, r, "the cluster key %s: %s", path, msg);
        return r;
}

int cluster_key_generate(const char *id, char **ret) {
        uint8_t key[CLUSTER_KEY_BYTES];
        _cleanup_free_ char *b64 = NULL;
        char *s;
        int r;

        assert(ret);

        if (!cluster_key_id_is_valid(id))
                return -EINVAL;
        r = sodium_ready();
        if (r < 0)
                return r;
        randombytes_buf(key, sizeof(key));
        b64 = b64_encode(key, sizeof(key));
        sodium_memzero(key, sizeof(key));
        if (!b64)
                return -ENOMEM;
        if (asprintf(&s, "%s %s\n", id, b64) < 0)
                return -ENOMEM;
        sodium_memzero(b64, strlen(b64));
        *ret = s;
        return 0;
}

/* "<kind>/<name>\0<value>": the sealed message binds the record to its name. */
static int bound_message(const char *kind, const char *name, const void *value, size_t size, uint8_t **ret,
                         size_t *ret_size) {
        size_t head = strlen(kind) + 1 + strlen(name) + 1;
        uint8_t *m;

        if (size > SIZE_MAX - head)
                return -ENOMEM;
        m = malloc(head + size);
        if (!m)
                return -ENOMEM;
        sprintf((char *) m, "%s/%s", kind, name);
        if (size > 0)
                memcpy(m + head, value, size);
        *ret = m;
        *ret_size = head + size;
        return 0;
}

int cluster_key_seal(const ClusterKeyring *k, const char *kind, const char *name, const void *value,
                     size_t size, char **ret_key_id, char **ret_nonce, char **ret_data) {
        _cleanup_free_ char *id = NULL, *nonce_b64 = NULL, *data_b64 = NULL;
        _cleanup_free_ uint8_t *m = NULL, *c = NULL;
        uint8_t nonce[crypto_secretbox_NONCEBYTES];
        size_t m_size;
        int r;

        assert(k && k->n_keys > 0);
        assert(kind && name && (value || size == 0));
        assert(ret_key_id && ret_nonce && ret_data);

        r = sodium_ready();
        if (r < 0)
                return r;
        r = bound_message(kind, name, value, size, &m, &m_size);
        if (r < 0)
                return r;
        c = malloc(m_size + crypto_secretbox_MACBYTES);
        if (!c) {
                sodium_memzero(m, m_size);
                return -ENOMEM;
        }
        randombytes_buf(nonce, sizeof(nonce));
        crypto_secretbox_easy(c, m, m_size, nonce, k->keys[0].key);
        sodium_memzero(m, m_size);

        id = strdup(k->keys[0].id);
        nonce_b64 = b64_encode(nonce, sizeof(nonce));
        data_b64 = b64_encode(c, m_size + crypto_secretbox_MACBYTES);
        if (!id || !nonce_b64 || !data_b64)
                return -ENOMEM;
        *ret_key_id = TAKE_PTR(id);
        *ret_nonce = TAKE_PTR(nonce_b64);
        *ret_data = TAKE_PTR(data_b64);
        return 0;
}

int cluster_key_open(const ClusterKeyring *k, const char *kind, const char *name, const char *key_id,
                     const char *nonce, const char *data, char **ret, size_t *ret_size, char **ret_error) {
        _cleanup_free_ uint8_t *c = NULL, *m = NULL;
        uint8_t n[crypto_secretbox_NONCEBYTES];
        const ClusterKey *key = NULL;
        size_t n_len = 0, c_len = 0, head;
        char *v;
        int r;

        assert(k);
        assert(kind && name && key_id && nonce && data);
        assert(ret && ret_size);

        r = sodium_ready();
        if (r < 0)
                return r;
        for (size_t i = 0; i < k->n_keys; i++)
                if (streq(k->keys[i].id, key_id))
                        key = &k->keys[i];
        if (!key)
                return error_message_set(ret_error, ENOKEY,
                                         "%s %s is sealed with key '%s', which the cluster key file does not hold",
                                         kind, name, key_id);

        if (b64_decode(nonce, strlen(nonce), n, sizeof(n), &n_len) < 0 || n_len != sizeof(n))
                return error_message_set(ret_error, EBADMSG, "%s %s: malformed nonce", kind, name);
        c = malloc(strlen(data) / 4 * 3 + 3);
        if (!c)
                return -ENOMEM;
        if (b64_decode(data, strlen(data), c, strlen(data) / 4 * 3 + 3, &c_len) < 0 ||
            c_len < crypto_secretbox_MACBYTES)
                return error_message_set(ret_error, EBADMSG, "%s %s: malformed data", kind, name);
        m = malloc(c_len - crypto_secretbox_MACBYTES + 1);
        if (!m)
                return -ENOMEM;
        if (crypto_secretbox_open_easy(m, c, c_len, n, key->key) < 0)
                return error_message_set(ret_error, EBADMSG,
                                         "%s %s does not authenticate with key '%s' (altered, or not sealed with it)",
                                         kind, name, key_id);
        c_len -= crypto_secretbox_MACBYTES;
        m[c_len] = 0;

        /* The sealed name must be this record's. */
        head = strlen(kind) + 1 + strlen(name) + 1;
        if (c_len < head || !startswith((char *) m, kind) || m[strlen(kind)] != '/' ||
            !streq((char *) m + strlen(kind) + 1, name)) {
                sodium_memzero(m, c_len);
                return error_message_set(ret_error, EBADMSG, "%s %s holds a value sealed for another object",
                                         kind, name);
        }

        v = malloc(c_len - head + 1);
        if (!v) {
                sodium_memzero(m, c_len);
                return -ENOMEM;
        }
        memcpy(v, m + head, c_len - head);
        v[c_len - head] = 0;
        sodium_memzero(m, c_len);
        *ret = v;
        *ret_size = c_len - head;
        return 0;
}

int cluster_key_digest(const ClusterKeyring *k, const void *value, size_t size, char **ret) {
        uint8_t h[32];
        char *s;
        int r;

        assert(ret);

        r = sodium_ready();
        if (r < 0)
                return r;
        crypto_generichash(h, sizeof(h), value, size, k ? k->keys[0].key : NULL, k ? CLUSTER_KEY_BYTES : 0);
        s = malloc(sizeof(h) * 2 + 1);
        if (!s)
                return -ENOMEM;
        sodium_bin2hex(s, sizeof(h) * 2 + 1, h, sizeof(h));
        *ret = s;
        return 0;
}
