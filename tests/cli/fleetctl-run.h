/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Running the fleetctl binary from a test: its exit status, stdout and stderr, captured through files
 * in the test's directory. Header-only, for the tests of cli/. */

#include <fcntl.h>
#include <sys/wait.h>

#include "fileio.h"
#include "strv.h"
#include "tap.h"

typedef struct Run {
        int status;
        char *out, *err;
} Run;

static inline void run_done(Run *r) {
        free(r->out);
        free(r->err);
}

/* The first line of s, for test names and diagnostics (TAP lines cannot hold a newline). */
static inline const char *line1(const char *s) {
        static char buf[4][512];
        static unsigned n;
        char *b = buf[n++ % 4];

        snprintf(b, sizeof(buf[0]), "%.*s", (int) strcspn(s ?: "", "\n"), s ?: "");
        return b;
}

static inline unsigned count_lines(const char *s) {
        unsigned n = 0;

        for (; s && *s; s++)
                n += *s == '\n';
        return n;
}

/* Start `fleetctl args...` in dir (its working directory, where stdout and stderr are captured),
 * with env ("K=V" strings) added to the environment. Returns the child's PID. */
static inline pid_t fleetctl_spawn(const char *fleetctl, const char *dir, char *const *env, char *const *args) {
        char out_path[256], err_path[256];
        pid_t pid;

        snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
        snprintf(err_path, sizeof(err_path), "%s/stderr", dir);

        pid = fork();
        assert_se(pid >= 0);
        if (pid == 0) {
                _cleanup_strv_free_ char **argv = NULL;
                int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(dir) < 0)
                        _exit(126);
                STRV_FOREACH(kv, env)
                        if (putenv(*kv) < 0)
                                _exit(126);
                if (strv_extend(&argv, fleetctl) < 0 || strv_extend_strv(&argv, args) < 0)
                        _exit(126);
                execv(fleetctl, argv);
                _exit(127);
        }
        return pid;
}

/* Wait for a fleetctl started by fleetctl_spawn() in dir and collect what it printed. */
static inline Run fleetctl_collect(pid_t pid, const char *dir) {
        char out_path[256], err_path[256];
        Run r = { .status = -1 };
        int st;

        snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
        snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
        assert_se(waitpid(pid, &st, 0) == pid);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        assert_se(read_full_file(out_path, &r.out, NULL, 0) == 0);
        assert_se(read_full_file(err_path, &r.err, NULL, 0) == 0);
        return r;
}
