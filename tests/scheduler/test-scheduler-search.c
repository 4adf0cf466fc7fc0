/* SPDX-License-Identifier: Apache-2.0 */

/* The tree search against a brute-force scan (issue 14): on random clusters (capacities, usage
 * left by earlier placements and removals, metadata, cordons, GPUs) and random units (reservations
 * of common and odd sizes, none, MachineMetadata, Conflicts, MaxReplicasPerMachine), the machine
 * scheduler_find_machine() picks must be the first one, in the strategy's order (spread: least
 * dominant share; binpack: greatest; without reservations: fewest units; ties by ID), for which
 * unit_fits() says yes, or none when no machine fits. Any pruning that skips a machine that fits,
 * or any order key that is not a bound on the machines below it, makes this fail. */

#include "scheduler-internal.h"
#include "scheduler-test.h"

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
#define SEEDS 24
#define QUERIES 400

static unsigned long long rng_state;

static unsigned rnd(unsigned n) {
        return rng_next(&rng_state, n);
}

static void machine_id_of(unsigned i, char *buf, size_t size) {
        snprintf(buf, size, "%08x%08x", i * 2654435761U, i);
}

static void random_machine(Scheduler *s, unsigned i) {
        _cleanup_strv_free_ char **md = NULL;
        char id[32];

        machine_id_of(i, id, sizeof(id));
        assert_se(strv_extendf(&md, "zone=%c", 'a' + rnd(3)) == 0);
        if (rnd(2))
                assert_se(strv_extend(&md, "disk=ssd") == 0);
        assert_se(scheduler_machine_add(s, id, md) >= 0);

        /* A few publish no capacity: they take no unit that reserves anything. */
        if (rnd(10) > 0) {
                Resources c = {
                        .cpu_milli = 1000 * (1 + rnd(16)),
                        .memory = GiB * (1 + rnd(32)),
                };

                assert_se(resources_add_extra(&c, "gpu", rnd(3)) == 0);
                assert_se(scheduler_machine_set_capacity(s, id, &c) >= 0);
                resources_done(&c);
        }
        if (rnd(15) == 0)
                assert_se(scheduler_machine_cordon(s, id, rnd(2) ? REGISTRY_CORDON_CORDONED : REGISTRY_CORDON_DRAINED) >= 0);
}

/* Mostly the sizes a deployment repeats (they become levels of the room grid), sometimes an odd
 * one (looked up at the levels below it), sometimes nothing. */
static void random_reservation(Resources *r) {
        static const uint64_t cpus[] = { 100, 250, 500, 1000, 2000, 4000 };
        static const uint64_t mems[] = { 128 * MiB, 512 * MiB, GiB, 2 * GiB, 4 * GiB, 8 * GiB };

        switch (rnd(8)) {
        case 0:
                return;
        case 1:
                r->cpu_milli = 1 + rnd(6000);
                r->memory = MiB * (1 + rnd(12000));
                break;
        case 2:
                r->cpu_milli = cpus[rnd(ELEMENTSOF(cpus))];
                break;
        case 3:
                r->memory = mems[rnd(ELEMENTSOF(mems))];
                break;
        default:
                r->cpu_milli = cpus[rnd(ELEMENTSOF(cpus))];
                r->memory = mems[rnd(ELEMENTSOF(mems))];
        }
        if (rnd(8) == 0)
                assert_se(resources_add_extra(r, "gpu", 1) == 0);
}

static void random_unit(Scheduler *s, unsigned i, char *name, size_t size) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = xfleet_options_new();

        assert_se(x);
        snprintf(name, size, "%s%u.service", i % 4 == 0 ? "web@" : "job-", i);
        random_reservation(&x->reserve);
        if (rnd(4) == 0)
                assert_se(strv_extendf(&x->machine_metadata, "zone=%c", 'a' + rnd(3)) == 0);
        if (rnd(6) == 0)
                assert_se(strv_extend(&x->machine_metadata, "disk=ssd") == 0);
        if (i % 4 == 0 && rnd(3) == 0)
                x->max_per_machine = 1 + rnd(2);
        if (rnd(8) == 0)
                assert_se(strv_extendf(&x->conflicts, "job-%u*", rnd(10)) == 0);
        assert_se(scheduler_unit_set(s, name, x, UNIT_DESIRED_LAUNCHED) >= 0);
}

/* The strategy's order of a machine for u (lower first), then its position (ID order). */
static uint64_t brute_key(const Scheduler *s, const Unit *u, const Machine *m, size_t pos) {
        uint64_t v;

        if (!u->reserves)
                v = m->load;
        else if (s->strategy == SCHEDULER_BINPACK)
                v = SHARE_ONE - m->share;
        else
                v = m->share;
        return v << 32 | pos;
}

