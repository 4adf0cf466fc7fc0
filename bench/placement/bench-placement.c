/* SPDX-License-Identifier: Apache-2.0 */

/* bench-placement: how fast does the leader place units, decided and committed to etcd?
 *
 * M hollow machines are registered as RegistryMachine keys, each under a lease of its own; one
 * engine runs in a child process (so its peak RSS is its own); N units with a mix of constraints
 * are submitted at once (txns of 128 units, a few in flight); an observer watches P schedule/ and
 * stamps the moment each placement becomes visible. With --states, the hollow machines report
 * every unit assigned to them as active in P states/ under their lease, as an agent would. With
 * --reservations (issue 14), every machine publishes a capacity and every unit reserves CPU and
 * memory, so that each decision also checks and books room (the default strategy, spread).
 *
 * Prints placements/second, p50/p99 submit-to-assigned latency, the engine's passes, txns and etcd
 * requests, and its peak RSS. Figures only; nothing is asserted. */

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "engine.h"
#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "hashmap.h"
#include "log.h"
#include "registry.h"
#include "strv.h"
#include "time-util.h"
#include "unit-file.h"

#define PREFIX "/bench-placement/"
#define N_ZONES 4
#define LEADER_ID "be7c1eadbe7c1eadbe7c1eadbe7c1ead"
#define FAKE_HASH "0000000000000000000000000000000000000000"
#define SUBMIT_INFLIGHT 4
#define STATES_INFLIGHT 4

static unsigned arg_machines = 1000;
static unsigned arg_units = 10000;
static unsigned arg_globals = 2;
static bool arg_states = false;
static bool arg_failover = false;
static bool arg_agent_watches = false;
static bool arg_reservations = false;
static char **arg_endpoints = NULL;

typedef struct Bench {
        sd_event *loop;
        EtcdClient *client;
        EtcdWatch *observer;            /* P schedule/, or: */
        EtcdWatch **agent_watches;      /* --agent-watches: P schedule/<id>/ for every machine */
        int64_t *machine_leases;

        /* submitting */
        unsigned next_unit;
        unsigned submit_inflight;
        uint64_t *submitted_usec;       /* per unit: when its txn was sent */

        /* observing */
        uint64_t *assigned_usec;        /* per non-global unit: first placement seen */
        uint64_t n_placements, expected_placements;
        uint64_t first_submit_usec, last_placement_usec;
        Set *seen;                      /* assignment keys seen (owned) */

        /* --failover */
        bool failover_phase;
        uint64_t failover_placed_usec;

        /* --states */
        char **pending_states;          /* "key\nmachine-index" waiting to be written */
        unsigned states_inflight;
        uint64_t n_states;

        int error;
        bool finished;
} Bench;

static void machine_id(unsigned i, char ret[static 33]) {
        snprintf(ret, 33, "%08x%024x", 0xbe7c0000u + i, i);
}

/* With --reservations, machine i offers 4, 8, 12 or 16 CPUs and 8, 16 or 32 GiB (10 CPU / 18.7 GiB on
 * average); unit i reserves 0.05 to 0.5 CPU and 64 to 512 MiB (0.275 CPU / 288 MiB on average, the
 * globals 0.1 CPU / 128 MiB on every machine): 10,000 units take about 30 % of 1,000 machines' CPUs,
 * so that every MachineOf follower still fits beside its target and all of them are placed. */
static Resources machine_capacity(unsigned i) {
        return (Resources) { .cpu_milli = (i % 4 + 1) * 4000, .memory = (8ULL << (i % 3)) << 30 };
}

static int unit_reserve_lines(unsigned i, char **ret) {
        unsigned cpu = i < arg_globals ? 100 : (i % 10 + 1) * 50, mem = i < arg_globals ? 128 : (i % 8 + 1) * 64;

        if (!arg_reservations)
                return (*ret = strdup("")) ? 0 : -ENOMEM;
        return asprintf(ret, "ReserveCPU=%u.%03u\nReserveMemory=%uM\n", cpu / 1000, cpu % 1000, mem) < 0 ? -ENOMEM : 0;
}

