/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <signal.h>

#include "exec-quote.h"
#include "fileio.h"
#include "cluster-dns.h"
#include "strv.h"
#include "time-util.h"
#include "unit-file.h"
#include "unit-syntax.h"
#include "unit-writer.h"

RenderedUnit *unit_render_free(RenderedUnit *u, size_t n) {
        if (!u)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                free(u[i].name);
                free(u[i].text);
                strv_free(u[i].instances);
                free(u[i].service);
                strv_free(u[i].depends);
        }
        return mfree(u);
}

int unit_write_exec_container(FILE *f, const char *key, const char *prefix, char *const *argv,
                              const ExecWord *container) {
        _cleanup_(exec_argv_done) ExecArgv a = {};
        int r;

        r = exec_argv_add_strv(&a, argv);
        if (r >= 0)
                r = exec_argv_add_word(&a, container);
        if (r < 0)
                return r;
        return exec_write_line(f, key, prefix, &a);
}

static int write_create(FILE *f, const char *runtime, const char *what, const char *create_option,
                        const char *create_prefix, const char *name, const ComposeResource *table, size_t n) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        r = strv_extend_strv(&argv, STRV_MAKE(runtime, what, "create"));
        if (r >= 0 && create_option)
                r = strv_extend(&argv, create_option);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (streq(table[i].name, name))
                        r = strv_extend_strv(&argv, table[i].create_args);
        if (r >= 0)
                r = strv_extend(&argv, name);
        if (r < 0)
                return r;
        return exec_write_strv(f, "ExecStartPre", create_prefix, argv);
}

