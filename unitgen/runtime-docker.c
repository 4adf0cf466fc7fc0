/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>

#include "compose-model.h"
#include "exec-quote.h"
#include "strv.h"
#include "unit-writer.h"

/* The shape fleet users know: "docker run" in the foreground (systemd supervises the client,
 * which lives as long as the container), a stale container removed first, "docker stop" with
 * the grace period. Never --restart: systemd restarts, two supervisors would fight. */

#define DOCKER "/usr/bin/docker"

int runtime_docker_write_service(FILE *f, const ComposeModel *m, const ComposeService *s) {
        _cleanup_(exec_argv_done) ExecArgv run = {};
        _cleanup_free_ char *timeout = NULL;
        int r;

        if (s->oneshot)
                fputs("Type=oneshot\nRemainAfterExit=yes\n", f);
        else
                fputs("Type=simple\n", f);
        if (s->wait_healthy || s->pull_always)
                fputs("TimeoutStartSec=300\n", f);
        r = unit_write_stop(f, s);
        if (r < 0)
                return r;

        r = unit_write_exec_container(f, "ExecStartPre", "-", STRV_MAKE(DOCKER, "rm", "-f"), &s->container);
        if (r < 0)
                return r;
        /* "-": "create" fails when the network or volume exists, which is fine. */
        r = unit_write_prepare(f, m, s, DOCKER, NULL, "-");
        if (r < 0)
                return r;

        r = exec_argv_add(&run, DOCKER);
        if (r >= 0)
                r = exec_argv_add_strv(&run, s->global_args);
        if (r >= 0)
                r = exec_argv_add_strv(&run, STRV_MAKE("run", "--rm", "--name"));
        if (r >= 0)
                r = exec_argv_add_word(&run, &s->container);
        if (r >= 0)
                r = exec_argv_add_argv(&run, &s->run_args);
        if (r >= 0)
                r = exec_argv_add_strv(&run, s->docker_args);
        if (r >= 0)
                r = exec_argv_add(&run, s->image);
        if (r >= 0)
                r = exec_argv_add_strv(&run, s->args);
        if (r < 0)
                return r;
        r = exec_write_line(f, "ExecStart", NULL, &run);
        if (r < 0)
                return r;

        if (s->wait_healthy) {
                /* Dependents ordered After= this unit start once ExecStartPost= is done. */
                r = unit_write_wait_healthy(f, DOCKER, &s->container);
                if (r < 0)
                        return r;
        }

        timeout = NULL;
        if (asprintf(&timeout, "%" PRIu64, s->stop_timeout_sec) < 0)
                return -ENOMEM;
        r = unit_write_exec_container(f, "ExecStop", s->oneshot ? "-" : NULL, STRV_MAKE(DOCKER, "stop", "-t", timeout),
                                      &s->container);
        if (r < 0)
                return r;
        return unit_write_restart(f, s);
}
