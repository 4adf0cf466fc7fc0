/* SPDX-License-Identifier: Apache-2.0 */

/* fleetctl, the program, against a real etcd: what it writes to the registry, what it prints, and
 * how it fails. The agents' and the engine's records are written by the test itself, so every
 * step is deterministic. argv[1] is the fleetctl binary. */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "etcd-fixture.h"
#include "etcd-sync.h"
#include "fileio.h"
#include "fleetctl-run.h"
#include "registry.h"
#include "strv.h"
#include "tap.h"
#include "time-util.h"
#include "unit-file.h"

#define M1 "113f16a7a5e541e6a4a3b48bfc4e7f61"
#define M2 "c9de9451aa3f4a2e8e1f47b0a1c7c3d2"

static const char *fleetctl;
static const char *unitgen;
static char dir[] = "/tmp/test-fleetctl-XXXXXX";
static char prefix[64];
static char *endpoint;
static EtcdClient *client;
static sd_event *event;

static pid_t spawn_at(const char *ep, char *const *args) {
        _cleanup_strv_free_ char **env = NULL;

        if (strv_extendf(&env, "FLEETCTL_ENDPOINT=%s", ep) < 0 ||
            strv_extendf(&env, "FLEETCTL_ETCD_KEY_PREFIX=%s", prefix) < 0 ||
            strv_extend(&env, "FLEETCTL_REQUEST_TIMEOUT=5") < 0 ||
            (unitgen && strv_extendf(&env, "FLEETCTL_UNITGEN=%s", unitgen) < 0))
                bail_out("out of memory");
        return fleetctl_spawn(fleetctl, dir, env, args);
}

static Run collect(pid_t pid, const char *what) {
        Run r = fleetctl_collect(pid, dir);

        if (r.status != 0 && r.err[0])
                diag("fleetctl %s: %s", what, line1(r.err));
        return r;
}

static Run run_at(const char *ep, char *const *args) {
        return collect(spawn_at(ep, args), args[0]);
}

/* Whether the running fleetctl's stderr (fleetctl_spawn() writes it to dir/stderr) shows needle
 * within 60 s: the event a test waits for instead of sleeping. */
static bool stderr_shows(const char *needle) {
        usec_t deadline = now(CLOCK_MONOTONIC) + 60 * USEC_PER_SEC;
        char path[256];

        snprintf(path, sizeof(path), "%s/stderr", dir);
        while (now(CLOCK_MONOTONIC) < deadline) {
                _cleanup_free_ char *text = NULL;

                if (read_full_file(path, &text, NULL, 0) == 0 && strstr(text, needle))
                        return true;
                usleep(20 * USEC_PER_MSEC);
        }
        return false;
}

static const char *last_of(const char *s, const char *needle) {
        const char *last = NULL;

        for (const char *p = s; (p = strstr(p, needle)); p++)
                last = p;
        return last;
}

/* Alignment aside: runs of tabs as one, for checks of a row's cells. */
static char *squeeze_tabs(char *s) {
        char *w = s;

        for (char *p = s; *p; p++)
                if (*p != '\t' || w == s || w[-1] != '\t')
                        *w++ = *p;
        *w = 0;
        return s;
}

static Run run(char *const *args) {
        return run_at(endpoint, args);
}

static void write_file(const char *name, const char *text) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_se(write_file_atomic(path, text, strlen(text), 0644, false) == 0);
}

static RegistryUnit *get_unit(const char *name) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *k = registry_unit_key(prefix, name);
        RegistryUnit *u = NULL;

        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = k }, &resp) >= 0);
        if (resp->n_kvs == 1)
                assert_se(registry_unit_from_json(resp->kvs[0].value, resp->kvs[0].value_size, &u) == 0);
        return u;
}

static int64_t count_units(void) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *k = registry_units_prefix(prefix);

        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = k, .flags = ETCD_PREFIX | ETCD_COUNT_ONLY },
                                  &resp) >= 0);
        return resp->count;
}

static void put(const char *k, const char *v) {
        assert_se(etcd_sync_put(client, k, v, strlen(v), 0, 0, NULL) >= 0);
}

static void put_machine(const char *id, const char *ip, char **metadata) {
        RegistryMachine m = { .id = (char *) id, .public_ip = (char *) ip, .metadata = metadata,
                              .version = (char *) "0.1.0", .agent_ttl_sec = 30 };
        _cleanup_free_ char *k = registry_machine_key(prefix, id), *json = NULL;

        assert_se(registry_machine_to_json(&m, &json) == 0);
        put(k, json);
}

/* What the engine and an agent would write for a unit running on a machine. */
static void put_running(const char *name, const char *id, UnitDesiredState desired, const char *active) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit(name);
        _cleanup_free_ char *ak = registry_assignment_key(prefix, id, name), *sk = registry_state_key(prefix, name, id);
        _cleanup_free_ char *aj = NULL, *sj = NULL;
        RegistryUnitState st = { .unit = (char *) name, .machine_id = (char *) id, .load_state = (char *) "loaded",
                                 .active_state = (char *) active,
                                 .sub_state = (char *) (streq(active, "active") ? "running" : "dead") };

        assert_se(u);
        st.hash = u->hash;
        assert_se(registry_assignment_to_json(&(RegistryAssignment) { .unit = u->name, .hash = u->hash,
                                                                      .raw = u->raw, .desired = desired }, &aj) == 0);
        assert_se(registry_unit_state_to_json(&st, &sj) == 0);
        put(ak, aj);
        put(sk, sj);
}

static const char hello[] =
        "[Unit]\n"
        "Description=Hello World\n"
        "\n"
        "[Service]\n"
        "ExecStart=/bin/sh -c \"while true; do echo Hello, World!; sleep 1; done\"\n";

static const char hello_v2[] =
        "[Unit]\n"
        "Description=Hello World, again\n"
        "\n"
        "[Service]\n"
        "ExecStart=/bin/sh -c \"while true; do echo Hello again; sleep 1; done\"\n";

static void test_submit_cat_destroy(void) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_(run_done) Run a = run(STRV_MAKE("submit", "hello.service"));

        is_int(a.status, 0, "submit hello.service");
        is_str(a.out, "Unit hello.service inactive\n", "prints fleet's line");
        u = get_unit("hello.service");
        ok(u && u->desired == UNIT_DESIRED_INACTIVE && streq(u->raw, hello), "stored inactive with its text");

        _cleanup_(run_done) Run b = run(STRV_MAKE("submit", "hello.service"));
        ok(b.status == 0 && streq(b.out, ""), "submitting it again changes nothing and says nothing");

        _cleanup_(run_done) Run c = run(STRV_MAKE("cat", "hello"));
        is_str(c.out, hello, "cat prints the submitted file (TestUnitCat)");

        /* TestUnitSubmit: instances from the template next to the files, listed, then destroyed. */
        _cleanup_(run_done) Run d = run(STRV_MAKE("submit", "hello@{1..9}.service"));
        is_int(d.status, 0, "submit hello@{1..9}.service from hello@.service next to them");
        is_int(count_units(), 10, "ten units");
        _cleanup_(run_done) Run e = run(STRV_MAKE("list-unit-files", "--no-legend", "--fields", "unit"));
        is_str(e.out, "hello.service\nhello@1.service\nhello@2.service\nhello@3.service\nhello@4.service\n"
                      "hello@5.service\nhello@6.service\nhello@7.service\nhello@8.service\nhello@9.service\n",
               "list-unit-files: sorted (TestListUnitFilesOrder)");

        _cleanup_(run_done) Run f = run(STRV_MAKE("destroy", "hello@{1..9}.service", "nothere.service"));
        is_int(f.status, 0, "destroy nine instances and one unknown unit");
        is_int(count_lines(f.out), 9, "nine 'Destroyed' lines");
        ok(strstr(f.out, "Destroyed hello@9.service\n") != NULL, "fleet's line");
        is_int(count_units(), 1, "one unit left");

        /* Instances from a template that is only in the cluster. */
        _cleanup_(run_done) Run g = run(STRV_MAKE("submit", "hello@.service"));
        unlink("hello@.service");
        _cleanup_(run_done) Run h = run(STRV_MAKE("submit", "/nowhere/hello@a.service"));
        ok(g.status == 0 && h.status == 0, "an instance from the template in the cluster");
        _cleanup_(registry_unit_freep) RegistryUnit *inst = get_unit("hello@a.service");
        ok(inst && strstr(inst->raw, "%i"), "it is a copy of the template");
        _cleanup_(run_done) Run i = run(STRV_MAKE("destroy", "hello@*"));
        is_str(i.out, "Destroyed hello@.service\nDestroyed hello@a.service\n", "destroy with a glob");
}

