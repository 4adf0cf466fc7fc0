/* SPDX-License-Identifier: Apache-2.0 */

/* fleetctl's command line, without a cluster: help and version (fleet's TestClientVersionFlag,
 * TestClientHelpFlag, TestClientVersionHelpOutput), every command's --help, and the errors that
 * must come before etcd is asked (unknown command or flag, bad names, bad flag values). The
 * endpoint points at a closed port, so an error that reached etcd would say "unreachable".
 * argv[1] is the fleetctl binary. */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fleetctl-run.h"

static const char *fleetctl;
static char dir[] = "/tmp/test-fleetctl-args-XXXXXX";

static Run run(char *const *args) {
        /* A closed port: an error that reached etcd would say "unreachable". */
        return fleetctl_collect(fleetctl_spawn(fleetctl, dir,
                                               STRV_MAKE("FLEETCTL_ENDPOINT=http://127.0.0.1:9",
                                                         "FLEETCTL_REQUEST_TIMEOUT=2"),
                                               args),
                                dir);
}

static void test_version_help(void) {
        _cleanup_(run_done) Run v = run(STRV_MAKE("version"));
        is_str(v.out, "fleetctl version " FLEET_VERSION "\n", "version prints exactly fleet's line");
        _cleanup_(run_done) Run v2 = run(STRV_MAKE("--version"));
        is_str(v2.out, v.out, "--version prints the same");

        static const char *const help_forms[] = { "--help", "-h", "help", NULL };
        _cleanup_(run_done) Run none = run(STRV_MAKE(NULL));
        ok(none.status == 0 && strstr(none.out, "COMMANDS:") && strstr(none.out, FLEET_VERSION),
           "no arguments: help with the version, exit 0");
        for (size_t i = 0; help_forms[i]; i++) {
                _cleanup_(run_done) Run h = run(STRV_MAKE(help_forms[i]));
                ok(h.status == 0 && streq(h.out, none.out), "%s prints the same help", help_forms[i]);
        }

        /* Every command listed in the help has its own accurate --help. */
        const char *p = strstr(none.out, "COMMANDS:\n");
        unsigned n = 0;
        assert_se(p);
        for (p = strchr(p, '\n') + 1; *p == '\t'; p = strchr(p, '\n') + 1) {
                char cmd[64] = {};
                sscanf(p + 1, "%63s", cmd);

                _cleanup_(run_done) Run h = run(STRV_MAKE(cmd, "--help"));
                _cleanup_(run_done) Run h2 = run(STRV_MAKE("help", cmd));
                char usage[128];

                snprintf(usage, sizeof(usage), "\tfleetctl %s ", cmd);
                ok(h.status == 0 && strstr(h.out, usage) && streq(h.out, h2.out), "%s --help = help %s", cmd, cmd);
                n++;
        }
        is_int(n, 23, "twenty-three commands");

        _cleanup_(run_done) Run s = run(STRV_MAKE("start", "--help"));
        ok(strstr(s.out, "--no-block") && strstr(s.out, "--block-attempts") && strstr(s.out, "--replace") &&
           !strstr(s.out, "--fields"), "start --help lists exactly its options");
}

