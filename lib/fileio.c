/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "fileio.h"

#define READ_FULL_MAX (64U * 1024U * 1024U)

int read_full_stream(FILE *f, char **ret, size_t *ret_size, size_t max_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        assert(f);
        assert(ret);

        if (max_size == 0)
                max_size = READ_FULL_MAX;

        for (;;) {
                size_t k;

                if (!GREEDY_REALLOC(buf, allocated, n + 4096 + 1))
                        return -ENOMEM;
                k = fread(buf + n, 1, allocated - n - 1, f);
                n += k;
                if (n > max_size)
                        return -EFBIG;
                if (k == 0) {
                        if (ferror(f))
                                return errno > 0 ? -errno : -EIO;
                        break;
                }
        }

        buf[n] = 0;
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_full_file(const char *path, char **ret, size_t *ret_size, size_t max_size) {
        _cleanup_fclose_ FILE *f = NULL;

        assert(path);

        f = fopen(path, "re");
        if (!f)
                return -errno;
        return read_full_stream(f, ret, ret_size, max_size);
}

int fflush_and_check(FILE *f) {
        assert(f);

        errno = 0;
        fflush(f);
        if (ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode, bool do_fsync) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *p = data;
        size_t left = size;

        assert(path);

        /* A temporary name of its own in the same directory, never longer than any final name: a
         * suffix on a 250-character unit name went past the 255-byte limit of a file name. */
        if (asprintf(&tmp, "%.*s.#tmpXXXXXX", (int) (strrchr(path, '/') ? strrchr(path, '/') - path + 1 : 0),
                     path) < 0)
                return -ENOMEM;

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;

        while (left > 0) {
                ssize_t k = write(fd, p, left);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        (void) unlink(tmp);
                        return r;
                }
                p += k;
                left -= (size_t) k;
        }

        if ((do_fsync && fsync(fd) < 0) || fchmod(fd, mode) < 0 || rename(tmp, path) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        char buf[PATH_MAX];
        size_t n;

        assert(path);

        n = strlen(path);
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, n + 1);

        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}