static void test_states(void) {
        _cleanup_(registry_unit_freep) RegistryUnit *u1 = NULL, *u2 = NULL, *u3 = NULL, *u4 = NULL;

        _cleanup_(run_done) Run a = run(STRV_MAKE("load", "--no-block", "hello.service"));
        is_int(a.status, 0, "load --no-block");
        is_str(a.out, "Triggered unit hello.service load\n", "prints fleet's line");
        u1 = get_unit("hello.service");
        ok(u1 && u1->desired == UNIT_DESIRED_LOADED, "desired loaded");

        _cleanup_(run_done) Run b = run(STRV_MAKE("start", "--no-block", "hello"));
        u2 = get_unit("hello.service");
        ok(b.status == 0 && u2 && u2->desired == UNIT_DESIRED_LAUNCHED, "start --no-block: desired launched");

        _cleanup_(run_done) Run c = run(STRV_MAKE("stop", "--no-block", "hello.service"));
        u3 = get_unit("hello.service");
        ok(c.status == 0 && u3 && u3->desired == UNIT_DESIRED_LOADED, "stop: desired loaded");
        is_str(c.err, "Successfully stopped units [hello.service].\n", "stop's message on stderr");

        _cleanup_(run_done) Run d = run(STRV_MAKE("unload", "--no-block", "hello.service"));
        u4 = get_unit("hello.service");
        ok(d.status == 0 && u4 && u4->desired == UNIT_DESIRED_INACTIVE, "unload: desired inactive");

        _cleanup_(run_done) Run e = run(STRV_MAKE("stop", "hello.service"));
        is_int(e.status, 1, "stopping an inactive unit fails, as in fleet");
}

static void test_blocking(void) {
        put_machine(M1, "10.99.1.5", STRV_MAKE("role=web"));

        /* Nobody places the unit: the wait gives up after its attempts. */
        _cleanup_(run_done) Run a = run(STRV_MAKE("start", "--block-attempts=2", "hello.service"));
        is_int(a.status, 1, "start --block-attempts=2 with no engine fails");
        is_str(a.err, "Error waiting for units: timed out waiting for unit hello.service to report state launched\n",
               "fleet's message");

        /* The engine placed it and the agent reports it active. */
        put_running("hello.service", M1, UNIT_DESIRED_LAUNCHED, "active");
        _cleanup_(run_done) Run b = run(STRV_MAKE("start", "--block-attempts=4", "hello.service"));
        is_int(b.status, 0, "start returns once the machine reports the unit active");
        is_str(b.out, "Unit hello.service launched on 113f16a7.../10.99.1.5\n", "fleet's line");

        _cleanup_(run_done) Run c = run(STRV_MAKE("list-units"));
        is_str(c.out, "UNIT\t\tMACHINE\t\t\tACTIVE\tSUB\nhello.service\t113f16a7.../10.99.1.5\tactive\trunning\n",
               "list-units");
        _cleanup_(run_done) Run d = run(STRV_MAKE("list-unit-files", "--full"));
        squeeze_tabs(d.out);
        ok(strstr(d.out, "hello.service\t") && strstr(d.out, "launched\tlaunched\t" M1 "/10.99.1.5\n"),
           "list-unit-files --full shows the full target");

        /* An agent reporting an older body does not count. */
        write_file("hello.service", hello_v2);
        _cleanup_(run_done) Run e = run(STRV_MAKE("start", "--replace", "--block-attempts=2", "hello.service"));
        _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit("hello.service");
        is_int(e.status, 1, "start --replace waits for the new body");
        ok(u && streq(u->raw, hello_v2) && u->desired == UNIT_DESIRED_LAUNCHED, "the body was replaced");
        _cleanup_(run_done) Run f = run(STRV_MAKE("cat", "hello.service"));
        is_str(f.out, hello_v2, "cat shows the new body (TestUnitStartReplace)");

        /* A wait that is already under way sees the agent's report when it comes, through its
         * watch: the report is written once fleetctl says it watches, and what woke it last is the
         * watch's event, not the safety poll (--debug says which). */
        pid_t pid = spawn_at(endpoint, STRV_MAKE("start", "--debug", "--block-attempts=400", "hello.service"));
        ok(stderr_shows("Watching "), "the waiting start watches the registry");
        put_running("hello.service", M1, UNIT_DESIRED_LAUNCHED, "active");
        _cleanup_(run_done) Run g = collect(pid, "start");
        is_int(g.status, 0, "a waiting start returns once the new body is reported active");
        is_str(g.out, "Unit hello.service launched on 113f16a7.../10.99.1.5\n", "with fleet's line");
        {
                const char *w = last_of(g.err, "(watch event)"), *p = last_of(g.err, "(safety poll)");

                ok(w && (!p || p < w), "it saw the report through the watch's event");
        }
}

static void test_local_exec(void) {
        char idfile[512];

        /* Pretend this machine is M1, where hello.service runs: ssh and status then run here. */
        snprintf(idfile, sizeof(idfile), "%s/machine-id", dir);
        write_file("machine-id", M1 "\n");
        setenv("FLEETCTL_MACHINE_ID_FILE", idfile, 1);

        _cleanup_(run_done) Run a = run(STRV_MAKE("ssh", "hello.service", "echo", "foo", "$((6*7))"));
        ok(a.status == 0 && streq(a.out, "foo 42\n"), "ssh UNIT CMD runs on the unit's machine, here, via a shell");
        _cleanup_(run_done) Run b = run(STRV_MAKE("ssh", "113f16a7", "exit 3"));
        is_int(b.status, 3, "ssh MACHINE-PREFIX passes the exit status on");
        _cleanup_(run_done) Run c = run(STRV_MAKE("ssh", "--machine=" M2, "true"));
        ok(c.status == 1 && count_lines(c.err) == 1 && strstr(c.err, "public IP"),
           "a remote machine without an address: one line");
        _cleanup_(run_done) Run d = run(STRV_MAKE("journal", "db.service"));
        ok(d.status == 1 && count_lines(d.err) == 1 && strstr(d.err, "no machine has role=db"),
           "journal of an unplaced unit says why it is not running: %s", line1(d.err));
        unsetenv("FLEETCTL_MACHINE_ID_FILE");
}

/* restart of a launched global unit: "systemctl restart" on each machine reporting it, here for
 * M1 and over ssh for M2. Shims on PATH stand in for systemctl and ssh and record their calls. */
static void test_global_restart(void) {
        _cleanup_free_ char *old_path = strdup(getenv("PATH") ?: "/usr/bin:/bin"), *path = NULL,
                *calls = NULL;
        char idfile[512], log[512], bin[512];

        snprintf(idfile, sizeof(idfile), "%s/machine-id", dir);
        snprintf(log, sizeof(log), "%s/calls", dir);
        snprintf(bin, sizeof(bin), "%s/bin", dir);
        write_file("machine-id", M1 "\n");
        setenv("FLEETCTL_MACHINE_ID_FILE", idfile, 1);
        assert_se(mkdir(bin, 0755) == 0);
        write_file("bin/systemctl", "#!/bin/sh\necho \"systemctl $*\" >> \"$(dirname \"$0\")/../calls\"\n");
        write_file("bin/ssh", "#!/bin/sh\necho \"ssh $*\" >> \"$(dirname \"$0\")/../calls\"\n"
                              "[ -z \"$SSH_FAIL\" ] || exit 255\n");
        {
                char p1[600], p2[600];

                snprintf(p1, sizeof(p1), "%s/systemctl", bin);
                snprintf(p2, sizeof(p2), "%s/ssh", bin);
                assert_se(chmod(p1, 0755) == 0 && chmod(p2, 0755) == 0);
        }
        assert_se(old_path && asprintf(&path, "%s:%s", bin, old_path) > 0);
        setenv("PATH", path, 1);

        put_machine(M2, "10.99.1.6", NULL);
        put_running("everywhere.service", M1, UNIT_DESIRED_LAUNCHED, "active");
        put_running("everywhere.service", M2, UNIT_DESIRED_LAUNCHED, "active");

        _cleanup_(run_done) Run a = run(STRV_MAKE("restart", "everywhere.service"));
        is_int(a.status, 0, "restart of a global unit succeeds");
        is_str(a.out, "Restarted global unit everywhere.service on 113f16a7.../10.99.1.5\n"
                      "Restarted global unit everywhere.service on c9de9451.../10.99.1.6\n",
               "one line per machine that reports it");
        assert_se(read_full_file(log, &calls, NULL, 0) == 0);
        ok(startswith(calls, "systemctl restart everywhere.service\nssh ") &&
           endswith(calls, " 10.99.1.6 -- systemctl restart everywhere.service\n") &&
           count_lines(calls) == 2,
           "systemctl restart here, then over ssh on the other machine: %s", line1(calls));
        {
                _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit("everywhere.service");

                ok(u && u->desired == UNIT_DESIRED_LAUNCHED, "its desired state stays launched");
        }

        setenv("SSH_FAIL", "1", 1);
        _cleanup_(run_done) Run b = run(STRV_MAKE("restart", "everywhere.service"));
        unsetenv("SSH_FAIL");
        ok(b.status != 0, "restart fails when it fails on a machine (exit status %d)", b.status);
        ok(strstr(b.err, "Failed to restart global unit everywhere.service on c9de9451.../10.99.1.6: exit "
                         "status 255") && count_lines(b.err) == 1, "which is named: %s", line1(b.err));
        is_str(b.out, "Restarted global unit everywhere.service on 113f16a7.../10.99.1.5\n",
               "the others are still restarted");

        setenv("PATH", old_path, 1);
        unsetenv("FLEETCTL_MACHINE_ID_FILE");
        put_machine(M2, NULL, NULL);
}