static void test_errors(void) {
        static const struct {
                const char *args[5];
                const char *needle;
        } cases[] = {
                { { "bogus" }, "bogus" },
                { { "--bogus", "list-units" }, "--bogus" },
                { { "list-units", "--bogus" }, "--bogus" },
                { { "list-units", "--replace" }, "--replace" },
                { { "submit", "--fields=unit", "a.service" }, "--fields" },
                { { "start", "--block-attempts=x", "a.service" }, "block-attempts" },
                { { "start", "--block-attempts=-1", "a.service" }, "block-attempts" },
                { { "list-units", "--endpoint" }, "--endpoint" },
                { { "--endpoint=http://a:2379,127.0.0.1:2379", "list-units" }, "'127.0.0.1:2379': it must be an http://" },
                { { "--endpoint=http://a:2379/v3", "list-units" }, "'http://a:2379/v3'" },
                { { "--endpoint= , ", "list-units" }, "No etcd endpoint" },
                { { "--request-timeout=0", "list-units" }, "request-timeout" },
                { { "--etcd-key-prefix=noslash", "list-units" }, "prefix" },
                { { "--strict-host-key-checking=maybe", "list-units" }, "strict-host-key-checking" },
                { { "start" }, "missing" },
                { { "cat", "a", "b" }, "too many" },
                { { "submit", "x y.service" }, "x y" },
                { { "start", "a/b/c$.service" }, "c$" },
                { { "submit", "a@b@c.service" }, "a@b@c" },
                { { "start", "-x" }, "x" },
                { { "compose", "sideways" }, "sideways" },
                /* compose takes docker compose's options, each where docker compose has it. */
                { { "compose" }, "missing command" },
                { { "compose", "--bogus", "up" }, "--bogus" },
                { { "compose", "up", "--bogus" }, "--bogus" },
                { { "compose", "-p" }, "-p" },
                { { "compose", "-p", "" , "up" }, "empty" },
                { { "compose", "--runtime=lxc", "up" }, "lxc" },
                { { "compose", "up", "--wait-timeout=0" }, "wait-timeout" },
                { { "compose", "up", "--wait-timeout=soon" }, "wait-timeout" },
                { { "compose", "logs", "-n", "x" }, "tail" },
                { { "compose", "down", "web" }, "web" },
                { { "compose", "ps", "-d" }, "-d" },
                { { "compose", "config", "--remove-orphans" }, "--remove-orphans" },
                { { "compose", "up", "--env-file=x" }, "--env-file" },
                { { "compose", "-p", "Web", "down" }, "invalid project name \"Web\" for -p" },
                { { "compose", "-p", "-web", "ps" }, "invalid project name" },
                { { "start", "--timeout=0", "a.service" }, "timeout" },
                { { "stop", "--timeout=x", "a.service" }, "timeout" },
                { { "list-units", "--timeout=3" }, "--timeout" },
                { { "--ca-file=/nonexistent/ca.pem", "list-units" }, "/nonexistent/ca.pem" },
                { { "--etcd-keyfile=/nonexistent/k.pem", "list-units" }, "/nonexistent/k.pem" },
                { { "--ca-file=/dev/null", "list-units" }, "plain http" },
                { { "--etcd-username=u", "list-units" }, "--etcd-password" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *desc = strv_join((char **) cases[i].args, " ");
                _cleanup_(run_done) Run r = run((char **) cases[i].args);

                ok(r.status == 1 && count_lines(r.err) == 1 && strstr(r.err, cases[i].needle) &&
                   !strstr(r.err, "unreachable") && streq(r.out, ""),
                   "'%s' fails with one line before etcd: %s", desc, line1(r.err));
        }

        /* Names longer than 256 characters are refused. */
        _cleanup_free_ char *longname = malloc(300);
        assert_se(longname);
        memset(longname, 'a', 280);
        strcpy(longname + 280, ".service");
        _cleanup_(run_done) Run l = run(STRV_MAKE("submit", longname));
        ok(l.status == 1 && count_lines(l.err) == 1 && !strstr(l.err, "unreachable"), "a 288-character name");

        /* And an error that needs etcd says where it tried. */
        _cleanup_(run_done) Run u = run(STRV_MAKE("list-machines"));
        ok(u.status == 1 && count_lines(u.err) == 1 && strstr(u.err, "127.0.0.1:9") && strstr(u.err, "unreachable"),
           "etcd unreachable names the endpoint");
}

/* Plain http to another host works but says what it risks, on stderr (0.0.0.1: not loopback, and the
 * kernel refuses to connect to it, so nothing leaves the machine). */
static void test_plain_http_warning(void) {
        _cleanup_(run_done) Run r = run(STRV_MAKE("--endpoint=http://0.0.0.1:9", "--request-timeout=0.2",
                                                  "--etcd-certfile=", "list-machines"));

        ok(r.status == 1 && strstr(r.err, "WARNING") && strstr(r.err, "http://0.0.0.1:9") &&
           strstr(r.err, "root on every machine"), "plain http to a non-loopback endpoint warns: %s", line1(r.err));
        _cleanup_(run_done) Run v = run(STRV_MAKE("-v"));
        ok(v.status == 0 && startswith(v.out, "fleetctl version "), "-v is --version, as in fleet");
        _cleanup_(run_done) Run d = run(STRV_MAKE("destroy", "--help"));
        ok(strstr(d.out, "--no-block") && strstr(d.out, "--block-attempts"), "destroy takes fleet's --no-block");
}

static void test_verify(void) {
        char path[512], bad[512], warn[512];
        _cleanup_free_ char *bad_text = NULL;

        snprintf(path, sizeof(path), "%s/ok.service", dir);
        snprintf(bad, sizeof(bad), "%s/bad.service", dir);
        snprintf(warn, sizeof(warn), "%s/warn.service", dir);
        assert_se(write_file_atomic(path, "[Service]\nExecStart=/bin/true\n", 30, 0644, false) == 0);
        bad_text = strdup("[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\nReplaces=x.service\n");
        assert_se(bad_text);
        assert_se(write_file_atomic(bad, bad_text, strlen(bad_text), 0644, false) == 0);
        assert_se(write_file_atomic(warn, "[Service]\nExecStart=/bin/true\n[X-Fleet]\nFoo=bar\n", 46, 0644, false) == 0);

        _cleanup_(run_done) Run a = run(STRV_MAKE("verify", path));
        ok(a.status == 0 && strstr(a.out, "OK"), "verify of a good unit");
        _cleanup_(run_done) Run b = run(STRV_MAKE("verify", path, bad));
        ok(b.status == 1 && count_lines(b.err) == 1 && strstr(b.err, "Global") && strstr(b.err, "Replaces"),
           "verify names an invalid combination: %s", line1(b.err));
        _cleanup_(run_done) Run c = run(STRV_MAKE("verify", warn));
        ok(c.status == 0 && strstr(c.err, "Foo"), "verify warns about unknown options: %s", line1(c.err));
}

/* The meaning docker compose gives each project flag, seen through `compose config` (no etcd):
 * docs.docker.com/compose/how-tos/project-name/, .../environment-variables/envvars/ and
 * .../reference/cli/docker/compose/. Run in "My App.Dir-1": a directory name compose must
 * normalise. */
static Run config_in(const char *where, char *const *env, char *const *args) {
        return fleetctl_collect(fleetctl_spawn(fleetctl, where, env, args), where);
}

static void put_file(const char *d, const char *name, const char *text) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", d, name);
        assert_se(write_file_atomic(path, text, strlen(text), 0644, false) == 0);
}

