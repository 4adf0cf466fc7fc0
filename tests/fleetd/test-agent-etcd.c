/* SPDX-License-Identifier: Apache-2.0 */

/* The agent against a real etcd and a fake systemd: an in-process sd-bus server on a unix socket
 * that implements the Manager calls the agent makes (Subscribe, Reload, Start/Stop/RestartUnit,
 * ListUnitsByNames, GetUnitByPID, Enable/Disable/LinkUnitFiles in the runtime scope) and emits
 * PropertiesChanged and JobRemoved like PID 1. It checks what the agent does in systemd and in etcd:
 * no reload for units new to systemd (their start loads them), one per change set otherwise (and
 * for a new unit systemd refused to start, not having loaded it), files and links, states published under the lease and only when
 * changed, stop on "loaded", restart on a new body, unload on delete (also while the start job is
 * still queued), [Install] sections enabled
 * before the reload and disabled on unload, fencing when the lease is lost (global units keep
 * running), adoption without reload or restart by a second agent, and the lease release on
 * shutdown; then, with etcd frozen (SIGSTOP) under an agent of TTL 6 s, fencing before the lease's
 * deadline and a late renewal that stops nothing. */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>

#include "agent-internal.h"
#include "cluster-key.h"
#include "cluster-object.h"
#include "etcd-client.h"
#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "fileio.h"
#include "hashmap.h"
#include "registry.h"
#include "sha1.h"
#include "strv.h"
#include "tap.h"
#include "time-util.h"

#define MACHINE "0123456789abcdef0123456789abcdef"
#define PREFIX "/fleet-agent-test/"

typedef struct FakeUnit {
        char *name;
        const char *load;               /* as of its first mention or the last Reload, as systemd */
        const char *active;
        const char *sub;
        unsigned starts, stops, restarts;
        uint64_t stopped_at;            /* CLOCK_MONOTONIC of the last stop of the active unit */
        bool enabled;                   /* its [Install] links exist in the runtime scope */
        unsigned enables, disables, links;
        unsigned reloads_at_enable;     /* fake.reloads when it was last enabled */
} FakeUnit;

typedef struct Fake {
        sd_event *event;
        int listen_fd;
        sd_event_source *accept_source;
        sd_bus *buses[8];
        size_t n_buses;
        sd_bus *current;
        Hashmap *units;
        char *link_dir;
        unsigned reloads, job_id;
        bool hold_restart;              /* a restart stops the old process (failed) and waits */
        FakeUnit *held;                 /* ... for fake_finish_restart() */
        unsigned held_job;
        bool hold_start;                /* a start job stays queued (PID 1 busy): the unit inactive */
        FakeUnit *held_start;           /* ... until fake_finish_start(), or a stop cancels it */
        unsigned held_start_job;
        bool hold_reload;               /* a Reload's reply waits (PID 1 busy reloading) ... */
        sd_bus_message *held_reload;    /* ... for fake_finish_reload() */
} Fake;

static Fake fake;

#define RUN_UNTIL(cond, seconds)                                                        \
        ({                                                                              \
                uint64_t _end = now(CLOCK_MONOTONIC) + (uint64_t) (seconds) * USEC_PER_SEC;           \
                while (!(cond) && now(CLOCK_MONOTONIC) < _end)                                    \
                        (void) sd_event_run(fake.event, 50 * USEC_PER_MSEC);                         \
                (cond);                                                                 \
        })

/* Give the agent the chance to do something it should not: run the loop for a while. */
static void settle(void) {
        uint64_t end = now(CLOCK_MONOTONIC) + 700000;

        while (now(CLOCK_MONOTONIC) < end)
                (void) sd_event_run(fake.event, 50 * USEC_PER_MSEC);
}

static const char *fake_file_state(const char *name) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        assert_se(asprintf(&p, "%s%s", fake.link_dir, name) > 0);
        return stat(p, &st) == 0 ? "loaded" : "not-found";
}

static FakeUnit *fake_unit(const char *name) {
        FakeUnit *u = hashmap_get(fake.units, name);

        if (u)
                return u;
        u = new0(FakeUnit, 1);
        assert_se(u);
        u->name = strdup(name);
        u->load = fake_file_state(name);
        u->active = "inactive";
        u->sub = "dead";
        assert_se(hashmap_put(fake.units, u->name, u) == 1);
        return u;
}

/* Like systemd: a unit is loaded from its file when first mentioned, and again only by a reload;
 * one mentioned before its file existed stays not-found until then. */
static const char *fake_load_state(const char *name) {
        FakeUnit *u = hashmap_get(fake.units, name);

        return u ? u->load : fake_file_state(name);
}

static void fake_emit_state(sd_bus *bus, FakeUnit *u) {
        _cleanup_free_ char *path = NULL;

        assert_se(sd_bus_path_encode("/org/freedesktop/systemd1/unit", u->name, &path) >= 0);
        assert_se(sd_bus_emit_signal(bus, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                     "sa{sv}as", "org.freedesktop.systemd1.Unit", 3, "LoadState", "s",
                                     fake_load_state(u->name), "ActiveState", "s", u->active,
                                     "SubState", "s", u->sub, 0) >= 0);
}

static void fake_emit_job_removed(sd_bus *bus, FakeUnit *u, unsigned id, const char *result) {
        _cleanup_free_ char *job = NULL;

        assert_se(asprintf(&job, "/org/freedesktop/systemd1/job/%u", id) > 0);
        assert_se(sd_bus_emit_signal(bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     "JobRemoved", "uoss", id, job, u->name, result) >= 0);
}

static void fake_emit(sd_bus *bus, FakeUnit *u, const char *result) {
        fake_emit_state(bus, u);
        fake_emit_job_removed(bus, u, fake.job_id, result);
}

/* The held restart's start part: the new process runs, then (as PID 1 orders them) its job ends. */
static void fake_finish_restart(void) {
        FakeUnit *u = TAKE_PTR(fake.held);

        assert_se(u);
        u->active = "active";
        u->sub = "running";
        fake_emit_state(fake.current, u);
        fake_emit_job_removed(fake.current, u, fake.held_job, "done");
}

/* The held start job runs: the unit is active. */
static void fake_finish_start(void) {
        FakeUnit *u = TAKE_PTR(fake.held_start);

        assert_se(u);
        u->starts++;
        u->active = "active";
        u->sub = "running";
        fake_emit_state(fake.current, u);
        fake_emit_job_removed(fake.current, u, fake.held_start_job, "done");
}

