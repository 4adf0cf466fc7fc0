/* SPDX-License-Identifier: Apache-2.0 */

/* Random operations against the scheduler, with the invariants checked after every reconcile:
 * the changes it reports, applied to a shadow copy, give exactly the placements it reports; every
 * placement satisfies the unit's constraints and conflicts with nothing beside it; inactive units
 * are nowhere; unplaced wanted units have a reason; a second reconcile has nothing to do. With
 * capacity (issue 14): no machine is ever overcommitted (CPU, memory, GPUs), no machine without
 * published capacity runs a unit that reserves anything, MaxReplicasPerMachine holds, and a
 * unit (or a global unit on a machine) left out would really not fit. Half the seeds binpack. */

#include "scheduler-test.h"
#include "unit-name.h"

#define N_MACHINES 8
#define N_UNITS 24
#define STEPS 3000

static const char *const machine_ids[N_MACHINES] = {
        "0a1b2c3d00000001", "0a1b2c3d00000002", "1f2e3d4c00000003", "2a2a2a2a00000004",
        "3b3b3b3b00000005", "4c4c4c4c00000006", "5d5d5d5d00000007", "6e6e6e6e00000008",
};

#define GiB (1ULL << 30)
#define WEB_MAX_PER_MACHINE 2

typedef struct Model {
        bool machine_present[N_MACHINES];
        bool has_cap[N_MACHINES];
        Resources cap[N_MACHINES];
        char **metadata[N_MACHINES];
        bool unit_present[N_UNITS];
        XFleetOptions *options[N_UNITS];
        UnitDesiredState desired[N_UNITS];
        bool shadow[N_UNITS][N_MACHINES];
} Model;

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n) {
        return rng_next(&rng_state, n);
}

static void unit_name_of(unsigned i, char *buf, size_t size) {
        snprintf(buf, size, "%s%u.service", i % 3 == 0 ? "web@" : i % 3 == 1 ? "db-" : "job", i);
}

static int machine_index(const char *id) {
        for (int i = 0; i < N_MACHINES; i++)
                if (streq(machine_ids[i], id))
                        return i;
        return -1;
}

static int unit_index(const char *name) {
        char buf[64];

        for (int i = 0; i < N_UNITS; i++) {
                unit_name_of(i, buf, sizeof(buf));
                if (streq(buf, name))
                        return i;
        }
        return -1;
}

static char **random_metadata(void) {
        char **m = NULL;

        if (rnd(4) > 0)
                assert_se(strv_extendf(&m, "region=%s", rnd(2) ? "a" : "b") == 0);
        if (rnd(2))
                assert_se(strv_extendf(&m, "disk=%s", rnd(2) ? "ssd" : "hdd") == 0);
        return m;
}

static void random_capacity(Resources *c) {
        *c = (Resources) {
                .cpu_milli = 1000 * (1 + rnd(4)),
                .memory = GiB * (2 + rnd(4)),
        };
        assert_se(resources_add_extra(c, "gpu", rnd(3)) == 0);
}

static void random_reservation(XFleetOptions *x) {
        static const uint64_t cpus[] = { 0, 500, 1000, 1500 }, mems[] = { 0, GiB, 2 * GiB };

        if (rnd(2))
                return;
        x->reserve.cpu_milli = cpus[rnd(ELEMENTSOF(cpus))];
        x->reserve.memory = mems[rnd(ELEMENTSOF(mems))];
        if (rnd(6) == 0)
                assert_se(resources_add_extra(&x->reserve, "gpu", 1) == 0);
}

static XFleetOptions *random_options(unsigned self) {
        XFleetOptions *x = NULL;
        char other[64];

        for (;;) {
                x = xfleet_options_new();
                assert_se(x);
                random_reservation(x);
                /* Every web@ instance has the same limit, as the replicas of one service do. */
                if (self % 3 == 0)
                        x->max_per_machine = WEB_MAX_PER_MACHINE;
                unit_name_of(rnd(N_UNITS), other, sizeof(other));

                switch (rnd(9)) {
                case 0:
                        assert_se(strv_extend(&x->machine_metadata, rnd(2) ? "region=a" : "region!=b") == 0);
                        if (rnd(2))
                                assert_se(strv_extend(&x->machine_metadata, "disk=ssd") == 0);
                        break;
                case 1:
                        assert_se(strv_extend(&x->conflicts, rnd(2) ? "web@*" : "db-1*") == 0);
                        break;
                case 2:
                        assert_se(strv_extend(&x->machine_of, other) == 0);
                        break;
                case 3:
                        assert_se(strv_extend(&x->replaces, other) == 0);
                        break;
                case 4:
                        x->global = true;
                        if (rnd(2))
                                assert_se(strv_extend(&x->conflicts, "job*") == 0);
                        if (rnd(2))
                                assert_se(strv_extend(&x->machine_metadata, "region=a") == 0);
                        break;
                case 5:
                        x->machine_id = strndup(machine_ids[rnd(N_MACHINES)], rnd(2) ? 16 : 8);
                        assert_se(x->machine_id);
                        break;
                default:
                        break;
                }

                unit_name_of(self, other, sizeof(other));
                if (xfleet_options_validate(x, other, NULL) == 0)
                        return x;
                x = xfleet_options_free(x);
        }
}

