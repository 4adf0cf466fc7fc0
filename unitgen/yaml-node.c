/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>
#include <yaml.h>

#include "exec-quote.h"
#include "hashmap.h"
#include "yaml-node.h"

/* Alias expansion copies, so a "billion laughs" document must be stopped by a budget, and deep
 * nesting by a depth limit (the builder recurses). */
#define YAML_NODES_MAX 1000000U
#define YAML_DEPTH_MAX 256U

typedef struct YamlAnchor {
        char *name;
        YamlNode *node;         /* borrowed: part of the tree being built */
} YamlAnchor;

typedef struct YamlBuilder {
        yaml_parser_t parser;
        const char *file;
        const char *data;       /* the input, to place reader errors (libyaml gives a byte offset) */
        size_t size;
        YamlSource *source;
        Diag *diag;
        YamlAnchor *anchors;
        size_t n_anchors, n_allocated;
        unsigned n_nodes;
        char path[512];         /* dotted keys down to the node being built, for messages */
        YamlNode *graveyard;    /* nodes taken out of the tree ("<<" and its sources) that anchors
                                 * may still point to: freed with the builder */
} YamlBuilder;

static YamlSource *yaml_source_new(const char *name) {
        size_t l = strlen(name);
        YamlSource *s = malloc(sizeof(YamlSource) + l + 1);

        if (!s)
                return NULL;
        s->n_ref = 1;
        memcpy(s->name, name, l + 1);
        return s;
}

static YamlSource *yaml_source_ref(YamlSource *s) {
        if (s)
                s->n_ref++;
        return s;
}

static YamlSource *yaml_source_unref(YamlSource *s) {
        if (s && --s->n_ref == 0)
                free(s);
        return NULL;
}

YamlNode *yaml_node_free(YamlNode *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_children; i++)
                yaml_node_free(n->children[i]);
        free(n->children);
        free(n->value);
        yaml_source_unref(n->source);
        return mfree(n);
}

static int node_alloc(YamlNodeType type, YamlSource *source, unsigned line, unsigned column, YamlNode **ret) {
        YamlNode *n;

        n = new0(YamlNode, 1);
        if (!n)
                return -ENOMEM;
        n->type = type;
        n->source = yaml_source_ref(source);
        n->file = source ? source->name : NULL;
        n->line = line;
        n->column = column;
        *ret = n;
        return 0;
}

int yaml_node_new(YamlNodeType type, const YamlNode *where, YamlNode **ret) {
        assert(ret);

        return node_alloc(type, where ? where->source : NULL, where ? where->line : 0, where ? where->column : 0, ret);
}

int yaml_node_new_scalar(const char *value, bool plain, const YamlNode *where, YamlNode **ret) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        int r;

        assert(value);
        assert(ret);

        r = yaml_node_new(YAML_NODE_SCALAR, where, &n);
        if (r < 0)
                return r;
        n->value = strdup(value);
        if (!n->value)
                return -ENOMEM;
        n->plain = plain;
        *ret = TAKE_PTR(n);
        return 0;
}