static void test_global_and_reasons(void) {
        _cleanup_free_ char *rk = registry_reason_key(prefix, "db.service");

        write_file("everywhere.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\n");
        _cleanup_(run_done) Run a = run(STRV_MAKE("start", "everywhere.service"));
        is_int(a.status, 0, "start a global unit");
        is_str(a.out, "Triggered global unit everywhere.service start\n", "global units do not block");

        write_file("db.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineMetadata=role=db\n");
        _cleanup_(run_done) Run b = run(STRV_MAKE("start", "--no-block", "db.service"));
        put(rk, "no machine has role=db");
        _cleanup_(run_done) Run c = run(STRV_MAKE("list-unit-files", "--fields=unit,dstate,target,reason", "--no-legend"));
        squeeze_tabs(c.out);
        ok(strstr(c.out, "db.service\tlaunched\t-\tno machine has role=db\n") != NULL,
           "the reason a unit is not placed");
        ok(strstr(c.out, "everywhere.service\tlaunched\tglobal\t-\n") != NULL, "global target");

        _cleanup_(run_done) Run d = run(STRV_MAKE("list-unit-files", "-o", "json"));
        ok(d.status == 0 && strstr(d.out, "\"reason\": \"no machine has role=db\""), "-o json has the reason");

        put_machine(M2, NULL, NULL);
        _cleanup_(run_done) Run e = run(STRV_MAKE("list-machines"));
        is_str(e.out, "MACHINE\t\tIP\t\tMETADATA\n113f16a7...\t10.99.1.5\trole=web\nc9de9451...\t-\t\t-\n",
               "list-machines");
        _cleanup_(run_done) Run f = run(STRV_MAKE("list-machines", "-l", "--no-legend"));
        is_str(f.out, M1 "\t10.99.1.5\trole=web\n" M2 "\t-\t\t-\n", "list-machines -l --no-legend");
}

/* Issue 12 (13): what the cluster says is printed with its control bytes escaped. A machine's
 * public_ip carrying a new line and escape sequences forged a row of list-machines; a description
 * or a reason could recolour the terminal. And an address starting with '-' must not reach ssh,
 * which would take it for an option (-oProxyCommand= runs a command on the operator's machine). */
static void test_hostile_display(void) {
        static const char forged_ip[] = "10.99.1.6\n\x1b[1A\x1b[2K" M1 "\t10.66.6.6\trole=owned";
        _cleanup_free_ char *rk = registry_reason_key(prefix, "shady.service"), *calls = NULL,
                *old_path = strdup(getenv("PATH") ?: "/usr/bin:/bin"), *path = NULL;
        char log[512];

        put_machine(M2, forged_ip, STRV_MAKE("role=\x1b]0;pwned\x07x\xc2\x9b" "2J"));
        _cleanup_(run_done) Run a = run(STRV_MAKE("list-machines", "-l", "--no-legend"));
        is_int(a.status, 0, "list-machines with a hostile machine record");
        ok(!strchr(a.out, '\x1b') && count_lines(a.out) == 2, "no escape byte printed, no row forged: %s",
           line1(a.out));
        squeeze_tabs(a.out);
        if (!ok(strstr(a.out, M2 "\t10.99.1.6\\n\\x1b[1A\\x1b[2K" M1 "\\t10.66.6.6\\trole=owned\t"
                         "role=\\x1b]0;pwned\\ax\\xc2\\x9b2J\n") != NULL,
           "the address and metadata are shown escaped, a C1 control too"))
                diag("%s", a.out);

        write_file("shady.service", "[Unit]\nDescription=ok\x1b[8m hidden\xe2\x80\xae\n[Service]\nExecStart=/bin/true\n");
        _cleanup_(run_done) Run b = run(STRV_MAKE("submit", "shady.service"));
        is_int(b.status, 0, "a description with escape sequences is a valid unit");
        put(rk, "no machine\x1b[2J fits");
        _cleanup_(run_done) Run c = run(STRV_MAKE("list-unit-files", "--fields=unit,desc,reason", "--no-legend"));
        squeeze_tabs(c.out);
        if (!ok(strstr(c.out, "shady.service\tok\\x1b[8m hidden\\xe2\\x80\\xae\tno machine\\x1b[2J fits\n") &&
           !strchr(c.out, '\x1b'), "description and reason escaped in list-unit-files"))
                diag("%s", c.out);
        _cleanup_(run_done) Run d = run(STRV_MAKE("list-unit-files", "-o", "json"));
        if (!ok(d.status == 0 && strstr(d.out, "\"no machine\\u001B[2J fits\"") && !strchr(d.out, '\x1b'),
                "-o json escapes them its own way"))
                diag("%s", d.out);
        _cleanup_(run_done) Run e = run(STRV_MAKE("status", "shady.service"));
        ok(e.status != 0 && strstr(e.err, "no machine\\x1b[2J fits") && !strchr(e.err, '\x1b'),
           "the reason in status's error is escaped: %s", line1(e.err));

        /* ssh is a recording shim (test_global_restart's): it must not even be started. */
        snprintf(log, sizeof(log), "%s/calls", dir);
        (void) unlink(log);
        assert_se(old_path && asprintf(&path, "%s/bin:%s", dir, old_path) > 0);
        setenv("PATH", path, 1);
        put_machine(M2, "-oProxyCommand=touch /tmp/pwned", NULL);
        _cleanup_(run_done) Run f = run(STRV_MAKE("ssh", M2, "true"));
        setenv("PATH", old_path, 1);
        ok(f.status != 0 && strstr(f.err, "no address") && count_lines(f.err) == 1,
           "an address that ssh would read as an option is refused: %s", line1(f.err));
        ok(read_full_file(log, &calls, NULL, 0) == -ENOENT, "ssh was not run");

        _cleanup_(run_done) Run g = run(STRV_MAKE("destroy", "shady.service"));
        (void) etcd_sync_delete(client, rk, 0, NULL);
        put_machine(M2, NULL, NULL);
}

/* Issue 12 (4): fleet's own units cannot be submitted, and a unit an agent refused (its name is a
 * local unit's there) shows the agent's reason in list-unit-files and status. */