static bool circular_with_placed(const Model *md, unsigned u, char *const *names) {
        for (unsigned v = 0; v < N_UNITS; v++) {
                bool placed = false;

                for (unsigned m = 0; m < N_MACHINES; m++)
                        placed = placed || md->shadow[v][m];
                if (v != u && md->unit_present[v] && placed &&
                    xfleet_globs_match(md->options[v]->replaces, names[u]) &&
                    xfleet_globs_match(md->options[u]->replaces, names[v]))
                        return true;
        }
        return false;
}

/* Whether u's reservation fits on m beside the units placed there (in the shadow) other than u,
 * counting only global units before limit_global by name if that is set. */
static bool check_room(const Model *md, unsigned u, unsigned m, char *const *names, const char *limit_global) {
        const Resources *need = &md->options[u]->reserve;
        uint64_t cpu = 0, mem = 0, gpu = 0;

        if (resources_is_empty(need))
                return true;
        if (!md->has_cap[m])
                return false;
        for (unsigned v = 0; v < N_UNITS; v++) {
                if (v == u || !md->unit_present[v] || !md->shadow[v][m])
                        continue;
                if (limit_global && md->options[v]->global && strcmp(names[v], limit_global) > 0)
                        continue;
                cpu += md->options[v]->reserve.cpu_milli;
                mem += md->options[v]->reserve.memory;
                gpu += resources_get_extra(&md->options[v]->reserve, "gpu");
        }
        return cpu + need->cpu_milli <= md->cap[m].cpu_milli && mem + need->memory <= md->cap[m].memory &&
               gpu + resources_get_extra(need, "gpu") <= resources_get_extra(&md->cap[m], "gpu");
}

static unsigned web_on(const Model *md, unsigned u, unsigned m) {
        unsigned n = 0;

        for (unsigned v = 0; v < N_UNITS; v += 3)
                n += v != u && md->unit_present[v] && md->shadow[v][m] && !md->options[v]->global;
        return n;
}

static bool check_fit(const Model *md, unsigned u, unsigned m, char *const *names, bool verbose) {
        const XFleetOptions *x = md->options[u];

        if (!x->global && !check_room(md, u, m, names, NULL))
                return verbose && (diag("  no room"), false);
        if (u % 3 == 0 && !x->global && x->max_per_machine > 0 && web_on(md, u, m) >= x->max_per_machine)
                return verbose && (diag("  MaxReplicasPerMachine"), false);

        if (x->machine_id && !xfleet_machine_id_match(x->machine_id, machine_ids[m]))
                return verbose && (diag("  MachineID=%s", x->machine_id), false);
        if (!xfleet_metadata_match(x->machine_metadata, md->metadata[m]))
                return verbose && (diag("  metadata"), false);
        if (!x->global)
                STRV_FOREACH(peer, x->machine_of) {
                        int p = unit_index(*peer);

                        /* As in fleet, a global unit is never "scheduled": nothing follows it. */
                        if (p < 0 || !md->unit_present[p] || md->options[p]->global || !md->shadow[p][m])
                                return verbose && (diag("  MachineOf=%s", *peer), false);
                }
        for (unsigned v = 0; v < N_UNITS; v++) {
                if (v == u || !md->unit_present[v] || !md->shadow[v][m])
                        continue;
                if (xfleet_globs_match(x->conflicts, names[v]) ||
                    xfleet_globs_match(md->options[v]->conflicts, names[u]))
                        return verbose && (diag("  conflicts with %s", names[v]), false);
                if (xfleet_globs_match(md->options[v]->replaces, names[u]) ||
                    xfleet_globs_match(x->replaces, names[v]))
                        return verbose && (diag("  replaces or is replaced by %s", names[v]), false);
        }
        return true;
}

