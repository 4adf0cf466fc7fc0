/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "cli-exec.h"
#include "cli-tunnel.h"
#include "fleetctl.h"
#include "log.h"
#include "parse-util.h"
#include "strv.h"
#include "time-util.h"

static pid_t tunnel_pid = 0;
static char *tunnel_dir = NULL;
static char **tunnel_sockets = NULL;

static int parse_port(const char *s, unsigned *ret) {
        uint64_t u;

        if (parse_u64(s, &u) < 0 || u == 0 || u > 65535)
                return -EINVAL;
        *ret = (unsigned) u;
        return 0;
}

int cli_tunnel_endpoint_target(const char *url, char **ret_host, unsigned *ret_port) {
        _cleanup_free_ char *authority = NULL;
        const char *rest, *colon;
        unsigned port;

        assert(url);
        assert(ret_host);
        assert(ret_port);

        if ((rest = startswith(url, "http://")))
                port = 80;
        else if ((rest = startswith(url, "https://")))
                port = 443;
        else
                return -EINVAL;
        authority = strndup(rest, strcspn(rest, "/?#"));
        if (!authority)
                return -ENOMEM;
        if (authority[0] == '[') {
                char *end = strchr(authority, ']');

                if (!end || (end[1] && end[1] != ':'))
                        return -EINVAL;
                colon = end[1] ? end + 1 : NULL;
        } else
                colon = strrchr(authority, ':');
        if (colon) {
                if (parse_port(colon + 1, &port) < 0)
                        return -EINVAL;
                authority[colon - authority] = 0;
        }
        if (isempty(authority) || strchr(authority, '@'))
                return -EINVAL;
        *ret_host = TAKE_PTR(authority);
        *ret_port = port;
        return 0;
}

/* Whether something listens on the unix socket at path. */
static bool socket_listens(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;
        bool ok;

        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        ok = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0;
        safe_close(fd);
        return ok;
}

static int tunnel_argv(char *const *endpoints, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *host = NULL;
        const char *colon;
        unsigned port = 22;
        size_t i = 0;
        int r;

        /* HOST, HOST:PORT, [V6], [V6]:PORT, or a bare V6 address (more than one colon). */
        if (arg_tunnel[0] == '[') {
                const char *end = strchr(arg_tunnel, ']');

                colon = end && end[1] == ':' ? end + 1 : NULL;
                if (!end || (end[1] && !colon))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--tunnel=%s: not HOST[:PORT] or [ADDRESS][:PORT].", arg_tunnel);
                host = strndup(arg_tunnel + 1, end - arg_tunnel - 1);
        } else {
                colon = strchr(arg_tunnel, ':');
                if (colon && strchr(colon + 1, ':'))
                        colon = NULL;
                host = colon ? strndup(arg_tunnel, colon - arg_tunnel) : strdup(arg_tunnel);
        }
        if (!host)
                return log_oom();
        if (colon && (parse_port(colon + 1, &port) < 0))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--tunnel=%s: the port is not a number from 1 to 65535.", arg_tunnel);
        if (isempty(host))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--tunnel=%s: no host.", arg_tunnel);

        if (strv_extend(&l, "ssh") < 0 || strv_extend(&l, "-N") < 0 ||
            strv_extend(&l, "-oExitOnForwardFailure=yes") < 0 || strv_extendf(&l, "-p%u", port) < 0 ||
            cli_ssh_options(&l) < 0)
                return log_oom();
        STRV_FOREACH(e, endpoints) {
                _cleanup_free_ char *target = NULL;
                unsigned target_port;

                r = cli_tunnel_endpoint_target(*e, &target, &target_port);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "Cannot tunnel to the etcd endpoint '%s': not http(s)://HOST[:PORT].", *e);
                if (strv_extendf(&tunnel_sockets, "%s/etcd-%zu.sock", tunnel_dir, i++) < 0 ||
                    strv_extend(&l, "-L") < 0 ||
                    strv_extendf(&l, "%s:%s:%u", tunnel_sockets[i - 1], target, target_port) < 0)
                        return log_oom();
        }
        if (strv_extendf(&l, "%s%s%s", strempty(arg_ssh_username), arg_ssh_username ? "@" : "", host) < 0)
                return log_oom();
        *ret = TAKE_PTR(l);
        return 0;
}

int cli_tunnel_open(char *const *endpoints, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL, **copy = NULL;
        char template[] = "/tmp/fleetctl-tunnel.XXXXXX";
        usec_t deadline;
        int r, status;

        assert(arg_tunnel);
        assert(ret);

        if (!tunnel_pid) {
                if (!mkdtemp(template))       /* 0700: the sockets are ours alone */
                        return log_error_errno(errno, "Failed to create a directory for the tunnel: %m");
                tunnel_dir = strdup(template);
                if (!tunnel_dir) {
                        (void) rmdir(template);
                        return log_oom();
                }
                r = tunnel_argv(endpoints, &argv);
                if (r < 0) {
                        cli_tunnel_close();
                        return r;
                }
                if (arg_debug) {
                        _cleanup_free_ char *j = strv_join(argv, " ");
                        log_debug("Running: %s", strna(j));
                }

                fflush(stdout);
                fflush(stderr);
                tunnel_pid = fork();
                if (tunnel_pid < 0) {
                        r = -errno;
                        tunnel_pid = 0;
                        cli_tunnel_close();
                        return log_error_errno(r, "Failed to start ssh for the tunnel: %m");
                }
                if (tunnel_pid == 0) {
                        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                        /* The tunnel must not outlive us, whatever ends us. */
                        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
                                _exit(127);
                        execvp(argv[0], argv);
                        fprintf(stderr, "fleetctl: Failed to execute %s: %m\n", argv[0]);
                        _exit(127);
                }

                deadline = now(CLOCK_MONOTONIC) + arg_ssh_timeout_usec + 5 * USEC_PER_SEC;
                for (;;) {
                        bool all = true;

                        STRV_FOREACH(s, tunnel_sockets)
                                all = all && socket_listens(*s);
                        if (all)
                                break;
                        r = waitpid(tunnel_pid, &status, WNOHANG);
                        if (r == tunnel_pid) {
                                tunnel_pid = 0;
                                cli_tunnel_close();
                                return log_error_errno(SYNTHETIC_ERRNO(ECONNREFUSED),
                                                       "The ssh tunnel through %s to etcd failed (ssh exited with status %d).",
                                                       arg_tunnel, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                        }
                        if (now(CLOCK_MONOTONIC) > deadline) {
                                cli_tunnel_close();
                                return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT), "The ssh tunnel through %s to etcd was not up in time.",
                                                       arg_tunnel);
                        }
                        (void) usleep(20 * USEC_PER_MSEC);
                }
        }

        copy = strv_copy(tunnel_sockets);
        if (!copy)
                return log_oom();
        *ret = TAKE_PTR(copy);
        return 0;
}

void cli_tunnel_close(void) {
        if (tunnel_pid > 0) {
                (void) kill(tunnel_pid, SIGTERM);
                while (waitpid(tunnel_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                tunnel_pid = 0;
        }
        STRV_FOREACH(s, tunnel_sockets)
                (void) unlink(*s);
        tunnel_sockets = strv_free(tunnel_sockets);
        if (tunnel_dir)
                (void) rmdir(tunnel_dir);
        tunnel_dir = mfree(tunnel_dir);
}
