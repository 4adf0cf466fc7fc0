/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "compose-model.h"

/* Rendering: one unit file per service, the same bytes for the same input. The [Unit] and
 * [X-Fleet] sections are shared; the [Service] section comes from the runtime's writer. */

/* A unit as unitgen renders it: its name and text (lib's UnitFile is a unit parsed into assignments). */
typedef struct RenderedUnit {
        char *name;             /* "<project>-<service>.service" or the template's name */
        char *text;
        char **instances;       /* the names to start: the unit itself, or the template's instances */
} RenderedUnit;

/* Render every service of m, in the project's service order. *ret is an array of *ret_n units,
 * owned by the caller (free with unit_render_free()). A unit that cannot be rendered is reported
 * in d at its service. Returns 0, -EINVAL (reported) or -ENOMEM. */
int unit_render_all(const ComposeModel *m, Diag *d, RenderedUnit **ret, size_t *ret_n);

/* Render one service into a new string *ret (owned by the caller). Returns 0, -EFBIG for a unit
 * over UNIT_FILE_SIZE_MAX (systemd, fleetctl and the registry refuse it), -EBADMSG for one that
 * does not read back as written, or -ENOMEM. */
int unit_render(const ComposeModel *m, const ComposeService *s, char **ret);

/* Free n units and the array. Accepts NULL, returns NULL. */
RenderedUnit *unit_render_free(RenderedUnit *u, size_t n);

/* The runtimes' [Service] writers (runtime-docker.c, runtime-podman.c). They write every line of
 * the section after its header. Return 0 or -ENOMEM / -EIO. */
int runtime_docker_write_service(FILE *f, const ComposeModel *m, const ComposeService *s);
int runtime_podman_write_service(FILE *f, const ComposeModel *m, const ComposeService *s);

/* Helpers shared by the runtime writers, each writing whole lines to f. Return 0 or -EIO.
 * unit_write_exec: "key=" + prefix (e.g. "-": failure ignored) + argv quoted for systemd.
 * unit_write_restart: Restart= and RestartSec= as the service asks (nothing when unset).
 * unit_write_stop_status: SuccessExitStatus= for a container killed by its stop signal.
 * unit_write_wait_healthy: an ExecStartPost= that returns once "RUNTIME inspect" reports the
 * container healthy, so units ordered After= this one start only then (-ENOMEM too). */
int unit_write_exec(FILE *f, const char *key, const char *prefix, char *const *argv);
int unit_write_restart(FILE *f, const ComposeService *s);
int unit_write_stop_status(FILE *f, const ComposeService *s);
int unit_write_wait_healthy(FILE *f, const char *runtime, const char *container);

/* The ExecStartPre= lines both runtimes write before the container: "RUNTIME network create" and
 * "RUNTIME volume create" for each network and volume of s (followed by create_option when not
 * NULL, the options m has for that resource and its name; prefixed with create_prefix), "mkdir -p"
 * of each host directory, and "RUNTIME pull" of the image when s pulls always. Returns 0 or
 * -ENOMEM / -EIO. */
int unit_write_prepare(FILE *f, const ComposeModel *m, const ComposeService *s, const char *runtime,
                       const char *create_option, const char *create_prefix);