static void test_refused(void) {
        _cleanup_free_ char *sk = registry_state_key(prefix, "taken.service", M1), *sj = NULL;
        int64_t before = count_units();

        write_file("fleetd.service", "[Service]\nExecStart=/bin/true\n");
        _cleanup_(run_done) Run a = run(STRV_MAKE("submit", "fleetd.service"));
        ok(a.status == 1 && count_lines(a.err) == 1 && strstr(a.err, "fleetd.service is fleet's own unit"),
           "fleet's own unit is refused at submit: %s", line1(a.err));
        is_int(count_units(), before, "nothing was submitted");

        write_file("taken.service", "[Service]\nExecStart=/bin/true\n");
        _cleanup_(run_done) Run b = run(STRV_MAKE("start", "--no-block", "taken.service"));
        put_running("taken.service", M1, UNIT_DESIRED_LAUNCHED, "inactive");
        _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit("taken.service");
        assert_se(u);
        assert_se(registry_unit_state_to_json(&(RegistryUnitState) {
                .unit = (char *) "taken.service", .machine_id = (char *) M1, .hash = u->hash,
                .load_state = (char *) "refused", .active_state = (char *) "inactive", .sub_state = (char *) "dead",
                .reason = (char *) "the machine has a unit of its own by that name (/etc/systemd/system/taken.service)",
        }, &sj) == 0);
        put(sk, sj);
        _cleanup_(run_done) Run c = run(STRV_MAKE("list-unit-files"));
        squeeze_tabs(c.out);
        ok(strstr(c.out, "\tREASON\n") && strstr(c.out, "taken.service\t") &&
           strstr(c.out, "the machine has a unit of its own by that name (/etc/systemd/system/taken.service)\n"),
           "list-unit-files shows the agent's reason");
        _cleanup_(run_done) Run d = run(STRV_MAKE("status", "taken.service"));
        ok(d.status != 0 && count_lines(d.err) == 1 && strstr(d.err, "was refused by machine 113f16a7...: the machine has a unit"),
           "status says so instead of showing the machine's own unit: %s", line1(d.err));
        _cleanup_free_ char *ak = registry_assignment_key(prefix, M1, "taken.service"),
                *uk = registry_unit_key(prefix, "taken.service");
        (void) etcd_sync_delete(client, sk, 0, NULL);
        (void) etcd_sync_delete(client, ak, 0, NULL);
        (void) etcd_sync_delete(client, uk, 0, NULL);
}

static void test_errors(void) {
        int64_t before = count_units();

        _cleanup_(run_done) Run a = run(STRV_MAKE("frobnicate"));
        ok(a.status == 1 && count_lines(a.err) == 1 && strstr(a.err, "frobnicate"), "unknown command: one line");
        _cleanup_(run_done) Run b = run(STRV_MAKE("list-units", "--bogus"));
        ok(b.status == 1 && count_lines(b.err) == 1 && strstr(b.err, "--bogus"), "unknown flag: one line");
        _cleanup_(run_done) Run c = run(STRV_MAKE("submit", "--block-attempts=3", "x.service"));
        ok(c.status == 1 && count_lines(c.err) == 1 && strstr(c.err, "--block-attempts"),
           "a flag of another command: one line");

        write_file("good.service", "[Service]\nExecStart=/bin/true\n");
        _cleanup_(run_done) Run d = run(STRV_MAKE("submit", "good.service", "missing.service"));
        ok(d.status == 1 && count_lines(d.err) == 1 && strstr(d.err, "missing.service"), "missing file: one line");
        _cleanup_(run_done) Run e = run(STRV_MAKE("submit", "good.service", "bad name.service"));
        ok(e.status == 1 && count_lines(e.err) == 1 && strstr(e.err, "bad name"), "invalid name: one line");
        write_file("conflict.service",
                   "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineID=" M1 "\nConflicts=other*\n");
        _cleanup_(run_done) Run f = run(STRV_MAKE("start", "good.service", "conflict.service"));
        ok(f.status == 1 && count_lines(f.err) == 1 && strstr(f.err, "MachineID"),
           "invalid X-Fleet combination: one line");
        write_file("syntax.service", "ExecStart=/bin/true\n");
        _cleanup_(run_done) Run g = run(STRV_MAKE("submit", "good.service", "syntax.service"));
        ok(g.status == 1 && count_lines(g.err) == 1, "unit file syntax error: one line");
        _cleanup_(run_done) Run h = run(STRV_MAKE("start", "hello@.service"));
        ok(h.status == 1 && count_lines(h.err) == 1, "starting a template: one line");
        /* Reservations are validated like the other options: the unit, key and value named. */
        write_file("cpu.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nReserveCPU=0.0001\n");
        _cleanup_(run_done) Run h2 = run(STRV_MAKE("submit", "good.service", "cpu.service"));
        ok(h2.status == 1 && count_lines(h2.err) == 1 && strstr(h2.err, "cpu.service") &&
           strstr(h2.err, "ReserveCPU=0.0001"), "a bad ReserveCPU= is refused at submit: %s", line1(h2.err));
        write_file("mem.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nReserveMemory=12Q\n");
        _cleanup_(run_done) Run h3 = run(STRV_MAKE("submit", "good.service", "mem.service"));
        ok(h3.status == 1 && count_lines(h3.err) == 1 && strstr(h3.err, "mem.service") &&
           strstr(h3.err, "ReserveMemory=12Q"), "a bad ReserveMemory= is refused at submit: %s", line1(h3.err));
        is_int(count_units(), before, "nothing was half-submitted");

        _cleanup_(run_done) Run i = run_at("http://127.0.0.1:9", STRV_MAKE("submit", "good.service"));
        ok(i.status == 1 && count_lines(i.err) == 1 && strstr(i.err, "unreachable"),
           "etcd unreachable: one line (%s)", line1(i.err));
        is_int(count_units(), before, "and nothing written");
        /* An endpoint that accepts connections and never answers. */
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        char silent[64];
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_se(fd >= 0);
        assert_se(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 && listen(fd, 16) == 0);
        assert_se(getsockname(fd, (struct sockaddr *) &sa, &sl) == 0);
        snprintf(silent, sizeof(silent), "http://127.0.0.1:%d", ntohs(sa.sin_port));
        _cleanup_(run_done) Run k = run_at(silent, STRV_MAKE("list-unit-files"));
        ok(k.status == 1 && count_lines(k.err) == 1 && strstr(k.err, silent), "a silent etcd: one line (%s)",
           line1(k.err));
        close(fd);

        _cleanup_(run_done) Run j = run(STRV_MAKE("cat", "nothere.service"));
        ok(j.status == 1 && count_lines(j.err) == 1, "cat of an unknown unit: one line");
}

static void test_replace_conflict_and_prefix(void) {
        _cleanup_(registry_unit_freep) RegistryUnit *before = get_unit("good.service"), *after = NULL;

        /* Without --replace a different local file only warns. */
        write_file("good.service", "[Service]\nExecStart=/bin/false\n");
        _cleanup_(run_done) Run a = run(STRV_MAKE("submit", "good.service"));
        ok(!before, "good.service was never submitted before");
        _cleanup_(run_done) Run b = run(STRV_MAKE("submit", "good.service"));
        write_file("good.service", "[Service]\nExecStart=/bin/true\n");
        _cleanup_(run_done) Run c = run(STRV_MAKE("submit", "good.service"));
        after = get_unit("good.service");
        ok(c.status == 0 && strstr(c.err, "differs") && after && strstr(after->raw, "/bin/false"),
           "a different local file warns and changes nothing");
        _cleanup_(run_done) Run d = run(STRV_MAKE("submit", "--replace", "good.service"));
        _cleanup_(registry_unit_freep) RegistryUnit *replaced = get_unit("good.service");
        ok(d.status == 0 && replaced && strstr(replaced->raw, "/bin/true"), "--replace replaces (TestUnitSubmitReplace)");

        /* Another key prefix is another cluster. */
        _cleanup_free_ char *saved = strdup(prefix);
        assert_se(saved);
        snprintf(prefix, sizeof(prefix), "/other-cluster/");
        _cleanup_(run_done) Run e = run(STRV_MAKE("list-unit-files", "--no-legend"));
        is_str(e.out, "", "a fresh prefix has no units");
        snprintf(prefix, sizeof(prefix), "%s", saved);
}

static int64_t unit_revision(const char *name) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *k = registry_unit_key(prefix, name);

        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = k }, &resp) >= 0);
        return resp->n_kvs == 1 ? resp->kvs[0].mod_revision : 0;
}

static const char compose_v1[] =
        "services:\n"
        "  web:\n"
        "    image: nginx:${TAG:-1}\n"
        "    deploy:\n"
        "      replicas: 2\n"
        "  db:\n"
        "    image: redis\n"
        "  debug:\n"
        "    image: busybox\n"
        "    profiles: [debug]\n";

/* compose up converges: new units submitted and started, unchanged ones untouched, orphans listed
 * and destroyed only with --remove-orphans; down finds the project by name with -p alone. */