static int fake_job(sd_bus_message *m, const char *verb) {
        _cleanup_free_ char *job = NULL;
        const char *name, *mode;
        FakeUnit *u;
        int r;

        r = sd_bus_message_read(m, "ss", &name, &mode);
        if (r < 0)
                return r;
        /* Like systemd: a unit not loaded (no file as of its first mention or the last reload)
         * gets no job, hence no JobRemoved; one loaded before its file went still stops. */
        if (streq(fake_load_state(name), "not-found"))
                return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit",
                                                  streq(verb, "stop") ? "Unit %s not loaded." : "Unit %s not found.",
                                                  name);
        u = fake_unit(name);
        if (streq(verb, "start") && fake.hold_start && !streq(u->active, "active")) {
                /* Queued behind other jobs: inactive, with a start job pending. */
                fake.job_id++;
                assert_se(asprintf(&job, "/org/freedesktop/systemd1/job/%u", fake.job_id) > 0);
                fake.held_start = u;
                fake.held_start_job = fake.job_id;
                return sd_bus_reply_method_return(m, "o", job);
        }
        if (streq(verb, "stop") && fake.held_start == u) {
                /* Like systemd's "replace" mode: the stop job cancels the queued start. */
                fake.held_start = NULL;
                fake_emit_job_removed(sd_bus_message_get_bus(m), u, fake.held_start_job, "canceled");
        }
        if (streq(verb, "start")) {
                /* Like systemd: starting an active unit is a no-op. */
                if (!streq(u->active, "active"))
                        u->starts++;
                u->active = "active";
                u->sub = "running";
        } else if (streq(verb, "restart")) {
                u->restarts++;
                u->active = "active";
                u->sub = "running";
                if (fake.hold_restart) {
                        /* Like a container that ignores SIGTERM and is killed: the old process's
                         * end fails the unit, within the restart job, before the start part. */
                        u->active = "failed";
                        u->sub = "failed";
                        fake.held = u;
                }
        } else {
                if (streq(u->active, "active")) {
                        u->stops++;
                        u->stopped_at = now(CLOCK_MONOTONIC);
                }
                u->active = "inactive";
                u->sub = "dead";
        }
        fake.job_id++;
        assert_se(asprintf(&job, "/org/freedesktop/systemd1/job/%u", fake.job_id) > 0);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0)
                return r;
        if (fake.held == u) {
                fake.held_job = fake.job_id;
                fake_emit_state(sd_bus_message_get_bus(m), u);
                return 1;
        }
        fake_emit(sd_bus_message_get_bus(m), u, "done");
        return 1;
}

static int fake_start(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return fake_job(m, "start");
}
static int fake_stop(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return fake_job(m, "stop");
}
static int fake_restart(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return fake_job(m, "restart");
}

/* Like systemd: link path (or the unit path's name) into the unit path, replacing what is there. */
static void fake_link(const char *path) {
        _cleanup_free_ char *link = NULL;

        assert_se(asprintf(&link, "%s%s", fake.link_dir, basename(path)) > 0);
        (void) unlink(link);
        assert_se(symlink(path, link) == 0);
}

static int fake_unit_files(sd_bus_message *m, const char *verb) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **files = NULL;
        int runtime, force = true, r;

        r = sd_bus_message_read_strv(m, &files);
        if (r < 0)
                return r;
        r = streq(verb, "disable") ? sd_bus_message_read(m, "b", &runtime) :
                                     sd_bus_message_read(m, "bb", &runtime, &force);
        if (r < 0)
                return r;
        if (!runtime || !force)
                return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.InvalidArgs",
                                                  "only runtime=true, force=true is expected");
        STRV_FOREACH(f, files) {
                FakeUnit *u = fake_unit(basename(*f));

                if (streq(verb, "disable")) {
                        _cleanup_free_ char *link = NULL;

                        /* systemd removes the unit's own link too. */
                        assert_se(asprintf(&link, "%s%s", fake.link_dir, u->name) > 0);
                        (void) unlink(link);
                        u->enabled = false;
                        u->disables++;
                        continue;
                }
                if ((*f)[0] != '/')
                        return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.InvalidArgs",
                                                          "%s: a path is expected", *f);
                fake_link(*f);
                if (streq(verb, "enable")) {
                        u->enabled = true;
                        u->enables++;
                        u->reloads_at_enable = fake.reloads;
                } else
                        u->links++;
        }
        assert_se(sd_bus_message_new_method_return(m, &reply) >= 0);
        if (streq(verb, "enable"))
                assert_se(sd_bus_message_append(reply, "b", true) >= 0);
        assert_se(sd_bus_message_append(reply, "a(sss)", 0) >= 0);
        return sd_bus_send(NULL, reply, NULL);
}

static int fake_enable(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return fake_unit_files(m, "enable");
}
static int fake_disable(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return fake_unit_files(m, "disable");
}
static int fake_link_files(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return fake_unit_files(m, "link");
}

static int fake_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return sd_bus_reply_method_return(m, "");
}

static int fake_reload(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        FakeUnit *u;

        fake.reloads++;
        HASHMAP_FOREACH(u, fake.units)
                u->load = fake_file_state(u->name);
        if (fake.hold_reload) {
                fake.held_reload = sd_bus_message_ref(m);
                return 1;
        }
        return sd_bus_reply_method_return(m, "");
}

static void fake_finish_reload(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = TAKE_PTR(fake.held_reload);

        assert_se(m);
        assert_se(sd_bus_reply_method_return(m, "") >= 0);
}

static int fake_get_unit_by_pid(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoUnitForPID", "not a unit");
}

static int fake_list(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                return r;
        assert_se(sd_bus_message_new_method_return(m, &reply) >= 0);
        assert_se(sd_bus_message_open_container(reply, 'a', "(ssssssouso)") >= 0);
        STRV_FOREACH(n, names) {
                FakeUnit *u = fake_unit(*n);
                _cleanup_free_ char *path = NULL;

                assert_se(sd_bus_path_encode("/org/freedesktop/systemd1/unit", u->name, &path) >= 0);
                assert_se(sd_bus_message_append(reply, "(ssssssouso)", u->name, "", fake_load_state(u->name),
                                                u->active, u->sub, "", path, 0, "", "/") >= 0);
        }
        assert_se(sd_bus_message_close_container(reply) >= 0);
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable fake_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Subscribe", "", "", fake_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "", fake_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("StartUnit", "ss", "o", fake_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("StopUnit", "ss", "o", fake_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("RestartUnit", "ss", "o", fake_restart, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ListUnitsByNames", "as", "a(ssssssouso)", fake_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetUnitByPID", "u", "o", fake_get_unit_by_pid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("EnableUnitFiles", "asbb", "ba(sss)", fake_enable, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("DisableUnitFiles", "asb", "a(sss)", fake_disable, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("LinkUnitFiles", "asbb", "a(sss)", fake_link_files, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END
};

static int fake_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        int cfd;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        assert_se(fake.n_buses < ELEMENTSOF(fake.buses));
        assert_se(sd_bus_new(&bus) >= 0);
        assert_se(sd_bus_set_fd(bus, cfd, cfd) >= 0);
        assert_se(sd_id128_randomize(&id) >= 0);
        assert_se(sd_bus_set_server(bus, 1, id) >= 0);
        assert_se(sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", fake_vtable, NULL) >= 0);
        assert_se(sd_bus_start(bus) >= 0);
        assert_se(sd_bus_attach_event(bus, fake.event, 0) >= 0);
        fake.buses[fake.n_buses++] = bus;
        fake.current = bus;
        return 0;
}

