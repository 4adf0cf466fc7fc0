/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

/* Runs one log call with stderr sent to a file and returns what it printed (first line). */
static char captured[512];

static int capture_begin(void) {
        char path[] = "/tmp/test-log-XXXXXX";
        int fd, saved;

        fflush(stderr);
        fd = mkstemp(path);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        saved = dup(STDERR_FILENO);
        (void) dup2(fd, STDERR_FILENO);
        close(fd);
        return saved;
}

static const char *capture_end(int saved) {
        ssize_t n;

        fflush(stderr);
        (void) lseek(STDERR_FILENO, 0, SEEK_SET);
        n = read(STDERR_FILENO, captured, sizeof(captured) - 1);
        captured[n > 0 ? n : 0] = 0;
        captured[strcspn(captured, "\n")] = 0;
        (void) dup2(saved, STDERR_FILENO);
        close(saved);
        return captured;
}

static void test_synthetic(void) {
        int saved, r;

        ok(SYNTHETIC_ERRNO(EINVAL) != EINVAL, "the synthetic mark changes the value");
        is_int(ERRNO_VALUE(SYNTHETIC_ERRNO(EINVAL)), EINVAL, "ERRNO_VALUE strips the mark");
        is_int(ERRNO_VALUE(-ENOENT), ENOENT, "ERRNO_VALUE of a negative errno is the errno");

        log_set_target(LOG_TARGET_CONSOLE);
        log_set_max_level(LOG_INFO);
        saved = capture_begin();
        errno = EBUSY;
        r = log_error_errno(SYNTHETIC_ERRNO(ENOENT), "thing: %m");
        is_int(errno, EBUSY, "errno is kept across the call");
        ok(strstr(capture_end(saved), "thing: No such file or directory") != NULL,
           "%%m prints the plain errno's text: %s", captured);
        is_int(r, -ENOENT, "a logged synthetic errno returns the negative plain errno");

        r = log_debug_errno(SYNTHETIC_ERRNO(EINVAL), "not printed");
        is_int(r, -EINVAL, "a dropped synthetic errno returns the negative plain errno too");
        r = log_debug_errno(-EIO, "not printed");
        is_int(r, -EIO, "a real negative errno is returned as is");
}

int main(void) {
        test_synthetic();
        return done_testing();
}
