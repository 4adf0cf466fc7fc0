/* SPDX-License-Identifier: Apache-2.0 */

#include <limits.h>
#include <time.h>

#include "cli-units.h"
#include "cli-wait.h"
#include "compose-up.h"
#include "fleetctl.h"
#include "log.h"
#include "objects.h"
#include "service-names.h"
#include "strv.h"
#include "time-util.h"
#include "unit-name.h"

void compose_units_done(ComposeUnits *cu) {
        unit_render_free(cu->units, cu->n_units);
        compose_objects_free(cu->objects, cu->n_objects);
        free(cu->project);
        *cu = (ComposeUnits) {};
}

/* The compose project unitgen wrote into the unit's [X-Fleet-Network] section (comments, where
 * unitgen's header names it too, are not kept in the registry). */
static bool unit_of_project(const RegistryUnit *u, const char *project) {
        _cleanup_(service_names_spec_freep) ServiceNamesSpec *spec = NULL;
        _cleanup_(unit_file_freep) UnitFile *f = NULL;

        if (unit_file_parse(u->raw, strlen(u->raw), &f, NULL) < 0 ||
            service_names_spec_parse(f, u->name, &spec, NULL) < 0 || !spec)
                return false;
        return streq(spec->project, project);
}

int compose_project_units(const ClusterSnapshot *s, const char *project, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *prefix = NULL;

        names = new0(char *, 1);
        if (!names || asprintf(&prefix, "%s-", project) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_units; i++) {
                const RegistryUnit *u = s->units[i].unit;

                /* The section tells project "a" from project "a-b", whose units also start "a-". */
                if (!startswith(u->name, prefix) || !unit_of_project(u, project))
                        continue;
                if (strv_extend(&names, u->name) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static bool selected(const ComposeUnits *cu, const RenderedUnit *ru) {
        return !cu->only_services || strv_contains(cu->only_services, ru->service);
}

/* Whether name is ru's unit, or an instance of ru's template (a surge instance too). */
static bool rendered_owns(const RenderedUnit *ru, const char *name) {
        _cleanup_free_ char *template = NULL;

        if (streq(ru->name, name))
                return true;
        return unit_name_is_template(ru->name) && unit_name_is_instance(name) &&
               unit_name_template_of(name, &template) >= 0 && streq(template, ru->name);
}

bool compose_units_owns(const ComposeUnits *cu, const char *name) {
        for (size_t i = 0; i < cu->n_units; i++)
                if (selected(cu, cu->units + i) && rendered_owns(cu->units + i, name))
                        return true;
        return false;
}

/* The record of name (a unit, or an instance of the template ru renders) with ru's text. */
static int unit_record(const RenderedUnit *ru, const char *name, RegistryUnit **ret) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = cli_unit_from_text(name, ru->text, strlen(ru->text), ret, &error);
        if (r == -EINVAL)
                return log_error_errno(r, "Unit %s of service %s is not valid: %s", name, ru->service, strna(error));
        if (r < 0)
                return log_oom();
        return 0;
}

typedef struct Change {
        char *name;
        RegistryUnit *new;              /* the body from the file */
        RegistryUnit *old;              /* the body in the cluster, for a rollback */
} Change;

typedef struct Rollout {
        const RenderedUnit *ru;
        Change *changes;
        size_t n_changes, n_changes_allocated;
        unsigned n_units;               /* the service's units (replicas) */
} Rollout;

typedef struct Plan {
        RegistryUnit **create;          /* new units (and changed templates), written in one go */
        int64_t *create_revisions;      /* 0, or the template's revision to replace */
        size_t n_create, n_create_allocated, n_revisions_allocated;
        char **start;                   /* units to (re)start: new ones and stopped ones */
        char **wait;                    /* of those, the ones to wait for */
        Rollout *rollouts;
        size_t n_rollouts, n_rollouts_allocated;
        char **orphans;
} Plan;

static void plan_done(Plan *p) {
        for (size_t i = 0; i < p->n_create; i++)
                registry_unit_free(p->create[i]);
        free(p->create);
        free(p->create_revisions);
        strv_free(p->start);
        strv_free(p->wait);
        for (size_t i = 0; i < p->n_rollouts; i++) {
                for (size_t j = 0; j < p->rollouts[i].n_changes; j++) {
                        free(p->rollouts[i].changes[j].name);
                        registry_unit_free(p->rollouts[i].changes[j].new);
                        registry_unit_free(p->rollouts[i].changes[j].old);
                }
                free(p->rollouts[i].changes);
        }
        free(p->rollouts);
        strv_free(p->orphans);
}

static int plan_create(Plan *p, RegistryUnit *u, int64_t revision) {
        if (!GREEDY_REALLOC(p->create, p->n_create_allocated, p->n_create + 1) ||
            !GREEDY_REALLOC(p->create_revisions, p->n_revisions_allocated, p->n_create + 1)) {
                registry_unit_free(u);
                return log_oom();
        }
        p->create[p->n_create] = u;
        p->create_revisions[p->n_create++] = revision;
        return 0;
}

static int plan_change(Rollout *ro, const char *name, RegistryUnit *new, const ClusterUnit *existing) {
        _cleanup_(registry_unit_freep) RegistryUnit *n = new, *old = NULL;
        _cleanup_free_ char *error = NULL, *copy = NULL;
        int r;

        r = cli_unit_from_text(name, existing->unit->raw, strlen(existing->unit->raw), &old, &error);
        if (r < 0)
                return log_error_errno(r, "Unit %s in the cluster does not parse (%s); destroy it first.", name, strna(error));
        copy = strdup(name);
        if (!copy || !GREEDY_REALLOC(ro->changes, ro->n_changes_allocated, ro->n_changes + 1))
                return log_oom();
        n->desired = old->desired = existing->unit->desired;
        ro->changes[ro->n_changes++] = (Change) { .name = TAKE_PTR(copy), .new = TAKE_PTR(n), .old = TAKE_PTR(old) };
        return 0;
}

/* One rendered unit: its template (written when new or changed, never started) and its units. */
static int plan_rendered(Plan *p, const ClusterSnapshot *s, const RenderedUnit *ru) {
        Rollout ro = { .ru = ru };
        int r;

        if (unit_name_is_template(ru->name)) {
                _cleanup_(registry_unit_freep) RegistryUnit *t = NULL;
                ClusterUnit *existing = cluster_snapshot_unit(s, ru->name);

                r = unit_record(ru, ru->name, &t);
                if (r < 0)
                        return r;
                if (!existing || !streq(existing->unit->hash, t->hash)) {
                        r = plan_create(p, TAKE_PTR(t), existing ? existing->mod_revision : 0);
                        if (r < 0)
                                return r;
                }
        }

        STRV_FOREACH(n, ru->instances) {
                _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
                ClusterUnit *existing = cluster_snapshot_unit(s, *n);

                ro.n_units++;
                r = unit_record(ru, *n, &u);
                if (r < 0)
                        goto fail;
                if (!existing) {
                        u->desired = UNIT_DESIRED_LAUNCHED;
                        r = plan_create(p, TAKE_PTR(u), 0);
                        if (r >= 0 && (strv_extend(&p->start, *n) < 0 || strv_extend(&p->wait, *n) < 0))
                                r = log_oom();
                } else if (streq(existing->unit->hash, u->hash)) {
                        /* Unchanged: left alone; started if stopped, as docker compose up does. */
                        if (existing->unit->desired != UNIT_DESIRED_LAUNCHED &&
                            (strv_extend(&p->start, *n) < 0 || strv_extend(&p->wait, *n) < 0))
                                r = log_oom();
                } else
                        r = plan_change(&ro, *n, TAKE_PTR(u), existing);
                if (r < 0)
                        goto fail;
        }

        if (ro.n_changes == 0)
                return 0;
        if (!GREEDY_REALLOC(p->rollouts, p->n_rollouts_allocated, p->n_rollouts + 1)) {
                r = log_oom();
                goto fail;
        }
        p->rollouts[p->n_rollouts++] = ro;
        return 0;
fail:
        for (size_t j = 0; j < ro.n_changes; j++) {
                free(ro.changes[j].name);
                registry_unit_free(ro.changes[j].new);
                registry_unit_free(ro.changes[j].old);
        }
        free(ro.changes);
        return r;
}

static int plan_build(const ComposeUnits *cu, const ClusterSnapshot *s, Plan *p) {
        _cleanup_strv_free_ char **mine = NULL;
        int r;

        for (size_t i = 0; i < cu->n_units; i++) {
                if (!selected(cu, cu->units + i))
                        continue;
                r = plan_rendered(p, s, cu->units + i);
                if (r < 0)
                        return r;
        }

        /* Orphans: the project's units that no rendered unit stands for (its instances beyond the
         * replicas too). Only when the whole file is up: a SERVICE operand says nothing of the rest. */
        if (cu->only_services)
                return 0;
        r = compose_project_units(s, cu->project, &mine);
        if (r < 0)
                return log_oom();
        STRV_FOREACH(n, mine) {
                bool wanted = false;

                for (size_t i = 0; i < cu->n_units && !wanted; i++)
                        wanted = streq(cu->units[i].name, *n) || strv_contains(cu->units[i].instances, *n);
                if (!wanted && strv_extend(&p->orphans, *n) < 0)
                        return log_oom();
        }
        return 0;
}

static int write_units(EtcdClient *c, RegistryUnit *const *units, const int64_t *revisions, size_t n) {
        _cleanup_free_ ClusterUnitWrite *w = NULL;
        int r;

        if (n == 0)
                return 0;
        w = new0(ClusterUnitWrite, n);
        if (!w)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                w[i] = (ClusterUnitWrite) { .unit = units[i], .expected_mod_revision = revisions[i] };
        r = cluster_units_write(c, arg_etcd_key_prefix, w, n);
        if (r == -EEXIST)
                return log_error_errno(r, "Units of the project changed in the cluster meanwhile; run compose up again.");
        if (r < 0)
                return fleetctl_log_etcd_error(r, "write units");
        for (size_t i = 0; i < n; i++)
                log_debug("Wrote unit %s (%s).", units[i]->name, units[i]->hash);
        return 0;
}

/* Replace the bodies of units (each by name, at its current revision) with bodies[i]. */
static int replace_bodies(EtcdClient *c, RegistryUnit *const *bodies, size_t n) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_free_ int64_t *revisions = NULL;
        int r;

        r = fleetctl_snapshot("read the units in the cluster", NULL, &s);
        if (r < 0)
                return r;
        revisions = new0(int64_t, n);
        if (!revisions)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                ClusterUnit *u = cluster_snapshot_unit(s, bodies[i]->name);

                if (!u)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Unit %s was destroyed during the update.", bodies[i]->name);
                revisions[i] = u->mod_revision;
        }
        return write_units(c, bodies, revisions, n);
}

