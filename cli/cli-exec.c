/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <sys/wait.h>

#include "cli-exec.h"
#include "fileio.h"
#include "fleetctl.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"
#include "utf8.h"

int cli_local_machine_id(char **ret) {
        _cleanup_free_ char *s = NULL;
        const char *path;
        size_t n;
        int r;

        assert(ret);

        path = getenv("FLEETCTL_MACHINE_ID_FILE") ?: "/etc/machine-id";
        r = read_full_file(path, &s, &n, 4096);
        if (r < 0)
                return r;
        s[strcspn(s, WHITESPACE)] = 0;
        if (!registry_machine_id_is_valid(s))
                return -EBADMSG;

        *ret = TAKE_PTR(s);
        return 0;
}

int cli_ssh_options(char ***l) {
        int r;

        r = strv_extend(l, "-oBatchMode=yes");
        if (r < 0)
                return r;
        r = strv_extendf(l, "-oConnectTimeout=%u", (unsigned) MAX(1U, arg_ssh_timeout_usec / USEC_PER_SEC));
        if (r < 0)
                return r;
        r = strv_extendf(l, "-oStrictHostKeyChecking=%s", arg_strict_host_key_checking ? "yes" : "no");
        if (r < 0)
                return r;
        if (arg_known_hosts_file)
                return strv_extendf(l, "-oUserKnownHostsFile=%s", arg_known_hosts_file);
        if (!arg_strict_host_key_checking)
                return strv_extend(l, "-oUserKnownHostsFile=/dev/null");
        return 0;
}

int cli_ssh_argv(const char *host, char *const *command, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        assert(host);
        assert(ret);

        r = strv_extend(&l, "ssh");
        if (r < 0)
                return r;
        if (arg_forward_agent && (r = strv_extend(&l, "-A")) < 0)
                return r;
        if (!command && (r = strv_extend(&l, "-t")) < 0)
                return r;
        r = strv_extendf(&l, "-p%u", arg_ssh_port);
        if (r < 0)
                return r;
        r = cli_ssh_options(&l);
        if (r < 0)
                return r;
        /* Without --ssh-username, ssh's own choice: ~/.ssh/config's User, else the invoking user. */
        if (arg_tunnel) {
                r = strv_extendf(&l, "-J%s%s%s", strempty(arg_ssh_username), arg_ssh_username ? "@" : "",
                                 arg_tunnel);
                if (r < 0)
                        return r;
        }
        r = strv_extendf(&l, "%s%s%s", strempty(arg_ssh_username), arg_ssh_username ? "@" : "", host);
        if (r < 0)
                return r;
        if (command) {
                /* ssh joins its arguments with spaces for the remote shell. */
                r = strv_extend(&l, "--");
                if (r < 0)
                        return r;
                r = strv_extend_strv(&l, command);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

int cli_run(char *const *argv) {
        int status;
        pid_t pid;

        assert(argv && argv[0]);

        fflush(stdout);
        fflush(stderr);

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execvp(argv[0], argv);
                fprintf(stderr, "fleetctl: Failed to execute %s: %m\n", argv[0]);
                _exit(127);
        }

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 1;
}

int cli_run_capture(char *const *argv, char **ret_output) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *out = NULL;
        int fds[2], status, r;
        pid_t pid;

        assert(argv && argv[0]);
        assert(ret_output);

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(fds[0]);
                safe_close(fds[1]);
                return r;
        }
        if (pid == 0) {
                if (dup2(fds[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                fprintf(stderr, "fleetctl: Failed to execute %s: %m\n", argv[0]);
                _exit(127);
        }

        safe_close(fds[1]);
        f = fdopen(fds[0], "r");
        if (!f) {
                r = -errno;
                safe_close(fds[0]);
        } else
                r = read_full_stream(f, &out, NULL, 16U * 1024U * 1024U);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return r;

        *ret_output = TAKE_PTR(out);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

int cli_run_on_machine(const RegistryMachine *m, char *const *command) {
        _cleanup_strv_free_ char **ssh = NULL;
        _cleanup_free_ char *local = NULL;
        int r;

        assert(m);

        r = cli_local_machine_id(&local);
        if (r < 0)
                log_debug_errno(r, "Cannot tell this machine's id, using ssh: %m");

        if (local && streq(local, m->id) && !arg_tunnel) {
                _cleanup_free_ char *line = NULL;

                if (!command)
                        return cli_run(STRV_MAKE(getenv("SHELL") ?: "/bin/sh"));
                /* Like sshd: the words are joined and given to a shell. */
                line = strv_join(command, " ");
                if (!line)
                        return log_oom();
                return cli_run(STRV_MAKE("/bin/sh", "-c", line));
        }

        if (isempty(m->public_ip))
                return log_error_errno(SYNTHETIC_ERRNO(EADDRNOTAVAIL), "Machine %s has no public IP to reach it at.", m->id);
        /* The address is the machine's own word, and ssh reads a word starting with '-' as an
         * option (-oProxyCommand= runs a command here): only an address or host name goes. */
        if (m->public_ip[0] == '-' ||
            m->public_ip[strspn(m->public_ip, ALPHANUMERICAL ".:-_%[]")] != '\0') {
                _cleanup_free_ char *ip = utf8_escape_non_printable(m->public_ip);

                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Machine %s has public IP \"%s\", which is no address; not running ssh.",
                                       m->id, strna(ip));
        }
        r = cli_ssh_argv(m->public_ip, command, &ssh);
        if (r < 0)
                return log_oom();
        if (arg_debug) {
                _cleanup_free_ char *j = strv_join(ssh, " ");
                log_debug("Running: %s", strna(j));
        }
        return cli_run(ssh);
}
