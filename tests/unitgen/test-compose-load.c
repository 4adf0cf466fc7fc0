/* SPDX-License-Identifier: Apache-2.0 */

#include <sys/stat.h>

#include "compose-load.h"
#include "strv.h"
#include "tap.h"

static ComposeProject *load(char **files, const char *const *contents, char **profiles, Diag *d) {
        size_t sizes[8];
        ComposeProject *p = NULL;
        ComposeLoadOptions o = {
                .files = files,
                .contents = contents,
                .sizes = sizes,
                .project_dir = "/nonexistent/proj",
                .profiles = profiles,
                .environment = STRV_MAKE("TAG=1.25", "EMPTY="),
        };

        for (size_t i = 0; files[i]; i++)
                sizes[i] = strlen(contents[i]);
        if (compose_project_load(&o, &p, d) < 0)
                return NULL;
        return p;
}

static const char *svc_get(ComposeProject *p, const char *svc, const char *key) {
        return yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(yaml_mapping_get(p->root, "services"), svc), key));
}

/* Load one file's text with options o (files, contents and sizes are filled in here). */
static ComposeProject *load_with(ComposeLoadOptions o, const char *text, Diag *d) {
        size_t size = strlen(text);
        ComposeProject *p = NULL;

        o.files = STRV_MAKE("a.yaml");
        o.contents = (const char *const[]) { text };
        o.sizes = &size;
        o.project_dir = "/nonexistent/proj";
        if (compose_project_load(&o, &p, d) < 0)
                return NULL;
        return p;
}

/* ${COMPOSE_PROJECT_NAME} is the project's name however it was chosen (-p, the environment,
 * "name:", the directory), as compose-go's loader sets it before interpolating; "name:" itself is
 * interpolated once, before the rest. */