static void test_compose_meaning(void) {
        char project[256], sub[512];

        snprintf(project, sizeof(project), "%s/My App.Dir-1", dir);
        snprintf(sub, sizeof(sub), "%s/sub", project);
        assert_se(mkdir(project, 0755) == 0 && mkdir(sub, 0755) == 0);
        put_file(project, "compose.yaml",
                 "services:\n"
                 "  web:\n"
                 "    image: nginx:${TAG}\n"
                 "    environment:\n"
                 "      A: \"1\"\n"
                 "      B: \"${ONLY_DOTENV:-unset}\"\n"
                 "  dbg:\n"
                 "    image: busybox\n"
                 "    profiles: [debug]\n"
                 "  tools:\n"
                 "    image: alpine\n"
                 "    profiles: [ops, debug]\n");
        put_file(project, ".env", "TAG=1\nONLY_DOTENV=yes\n");
        put_file(project, "alt.env", "TAG=2\n");
        put_file(project, "alt2.env", "TAG=3\n");
        put_file(sub, "over.yaml", "name: fromfile\nservices:\n  web:\n    image: nginx:9\n    environment:\n      B: \"2\"\n");
        put_file(sub, "last.yaml", "name: lastfile\nservices: {}\n");

        /* Project name: -p, then COMPOSE_PROJECT_NAME, then the (last) file's name:, then the
         * directory's base name, lowercased, without the characters a name cannot have. */
        _cleanup_(run_done) Run a = config_in(project, NULL, STRV_MAKE("compose", "config"));
        ok(a.status == 0 && startswith(a.out, "name: myappdir-1\n"), "the directory's name, normalised: %s", line1(a.out));
        _cleanup_(run_done) Run b = config_in(project, NULL, STRV_MAKE("compose", "-f", "compose.yaml", "-f", "sub/over.yaml", "config"));
        ok(b.status == 0 && startswith(b.out, "name: fromfile\n"), "name: of a file over the directory");
        _cleanup_(run_done) Run b2 = config_in(project, NULL, STRV_MAKE("compose", "-f", "compose.yaml", "-f", "sub/over.yaml",
                                                                        "-f", "sub/last.yaml", "config"));
        ok(b2.status == 0 && startswith(b2.out, "name: lastfile\n"), "the last file's name: wins");
        _cleanup_(run_done) Run c = config_in(project, STRV_MAKE("COMPOSE_PROJECT_NAME=fromenv"),
                                              STRV_MAKE("compose", "-f", "compose.yaml", "-f", "sub/over.yaml", "config"));
        ok(c.status == 0 && startswith(c.out, "name: fromenv\n"), "COMPOSE_PROJECT_NAME over the file's name: (%s)", line1(c.out));
        put_file(project, "named.env", "TAG=1\nCOMPOSE_PROJECT_NAME=fromdotenv\n");
        _cleanup_(run_done) Run c2 = config_in(project, NULL, STRV_MAKE("compose", "--env-file", "named.env", "-f", "compose.yaml",
                                                                        "-f", "sub/over.yaml", "config"));
        ok(c2.status == 0 && startswith(c2.out, "name: fromdotenv\n"), "COMPOSE_PROJECT_NAME from the env file too");
        _cleanup_(run_done) Run d = config_in(project, STRV_MAKE("COMPOSE_PROJECT_NAME=fromenv"),
                                              STRV_MAKE("compose", "-f", "compose.yaml", "-f", "sub/over.yaml", "-p", "fromflag", "config"));
        ok(d.status == 0 && startswith(d.out, "name: fromflag\n"), "-p over everything");
        _cleanup_(run_done) Run d2 = config_in(project, STRV_MAKE("COMPOSE_PROJECT_NAME=Bad.Name"), STRV_MAKE("compose", "config"));
        ok(d2.status == 1 && strstr(d2.err, "COMPOSE_PROJECT_NAME") && strstr(d2.err, "Bad.Name") && streq(d2.out, ""),
           "an invalid COMPOSE_PROJECT_NAME is refused, not normalised: %s", line1(d2.err));

        /* -f: later files merge over earlier ones (scalars replaced, mappings merged by key). */
        ok(strstr(b.out, "image: nginx:9\n") && strstr(b.out, "A: \"1\"\n") && strstr(b.out, "B: \"2\"\n"),
           "-f later over earlier: image replaced, environment merged");
        /* COMPOSE_FILE: the same list, split at ":" or COMPOSE_PATH_SEPARATOR; -f wins over it. */
        _cleanup_(run_done) Run e = config_in(project, STRV_MAKE("COMPOSE_FILE=compose.yaml:sub/over.yaml"), STRV_MAKE("compose", "config"));
        ok(e.status == 0 && streq(e.out, b.out), "COMPOSE_FILE=a:b is -f a -f b");
        _cleanup_(run_done) Run e2 = config_in(project, STRV_MAKE("COMPOSE_FILE=compose.yaml;sub/over.yaml", "COMPOSE_PATH_SEPARATOR=;"),
                                               STRV_MAKE("compose", "config"));
        ok(e2.status == 0 && streq(e2.out, b.out), "COMPOSE_PATH_SEPARATOR");
        _cleanup_(run_done) Run e3 = config_in(project, STRV_MAKE("COMPOSE_FILE=sub/over.yaml"), STRV_MAKE("compose", "-f", "compose.yaml", "config"));
        ok(e3.status == 0 && streq(e3.out, a.out), "-f over COMPOSE_FILE");

        /* --env-file replaces .env (a variable only in .env is gone); a later one wins; the
         * process environment wins over both. */
        ok(strstr(a.out, "nginx:1") && strstr(a.out, "B: \"yes\""), ".env by default");
        _cleanup_(run_done) Run f = config_in(project, NULL, STRV_MAKE("compose", "--env-file", "alt.env", "config"));
        ok(f.status == 0 && strstr(f.out, "nginx:2") && strstr(f.out, "B: \"unset\""), "--env-file instead of .env, not over it");
        _cleanup_(run_done) Run f2 = config_in(project, NULL, STRV_MAKE("compose", "--env-file", "alt.env", "--env-file", "alt2.env", "config"));
        ok(f2.status == 0 && strstr(f2.out, "nginx:3"), "the later --env-file wins");
        _cleanup_(run_done) Run f3 = config_in(project, STRV_MAKE("TAG=7"), STRV_MAKE("compose", "--env-file", "alt.env", "config"));
        ok(f3.status == 0 && strstr(f3.out, "nginx:7"), "the environment over --env-file");

        /* Profiles: services without one are always on; --profile (repeatable), COMPOSE_PROFILES
         * (comma-separated) and "*" turn on the others. */
        ok(strstr(a.out, "  web:\n") && !strstr(a.out, "  dbg:\n") && !strstr(a.out, "  tools:\n"), "no profile: only web");
        _cleanup_(run_done) Run g = config_in(project, NULL, STRV_MAKE("compose", "--profile", "ops", "config"));
        ok(g.status == 0 && strstr(g.out, "  web:\n") && strstr(g.out, "  tools:\n") && !strstr(g.out, "  dbg:\n"),
           "--profile ops: web and tools");
        _cleanup_(run_done) Run g2 = config_in(project, STRV_MAKE("COMPOSE_PROFILES=ops,debug"), STRV_MAKE("compose", "config"));
        ok(g2.status == 0 && strstr(g2.out, "  tools:\n") && strstr(g2.out, "  dbg:\n"), "COMPOSE_PROFILES=ops,debug");
        _cleanup_(run_done) Run g3 = config_in(project, NULL, STRV_MAKE("compose", "--profile", "*", "config"));
        _cleanup_(run_done) Run g4 = config_in(project, NULL, STRV_MAKE("compose", "--profile", "ops", "--profile", "debug", "config"));
        ok(g3.status == 0 && streq(g3.out, g2.out) && streq(g4.out, g2.out), "--profile '*' and a repeated --profile: the same");

        /* A service named on the command line turns its own profiles on (docker compose: "explicitly
         * targeted by a command"), with every service they enable; config SERVICE prints it and what
         * it depends on. A dependency left out by the profiles is an error at its depends_on. */
        _cleanup_(run_done) Run k = config_in(project, NULL, STRV_MAKE("compose", "config", "dbg"));
        ok(k.status == 0 && strstr(k.out, "  dbg:\n") && !strstr(k.out, "  web:\n") && !strstr(k.out, "  tools:\n"),
           "config dbg: debug turned on, only dbg printed (%s)", line1(k.err));
        _cleanup_(run_done) Run k2 = config_in(project, NULL, STRV_MAKE("compose", "config", "nosuch"));
        ok(k2.status == 1 && strstr(k2.err, "No such service: nosuch") && streq(k2.out, ""), "config of an unknown service");
        put_file(sub, "deps.yaml",
                 "services:\n"
                 "  mock: {image: x, profiles: [dev], depends_on: [db]}\n"
                 "  db: {image: x, profiles: [dev]}\n"
                 "  pma: {image: x, profiles: [debug], depends_on: [db]}\n");
        _cleanup_(run_done) Run k3 = config_in(project, NULL, STRV_MAKE("compose", "-f", "sub/deps.yaml", "config", "mock"));
        ok(k3.status == 0 && strstr(k3.out, "  mock:\n") && strstr(k3.out, "  db:\n") && !strstr(k3.out, "  pma:\n"),
           "config mock: dev on, mock and its dependency db (%s)", line1(k3.err));
        _cleanup_(run_done) Run k4 = config_in(project, NULL, STRV_MAKE("compose", "-f", "sub/deps.yaml", "config", "pma"));
        ok(k4.status == 1 && strstr(k4.err, "sub/deps.yaml:4:") && strstr(k4.err, "services.pma.depends_on") &&
           strstr(k4.err, "\"db\" is not enabled") && streq(k4.out, ""),
           "config pma: its dependency db of another profile is an error: %s", line1(k4.err));
        _cleanup_(run_done) Run k5 = config_in(project, NULL, STRV_MAKE("compose", "-f", "sub/deps.yaml", "--profile", "debug", "config"));
        ok(k5.status == 1 && strstr(k5.err, "services.pma.depends_on") && streq(k5.out, ""),
           "config checks depends_on of the whole model too: %s", line1(k5.err));

        /* config prints the model as docker compose does: relative host paths absolute against the
         * project directory (compose-go's ResolveRelativePaths: env_file, label_file, build context,
         * bind sources, develop.watch paths, secrets and configs files, a local volume's bind device),
         * "~" and names untouched; ${COMPOSE_PROJECT_NAME} is the project's name. */
        put_file(project, "paths.yaml",
                 "services:\n"
                 "  web:\n"
                 "    image: nginx\n"
                 "    container_name: ${COMPOSE_PROJECT_NAME}-web\n"
                 "    env_file: ./web.env\n"
                 "    label_file: [labels.env]\n"
                 "    build: {context: ./ctx, additional_contexts: {base: ../base, img: \"docker-image://alpine\"}}\n"
                 "    volumes:\n"
                 "      - ./data:/data\n"
                 "      - named:/named\n"
                 "      - ~/cache:/cache\n"
                 "      - {type: bind, source: sub, target: /sub}\n"
                 "      - {type: bind, source: /abs, target: /abs}\n"
                 "    develop: {watch: [{path: ./src, action: sync, target: /src}]}\n"
                 "volumes:\n"
                 "  named: {}\n"
                 "  dev: {driver_opts: {type: none, o: bind, device: ./dev}}\n"
                 "secrets:\n"
                 "  s: {file: ./s.txt}\n"
                 "configs:\n"
                 "  c: {file: c.conf}\n");
        _cleanup_(run_done) Run m = config_in(project, NULL, STRV_MAKE("compose", "-f", "paths.yaml", "-p", "paths", "config"));
        static const struct {
                const char *key, *rest;
        } abs_paths[] = {
                { "env_file: ", "/web.env\n" }, { "- ", "/labels.env\n" }, { "context: ", "/ctx\n" },
                { "base: ", "/../base\n" }, { "- ", "/data:/data\n" }, { "source: ", "/sub\n" }, { "path: ", "/src\n" },
                { "device: ", "/dev\n" }, { "file: ", "/s.txt\n" }, { "file: ", "/c.conf\n" },
        };
        ok(m.status == 0, "config of relative paths: %s", line1(m.err));
        for (size_t x = 0; x < ELEMENTSOF(abs_paths); x++) {
                char want[PATH_MAX + 64];

                /* "../base" is cleaned: the project's parent directory, the test's. */
                if (streq(abs_paths[x].rest, "/../base\n"))
                        snprintf(want, sizeof(want), "%s%s/base\n", abs_paths[x].key, dir);
                else
                        snprintf(want, sizeof(want), "%s%s%s", abs_paths[x].key, project, abs_paths[x].rest);
                ok(strstr(m.out, want), "config prints %s", line1(want));
        }
        ok(strstr(m.out, "- named:/named\n") && strstr(m.out, "- ~/cache:/cache\n") && strstr(m.out, "source: /abs\n") &&
           strstr(m.out, "img: \"docker-image://alpine\"\n"), "names, \"~\", absolute paths and remote contexts untouched");
        ok(strstr(m.out, "container_name: \"paths-web\"\n"), "${COMPOSE_PROJECT_NAME} is the project's name");

        /* config -q checks only; a bad file names file, line and key. */
        _cleanup_(run_done) Run h = config_in(project, NULL, STRV_MAKE("compose", "config", "-q"));
        ok(h.status == 0 && streq(h.out, ""), "config -q prints nothing");
        put_file(sub, "bad.yaml", "services:\n  web:\n    image: [nginx\n");
        _cleanup_(run_done) Run i = config_in(project, NULL, STRV_MAKE("compose", "-f", "compose.yaml", "-f", "sub/bad.yaml", "config"));
        ok(i.status == 1 && strstr(i.err, "sub/bad.yaml:") && streq(i.out, ""), "a YAML error names the file: %s", line1(i.err));
        put_file(sub, "bad.yaml", "services:\n  web:\n    image: nginx\n    restart: sometimes\n");
        _cleanup_(run_done) Run j = config_in(project, NULL, STRV_MAKE("compose", "-f", "sub/bad.yaml", "up"));
        ok(j.status == 1 && strstr(j.err, "sub/bad.yaml:4:") && strstr(j.err, "restart") && !strstr(j.err, "unreachable"),
           "a bad value: file, line, key, before etcd: %s", line1(j.err));
}

int main(int argc, char *argv[]) {
        if (argc < 2)
                bail_out("usage: %s FLEETCTL", argv[0]);
        fleetctl = argv[1];
        assert_se(mkdtemp(dir));

        test_version_help();
        test_errors();
        test_plain_http_warning();
        test_verify();
        test_compose_meaning();

        {
                char cmd[512];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                (void) system(cmd);
        }
        return done_testing();
}