static void fake_setup(const char *socket_path, const char *link_dir) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        fake.units = hashmap_new();
        fake.link_dir = strdup(link_dir);
        assert_se(fake.units && fake.link_dir);
        assert_se(strlen(socket_path) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, socket_path);
        fake.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_se(fake.listen_fd >= 0);
        assert_se(bind(fake.listen_fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        assert_se(listen(fake.listen_fd, 4) == 0);
        assert_se(sd_event_add_io(fake.event, &fake.accept_source, fake.listen_fd, EPOLLIN, fake_on_accept,
                                  NULL) >= 0);
}

static void fake_unit_free(void *p) {
        FakeUnit *u = p;

        free(u->name);
        free(u);
}

static void fake_teardown(void) {
        for (size_t i = 0; i < fake.n_buses; i++) {
                (void) sd_bus_detach_event(fake.buses[i]);
                sd_bus_flush_close_unref(fake.buses[i]);
        }
        sd_event_source_unref(fake.accept_source);
        safe_close(fake.listen_fd);
        hashmap_free_with_destructor(fake.units, fake_unit_free);
        free(fake.link_dir);
}

/* ---- etcd helpers ---- */

static EtcdClient *etcd;

static void assignment_body(const char *name, const char *extra, char **ret_raw, char **ret_hash) {
        uint8_t digest[SHA1_DIGEST_SIZE];
        char hex[SHA1_HEX_SIZE];

        assert_se(asprintf(ret_raw, "[Unit]\nDescription=%s\n\n[Service]\nExecStart=/bin/sleep 1000\n%s",
                           name,
                           extra) > 0);
        sha1_buffer(*ret_raw, strlen(*ret_raw), digest);
        *ret_hash = strdup(sha1_to_hex(digest, hex));
}

static void txn_assign(EtcdTxn *t, const char *name, const char *extra, UnitDesiredState desired) {
        _cleanup_free_ char *raw = NULL, *hash = NULL, *json = NULL, *key = NULL;
        RegistryAssignment a;

        assignment_body(name, extra, &raw, &hash);
        /* Global as the leader writes it: the agent reads the flag, not the body. */
        a = (RegistryAssignment) { .unit = (char *) name, .hash = hash, .raw = raw, .desired = desired,
                                   .global = strstr(extra, "Global=true") };
        assert_se(registry_assignment_to_json(&a, &json) == 0);
        key = registry_assignment_key(PREFIX, MACHINE, name);
        assert_se(etcd_txn_put(t, true, key, json, strlen(json), 0, 0) == 0);
}

static void assign(const char *name, const char *extra, UnitDesiredState desired) {
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

        assert_se(etcd_txn_new(&t) == 0);
        txn_assign(t, name, extra, desired);
        assert_se(etcd_sync_txn(etcd, t, NULL) == 0);
}

static RegistryUnitState *get_state(const char *name) {
        _cleanup_(etcd_response_freep) EtcdResponse *r = NULL;
        _cleanup_free_ char *key = registry_state_key(PREFIX, name, MACHINE);
        RegistryUnitState *s = NULL;
        EtcdRangeOptions o = { .key = key };

        if (etcd_sync_range(etcd, &o, &r) < 0 || r->n_kvs == 0)
                return NULL;
        if (registry_unit_state_from_json(r->kvs[0].value, r->kvs[0].value_size, &s) < 0)
                return NULL;
        return s;
}

static bool state_is(const char *name, const char *active) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *s = get_state(name);

        return s ? streq_ptr(s->active_state, active) : active == NULL;
}

static int64_t machine_lease(void) {
        _cleanup_(etcd_response_freep) EtcdResponse *r = NULL;
        _cleanup_free_ char *key = registry_machine_key(PREFIX, MACHINE);
        EtcdRangeOptions o = { .key = key };

        if (etcd_sync_range(etcd, &o, &r) < 0 || r->n_kvs == 0)
                return 0;
        return r->kvs[0].lease;
}

static bool fake_active(const char *name) {
        FakeUnit *u = hashmap_get(fake.units, name);

        return u && streq(u->active, "active");
}

static bool file_is(const char *dir, const char *name, const char *content_start) {
        _cleanup_free_ char *p = NULL, *s = NULL;

        assert_se(asprintf(&p, "%s%s", dir, name) > 0);
        if (read_full_file(p, &s, NULL, 0) < 0)
                return false;
        return startswith(s, content_start) != NULL;
}

#define FOREACH_REFUSED(n, ...) for (const char *const *_l = (const char *const[]) { __VA_ARGS__, NULL }, *n; (n = *_l); _l++)

static bool refused_because(const char *name, const char *why) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *s = get_state(name);

        return s && streq(s->load_state, "refused") && streq(s->active_state, "inactive") && s->reason &&
               strstr(s->reason, why);
}

static bool get_state_exists(const char *name) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *s = get_state(name);

        return s != NULL;
}

static bool shut_down;

static void on_shut_down(Agent *a, void *userdata) {
        shut_down = true;
}

static bool registered;

static void on_registered(Agent *a, void *userdata) {
        registered = true;
}

/* One agent over a fake systemd, in steps; each step starts from what the one before left. */
static Agent *a;
static AgentConfig config;
static EtcdFixture *fixture;
static char *units_dir, *link_dir, *sys_dir;

static void test_change_set(void) {
        unsigned ops;

        /* Three units in one change set. */
        {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) == 0);
                txn_assign(t, "a.service", "", UNIT_DESIRED_LAUNCHED);
                txn_assign(t, "b.service", "", UNIT_DESIRED_LAUNCHED);
                txn_assign(t, "g.service", "\n[X-Fleet]\nGlobal=true\n", UNIT_DESIRED_LAUNCHED);
                assert_se(etcd_sync_txn(etcd, t, NULL) == 0);
        }
        ok(RUN_UNTIL(fake_active("a.service") && fake_active("b.service") && fake_active("g.service"), 10),
           "three assigned units are started");
        /* systemd loads a unit's file when its name is first mentioned: a reload, which reads every
         * unit again, would only hold the starts back (a machine taking over 150 units waited
         * seconds for it). */
        is_int(fake.reloads, 0, "without a daemon-reload: they are new to systemd");
        ok(file_is(units_dir, "a.service", "[Unit]\nDescription=a.service\n"),
           "the body is in the units directory");
        ok(file_is(link_dir, "a.service", "[Unit]\nDescription=a.service\n"),
           "and linked into the unit path");
        ok(RUN_UNTIL(state_is("a.service", "active") && state_is("b.service", "active") &&
                     state_is("g.service", "active"), 10),
           "their states are published");
        {
                _cleanup_(registry_unit_state_freep) RegistryUnitState *s = get_state("a.service");
                _cleanup_free_ char *raw = NULL, *hash = NULL;

                assignment_body("a.service", "", &raw, &hash);
                is_str(s ? s->hash : NULL, hash, "with the body's hash");
                is_str(s ? s->sub_state : NULL, "running", "and the sub state");
        }

        /* The same state reported again is not written again. */
        settle();
        ops = (unsigned) agent_get_stats(a)->n_state_ops;
        fake_emit(fake.current, fake_unit("a.service"), "done");
        fake_emit(fake.current, fake_unit("b.service"), "done");
        settle();
        is_int(agent_get_stats(a)->n_state_ops, ops, "an unchanged state is not written again");
}

static bool name_exists(const char *name) {
        _cleanup_(etcd_response_freep) EtcdResponse *r = NULL;
        _cleanup_free_ char *key = registry_name_key(PREFIX, name, MACHINE);
        EtcdRangeOptions o = { .key = key };

        assert_se(etcd_sync_range(etcd, &o, &r) >= 0);
        return r->n_kvs > 0;
}

/* What the runtime's "inspect" would answer once the container runs: there is no container here,
 * so its address is given to the agent as the probe would (agent-names.c). */
static void give_address(const char *name) {
        AgentUnit *u = hashmap_get(a->units, name);

        assert_se(u && !u->address);
        u->address = strdup("10.42.7.9");
        assert_se(u->address);
        agent_schedule_publish(a);
}

#define NAMED "\n[X-Fleet-Network]\nProject=t\nService=web\nContainer=t-web\n"
#define DRAIN_USEC (1500 * USEC_PER_MSEC)

/* Issue 13: a unit whose container's name is published is stopped (desired loaded), restarted onto
 * a new body, or unloaded only after the name was withdrawn and the drain period passed since: no
 * machine's DNS gives out the address of a container that stops. */
