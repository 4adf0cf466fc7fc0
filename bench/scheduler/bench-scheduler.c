/* SPDX-License-Identifier: Apache-2.0 */

/* Micro-benchmark of the pure scheduling core: decisions per second for 10,000 machines with
 * unconstrained units, with a realistic mix of constraints, and with reservations (issue 14: every
 * machine publishes a capacity, every unit reserves CPU and memory, spread or binpack), and the
 * footprint of 100,000 units on 10,000 machines. Each scenario runs in its own child process so
 * that its peak RSS is its own. Figures are printed, never asserted. */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "log.h"
#include "scheduler.h"
#include "strv.h"
#include "time-util.h"
#include "xfleet.h"

static unsigned arg_machines = 10000;
static unsigned arg_units = 100000;
static const char *arg_scenario = NULL;

typedef struct Scenario {
        const char *name;               /* for --scenario */
        const char *title;
        unsigned machines;
        unsigned units;
        bool mix;                       /* the mix of constraints, else unconstrained */
        bool reserve;                   /* capacities and reservations */
        SchedulerStrategy strategy;
} Scenario;

static double now_sec(void) {
        return (double) now(CLOCK_MONOTONIC) / (double) USEC_PER_SEC;
}

/* CPU time of this process: on a shared, busy machine it says more than the wall clock. */
static double cpu_now(void) {
        return (double) now(CLOCK_PROCESS_CPUTIME_ID) / (double) USEC_PER_SEC;
}

static long peak_rss_kib(void) {
        struct rusage ru;

        assert_se(getrusage(RUSAGE_SELF, &ru) == 0);
        return ru.ru_maxrss;
}

/* Machine i's capacity: 4, 8, 12 or 16 CPUs and 8, 16 or 32 GiB (10 CPU / 18.7 GiB on average). */
static Resources machine_capacity(unsigned i) {
        return (Resources) { .cpu_milli = (i % 4 + 1) * 4000, .memory = (8ULL << (i % 3)) << 30 };
}

/* Unit i's reservation: 0.1 to 1 CPU and 128 MiB to 1 GiB (0.55 CPU / 576 MiB on average): 100,000
 * of them take about 55 % of 10,000 machines' CPUs and 30 % of their memory. */
static Resources unit_reservation(unsigned i) {
        return (Resources) { .cpu_milli = (i % 10 + 1) * 100, .memory = (i % 8 + 1) * (128ULL << 20) };
}

