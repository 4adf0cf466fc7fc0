/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "runtime-inspect.h"

extern char **environ;

typedef struct Inspect {
        int fd;                         /* the read end of the child's stdout */
        runtime_inspect_done_t done;
        void *userdata;
        void (*free_userdata)(void *);
} Inspect;

static void inspect_free(void *p) {
        Inspect *i = p;

        if (!i)
                return;
        safe_close(i->fd);
        if (i->free_userdata)
                i->free_userdata(i->userdata);
        free(i);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Inspect *i = userdata;
        char buf[512];
        ssize_t n;

        n = read(i->fd, buf, sizeof(buf) - 1);
        buf[MAX(n, (ssize_t) 0)] = 0;
        i->done(s, buf, si->si_code == CLD_EXITED && si->si_status == 0, i->userdata);
        return 0;
}

int runtime_inspect_start(sd_event *e, const char *runtime, const char *format, const char *container,
                          runtime_inspect_done_t done, void *userdata, void (*free_userdata)(void *),
                          sd_event_source **ret) {
        _cleanup_free_ char *path = NULL;
        posix_spawn_file_actions_t fa;
        sd_event_source *s = NULL;
        Inspect *i;
        int fds[2], r;
        pid_t pid;

        assert(e && runtime && format && container && done && ret);

        i = new0(Inspect, 1);
        if (!i) {
                if (free_userdata)
                        free_userdata(userdata);
                return -ENOMEM;
        }
        *i = (Inspect) { .fd = -EBADF, .done = done, .userdata = userdata, .free_userdata = free_userdata };
        if (asprintf(&path, "/usr/bin/%s", runtime) < 0) {
                path = NULL;
                inspect_free(i);
                return -ENOMEM;
        }
        if (pipe2(fds, O_CLOEXEC) < 0) {
                r = -errno;
                inspect_free(i);
                return r;
        }
        i->fd = fds[0];
        char *argv[] = { path, (char *) "inspect", (char *) "--format", (char *) format, (char *) container, NULL };

        r = posix_spawn_file_actions_init(&fa);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        safe_close(fds[1]);
        if (r != 0) {
                inspect_free(i);
                return -r;
        }

        r = sd_event_add_child(e, &s, pid, WEXITED, on_child_exit, i);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                inspect_free(i);
                return r;
        }
        r = sd_event_source_set_destroy_callback(s, inspect_free);
        if (r < 0)
                inspect_free(i);        /* never fails for a valid source: belt and braces */
        if (r >= 0)
                r = sd_event_source_set_child_process_own(s, true);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                sd_event_source_unref(s);
                return r;
        }
        *ret = s;
        return 0;
}
