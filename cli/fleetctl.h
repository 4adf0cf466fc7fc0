/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* fleetctl's shared state: the parsed global and per-command flags (arg_*, as systemctl keeps
 * them) and the connection to etcd, opened on first use. */

#include <stdint.h>

#include "cluster.h"
#include "cli-list.h"
#include "etcd-client.h"
#include "macro.h"
#include "registry.h"

/* Global flags (also FLEETCTL_<FLAG> in the environment). */
extern char **arg_endpoints;
extern char *arg_etcd_key_prefix;
extern char *arg_ca_file;
extern char *arg_cert_file;
extern char *arg_key_file;
extern char *arg_etcd_username;
extern char *arg_etcd_password;
extern uint64_t arg_request_timeout_usec;
extern bool arg_debug;
extern char *arg_tunnel;
extern char *arg_ssh_username;
extern uint64_t arg_ssh_timeout_usec;
extern bool arg_strict_host_key_checking;
extern char *arg_known_hosts_file;
extern char *arg_cluster_key;         /* --cluster-key: NULL = CLUSTER_KEY_DEFAULT_PATH */

/* Per-command flags. */
extern bool arg_replace;
extern bool arg_no_block;
extern int arg_block_attempts;          /* 0: wait forever */
extern char *arg_fields;
extern bool arg_full;
extern bool arg_no_legend;
extern OutputMode arg_output;
extern char *arg_journal_output;
extern unsigned arg_lines;
extern bool arg_follow;
extern bool arg_sudo;
extern unsigned arg_ssh_port;
extern bool arg_forward_agent;
extern char *arg_machine;
extern char *arg_unit;
extern uint64_t arg_wait_timeout_usec;  /* --timeout: 0 = none */

/* The etcd client for the configured endpoints, created on first call (borrowed; freed at exit).
 * Returns 0 or a negative errno, after logging why. */
int fleetctl_etcd(EtcdClient **ret);

/* Log an etcd failure as one line naming the endpoints, and return r. */
int fleetctl_log_etcd_error(int r, const char *what);

/* Print a warning for every record of s that does not decode (its key and what is wrong). */
void fleetctl_report_problems(const ClusterSnapshot *s);
/* Log that unit name is not in s: it does not exist, or its record is malformed (and what is
 * wrong). Returns -ENOENT or -EBADMSG. */
int fleetctl_log_missing_unit(const ClusterSnapshot *s, const char *name);

/* Read the cluster's snapshot through fleetctl_etcd(); what names the read in the error message
 * ("read the cluster state"). *ret is the caller's; *ret_client (if not NULL) the borrowed client.
 * Returns 0 or a negative errno, after logging why. */
int fleetctl_snapshot(const char *what, EtcdClient **ret_client, ClusterSnapshot **ret);

/* cli_expand_args() and cli_resolve_names() that log why they fail. Return 0 or a negative errno,
 * after logging why. */
int fleetctl_expand_args(char *const *args, char ***ret);
int fleetctl_resolve_names(char *const *args, char *const *known, char ***ret);

/* Set the desired state of every unit of names (which exist), print "Triggered global unit X
 * <verb>" for global units, then wait for the others as arg_no_block and arg_block_attempts say.
 * verb is fleet's word for the messages ("load", "start", "stop", "unload"). Returns 0, -ETIME if a
 * wait timed out, or another negative errno, after printing why. */
int fleetctl_activate(char *const *names, UnitDesiredState desired, const char *verb);

/* The attempts a wait may take (cli_wait_units()): --block-attempts and --timeout, the smaller. */
int fleetctl_wait_attempts(void);

/* cli_wait_units() to stdout with progress on a terminal; a unit that failed has its last journal
 * lines printed where its machine can be reached. Returns 0, -ETIME, -ENOEXEC (a unit failed), or
 * another negative errno after printing why. */
int fleetctl_wait_units(EtcdClient *c, char *const *names, UnitDesiredState desired, int attempts);

/* Print the last lines of the journal of unit name, from its machine: "journalctl -u name -n lines"
 * there (a note on stderr where it cannot be reached). Returns 0 or a negative errno. */
int fleetctl_journal_tail(const char *name, unsigned lines);

/* The journals of units of s, one journalctl per machine with a --unit for each of its units
 * (follow: -f, for a single machine). Returns 0, the last non-zero exit status, or a negative
 * errno after printing why. */
int fleetctl_journal_units(const ClusterSnapshot *s, char *const *names, unsigned lines, bool follow);

/* compose's own options and commands, for its help. */
void fleetctl_compose_help(void);

/* Delete the units of names from the cluster (those that do not exist are skipped) and print
 * "Destroyed X" for each deleted one. Returns 0 or a negative errno, after logging why. */
int fleetctl_destroy_units(EtcdClient *c, char *const *names);

/* The names of the units in the cluster matching args (globs, names, file paths), every one of
 * which must exist. Returns 0 or a negative errno after printing why. */
int fleetctl_existing_units(char *const *args, char ***ret);

/* Verbs: argv[0] is the verb, options already removed. Each returns 0 or a negative errno after
 * printing why on stderr; a few exit-code contracts (verify's 2) are returned as positive values. */
int verb_submit(int argc, char *argv[]);
int verb_load(int argc, char *argv[]);
int verb_start(int argc, char *argv[]);
int verb_stop(int argc, char *argv[]);
int verb_unload(int argc, char *argv[]);
int verb_destroy(int argc, char *argv[]);
int verb_restart(int argc, char *argv[]);
int verb_list_units(int argc, char *argv[]);
int verb_list_unit_files(int argc, char *argv[]);
int verb_list_machines(int argc, char *argv[]);
int verb_cat(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);
int verb_journal(int argc, char *argv[]);
int verb_ssh(int argc, char *argv[]);
int verb_verify(int argc, char *argv[]);
int verb_compose(int argc, char *argv[]);
int verb_cordon(int argc, char *argv[]);
int verb_uncordon(int argc, char *argv[]);
int verb_drain(int argc, char *argv[]);
int verb_secret(int argc, char *argv[]);
int verb_config(int argc, char *argv[]);

/* The cluster key (--cluster-key, else CLUSTER_KEY_DEFAULT_PATH), for sealing secrets. Returns 0
 * or a negative errno, after logging why (the path, and how to get at the key). */
typedef struct ClusterKeyring ClusterKeyring;
int fleetctl_cluster_keyring(ClusterKeyring **ret);
