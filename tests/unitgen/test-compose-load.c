/* SPDX-License-Identifier: Apache-2.0 */

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

int main(void) {
        test_merge();
        test_extends_profiles_v1();
        test_errors();
        return done_testing();
}