/* Unit i of the mix: the first arg_globals are global; of each 100 others, 10 require a zone, 10
 * conflict with each other (one group per 100), 10 form 5 MachineOf pairs, 70 are unconstrained. */
static int unit_build(unsigned i, char **ret_name, char **ret_text) {
        _cleanup_free_ char *name = NULL, *text = NULL, *reserve = NULL;
        unsigned r = i % 100;
        int k;

        if (unit_reserve_lines(i, &reserve) < 0)
                return -ENOMEM;

        if (i < arg_globals) {
                k = asprintf(&name, "g%07u.service", i);
                if (k >= 0)
                        k = asprintf(&text, "[Service]\nExecStart=/bin/sleep infinity\n"
                                     "[X-Fleet]\nGlobal=true\n%s", reserve);
        } else if (r < 10) {
                k = asprintf(&name, "b%07u.service", i);
                if (k >= 0)
                        k = asprintf(&text, "[Service]\nExecStart=/bin/sleep infinity\n"
                                     "[X-Fleet]\nMachineMetadata=zone=z%u\n%s", i % N_ZONES, reserve);
        } else if (r < 20) {
                k = asprintf(&name, "b%07u-cf%u.service", i, i / 100);
                if (k >= 0)
                        k = asprintf(&text, "[Service]\nExecStart=/bin/sleep infinity\n"
                                     "[X-Fleet]\nConflicts=b*-cf%u.service\n%s", i / 100, reserve);
        } else if (r < 30 && r % 2 == 1) {
                k = asprintf(&name, "b%07u.service", i);
                if (k >= 0)
                        k = asprintf(&text, "[Service]\nExecStart=/bin/sleep infinity\n"
                                     "[X-Fleet]\nMachineOf=b%07u.service\n%s", i - 1, reserve);
        } else {
                k = asprintf(&name, "b%07u.service", i);
                if (k >= 0)
                        k = asprintf(&text, "[Service]\nExecStart=/bin/sleep infinity\n%s%s",
                                     *reserve ? "[X-Fleet]\n" : "", reserve);
        }
        if (k < 0)
                return -ENOMEM;

        *ret_name = TAKE_PTR(name);
        *ret_text = TAKE_PTR(text);
        return 0;
}

static int unit_index(const char *name, unsigned *ret) {
        unsigned i;

        if ((name[0] != 'b' && name[0] != 'g') || sscanf(name + 1, "%7u", &i) != 1 || i >= arg_units)
                return -EINVAL;
        *ret = i;
        return 0;
}

static char *unit_json_text(const char *name, const char *text) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *raw = NULL;
        char hash[SHA1_HEX_SIZE], *json = NULL;

        if (unit_file_parse(text, strlen(text), &u, NULL) < 0 ||
            unit_file_serialize(u, &raw, NULL) < 0 ||
            unit_file_hash_hex(u, hash) < 0)
                return NULL;
        if (registry_unit_to_json(&(RegistryUnit) { .name = (char *) name, .hash = hash, .raw = raw,
                                                    .desired = UNIT_DESIRED_LAUNCHED }, &json) < 0)
                return NULL;
        return json;
}

static char *unit_json(unsigned i) {
        _cleanup_free_ char *name = NULL, *text = NULL;

        if (unit_build(i, &name, &text) < 0)
                return NULL;
        return unit_json_text(name, text);
}

/* End the current phase (the loop is run again for the next one). */
static void bench_finish(Bench *b, int error) {
        if (error < 0 && b->error == 0)
                b->error = error;
        b->finished = true;
}

