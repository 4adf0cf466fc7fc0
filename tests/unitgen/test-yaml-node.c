/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "tap.h"
#include "yaml-node.h"

static YamlNode *parse(const char *text, Diag *d) {
        YamlNode *n = NULL;

        if (yaml_parse("t.yaml", text, strlen(text), &n, d) < 0)
                return NULL;
        return n;
}

static void test_locations(void) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        Diag d = {};
        YamlNode *v;

        n = parse("a: 1\nb:\n  c: [x, 'y']\n", &d);
        ok(n && n->type == YAML_NODE_MAPPING, "a mapping document");
        v = yaml_mapping_get(yaml_mapping_get(n, "b"), "c");
        ok(v && v->type == YAML_NODE_SEQUENCE && v->n_children == 2, "nested sequence");
        is_int(v ? v->line : 0, 3, "line of the sequence");
        is_int(v ? v->column : 0, 6, "column of the sequence");
        ok(v && v->children[0]->plain && !v->children[1]->plain, "plain and quoted scalars are told apart");
        diag_done(&d);
}

static void test_anchors_and_merge_keys(void) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        Diag d = {};
        YamlNode *s;

        n = parse("x-a: &a {image: a, user: ua}\n"
                  "x-b: &b {image: b, hostname: hb, user: ub}\n"
                  "svc:\n"
                  "  <<: [*a, *b]\n"
                  "  user: mine\n"
                  "alias: *a\n", &d);
        s = yaml_mapping_get(n, "svc");
        is_str(yaml_node_scalar(yaml_mapping_get(s, "user")), "mine", "explicit keys win over merged ones");
        is_str(yaml_node_scalar(yaml_mapping_get(s, "image")), "a", "earlier merge sources win");
        is_str(yaml_node_scalar(yaml_mapping_get(s, "hostname")), "hb", "later sources fill in");
        ok(!yaml_mapping_get(s, "<<"), "the merge key itself is gone");
        is_str(yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(n, "alias"), "image")), "a", "an alias copies");
        is_int(yaml_mapping_get(n, "alias")->line, 6, "the copy is located at the alias");
        diag_done(&d);
}

static void test_anchor_in_merge_source(void) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        Diag d = {};

        /* The merge source is dropped from the tree, but its anchor is used afterwards. */
        n = parse("a:\n  <<: &x {k: v}\nb: *x\nc:\n  <<: [*x, *x]\n", &d);
        ok(n, "an anchor defined on a merge source stays usable");
        is_str(yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(n, "b"), "k")), "v", "the alias copies it");
        is_str(yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(n, "c"), "k")), "v", "and merges it again");
        diag_done(&d);
}

static void test_nulls_and_bools(void) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        Diag d = {};

        n = parse("a:\nb: ~\nc: null\nd: ''\ne: yes\nf: 'no'\ng: Off\n", &d);
        ok(yaml_node_is_null(yaml_mapping_get(n, "a")), "empty value is null");
        ok(yaml_node_is_null(yaml_mapping_get(n, "b")), "~ is null");
        ok(yaml_node_is_null(yaml_mapping_get(n, "c")), "null is null");
        ok(!yaml_node_is_null(yaml_mapping_get(n, "d")), "'' is an empty string, not null");
        is_int(yaml_node_bool(yaml_mapping_get(n, "e")), 1, "yes is true");
        is_int(yaml_node_bool(yaml_mapping_get(n, "f")), 0, "'no' is false");
        is_int(yaml_node_bool(yaml_mapping_get(n, "g")), 0, "Off is false");
        diag_done(&d);
}