static void test_project_name_variable(void) {
        static const char text[] =
                "name: ${N:-fromfile}\n"
                "services:\n"
                "  web: {image: x, container_name: \"${COMPOSE_PROJECT_NAME}-web\"}\n";
        const struct {
                const char *project_name;
                char **env;
                const char *text, *expect;
        } cases[] = {
                { NULL, NULL, text, "fromfile-web" },
                { NULL, STRV_MAKE("N=interp"), text, "interp-web" },
                { NULL, STRV_MAKE("COMPOSE_PROJECT_NAME=fromenv"), text, "fromenv-web" },
                { "flag", STRV_MAKE("COMPOSE_PROJECT_NAME=fromenv"), text, "flag-web" },
                { NULL, NULL, "services: {web: {image: x, container_name: \"${COMPOSE_PROJECT_NAME}-web\"}}\n", "proj-web" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Diag d = {};
                _cleanup_(compose_project_freep) ComposeProject *p =
                        load_with((ComposeLoadOptions) { .project_name = cases[i].project_name,
                                                         .environment = cases[i].env ?: STRV_MAKE("X=1") },
                                  cases[i].text, &d);

                ok(p && streq_ptr(svc_get(p, "web", "container_name"), cases[i].expect) && d.n_warnings == 0,
                   "${COMPOSE_PROJECT_NAME} is %s", cases[i].expect);
                diag_done(&d);
        }

        Diag d = {};
        ComposeProject *p = load_with((ComposeLoadOptions) { .environment = STRV_MAKE("X=1") },
                                      "name: \"${NOPE:?name it}\"\nservices: {web: {image: x}}\n", &d);
        ok(!p && d.n_errors == 1 && strstr(d.lines[0], "a.yaml:1:7: name: required variable NOPE"),
           "a failed ${V:?} in name: is an error at name: %s", d.lines ? d.lines[0] : "");
        compose_project_free(p);
        diag_done(&d);
}

/* A service named on the command line that no active profile enables turns its profiles on (and
 * with them their other services), as docker compose does; other profiles stay off. */
static void test_named_service_profiles(void) {
        static const char text[] =
                "services:\n"
                "  web: {image: x}\n"
                "  mock: {image: x, profiles: [dev]}\n"
                "  db: {image: x, profiles: [dev]}\n"
                "  pma: {image: x, profiles: [debug]}\n"
                "  both: {image: x, profiles: [debug, ops]}\n";
        Diag d = {};
        _cleanup_(compose_project_freep) ComposeProject *p =
                load_with((ComposeLoadOptions) { .environment = STRV_MAKE("X=1"), .services = STRV_MAKE("mock") }, text, &d);
        YamlNode *services = p ? yaml_mapping_get(p->root, "services") : NULL;

        ok(services && yaml_mapping_get(services, "mock") && yaml_mapping_get(services, "db") &&
           yaml_mapping_get(services, "web") && !yaml_mapping_get(services, "pma") && strv_contains(p->disabled, "pma"),
           "naming mock turns dev on: mock and db, not debug's pma");

        _cleanup_(compose_project_freep) ComposeProject *q =
                load_with((ComposeLoadOptions) { .environment = STRV_MAKE("X=1"), .profiles = STRV_MAKE("debug"),
                                                 .services = STRV_MAKE("both") }, text, &d);
        services = q ? yaml_mapping_get(q->root, "services") : NULL;
        ok(services && yaml_mapping_get(services, "both") && yaml_mapping_get(services, "pma") &&
           !yaml_mapping_get(services, "db"), "a named service already enabled adds none of its profiles");

        _cleanup_(compose_project_freep) ComposeProject *r =
                load_with((ComposeLoadOptions) { .environment = STRV_MAKE("X=1"), .services = STRV_MAKE("nosuch") }, text, &d);
        ok(r && !yaml_mapping_get(yaml_mapping_get(r->root, "services"), "db"),
           "an unknown name changes nothing (the caller reports it)");
        diag_done(&d);
}

static void test_merge(void) {
        _cleanup_(compose_project_freep) ComposeProject *p = NULL;
        Diag d = {};
        YamlNode *web, *ports, *env;

        p = load(STRV_MAKE("a.yaml", "b.yaml"),
                 (const char *const[]) {
                         "services:\n"
                         "  web:\n"
                         "    image: nginx:${TAG}\n"
                         "    command: [a, b]\n"
                         "    ports: ['8080:80', '9090:90']\n"
                         "    environment: [A=1, B=2]\n"
                         "    dns: [1.1.1.1]\n",
                         "services:\n"
                         "  web:\n"
                         "    command: c\n"
                         "    ports: ['8080:80', '7070:70']\n"
                         "    environment: {B: 3, C: 4}\n"
                         "    dns: [1.1.1.1, 8.8.8.8]\n",
                 },
                 NULL, &d);
        ok(p, "two files load");
        if (!p)
                return;
        web = yaml_mapping_get(yaml_mapping_get(p->root, "services"), "web");
        is_str(svc_get(p, "web", "image"), "nginx:1.25", "interpolated from the environment");
        is_str(svc_get(p, "web", "command"), "c", "command is replaced, not appended");
        ports = yaml_mapping_get(web, "ports");
        is_int(ports->n_children, 3, "ports merge by identity");
        env = yaml_mapping_get(web, "environment");
        ok(env->type == YAML_NODE_MAPPING && env->n_children == 6, "environment lists became one mapping");
        is_str(yaml_node_scalar(yaml_mapping_get(env, "B")), "3", "the later file wins per variable");
        is_int(yaml_mapping_get(web, "dns")->n_children, 2, "other lists append without repeats");
        is_str(p->name, "proj", "project name from the directory");
        diag_done(&d);
}

/* A list naming a variable twice: the later item wins and the variable appears once (the list is
 * made a mapping through an index, not by a scan of the mapping per item). */
static void test_list_repeats(void) {
        _cleanup_(compose_project_freep) ComposeProject *p = NULL;
        YamlNode *env;
        Diag d = {};

        p = load(STRV_MAKE("a.yaml"),
                 (const char *const[]) { "services:\n  web:\n    image: x\n    environment: [A=1, B=2, A=3, C, B=4]\n"
                                         "    networks: [n1, n2, n1]\nnetworks: {n1: {}, n2: {}}\n" },
                 NULL, &d);
        ok(!p && d.n_errors == 1 && d.lines && strstr(d.lines[0], "a.yaml:5:24: services.web.networks: \"n1\" is listed twice"),
           "a network listed twice is refused at the second: %s", d.lines ? d.lines[0] : "-");
        diag_done(&d);

        d = (Diag) {};
        p = load(STRV_MAKE("a.yaml"),
                 (const char *const[]) { "services:\n  web:\n    image: x\n    environment: [A=1, B=2, A=3, C, B=4]\n" },
                 NULL, &d);
        ok(p, "a list with repeated names loads");
        if (!p)
                return;
        env = yaml_mapping_get(yaml_mapping_get(yaml_mapping_get(p->root, "services"), "web"), "environment");
        ok(env->type == YAML_NODE_MAPPING && env->n_children == 6, "three variables, once each");
        is_str(yaml_node_scalar(env->children[1]), "3", "A: the later item wins");
        is_str(yaml_node_scalar(env->children[3]), "4", "B: the later item wins");
        ok(yaml_node_is_null(env->children[5]), "C: a bare name");
        is_str(env->children[0]->value, "A", "in the order of first mention");
        diag_done(&d);
}

static void test_extends_profiles_v1(void) {
        _cleanup_(compose_project_freep) ComposeProject *p = NULL, *v1 = NULL;
        Diag d = {};

        p = load(STRV_MAKE("a.yaml"),
                 (const char *const[]) {
                         "name: demo\n"
                         "services:\n"
                         "  base: {image: busybox, user: nobody, profiles: [tools]}\n"
                         "  web: {extends: base, hostname: w}\n"
                         "  debug: {image: busybox, profiles: [debug]}\n",
                 },
                 STRV_MAKE("tools"), &d);
        ok(p, "loads");
        if (!p)
                return;
        is_str(svc_get(p, "web", "user"), "nobody", "extends copies the base's keys");
        is_str(svc_get(p, "web", "hostname"), "w", "and keeps its own");
        ok(!yaml_mapping_get(yaml_mapping_get(p->root, "services"), "debug") && strv_contains(p->disabled, "debug"),
           "a service outside the active profiles is dropped");
        ok(yaml_mapping_get(yaml_mapping_get(p->root, "services"), "base"), "an active profile keeps its service");
        is_str(p->name, "demo", "project name from name:");

        v1 = load(STRV_MAKE("v1.yml"), (const char *const[]) { "web:\n  image: a\n  net: host\n" }, NULL, &d);
        ok(v1 && v1->version == COMPOSE_V1, "a file with services at the top level is v1");
        ok(v1 && streq_ptr(svc_get(v1, "web", "network_mode"), "host"), "v1's net becomes network_mode");
        diag_done(&d);
}

static void test_errors(void) {
        static const struct {
                const char *text, *message;
        } cases[] = {
                { "services: {web: {image: \"${NOPE:?set NOPE}\"}}\n",
                  "a.yaml:1:25: services.web.image: required variable NOPE is missing a value: set NOPE" },
                { "services: {a: {extends: b}, b: {extends: a}}\n", "a.yaml:1:25: services.a.extends: \"extends\" forms a cycle" },
                { "services: {a: {extends: zz}}\n", "a.yaml:1:25: services.a.extends: extends unknown service \"zz\"" },
                { "servics: {}\n", "a.yaml:1:1: servics: unknown top-level key" },
                { "- a\n", "a.yaml:1:1: (root): a compose file must be a mapping, not a list" },
                { "services: {}\n", "a.yaml:1:1: services: no services defined" },
                { "name: Bad!\nservices: {a: {image: x}}\n", "a.yaml:1:7: name: \"Bad!\" is not a valid project name" },
                /* Issue 12 (11): what a message quotes is escaped, not sent raw to the terminal. */
                { "name: \"a\\eb\"\nservices: {a: {image: x}}\n",
                  "a.yaml:1:7: name: \"a\\x1bb\" is not a valid project name" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Diag d = {};
                ComposeProject *p = load(STRV_MAKE("a.yaml"), (const char *const[]) { cases[i].text }, NULL, &d);

                ok(!p && d.n_errors == 1 && startswith(d.lines[strv_length(d.lines) - 1], cases[i].message),
                   "%s", cases[i].message);
                if (d.lines && !startswith(d.lines[strv_length(d.lines) - 1], cases[i].message))
                        diag("got: %s", d.lines[strv_length(d.lines) - 1]);
                compose_project_free(p);
                diag_done(&d);
        }
}

/* The project's directory is the one text of a unit that is read neither from YAML nor from the
 * environment: a byte of it that the converter takes for a specifier marker would come out as %h,
 * %i or %n ("/srv/a\003b/data" mounted as "/srv/a<instance>b/data"). */
static void test_control_in_directory(void) {
        static const char *const dirs[] = { "/srv/a\001b", "/srv/a\002b", "/srv/a\003b", "/srv/a\004b" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                const char *text = "services: {a: {image: x, volumes: [\"./data:/data\"]}}\n";
                size_t size = strlen(text);
                ComposeProject *p = NULL;
                Diag d = {};
                ComposeLoadOptions o = {
                        .files = STRV_MAKE("compose.yaml"),
                        .contents = (const char *const[]) { text },
                        .sizes = &size,
                        .project_dir = dirs[i],
                        .environment = STRV_MAKE("A=1"),
                };
                int r = compose_project_load(&o, &p, &d);

                ok(r < 0 && !p && d.n_errors == 1, "a project directory holding byte \\%03o is refused",
                   (unsigned char) dirs[i][6]);
                if (!ok(d.lines && strstr(d.lines[0], "compose.yaml: directory: the project directory \"/srv/a\\x0") &&
                        strstr(d.lines[0], "b\" holds a control character"), "... naming it, escaped") && d.lines)
                        diag("got: %s", d.lines[0]);
                compose_project_free(p);
                diag_done(&d);
        }
}

static void test_path_join(void) {
        static const struct {
                const char *dir, *path, *expected;
        } cases[] = {
                { "/a/b", "c", "/a/b/c" },
                { "/a/b", "./c", "/a/b/c" },
                { "/a/b", "../c", "/a/c" },
                { "/a/b", "../../..", "/" },
                { "/a", "./x/./y//z/", "/a/x/y/z" },
                { "/a", ".", "/a" },
                { "/", "x", "/x" },
                { "/a/b", "/abs/../x", "/x" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *r = NULL;

                assert_se(compose_path_join(cases[i].dir, cases[i].path, &r) == 0);
                ok(streq(r, cases[i].expected), "join %s + %s = %s", cases[i].dir, cases[i].path, cases[i].expected);
                if (!streq(r, cases[i].expected))
                        diag("got: %s", r);
        }
}

static void write_file(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = NULL;
        FILE *f;

        assert_se(asprintf(&path, "%s/%s", dir, name) >= 0);
        f = fopen(path, "we");
        assert_se(f);
        assert_se(fputs(text, f) >= 0);
        assert_se(fclose(f) == 0);
}

static ComposeProject *load_dir(const char *dir, const char *top, Diag *d) {
        size_t size = strlen(top);
        ComposeProject *p = NULL;
        ComposeLoadOptions o = {
                .files = STRV_MAKE("compose.yaml"),
                .contents = (const char *const[]) { top },
                .sizes = &size,
                .project_dir = dir,
                .environment = STRV_MAKE("FROM_SHELL=shell"),
        };

        if (compose_project_load(&o, &p, d) < 0)
                return NULL;
        return p;
}

static void test_include(void) {
        char dir[] = "/tmp/test-include-XXXXXX";
        _cleanup_free_ char *sub = NULL, *expect = NULL, *cmd = NULL;
        ComposeProject *p;
        YamlNode *services;
        Diag d = {};

        assert_se(mkdtemp(dir));
        assert_se(asprintf(&sub, "%s/sub", dir) >= 0);
        assert_se(mkdir(sub, 0755) == 0);
        write_file(sub, "compose.yaml",
                   "services:\n"
                   "  db:\n"
                   "    image: \"db:${DB_TAG}-${FROM_SHELL}\"\n"
                   "    env_file: db.env\n"
                   "    volumes: [\"./data:/data\", \"named:/named\"]\n"
                   "volumes: {named: {}}\n");
        write_file(sub, ".env", "DB_TAG=7\nFROM_SHELL=ignored\n");
        write_file(sub, "loop.yaml", "include: [../loop.yaml]\nservices: {x: {image: x}}\n");
        write_file(dir, "loop.yaml", "include: [sub/loop.yaml]\nservices: {y: {image: y}}\n");

        p = load_dir(dir, "include: [sub/compose.yaml]\nservices: {web: {image: web, depends_on: [db]}}\n", &d);
        ok(p && d.n_errors == 0, "a file with an include loads");
        services = p ? yaml_mapping_get(p->root, "services") : NULL;
        ok(services && services->n_children == 4 && yaml_mapping_get(services, "web") && yaml_mapping_get(services, "db"),
           "the included service joins the including ones");
        ok(p && streq_ptr(svc_get(p, "db", "image"), "db:7-shell"),
           "the included file interpolates from its own .env, under the including project's variables");
        assert_se(asprintf(&expect, "%s/db.env", sub) >= 0);
        ok(p && streq_ptr(svc_get(p, "db", "env_file"), expect), "env_file is relative to the included file");
        free(expect);
        assert_se(asprintf(&expect, "%s/data:/data", sub) >= 0);
        ok(p && streq_ptr(yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(yaml_mapping_get(p->root, "services"), "db"),
                                                           "volumes")->children[0]), expect),
           "a relative bind mount is relative to the included file");
        ok(p && yaml_mapping_get(yaml_mapping_get(p->root, "volumes"), "named"), "top-level volumes are included");
        compose_project_free(p);
        diag_done(&d);

        d = (Diag) {};
        p = load_dir(dir, "include: [sub/compose.yaml]\nservices: {db: {image: mine}}\n", &d);
        ok(!p && d.n_errors == 1 && startswith(d.lines[strv_length(d.lines) - 1],
                                               "compose.yaml:2:12: services.db: also defined in the included file"),
           "a service defined on both sides is an error at the including file's definition");
        ok(d.lines && strstr(d.lines[strv_length(d.lines) - 1], "sub/compose.yaml:2:3"), "which names the included file");
        compose_project_free(p);
        diag_done(&d);

        d = (Diag) {};
        p = load_dir(dir, "include: [loop.yaml]\nservices: {a: {image: a}}\n", &d);
        free(expect);
        assert_se(asprintf(&expect, "include: forms a cycle: %s/loop.yaml -> %s/sub/loop.yaml -> %s/loop.yaml", dir, dir,
                           dir) >= 0);
        ok(!p && d.n_errors == 1 && strstr(d.lines[strv_length(d.lines) - 1], expect), "an include cycle is named");
        compose_project_free(p);
        diag_done(&d);

        d = (Diag) {};
        p = load_dir(dir, "include: [{path: sub/compose.yaml, nope: 1}]\nservices: {a: {image: a}}\n", &d);
        ok(!p && d.n_errors == 1 && startswith(d.lines[0], "compose.yaml:1:36: include: unknown key \"nope\""),
           "an unknown key of an include entry is an error");
        compose_project_free(p);
        diag_done(&d);

        assert_se(asprintf(&cmd, "rm -rf '%s'", dir) >= 0);
        assert_se(system(cmd) == 0);
}

int main(void) {
        test_list_repeats();
        test_merge();
        test_extends_profiles_v1();
        test_errors();
        test_control_in_directory();
        test_path_join();
        test_include();
        test_project_name_variable();
        test_named_service_profiles();
        return done_testing();
}
