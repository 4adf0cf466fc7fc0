/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "macro.h"

/* A string-keyed hash map with open addressing, for O(1) lookups of units and machines by name.
 * Entries live in a dense array (insertion order, until a removal moves the last entry into the
 * hole), and an index table of 32-bit slots probed linearly points into it.
 *
 * Keys are borrowed: the map stores the pointer it is given and never copies or frees a key, so
 * a key must stay valid and unchanged while it is in the map (typically the key is the name
 * inside the value). Values are opaque pointers; NULL is a valid value, but then hashmap_get()
 * cannot tell it from a missing key: use hashmap_contains(). A NULL Hashmap is a valid empty map
 * for every read-only function. */
typedef struct Hashmap Hashmap;

/* A set of strings is a Hashmap whose values are its keys. */
typedef struct Hashmap Set;

typedef void (*hashmap_free_func_t)(void *p);

/* The hash function used by the map (64-bit, seedless, fast for short strings). */
uint64_t string_hash(const char *s);

/* Allocate an empty map. Returns NULL on OOM. */
Hashmap *hashmap_new(void);

/* Free the map itself; keys and values are left alone. Accepts NULL, returns NULL. */
Hashmap *hashmap_free(Hashmap *h);
/* Free the map and call free_value (if non-NULL) on every value. Accepts NULL, returns NULL. */
Hashmap *hashmap_free_with_destructor(Hashmap *h, hashmap_free_func_t free_value);
/* Free the map and free() every value. */
Hashmap *hashmap_free_free(Hashmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hashmap *, hashmap_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hashmap *, hashmap_free_free);

/* Add key → value. Returns 1 if added, 0 if the key was already there with the same value,
 * -EEXIST if it was there with another value (the map is unchanged), -ENOMEM. */
int hashmap_put(Hashmap *h, const char *key, void *value);
/* Add or overwrite key → value (the stored key pointer becomes this key). Returns 1 if added,
 * 0 if overwritten, -ENOMEM. The old value is not freed. */
int hashmap_replace(Hashmap *h, const char *key, void *value);

/* The value for key, or NULL. */
void *hashmap_get(const Hashmap *h, const char *key);
/* Like hashmap_get(); *ret_key (optional) gets the stored key pointer. */
void *hashmap_get2(const Hashmap *h, const char *key, const char **ret_key);
bool hashmap_contains(const Hashmap *h, const char *key);

/* Remove key; returns its value (which the caller now owns) or NULL if it was absent. */
void *hashmap_remove(Hashmap *h, const char *key);
/* Remove every entry (the values are left alone); keeps the allocation. */
void hashmap_clear(Hashmap *h);

size_t hashmap_size(const Hashmap *h);
static inline bool hashmap_isempty(const Hashmap *h) {
        return hashmap_size(h) == 0;
}

/* Iteration. *state starts at HASHMAP_ITER_FIRST. Returns true and the next entry (either out
 * parameter may be NULL), false at the end. Entries are visited from the newest to the oldest.
 * Removing the entry just returned is allowed during the iteration (no entry is then skipped or
 * repeated); adding entries during an iteration is not. */
#define HASHMAP_ITER_FIRST ((size_t) -1)
bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_value, const char **ret_key);

#define HASHMAP_FOREACH(v, h)                                                          \
        for (size_t _i_##v = HASHMAP_ITER_FIRST; hashmap_iterate((h), &_i_##v, (void **) &(v), NULL);)
#define HASHMAP_FOREACH_KEY(v, k, h)                                                   \
        for (size_t _i_##v = HASHMAP_ITER_FIRST;                                       \
             hashmap_iterate((h), &_i_##v, (void **) &(v), (const char **) &(k));)

/* Sets of strings. Keys are borrowed as in Hashmap, unless the set is freed with set_free_free()
 * (then the set owns them: use set_consume() to add). */
static inline Set *set_new(void) {
        return hashmap_new();
}
static inline Set *set_free(Set *s) {
        return hashmap_free(s);
}
/* Free the set and free() every key. */
static inline Set *set_free_free(Set *s) {
        return hashmap_free_free(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Set *, set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Set *, set_free_free);
/* Add key. Returns 1 if added, 0 if already present, -ENOMEM. */
static inline int set_put(Set *s, const char *key) {
        int r = hashmap_put(s, key, (void *) key);
        return r == -EEXIST ? 0 : r;
}
/* Add a malloc'd key to a set that owns its keys: on 0 (already present) or failure the key is
 * freed. Returns 1, 0 or -ENOMEM. */
int set_consume(Set *s, char *key);
static inline bool set_contains(const Set *s, const char *key) {
        return hashmap_contains(s, key);
}
/* Remove key; returns the stored key pointer (owned by the caller for an owning set) or NULL. */
static inline char *set_remove(Set *s, const char *key) {
        return hashmap_remove(s, key);
}
static inline size_t set_size(const Set *s) {
        return hashmap_size(s);
}
#define SET_FOREACH(k, s) HASHMAP_FOREACH(k, s)