static void test_compose_converge(void) {
        write_file("compose.yaml", compose_v1);
        _cleanup_(run_done) Run a = run(STRV_MAKE("compose", "-p", "demo", "up", "-d"));
        is_int(a.status, 0, "compose up");
        ok(strstr(a.out, "Triggered unit demo-db.service start\n") &&
           strstr(a.out, "Triggered unit demo-web@2.service start\n"), "every service started");
        _cleanup_(registry_unit_freep) RegistryUnit *w = get_unit("demo-web@1.service");
        ok(w && w->desired == UNIT_DESIRED_LAUNCHED && strstr(w->raw, "nginx:1"), "an instance of the web template");
        _cleanup_(registry_unit_freep) RegistryUnit *t = get_unit("demo-web@.service");
        ok(t && t->desired == UNIT_DESIRED_INACTIVE, "the template is submitted, not started");
        _cleanup_(registry_unit_freep) RegistryUnit *dbg = get_unit("demo-debug.service");
        ok(!dbg, "a service of an inactive profile is not submitted");

        int64_t rev = unit_revision("demo-web@1.service"), before = count_units();
        _cleanup_(run_done) Run b = run(STRV_MAKE("compose", "-p", "demo", "up", "-d"));
        ok(b.status == 0 && strstr(b.out, "up to date") && unit_revision("demo-web@1.service") == rev &&
           count_units() == before, "up again with no change writes nothing");

        /* A service gone from the file: listed, kept; destroyed with --remove-orphans. */
        write_file("compose.yaml", "services:\n  web:\n    image: nginx:1\n    deploy:\n      replicas: 2\n");
        _cleanup_(run_done) Run c = run(STRV_MAKE("compose", "-p", "demo", "up", "-d"));
        _cleanup_(registry_unit_freep) RegistryUnit *db = get_unit("demo-db.service");
        ok(c.status == 0 && strstr(c.err, "Orphan unit demo-db.service") && db, "an orphan is listed and kept");
        _cleanup_(run_done) Run d = run(STRV_MAKE("compose", "-p", "demo", "up", "-d", "--remove-orphans"));
        _cleanup_(registry_unit_freep) RegistryUnit *db2 = get_unit("demo-db.service");
        ok(d.status == 0 && strstr(d.out, "Destroyed demo-db.service") && !db2, "--remove-orphans destroys it");

        /* --profile brings its service in; -f files merge in order; --env-file feeds interpolation. */
        write_file("compose.yaml", compose_v1);
        write_file("more.yaml", "services:\n  db:\n    image: redis:7\n");
        write_file("tag.env", "TAG=2\n");
        _cleanup_(run_done) Run e = run(STRV_MAKE("compose", "-f", "compose.yaml", "-f", "more.yaml", "--profile", "debug",
                                                  "--env-file", "tag.env", "-p", "demo", "config"));
        ok(e.status == 0 && strstr(e.out, "name: demo\n") && strstr(e.out, "image: redis:7") &&
           strstr(e.out, "nginx:2") && strstr(e.out, "debug:"), "config: the merged model, profile and env file applied");
        _cleanup_(run_done) Run f = run(STRV_MAKE("compose", "-f", "compose.yaml", "-f", "more.yaml", "--profile", "debug",
                                                  "-p", "demo", "--runtime", "podman", "up", "--detach", "debug"));
        _cleanup_(registry_unit_freep) RegistryUnit *dbg2 = get_unit("demo-debug.service");
        _cleanup_(registry_unit_freep) RegistryUnit *db3 = get_unit("demo-db.service");
        ok(f.status == 0 && dbg2 && strstr(dbg2->raw, "/usr/bin/podman") && !db3,
           "up SERVICE with --profile and --runtime podman starts only that service, with podman");

        /* Another project whose name starts the same is not this one's. */
        write_file("other.yaml", "name: demo-x\nservices:\n  web:\n    image: nginx\n");
        _cleanup_(run_done) Run g = run(STRV_MAKE("compose", "-f", "other.yaml", "up", "-d"));
        is_int(g.status, 0, "another project up");

        /* down -p: no file needed (run where there is none). */
        _cleanup_(run_done) Run h = run(STRV_MAKE("compose", "-p", "demo", "ps", "-q"));
        is_int(count_lines(h.out), 4, "ps -q: the project's four units (template, two instances, debug)");
        char path[512];
        snprintf(path, sizeof(path), "%s/compose.yaml", dir);
        assert_se(unlink(path) == 0);
        _cleanup_(run_done) Run i = run(STRV_MAKE("compose", "-p", "demo", "down"));
        _cleanup_(registry_unit_freep) RegistryUnit *gone = get_unit("demo-web@.service");
        _cleanup_(registry_unit_freep) RegistryUnit *kept = get_unit("demo-x-web.service");
        ok(i.status == 0 && count_lines(i.out) == 4 && !gone && kept, "down -p alone removes the project, not demo-x");
        _cleanup_(run_done) Run j = run(STRV_MAKE("compose", "-p", "demo-x", "down"));
        is_int(j.status, 0, "down demo-x");
}

/* Everything in etcd under "/" (every key of every cluster prefix), with each key's revisions, and
 * the store's revision: any write, even of the same value, changes it. */
static char *etcd_dump(void) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_se(f);
        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = "/", .range_end = "0" }, &resp) >= 0);
        fprintf(f, "revision %" PRIi64 "\n", resp->revision);
        for (size_t i = 0; i < resp->n_kvs; i++)
                fprintf(f, "%s %" PRIi64 " %" PRIi64 " %" PRIi64 " %s\n", resp->kvs[i].key, resp->kvs[i].create_revision,
                        resp->kvs[i].mod_revision, resp->kvs[i].lease, resp->kvs[i].value);
        assert_se(fclose(f) == 0);
        return TAKE_PTR(text);
}

/* A bad file or flag: a message naming the file, line and key, exit 1, and nothing written. */
static void test_compose_refused(void) {
        static const struct {
                const char *args[9];
                const char *needle;
        } cases[] = {
                { { "compose", "-f", "bad-update.yaml", "up" },
                  "bad-update.yaml:6:16: services.web.deploy.update_config.order: must be stop-first" },
                { { "compose", "-f", "bad-key.yaml", "up" }, "bad-key.yaml:4:" },
                { { "compose", "-f", "bad-yaml.yaml", "up" }, "bad-yaml.yaml:" },
                { { "compose", "-f", "ok.yaml", "-f", "bad-key.yaml", "up", "-d" }, "bad-key.yaml:4:" },
                { { "compose", "-f", "ok.yaml", "--env-file", "missing.env", "up" }, "missing.env" },
                { { "compose", "-f", "compose-none.yaml", "up" }, "compose-none.yaml" },
                { { "compose", "-f", "ok.yaml", "up", "nosuch" }, "No such service: nosuch" },
                { { "compose", "-f", "profiled.yaml", "up", "-d" }, "no service is enabled" },
                { { "compose", "-f", "ok.yaml", "-p", "Web", "up" }, "invalid project name \"Web\"" },
                { { "compose", "-p", "Web", "down" }, "invalid project name \"Web\"" },
                { { "compose", "-f", "ok.yaml", "--runtime=lxc", "up" }, "lxc" },
                { { "compose", "-f", "ok.yaml", "up", "--bogus" }, "--bogus" },
                { { "compose", "-f", "ok.yaml", "up", "--env-file=x" }, "--env-file" },
                { { "compose", "-f", "ok.yaml", "up", "--wait-timeout=soon" }, "wait-timeout" },
                { { "compose", "-f", "ok.yaml", "down", "web" }, "web" },
        };

        write_file("bad-update.yaml", "services:\n  web:\n    image: nginx\n    deploy:\n      update_config:\n"
                                      "        order: sideways\n");
        write_file("bad-key.yaml", "services:\n  web:\n    image: nginx\n    bogus: 1\n");
        write_file("bad-yaml.yaml", "services:\n  web:\n    image: [nginx\n");
        write_file("ok.yaml", "services:\n  web:\n    image: nginx\n");
        write_file("profiled.yaml", "services:\n  web:\n    image: nginx\n    profiles: [x]\n");
        /* Something of the project already there: a bad run must not touch it either. */
        _cleanup_(run_done) Run base = run(STRV_MAKE("compose", "-f", "ok.yaml", "up", "-d"));
        is_int(base.status, 0, "the project is up");

        _cleanup_free_ char *before = etcd_dump();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *desc = strv_join((char **) cases[i].args, " ");
                _cleanup_(run_done) Run r = run((char **) cases[i].args);
                _cleanup_free_ char *after = etcd_dump();

                ok(r.status == 1 && strstr(r.err, cases[i].needle) && streq(after, before),
                   "'%s': exit 1, names it, etcd unchanged: %s", desc, line1(r.err));
        }
        _cleanup_(run_done) Run down = run(STRV_MAKE("compose", "-f", "ok.yaml", "down"));
        is_int(down.status, 0, "down");
}