static void check_invariants(Scheduler *s, Model *md, char *const *names, unsigned step, bool *good) {
        for (unsigned u = 0; u < N_UNITS && *good; u++) {
                _cleanup_strv_free_ char **ms = NULL;
                size_t n = 0;

                if (!md->unit_present[u]) {
                        for (unsigned m = 0; m < N_MACHINES; m++)
                                if (md->shadow[u][m]) {
                                        diag("step %u: removed unit %s still in the shadow on %s", step, names[u],
                                             machine_ids[m]);
                                        *good = false;
                                }
                        continue;
                }
                assert_se(scheduler_unit_machines(s, names[u], &ms) == 0);
                for (unsigned m = 0; m < N_MACHINES; m++) {
                        bool placed = strv_contains(ms, machine_ids[m]);

                        if (placed != md->shadow[u][m]) {
                                diag("step %u: %s on %s: scheduler %d, reported changes %d", step, names[u],
                                     machine_ids[m], placed, md->shadow[u][m]);
                                *good = false;
                        }
                        if (!placed)
                                continue;
                        n++;
                        if (!md->machine_present[m]) {
                                diag("step %u: %s on removed machine %s", step, names[u], machine_ids[m]);
                                *good = false;
                        }
                        if (!check_fit(md, u, m, names, true)) {
                                diag("step %u: %s does not fit %s", step, names[u], machine_ids[m]);
                                *good = false;
                        }
                }
                if (md->desired[u] == UNIT_DESIRED_INACTIVE && n > 0) {
                        diag("step %u: inactive %s is placed", step, names[u]);
                        *good = false;
                }
                if (!md->options[u]->global && n > 1) {
                        diag("step %u: %s placed %zu times", step, names[u], n);
                        *good = false;
                }
                if (md->desired[u] != UNIT_DESIRED_INACTIVE && !md->options[u]->global && n == 0 &&
                    !scheduler_unit_reason(s, names[u])) {
                        diag("step %u: unplaced %s has no reason", step, names[u]);
                        *good = false;
                }
                /* Complete: an unplaced unit fits nowhere (unless a placed unit and it replace
                 * each other: then it stays out by design). */
                if (md->desired[u] != UNIT_DESIRED_INACTIVE && !md->options[u]->global && n == 0 &&
                    !unit_name_is_template(names[u]) && !circular_with_placed(md, u, names))
                        for (unsigned m = 0; m < N_MACHINES; m++)
                                if (md->machine_present[m] && check_fit(md, u, m, names, false)) {
                                        diag("step %u: unplaced %s (%s) would fit %s", step, names[u],
                                             strna(scheduler_unit_reason(s, names[u])), machine_ids[m]);
                                        *good = false;
                                        break;
                                }
        }
        /* A wanted global unit runs on every machine where its metadata matches and nothing
         * placed there (or an earlier global unit by name) conflicts with it. */
        for (unsigned g = 0; g < N_UNITS && *good; g++) {
                if (!md->unit_present[g] || !md->options[g]->global || md->desired[g] == UNIT_DESIRED_INACTIVE ||
                    unit_name_is_template(names[g]))
                        continue;
                for (unsigned m = 0; m < N_MACHINES && *good; m++) {
                        bool blocked = false;

                        if (!md->machine_present[m] || md->shadow[g][m] ||
                            !xfleet_metadata_match(md->options[g]->machine_metadata, md->metadata[m]))
                                continue;
                        for (unsigned v = 0; v < N_UNITS && !blocked; v++) {
                                if (v == g || !md->unit_present[v] || !md->shadow[v][m])
                                        continue;
                                if (md->options[v]->global && strcmp(names[v], names[g]) > 0)
                                        continue;
                                blocked = xfleet_globs_match(md->options[g]->conflicts, names[v]) ||
                                          xfleet_globs_match(md->options[v]->conflicts, names[g]) ||
                                          xfleet_globs_match(md->options[v]->replaces, names[g]);
                        }
                        blocked = blocked || !check_room(md, g, m, names, names[g]);
                        if (!blocked) {
                                diag("step %u: global %s is missing on %s", step, names[g], machine_ids[m]);
                                *good = false;
                        }
                }
        }

        for (unsigned m = 0; m < N_MACHINES && *good; m++) {
                uint64_t cpu = 0, mem = 0, gpu = 0;
                Resources r = {};
                bool any = false;
                int load = 0;

                if (!md->machine_present[m])
                        continue;
                for (unsigned u = 0; u < N_UNITS; u++)
                        if (md->unit_present[u] && md->shadow[u][m]) {
                                cpu += md->options[u]->reserve.cpu_milli;
                                mem += md->options[u]->reserve.memory;
                                gpu += resources_get_extra(&md->options[u]->reserve, "gpu");
                                any = any || !resources_is_empty(&md->options[u]->reserve);
                        }
                if (md->has_cap[m] ? cpu > md->cap[m].cpu_milli || mem > md->cap[m].memory ||
                                     gpu > resources_get_extra(&md->cap[m], "gpu")
                                   : any) {
                        diag("step %u: %s overcommitted: %" PRIu64 " mCPU, %" PRIu64 " B, %" PRIu64 " gpu reserved",
                             step, machine_ids[m], cpu, mem, gpu);
                        *good = false;
                }
                assert_se(scheduler_machine_reserved(s, machine_ids[m], &r) == 0);
                if (md->has_cap[m] && (r.cpu_milli != cpu || r.memory != mem)) {
                        diag("step %u: %s: the scheduler counts %" PRIu64 " mCPU / %" PRIu64 " B, the shadow %" PRIu64
                             " / %" PRIu64, step, machine_ids[m], r.cpu_milli, r.memory, cpu, mem);
                        *good = false;
                }
                resources_done(&r);
                for (unsigned u = 0; u < N_UNITS; u++)
                        load += md->unit_present[u] && md->shadow[u][m];
                if (scheduler_machine_load(s, machine_ids[m]) != load) {
                        diag("step %u: load of %s is %d, expected %d", step, machine_ids[m],
                             scheduler_machine_load(s, machine_ids[m]), load);
                        *good = false;
                }
        }
}

