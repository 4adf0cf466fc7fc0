/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "macro.h"

/* Amounts of CPU, memory and named countable resources ("gpu=2"): what a machine offers to units
 * (its capacity) and what a unit reserves. One definition for the unit model ([X-Fleet]
 * ReserveCPU=, ReserveMemory=, ReserveResource=), the machine registration, the scheduler and
 * fleetctl. CPU is counted in thousandths of a CPU so that "0.5" is exact; memory in bytes. */

typedef struct ResourceAmount {
        char *name;                     /* resource_name_is_valid() */
        uint64_t amount;
} ResourceAmount;

typedef struct Resources {
        uint64_t cpu_milli;
        uint64_t memory;
        ResourceAmount *extra;          /* sorted by name, each name once, amounts > 0 */
        size_t n_extra;
} Resources;

/* Free what r holds and zero it. Accepts NULL. */
void resources_done(Resources *r);
/* Deep copy into *to (which is overwritten, not freed). 0 or -ENOMEM. */
int resources_copy(const Resources *from, Resources *to);
bool resources_equal(const Resources *a, const Resources *b) _pure_;
/* Nothing reserved or offered: all zero. */
bool resources_is_empty(const Resources *r) _pure_;
/* Add amount of name (summing with what is there; amount 0 adds nothing). 0, -EINVAL (bad name or
 * overflow), -ENOMEM. */
int resources_add_extra(Resources *r, const char *name, uint64_t amount);
/* The amount of name in r, 0 if absent. */
uint64_t resources_get_extra(const Resources *r, const char *name) _pure_;

/* A resource name: 1..32 characters of [A-Za-z0-9_.-], starting with a letter ("gpu",
 * "NVIDIA-GPU"; no '=', ',' or whitespace, which the config and the option syntax use). */
bool resource_name_is_valid(const char *name) _pure_;

/* CPUs as a decimal, at most 3 digits after the point: "1.5", "0.25", "2". 0 or -EINVAL. */
int resources_parse_cpu(const char *s, uint64_t *ret_milli);
/* Memory with units (parse_bytes(): "512M", "4G", "1.5GiB", "1073741824"). 0 or -EINVAL. */
int resources_parse_memory(const char *s, uint64_t *ret);
/* "name=N" with N a non-negative integer. 0 or -EINVAL; -ENOMEM. */
int resources_parse_extra(const char *s, char **ret_name, uint64_t *ret_amount);

/* Human formats for reasons and tables: CPU "1.5", "2", "0.25"; memory "4 GiB", "1.5 GiB",
 * "512 MiB", "300 B" (at most one decimal, rounded down, so a figure never shows more than there
 * is). Write into buf (NUL-terminated, truncated to size) and return buf. */
#define RESOURCES_FORMAT_MAX 32
char *resources_format_cpu(char *buf, size_t size, uint64_t milli);
char *resources_format_memory(char *buf, size_t size, uint64_t bytes);
/* "2 CPU / 4 GiB", with " / gpu 1" per extra. A malloc'd string, or NULL on OOM. */
char *resources_format(const Resources *r);