/* Flags whose meaning shows in etcd: relative paths of a later -f file resolve against the first
 * file's directory (docker compose's project directory); up -d returns without waiting, up
 * without it waits for the units to be active (here no agent runs them). */
static void test_compose_flags(void) {
        char path[512];

        snprintf(path, sizeof(path), "%s/sub", dir);
        assert_se(mkdir(path, 0755) == 0 || errno == EEXIST);
        write_file("first.yaml", "name: paths\nservices:\n  web:\n    image: nginx\n");
        write_file("sub/second.yaml", "services:\n  web:\n    env_file: ./web.env\n");
        write_file("web.env", "WHERE=project-directory\n");
        write_file("sub/web.env", "WHERE=second-file-directory\n");
        _cleanup_(run_done) Run a = run(STRV_MAKE("compose", "-f", "first.yaml", "-f", "sub/second.yaml", "up", "-d"));
        _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit("paths-web.service");
        ok(a.status == 0 && u && strstr(u->raw, "project-directory") && !strstr(u->raw, "second-file-directory"),
           "env_file of the second -f file is read from the first file's directory");

        write_file("wait.yaml", "name: waiting\nservices:\n  web:\n    image: nginx\n");
        _cleanup_(run_done) Run b = run(STRV_MAKE("compose", "-f", "wait.yaml", "up", "--wait-timeout=1"));
        _cleanup_(registry_unit_freep) RegistryUnit *w = get_unit("waiting-web.service");
        ok(b.status == 1 && w && w->desired == UNIT_DESIRED_LAUNCHED, "up waits for active units: gives up after --wait-timeout (%s)",
           line1(b.err));
        _cleanup_(run_done) Run c = run(STRV_MAKE("compose", "-f", "wait.yaml", "up", "-d", "--wait-timeout=1"));
        is_int(c.status, 0, "up -d does not wait");
        _cleanup_(run_done) Run d = run(STRV_MAKE("compose", "-p", "paths", "down"));
        _cleanup_(run_done) Run e = run(STRV_MAKE("compose", "-p", "waiting", "down"));
        ok(d.status == 0 && e.status == 0 && !get_unit("paths-web.service"), "down -p");

        /* A service on the host's network has no [X-Fleet-Network] Project=: the files name it. */
        write_file("host.yaml", "name: hostnet\nservices:\n  web:\n    image: nginx\n  agent:\n    image: busybox\n"
                                "    network_mode: host\n");
        _cleanup_(run_done) Run f = run(STRV_MAKE("compose", "-f", "host.yaml", "up", "-d"));
        _cleanup_(registry_unit_freep) RegistryUnit *h = get_unit("hostnet-agent.service");
        ok(f.status == 0 && h && !strstr(h->raw, "[X-Fleet-Network]"), "up: the host-network service has no network section");
        _cleanup_(run_done) Run g = run(STRV_MAKE("compose", "-f", "host.yaml", "ps", "-q"));
        is_int(count_lines(g.out), 2, "ps -f lists both services");
        _cleanup_(run_done) Run i = run(STRV_MAKE("compose", "-f", "host.yaml", "down"));
        ok(i.status == 0 && !get_unit("hostnet-agent.service") && !get_unit("hostnet-web.service"),
           "down -f removes the host-network service too");
}

/* The launched instances of template prefix "<p>@" (surge ones too), as the agent of M1 would see
 * them: each reported active on its current body unless it already is. Surge instances (number >
 * replicas) are added to *seen. Before the first replica of a batch is reported on its new body,
 * every surge instance's state turns failed, as when the stop of a destroyed copy times out (the
 * record stays: nothing here deletes states, as an agent still stopping it has not yet). */
static void fake_agent_step(const char *p, unsigned replicas, char ***seen) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_free_ char *k = registry_units_prefix(prefix);

        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = k, .flags = ETCD_PREFIX }, &resp) >= 0);
        for (size_t i = 0; i < resp->n_kvs; i++) {
                _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
                _cleanup_(etcd_response_freep) EtcdResponse *sr = NULL;
                _cleanup_(registry_unit_state_freep) RegistryUnitState *st = NULL;
                _cleanup_free_ char *sk = NULL;
                const char *at;
                unsigned n;

                assert_se(registry_unit_from_json(resp->kvs[i].value, resp->kvs[i].value_size, &u) == 0);
                if (!startswith(u->name, p) || u->desired != UNIT_DESIRED_LAUNCHED || !(at = strchr(u->name, '@')) ||
                    sscanf(at + 1, "%u", &n) != 1)
                        continue;
                sk = registry_state_key(prefix, u->name, M1);
                assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = sk }, &sr) >= 0);
                if (sr->n_kvs == 1)
                        assert_se(registry_unit_state_from_json(sr->kvs[0].value, sr->kvs[0].value_size, &st) == 0);
                if (st && streq(st->hash, u->hash))
                        continue;
                if (n > replicas) {
                        if (!strv_contains(*seen, u->name))
                                assert_se(strv_extend(seen, u->name) >= 0);
                } else
                        for (size_t j = 0; j < resp->n_kvs; j++) {
                                _cleanup_(registry_unit_freep) RegistryUnit *x = NULL;
                                const char *xa;
                                unsigned xn;

                                assert_se(registry_unit_from_json(resp->kvs[j].value, resp->kvs[j].value_size, &x) == 0);
                                if (startswith(x->name, p) && (xa = strchr(x->name, '@')) &&
                                    sscanf(xa + 1, "%u", &xn) == 1 && xn > replicas)
                                        put_running(x->name, M1, UNIT_DESIRED_LAUNCHED, "failed");
                        }
                put_running(u->name, M1, UNIT_DESIRED_LAUNCHED, "active");
        }
}

/* A start-first rolling update through compose up, an agent faked by the test: each batch's
 * surge instances get names never used before in the update (issue 13: batch 2 created
 * bench-web@35 again under the same name and body while the destroyed copy's failed state was
 * still in etcd, and the wait took it for the new copy's failure). */
static void test_compose_surge_names(void) {
        _cleanup_strv_free_ char **seen = NULL;
        static const char file[] =
                "name: surge\n"
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    environment: {VERSION: \"%d\"}\n"
                "    deploy:\n"
                "      replicas: 2\n"
                "      update_config: {parallelism: 1, order: start-first, monitor: 0s, failure_action: pause}\n";
        char text[512];
        int st;

        snprintf(text, sizeof(text), file, 1);
        write_file("surge.yaml", text);
        _cleanup_(run_done) Run a = run(STRV_MAKE("compose", "-f", "surge.yaml", "up", "-d"));
        is_int(a.status, 0, "compose up -d of 2 replicas");
        fake_agent_step("surge-web@", 2, &seen);

        snprintf(text, sizeof(text), file, 2);
        write_file("surge.yaml", text);
        pid_t pid = spawn_at(endpoint, STRV_MAKE("compose", "-f", "surge.yaml", "up", "--wait-timeout=120"));
        for (;;) {
                pid_t w = waitpid(pid, &st, WNOHANG);

                assert_se(w >= 0);
                if (w == pid)
                        break;
                fake_agent_step("surge-web@", 2, &seen);
                usleep(20 * USEC_PER_MSEC);
        }
        {
                _cleanup_free_ char *out = NULL, *err = NULL, *o = NULL, *e = NULL;

                assert_se(asprintf(&o, "%s/stdout", dir) >= 0 && asprintf(&e, "%s/stderr", dir) >= 0);
                assert_se(read_full_file(o, &out, NULL, 0) == 0 && read_full_file(e, &err, NULL, 0) == 0);
                ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the start-first update of 2 replicas, parallelism 1, "
                   "succeeds though the first batch's surge copy failed while stopping (%s)", line1(err));
        }
        _cleanup_free_ char *names = strv_join(seen, " ");
        is_str(names, "surge-web@3.service surge-web@4.service", "two batches, two surge names, none used twice");
        _cleanup_(registry_unit_freep) RegistryUnit *w1 = get_unit("surge-web@1.service");
        _cleanup_(registry_unit_freep) RegistryUnit *w3 = get_unit("surge-web@3.service");
        _cleanup_(registry_unit_freep) RegistryUnit *w4 = get_unit("surge-web@4.service");
        ok(w1 && strstr(w1->raw, "VERSION=2") && !w3 && !w4, "replicas on the new body, surge instances destroyed");
        _cleanup_(run_done) Run d = run(STRV_MAKE("compose", "-p", "surge", "down"));
        is_int(d.status, 0, "down");
}