static int add_machines(Scheduler *s, unsigned n, bool reserve) {
        int r;

        for (unsigned i = 0; i < n; i++) {
                char id[33], region[32], disk[32], role[32];

                snprintf(id, sizeof(id), "%08x%024x", i * 2654435761U, i);
                snprintf(region, sizeof(region), "region=r%u", i % 5);
                snprintf(disk, sizeof(disk), "disk=%s", i % 2 ? "ssd" : "hdd");
                snprintf(role, sizeof(role), "role=%s", i % 10 == 0 ? "edge" : "core");
                r = scheduler_machine_add(s, id, STRV_MAKE(region, disk, role));
                if (r < 0)
                        return r;
                if (reserve) {
                        Resources c = machine_capacity(i);

                        r = scheduler_machine_set_capacity(s, id, &c);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The constraints of the i-th unit of the mix, written into x; the name into name. Mix: 55 %
 * unconstrained, 15 % metadata (OR of two regions, and disk), 5 % metadata with !=, 10 %
 * Conflicts among their group, 10 % followers (MachineOf their app), 5 % Replaces-free apps the
 * followers follow, and a handful of globals limited by metadata. */
static int mix_unit(unsigned i, char *name, size_t size, XFleetOptions *x) {
        unsigned k = i % 20;
        int r = 0;

        if (i < 4) {
                snprintf(name, size, "global-%u.service", i);
                x->global = true;
                return strv_extendf(&x->machine_metadata, "region=r%u", i);
        }
        if (k < 11) {
                snprintf(name, size, "plain-%u.service", i);
                return 0;
        }
        if (k < 14) {
                snprintf(name, size, "meta-%u.service", i);
                r = strv_extendf(&x->machine_metadata, "region=r%u", i % 5);
                if (r >= 0)
                        r = strv_extendf(&x->machine_metadata, "region=r%u", (i + 1) % 5);
                if (r >= 0)
                        r = strv_extend(&x->machine_metadata, "disk=ssd");
                return r;
        }
        if (k == 14) {
                snprintf(name, size, "notedge-%u.service", i);
                return strv_extend(&x->machine_metadata, "role!=edge");
        }
        if (k < 17) {
                snprintf(name, size, "web@%u.service", i);
                return strv_extendf(&x->conflicts, "web@%u*", i % 7);
        }
        if (k == 17) {
                snprintf(name, size, "app-%u.service", i);
                return 0;
        }
        /* k 18, 19: two followers of the app of this group of 20 */
        snprintf(name, size, "side%u-%u.service", k, i);
        return strv_extendf(&x->machine_of, "app-%u.service", i - k + 17);
}

static int add_units(Scheduler *s, unsigned n, bool mix, bool reserve) {
        int r;

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(xfleet_options_freep) XFleetOptions *x = xfleet_options_new();
                char name[64];

                if (!x)
                        return -ENOMEM;
                if (mix) {
                        r = mix_unit(i, name, sizeof(name), x);
                        if (r < 0)
                                return r;
                } else
                        snprintf(name, sizeof(name), "unit-%u.service", i);
                if (reserve)
                        x->reserve = unit_reservation(i);
                r = scheduler_unit_set(s, name, x, UNIT_DESIRED_LAUNCHED);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int reconcile_timed(Scheduler *s, double *ret_seconds, double *ret_cpu_seconds, size_t *ret_assign,
                           size_t *ret_changes) {
        _cleanup_(scheduler_change_list_freep) SchedulerChangeList *l = NULL;
        size_t assign = 0;
        double t0, c0;
        int r;

        t0 = now_sec();
        c0 = cpu_now();
        r = scheduler_reconcile(s, &l);
        *ret_cpu_seconds = cpu_now() - c0;
        *ret_seconds = now_sec() - t0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n_changes; i++)
                assign += l->changes[i].type == SCHEDULER_ASSIGN;
        *ret_assign = assign;
        if (ret_changes)
                *ret_changes = l->n_changes;
        return 0;
}

/* FNV-1a of s into h. */
static uint64_t digest_add(uint64_t h, const char *s) {
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * UINT64_C(0x100000001b3);
        return (h ^ '\n') * UINT64_C(0x100000001b3);
}

/* Counts the units placed nowhere, and digests where every unit is placed: equal digests of two
 * builds mean equal placements, so that a change made for speed shows it changed none. */
static size_t count_unplaced(Scheduler *s, unsigned n, bool mix, uint64_t *ret_digest) {
        uint64_t digest = UINT64_C(0xcbf29ce484222325);
        size_t unplaced = 0;

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(xfleet_options_freep) XFleetOptions *x = xfleet_options_new();
                _cleanup_strv_free_ char **ms = NULL;
                char name[64];

                assert_se(x);
                if (mix)
                        assert_se(mix_unit(i, name, sizeof(name), x) >= 0);
                else
                        snprintf(name, sizeof(name), "unit-%u.service", i);
                assert_se(scheduler_unit_machines(s, name, &ms) == 0);
                unplaced += strv_length(ms) == 0;
                digest = digest_add(digest, name);
                STRV_FOREACH(m, ms)
                        digest = digest_add(digest, *m);
        }
        *ret_digest = digest;
        return unplaced;
}

static int scenario(const Scenario *sc) {
        unsigned machines = sc->machines, units = sc->units;
        bool mix = sc->mix;
        _cleanup_(scheduler_freep) Scheduler *s = NULL;
        size_t assign, changes, unplaced;
        uint64_t digest;
        double t0, t_machines, t_units, t_reconcile, t_noop, t_fail, c_reconcile, c_noop, c_fail, c_total;
        int r;

        r = scheduler_new(&s);
        if (r < 0)
                return log_error_errno(r, "Failed to create scheduler: %m");
        scheduler_set_strategy(s, sc->strategy);

        c_total = cpu_now();
        t0 = now_sec();
        r = add_machines(s, machines, sc->reserve);
        t_machines = now_sec() - t0;
        if (r < 0)
                return log_error_errno(r, "Failed to add machines: %m");

        t0 = now_sec();
        r = add_units(s, units, mix, sc->reserve);
        t_units = now_sec() - t0;
        if (r < 0)
                return log_error_errno(r, "Failed to add units: %m");

        r = reconcile_timed(s, &t_reconcile, &c_reconcile, &assign, NULL);
        if (r < 0)
                return log_error_errno(r, "Reconcile failed: %m");
        c_total = cpu_now() - c_total;
        unplaced = count_unplaced(s, units, mix, &digest);

        printf("%s: %u machines, %u units\n", sc->title, machines, units);
        printf("  add machines          %9.1f ms\n", t_machines * 1e3);
        printf("  add units             %9.1f ms\n", t_units * 1e3);
        printf("  reconcile             %9.1f ms  (%.1f ms CPU)  %zu placements (%zu units unplaced)\n",
               t_reconcile * 1e3, c_reconcile * 1e3, assign, unplaced);
        printf("  placement digest      %016" PRIx64 "\n", digest);
        printf("  decisions/second      %9.0f  (%.0f per CPU second)\n", units / t_reconcile, units / c_reconcile);
        printf("  total                 %9.1f ms  (%.1f ms CPU)\n", (t_machines + t_units + t_reconcile) * 1e3,
               c_total * 1e3);

        r = reconcile_timed(s, &t_noop, &c_noop, &assign, &changes);
        if (r < 0)
                return log_error_errno(r, "Reconcile failed: %m");
        printf("  no-op reconcile       %9.3f ms  (%.3f ms CPU)  %zu changes\n", t_noop * 1e3, c_noop * 1e3, changes);

        /* A machine dies: its units are re-placed. */
        char id[33];
        snprintf(id, sizeof(id), "%08x%024x", 7 * 2654435761U, 7U);
        r = scheduler_machine_remove(s, id);
        if (r < 0)
                return log_error_errno(r, "Failed to remove machine: %m");
        r = reconcile_timed(s, &t_fail, &c_fail, &assign, &changes);
        if (r < 0)
                return log_error_errno(r, "Reconcile failed: %m");
        printf("  machine loss          %9.3f ms  (%.3f ms CPU)  %zu changes (%zu placements)\n", t_fail * 1e3,
               c_fail * 1e3, changes, assign);
        (void) count_unplaced(s, units, mix, &digest);
        printf("  placement digest      %016" PRIx64 "  (after the loss)\n", digest);
        printf("  peak RSS              %9.1f MiB\n", peak_rss_kib() / 1024.0);
        fflush(stdout);
        return 0;
}

static int run_child(const Scenario *sc) {
        pid_t pid;
        int status;

        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Failed to fork: %m");
        if (pid == 0)
                _exit(scenario(sc) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "Failed to wait for the scenario: %m");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "machines", required_argument, NULL, 'm' },
                { "units", required_argument, NULL, 'u' },
                { "scenario", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "m:u:s:h", options, NULL)) >= 0)
                switch (c) {
                case 'm':
                case 'u': {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);

                        if (*end || v == 0 || v > 10000000)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid number: %s", optarg);
                        if (c == 'm')
                                arg_machines = v;
                        else
                                arg_units = v;
                        break;
                }
                case 's':
                        arg_scenario = optarg;
                        break;
                case 'h':
                        printf("%s [--machines N] [--units N] [--scenario NAME]\n"
                               "Decisions/second of the scheduling core; figures are printed, not asserted.\n"
                               "Scenarios: unconstrained mix fewer spread binpack mix-spread (default: all).\n",
                               program_invocation_short_name);
                        exit(EXIT_SUCCESS);
                default:
                        return -EINVAL;
                }
        return 0;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_target(LOG_TARGET_CONSOLE);
        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_FAILURE;

        const Scenario scenarios[] = {
                { "unconstrained", "unconstrained", arg_machines, arg_units },
                { "mix", "mix (metadata, !=, Conflicts, MachineOf, Global)", arg_machines, arg_units, .mix = true },
                { "fewer", "unconstrained, 10x fewer units", arg_machines, arg_units / 10 ?: 1 },
                { "spread", "reservations, spread", arg_machines, arg_units, .reserve = true,
                  .strategy = SCHEDULER_SPREAD },
                { "binpack", "reservations, binpack", arg_machines, arg_units, .reserve = true,
                  .strategy = SCHEDULER_BINPACK },
                { "mix-spread", "reservations + mix, spread", arg_machines, arg_units, .mix = true, .reserve = true,
                  .strategy = SCHEDULER_SPREAD },
        };

        bool any = false;
        for (size_t i = 0; i < ELEMENTSOF(scenarios) && r >= 0; i++) {
                if (arg_scenario && !streq(arg_scenario, scenarios[i].name))
                        continue;
                any = true;
                r = run_child(scenarios + i);
        }
        if (!any) {
                log_error("Unknown scenario: %s", arg_scenario);
                return EXIT_FAILURE;
        }
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
