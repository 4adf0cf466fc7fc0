/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Standard base64 (RFC 4648 §4, padded), as etcd's JSON gateway uses for keys and values. None of
 * the allowed dependencies exports a codec, hence this small one. */

#include <stddef.h>

/* Encode size bytes of p. Returns a malloc'd NUL-terminated string, or NULL on OOM. */
char *etcd_base64_encode(const void *p, size_t size);

/* Decode n characters of s, strictly: only the standard alphabet, a length that is a multiple of 4
 * and at most two '=' at the end. On success *ret receives a malloc'd buffer followed by a NUL and
 * *ret_size (optional) its length without the NUL. Returns 0, -EBADMSG or -ENOMEM. */
int etcd_base64_decode(const char *s, size_t n, char **ret, size_t *ret_size);