static void test_name_drain(void) {
        FakeUnit *fu = fake_unit("named.service");
        unsigned stops, restarts;
        usec_t asked;
        bool ran;

        agent_set_name_drain(a, DRAIN_USEC);
        assign("named.service", NAMED, UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(fake_active("named.service") && hashmap_get(a->units, "named.service") &&
                     ((AgentUnit *) hashmap_get(a->units, "named.service"))->name_spec, 10), "a named unit runs");
        give_address("named.service");
        ok(RUN_UNTIL(name_exists("named.service"), 10), "its name is published");

        /* Stopped: the name goes first, the stop a drain period after. */
        stops = fu->stops;
        asked = now(CLOCK_MONOTONIC);
        assign("named.service", NAMED, UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(!name_exists("named.service"), 10), "desired loaded: the name is withdrawn");
        ran = fake_active("named.service") && fu->stops == stops;
        ok(ran, "while the unit still runs");
        ok(RUN_UNTIL(fu->stops > stops, 10), "then it is stopped");
        ok(fu->stopped_at >= asked + DRAIN_USEC, "not before the drain period (%.2f s after the request)",
           ((double) fu->stopped_at - (double) asked) / 1e6);

        /* Restarted onto a new body: likewise before the old copy stops. */
        assign("named.service", NAMED, UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(fake_active("named.service"), 10), "started again");
        give_address("named.service");
        ok(RUN_UNTIL(name_exists("named.service"), 10), "its name is published again");
        restarts = fu->restarts;
        asked = now(CLOCK_MONOTONIC);
        assign("named.service", NAMED "Aliases=v2\n", UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(!name_exists("named.service"), 10), "a new body: the name is withdrawn");
        ok(fu->restarts == restarts, "before the restart");
        ok(RUN_UNTIL(fu->restarts > restarts, 10), "then it is restarted onto the new body");
        ok(now(CLOCK_MONOTONIC) >= asked + DRAIN_USEC, "not before the drain period");
        settle();
        ok(!name_exists("named.service"), "the new copy's name waits for its own address");
        give_address("named.service");
        ok(RUN_UNTIL(name_exists("named.service"), 10), "and is published with it");

        /* Unloaded (destroyed or moved away): likewise. */
        stops = fu->stops;
        asked = now(CLOCK_MONOTONIC);
        {
                _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, "named.service");

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        ok(RUN_UNTIL(!name_exists("named.service"), 10), "unassigned: the name is withdrawn");
        ok(fake_active("named.service") && fu->stops == stops, "while the unit still runs");
        ok(RUN_UNTIL(fu->stops > stops && !get_state_exists("named.service"), 10), "then it is stopped and unloaded");
        ok(fu->stopped_at >= asked + DRAIN_USEC, "not before the drain period (%.2f s after the request)",
           ((double) fu->stopped_at - (double) asked) / 1e6);
        agent_set_name_drain(a, 0);
}

#define OTHER "fedcba9876543210fedcba9876543210"

static void put_applied(const char *machine, int64_t revision) {
        _cleanup_free_ char *key = registry_names_applied_key(PREFIX, machine), *v = NULL;

        assert_se(key && asprintf(&v, "%" PRIi64, revision) > 0);
        assert_se(etcd_sync_put(etcd, key, v, strlen(v), 0, 0, NULL) == 0);
}

static int64_t etcd_revision(void) {
        _cleanup_(etcd_response_freep) EtcdResponse *r = NULL;
        EtcdRangeOptions o = { .key = PREFIX "no-such-key" };

        assert_se(etcd_sync_range(etcd, &o, &r) >= 0);
        return r->revision;
}

static bool applied_is(const char *machine, int64_t revision) {
        _cleanup_(etcd_response_freep) EtcdResponse *r = NULL;
        _cleanup_free_ char *key = registry_names_applied_key(PREFIX, machine), *v = NULL;
        EtcdRangeOptions o = { .key = key };

        assert_se(etcd_sync_range(etcd, &o, &r) >= 0);
        if (r->n_kvs != 1)
                return false;
        assert_se(asprintf(&v, "%" PRIi64, revision) > 0);
        return r->kvs[0].value_size == strlen(v) && memcmp(r->kvs[0].value, v, strlen(v)) == 0 &&
               r->kvs[0].lease == a->lease_id;
}

static void named_running(void) {
        assign("named.service", NAMED, UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(fake_active("named.service") && hashmap_get(a->units, "named.service") &&
                     ((AgentUnit *) hashmap_get(a->units, "named.service"))->name_spec, 10), "a named unit runs");
        give_address("named.service");
        ok(RUN_UNTIL(name_exists("named.service"), 10), "its name is published");
}

/* The drain period counts from the moment every machine's DNS has followed the withdrawal (their
 * P names-applied/ records), not from the delete: a machine slow to apply it would still give the
 * address out. A machine that goes (its record with its lease) is not waited for. */
static void test_name_drain_acks(void) {
        FakeUnit *fu = fake_unit("named.service");
        unsigned stops;
        usec_t acked;

        /* This machine's own record: its DNS's revision, under its lease, rewritten as it grows. */
        agent_name_acks_set_local(a, 5);
        ok(RUN_UNTIL(applied_is(MACHINE, 5), 10), "this machine's DNS revision is published under its lease");
        agent_name_acks_set_local(a, 7);
        ok(RUN_UNTIL(applied_is(MACHINE, 7), 10), "and follows it");
        agent_name_acks_set_local(a, 6);
        settle();
        ok(applied_is(MACHINE, 7), "never backwards");
        {
                _cleanup_free_ char *key = registry_names_applied_key(PREFIX, MACHINE);

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }

        agent_set_name_drain(a, DRAIN_USEC);
        named_running();
        put_applied(OTHER, 1);
        stops = fu->stops;
        assign("named.service", NAMED, UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(!name_exists("named.service"), 10), "desired loaded: the name is withdrawn");
        ok(!RUN_UNTIL(fu->stops > stops, 3), "another machine's DNS has not followed: the unit runs on "
           "past the drain period");
        put_applied(OTHER, etcd_revision());
        acked = now(CLOCK_MONOTONIC);
        ok(RUN_UNTIL(fu->stops > stops, 10), "it has: the unit is stopped");
        ok(fu->stopped_at >= acked + DRAIN_USEC, "a drain period after (%.2f s)",
           ((double) fu->stopped_at - (double) acked) / 1e6);

        /* The machine behind goes away: its record goes with its lease. */
        named_running();
        put_applied(OTHER, 1);
        stops = fu->stops;
        assign("named.service", NAMED, UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(!name_exists("named.service"), 10), "withdrawn again, with the other machine behind");
        ok(!RUN_UNTIL(fu->stops > stops, 3), "the unit runs on");
        {
                _cleanup_free_ char *key = registry_names_applied_key(PREFIX, OTHER);

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        acked = now(CLOCK_MONOTONIC);
        ok(RUN_UNTIL(fu->stops > stops, 10), "that machine's record is gone: the unit is stopped");
        ok(fu->stopped_at >= acked + DRAIN_USEC, "a drain period after (%.2f s)",
           ((double) fu->stopped_at - (double) acked) / 1e6);
        agent_set_name_drain(a, 0);
}

static void test_desired_and_body(void) {
        FakeUnit *fu;
        unsigned reloads;

        /* loaded: stop, keep the file. */
        reloads = fake.reloads;
        assign("b.service", "", UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(!fake_active("b.service"), 10), "desired 'loaded' stops the unit");
        ok(RUN_UNTIL(state_is("b.service", "inactive"), 10), "its inactive state is published");
        is_int(fake.reloads, reloads, "no reload for a desired state change");
        ok(file_is(units_dir, "b.service", "[Unit]"), "the file stays");

        /* A new body: rewrite, one reload, restart. */
        assign("a.service", "Environment=X=2\n", UNIT_DESIRED_LAUNCHED);
        fu = fake_unit("a.service");
        ok(RUN_UNTIL(fu->restarts == 1, 10), "a new body restarts the unit");
        is_int(fake.reloads, reloads + 1, "after one reload");
        ok(file_is(units_dir, "a.service",
                   "[Unit]\nDescription=a.service\n\n[Service]\nExecStart=/bin/sleep 1000\n"
                                           "Environment=X=2\n"), "with the new body on disk");

        /* Another new body, whose restart first kills the old process (the unit fails) and then
         * waits: until the job ends, the state is the old body's, not the new body failed. */
        {
                _cleanup_(registry_unit_state_freep) RegistryUnitState *st = NULL;
                _cleanup_free_ char *raw = NULL, *old_hash = NULL, *new_hash = NULL;

                assignment_body("a.service", "Environment=X=2\n", &raw, &old_hash);
                raw = mfree(raw);
                assignment_body("a.service", "Environment=X=3\n", &raw, &new_hash);
                fake.hold_restart = true;
                assign("a.service", "Environment=X=3\n", UNIT_DESIRED_LAUNCHED);
                ok(RUN_UNTIL(fu->restarts == 2 && state_is("a.service", "failed"), 10),
                   "a restart that stops the old process publishes its failure");
                st = get_state("a.service");
                is_str(st ? st->hash : NULL, old_hash, "under the old body's hash, not the new one's");
                settle();
                st = registry_unit_state_free(st);
                st = get_state("a.service");
                ok(st && streq_ptr(st->hash, old_hash), "and keeps it while the restart job runs");
                fake.hold_restart = false;
                fake_finish_restart();
                ok(RUN_UNTIL(state_is("a.service", "active"), 10), "the job done, the unit is active");
                st = registry_unit_state_free(st);
                st = get_state("a.service");
                is_str(st ? st->hash : NULL, new_hash, "under the new body's hash");
        }

        /* Unassigned: stop, unlink, delete the state. */
        {
                _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, "b.service");

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        ok(RUN_UNTIL(!file_is(units_dir, "b.service", "") && !file_is(link_dir, "b.service", ""), 10),
           "an unassigned unit's file and link are removed");
        ok(RUN_UNTIL(state_is("b.service", NULL), 10), "and its state key is deleted");
}

/* A unit moved away while its start job still waits in systemd's queue (PID 1 busy with many,
 * as when a machine takes over another's units): the last state read says inactive, but the job
 * will run it. The agent started it, so it must stop it (cancelling the job), whatever the state
 * says; before, it removed the file and forgot the unit, which then ran on next to its new copy
 * (the soak's 48 s duplicates, seed 1706949909). */
static void test_moved_while_starting(void) {
        _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, "m.service");

        fake.hold_start = true;
        assign("m.service", "", UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(fake.held_start == fake_unit("m.service") && state_is("m.service", "inactive"), 10),
           "a start job is queued and the unit is published inactive");
        assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        ok(RUN_UNTIL(!file_is(units_dir, "m.service", "") && state_is("m.service", NULL), 10),
           "moved away: its file and state key are removed");
        fake.hold_start = false;
        ok(!fake.held_start, "the agent stopped it, which cancels the queued start job");
        if (fake.held_start)
                fake_finish_start();
        settle();
        ok(!fake_active("m.service"), "the unit does not run on after the move");
}