static int bench_run(Bench *b) {
        int r;

        b->finished = false;
        while (!b->finished) {
                r = sd_event_run(b->loop, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool bench_done(Bench *b) {
        if (b->n_placements < b->expected_placements)
                return false;
        return !arg_states || (b->n_states >= b->n_placements && b->states_inflight == 0);
}

/* ---- hollow agents: report assigned units as active ---- */

static void bench_states_pump(Bench *b);

static void bench_on_states(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Bench *b = userdata;

        b->states_inflight--;
        if (error < 0)
                return bench_finish(b, error);
        bench_states_pump(b);
        if (bench_done(b))
                bench_finish(b, 0);
}

static void bench_states_pump(Bench *b) {
        while (b->states_inflight < STATES_INFLIGHT && strv_length(b->pending_states) > 0) {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
                size_t n = strv_length(b->pending_states), take = MIN(n, (size_t) ETCD_TXN_MAX_OPS);
                int r;

                assert_se(etcd_txn_new(&t) >= 0);
                for (size_t j = n - take; j < n; j++) {
                        _cleanup_free_ char *json = NULL, *key = NULL, *unit = NULL, *machine = NULL;
                        char *s = b->pending_states[j];
                        unsigned mi;

                        assert_se(sscanf(s, "%u", &mi) == 1);
                        assert_se(registry_parse_key(PREFIX, strchr(s, ' ') + 1, &machine, &unit) ==
                                  REGISTRY_KEY_ASSIGNMENT);
                        key = registry_state_key(PREFIX, unit, machine);
                        assert_se(key);
                        assert_se(registry_unit_state_to_json(
                                          &(RegistryUnitState) { .unit = unit, .machine_id = machine,
                                                                 .hash = (char *) FAKE_HASH,
                                                                 .load_state = (char *) "loaded",
                                                                 .active_state = (char *) "active",
                                                                 .sub_state = (char *) "running" },
                                          &json) >= 0);
                        assert_se(etcd_txn_put(t, true, key, json, strlen(json), b->machine_leases[mi],
                                               0) >= 0);
                        free(s);
                        b->pending_states[j] = NULL;
                }
                r = etcd_txn_commit(b->client, t, bench_on_states, b, NULL);
                if (r < 0)
                        return bench_finish(b, r);
                b->states_inflight++;
                b->n_states += take;
        }
}

/* ---- observer ---- */

static void bench_on_schedule(EtcdWatch *w, int error, const EtcdEvent *events, size_t n_events,
                              int64_t revision, void *userdata) {
        Bench *b = userdata;
        usec_t t_now = now(CLOCK_MONOTONIC);

        if (error < 0)
                return bench_finish(b, error);

        for (size_t i = 0; i < n_events; i++) {
                _cleanup_free_ char *machine = NULL, *unit = NULL, *key = NULL;
                unsigned ui;

                if (events[i].type != ETCD_EVENT_PUT)
                        continue;
                if (set_contains(b->seen, events[i].kv.key))
                        continue;
                key = strdup(events[i].kv.key);
                assert_se(key && set_put(b->seen, key) > 0);

                assert_se(registry_parse_key(PREFIX, key, &machine, &unit) == REGISTRY_KEY_ASSIGNMENT);
                TAKE_PTR(key);
                if (b->failover_phase) {
                        if (streq(unit, "failover.service")) {
                                b->failover_placed_usec = t_now;
                                return bench_finish(b, 0);
                        }
                        continue;
                }
                b->n_placements++;
                b->last_placement_usec = t_now;
                if (unit_index(unit, &ui) >= 0 && ui >= arg_globals && b->assigned_usec[ui] == 0)
                        b->assigned_usec[ui] = t_now;

                if (arg_states) {
                        unsigned mi;

                        assert_se(sscanf(machine, "%8x", &mi) == 1);
                        mi -= 0xbe7c0000u;
                        assert_se(mi < arg_machines);
                        assert_se(strv_extendf(&b->pending_states, "%u %s", mi, events[i].kv.key) >= 0);
                }
        }

        if (arg_states)
                bench_states_pump(b);
        if (bench_done(b))
                bench_finish(b, 0);
}

/* One observer over P schedule/, or one watch per hollow machine over its own part of it, as the
 * real agents do: the same events either way, from revision on. */
static int bench_watch_placements(Bench *b, int64_t revision) {
        struct rlimit rl;
        int r;

        if (!arg_agent_watches)
                return etcd_watch_new(&b->observer, b->client, PREFIX "schedule/", ETCD_PREFIX, revision,
                                      bench_on_schedule, b);

        /* One connection per watch. */
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        b->agent_watches = new0(EtcdWatch *, arg_machines);
        if (!b->agent_watches)
                return -ENOMEM;
        for (unsigned i = 0; i < arg_machines; i++) {
                _cleanup_free_ char *key = NULL;
                char id[33];

                machine_id(i, id);
                key = registry_machine_schedule_prefix(PREFIX, id);
                if (!key)
                        return -ENOMEM;
                r = etcd_watch_new(&b->agent_watches[i], b->client, key, ETCD_PREFIX, revision,
                                   bench_on_schedule, b);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- submitter ---- */

static void bench_submit_pump(Bench *b);

static void bench_on_submit(EtcdClient *c, int error, const EtcdResponse *response, void *userdata) {
        Bench *b = userdata;

        b->submit_inflight--;
        if (error < 0)
                return bench_finish(b, error);
        bench_submit_pump(b);
}

static void bench_submit_pump(Bench *b) {
        while (b->submit_inflight < SUBMIT_INFLIGHT && b->next_unit < arg_units) {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
                usec_t t_now = now(CLOCK_MONOTONIC);
                int r;

                assert_se(etcd_txn_new(&t) >= 0);
                for (unsigned j = 0; j < ETCD_TXN_MAX_OPS && b->next_unit < arg_units; j++, b->next_unit++) {
                        _cleanup_free_ char *name = NULL, *text = NULL, *key = NULL, *json = NULL;

                        assert_se(unit_build(b->next_unit, &name, &text) >= 0);
                        key = registry_unit_key(PREFIX, name);
                        json = unit_json(b->next_unit);
                        assert_se(key && json);
                        assert_se(etcd_txn_put(t, true, key, json, strlen(json), 0, 0) >= 0);
                        b->submitted_usec[b->next_unit] = t_now;
                }
                r = etcd_txn_commit(b->client, t, bench_on_submit, b, NULL);
                if (r < 0)
                        return bench_finish(b, r);
                if (b->first_submit_usec == 0)
                        b->first_submit_usec = t_now;
                b->submit_inflight++;
        }
}

/* ---- the engine, in a child process ---- */

static atomic_bool engine_stop;
static pid_t parent_pid;

static void engine_on_sigterm(int sig) {
        engine_stop = true;
}

_noreturn_ static void engine_child(void) {
        _cleanup_(sd_event_unrefp) sd_event *loop = NULL;
        EtcdClient *client = NULL;
        Engine *e = NULL;
        const EngineStats *s;
        struct rusage ru;

        (void) signal(SIGTERM, engine_on_sigterm);
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        /* The parent may have died before the line above: then nobody would ever stop us. */
        if (getppid() != parent_pid)
                _exit(1);

        assert_se(sd_event_new(&loop) >= 0);
        assert_se(etcd_client_new(&client, loop, &(EtcdConfig) { .endpoints = arg_endpoints }) >= 0);
        assert_se(engine_new(&e, loop, client, &(EngineConfig) { .key_prefix = PREFIX,
                                                                   .machine_id = LEADER_ID,
                                                                   .lease_ttl_sec = 10 }) >= 0);
        assert_se(engine_start(e) >= 0);

        while (!engine_stop)
                (void) sd_event_run(loop, 100 * 1000);
        /* The observer may see the last placements before we see their txns' answers. */
        for (unsigned i = 0; i < 50 && !engine_is_idle(e); i++)
                (void) sd_event_run(loop, 100 * 1000);

        s = engine_get_stats(e);
        assert_se(getrusage(RUSAGE_SELF, &ru) >= 0);
        printf("engine: %" PRIu64 " passes, %" PRIu64 " write txns, %" PRIu64 " ops, %" PRIu64 " etcd requests "
               "(all of them, watch and lease included), CPU %.2f s user + %.2f s system\n",
               s->n_reconciles, s->n_txns, s->n_ops, etcd_client_requests_sent(client),
               ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
        fflush(stdout);

        /* Resign (revoke the lease) so that a successor need not wait for the TTL; then leave
         * without cleanup: the parent owns etcd and everything else. */
        e = engine_free(e);
        for (unsigned i = 0; i < 5; i++)
                (void) sd_event_run(loop, 100 * 1000);
        _exit(0);
}

static uint64_t proc_status_kb(pid_t pid, const char *field) {
        char path[64], line[256];
        _cleanup_fclose_ FILE *f = NULL;
        uint64_t v = 0;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (startswith(line, field))
                        (void) sscanf(line + strlen(field), " %" SCNu64, &v);
        return v;
}

/* ---- setup ---- */

static int register_machines(Bench *b) {
        for (unsigned i = 0; i < arg_machines;) {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
                int r;

                assert_se(etcd_txn_new(&t) >= 0);
                for (unsigned j = 0; j < ETCD_TXN_MAX_OPS && i < arg_machines; j++, i++) {
                        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
                        _cleanup_free_ char *key = NULL, *json = NULL, *zone = NULL;
                        char id[33];

                        /* Long enough for the whole run: hollow machines do not renew. */
                        r = etcd_sync_lease_grant(b->client, 600, 0, &resp);
                        if (r < 0)
                                return r;
                        b->machine_leases[i] = resp->lease_id;

                        machine_id(i, id);
                        if (asprintf(&zone, "zone=z%u", i % N_ZONES) < 0)
                                return -ENOMEM;
                        key = registry_machine_key(PREFIX, id);
                        if (!key)
                                return -ENOMEM;
                        r = registry_machine_to_json(&(RegistryMachine) { .id = id,
                                                                          .metadata = STRV_MAKE(zone),
                                                                          .version = (char *) FLEET_VERSION,
                                                                          .agent_ttl_sec = 600,
                                                                          .has_capacity = arg_reservations,
                                                                          .capacity = machine_capacity(i) },
                                                     &json);
                        if (r < 0)
                                return r;
                        r = etcd_txn_put(t, true, key, json, strlen(json), b->machine_leases[i], 0);
                        if (r < 0)
                                return r;
                }
                r = etcd_sync_txn(b->client, t, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static void help(void) {
        printf("Usage: bench-placement [OPTIONS]\n\n"
               "  -m, --machines=M     hollow machines (default 1000)\n"
               "  -n, --units=N        units to submit (default 10000)\n"
               "  -g, --globals=G      of which global units (default 2)\n"
               "  -s, --states         hollow machines report assigned units active in P states/\n"
               "  -w, --agent-watches  every hollow machine watches its own P schedule/<id>/ (one\n"
               "                       stream each, as agents do) instead of one observer\n"
               "  -f, --failover       then replace the leader: time until a successor, listing\n"
               "                       everything, places one more unit\n"
               "  -r, --reservations   machines publish capacities, units reserve CPU and memory\n"

               "  -e, --endpoints=URL  use this etcd (comma-separated); default: start one on /dev/shm\n");
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h' },
                { "machines",  required_argument, NULL, 'm' },
                { "units",     required_argument, NULL, 'n' },
                { "globals",   required_argument, NULL, 'g' },
                { "states",    no_argument,       NULL, 's' },
                { "failover",  no_argument,       NULL, 'f' },
                { "agent-watches", no_argument,   NULL, 'w' },
                { "reservations", no_argument,    NULL, 'r' },

                { "endpoints", required_argument, NULL, 'e' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hm:n:g:sfwre:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        exit(0);
                case 'm':
                        arg_machines = strtoul(optarg, NULL, 10);
                        break;
                case 'n':
                        arg_units = strtoul(optarg, NULL, 10);
                        break;
                case 'g':
                        arg_globals = strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        arg_states = true;
                        break;
                case 'f':
                        arg_failover = true;
                        break;
                case 'w':
                        arg_agent_watches = true;
                        break;
                case 'r':
                        arg_reservations = true;
                        break;

                case 'e':
                        arg_endpoints = strv_split(optarg, ",");
                        if (!arg_endpoints)
                                return log_oom();
                        break;
                default:
                        return -EINVAL;
                }

        /* A conflict group holds 10 units: with fewer machines some would never be placed. */
        if (arg_machines < 10 || arg_units < 1 || arg_units > 9999999 || arg_globals > arg_units)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Need at least 10 machines, 1..9999999 units, "
                                       "at most as many globals.");
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *fixture = NULL;
        _cleanup_(sd_event_unrefp) sd_event *loop = NULL;
        _cleanup_free_ uint64_t *latencies = NULL;
        Bench b = {};
        uint64_t t0, elapsed, n_lat = 0, hwm_kb;
        pid_t child;
        int status, r;

        log_set_target(LOG_TARGET_CONSOLE);
        parent_pid = getpid();
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 1 : 0;

        if (!arg_endpoints) {
                if (access(ETCD_FIXTURE_BINARY, X_OK) < 0) {
                        log_error("etcd not installed (%s), and no --endpoints given.", ETCD_FIXTURE_BINARY);
                        return 1;
                }
                r = etcd_fixture_start(&fixture, 1, &(EtcdFixtureOptions) { .in_memory = true });
                if (r < 0)
                        return log_error_errno(r, "Failed to start etcd: %m"), 1;
                arg_endpoints = strv_copy(fixture->endpoints);
                if (!arg_endpoints)
                        return log_oom(), 1;
        }

        b.machine_leases = new0(int64_t, arg_machines);
        b.submitted_usec = new0(uint64_t, arg_units);
        b.assigned_usec = new0(uint64_t, arg_units);
        b.seen = set_new();
        if (!b.machine_leases || !b.submitted_usec || !b.assigned_usec || !b.seen)
                return log_oom(), 1;
        b.expected_placements = (uint64_t) (arg_units - arg_globals) + (uint64_t) arg_globals * arg_machines;

        assert_se(sd_event_new(&loop) >= 0);
        b.loop = loop;
        assert_se(etcd_client_new(&b.client, loop, &(EtcdConfig) { .endpoints = arg_endpoints }) >= 0);
        (void) etcd_sync_delete(b.client, PREFIX, ETCD_PREFIX, NULL);

        t0 = now(CLOCK_MONOTONIC);
        r = register_machines(&b);
        if (r < 0)
                return log_error_errno(r, "Failed to register machines: %m"), 1;
        printf("registered %u hollow machines (each under its own lease) in %.2f s\n", arg_machines,
               (double) (now(CLOCK_MONOTONIC) - t0) / (double) USEC_PER_SEC);

        fflush(stdout);
        child = fork();
        if (child < 0)
                return log_error_errno(errno, "Failed to fork: %m"), 1;
        if (child == 0)
                engine_child();

        /* Wait for the leader, then start watching placements from that point on. */
        for (;;) {
                _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;

                r = etcd_sync_range(b.client, &(EtcdRangeOptions) { .key = PREFIX "engine/leader" }, &resp);
                if (r >= 0 && resp->n_kvs > 0) {
                        r = bench_watch_placements(&b, resp->revision + 1);
                        break;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to watch placements: %m"), 1;

        if (arg_agent_watches) {
                /* Let the machines' streams connect first: their set-up is not placement time. */
                uint64_t until = now(CLOCK_MONOTONIC) + (arg_machines / 500 + 1) * USEC_PER_SEC;

                while (now(CLOCK_MONOTONIC) < until)
                        (void) sd_event_run(loop, until - now(CLOCK_MONOTONIC));
        }

        bench_submit_pump(&b);
        r = bench_run(&b);
        if (r < 0 || b.error < 0)
                log_error_errno(b.error ?: r, "Benchmark failed: %m");

        hwm_kb = proc_status_kb(child, "VmHWM:");
        (void) kill(child, SIGTERM);
        (void) waitpid(child, &status, 0);

        latencies = new(uint64_t, arg_units);
        if (!latencies)
                return log_oom(), 1;
        for (unsigned i = arg_globals; i < arg_units; i++)
                if (b.assigned_usec[i] > 0)
                        latencies[n_lat++] = b.assigned_usec[i] -
                                MIN(b.assigned_usec[i], b.submitted_usec[i]);
        qsort(latencies, n_lat, sizeof(uint64_t), cmp_u64);

        elapsed = b.last_placement_usec - b.first_submit_usec;
        printf("machines %u, units %u (%u global), placements %" PRIu64 "/%" PRIu64 "%s%s\n", arg_machines,
               arg_units, arg_globals, b.n_placements, b.expected_placements,
               arg_states ? ", states reported" : "",
               arg_reservations ? ", reservations (spread)" : "");
        printf("first submit to last placement: %.3f s, %.0f placements/s committed\n", elapsed / 1e6,
               b.n_placements / (elapsed / 1e6));
        if (n_lat > 0)
                printf("submit-to-assigned latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                       latencies[n_lat / 2] / 1e3, latencies[MIN(n_lat - 1, n_lat * 99 / 100)] / 1e3,
                       latencies[n_lat - 1] / 1e3);
        printf("leader (engine process) peak RSS: %.1f MiB\n", hwm_kb / 1024.0);

        if (arg_failover && b.error == 0) {
                _cleanup_free_ char *json = NULL;
                uint64_t t_fail;

                /* The old leader resigned on SIGTERM; a new one must list everything before it can
                 * place anything. */
                b.failover_phase = true;
                fflush(stdout);
                t_fail = now(CLOCK_MONOTONIC);
                child = fork();
                if (child < 0)
                        return log_error_errno(errno, "Failed to fork: %m"), 1;
                if (child == 0)
                        engine_child();

                json = unit_json_text("failover.service", "[Service]\nExecStart=/bin/sleep infinity\n");
                assert_se(json);
                assert_se(etcd_sync_put(b.client, PREFIX "units/failover.service", json, strlen(json), 0, 0,
                                        NULL) >= 0);
                r = bench_run(&b);
                if (r < 0 || b.error < 0)
                        log_error_errno(b.error ?: r, "Failover failed: %m");

                hwm_kb = proc_status_kb(child, "VmHWM:");
                (void) kill(child, SIGTERM);
                (void) waitpid(child, &status, 0);
                if (b.failover_placed_usec > 0)
                        printf("failover: a new leader listed %" PRIu64 " placements and placed one more unit "
                               "%.3f s after it started; its peak RSS %.1f MiB\n", b.n_placements,
                               (b.failover_placed_usec - t_fail) / 1e6, hwm_kb / 1024.0);
        }

        b.observer = etcd_watch_free(b.observer);
        for (unsigned i = 0; b.agent_watches && i < arg_machines; i++)
                etcd_watch_free(b.agent_watches[i]);
        free(b.agent_watches);
        (void) etcd_sync_delete(b.client, PREFIX, ETCD_PREFIX, NULL);
        b.client = etcd_client_free(b.client);
        free(b.machine_leases);
        free(b.submitted_usec);
        free(b.assigned_usec);
        set_free_free(b.seen);
        strv_free(b.pending_states);
        strv_free(arg_endpoints);
        return b.error < 0 || b.n_placements < b.expected_placements ? 1 : 0;
}