int unit_write_prepare(FILE *f, const ComposeModel *m, const ComposeService *s, const char *runtime,
                       const char *create_option, const char *create_prefix) {
        int r;

        STRV_FOREACH(n, s->networks) {
                r = write_create(f, runtime, "network", create_option, create_prefix, *n, m->networks,
                                 m->n_networks);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(v, s->volumes) {
                r = write_create(f, runtime, "volume", create_option, create_prefix, *v, m->volumes,
                                 m->n_volumes);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->mkdirs.n; i++) {
                _cleanup_(exec_argv_done) ExecArgv argv = {};

                r = exec_argv_add_strv(&argv, STRV_MAKE("/usr/bin/mkdir", "-p"));
                if (r >= 0)
                        r = exec_argv_add_word(&argv, s->mkdirs.words + i);
                if (r >= 0)
                        r = exec_write_line(f, "ExecStartPre", NULL, &argv);
                if (r < 0)
                        return r;
        }
        if (s->pull_always)
                return exec_write_strv(f, "ExecStartPre", NULL, STRV_MAKE(runtime, "pull", s->image));
        return 0;
}

static void write_usec(FILE *f, const char *key, uint64_t usec) {
        if (usec == INFINITY_U64)
                fprintf(f, "%s=infinity\n", key);
        else if (usec % USEC_PER_SEC == 0)
                fprintf(f, "%s=%" PRIu64 "s\n", key, usec / USEC_PER_SEC);
        else
                fprintf(f, "%s=%" PRIu64 "ms\n", key, DIV_ROUND_UP(usec, USEC_PER_MSEC));
}

int unit_write_stop(FILE *f, const ComposeService *s) {
        /* systemd's limit on the whole stop, past the grace period the runtime's own "stop -t"
         * gives the container: the runtime still kills it, tears down its network and removes
         * it, and under podman on a loaded machine that took more than 5 s after the grace period
         * (issue 13's rolling-update benchmark, load 16). A stop that hangs delays only its own
         * unit; one cut short fails the unit and may leave the container behind. */
        fprintf(f, "TimeoutStopSec=%" PRIu64 "\n", s->stop_timeout_sec + UNIT_STOP_MARGIN_SEC);

        /* The stopped container's exit status is the unit's: death by the stop signal is how a
         * container that does not catch it ends, not a failure. */
        int signo = s->stop_signo > 0 ? s->stop_signo : SIGTERM;

        fprintf(f, "SuccessExitStatus=%d%s\n", 128 + signo, signo == SIGTERM ? "" : " 143");
        return ferror(f) ? -EIO : 0;
}

int unit_write_wait_healthy(FILE *f, const char *runtime, const ExecWord *container) {
        _cleanup_(exec_argv_done) ExecArgv argv = {};
        _cleanup_(exec_word_done) ExecWord script = {};
        _cleanup_free_ char *before = NULL;
        int r;

        /* Both runtimes answer State.Health.Status (podman since 4.3); neither tells systemd. */
        if (asprintf(&before, "until [ \"$(%s inspect -f '{{.State.Health.Status}}' ", runtime) < 0)
                return -ENOMEM;
        r = exec_word_wrap(&script, before, container, " 2>/dev/null)\" = healthy ]; do sleep 1; done");
        if (r >= 0)
                r = exec_argv_add_strv(&argv, STRV_MAKE("/bin/sh", "-c"));
        if (r >= 0)
                r = exec_argv_add_word(&argv, &script);
        if (r < 0)
                return r;
        return exec_write_line(f, "ExecStartPost", NULL, &argv);
}

int unit_write_restart(FILE *f, const ComposeService *s) {
        if (s->restart)
                fprintf(f, "Restart=%s\n", s->restart);
        if (s->restart_usec != UNSET_U64)
                write_usec(f, "RestartSec", s->restart_usec);
        return ferror(f) ? -EIO : 0;
}

static int write_unit_section(FILE *f, const ComposeModel *m, const ComposeService *s) {
        _cleanup_strv_free_ char **after = NULL, **requires = NULL, **binds = NULL, **wants = NULL;
        int r;

        /* Names are checked to be plain; an image reference may still hold a "%". */
        fprintf(f, "[Unit]\nDescription=%s %s (", m->project->name, s->name);
        for (const char *c = s->image; *c; c++)
                fputs(*c == '%' ? "%%" : (char[]) { *c, 0 }, f);
        fputs(")\n", f);
        fputs("Wants=network-online.target\nAfter=network-online.target\n", f);

        for (size_t i = 0; i < s->n_depends; i++) {
                const ComposeDepend *d = s->depends + i;
                const ComposeService *t = compose_model_find(m, d->service);
                _cleanup_strv_free_ char **units = NULL;

                r = compose_service_instances(t, &units);
                if (r < 0)
                        return r;
                r = strv_extend_strv(&after, units);
                if (r < 0)
                        return r;
                /* Requires= on a unit that is not loaded on this machine fails the start: only a
                 * dependency pinned next to this one (MachineOf=) can be required; others are
                 * wanted, which orders them when they happen to share the machine. */
                bool pinned = d->colocate && !t->global && !s->global && !strchr(t->unit, '@');
                r = strv_extend_strv(!d->required || !pinned ? &wants : d->restart ? &binds : &requires, units);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(u, after)
                fprintf(f, "After=%s\n", *u);
        STRV_FOREACH(u, requires)
                fprintf(f, "Requires=%s\n", *u);
        STRV_FOREACH(u, binds)
                fprintf(f, "BindsTo=%s\n", *u);
        STRV_FOREACH(u, wants)
                fprintf(f, "Wants=%s\n", *u);

        if (s->start_limit_burst > 0)
                fprintf(f, "StartLimitBurst=%u\n", s->start_limit_burst);
        if (s->start_limit_interval_usec != UNSET_U64)
                write_usec(f, "StartLimitIntervalSec", s->start_limit_interval_usec);
        return ferror(f) ? -EIO : 0;
}

/* Text from outside (a file name) in a comment line: control characters escaped, so that it cannot
 * end the comment and start a line of its own. */
static void write_comment_text(FILE *f, const char *text) {
        for (const char *c = text; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f || *c == '\\')
                        fprintf(f, "\\x%02x", (unsigned char) *c);
                else
                        fputc(*c, f);
}

/* What the agent publishes as this container's names (lib/service-names.h): only for a service on
 * the cluster network. */
static int write_network_section(FILE *f, const ComposeModel *m, const ComposeService *s) {
        _cleanup_free_ char *networks = NULL, *aliases = NULL, *container = NULL;

        if (!s->scopes)
                return 0;
        networks = strv_join(s->scopes, " ");
        aliases = strv_join(s->aliases, " ");
        if (!networks || (s->aliases && !aliases))
                return -ENOMEM;
        /* A replica's container name ends in %i, as in ExecStart= (the agent expands it for each
         * instance). */
        if (exec_word_to_setting(&s->container, &container) < 0)
                return -ENOMEM;
        fprintf(f, "\n[" CLUSTER_DNS_SECTION "]\nProject=%s\nService=%s\nContainer=%s", m->project->name, s->name,
                container);
        fprintf(f, "\nRuntime=%s\nNetworks=%s\n", runtime_to_string(m->runtime), networks);
        if (!isempty(aliases))
                fprintf(f, "Aliases=%s\n", aliases);
        if (s->hostname)
                fprintf(f, "Hostname=%s\n", s->hostname);
        if (s->has_healthcheck)
                fputs("Healthcheck=yes\n", f);
        return ferror(f) ? -EIO : 0;
}

/* A section of ready "Key=Value" lines; none, no section. */
static void write_lines_section(FILE *f, const char *name, char **lines) {
        if (!lines)
                return;
        fprintf(f, "\n[%s]\n", name);
        STRV_FOREACH(x, lines)
                fprintf(f, "%s\n", *x);
}

int unit_render(const ComposeModel *m, const ComposeService *s, char **ret) {
        _cleanup_free_ char *buf = NULL, *files = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        int r;

        assert(m);
        assert(s);
        assert(ret);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        files = strv_join(m->project->files, ", ");
        if (!files)
                return -ENOMEM;
        fputs(UNIT_RENDER_HEADER " from ", f);
        write_comment_text(f, files);
        fputs("; do not edit.\n", f);
        fprintf(f, "# Service \"%s\" of compose project \"%s\", runtime %s.\n\n", s->name, m->project->name,
                runtime_to_string(m->runtime));

        r = write_unit_section(f, m, s);
        if (r < 0)
                return r;

        fputs("\n[Service]\n", f);
        r = m->runtime == RUNTIME_PODMAN ? runtime_podman_write_service(f, m, s) :
                runtime_docker_write_service(f, m, s);
        if (r < 0)
                return r;

        write_lines_section(f, "Install", s->install);
        write_lines_section(f, "X-Fleet", s->xfleet);

        r = write_network_section(f, m, s);
        if (r < 0)
                return r;

        r = fflush_and_check(f);
        if (r < 0)
                return r;
        f = (fclose(f), NULL);
        if (size > UNIT_FILE_SIZE_MAX)
                return -EFBIG;
        /* Nothing taken from the compose files may have started a line of its own. */
        r = unit_file_check_written(buf, size);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

bool unit_render_is_for_project(const char *text, const char *project) {
        _cleanup_free_ char *marker = NULL;

        if (!startswith(text, UNIT_RENDER_HEADER) || asprintf(&marker, "\" of compose project \"%s\", runtime ", project) < 0)
                return false;
        return strstr(text, marker);
}

int unit_render_all(const ComposeModel *m, Diag *d, RenderedUnit **ret, size_t *ret_n) {
        RenderedUnit *units;
        size_t n = 0;
        int r;

        units = new0(RenderedUnit, m->n_services);
        if (!units)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_services; i++) {
                const ComposeService *s = m->services + i;

                units[i].name = strdup(s->unit);
                n++;
                if (!units[i].name) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = unit_render(m, s, &units[i].text);
                if (r == -EFBIG || r == -EBADMSG) {
                        _cleanup_free_ char *key = NULL;

                        if (asprintf(&key, "services.%s", s->name) < 0)
                                r = -ENOMEM;
                        else if (r == -EFBIG)
                                r = diag_error(d, s->node, key, "its unit %s would be larger than the %u bytes a "
                                               "unit file may have", s->unit, UNIT_FILE_SIZE_MAX);
                        else
                                r = diag_error(d, s->node, key, "its unit %s does not read back as it was written",
                                               s->unit);
                }
                if (r < 0)
                        goto fail;
                r = compose_service_instances(s, &units[i].instances);
                if (r < 0)
                        goto fail;
                units[i].service = strdup(s->name);
                if (!units[i].service) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t j = 0; j < s->n_depends; j++)
                        if (!strv_contains(units[i].depends, s->depends[j].service) &&
                            strv_extend(&units[i].depends, s->depends[j].service) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                units[i].update = s->update;
                units[i].rollback = s->rollback;
        }
        *ret = units;
        *ret_n = n;
        return 0;
fail:
        unit_render_free(units, n);
        return r;
}