/* A unit assigned while a reload is in flight: the pass that ends that reload reads its state
 * before its file exists ("not-found"); the next pass writes the file and reloads, and must read
 * the state again, since systemd reports no change of LoadState after a reload. Before, the
 * not-found state stayed published and "fleetctl load" waited for "loaded" until it timed out
 * (test-fleetctl-cluster, "load 3 units", in CI and here). */
static void test_assigned_during_reload(void) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *st = NULL;

        /* systemd knows r2 already: a unit unloaded before, not-found since. */
        assert_se(streq(fake_unit("r2.service")->load, "not-found"));
        fake.hold_reload = true;
        assign("r1.service", "", UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(fake.held_reload, 10), "a new file: the agent reloads, and systemd is busy with it");
        assign("r2.service", "", UNIT_DESIRED_LOADED);
        settle();
        fake.hold_reload = false;
        fake_finish_reload();
        ok(RUN_UNTIL(file_is(units_dir, "r2.service", "[Unit]"), 10), "the unit assigned meanwhile gets its file");
        ok(RUN_UNTIL(({ registry_unit_state_free(st); st = get_state("r2.service");
                        st && streq_ptr(st->load_state, "loaded"); }), 10),
           "and its state is read again after the reload that loaded it: loaded");
        is_str(st ? st->load_state : NULL, "loaded", "published load state");
        ok(RUN_UNTIL(({ registry_unit_state_free(st); st = get_state("r1.service");
                        st && streq_ptr(st->load_state, "loaded"); }), 10),
           "the first unit is loaded too");
}

/* A new unit whose name systemd knew already as not found (mentioned before its file existed; the
 * fake, unlike systemd, does not look again when the unit path changed): its start, sent without a
 * reload, is refused, so the agent reloads and starts it again. The other unit of the change set
 * starts at once. */
static void test_fresh_start_refused(void) {
        unsigned reloads = fake.reloads;

        assert_se(streq(fake_unit("s2.service")->load, "not-found"));
        {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) == 0);
                txn_assign(t, "s1.service", "", UNIT_DESIRED_LAUNCHED);
                txn_assign(t, "s2.service", "", UNIT_DESIRED_LAUNCHED);
                assert_se(etcd_sync_txn(etcd, t, NULL) == 0);
        }
        ok(RUN_UNTIL(fake_active("s1.service") && fake_active("s2.service"), 10),
           "both new units run, the one systemd knew as not found too");
        is_int(fake.reloads, reloads + 1, "after one reload, for that one");
        ok(RUN_UNTIL(state_is("s1.service", "active") && state_is("s2.service", "active"), 10),
           "their states are published");
}

static void test_install(void) {
        FakeUnit *fu;
        unsigned reloads;

        /* [Install]: enabled in the runtime scope with the load, before the change set's reload. */
        reloads = fake.reloads;
        {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                assert_se(etcd_txn_new(&t) == 0);
                txn_assign(t, "w.service", "\n[Install]\nWantedBy=a.service\n", UNIT_DESIRED_LOADED);
                txn_assign(t, "b.service", "", UNIT_DESIRED_LAUNCHED);
                assert_se(etcd_sync_txn(etcd, t, NULL) == 0);
        }
        fu = fake_unit("w.service");
        ok(RUN_UNTIL(fake_active("b.service") && fu->enables == 1, 10),
           "a unit with an [Install] section is enabled when loaded");
        is_int(fu->reloads_at_enable, reloads, "before the change set's reload");
        is_int(fake.reloads, reloads + 1, "which is still one reload");
        is_int(fake_unit("b.service")->enables, 0, "a unit without [Install] is not enabled");
        ok(file_is(link_dir, "w.service", "[Unit]\nDescription=w.service\n"), "the enabled unit is linked");

        /* systemd pulls it in with the unit that wants it: a loaded unit that runs is left alone. */
        fu->active = "active";
        fu->sub = "running";
        fake_emit(fake.current, fu, "done");
        ok(RUN_UNTIL(state_is("w.service", "active"), 10), "a pulled-in loaded unit's state is published");
        assign("b.service", "", UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(!fake_active("b.service"), 10), "(another pass stops b.service)");
        settle();
        ok(fake_active("w.service") && fu->stops == 0, "and leaves the pulled-in unit running");

        /* A new body without [Install]: the old links go, the unit stays linked. */
        assign("w.service", "Environment=X=1\n", UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(fu->disables == 1, 10), "a new body without [Install] disables the unit");
        ok(RUN_UNTIL(file_is(units_dir, "w.service", "[Unit]") && fu->links == 1, 10), "and links it again");
        ok(file_is(link_dir, "w.service", "[Unit]\nDescription=w.service\n"), "the link is there");
        is_int(fu->enables, 1, "it is not enabled again");
        ok(RUN_UNTIL(fake.reloads == reloads + 2, 10), "one reload for the new body");

        /* Back with [Install], then unassigned: enabled, then disabled and unlinked. */
        assign("w.service", "\n[Install]\nWantedBy=b.service\n", UNIT_DESIRED_LOADED);
        ok(RUN_UNTIL(fu->enables == 2, 10), "a body that gains [Install] is enabled");
        is_int(fu->disables, 1, "with nothing to disable first");
        {
                _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, "w.service");

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        ok(RUN_UNTIL(fu->disables == 2, 10), "an unloaded unit with [Install] is disabled");
        ok(RUN_UNTIL(!file_is(units_dir, "w.service", "") && !file_is(link_dir, "w.service", ""), 10),
           "and its file and link are gone");
        ok(!fu->enabled, "nothing of it stays enabled");
        is_int(fake_unit("b.service")->disables, 0, "a unit without [Install] is never disabled");
}

