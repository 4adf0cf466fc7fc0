/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "scheduler-internal.h"
#include "strv.h"

bool units_conflict(const Unit *a, const Unit *b) {
        return xfleet_globs_match(a->x->conflicts, b->name) || xfleet_globs_match(b->x->conflicts, a->name);
}

bool unit_replaces(const Unit *a, const Unit *b) {
        return xfleet_globs_match(a->x->replaces, b->name);
}

static FitResult unit_fits_neighbour(const Unit *u, const Unit *v, EvictMode evict) {
        if (u == v)
                return FIT_OK;
        if (units_conflict(u, v))
                return FIT_CONFLICT;
        if (unit_replaces(v, u))
                return FIT_REPLACED;
        if (unit_replaces(u, v) && !(evict & (unit_is_global(v) ? EVICT_GLOBALS : EVICT_ALL & ~EVICT_GLOBALS)))
                return FIT_REPLACES;
        return FIT_OK;
}

FitResult unit_fits(const Scheduler *s, const Unit *u, const Machine *m, EvictMode evict,
                    const Unit **ret_blocker) {
        const UnitList *lists[] = { &m->units, &m->globals };

        if (u->excluded && strv_contains(u->excluded, m->id))
                return FIT_EXCLUDED;
        if (m->cordon == REGISTRY_CORDON_DRAINED || (m->cordon == REGISTRY_CORDON_CORDONED && u->machine != m))
                return FIT_CORDONED;
        if (!u->plain) {
                if (u->x->machine_id && !xfleet_machine_id_match(u->x->machine_id, m->id))
                        return FIT_MACHINE_ID;
                if (u->x->machine_metadata && !xfleet_metadata_match(u->x->machine_metadata, m->metadata))
                        return FIT_METADATA;
                STRV_FOREACH(peer, u->x->machine_of) {
                        const Unit *p = hashmap_get(s->units, *peer);

                        if (!p || p->machine != m)
                                return FIT_MACHINE_OF;
                }
        }
        if (s->spread_key) {
                const char *v = machine_metadata_value(m, s->spread_key);

                if (!streq_ptr(v, s->spread_value))
                        return FIT_SPREAD;
        }
        if (u->reserves && !(u->reserve_extra ? machine_has_room(m, u, NULL, 0, NULL, 0) : machine_has_room_plain(m, u)))
                return FIT_RESOURCES;
        if (!u->plain && u->x->max_per_machine > 0 && machine_group_count(m, u) >= u->x->max_per_machine)
                return FIT_MAX_PER_MACHINE;

        /* Neither side has patterns: nothing on this machine can object. */
        if (!u->has_patterns && m->n_patterned == 0)
                return FIT_OK;

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t i = 0; i < lists[l]->n_units; i++) {
                        const Unit *v = lists[l]->units[i];
                        FitResult f;

                        if (!u->has_patterns && !v->has_patterns)
                                continue;
                        f = unit_fits_neighbour(u, v, evict);
                        if (f != FIT_OK) {
                                *ret_blocker = v;
                                return f;
                        }
                }
        return FIT_OK;
}

int unit_metadata_hopeless(const Scheduler *s, const Unit *u, char **ret_reason) {
        char **reqs = u->x->machine_metadata;
        size_t n = strv_length(reqs);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *key = NULL, *value = NULL, *buf = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                size_t size = 0, key_len;
                bool negated, any = false, first = true;

                if (xfleet_metadata_split(reqs[i], &key, &value, &negated) < 0 || negated)
                        continue;
                key_len = strlen(key);

                /* Only at the first '=' requirement of each key: is any of its values anywhere? */
                for (size_t j = 0; j < i && !any; j++)
                        any = strneq(reqs[j], key, key_len) && reqs[j][key_len] == '=';
                if (any)
                        continue;
                for (size_t j = i; j < n && !any; j++) {
                        const MetadataCount *c;

                        if (!strneq(reqs[j], key, key_len) || reqs[j][key_len] != '=')
                                continue;
                        c = hashmap_get(s->metadata_counts, reqs[j]);
                        any = c && c->count > 0;
                }
                if (any)
                        continue;

                f = open_memstream(&buf, &size);
                if (!f)
                        return -ENOMEM;
                fputs("no machine has ", f);
                for (size_t j = i; j < n; j++)
                        if (strneq(reqs[j], key, key_len) && reqs[j][key_len] == '=') {
                                fprintf(f, "%s%s", first ? "" : " or ", reqs[j]);
                                first = false;
                        }
                if (fflush(f) != 0 || ferror(f))
                        return -ENOMEM;
                f = (fclose(f), NULL);
                if (!buf)
                        return -ENOMEM;
                *ret_reason = TAKE_PTR(buf);
                return 1;
        }
        return 0;
}
