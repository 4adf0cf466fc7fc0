/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* --tunnel for etcd traffic, as fleet's --tunnel did: one ssh to the tunnel host forwards a unix
 * socket per etcd endpoint (ssh -N -L SOCKET:HOST:PORT) and the etcd client connects to those
 * sockets; the URLs keep their hosts, so TLS still verifies the endpoint's certificate. The
 * endpoints are as the tunnel host sees them. The sockets live in a directory only we can enter
 * (a forwarded TCP port on loopback would be open to every local user). */

#include "macro.h"

/* Start the tunnel through arg_tunnel ("HOST[:PORT]", port 22 by default) for endpoints, and wait
 * until ssh listens on every socket (bounded by --ssh-timeout and a few seconds more). *ret gets
 * the socket paths, one per endpoint (a new strv). ssh runs as our child and dies with us;
 * cli_tunnel_close() ends it. Returns 0, or a negative errno after logging what failed (ssh's own
 * message is on stderr). */
int cli_tunnel_open(char *const *endpoints, char ***ret);

/* End the tunnel's ssh (by its PID) and remove its sockets. Safe to call when none is open. */
void cli_tunnel_close(void);

/* "HOST[:PORT]" of an http:// or https:// URL as ssh -L wants it ("[v6]" stays bracketed), with
 * the scheme's port when the URL has none. Returns 0, -EINVAL or -ENOMEM. */
int cli_tunnel_endpoint_target(const char *url, char **ret_host, unsigned *ret_port);