static void test_refused(void) {
        unsigned reloads;

        /* Issue 12 (4): a unit whose name is taken on the machine is refused, with the reason in its
         * state, and never touched: a local unit in systemd's path (here the test's own), an
         * instance of a local template, a mask in the link directory, fleet's own unit. */
        _cleanup_free_ char *local = NULL, *tpl = NULL, *mask = NULL, *target = NULL;
        char buf[PATH_MAX];
        ssize_t n;

        assert_se(asprintf(&local, "%slocal.service", sys_dir) > 0);
        assert_se(asprintf(&tpl, "%stpl@.service", sys_dir) > 0);
        assert_se(asprintf(&mask, "%smasked.service", link_dir) > 0);
        assert_se(write_file_atomic(local, "[Service]\n", 10, 0644, false) == 0);
        assert_se(write_file_atomic(tpl, "[Service]\n", 10, 0644, false) == 0);
        assert_se(symlink("/dev/null", mask) == 0);
        settle();               /* the reload of the unload above */
        reloads = fake.reloads;

        assign("local.service", "", UNIT_DESIRED_LAUNCHED);
        assign("tpl@1.service", "", UNIT_DESIRED_LAUNCHED);
        assign("masked.service", "", UNIT_DESIRED_LAUNCHED);
        assign("fleetd.service", "", UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(refused_because("local.service", local) && refused_because("tpl@1.service", tpl) &&
                     refused_because("masked.service", mask) &&
                     refused_because("fleetd.service", "fleet's own unit"), 10),
           "each is refused, the reason naming the local file or fleet's own unit");
        settle();
        ok(!hashmap_get(fake.units, "local.service") && !hashmap_get(fake.units, "tpl@1.service") &&
           !hashmap_get(fake.units, "masked.service") && !hashmap_get(fake.units, "fleetd.service"),
           "none is started, stopped or refreshed in systemd");
        is_int(fake.reloads, reloads, "and no reload was needed");
        ok(!file_is(units_dir, "local.service", "") && !file_is(link_dir, "local.service", "") &&
           !file_is(units_dir, "fleetd.service", "") && !file_is(link_dir, "fleetd.service", ""),
           "no file or link of theirs is written");
        n = readlink(mask, buf, sizeof(buf) - 1);
        ok(n == 9 && strneq(buf, "/dev/null", 9), "the mask is left as it was");

        FOREACH_REFUSED(name, "local.service", "tpl@1.service", "masked.service", "fleetd.service") {
                _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, name);

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        ok(RUN_UNTIL(!get_state_exists("local.service") && !get_state_exists("masked.service") &&
                     !get_state_exists("fleetd.service") && !get_state_exists("tpl@1.service"), 10),
           "unassigned, their states go");
        settle();
        n = readlink(mask, buf, sizeof(buf) - 1);
        ok(n == 9 && strneq(buf, "/dev/null", 9) && file_is(sys_dir, "local.service", "[Service]"),
           "and the mask and the local unit are still there");
        ok(!hashmap_get(fake.units, "local.service") && !hashmap_get(fake.units, "fleetd.service") &&
           !hashmap_get(fake.units, "masked.service"), "nothing was stopped on unload");
        assert_se(unlink(mask) == 0);
}

static char *objects_dir, *key_path;

static void put_object(ClusterObjectKind kind, const char *name, const char *value) {
        _cleanup_(cluster_keyring_freep) ClusterKeyring *k = NULL;
        _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
        _cleanup_free_ char *key = cluster_object_key(PREFIX, kind, name), *json = NULL;

        assert_se(cluster_keyring_load(key_path, &k, NULL) == 0);
        assert_se(cluster_object_build(kind, name, value, strlen(value), k, now(CLOCK_REALTIME), &o, NULL) == 0);
        assert_se(cluster_object_to_json(o, &json) == 0);
        assert_se(etcd_sync_put(etcd, key, json, strlen(json), 0, 0, NULL) == 0);
}

static bool object_file_is(const char *unit, const char *kind, const char *name, const char *value, mode_t mode) {
        _cleanup_free_ char *p = NULL, *s = NULL;
        struct stat st;

        assert_se(asprintf(&p, "%s%s/%ss/%s", objects_dir, unit, kind, name) > 0);
        if (stat(p, &st) < 0 || read_full_file(p, &s, NULL, 0) < 0)
                return false;
        return streq(s, value) && (st.st_mode & 07777) == mode && st.st_uid == getuid() && st.st_gid == getgid();
}

static bool waits_because(const char *name, const char *why) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *s = get_state(name);

        return s && streq_ptr(s->load_state, "loaded") && s->reason && strstr(s->reason, why);
}

static bool unit_dir_exists(const char *unit) {
        _cleanup_free_ char *p = NULL;

        assert_se(asprintf(&p, "%s%s", objects_dir, unit) > 0);
        return access(p, F_OK) == 0;
}