static void apply_changes(Model *md, const SchedulerChangeList *l, unsigned step, bool *good) {
        for (size_t i = 0; i < l->n_changes && *good; i++) {
                const SchedulerChange *c = l->changes + i;
                int u = unit_index(c->unit), m = machine_index(c->machine);

                assert_se(u >= 0 && m >= 0);
                if (c->type == SCHEDULER_ASSIGN) {
                        if (md->shadow[u][m]) {
                                diag("step %u: %s assigned twice to %s", step, c->unit, c->machine);
                                *good = false;
                        }
                        md->shadow[u][m] = true;
                } else {
                        if (!md->shadow[u][m]) {
                                diag("step %u: %s unassigned from %s where it was not", step, c->unit, c->machine);
                                *good = false;
                        }
                        md->shadow[u][m] = false;
                }
        }
}

static bool arg_trace = false;

static void random_step(Scheduler *s, Model *md, char *const *names) {
        unsigned op = rnd(20), m = rnd(N_MACHINES), u = rnd(N_UNITS);

        if (arg_trace)
                diag("op %u machine %s unit %s", op, machine_ids[m], names[u]);

        if (op < 2) {
                _cleanup_strv_free_ char **meta = random_metadata();
                bool fresh = !md->machine_present[m];

                assert_se(scheduler_machine_add(s, machine_ids[m], meta) >= 0);
                strv_free(md->metadata[m]);
                md->metadata[m] = TAKE_PTR(meta);
                md->machine_present[m] = true;
                if (fresh) {
                        resources_done(&md->cap[m]);
                        md->has_cap[m] = false;
                }
                /* A new registration, or a changed one: capacity grows, shrinks or goes away. */
                if (rnd(5) == 0) {
                        assert_se(scheduler_machine_set_capacity(s, machine_ids[m], NULL) == 0);
                        resources_done(&md->cap[m]);
                        md->has_cap[m] = false;
                } else if (fresh || rnd(2)) {
                        resources_done(&md->cap[m]);
                        random_capacity(&md->cap[m]);
                        assert_se(scheduler_machine_set_capacity(s, machine_ids[m], &md->cap[m]) == 0);
                        md->has_cap[m] = true;
                }
        } else if (op < 3) {
                if (md->machine_present[m]) {
                        assert_se(scheduler_machine_remove(s, machine_ids[m]) == 0);
                        md->machine_present[m] = false;
                }
        } else if (op < 14) {
                UnitDesiredState d = rnd(5) == 0 ? UNIT_DESIRED_INACTIVE : rnd(2) ? UNIT_DESIRED_LAUNCHED
                                                                                  : UNIT_DESIRED_LOADED;
                XFleetOptions *x = rnd(3) == 0 && md->options[u] ? md->options[u] : random_options(u);

                if (arg_trace) {
                        _cleanup_free_ char *md_ = strv_join(x->machine_metadata, " "), *of = strv_join(x->machine_of, " "),
                                            *cf = strv_join(x->conflicts, " "), *rp = strv_join(x->replaces, " ");

                        diag("  set %s desired=%s global=%d id=%s md=%s of=%s conflicts=%s replaces=%s", names[u],
                             unit_desired_state_to_string(d), x->global, strna(x->machine_id), md_, of, cf, rp);
                }
                assert_se(scheduler_unit_set(s, names[u], x, d) >= 0);
                if (x != md->options[u]) {
                        xfleet_options_free(md->options[u]);
                        md->options[u] = x;
                }
                md->desired[u] = d;
                md->unit_present[u] = true;
        } else if (op < 16) {
                if (md->unit_present[u]) {
                        assert_se(scheduler_unit_remove(s, names[u]) == 0);
                        md->unit_present[u] = false;
                }
        } else if (op < 17) {
                /* Restore a placement read from the store (possibly a bad one). */
                if (md->unit_present[u] && md->machine_present[m]) {
                        _cleanup_strv_free_ char **before = NULL;

                        /* It replaces the current placement silently; placements that already
                         * ended (on a removed machine, or as a global unit) are still reported. */
                        assert_se(scheduler_unit_machines(s, names[u], &before) == 0);
                        assert_se(scheduler_assignment_set(s, names[u], machine_ids[m]) == 0);
                        if (!md->options[u]->global)
                                STRV_FOREACH(b, before)
                                        md->shadow[u][machine_index(*b)] = false;
                        md->shadow[u][m] = true;
                }
        }
        /* else: just reconcile */
}

