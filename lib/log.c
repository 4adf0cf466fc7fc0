/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <stdlib.h>

#include "log.h"

static LogTarget log_target = LOG_TARGET_CONSOLE;
static int log_max_level = LOG_INFO;

void log_set_target(LogTarget target) {
        assert(target >= 0 && target < _LOG_TARGET_MAX);
        log_target = target;
}

void log_set_max_level(int level) {
        assert(level >= LOG_EMERG && level <= LOG_DEBUG);
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {
                [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
                [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
        };

        if (isempty(s))
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        return -EINVAL;
}

void log_parse_environment(void) {
        const char *e = getenv("FLEET_LOG_LEVEL") ?: getenv("SYSTEMD_LOG_LEVEL");
        int l;

        if (!e)
                return;
        l = log_level_from_string(e);
        if (l >= 0)
                log_max_level = l;
}

static void log_write_kmsg(int level, const char *msg) {
        char line[2200];
        int fd, n;

        /* One write(2) of a formatted line, not dprintf(): glibc's dprintf leaks its stream buffer
         * when the write fails, which /dev/kmsg does when it is not writable. */
        n = snprintf(line, sizeof(line), "<%i>%s: %s\n", level, program_invocation_short_name, msg);
        if (n < 0)
                return;
        n = MIN(n, (int) sizeof(line) - 1);

        fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t k = write(fd, line, (size_t) n);
                close(fd);
                if (k == n)
                        return;
        }
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        char buf[2048];
        int saved_errno = errno;
        va_list ap;

        if (level > log_max_level)
                return -ERRNO_VALUE(error);

        errno = ERRNO_VALUE(error);
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        switch (log_target) {
        case LOG_TARGET_JOURNAL:
                if (log_max_level >= LOG_DEBUG)
                        fprintf(stderr, "<%i>%s (%s:%i)\n", level, buf, file, line);
                else
                        fprintf(stderr, "<%i>%s\n", level, buf);
                break;
        case LOG_TARGET_KMSG:
                log_write_kmsg(level, buf);
                break;
        default:
                fprintf(stderr, "%s: %s\n", program_invocation_short_name, buf);
        }

        errno = saved_errno;
        return -ERRNO_VALUE(error);
}