static void test_errors(void) {
        static const struct {
                const char *text, *message;
        } cases[] = {
                { "a: [1, 2\n", "t.yaml:2:1: yaml: " },
                { "a: 1\na: 2\n", "t.yaml:2:1: a: duplicate key" },
                { "a: *nope\n", "t.yaml:1:4: yaml: unknown anchor \"nope\"" },
                { "a: &x [*x]\n", "t.yaml:1:8: yaml: unknown anchor \"x\"" },
                { "<<: 5\n", "t.yaml:1:5: yaml: merge key \"<<\" needs a mapping or a list of mappings" },
                { "? [a]\n: b\n", "t.yaml:1:3: yaml: mapping keys must be scalars" },
                { "a: 1\n---\nb: 2\n", "t.yaml:2:1: yaml: more than one YAML document in a compose file" },
                { "a: \"\\x01\"\n", "t.yaml:1:4: yaml: control character in a scalar" },
                /* Issue 12 (11): libyaml's reader errors carry an offset, not a mark; they were at 1:1. */
                { "a: 1\nb:\n  c: \"x\xffy\"\n", "t.yaml:3:8: yaml: invalid leading UTF-8 octet" },
                { "a: 1\nb: \"\xc3\xa9\x01\"\n", "t.yaml:2:6: yaml: control characters are not allowed" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                YamlNode *n = NULL;
                Diag d = {};
                int r;

                r = yaml_parse("t.yaml", cases[i].text, strlen(cases[i].text), &n, &d);
                ok(r == -EINVAL && !n && d.n_errors == 1 && d.lines &&
                   startswith(d.lines[0], cases[i].message), "error: %s", cases[i].message);
                if (d.lines && !startswith(d.lines[0], cases[i].message))
                        diag("got: %s", d.lines[0]);
                diag_done(&d);
        }
}

/* Issue 12 (14): the duplicate check was a scan of the mapping per key. It is a lookup now; the
 * cost is measured by bench-unitgen --keys, this checks that what it finds did not change. */
static void test_many_keys(void) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        _cleanup_free_ char *doc = NULL, *dup = NULL;
        size_t size = 0;
        FILE *f;
        Diag d = {};

        f = open_memstream(&doc, &size);
        assert_se(f);
        fputs("base: &b {k0: merged, extra: merged}\nm:\n  <<: *b\n", f);
        for (unsigned i = 0; i < 20000; i++)
                fprintf(f, "  k%u: v%u\n", i, i);
        assert_se(fclose(f) == 0);

        n = parse(doc, &d);
        ok(n && yaml_mapping_get(n, "m")->n_children == 2 * 20001, "20000 keys and one merged");
        is_str(yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(n, "m"), "k0")), "v0", "an explicit key wins over the merge");
        is_str(yaml_node_scalar(yaml_mapping_get(yaml_mapping_get(n, "m"), "extra")), "merged", "the merge fills the rest");
        diag_done(&d);

        assert_se(asprintf(&dup, "%s  k12345: again\n", doc) > 0);
        YamlNode *m = NULL;
        d = (Diag) {};
        ok(yaml_parse("t.yaml", dup, strlen(dup), &m, &d) == -EINVAL && !m && d.lines &&
           startswith(d.lines[0], "t.yaml:20004:3: m.k12345: duplicate key"),
           "a duplicate after 20000 keys is found at its line: %s", d.lines ? d.lines[0] : "-");
        diag_done(&d);
}

static void test_billion_laughs(void) {
        _cleanup_free_ char *doc = NULL;
        YamlNode *n = NULL;
        Diag d = {};
        char *p;
        int r;

        /* 20 levels of 10 aliases each: 10^20 nodes if expanded. */
        doc = malloc(20 * 80 + 64);
        assert_se(doc);
        p = stpcpy(doc, "a0: &a0 [x]\n");
        for (int i = 1; i < 20; i++)
                p += sprintf(p, "a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i, i - 1, i - 1,
                             i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        r = yaml_parse("t.yaml", doc, strlen(doc), &n, &d);
        ok(r == -EINVAL && d.lines && strstr(d.lines[0], "too many nodes"), "alias expansion has a budget");
        yaml_node_free(n);
        diag_done(&d);
}

static void test_empty(void) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        Diag d = {};

        n = parse("# nothing\n", &d);
        ok(n && n->type == YAML_NODE_MAPPING && n->n_children == 0, "an empty document is an empty mapping");
        diag_done(&d);
}

int main(void) {
        test_locations();
        test_anchors_and_merge_keys();
        test_anchor_in_merge_source();
        test_nulls_and_bools();
        test_errors();
        test_many_keys();
        test_billion_laughs();
        test_empty();
        return done_testing();
}