static void run(unsigned long long seed) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        Model md = {};
        bool good = true;
        unsigned reconciles = 0, placements = 0;

        rng_state = seed | 1;
        assert_se(scheduler_new(&s) == 0);
        if (seed % 2)
                scheduler_set_strategy(s, SCHEDULER_BINPACK);
        for (unsigned i = 0; i < N_UNITS; i++) {
                char buf[64];

                unit_name_of(i, buf, sizeof(buf));
                assert_se(unit_name_is_valid(buf));
                assert_se(strv_extend(&names, buf) == 0);
        }

        for (unsigned step = 0; step < STEPS && good; step++) {
                unsigned ops = 1 + rnd(3);

                for (unsigned k = 0; k < ops; k++)
                        random_step(s, &md, names);

                _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = reconcile(s);
                _cleanup_(scheduler_change_list_freep) SchedulerChangeList *again = NULL;

                reconciles++;
                if (arg_trace)
                        for (size_t i = 0; i < l->n_changes; i++)
                                diag("  %s %s %s", scheduler_change_type_to_string(l->changes[i].type),
                                     l->changes[i].unit, l->changes[i].machine);
                placements += changes_of(l, SCHEDULER_ASSIGN, NULL);
                apply_changes(&md, l, step, &good);
                check_invariants(s, &md, names, step, &good);

                again = reconcile(s);
                if (good && again->n_changes > 0) {
                        diag("step %u: second reconcile made %zu changes, first %s %s %s", step, again->n_changes,
                             scheduler_change_type_to_string(again->changes[0].type), again->changes[0].unit,
                             again->changes[0].machine);
                        good = false;
                }
        }

        ok(good, "seed %llu: invariants hold over %u random reconciles (%u placements)", seed, reconciles,
           placements);
        ok(placements > 500, "seed %llu: the random walk placed units (%u)", seed, placements);

        for (unsigned i = 0; i < N_MACHINES; i++) {
                strv_free(md.metadata[i]);
                resources_done(&md.cap[i]);
        }
        for (unsigned i = 0; i < N_UNITS; i++)
                xfleet_options_free(md.options[i]);
}

int main(void) {
        /* Seeds that once found bugs (Replaces cycles, restored placements over queued deletions,
         * replaced global units), plus a few more. SEED=n runs just that one; TRACE=1 narrates. */
        static const unsigned long long seeds[] = { 0x9e3779b97f4a7c15ULL, 9, 43, 65, 263, 339, 491, 589 };

        arg_trace = getenv("TRACE");
        if (getenv("SEED"))
                run(strtoull(getenv("SEED"), NULL, 0));
        else
                for (size_t i = 0; i < ELEMENTSOF(seeds); i++)
                        run(seeds[i]);
        return done_testing();
}
