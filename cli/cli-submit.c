/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <libgen.h>

#include "cluster.h"
#include "cli-submit.h"
#include "cli-units.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"
#include "unit-name.h"

typedef struct Pending {
        RegistryUnit **units;           /* to write, owned */
        ClusterUnitWrite *writes;
        size_t n, n_allocated, n_writes_allocated;
} Pending;

static void pending_done(Pending *p) {
        for (size_t i = 0; i < p->n; i++)
                registry_unit_free(p->units[i]);
        free(p->units);
        free(p->writes);
}

static int pending_add(Pending *p, RegistryUnit *u, int64_t expected_mod_revision) {
        if (!GREEDY_REALLOC(p->units, p->n_allocated, p->n + 1) ||
            !GREEDY_REALLOC(p->writes, p->n_writes_allocated, p->n + 1)) {
                registry_unit_free(u);
                return -ENOMEM;
        }
        p->units[p->n] = u;
        p->writes[p->n] = (ClusterUnitWrite) { .unit = u, .expected_mod_revision = expected_mod_revision };
        p->n++;
        return 0;
}

/* The unit from the local file arg, or for an instance from its template next to that file.
 * -ENOENT if neither exists. */
static int unit_from_disk(const char *name, const char *arg, RegistryUnit **ret) {
        _cleanup_free_ char *error = NULL, *template = NULL, *dir_copy = NULL, *path = NULL;
        int r;

        r = cli_unit_from_file(name, arg, ret, &error);
        if (r == -EINVAL)
                return log_error_errno(r, "Invalid unit file %s: %s", arg, strna(error));
        if (r != -ENOENT) {
                if (r < 0)
                        return log_error_errno(r, "Failed to read unit file %s: %m", arg);
                return 0;
        }
        if (!unit_name_is_instance(name))
                return -ENOENT;

        r = unit_name_template_of(name, &template);
        if (r < 0)
                return log_oom();
        dir_copy = strdup(arg);
        if (!dir_copy)
                return log_oom();
        if (asprintf(&path, "%s/%s", dirname(dir_copy), template) < 0)
                return log_oom();

        r = cli_unit_from_file(name, path, ret, &error);
        if (r == -EINVAL)
                return log_error_errno(r, "Invalid unit file %s for %s: %s", path, name, strna(error));
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read unit file %s: %m", path);
        return r;
}

/* An instance the cluster does not know, from its template in the cluster. -ENOENT if none. */
static int unit_from_cluster_template(const ClusterSnapshot *s, const char *name, RegistryUnit **ret) {
        _cleanup_free_ char *template = NULL, *error = NULL;
        ClusterUnit *t;
        int r;

        if (!unit_name_is_instance(name))
                return -ENOENT;
        r = unit_name_template_of(name, &template);
        if (r < 0)
                return log_oom();
        t = cluster_snapshot_unit(s, template);
        if (!t)
                return -ENOENT;

        r = cli_unit_from_text(name, t->unit->raw, strlen(t->unit->raw), ret, &error);
        if (r == -EINVAL)
                return log_error_errno(r, "Cannot instantiate %s from %s: %s", name, template, strna(error));
        if (r < 0)
                return log_oom();
        return 0;
}

static int submit_one(const ClusterSnapshot *s, const char *arg, const char *name, SubmitMode mode,
                      Pending *p, char ***created) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        const ClusterProblem *problem;
        ClusterUnit *existing;
        int r;

        if (mode == SUBMIT_ACTIVATE && unit_name_is_template(name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unable to schedule template unit %s: templates can only be submitted",
                                       name);

        existing = cluster_snapshot_unit(s, name);
        if (existing) {
                /* A unit the cluster has: only --replace changes its body. */
                r = unit_from_disk(name, arg, &u);
                if (r == -ENOENT) {
                        if (arg_replace)
                                return log_error_errno(r, "Unable to replace unit %s: no local unit file %s",
                                                       name, arg);
                        return 0;
                }
                if (r < 0)
                        return r;
                if (streq(u->hash, existing->unit->hash))
                        return 0;
                if (!arg_replace) {
                        log_warning("WARNING: Unit %s in registry differs from local unit file %s", name, arg);
                        return 0;
                }
                u->desired = existing->unit->desired;
                return pending_add(p, TAKE_PTR(u), existing->mod_revision);
        }

        problem = cluster_snapshot_unit_problem(s, name);
        if (problem) {
                /* A broken record in the way: only --replace overwrites it (at the revision read). */
                if (!arg_replace)
                        return fleetctl_log_missing_unit(s, name);
                r = unit_from_disk(name, arg, &u);
                if (r == -ENOENT)
                        return log_error_errno(r, "Unable to replace unit %s: no local unit file %s", name, arg);
                if (r < 0)
                        return r;
                log_notice("Replacing the malformed record of unit %s.", name);
                return pending_add(p, TAKE_PTR(u), problem->mod_revision);
        }

        r = unit_from_disk(name, arg, &u);
        if (r == -ENOENT)
                r = unit_from_cluster_template(s, name, &u);
        if (r == -ENOENT)
                return log_error_errno(r, "Unable to find unit %s in the cluster or on disk (%s)", name, arg);
        if (r < 0)
                return r;

        r = strv_extend(created, name);
        if (r < 0)
                return log_oom();
        return pending_add(p, TAKE_PTR(u), 0);
}

