/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Time as systemd counts it: microseconds in a 64-bit unsigned, with named units instead of
 * spelled-out powers of ten. */

#include <inttypes.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"

typedef uint64_t usec_t;
typedef uint64_t nsec_t;

#define USEC_INFINITY ((usec_t) UINT64_MAX)

#define USEC_PER_SEC ((usec_t) UINT64_C(1000000))
#define USEC_PER_MSEC ((usec_t) UINT64_C(1000))
#define USEC_PER_MINUTE ((usec_t) (UINT64_C(60) * USEC_PER_SEC))
#define USEC_PER_HOUR ((usec_t) (UINT64_C(60) * USEC_PER_MINUTE))
#define NSEC_PER_SEC ((nsec_t) UINT64_C(1000000000))
#define NSEC_PER_MSEC ((nsec_t) UINT64_C(1000000))
#define NSEC_PER_USEC ((nsec_t) UINT64_C(1000))

/* The clock's reading now, read from the clock itself (not an event loop's cached iteration
 * time, which is old when called outside the loop). The clock must exist: an invalid id is a
 * programming error. */
usec_t now(clockid_t clock);

usec_t timespec_load(const struct timespec *ts) _pure_;
/* Fill ts with u (USEC_INFINITY is not representable: callers handle it first). Returns ts. */
struct timespec *timespec_store(struct timespec *ts, usec_t u);
