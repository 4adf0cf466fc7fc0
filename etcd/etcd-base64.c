/* SPDX-License-Identifier: Apache-2.0 */

#include <stdint.h>

#include "etcd-base64.h"
#include "macro.h"

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -EBADMSG;
}

char *etcd_base64_encode(const void *p, size_t size) {
        const uint8_t *in = p;
        char *out, *o;

        if (size > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;

        out = o = new(char, (size + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;

        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16;

                if (i + 1 < size)
                        v |= (uint32_t) in[i + 1] << 8;
                if (i + 2 < size)
                        v |= in[i + 2];

                *o++ = base64_alphabet[(v >> 18) & 63];
                *o++ = base64_alphabet[(v >> 12) & 63];
                *o++ = i + 1 < size ? base64_alphabet[(v >> 6) & 63] : '=';
                *o++ = i + 2 < size ? base64_alphabet[v & 63] : '=';
        }
        *o = 0;
        return out;
}

int etcd_base64_decode(const char *s, size_t n, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t pad = 0, o = 0;

        assert(s || n == 0);
        assert(ret);

        if (n % 4 != 0)
                return -EBADMSG;
        if (n > 0 && s[n - 1] == '=')
                pad++;
        if (n > 1 && s[n - 2] == '=')
                pad++;

        buf = new(char, n / 4 * 3 + 1);
        if (!buf)
                return -ENOMEM;

        for (size_t i = 0; i < n; i += 4) {
                bool last = i + 4 == n;
                uint32_t v = 0;

                for (size_t j = 0; j < 4; j++) {
                        int d;

                        if (last && j >= 4 - pad) {
                                v <<= 6;
                                continue;
                        }

                        d = base64_value(s[i + j]);
                        if (d < 0)
                                return d;
                        v = (v << 6) | (uint32_t) d;
                }

                buf[o++] = (char) (v >> 16);
                if (!last || pad < 2)
                        buf[o++] = (char) (v >> 8);
                if (!last || pad < 1)
                        buf[o++] = (char) v;

                /* Non-canonical encodings (bits set under the padding) are rejected too. */
                if (last && ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))))
                        return -EBADMSG;
        }
        buf[o] = 0;

        if (ret_size)
                *ret_size = o;
        *ret = TAKE_PTR(buf);
        return 0;
}