static void test_objects(void) {
        _cleanup_free_ char *refs = NULL, *wrong = NULL, *ghost = NULL;

        /* Issue 15: the agent materialises a unit's secrets and configs before it starts it, with
         * the owner and mode asked, waits (saying why) for a missing one and starts once it appears,
         * writes a changed one again, and removes them with the unit. */
        put_object(CLUSTER_OBJECT_SECRET, "db", "pass-1");
        put_object(CLUSTER_OBJECT_CONFIG, "motd", "hello");
        assert_se(asprintf(&refs, "[X-Fleet]\nSecret=db uid=%u gid=%u mode=0400\nSecret=later\nConfig=motd uid=%u gid=%u\n",
                           (unsigned) getuid(), (unsigned) getgid(), (unsigned) getuid(), (unsigned) getgid()) > 0);
        assign("obj.service", refs, UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(waits_because("obj.service", "secret later does not exist in the cluster"), 10),
           "a unit whose secret is missing waits, its state saying why");
        settle();
        ok(!fake_active("obj.service"), "... and is not started");
        ok(object_file_is("obj.service", "secret", "db", "pass-1", 0400), "the secret it has is written, opened, 0400, owned as asked");

        put_object(CLUSTER_OBJECT_SECRET, "later", "v");
        ok(RUN_UNTIL(fake_active("obj.service"), 10), "it starts once the secret is created (the watch)");
        ok(object_file_is("obj.service", "secret", "later", "v", 0444) &&
           object_file_is("obj.service", "config", "motd", "hello", 0444), "with every object written, 0444 by default");
        ok(RUN_UNTIL(get_state_exists("obj.service") && !waits_because("obj.service", ""), 10), "its state has no reason any more");

        put_object(CLUSTER_OBJECT_SECRET, "db", "pass-2");
        ok(RUN_UNTIL(object_file_is("obj.service", "secret", "db", "pass-2", 0400), 10),
           "a changed secret is written again for the running unit");

        /* A secret this machine's key cannot open. */
        {
                _cleanup_(cluster_keyring_freep) ClusterKeyring *other = NULL;
                _cleanup_(cluster_object_freep) ClusterObject *o = NULL;
                _cleanup_free_ char *text = NULL, *json = NULL, *key = cluster_object_key(PREFIX, CLUSTER_OBJECT_SECRET, "alien");

                assert_se(cluster_key_generate("k9", &text) == 0);
                assert_se(cluster_keyring_parse(text, strlen(text), &other, NULL) == 0);
                assert_se(cluster_object_build(CLUSTER_OBJECT_SECRET, "alien", "x", 1, other, 1, &o, NULL) == 0);
                assert_se(cluster_object_to_json(o, &json) == 0);
                assert_se(etcd_sync_put(etcd, key, json, strlen(json), 0, 0, NULL) == 0);
        }
        assign("alien.service", "[X-Fleet]\nSecret=alien\n", UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(waits_because("alien.service", "secret alien cannot be opened") &&
                     waits_because("alien.service", "k9"), 10),
           "a secret sealed with a key this machine lacks: waits, naming the key id");
        ok(!fake_active("alien.service"), "... not started");

        /* Files of units that are not here any more (a restart, a power cut) go after the next read. */
        assert_se(asprintf(&ghost, "%sghost.service/secrets", objects_dir) > 0);
        assert_se(mkdir_p(ghost, 0711) == 0);
        assert_se(asprintf(&wrong, "%s/x", ghost) > 0);
        assert_se(write_file_atomic(wrong, "x", 1, 0400, false) == 0);

        FOREACH_REFUSED(name, "obj.service", "alien.service") {
                _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, name);

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        ok(RUN_UNTIL(!unit_dir_exists("obj.service") && !get_state_exists("obj.service") &&
                     !get_state_exists("alien.service"), 10),
           "unassigned: the unit's secrets and configs are removed");
        ok(unit_dir_exists("ghost.service"), "(the stale directory is still there until the agent reads its schedule again)");
}

static void test_fencing(void) {
        FakeUnit *fu;
        int64_t lease;

        /* Fencing: the lease is revoked behind the agent's back. */
        lease = machine_lease();
        fu = fake_unit("a.service");
        unsigned a_starts = fu->starts + fu->restarts, g_stops = fake_unit("g.service")->stops;
        assert_se(etcd_sync_lease_revoke(etcd, lease) == 0);
        ok(RUN_UNTIL(!fake_active("a.service"), 10), "when the lease is lost, a non-global unit is stopped");
        ok(fake_active("g.service"), "a global unit keeps running");
        ok(RUN_UNTIL(machine_lease() != 0 && machine_lease() != lease, 15), "the machine registers again");
        ok(RUN_UNTIL(fake_active("a.service"), 10), "and the fenced unit runs again");
        ok(fu->starts + fu->restarts > a_starts, "(it was started anew)");
        is_int(fake_unit("g.service")->stops, g_stops, "the global unit was never stopped");
        ok(RUN_UNTIL(state_is("a.service", "active") && state_is("g.service", "active"), 10),
           "states are published under the new lease");
        is_int(agent_get_stats(a)->n_fences, 1, "one fence");
}

static void test_adoption(void) {
        FakeUnit *fu = fake_unit("a.service");
        unsigned reloads;

        /* Adoption: a second agent over the same directories touches nothing. */
        settle();
        a = agent_free(a);
        registered = false;
        reloads = fake.reloads;
        unsigned calls = fu->starts + fu->restarts + fu->stops;
        is_int(agent_new(&a, fake.event, etcd, &config), 0, "a second agent");
        agent_set_registered_handler(a, on_registered, NULL);
        is_int(agent_start(a), 0, "starts");
        ok(RUN_UNTIL(registered && agent_get_stats(a)->n_syncs > 0, 10), "registers and reads its schedule");
        settle();
        is_int(fake.reloads, reloads, "adoption needs no reload");
        is_int(fu->starts + fu->restarts + fu->stops, calls,
               "and neither restarts nor stops a running unit");
        ok(fake_active("a.service") && fake_active("g.service"), "the units still run");
        ok(RUN_UNTIL(!unit_dir_exists("ghost.service"), 10), "a stale unit's objects are removed after the read");

        /* Moved away while no agent ran (fleetd stopped for good leaves its units running): the
         * next agent finds the file, has not read the unit's state, and must still stop the unit
         * before it removes the file (it removed the file of a running unit, which then ran twice
         * in the cluster: test-fleetd-cluster's stopped fleetd). */
        settle();
        a = agent_free(a);
        registered = false;
        {
                _cleanup_free_ char *key = registry_assignment_key(PREFIX, MACHINE, "a.service");

                assert_se(etcd_sync_delete(etcd, key, 0, NULL) == 0);
        }
        ok(fake_active("a.service"), "a.service runs, unassigned while no agent runs");
        is_int(agent_new(&a, fake.event, etcd, &config), 0, "a third agent");
        agent_set_registered_handler(a, on_registered, NULL);
        is_int(agent_start(a), 0, "starts");
        ok(RUN_UNTIL(registered && agent_get_stats(a)->n_syncs > 0, 10), "registers and reads its schedule");
        ok(RUN_UNTIL(!fake_active("a.service") && !file_is(units_dir, "a.service", ""), 10),
           "it stops the unit that moved away, and removes its file");
        ok(RUN_UNTIL(!get_state_exists("a.service"), 10), "and its state");
        assign("a.service", "", UNIT_DESIRED_LAUNCHED);
        ok(RUN_UNTIL(fake_active("a.service") && state_is("a.service", "active"), 10), "assigned again, it runs");
}

static void test_leaving(void) {
        unsigned reloads;

        /* Leaving: the lease is revoked, the units keep running. */
        is_int(agent_shutdown(a, false, true, on_shut_down, NULL), 0, "agent_shutdown");
        ok(RUN_UNTIL(shut_down, 10), "finishes");
        is_int(machine_lease(), 0, "the machine key is gone at once");
        ok(state_is("a.service", NULL), "and so are its states");
        ok(fake_active("a.service"), "the units keep running");
        a = agent_free(a);

        /* Leaving with purge: every unit stopped and unloaded. */
        registered = shut_down = false;
        is_int(agent_new(&a, fake.event, etcd, &config), 0, "a third agent");
        agent_set_registered_handler(a, on_registered, NULL);
        is_int(agent_start(a), 0, "starts");
        ok(RUN_UNTIL(registered && agent_get_stats(a)->n_syncs > 0, 10), "registers and reads its schedule");
        settle();
        reloads = fake.reloads;
        is_int(agent_shutdown(a, true, true, on_shut_down, NULL), 0, "agent_shutdown with purge");
        ok(RUN_UNTIL(shut_down, 10), "finishes");
        ok(!fake_active("a.service") && !fake_active("g.service"), "every unit is stopped");
        ok(!file_is(units_dir, "a.service", "") && !file_is(link_dir, "g.service", ""), "and unloaded");
        is_int(fake.reloads, reloads + 1, "with one reload");
        is_int(machine_lease(), 0, "the machine key is gone");
        a = agent_free(a);
}

