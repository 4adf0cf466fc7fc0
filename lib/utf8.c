/* SPDX-License-Identifier: Apache-2.0 */

#include <stdint.h>
#include <string.h>

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
