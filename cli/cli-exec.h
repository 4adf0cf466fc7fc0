/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Running a command on a machine of the cluster: directly when it is this machine, else over ssh
 * as fleet did (user, port, host-key checking, known-hosts file, optional tunnel host). */

#include "macro.h"
#include "registry.h"

/* This machine's id from /etc/machine-id (or $FLEETCTL_MACHINE_ID_FILE, for tests). malloc'd.
 * Returns 0, -ENOENT, -EBADMSG, -ENOMEM. */
int cli_local_machine_id(char **ret);

/* Append the options every ssh fleetctl runs has to l: batch mode, --ssh-timeout as the connect
 * timeout, host-key checking and the known-hosts file as the flags ask. Returns 0 or -ENOMEM. */
int cli_ssh_options(char ***l);

/* The ssh command line that runs command (may be NULL: an interactive shell) on host: a new strv
 * starting with "ssh". Uses arg_ssh_username, arg_ssh_port, arg_ssh_timeout_usec,
 * arg_strict_host_key_checking, arg_known_hosts_file, arg_tunnel and arg_forward_agent. Returns 0
 * or -ENOMEM. */
int cli_ssh_argv(const char *host, char *const *command, char ***ret);

/* Run argv (PATH search) with our stdio, wait for it. Returns its exit status (0..255; 128+N if it
 * died of signal N) or a negative errno if it could not be started. */
int cli_run(char *const *argv);

/* The same, with the command's stdout captured into *ret_output (malloc'd, NUL-terminated; at most
 * 16 MiB). Returns the exit status or a negative errno. */
int cli_run_capture(char *const *argv, char **ret_output);

/* Run command on machine m: directly if m is this machine, over ssh otherwise (-EADDRNOTAVAIL if
 * m has no public IP). Returns the exit status or a negative errno, after logging failures to
 * start it. */
int cli_run_on_machine(const RegistryMachine *m, char *const *command);
