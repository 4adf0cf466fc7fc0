/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A container runtime's "inspect" as a child process watched on the event loop: what the agent
 * asks podman or docker about a container (its address, its health) without blocking. */

#include <stdbool.h>
#include <systemd/sd-event.h>

/* Called once, when the child exited: output is the start of what it printed (NUL-terminated, at
 * most 511 bytes), success whether it exited 0. The source is still referenced by the caller's
 * *ret until the caller drops it; userdata is freed by free_userdata after this returns. */
typedef void (*runtime_inspect_done_t)(sd_event_source *s, const char *output, bool success, void *userdata);

/* Run /usr/bin/RUNTIME inspect --format FORMAT CONTAINER (stdin and stderr on /dev/null) and call
 * done on its exit. *ret is the child's source: unref it to kill and reap the child (done is then
 * not called). userdata is handed to free_userdata (may be NULL) when the source goes, also on
 * failure. Returns 0, or a negative errno if the child could not be started or watched. */
int runtime_inspect_start(sd_event *e, const char *runtime, const char *format, const char *container,
                          runtime_inspect_done_t done, void *userdata, void (*free_userdata)(void *),
                          sd_event_source **ret);
