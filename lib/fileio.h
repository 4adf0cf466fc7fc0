/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <dirent.h>
#include <stdio.h>

#include "macro.h"

static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Read a whole file into a NUL-terminated buffer. *ret_size (optional) excludes the NUL. Files
 * larger than max_size (0 = 64 MiB) fail with -EFBIG. Returns 0 or a negative errno. */
int read_full_file(const char *path, char **ret, size_t *ret_size, size_t max_size);
/* The same for an open stream (read to EOF). */
int read_full_stream(FILE *f, char **ret, size_t *ret_size, size_t max_size);

/* Flush f and report any write error that happened on it, as a negative errno. */
int fflush_and_check(FILE *f);

/* Write data to path atomically: a hidden temporary file (".#name.PID") in the same directory,
 * do_fsync, then renamed over path. mode is the new file's permission bits. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode, bool do_fsync);

/* mkdir -p with the given mode for created components. */
int mkdir_p(const char *path, mode_t mode);
