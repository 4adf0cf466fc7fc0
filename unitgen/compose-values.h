/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "compose-model.h"
#include "macro.h"
#include "parse-util.h"
#include "strv.h"

#define STR_IN_SET(x, ...) strv_contains(STRV_MAKE(__VA_ARGS__), (x))

/* Compose's value syntaxes. All return 0 or -EINVAL (with nothing written), or -ENOMEM. */

/* Durations: "1m30s", "500ms", "10s", "1h", "2us"; a bare number is seconds. */
int parse_duration_usec(const char *s, uint64_t *ret);

/* A non-negative decimal integer that fits in unsigned. (Bytes and uint64_t: parse-util.h.) */
int parse_unsigned(const char *s, unsigned *ret);

/* A non-negative decimal number like "0.5" or "2", as hundredths ("0.5" → 50). */
int parse_cpus_hundredths(const char *s, unsigned *ret);

/* A signal name ("SIGINT", "INT", case-insensitive) or number, as its number. */
int parse_signal(const char *s, int *ret);

/* Format a duration the way docker's flags read it: "90s", "1500ms", "20us". *ret owned by caller. */
int format_duration(uint64_t usec, char **ret);

/* Short port syntax: "80", "8080:80", "127.0.0.1:8080:80/udp", "9090-9091:8080-8081",
 * "[::1]:6001:6001". *ret_flag gets the normalised argument for -p; ret_port the host side.
 * On -EINVAL *ret_error (owned by the caller) says what is wrong. */
int parse_port(const char *s, char **ret_flag, ComposePort *ret_port, char **ret_error);

/* Split a command string into words like compose does (POSIX shell quoting, no expansion).
 * -EINVAL for unbalanced quotes. */
int shell_split(const char *s, char ***ret);

/* Quote one word for a POSIX shell (for healthcheck commands given as lists). */
int shell_quote(const char *s, char **ret);