int yaml_node_copy(const YamlNode *n, YamlNode **ret) {
        _cleanup_(yaml_node_freep) YamlNode *c = NULL;
        int r;

        assert(n);
        assert(ret);

        r = yaml_node_new(n->type, n, &c);
        if (r < 0)
                return r;
        c->plain = n->plain;
        if (n->value) {
                c->value = strdup(n->value);
                if (!c->value)
                        return -ENOMEM;
        }
        if (n->n_children > 0) {
                c->children = new(YamlNode *, n->n_children);
                if (!c->children)
                        return -ENOMEM;
                c->n_allocated = n->n_children;
                for (size_t i = 0; i < n->n_children; i++) {
                        r = yaml_node_copy(n->children[i], &c->children[i]);
                        if (r < 0)
                                return r;
                        c->n_children++;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int yaml_node_append(YamlNode *parent, YamlNode *child) {
        assert(parent);

        if (!child)
                return -ENOMEM;
        if (!GREEDY_REALLOC(parent->children, parent->n_allocated, parent->n_children + 1)) {
                yaml_node_free(child);
                return -ENOMEM;
        }
        parent->children[parent->n_children++] = child;
        return 0;
}

int yaml_mapping_append(YamlNode *map, YamlNode *key, YamlNode *value) {
        int r;

        assert(map);

        if (!key || !value) {
                yaml_node_free(key);
                yaml_node_free(value);
                return -ENOMEM;
        }
        r = yaml_node_append(map, key);
        if (r < 0) {
                yaml_node_free(value);
                return r;
        }
        r = yaml_node_append(map, value);
        if (r < 0) {
                map->n_children--;
                yaml_node_free(map->children[map->n_children]);
                return r;
        }
        return 0;
}

static ssize_t yaml_mapping_index(const YamlNode *map, const char *key) {
        if (!map || map->type != YAML_NODE_MAPPING)
                return -1;
        for (size_t i = 0; i + 1 < map->n_children; i += 2)
                if (map->children[i]->value && streq(map->children[i]->value, key))
                        return (ssize_t) i;
        return -1;
}

YamlNode *yaml_mapping_get(const YamlNode *map, const char *key) {
        ssize_t i = yaml_mapping_index(map, key);

        return i < 0 ? NULL : map->children[i + 1];
}

YamlNode *yaml_mapping_get_key(const YamlNode *map, const char *key) {
        ssize_t i = yaml_mapping_index(map, key);

        return i < 0 ? NULL : map->children[i];
}

int yaml_mapping_put(YamlNode *map, YamlNode *key, YamlNode *value) {
        ssize_t i;

        assert(map);

        if (!key || !value) {
                yaml_node_free(key);
                yaml_node_free(value);
                return -ENOMEM;
        }
        i = yaml_mapping_index(map, key->value);
        if (i < 0)
                return yaml_mapping_append(map, key, value);
        yaml_node_free(key);
        yaml_node_free(map->children[i + 1]);
        map->children[i + 1] = value;
        return 0;
}

YamlNode *yaml_mapping_steal(YamlNode *map, const char *key) {
        ssize_t i = yaml_mapping_index(map, key);
        YamlNode *v;

        if (i < 0)
                return NULL;
        v = map->children[i + 1];
        yaml_node_free(map->children[i]);
        memmove(map->children + i, map->children + i + 2, (map->n_children - (size_t) i - 2) * sizeof(YamlNode *));
        map->n_children -= 2;
        return v;
}

bool yaml_node_is_null(const YamlNode *n) {
        if (!n)
                return true;
        if (n->type != YAML_NODE_SCALAR || !n->plain)
                return false;
        return isempty(n->value) || streq(n->value, "~") || streq(n->value, "null") || streq(n->value, "Null") ||
                streq(n->value, "NULL");
}

const char *yaml_node_scalar(const YamlNode *n) {
        return yaml_node_is_scalar(n) ? n->value : NULL;
}

int yaml_node_bool(const YamlNode *n) {
        static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y" };
        static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N" };
        const char *s = yaml_node_scalar(n);

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(s, yes[i]))
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (streq(s, no[i]))
                        return 0;
        return -EINVAL;
}

_printf_(3, 4) static int builder_error(YamlBuilder *b, const yaml_mark_t *mark, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return diag_add_at(b->diag, DIAG_ERROR, b->file, (unsigned) mark->line + 1, (unsigned) mark->column + 1,
                           "yaml", "%s", msg);
}

/* The line and column (in characters, as libyaml counts them) of byte offset in the input. */
static yaml_mark_t builder_mark_at(const YamlBuilder *b, size_t offset) {
        yaml_mark_t m = { .index = offset };

        for (size_t i = 0; i < MIN(offset, b->size); i++)
                if (b->data[i] == '\n') {
                        m.line++;
                        m.column = 0;
                } else if (((unsigned char) b->data[i] & 0xC0) != 0x80)
                        m.column++;
        return m;
}

static int builder_parse_error(YamlBuilder *b) {
        const yaml_parser_t *p = &b->parser;

        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                /* A reader error (invalid UTF-8, a control character) carries no mark, only an offset. */
                yaml_mark_t m = builder_mark_at(b, p->problem_offset);

                return builder_error(b, &m, "%s", p->problem ?: "unreadable input");
        }
        if (p->context)
                return diag_add_at(b->diag, DIAG_ERROR, b->file, (unsigned) p->problem_mark.line + 1,
                                   (unsigned) p->problem_mark.column + 1, "yaml", "%s %s", p->problem ?: "syntax error",
                                   p->context);
        return builder_error(b, &p->problem_mark, "%s", p->problem ?: "syntax error");
}

static int builder_next(YamlBuilder *b, yaml_event_t *ret) {
        if (!yaml_parser_parse(&b->parser, ret))
                return builder_parse_error(b);
        return 0;
}

static int builder_count(YamlBuilder *b, const yaml_mark_t *mark, unsigned n) {
        if (n > YAML_NODES_MAX - b->n_nodes)
                return builder_error(b, mark, "%s", "document too large (too many nodes after alias expansion)");
        b->n_nodes += n;
        return 0;
}

static unsigned yaml_node_count(const YamlNode *n) {
        unsigned c = 1;

        for (size_t i = 0; i < n->n_children && c < YAML_NODES_MAX; i++)
                c += yaml_node_count(n->children[i]);
        return c;
}

static int builder_anchor(YamlBuilder *b, const yaml_char_t *anchor, YamlNode *n) {
        char *name;

        if (!anchor)
                return 0;
        /* A redefined anchor shadows the earlier one for the aliases that follow. */
        name = strdup((const char *) anchor);
        if (!name)
                return -ENOMEM;
        if (!GREEDY_REALLOC(b->anchors, b->n_allocated, b->n_anchors + 1)) {
                free(name);
                return -ENOMEM;
        }
        b->anchors[b->n_anchors++] = (YamlAnchor) { .name = name, .node = n };
        return 0;
}

static int builder_node(YamlBuilder *b, yaml_event_t *e, unsigned depth, YamlNode **ret);

/* Keep n until the parse is over: an anchor may name it, and aliases later in the document copy it. */
static int builder_bury(YamlBuilder *b, YamlNode *n) {
        int r;

        if (!n)
                return 0;
        if (!b->graveyard) {
                r = node_alloc(YAML_NODE_SEQUENCE, NULL, 0, 0, &b->graveyard);
                if (r < 0) {
                        yaml_node_free(n);
                        return r;
                }
        }
        return yaml_node_append(b->graveyard, n);
}

/* The keys of map that a mapping being built has so far, borrowed from its key nodes: a lookup per
 * key, as a scan of the mapping would make a mapping of n keys cost n² (a 4 MB environment took
 * seconds, 15 MB minutes). */
static int builder_key_add(Set *seen, const YamlNode *map) {
        int r = set_put(seen, map->children[map->n_children - 2]->value);

        return r < 0 ? r : 0;
}

static int builder_merge(YamlBuilder *b, YamlNode *map, Set *seen, YamlNode *src, const yaml_mark_t *mark) {
        YamlNode *k, *v;
        int r;

        if (src->type != YAML_NODE_MAPPING)
                return builder_error(b, mark, "%s", "merge key \"<<\" needs a mapping or a list of mappings");

        YAML_MAPPING_FOREACH(k, v, src) {
                _cleanup_(yaml_node_freep) YamlNode *kc = NULL, *vc = NULL;

                if (set_contains(seen, k->value))
                        continue;
                r = yaml_node_copy(k, &kc);
                if (r < 0)
                        return r;
                r = yaml_node_copy(v, &vc);
                if (r < 0)
                        return r;
                r = yaml_mapping_append(map, TAKE_PTR(kc), TAKE_PTR(vc));
                if (r < 0)
                        return r;
                r = builder_key_add(seen, map);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int builder_mapping(YamlBuilder *b, yaml_event_t *start, unsigned depth, YamlNode **ret) {
        _cleanup_(yaml_node_freep) YamlNode *map = NULL, *merges = NULL;
        _cleanup_(set_freep) Set *seen = NULL;
        yaml_mark_t merge_mark = {};
        int r;

        seen = set_new();
        if (!seen)
                return -ENOMEM;
        r = node_alloc(YAML_NODE_MAPPING, b->source, (unsigned) start->start_mark.line + 1,
                       (unsigned) start->start_mark.column + 1, &map);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(yaml_node_freep) YamlNode *key = NULL, *value = NULL;
                yaml_mark_t mark;
                yaml_event_t e;

                r = builder_next(b, &e);
                if (r < 0)
                        return r;
                if (e.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&e);
                        break;
                }
                r = builder_node(b, &e, depth + 1, &key);
                yaml_event_delete(&e);
                if (r < 0)
                        return r;

                r = builder_next(b, &e);
                if (r < 0)
                        return r;
                size_t len = strlen(b->path);
                if (key->type == YAML_NODE_SCALAR)
                        (void) snprintf(b->path + len, sizeof(b->path) - len, "%s%s", len > 0 ? "." : "", key->value);
                r = builder_node(b, &e, depth + 1, &value);
                b->path[len] = 0;
                mark = e.start_mark;
                yaml_event_delete(&e);
                if (r < 0)
                        return r;

                if (key->type == YAML_NODE_SCALAR && key->plain && streq(key->value, "<<")) {
                        /* Merge sources are applied once the explicit keys are known. */
                        r = builder_bury(b, TAKE_PTR(key));
                        if (r < 0)
                                return r;
                        if (merges)
                                return builder_error(b, &mark, "%s", "duplicate merge key \"<<\"");
                        merge_mark = mark;
                        merges = TAKE_PTR(value);
                        continue;
                }
                if (key->type != YAML_NODE_SCALAR)
                        return diag_add(b->diag, DIAG_ERROR, key, "yaml", "mapping keys must be scalars");
                if (set_contains(seen, key->value)) {
                        _cleanup_free_ char *path = NULL;

                        if (asprintf(&path, "%s%s%s", b->path, isempty(b->path) ? "" : ".", key->value) < 0)
                                return -ENOMEM;
                        return diag_add(b->diag, DIAG_ERROR, key, path, "duplicate key");
                }
                r = yaml_mapping_append(map, TAKE_PTR(key), TAKE_PTR(value));
                if (r < 0)
                        return r;
                r = builder_key_add(seen, map);
                if (r < 0)
                        return r;
        }

        if (merges) {
                if (merges->type == YAML_NODE_SEQUENCE) {
                        for (size_t i = 0; i < merges->n_children; i++) {
                                r = builder_merge(b, map, seen, merges->children[i], &merge_mark);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        r = builder_merge(b, map, seen, merges, &merge_mark);
                        if (r < 0)
                                return r;
                }
                r = builder_bury(b, TAKE_PTR(merges));
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(map);
        return 0;
}

static int builder_sequence(YamlBuilder *b, yaml_event_t *start, unsigned depth, YamlNode **ret) {
        _cleanup_(yaml_node_freep) YamlNode *seq = NULL;
        int r;

        r = node_alloc(YAML_NODE_SEQUENCE, b->source, (unsigned) start->start_mark.line + 1,
                       (unsigned) start->start_mark.column + 1, &seq);
        if (r < 0)
                return r;

        for (;;) {
                YamlNode *item = NULL;
                yaml_event_t e;

                r = builder_next(b, &e);
                if (r < 0)
                        return r;
                if (e.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&e);
                        break;
                }
                r = builder_node(b, &e, depth + 1, &item);
                yaml_event_delete(&e);
                if (r < 0)
                        return r;
                r = yaml_node_append(seq, item);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(seq);
        return 0;
}

static int builder_node(YamlBuilder *b, yaml_event_t *e, unsigned depth, YamlNode **ret) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        const yaml_char_t *anchor = NULL;
        int r;

        if (depth > YAML_DEPTH_MAX)
                return builder_error(b, &e->start_mark, "%s", "nesting too deep");

        r = builder_count(b, &e->start_mark, 1);
        if (r < 0)
                return r;

        switch (e->type) {
        case YAML_SCALAR_EVENT:
                r = node_alloc(YAML_NODE_SCALAR, b->source, (unsigned) e->start_mark.line + 1,
                               (unsigned) e->start_mark.column + 1, &n);
                if (r < 0)
                        return r;
                /* Control characters below \t are never text; the converter uses some as markers. */
                if (text_has_control((const char *) e->data.scalar.value, e->data.scalar.length))
                        return builder_error(b, &e->start_mark, "%s", "control character in a scalar");
                n->value = strndup((const char *) e->data.scalar.value, e->data.scalar.length);
                if (!n->value)
                        return -ENOMEM;
                n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                anchor = e->data.scalar.anchor;
                break;

        case YAML_MAPPING_START_EVENT:
                r = builder_mapping(b, e, depth, &n);
                if (r < 0)
                        return r;
                anchor = e->data.mapping_start.anchor;
                break;

        case YAML_SEQUENCE_START_EVENT:
                r = builder_sequence(b, e, depth, &n);
                if (r < 0)
                        return r;
                anchor = e->data.sequence_start.anchor;
                break;

        case YAML_ALIAS_EVENT: {
                const char *name = (const char *) e->data.alias.anchor;
                YamlNode *target = NULL;

                for (size_t i = b->n_anchors; i > 0; i--)
                        if (streq(b->anchors[i - 1].name, name)) {
                                target = b->anchors[i - 1].node;
                                break;
                        }
                if (!target)
                        return builder_error(b, &e->start_mark, "unknown anchor \"%s\"", name);
                r = builder_count(b, &e->start_mark, yaml_node_count(target));
                if (r < 0)
                        return r;
                r = yaml_node_copy(target, &n);
                if (r < 0)
                        return r;
                /* The copy is located at the alias, so that errors point at the use. */
                n->line = (unsigned) e->start_mark.line + 1;
                n->column = (unsigned) e->start_mark.column + 1;
                break;
        }

        default:
                return builder_error(b, &e->start_mark, "%s", "unexpected YAML event");
        }

        /* The anchor points into the tree; the tree outlives the builder's table. */
        r = builder_anchor(b, anchor, n);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(n);
        return 0;
}

static void builder_done(YamlBuilder *b) {
        for (size_t i = 0; i < b->n_anchors; i++)
                free(b->anchors[i].name);
        free(b->anchors);
        yaml_node_free(b->graveyard);
        yaml_source_unref(b->source);
        yaml_parser_delete(&b->parser);
}

int yaml_parse(const char *file, const char *data, size_t size, YamlNode **ret, Diag *d) {
        _cleanup_(yaml_node_freep) YamlNode *root = NULL;
        YamlBuilder b = { .file = file, .diag = d };
        bool done = false;
        int r;

        assert(file);
        assert(data || size == 0);
        assert(ret);

        b.source = yaml_source_new(file);
        if (!b.source)
                return -ENOMEM;
        if (!yaml_parser_initialize(&b.parser)) {
                yaml_source_unref(b.source);
                return -ENOMEM;
        }
        b.data = data ?: "";
        b.size = size;
        yaml_parser_set_input_string(&b.parser, (const unsigned char *) b.data, size);

        while (!done) {
                yaml_event_t e;

                r = builder_next(&b, &e);
                if (r < 0)
                        goto finish;

                switch (e.type) {
                case YAML_STREAM_START_EVENT:
                case YAML_DOCUMENT_END_EVENT:
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (root) {
                                r = builder_error(&b, &e.start_mark, "%s",
                                                  "more than one YAML document in a compose file");
                                yaml_event_delete(&e);
                                goto finish;
                        }
                        break;
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                default:
                        r = builder_node(&b, &e, 0, &root);
                        if (r < 0) {
                                yaml_event_delete(&e);
                                goto finish;
                        }
                }
                yaml_event_delete(&e);
        }

        if (!root) {
                r = node_alloc(YAML_NODE_MAPPING, b.source, 1, 1, &root);
                if (r < 0)
                        goto finish;
        }
        *ret = TAKE_PTR(root);
        r = 0;
finish:
        builder_done(&b);
        return r;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev) {
        /* The emitter frees the event's data, also when it fails. */
        return yaml_emitter_emit(e, ev) ? 0 : e->error == YAML_MEMORY_ERROR ? -ENOMEM : -EIO;
}

static int dump_node(yaml_emitter_t *e, const YamlNode *n) {
        yaml_event_t ev;
        int r;

        switch (n->type) {
        case YAML_NODE_SCALAR:
                if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) n->value, (int) strlen(n->value),
                                                  n->plain, !n->plain,
                                                  n->plain ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE))
                        return -ENOMEM;
                return emit(e, &ev);
        case YAML_NODE_MAPPING:
        case YAML_NODE_SEQUENCE:
                if (n->type == YAML_NODE_MAPPING ?
                    !yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) :
                    !yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
                        return -ENOMEM;
                r = emit(e, &ev);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n->n_children; i++) {
                        r = dump_node(e, n->children[i]);
                        if (r < 0)
                                return r;
                }
                if (n->type == YAML_NODE_MAPPING ? !yaml_mapping_end_event_initialize(&ev) :
                                                   !yaml_sequence_end_event_initialize(&ev))
                        return -ENOMEM;
                return emit(e, &ev);
        default:
                return -EINVAL;
        }
}

static int dump_write(void *data, unsigned char *buffer, size_t size) {
        return fwrite(buffer, 1, size, data) == size;
}

int yaml_node_dump(const YamlNode *n, FILE *f) {
        yaml_emitter_t e;
        yaml_event_t ev;
        int r;

        assert(n);
        assert(f);

        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output(&e, dump_write, f);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);

        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING)) {
                r = -ENOMEM;
                goto finish;
        }
        r = emit(&e, &ev);
        if (r < 0)
                goto finish;
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1)) {
                r = -ENOMEM;
                goto finish;
        }
        r = emit(&e, &ev);
        if (r < 0)
                goto finish;
        r = dump_node(&e, n);
        if (r < 0)
                goto finish;
        if (!yaml_document_end_event_initialize(&ev, 1)) {
                r = -ENOMEM;
                goto finish;
        }
        r = emit(&e, &ev);
        if (r < 0)
                goto finish;
        if (!yaml_stream_end_event_initialize(&ev)) {
                r = -ENOMEM;
                goto finish;
        }
        r = emit(&e, &ev);
        if (r >= 0 && !yaml_emitter_flush(&e))
                r = -EIO;
finish:
        yaml_emitter_delete(&e);
        return r;
}
