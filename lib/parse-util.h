/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "macro.h"

/* Parsers of the small values every program reads from flags, config and unit files. */

/* fleet's boolean (as Go's strconv.ParseBool plus yes/no/on/off/y/n), any case: 1, true, yes, on,
 * t, y → 1; 0, false, no, off, f, n → 0; anything else (v must not be NULL) → -EINVAL. */
int parse_boolean(const char *v) _pure_;

/* A non-negative decimal integer that fits in uint64_t: digits only. 0 or -EINVAL. */
int parse_u64(const char *s, uint64_t *ret);

/* The first n characters of s as a non-negative decimal with an optional fraction ("1.5", "2",
 * ".25"), multiplied by scale (digits beyond the ninth after the point are ignored; the result is
 * rounded down). 0, or -EINVAL for anything else or an overflow. */
int parse_decimal_scaled(const char *s, size_t n, uint64_t scale, uint64_t *ret);

/* Byte values as compose (go-units) and systemd write them: "128mb", "1.5G", "1024m", "512k",
 * "4GiB", "100b", "100"; units b, k/kb/kib, m/mb/mib, g/gb/gib, t/tb/tib, any case, powers of
 * 1024. 0 or -EINVAL. */
int parse_bytes(const char *s, uint64_t *ret);

/* A time span as systemd's unit files write it (systemd.time(7)): "5min", "300", "1h 30min",
 * "90s", "2.5h"; a bare number is seconds; units us/usec, ms/msec, s/sec/second(s), m/min/
 * minute(s), h/hr/hour(s), d/day(s), optionally separated by whitespace. Microseconds in *ret.
 * 0, or -EINVAL for anything else or an overflow. */
int parse_time_span(const char *s, uint64_t *ret);
