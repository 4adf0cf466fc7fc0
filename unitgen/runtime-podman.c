/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>

#include "compose-model.h"
#include "exec-quote.h"
#include "strv.h"
#include "unit-writer.h"

/* Quadlet's shape: conmon becomes the main process and reports READY (--sdnotify=conmon), the
 * container's cgroups sit inside the unit's (--cgroups=split, Delegate=yes), so systemd's
 * accounting, limits and killing cover the payload; KillMode=mixed lets conmon clean up. */

#define PODMAN "/usr/bin/podman"

int runtime_podman_write_service(FILE *f, const ComposeModel *m, const ComposeService *s) {
        _cleanup_(exec_argv_done) ExecArgv run = {};
        _cleanup_free_ char *timeout = NULL;
        int r;

        fputs("Environment=PODMAN_SYSTEMD_UNIT=%n\n", f);
        if (s->oneshot)
                fputs("Type=oneshot\nRemainAfterExit=yes\n", f);
        else
                fputs("Type=notify\nNotifyAccess=all\n", f);
        fputs("KillMode=mixed\nDelegate=yes\nSyslogIdentifier=%N\n", f);
        if (s->wait_healthy || s->pull_always)
                fputs("TimeoutStartSec=300\n", f);
        r = unit_write_stop(f, s);
        if (r < 0)
                return r;
        if (s->memory_max > 0)
                fprintf(f, "MemoryMax=%" PRIu64 "\n", s->memory_max);
        if (s->memory_low > 0)
                fprintf(f, "MemoryLow=%" PRIu64 "\n", s->memory_low);
        if (s->cpu_quota_percent > 0)
                fprintf(f, "CPUQuota=%u%%\n", s->cpu_quota_percent);
        if (s->tasks_max > 0)
                fprintf(f, "TasksMax=%" PRIu64 "\n", s->tasks_max);

        /* "--ignore": an existing network or volume is fine. */
        r = unit_write_prepare(f, m, s, PODMAN, "--ignore", NULL);
        if (r < 0)
                return r;

        r = exec_argv_add(&run, PODMAN);
        if (r >= 0)
                r = exec_argv_add_strv(&run, s->global_args);
        if (r >= 0)
                r = exec_argv_add_strv(&run, STRV_MAKE("run", "--name"));
        if (r >= 0)
                r = exec_argv_add_word(&run, &s->container);
        if (r >= 0)
                r = exec_argv_add_strv(&run, STRV_MAKE("--replace", "--rm", "--cgroups=split"));
        if (r >= 0 && !s->oneshot)
                r = exec_argv_add_strv(&run, STRV_MAKE("--sdnotify=conmon", "-d"));
        if (r >= 0)
                r = exec_argv_add_argv(&run, &s->run_args);
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
                /* "--sdnotify=healthy" would do it, but only from podman 5 on; Debian 12 has 4.3. */
                r = unit_write_wait_healthy(f, PODMAN, &s->container);
                if (r < 0)
                        return r;
        }

        if (asprintf(&timeout, "%" PRIu64, s->stop_timeout_sec) < 0)
                return -ENOMEM;
        r = unit_write_exec_container(f, "ExecStop", NULL, STRV_MAKE(PODMAN, "stop", "--ignore", "-t", timeout),
                                      &s->container);
        if (r < 0)
                return r;
        r = unit_write_exec_container(f, "ExecStopPost", "-", STRV_MAKE(PODMAN, "rm", "-v", "-f", "-i"), &s->container);
        if (r < 0)
                return r;
        return unit_write_restart(f, s);
}