static bool unit_exists(const char *name) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit(name);

        return u;
}

/* fleetctl with env ("K=V") added, run in where (its working directory, where its output goes). */
static Run run_in(const char *where, char *const *env, char *const *args) {
        _cleanup_strv_free_ char **all = NULL;

        if (strv_extendf(&all, "FLEETCTL_ENDPOINT=%s", endpoint) < 0 ||
            strv_extendf(&all, "FLEETCTL_ETCD_KEY_PREFIX=%s", prefix) < 0 ||
            strv_extend(&all, "FLEETCTL_REQUEST_TIMEOUT=5") < 0 || strv_extend_strv(&all, env) < 0)
                bail_out("out of memory");
        return fleetctl_collect(fleetctl_spawn(fleetctl, where, all, args), where);
}

/* What docker compose does with a service named on the command line and with
 * COMPOSE_PROJECT_NAME alone: up SERVICE turns the service's profiles on and brings up what it
 * depends on (not with --no-deps); a dependency in another inactive profile is an error and
 * nothing is written; down, ps and logs with no file here take the project from
 * COMPOSE_PROJECT_NAME, -p still first. */
static void test_compose_named(void) {
        char nofile[512];

        write_file("named.yaml", "name: named\n"
                                 "services:\n"
                                 "  web: {image: nginx}\n"
                                 "  mock: {image: busybox, profiles: [dev], depends_on: [db]}\n"
                                 "  db: {image: redis, profiles: [dev]}\n"
                                 "  pma: {image: busybox, profiles: [debug], depends_on: [db]}\n");
        _cleanup_(run_done) Run a = run(STRV_MAKE("compose", "-f", "named.yaml", "up", "-d", "--no-deps", "mock"));
        _cleanup_(registry_unit_freep) RegistryUnit *m0 = get_unit("named-mock.service");
        _cleanup_(registry_unit_freep) RegistryUnit *d0 = get_unit("named-db.service");
        ok(a.status == 0 && m0 && m0->desired == UNIT_DESIRED_LAUNCHED && !d0,
           "up --no-deps mock: its profile turned on, mock alone (%s)", line1(a.err));
        _cleanup_(run_done) Run b = run(STRV_MAKE("compose", "-f", "named.yaml", "up", "-d", "mock"));
        _cleanup_(registry_unit_freep) RegistryUnit *d1 = get_unit("named-db.service");
        _cleanup_(registry_unit_freep) RegistryUnit *w1 = get_unit("named-web.service");
        ok(b.status == 0 && d1 && d1->desired == UNIT_DESIRED_LAUNCHED && !w1,
           "up mock: and the db it depends on, not web (%s)", line1(b.err));

        _cleanup_free_ char *before = etcd_dump();
        _cleanup_(run_done) Run c = run(STRV_MAKE("compose", "-f", "named.yaml", "up", "-d", "pma"));
        _cleanup_free_ char *after = etcd_dump();
        ok(c.status == 1 && strstr(c.err, "named.yaml:6:") && strstr(c.err, "services.pma.depends_on") &&
           strstr(c.err, "\"db\" is not enabled") && streq(before, after),
           "up pma: db of another inactive profile is an error naming file, line and key; etcd unchanged: %s",
           line1(c.err));

        /* No file where it runs: the project comes from COMPOSE_PROJECT_NAME. */
        snprintf(nofile, sizeof(nofile), "%s/nofile", dir);
        assert_se(mkdir(nofile, 0755) == 0);
        _cleanup_(run_done) Run d = run_in(nofile, STRV_MAKE("COMPOSE_PROJECT_NAME=named"), STRV_MAKE("compose", "ps", "-q"));
        ok(d.status == 0 && count_lines(d.out) == 2 && strstr(d.out, "named-mock.service\n") &&
           strstr(d.out, "named-db.service\n"), "ps with COMPOSE_PROJECT_NAME and no file: %s", line1(d.err));
        _cleanup_(run_done) Run e = run_in(nofile, STRV_MAKE("COMPOSE_PROJECT_NAME=other"),
                                           STRV_MAKE("compose", "-p", "named", "ps", "-q"));
        ok(e.status == 0 && count_lines(e.out) == 2, "-p over COMPOSE_PROJECT_NAME");

        _cleanup_free_ char *before2 = etcd_dump();
        _cleanup_(run_done) Run f = run_in(nofile, STRV_MAKE("COMPOSE_PROJECT_NAME=Named.X"), STRV_MAKE("compose", "down"));
        _cleanup_free_ char *after2 = etcd_dump();
        ok(f.status == 1 && strstr(f.err, "COMPOSE_PROJECT_NAME") && strstr(f.err, "Named.X") && streq(before2, after2),
           "down with an invalid COMPOSE_PROJECT_NAME: refused, etcd unchanged: %s", line1(f.err));
        _cleanup_(run_done) Run g = run_in(nofile, NULL, STRV_MAKE("compose", "down"));
        ok(g.status == 1 && strstr(g.err, "No compose file found") && unit_exists("named-db.service"),
           "down with neither file nor name: an error, nothing removed");

        _cleanup_(run_done) Run h = run_in(nofile, STRV_MAKE("COMPOSE_PROJECT_NAME=named"), STRV_MAKE("compose", "down"));
        ok(h.status == 0 && count_lines(h.out) == 2 && !unit_exists("named-mock.service") && !unit_exists("named-db.service"),
           "down with COMPOSE_PROJECT_NAME and no file removes the project: %s", line1(h.err));
}

/* Issue 12 item 10: records written around fleetctl that do not decode are reported by every
 * command that reads the cluster, with what is wrong, instead of skipped at debug level; status
 * says the unit's record is malformed instead of "does not exist"; submit no longer answers "units
 * changed meanwhile, try again" forever, and --replace overwrites the broken record. */
static void test_malformed_records(void) {
        _cleanup_free_ char *bk = registry_unit_key(prefix, "broken.service");
        _cleanup_free_ char *lk = registry_unit_key(prefix, "liar.service");
        _cleanup_free_ char *sk = registry_state_key(prefix, "hello.service", M2);
        _cleanup_free_ char *want = NULL, *liar = NULL;

        put(bk, "{\"name\": \"broken.service\", \"hash\": 42");
        assert_se(registry_unit_to_json(&(RegistryUnit) { .name = (char *) "other.service", .raw = (char *) hello,
                                                          .hash = (char *) "0123456789012345678901234567890123456789" },
                                        &liar) == 0);
        put(lk, liar);
        put(sk, "[]");
        write_file("broken.service", hello_v2);

        _cleanup_(run_done) Run a = run(STRV_MAKE("list-unit-files", "--no-legend", "--fields", "unit"));
        is_int(a.status, 0, "list-unit-files still lists the cluster");
        ok(strstr(a.out, "hello.service\n") && !strstr(a.out, "broken"), "the readable units");
        assert_se(asprintf(&want, "Malformed record %sunits/broken.service, left out: not a unit record fleet can read",
                           prefix) >= 0);
        ok(strstr(a.err, want), "and says which record is malformed and how");
        ok(strstr(a.err, "units/liar.service, left out: a unit record naming another unit, other.service"),
           "a record under another unit's name too");
        ok(strstr(a.err, "states/hello.service/" M2 ", left out: not a unit state record"), "and a broken state");

        _cleanup_(run_done) Run b = run(STRV_MAKE("list-units", "--no-legend"));
        ok(b.status == 0 && strstr(b.err, want), "list-units reports it too");

        _cleanup_(run_done) Run c = run(STRV_MAKE("status", "broken.service"));
        ok(c.status != 0 && strstr(c.err, "Unit broken.service has a malformed record in the cluster: not a unit "
                                          "record fleet can read"), "status says the record is malformed");

        _cleanup_(run_done) Run d = run(STRV_MAKE("submit", "broken.service"));
        ok(d.status != 0 && strstr(d.err, "has a malformed record") && strstr(d.err, "submit --replace"),
           "submit over it says what is in the way and how to get past it");
        _cleanup_(run_done) Run e = run(STRV_MAKE("submit", "--replace", "broken.service"));
        is_int(e.status, 0, "submit --replace overwrites the malformed record");
        _cleanup_(registry_unit_freep) RegistryUnit *u = get_unit("broken.service");
        ok(u && streq(u->raw, hello_v2), "with the file");

        _cleanup_(run_done) Run f = run(STRV_MAKE("destroy", "broken.service", "liar.service"));
        ok(f.status == 0 && strstr(f.out, "Destroyed liar.service\n"), "destroy removes a malformed record");
        assert_se(etcd_sync_delete(client, sk, 0, NULL) >= 0);
}