static int attempts_left(uint64_t deadline) {
        uint64_t n = now(CLOCK_MONOTONIC);

        if (deadline == 0)
                return 0;
        if (n >= deadline)
                return 1;
        return (int) MIN(DIV_ROUND_UP(deadline - n, CLI_WAIT_INTERVAL_USEC), (uint64_t) INT_MAX);
}

/* Wait until every unit of names runs the body hashes[i] and has been ready for monitor, or
 * failed with it. *ret_failed counts the failures. */
typedef struct ReadyWait {
        char *const *names;
        char *const *hashes;
        uint64_t *ready_since;
        bool *done;
        uint64_t monitor_usec;
        unsigned n_failed;
        char **failed;
} ReadyWait;

static int ready_check(const ClusterSnapshot *s, void *userdata) {
        ReadyWait *w = userdata;
        bool all = true;
        int r;

        for (size_t i = 0; w->names[i]; i++) {
                RegistryUnitState *st;
                CliUnitProgress pr;

                if (w->done[i])
                        continue;
                /* The agent reports a replaced unit's state under the old body's hash until its
                 * restart onto the new one finished: the old copy stopped (killed, failed) or still
                 * active is never taken for the new body. */
                pr = cli_unit_progress(s, w->names[i], w->hashes[i], &st, NULL);
                /* Ready, then not within monitor: it stopped or restarted with the new body, as a
                 * swarm task that fails while monitored. */
                if (pr == CLI_UNIT_PENDING && w->ready_since[i] != 0)
                        pr = CLI_UNIT_FAILED;
                if (pr == CLI_UNIT_FAILED) {
                        _cleanup_free_ char *msg = NULL;

                        r = cli_unit_failed_message(s, w->names[i], st, &msg);
                        if (r < 0)
                                return r;
                        fprintf(stderr, "%s\n", msg);
                        w->done[i] = true;
                        w->n_failed++;
                        if (strv_extend(&w->failed, w->names[i]) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (pr != CLI_UNIT_READY) {
                        all = false;
                        continue;
                }
                if (w->ready_since[i] == 0)
                        w->ready_since[i] = now(CLOCK_MONOTONIC);
                if (now(CLOCK_MONOTONIC) - w->ready_since[i] < w->monitor_usec) {
                        all = false;
                        continue;
                }
                w->done[i] = true;
                printf("Unit %s ready (%.12s)\n", w->names[i], w->hashes[i]);
                fflush(stdout);
        }
        return all;
}

static int wait_ready(EtcdClient *c, char *const *names, char *const *hashes, uint64_t monitor_usec,
                      uint64_t deadline, unsigned *ret_failed, char ***ret_failed_names) {
        size_t n = strv_length(names);
        _cleanup_free_ uint64_t *since = new0(uint64_t, n + 1);
        _cleanup_free_ bool *done = new0(bool, n + 1);
        ReadyWait w = { .names = names, .hashes = hashes, .ready_since = since, .done = done,
                        .monitor_usec = monitor_usec };
        int r;

        if (!since || !done)
                return log_oom();
        r = cli_wait_until(c, arg_etcd_key_prefix, attempts_left(deadline), ready_check, &w);
        *ret_failed = w.n_failed;
        if (ret_failed_names)
                *ret_failed_names = TAKE_PTR(w.failed);
        strv_free(w.failed);
        if (r == -ETIME) {
                for (size_t i = 0; i < n; i++)
                        if (!done[i])
                                fprintf(stderr, "Timed out waiting for unit %s to run %.12s.\n", names[i], hashes[i]);
                return r;
        }
        if (r < 0)
                return fleetctl_log_etcd_error(r, "wait for the units");
        return 0;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts;

        timespec_store(&ts, usec);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Whether anything of name is left in the cluster: its unit, an assignment or a state record (a
 * destroyed unit's state stays until its agent has stopped it, and may be "failed"). */
static bool name_in_use(const ClusterSnapshot *s, const char *name) {
        if (cluster_snapshot_unit(s, name) || cluster_snapshot_assignment(s, name))
                return true;
        for (size_t i = 0; i < s->n_states; i++)
                if (streq(s->states[i]->unit, name))
                        return true;
        return false;
}

/* The surge instances "<prefix>@<k>.service", k counting up from *next (replicas+1 at the start of
 * an update), skipping names in use; *next is moved past the last one. Never one name twice within
 * an update: a surge instance destroyed after its batch may still be stopping when the next batch
 * starts, and the same name with the same body (hence hash) would let the wait take that copy's
 * state, failed by its stop, for the new copy's. */
static int surge_names(const ClusterSnapshot *s, const char *template, unsigned *next, size_t n, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *prefix = NULL;
        int r;

        r = unit_name_to_prefix(template, &prefix);
        if (r < 0)
                return log_oom();
        for (; strv_length(l) < n; (*next)++) {
                _cleanup_free_ char *name = NULL;

                if (asprintf(&name, "%s@%u.service", prefix, *next) < 0)
                        return log_oom();
                if (name_in_use(s, name))
                        continue;
                if (strv_consume(&l, TAKE_PTR(name)) < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Start-first: extra instances with the new bodies, ready before the batch is touched. */
static int surge_start(EtcdClient *c, const Rollout *ro, size_t n, unsigned *next, uint64_t deadline,
                       char ***ret_surge) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **names = NULL, **hashes = NULL;
        RegistryUnit **units = NULL;
        _cleanup_free_ int64_t *revisions = NULL;
        unsigned failed = 0;
        int r;

        r = fleetctl_snapshot("read the units in the cluster", NULL, &s);
        if (r < 0)
                return r;
        r = surge_names(s, ro->ru->name, next, n, &names);
        if (r < 0)
                return r;
        units = new0(RegistryUnit *, n);
        revisions = new0(int64_t, n);
        if (!units || !revisions) {
                free(units);
                return log_oom();
        }
        for (size_t i = 0; i < n; i++) {
                r = unit_record(ro->ru, names[i], &units[i]);
                if (r < 0)
                        goto finish;
                units[i]->desired = UNIT_DESIRED_LAUNCHED;
                if (strv_extend(&hashes, units[i]->hash) < 0) {
                        r = log_oom();
                        goto finish;
                }
        }
        /* Before they exist: an interrupted update leaves them as orphans that --remove-orphans finds. */
        *ret_surge = strv_copy(names);
        if (!*ret_surge) {
                r = log_oom();
                goto finish;
        }
        r = write_units(c, units, revisions, n);
        if (r < 0)
                goto finish;
        printf("Started %zu extra instance(s) of %s first (start-first).\n", n, ro->ru->service);
        fflush(stdout);
        r = wait_ready(c, names, hashes, 0, deadline, &failed, NULL);
        if (r >= 0 && failed > 0)
                r = log_error_errno(SYNTHETIC_ERRNO(ENOEXEC), "The new version of %s does not start.", ro->ru->service);
finish:
        for (size_t i = 0; i < n; i++)
                registry_unit_free(units[i]);
        free(units);
        return r;
}

static int surge_stop(EtcdClient *c, char ***surge) {
        int r;

        if (strv_length(*surge) == 0)
                return 0;
        r = fleetctl_destroy_units(c, *surge);
        *surge = strv_free(*surge);
        return r;
}

/* Replace n changes with their new (or, rolling back, old) bodies in batches by cfg. Counts the
 * failures into *failed; *ret_done gets how many changes were written. Returns 0, 1 when
 * cfg->failure_action must act (the ratio was passed), or a negative errno. */
static int roll(EtcdClient *c, const Rollout *ro, const ComposeUpdateConfig *cfg, bool back, uint64_t deadline,
                unsigned *failed, size_t *ret_done) {
        size_t batch = cfg->parallelism > 0 ? cfg->parallelism : ro->n_changes;
        bool surge = cfg->order == UPDATE_ORDER_START_FIRST && unit_name_is_template(ro->ru->name);
        unsigned surge_next = ro->n_units + 1;
        int r;

        *ret_done = 0;
        for (size_t i = 0; i < ro->n_changes; i += batch) {
                size_t n = MIN(batch, ro->n_changes - i);
                _cleanup_strv_free_ char **names = NULL, **hashes = NULL, **extra = NULL, **bad = NULL;
                _cleanup_free_ RegistryUnit **bodies = new0(RegistryUnit *, n);
                unsigned f = 0;

                if (!bodies)
                        return log_oom();
                if (i > 0 && cfg->delay_usec > 0)
                        sleep_usec(cfg->delay_usec);

                for (size_t j = 0; j < n; j++) {
                        const Change *ch = ro->changes + i + j;

                        bodies[j] = back ? ch->old : ch->new;
                        if (strv_extend(&names, ch->name) < 0 || strv_extend(&hashes, bodies[j]->hash) < 0)
                                return log_oom();
                }
                printf("%s %s: %zu-%zu of %zu (%s)\n", back ? "Rolling back" : "Updating", ro->ru->service,
                       i + 1, i + n, ro->n_changes, update_order_to_string(cfg->order));
                fflush(stdout);

                if (surge && !back) {
                        r = surge_start(c, ro, n, &surge_next, deadline, &extra);
                        if (r < 0) {
                                (void) surge_stop(c, &extra);
                                if (r != -ENOEXEC)
                                        return r;
                                /* Nothing of the batch was touched: all of it failed. */
                                *failed += n;
                                return 1;
                        }
                }

                r = replace_bodies(c, bodies, n);
                if (r < 0)
                        return r;
                *ret_done = i + n;
                r = wait_ready(c, names, hashes, cfg->monitor_usec, deadline, &f, &bad);
                (void) surge_stop(c, &extra);
                if (r < 0)
                        return r;
                *failed += f;
                if (*failed > cfg->max_failure_ratio * ro->n_units)
                        return 1;
        }
        return 0;
}

static int rollout(EtcdClient *c, const Rollout *ro, uint64_t deadline) {
        const ComposeUpdateConfig *cfg = &ro->ru->update;
        unsigned failed = 0, rb_failed = 0;
        size_t done = 0, rb_done;
        int r;

        r = roll(c, ro, cfg, false, deadline, &failed, &done);
        if (r <= 0)
                return r;

        switch (cfg->failure_action) {
        case UPDATE_FAILURE_CONTINUE:
                log_warning("Update of %s: %u unit(s) failed; continuing (failure_action: continue).", ro->ru->service, failed);
                /* Not more than once: the rest of the units get the new body without a ratio. */
                {
                        ComposeUpdateConfig rest = *cfg;
                        Rollout tail = *ro;

                        rest.max_failure_ratio = 1e9;
                        tail.changes += done;
                        tail.n_changes -= done;
                        if (tail.n_changes > 0) {
                                r = roll(c, &tail, &rest, false, deadline, &failed, &rb_done);
                                if (r < 0)
                                        return r;
                        }
                }
                return log_error_errno(SYNTHETIC_ERRNO(ECANCELED), "Update of %s finished with %u failed unit(s).",
                                       ro->ru->service, failed);
        case UPDATE_FAILURE_ROLLBACK: {
                Rollout back = *ro;

                log_error("Update of %s failed (%u unit(s)); rolling back %zu unit(s) (failure_action: rollback).",
                          ro->ru->service, failed, done);
                back.n_changes = done;
                r = roll(c, &back, &ro->ru->rollback, true, deadline, &rb_failed, &rb_done);
                if (r < 0)
                        return r;
                if (r > 0 || rb_failed > 0)
                        return log_error_errno(SYNTHETIC_ERRNO(ECANCELED), "Rollback of %s failed too (%u unit(s)).",
                                               ro->ru->service, rb_failed);
                return log_error_errno(SYNTHETIC_ERRNO(ECANCELED), "Update of %s rolled back: every unit runs its old body.",
                                       ro->ru->service);
        }
        default:
                return log_error_errno(SYNTHETIC_ERRNO(ECANCELED),
                                       "Update of %s paused after %u failed unit(s) (failure_action: pause); %zu of %zu "
                                       "unit(s) have the new body. Fix the file and run compose up again.",
                                       ro->ru->service, failed, done, ro->n_changes);
        }
}

/* The project's secrets and configs, before any unit that refers to them; the units' references
 * get the values' digests. The manifest holds values: wiped after use. */
static int objects_up(EtcdClient *c, ComposeUnits *cu) {
        _cleanup_free_ char *manifest = NULL, *msg = NULL;
        _cleanup_free_ char **texts = NULL;
        int r;

        if (cu->n_objects == 0)
                return 0;
        r = compose_objects_manifest(cu->objects, cu->n_objects, &manifest, &msg);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", msg);
        texts = new0(char *, cu->n_units);
        if (!texts) {
                explicit_bzero(manifest, strlen(manifest));
                return log_oom();
        }
        for (size_t i = 0; i < cu->n_units; i++)
                texts[i] = cu->units[i].text;
        r = objects_compose_up(c, arg_etcd_key_prefix, manifest, strlen(manifest), fleetctl_cluster_keyring, texts,
                               cu->n_units, &msg);
        explicit_bzero(manifest, strlen(manifest));
        /* The texts that got digests were replaced (the old ones freed). */
        for (size_t i = 0; i < cu->n_units; i++)
                cu->units[i].text = texts[i];
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && msg)
                return log_error_errno(r, "%s", msg);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "create the project's secrets and configs");
        return 0;
}

int compose_up(ComposeUnits *cu, const ComposeUpOptions *o) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_(plan_done) Plan p = {};
        uint64_t deadline = o->timeout_usec > 0 ? now(CLOCK_MONOTONIC) + o->timeout_usec : 0;
        EtcdClient *c;
        int r;

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = objects_up(c, cu);
        if (r < 0)
                return r;
        r = fleetctl_snapshot("read the units in the cluster", &c, &s);
        if (r < 0)
                return r;
        r = plan_build(cu, s, &p);
        if (r < 0)
                return r;

        if (p.n_create == 0 && strv_length(p.start) == 0 && p.n_rollouts == 0)
                printf("Project %s is up to date.\n", cu->project);

        /* New units and templates in one transaction: all or nothing. */
        r = write_units(c, p.create, p.create_revisions, p.n_create);
        if (r < 0)
                return r;
        if (strv_length(p.start) > 0) {
                const char *missing = NULL;

                r = cluster_units_set_desired(c, arg_etcd_key_prefix, p.start, UNIT_DESIRED_LAUNCHED, &missing);
                if (r == -ENOENT)
                        return log_error_errno(r, "Unit %s was destroyed meanwhile.", strna(missing));
                if (r < 0)
                        return fleetctl_log_etcd_error(r, "start units");
        }
        if (!o->detach && strv_length(p.wait) > 0) {
                r = fleetctl_wait_units(c, p.wait, UNIT_DESIRED_LAUNCHED, attempts_left(deadline));
                if (r < 0)
                        return r;
        } else
                STRV_FOREACH(n, p.start)
                        printf("Triggered unit %s start\n", *n);

        /* Changed units: a rolling update per service, one service after the other. Detached,
         * nothing may wait: they are replaced at once, as docker compose up -d recreates. */
        for (size_t i = 0; i < p.n_rollouts; i++) {
                const Rollout *ro = p.rollouts + i;

                if (o->detach) {
                        _cleanup_free_ RegistryUnit **bodies = new0(RegistryUnit *, ro->n_changes);

                        if (!bodies)
                                return log_oom();
                        for (size_t j = 0; j < ro->n_changes; j++)
                                bodies[j] = ro->changes[j].new;
                        r = replace_bodies(c, bodies, ro->n_changes);
                        if (r < 0)
                                return r;
                        printf("Replaced %zu unit(s) of %s at once (detached: no rolling update)\n", ro->n_changes,
                               ro->ru->service);
                        continue;
                }
                r = rollout(c, ro, deadline);
                if (r < 0)
                        return r;
        }

        if (strv_length(p.orphans) > 0) {
                if (o->remove_orphans)
                        return fleetctl_destroy_units(c, p.orphans);
                STRV_FOREACH(n, p.orphans)
                        fprintf(stderr, "Orphan unit %s: its service is no longer in the compose file "
                                "(compose up --remove-orphans destroys it).\n", *n);
        }
        return 0;
}
