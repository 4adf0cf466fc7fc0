/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

/* Where log lines go. Daemons under systemd write "<N>message" to stderr, which journald turns
 * into priorities; command-line tools write "prog: message"; a generator may not use syslog or
 * the journal and writes to /dev/kmsg. Libraries only ever log at debug level. */
typedef enum LogTarget {
        LOG_TARGET_CONSOLE,     /* "prog: message" on stderr */
        LOG_TARGET_JOURNAL,     /* "<N>message" on stderr */
        LOG_TARGET_KMSG,        /* "<N>prog: message" on /dev/kmsg, stderr if that fails */
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

void log_set_target(LogTarget target);
/* Lines above this syslog level (LOG_DEBUG is the most verbose) are dropped. */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Reads $SYSTEMD_LOG_LEVEL/$FLEET_LOG_LEVEL ("debug", "info", ... or a number) if set. */
void log_parse_environment(void);
int log_level_from_string(const char *s);

/* An errno the caller made up for its own failure, not one a call returned: systemd's idiom, so that
 * "return log_error_errno(SYNTHETIC_ERRNO(EINVAL), ...)" reads as such. The mark is a high bit that
 * ERRNO_VALUE() strips; log_*_errno() return -ERRNO_VALUE() and "%m" prints the plain errno's text. */
#define SYNTHETIC_ERRNO(num) (abs(num) | (1 << 30))
#define ERRNO_VALUE(val) (abs(val) & ~(1 << 30))

/* Write one log line. If error is non-zero, errno is set to ERRNO_VALUE(error) while formatting so
 * that "%m" prints its text. Returns -ERRNO_VALUE(error), so that callers can
 * "return log_error_errno(r, ...)". */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                     \
        ({                                                                                    \
                int _level_ = (level), _e_ = (error);                                         \
                _level_ <= log_get_max_level()                                                \
                        ? log_internal(_level_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -ERRNO_VALUE(_e_);                                                  \
        })
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_notice_errno(error, ...) log_full_errno(LOG_NOTICE, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
