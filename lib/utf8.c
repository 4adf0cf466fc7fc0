/* SPDX-License-Identifier: Apache-2.0 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "utf8.h"

static bool unichar_is_valid(uint32_t c) {
        if (c >= 0x110000)
                return false;
        if ((c & 0xFFFFF800) == 0xD800)         /* UTF-16 surrogates */
                return false;
        if (c >= 0xFDD0 && c <= 0xFDEF)         /* non-characters */
                return false;
        if ((c & 0xFFFE) == 0xFFFE)
                return false;
        return true;
}

/* The length of the valid sequence at s (at most n bytes), or 0 if it is not one. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
        size_t len;
        uint32_t c, min;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xE0) == 0xC0) {
                len = 2, c = s[0] & 0x1F, min = 0x80;
        } else if ((s[0] & 0xF0) == 0xE0) {
                len = 3, c = s[0] & 0x0F, min = 0x800;
        } else if ((s[0] & 0xF8) == 0xF0) {
                len = 4, c = s[0] & 0x07, min = 0x10000;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3F);
        }
        /* An overlong encoding hides a character from whoever checks the bytes. */
        if (c < min || !unichar_is_valid(c))
                return 0;
        return len;
}

bool utf8_is_valid_n(const char *s, size_t n, size_t *ret_offset) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < n;) {
                size_t len = utf8_sequence_length(p + i, n - i);

                if (len == 0) {
                        if (ret_offset)
                                *ret_offset = i;
                        return false;
                }
                i += len;
        }
        return true;
}

bool utf8_is_valid(const char *s) {
        return utf8_is_valid_n(s, strlen(s), NULL);
}

/* Characters that change how a terminal shows what follows them. */
static bool unichar_is_printable(uint32_t c) {
        if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
                return false;
        if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))
                return false;           /* bidi embeddings, overrides and isolates */
        return true;
}

static uint32_t utf8_decode(const unsigned char *s, size_t len) {
        static const unsigned char lead_mask[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
        uint32_t c = s[0] & lead_mask[len];

        for (size_t i = 1; i < len; i++)
                c = (c << 6) | (s[i] & 0x3F);
        return c;
}

static char *cescape_byte(unsigned char c, char *t) {
        static const char hex[] = "0123456789abcdef";
        static const char named[] = { ['\a'] = 'a', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',
                                      ['\v'] = 'v', ['\f'] = 'f', ['\r'] = 'r' };

        *t++ = '\\';
        if (c < sizeof(named) && named[c])
                *t++ = named[c];
        else {
                *t++ = 'x';
                *t++ = hex[c >> 4];
                *t++ = hex[c & 0xF];
        }
        return t;
}

char *utf8_escape_non_printable(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n;
        char *buf, *t;

        if (!s)
                return NULL;

        n = strlen(s);
        /* At worst every byte becomes "\xNN". */
        buf = malloc(n * 4 + 1);
        if (!buf)
                return NULL;

        t = buf;
        for (size_t i = 0; i < n;) {
                size_t len = utf8_sequence_length(p + i, n - i);

                if (len > 0 && unichar_is_printable(utf8_decode(p + i, len))) {
                        memcpy(t, p + i, len);
                        t += len;
                        i += len;
                        continue;
                }
                /* An invalid sequence is escaped one byte at a time, so the bytes after a bad
                 * lead byte are looked at afresh. */
                for (size_t k = 0; k < MAX(len, (size_t) 1); k++)
                        t = cescape_byte(p[i + k], t);
                i += MAX(len, (size_t) 1);
        }
        *t = '\0';
        return buf;
}
