/* SPDX-License-Identifier: Apache-2.0 */

#include <stdint.h>

#include "hashmap.h"

typedef struct HashmapEntry {
        const char *key;
        void *value;
        uint64_t hash;
} HashmapEntry;

struct Hashmap {
        HashmapEntry *entries;          /* dense, n_entries used */
        size_t n_entries;
        size_t n_entries_allocated;
        uint32_t *slots;                /* entry index + 1; 0 marks a free slot */
        size_t n_slots;                 /* a power of two, or 0 */
};

static inline uint64_t fmix64(uint64_t h) {
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        h *= UINT64_C(0xc4ceb9fe1a85ec53);
        h ^= h >> 33;
        return h;
}

uint64_t string_hash(const char *s) {
        size_t n = strlen(s);
        uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n, v;

        for (; n >= 8; s += 8, n -= 8) {
                memcpy(&v, s, 8);
                h = (h ^ v) * UINT64_C(0x87c37b91114253d5);
                h ^= h >> 31;
        }
        v = 0;
        memcpy(&v, s, n);
        return fmix64(h ^ v);
}

Hashmap *hashmap_new(void) {
        return new0(Hashmap, 1);
}

Hashmap *hashmap_free(Hashmap *h) {
        if (!h)
                return NULL;
        free(h->entries);
        free(h->slots);
        return mfree(h);
}

Hashmap *hashmap_free_with_destructor(Hashmap *h, hashmap_free_func_t free_value) {
        if (!h)
                return NULL;
        if (free_value)
                for (size_t i = 0; i < h->n_entries; i++)
                        free_value(h->entries[i].value);
        return hashmap_free(h);
}

Hashmap *hashmap_free_free(Hashmap *h) {
        return hashmap_free_with_destructor(h, free);
}

/* The slot holding key, or the free slot where it would go. Needs n_slots > 0. */
static size_t hashmap_find_slot(const Hashmap *h, const char *key, uint64_t hash) {
        size_t mask = h->n_slots - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                uint32_t e = h->slots[i];

                if (e == 0)
                        return i;
                if (h->entries[e - 1].hash == hash && streq(h->entries[e - 1].key, key))
                        return i;
        }
}

static int hashmap_resize(Hashmap *h, size_t n_slots) {
        uint32_t *slots;
        size_t mask = n_slots - 1;

        if (n_slots > UINT32_MAX)
                return -ENOMEM;
        slots = new0(uint32_t, n_slots);
        if (!slots)
                return -ENOMEM;

        for (size_t e = 0; e < h->n_entries; e++) {
                size_t i = h->entries[e].hash & mask;

                while (slots[i] != 0)
                        i = (i + 1) & mask;
                slots[i] = (uint32_t) (e + 1);
        }

        free(h->slots);
        h->slots = slots;
        h->n_slots = n_slots;
        return 0;
}

static int hashmap_put_internal(Hashmap *h, const char *key, void *value, bool replace) {
        uint64_t hash;
        size_t i;
        int r;

        assert(h);
        assert(key);

        /* Keep the load factor at or below 1/2: linear probing stays short. */
        if ((h->n_entries + 1) * 2 > h->n_slots) {
                r = hashmap_resize(h, h->n_slots > 0 ? h->n_slots * 2 : 16);
                if (r < 0)
                        return r;
        }

        hash = string_hash(key);
        i = hashmap_find_slot(h, key, hash);
        if (h->slots[i] != 0) {
                HashmapEntry *e = h->entries + h->slots[i] - 1;

                if (replace) {
                        e->key = key;
                        e->value = value;
                        return 0;
                }
                return e->value == value ? 0 : -EEXIST;
        }

        if (!GREEDY_REALLOC(h->entries, h->n_entries_allocated, h->n_entries + 1))
                return -ENOMEM;
        h->entries[h->n_entries] = (HashmapEntry) { .key = key, .value = value, .hash = hash };
        h->slots[i] = (uint32_t) ++h->n_entries;
        return 1;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        return hashmap_put_internal(h, key, value, false);
}

int hashmap_replace(Hashmap *h, const char *key, void *value) {
        return hashmap_put_internal(h, key, value, true);
}

void *hashmap_get2(const Hashmap *h, const char *key, const char **ret_key) {
        size_t i;
        uint32_t e;

        assert(key);

        if (!h || h->n_entries == 0)
                return NULL;
        i = hashmap_find_slot(h, key, string_hash(key));
        e = h->slots[i];
        if (e == 0)
                return NULL;
        if (ret_key)
                *ret_key = h->entries[e - 1].key;
        return h->entries[e - 1].value;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        return hashmap_get2(h, key, NULL);
}

bool hashmap_contains(const Hashmap *h, const char *key) {
        assert(key);

        if (!h || h->n_entries == 0)
                return false;
        return h->slots[hashmap_find_slot(h, key, string_hash(key))] != 0;
}

void *hashmap_remove(Hashmap *h, const char *key) {
        size_t mask, i, j, last;
        uint32_t e;
        void *value;

        assert(key);

        if (!h || h->n_entries == 0)
                return NULL;

        mask = h->n_slots - 1;
        i = hashmap_find_slot(h, key, string_hash(key));
        e = h->slots[i];
        if (e == 0)
                return NULL;
        value = h->entries[e - 1].value;

        /* Backward-shift deletion: pull later members of the probe run into the hole, so that
         * lookups never need tombstones. */
        for (j = i;;) {
                size_t home;

                j = (j + 1) & mask;
                if (h->slots[j] == 0)
                        break;
                home = h->entries[h->slots[j] - 1].hash & mask;
                /* Move slot j to i unless its home lies cyclically in (i, j]. */
                if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
                        h->slots[i] = h->slots[j];
                        i = j;
                }
        }
        h->slots[i] = 0;

        /* Keep the entry array dense: the last entry fills the hole. */
        last = h->n_entries - 1;
        if (e - 1 != last) {
                size_t k = hashmap_find_slot(h, h->entries[last].key, h->entries[last].hash);

                assert(h->slots[k] == last + 1);
                h->entries[e - 1] = h->entries[last];
                h->slots[k] = e;
        }
        h->n_entries--;
        return value;
}

void hashmap_clear(Hashmap *h) {
        if (!h)
                return;
        h->n_entries = 0;
        if (h->slots)
                memset(h->slots, 0, h->n_slots * sizeof(uint32_t));
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n_entries : 0;
}

bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_value, const char **ret_key) {
        size_t i;

        assert(state);

        if (!h)
                return false;
        i = *state == HASHMAP_ITER_FIRST ? h->n_entries : MIN(*state, h->n_entries);
        if (i == 0)
                return false;
        i--;
        *state = i;
        if (ret_value)
                *ret_value = h->entries[i].value;
        if (ret_key)
                *ret_key = h->entries[i].key;
        return true;
}

int set_consume(Set *s, char *key) {
        int r;

        assert(key);

        r = hashmap_put(s, key, key);
        if (r <= 0)
                free(key);
        return r == -EEXIST ? 0 : r;
}