static Machine *brute_find(Scheduler *s, const LoadIndex *ix, const Unit *u) {
        Machine *best = NULL;
        uint64_t best_key = UINT64_MAX;

        for (size_t i = 0; i < ix->n_machines; i++) {
                Machine *m = ix->machines[i];
                const Unit *blocker = NULL;
                uint64_t k;

                if (unit_fits(s, u, m, EVICT_GLOBALS, &blocker) != FIT_OK)
                        continue;
                k = brute_key(s, u, m, i);
                if (k < best_key) {
                        best = m;
                        best_key = k;
                }
        }
        return best;
}

/* Ask the tree and the scan where u goes; 1 if they agree. */
static bool compare_one(Scheduler *s, const char *name, unsigned seed, unsigned q, unsigned *n_found) {
        size_t counts[_FIT_RESULT_MAX] = {};
        const Unit *blocker = NULL;
        Machine *tree = NULL, *brute;
        LoadIndex *ix;
        Unit *u;

        if (s->sorted_dirty || s->tree_dirty || s->classes_dirty)
                assert_se(scheduler_tree_rebuild(s) == 0);
        u = hashmap_get(s->units, name);
        assert_se(u);
        assert_se(scheduler_index_for(s, u, &ix) == 0);
        assert_se(scheduler_find_machine(s, ix, u, EVICT_GLOBALS, counts, &blocker, &tree) == 0);
        brute = brute_find(s, ix, u);
        *n_found += !!brute;
        if (tree == brute)
                return true;
        diag("seed %u query %u: %s (cpu %" PRIu64 " mem %" PRIu64 ", %s): tree picked %s (share %u), scan %s (share %u)",
             seed, q, name, u->x->reserve.cpu_milli, u->x->reserve.memory,
             scheduler_strategy_to_string(s->strategy), tree ? tree->id : "none", tree ? tree->share : 0,
             brute ? brute->id : "none", brute ? brute->share : 0);
        return false;
}

/* Between queries the cluster changes as it would: units placed, destroyed, machines lost and
 * added, capacities and the strategy changed; the indexes follow incrementally or are rebuilt. */
static void random_change(Scheduler *s, unsigned *n_machines, unsigned n_units) {
        char name[64], id[32];

        switch (rnd(20)) {
        case 0:
                machine_id_of(rnd(*n_machines), id, sizeof(id));
                (void) scheduler_machine_remove(s, id);
                break;
        case 1:
                random_machine(s, (*n_machines)++);
                break;
        case 2: {
                Resources c = { .cpu_milli = 1000 * (1 + rnd(16)), .memory = GiB * (1 + rnd(32)) };

                machine_id_of(rnd(*n_machines), id, sizeof(id));
                (void) scheduler_machine_set_capacity(s, id, &c);
                break;
        }
        case 3:
                scheduler_set_strategy(s, s->strategy == SCHEDULER_SPREAD ? SCHEDULER_BINPACK : SCHEDULER_SPREAD);
                break;
        default:
                snprintf(name, sizeof(name), "job-%u.service", rnd(n_units));
                (void) scheduler_unit_remove(s, name);
        }
}

static void run(unsigned seed) {
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        unsigned n_machines, n_units = 0, found = 0;
        bool good = true;
        char name[64];

        rng_state = 0x9e3779b97f4a7c15ULL * (seed + 1);
        n_machines = 1 + rnd(seed % 3 == 0 ? 40 : 400);
        assert_se(scheduler_new(&s) == 0);
        scheduler_set_strategy(s, seed % 2 ? SCHEDULER_BINPACK : SCHEDULER_SPREAD);
        for (unsigned i = 0; i < n_machines; i++)
                random_machine(s, i);

        /* Usage first: many units placed, then a third of them gone, so that free room is
         * scattered over the tree. */
        for (unsigned i = 0; i < n_machines * 4; i++)
                random_unit(s, n_units++, name, sizeof(name));
        assert_se(reconcile_count(s) > 0);
        for (unsigned i = 0; i < n_units; i += 3) {
                snprintf(name, sizeof(name), "%s%u.service", i % 4 == 0 ? "web@" : "job-", i);
                assert_se(scheduler_unit_remove(s, name) >= 0);
        }
        (void) reconcile_count(s);

        for (unsigned q = 0; q < QUERIES && good; q++) {
                random_unit(s, n_units++, name, sizeof(name));
                good = compare_one(s, name, seed, q, &found);
                (void) reconcile_count(s);
                if (rnd(3) == 0) {
                        random_change(s, &n_machines, n_units);
                        (void) reconcile_count(s);
                }
        }
        ok(good, "seed %u (%s, %u machines): the tree's machine is the scan's for %u units",
           seed, scheduler_strategy_to_string(s->strategy), n_machines, QUERIES);
        /* Not a walk where nothing ever fits: the comparison must have had answers to compare. */
        ok(found > QUERIES / 10, "seed %u: %u of the units fitted somewhere", seed, found);
}

int main(void) {
        if (getenv("SEED"))
                run((unsigned) strtoul(getenv("SEED"), NULL, 0));
        else
                for (unsigned seed = 0; seed < SEEDS; seed++)
                        run(seed);
        return done_testing();
}