/* Right after a renewal succeeded: the lease is known alive for (nearly) the whole TTL. */
static usec_t wait_fresh_renewal(void) {
        usec_t ttl = (usec_t) config.ttl_sec * USEC_PER_SEC, d0 = etcd_lease_keeper_deadline(a->lease);

        (void) RUN_UNTIL(etcd_lease_keeper_deadline(a->lease) > d0 &&
                         etcd_lease_keeper_deadline(a->lease) > now(CLOCK_MONOTONIC) + ttl - 300 * USEC_PER_MSEC, 20);
        return etcd_lease_keeper_deadline(a->lease);
}

static void test_fence_deadline(void) {
        usec_t ttl = (usec_t) config.ttl_sec * USEC_PER_SEC, margin = agent_fence_margin(config.ttl_sec);
        usec_t deadline, fence_at, thaw_at;
        FakeUnit *fu;
        int64_t lease;
        uint64_t fences;
        unsigned stops;

        /* A fresh agent with a TTL that leaves a loaded machine room between the renewal round
         * (at (TTL - margin)/3) and the fence (at TTL - margin after the send). */
        registered = false;
        config.ttl_sec = 6;
        ttl = 6 * USEC_PER_SEC;
        margin = agent_fence_margin(config.ttl_sec);
        is_int(agent_new(&a, fake.event, etcd, &config), 0, "an agent with TTL 6 s");
        agent_set_registered_handler(a, on_registered, NULL);
        is_int(agent_start(a), 0, "starts");
        ok(RUN_UNTIL(registered && fake_active("a.service") && fake_active("g.service"), 20),
           "registers and runs its units");
        is_int((int64_t) margin, (int64_t) (1300 * USEC_PER_MSEC), "its fence margin: 1 s + TTL/20");
        lease = machine_lease();
        fu = fake_unit("a.service");
        fences = agent_get_stats(a)->n_fences;
        stops = fu->stops;

        /* A late renewal: etcd answers nothing from just after a renewal until well past the next
         * round's start, but before the fence; the renewal that then succeeds stops nothing. */
        deadline = wait_fresh_renewal();
        fence_at = deadline - margin;
        thaw_at = deadline - ttl + (ttl - margin) / 3 + 1500 * USEC_PER_MSEC;
        etcd_fixture_freeze(fixture, 0);
        while (now(CLOCK_MONOTONIC) < thaw_at)
                (void) sd_event_run(fake.event, 50 * USEC_PER_MSEC);
        etcd_fixture_thaw(fixture, 0);
        ok(RUN_UNTIL(etcd_lease_keeper_deadline(a->lease) > deadline, 10),
           "etcd frozen from a renewal's answer until %.1f s after it: the late renewal succeeds",
           (double) (thaw_at - (deadline - ttl)) / 1e6);
        diag("late renewal: answered %.2f s after the previous one's send, %.2f s before the fence point",
             ((double) now(CLOCK_MONOTONIC) - (double) (deadline - ttl)) / 1e6,
             ((double) fence_at - (double) now(CLOCK_MONOTONIC)) / 1e6);
        settle();
        ok(fake_active("a.service") && fu->stops == stops, "nothing was stopped");
        is_int(agent_get_stats(a)->n_fences, fences, "no fence");

        /* No renewal at all: the units stop before the deadline (the last successful renewal's
         * send time plus the TTL), and not before the margin; a renewal that then succeeds, the
         * lease never having expired, runs them again under the same lease. */
        deadline = wait_fresh_renewal();
        etcd_fixture_freeze(fixture, 0);
        ok(RUN_UNTIL(fu->stops > stops, 15), "etcd frozen: the non-global unit is stopped");
        deadline = etcd_lease_keeper_deadline(a->lease);
        ok(fu->stopped_at < deadline, "before the deadline (the last renewal's send + TTL), %.2f s ahead",
           ((double) deadline - (double) fu->stopped_at) / 1e6);
        ok(fu->stopped_at + 100 * USEC_PER_MSEC >= deadline - margin, "and not before the margin (%.2f s)",
           (double) margin / 1e6);
        ok(fake_active("g.service"), "the global unit keeps running");
        is_int(agent_get_stats(a)->n_fences, fences + 1, "one fence");
        etcd_fixture_thaw(fixture, 0);
        ok(RUN_UNTIL(fake_active("a.service"), 15), "etcd back before the lease expired: the unit runs again");
        is_int(machine_lease(), lease, "under the same lease, never lost");
        is_int(agent_get_stats(a)->n_leases_lost, 0, "no lease was lost");

        a = agent_free(a);
}

int main(void) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        char tmpl[] = "/tmp/test-agent-etcd.XXXXXX";
        _cleanup_free_ char *sock = NULL, *address = NULL;

        etcd_fixture_require();
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("etcd did not start");
        fixture = f;

        assert_se(mkdtemp(tmpl));
        assert_se(asprintf(&units_dir, "%s/units/", tmpl) > 0);
        assert_se(asprintf(&link_dir, "%s/links/", tmpl) > 0);
        assert_se(asprintf(&sys_dir, "%s/system/", tmpl) > 0);
        assert_se(mkdir(sys_dir, 0755) == 0);
        assert_se(asprintf(&sock, "%s/bus", tmpl) > 0);
        /* Secrets only go to a tmpfs: /dev/shm is one. */
        {
                char shm[] = "/dev/shm/test-agent-objects.XXXXXX";
                _cleanup_free_ char *text = NULL;

                assert_se(mkdtemp(shm));
                assert_se(asprintf(&objects_dir, "%s/", shm) > 0);
                assert_se(asprintf(&key_path, "%s/cluster.key", tmpl) > 0);
                assert_se(cluster_key_generate("k1", &text) == 0);
                assert_se(write_file_atomic(key_path, text, strlen(text), 0400, false) == 0);
        }
        assert_se(asprintf(&address, "unix:path=%s", sock) > 0);

        assert_se(sd_event_new(&fake.event) >= 0);
        fake_setup(sock, link_dir);
        assert_se(etcd_client_new(&etcd, fake.event, &(EtcdConfig) { .endpoints = f->endpoints }) == 0);

        config = (AgentConfig) {
                .key_prefix = PREFIX,
                .machine_id = MACHINE,
                .public_ip = "127.0.0.1",
                .hostname = "test",
                .metadata = STRV_MAKE("role=test"),
                .ttl_sec = 2,
                .units_directory = units_dir,
                .link_directory = link_dir,
                .unit_path = STRV_MAKE(sys_dir),      /* not the machine's: the test's own */
                .systemd_address = address,
                .fence_on_lease_loss = true,
                .objects_directory = objects_dir,
                .cluster_key_path = key_path,
        };

        is_int(agent_new(&a, fake.event, etcd, &config), 0, "agent_new");
        agent_set_registered_handler(a, on_registered, NULL);
        is_int(agent_start(a), 0, "agent_start connects to the fake systemd");
        ok(RUN_UNTIL(registered, 10), "the machine registers");
        ok(machine_lease() != 0, "its key is under a lease");

        test_change_set();
        test_name_drain();
        test_name_drain_acks();
        test_desired_and_body();
        test_moved_while_starting();
        test_assigned_during_reload();
        test_fresh_start_refused();
        test_install();
        test_refused();
        test_objects();
        test_fencing();
        test_adoption();
        test_leaving();
        test_fence_deadline();

        etcd_client_free(etcd);
        fake_teardown();
        sd_event_unref(fake.event);
        {
                _cleanup_free_ char *cmd = NULL;

                assert_se(asprintf(&cmd, "rm -rf '%s' '%s'", tmpl, objects_dir) > 0);
                (void) system(cmd);
        }
        units_dir = mfree(units_dir);
        link_dir = mfree(link_dir);
        sys_dir = mfree(sys_dir);
        objects_dir = mfree(objects_dir);
        key_path = mfree(key_path);
        return done_testing();
}
