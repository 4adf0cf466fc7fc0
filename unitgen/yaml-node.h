/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "diag.h"
#include "macro.h"

/* A YAML document as a tree of nodes that remember where they came from. Anchors and aliases are
 * resolved by copying (so every node has exactly one parent and may be changed in place), and
 * YAML 1.1 merge keys ("<<: *a", "<<: [*a, *b]") are applied while the mapping is built: explicit
 * keys win over merged ones, earlier merge sources over later ones. libyaml does neither. */

typedef enum YamlNodeType {
        YAML_NODE_SCALAR,
        YAML_NODE_MAPPING,
        YAML_NODE_SEQUENCE,
        _YAML_NODE_TYPE_MAX,
        _YAML_NODE_TYPE_INVALID = -EINVAL,
} YamlNodeType;

/* The name of the file nodes came from, shared by all of them. */
typedef struct YamlSource {
        unsigned n_ref;
        char name[];
} YamlSource;

struct YamlNode {
        YamlNodeType type;
        YamlSource *source;     /* NULL for nodes made up without a location */
        const char *file;       /* source->name: the file's name as the user gave it, or NULL */
        unsigned line, column;  /* 1-based */
        char *value;            /* scalars: the text */
        bool plain;             /* scalars: unquoted in the source, so "null", "~" and "" mean null */
        YamlNode **children;    /* sequences: the items; mappings: key, value, key, value, ... */
        size_t n_children;
        size_t n_allocated;
};

#define YAML_CONCAT_(a, b) a##b
#define YAML_CONCAT(a, b) YAML_CONCAT_(a, b)

#define YAML_MAPPING_FOREACH(k, v, map) YAML_MAPPING_FOREACH_(k, v, map, YAML_CONCAT(_i_, __COUNTER__))
#define YAML_MAPPING_FOREACH_(k, v, map, i)                                                   \
        for (size_t i = 0; (map) && i + 1 < (map)->n_children &&                              \
                           ((k) = (map)->children[i], (v) = (map)->children[i + 1], true);    \
             i += 2)

#define YAML_SEQUENCE_FOREACH(item, seq) YAML_SEQUENCE_FOREACH_(item, seq, YAML_CONCAT(_j_, __COUNTER__))
#define YAML_SEQUENCE_FOREACH_(item, seq, i)                                                  \
        for (size_t i = 0; (seq) && i < (seq)->n_children && ((item) = (seq)->children[i], true); i++)

/* Parse one YAML document from data (size bytes, need not be NUL-terminated); file is the name used
 * in messages and stored in every node. An empty document gives an empty mapping. On error a
 * message is added to d and -EINVAL returned; -ENOMEM on OOM. *ret is owned by the caller. */
int yaml_parse(const char *file, const char *data, size_t size, YamlNode **ret, Diag *d);

/* Free a node and everything below it. Accepts NULL, returns NULL. */
YamlNode *yaml_node_free(YamlNode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlNode *, yaml_node_free);

/* New nodes located where `where` is (which may be NULL). Return 0, -ENOMEM. */
int yaml_node_new(YamlNodeType type, const YamlNode *where, YamlNode **ret);
int yaml_node_new_scalar(const char *value, bool plain, const YamlNode *where, YamlNode **ret);

/* Deep copy. Returns 0 or -ENOMEM. */
int yaml_node_copy(const YamlNode *n, YamlNode **ret);

/* Append a child (sequence) or a key and a value (mapping). Takes ownership even on failure. */
int yaml_node_append(YamlNode *parent, YamlNode *child);
int yaml_mapping_append(YamlNode *map, YamlNode *key, YamlNode *value);

/* Replace the value of key in map (appending the pair if absent). Takes ownership of value (and of
 * key, which is freed when the key already exists), even on failure. */
int yaml_mapping_put(YamlNode *map, YamlNode *key, YamlNode *value);

/* Remove key from map; returns its value (now owned by the caller) or NULL. The key node is freed. */
YamlNode *yaml_mapping_steal(YamlNode *map, const char *key);

/* The value node of key in a mapping, NULL if map is not a mapping or has no such key. Borrowed. */
YamlNode *yaml_mapping_get(const YamlNode *map, const char *key);
/* The key node that holds key (for error locations). */
YamlNode *yaml_mapping_get_key(const YamlNode *map, const char *key);

/* Type predicates. A null scalar is a plain "", "~" or "null" (in any of YAML's spellings). */
bool yaml_node_is_null(const YamlNode *n);
static inline bool yaml_node_is_scalar(const YamlNode *n) {
        return n && n->type == YAML_NODE_SCALAR && !yaml_node_is_null(n);
}
static inline bool yaml_node_is_mapping(const YamlNode *n) {
        return n && n->type == YAML_NODE_MAPPING;
}
static inline bool yaml_node_is_sequence(const YamlNode *n) {
        return n && n->type == YAML_NODE_SEQUENCE;
}

/* The text of a non-null scalar, NULL for anything else. */
const char *yaml_node_scalar(const YamlNode *n);

/* Write n as a YAML document to f (libyaml's emitter, block style; quoted scalars stay quoted so
 * that they read back as strings). Returns 0, -ENOMEM or -EIO. */
int yaml_node_dump(const YamlNode *n, FILE *f);

/* YAML 1.1 booleans (true/false/yes/no/on/off in the usual spellings). Returns 1, 0, or -EINVAL. */
int yaml_node_bool(const YamlNode *n);

static inline const char *yaml_node_type_name(const YamlNode *n) {
        if (!n || yaml_node_is_null(n))
                return "null";
        return n->type == YAML_NODE_MAPPING ? "a mapping" : n->type == YAML_NODE_SEQUENCE ? "a list" : "a scalar";
}