/* The cluster-wide budget for unit texts (REGISTRY_UNITS_BUDGET): what the cluster holds, with the
 * units about to be written in place of their old texts, must fit. Names the unit that passes it. */
static int check_units_budget(const ClusterSnapshot *s, const Pending *p) {
        uint64_t total = 0;

        for (size_t i = 0; i < s->n_units; i++)
                total += strlen(s->units[i].unit->raw);

        for (size_t i = 0; i < p->n; i++) {
                const ClusterUnit *old = cluster_snapshot_unit(s, p->units[i]->name);
                size_t size = strlen(p->units[i]->raw), old_size = old ? strlen(old->unit->raw) : 0;

                total = total - old_size + size;
                /* A cluster past the budget (written around fleetctl) may still shrink. */
                if (total > REGISTRY_UNITS_BUDGET && size > old_size)
                        return log_error_errno(SYNTHETIC_ERRNO(EFBIG),
                                               "Unit %s (%zu bytes) would bring the units in the cluster to %" PRIu64
                                               " bytes, past the cluster-wide budget of %u bytes (%u MiB) for all "
                                               "unit files together; nothing was submitted.",
                                               p->units[i]->name, size, total, REGISTRY_UNITS_BUDGET,
                                               REGISTRY_UNITS_BUDGET / (1024U * 1024U));
        }
        return 0;
}

int cli_submit_units(EtcdClient *c, char *const *args, SubmitMode mode, char ***ret_names, char ***ret_created) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **expanded = NULL, **names = NULL, **created = NULL;
        _cleanup_(pending_done) Pending p = {};
        int r;

        assert(ret_names);

        r = fleetctl_expand_args(args, &expanded);
        if (r < 0)
                return r;

        names = new0(char *, 1);
        created = new0(char *, 1);
        if (!names || !created)
                return log_oom();

        /* Names first: a bad one fails the command before etcd is even asked. */
        STRV_FOREACH(a, expanded) {
                _cleanup_free_ char *name = NULL;
                const char *reason = NULL;

                r = cli_unit_name_from_arg(*a, &name, &reason);
                if (r == -EINVAL)
                        return log_error_errno(r, "Invalid unit name \"%s\": %s", *a, reason);
                if (r < 0)
                        return log_oom();
                if (unit_name_is_fleet_own(name))
                        return log_error_errno(SYNTHETIC_ERRNO(EPERM), "Unit %s is fleet's own unit on every machine; "
                                               "fleet will not run a submitted unit by that name.", name);
                r = strv_consume(&names, TAKE_PTR(name));
                if (r < 0)
                        return log_oom();
        }

        r = cluster_snapshot_load(c, arg_etcd_key_prefix, &s);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "read the units in the cluster");
        fleetctl_report_problems(s);

        for (size_t i = 0; names[i]; i++) {
                /* The same unit twice (e.g. a file and its name): the first argument counts. */
                if (strv_index(names, names[i]) < (ssize_t) i)
                        continue;
                r = submit_one(s, expanded[i], names[i], mode, &p, &created);
                if (r < 0)
                        return r;
        }

        r = check_units_budget(s, &p);
        if (r < 0)
                return r;

        r = cluster_units_write(c, arg_etcd_key_prefix, p.writes, p.n);
        if (r == -EEXIST)
                return log_error_errno(r, "Units changed in the cluster meanwhile; nothing was submitted, try again.");
        if (r < 0)
                return fleetctl_log_etcd_error(r, "submit units");
        for (size_t i = 0; i < p.n; i++)
                log_debug("Wrote unit %s (%s) to the cluster.", p.units[i]->name, p.units[i]->hash);

        *ret_names = strv_dedup(TAKE_PTR(names));
        if (ret_created)
                *ret_created = TAKE_PTR(created);
        return 0;
}