/* Whether the fleetctl started as pid ends within 60 s (it is killed if not). */
static bool ends_in_time(pid_t pid) {
        usec_t deadline = now(CLOCK_MONOTONIC) + 60 * USEC_PER_SEC;

        while (now(CLOCK_MONOTONIC) < deadline) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return true;
                usleep(20 * USEC_PER_MSEC);
        }
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return false;
}

/* A placed and running unit, and no leader to remove its placement: destroy used to wait for that
 * forever. It removes the placement itself (the agent then unloads the unit). */
static void test_destroy_without_leader(void) {
        _cleanup_free_ char *ak = registry_assignment_key(prefix, M1, "orphan.service");
        _cleanup_free_ char *rk = registry_reason_key(prefix, "orphan.service");
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_(run_done) Run a = run(STRV_MAKE("submit", "orphan.service"));
        _cleanup_free_ char *out = NULL;
        char path[512];

        assert_se(a.status == 0);
        put_machine(M1, "10.99.1.5", NULL);
        put_running("orphan.service", M1, UNIT_DESIRED_LAUNCHED, "active");
        put(rk, "a stale reason");

        ok(ends_in_time(spawn_at(endpoint, STRV_MAKE("destroy", "orphan.service"))),
           "destroy of a placed unit with no leader ends");
        snprintf(path, sizeof(path), "%s/stdout", dir);
        assert_se(read_full_file(path, &out, NULL, 0) == 0);
        is_str(out, "Destroyed orphan.service\n", "fleet's line");
        ok(!get_unit("orphan.service"), "the unit is gone");
        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = ak }, &resp) >= 0);
        is_int(resp->n_kvs, 0, "its placement too");
        resp = etcd_response_free(resp);
        assert_se(etcd_sync_range(client, &(EtcdRangeOptions) { .key = rk }, &resp) >= 0);
        is_int(resp->n_kvs, 0, "and its reason");
}

/* A unit file of about size bytes that parses (one long Environment= line). */
static char *big_unit_text(size_t size) {
        _cleanup_free_ char *filler = malloc(size + 1);
        char *text = NULL;

        assert_se(filler);
        memset(filler, 'x', size);
        filler[size] = 0;
        assert_se(asprintf(&text, "[Service]\nExecStart=/bin/true\nEnvironment=X=%s\n", filler) >= 0);
        return text;
}

/* Issue 12 item 6, fleetctl's side: 25 launched units of ~980 KB (49 MB with their placements,
 * past the 64 MiB one reply may carry once base64 has added its third) made every list and submit
 * fail with "File too large"; reads now go in pages bounded by size. And the cluster-wide budget
 * for unit texts (REGISTRY_UNITS_BUDGET, 32 MiB) is enforced at submit: a unit that would pass it
 * is refused by name, nothing is written, and a unit that fits still goes in. Runs last, under a
 * prefix of its own: every fleetctl here reads about 60 MB. */
static void test_huge_units(void) {
        _cleanup_free_ char *text = big_unit_text(980U * 1000U);
        _cleanup_free_ char *json = NULL;
        char name[64];

        snprintf(prefix, sizeof(prefix), "/test-fleetctl-big/%d/", (int) getpid());
        put_machine(M1, "10.99.1.5", NULL);
        for (unsigned i = 0; i < 34; i++) {
                _cleanup_(unit_file_freep) UnitFile *u = NULL;
                _cleanup_free_ char *raw = NULL, *k = NULL;
                char hash[SHA1_HEX_SIZE];

                snprintf(name, sizeof(name), "big%02u.service", i);
                assert_se(unit_file_parse(text, strlen(text), &u, NULL) >= 0);
                assert_se(unit_file_serialize(u, &raw, NULL) >= 0 && unit_file_hash_hex(u, hash) >= 0);
                json = mfree(json);
                assert_se(registry_unit_to_json(&(RegistryUnit) { .name = name, .hash = hash, .raw = raw,
                                                                  .desired = i < 25 ? UNIT_DESIRED_LAUNCHED
                                                                                    : UNIT_DESIRED_INACTIVE },
                                                &json) >= 0);
                k = registry_unit_key(prefix, name);
                put(k, json);
                if (i < 25)
                        put_running(name, M1, UNIT_DESIRED_LAUNCHED, "active");
        }

        _cleanup_(run_done) Run a = run(STRV_MAKE("list-unit-files", "--no-legend", "--fields", "unit,dstate,state"));
        is_int(a.status, 0, "list-unit-files reads 34 units of ~980 KB and 25 placements with their bodies");
        is_int(count_lines(a.out), 34, "and lists every unit");
        ok(strstr(a.out, "big24.service\tlaunched\tlaunched\n") && strstr(a.out, "big25.service\tinactive\tinactive\n"),
           "with their states");
        _cleanup_(run_done) Run b = run(STRV_MAKE("list-units", "--no-legend", "--fields", "unit,active"));
        ok(b.status == 0 && count_lines(b.out) == 25, "list-units too");

        /* 34 units of 980 KB are 33.3 MB; one more would be 34.3 MB, past 32 MiB (33.6 MB). */
        write_file("big99.service", text);
        _cleanup_(run_done) Run c = run(STRV_MAKE("submit", "big99.service"));
        is_int(c.status, 1, "submitting a unit past the cluster-wide budget fails");
        ok(strstr(c.err, "Unit big99.service (980") && strstr(c.err, "budget of 33554432 bytes (32 MiB)") &&
           strstr(c.err, "nothing was submitted"), "naming the unit, its size and the budget");
        is_int(count_units(), 34, "nothing was written");

        write_file("small.service", hello);
        _cleanup_(run_done) Run d = run(STRV_MAKE("submit", "small.service"));
        ok(d.status == 0 && count_units() == 35, "a unit that fits in what is left is submitted");
}

int main(int argc, char *argv[]) {
        _cleanup_(etcd_fixture_freep) EtcdFixture *f = NULL;
        EtcdConfig config = {};

        etcd_fixture_require();
        if (argc < 2)
                bail_out("usage: %s FLEETCTL", argv[0]);
        fleetctl = realpath(argv[1], NULL);
        if (!fleetctl)
                bail_out("%s not found", argv[1]);
        if (argc > 2)
                unitgen = realpath(argv[2], NULL);
        if (etcd_fixture_start(&f, 1, NULL) < 0)
                bail_out("etcd did not start");
        endpoint = f->endpoints[0];
        snprintf(prefix, sizeof(prefix), "/test-fleetctl/%d/", (int) getpid());

        assert_se(sd_event_new(&event) >= 0);
        config.endpoints = f->endpoints;
        assert_se(etcd_client_new(&client, event, &config) >= 0);
        assert_se(mkdtemp(dir));
        write_file("hello.service", hello);
        write_file("hello@.service", "[Service]\nExecStart=/bin/echo %i\n");
        write_file("orphan.service", hello);

        test_submit_cat_destroy();
        test_states();
        test_blocking();
        test_global_and_reasons();
        test_local_exec();
        test_global_restart();
        test_hostile_display();
        test_refused();
        test_errors();
        test_replace_conflict_and_prefix();
        test_compose_converge();
        test_compose_refused();
        test_compose_flags();
        test_compose_surge_names();
        test_compose_named();
        test_destroy_without_leader();
        test_malformed_records();
        test_huge_units();

        client = etcd_client_free(client);
        event = sd_event_unref(event);
        {
                char cmd[512];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                (void) system(cmd);
        }
        free((char *) fleetctl);
        free((char *) unitgen);
        return done_testing();
}
