/* SPDX-License-Identifier: Apache-2.0 */

#include <limits.h>
#include <stdio.h>

#include "cluster.h"
#include "etcd-sync.h"
#include "log.h"
#include "strv.h"
#include "unit-file.h"
#include "utf8.h"
#include "xfleet.h"

#define SET_DESIRED_TRIES 16

enum {
        SECTION_UNITS,
        SECTION_MACHINES,
        SECTION_SCHEDULE,
        SECTION_STATES,
        SECTION_REASONS,
        SECTION_CORDONS,
        _SECTION_MAX,
};

static char *(*const section_prefix[_SECTION_MAX])(const char *) = {
        [SECTION_UNITS] = registry_units_prefix,
        [SECTION_MACHINES] = registry_machines_prefix,
        [SECTION_SCHEDULE] = registry_schedule_prefix,
        [SECTION_STATES] = registry_states_prefix,
        [SECTION_REASONS] = registry_reasons_prefix,
        [SECTION_CORDONS] = registry_cordons_prefix,
};

typedef struct Loader {
        const char *prefix;
        ClusterSnapshot *snapshot;
} Loader;

ClusterSnapshot *cluster_snapshot_free(ClusterSnapshot *s) {
        if (!s)
                return NULL;
        hashmap_free(s->unit_by_name);
        hashmap_free(s->machine_by_id);
        for (size_t i = 0; i < s->n_units; i++) {
                registry_unit_free(s->units[i].unit);
                free(s->units[i].description);
        }
        free(s->units);
        for (size_t i = 0; i < s->n_machines; i++)
                registry_machine_free(s->machines[i]);
        free(s->machines);
        for (size_t i = 0; i < s->n_assignments; i++) {
                free(s->assignments[i].machine_id);
                registry_assignment_free(s->assignments[i].assignment);
        }
        free(s->assignments);
        for (size_t i = 0; i < s->n_states; i++)
                registry_unit_state_free(s->states[i]);
        free(s->states);
        for (size_t i = 0; i < s->n_reasons; i++) {
                free(s->reasons[i].unit);
                free(s->reasons[i].text);
        }
        free(s->reasons);
        for (size_t i = 0; i < s->n_cordons; i++)
                free(s->cordons[i].machine_id);
        free(s->cordons);
        for (size_t i = 0; i < s->n_problems; i++) {
                free(s->problems[i].key);
                free(s->problems[i].unit);
                free(s->problems[i].what);
        }
        free(s->problems);
        return mfree(s);
}

int cluster_unit_describe(const char *raw, bool *ret_global, char **ret_description) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_(unit_file_freep) UnitFile *u = NULL;
        _cleanup_free_ char *d = NULL;
        const char *desc;
        int r;

        r = unit_file_parse(raw, strlen(raw), &u, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;

        /* Global as the unit model reads it; an [X-Fleet] that does not parse places nothing. */
        r = xfleet_options_parse(u, NULL, &x, NULL);
        if (r == -ENOMEM)
                return r;
        desc = unit_file_get_last(u, "Unit", "Description");
        if (ret_description && !isempty(desc)) {
                d = strdup(desc);
                if (!d)
                        return -ENOMEM;
        }

        if (ret_global)
                *ret_global = x && x->global;
        if (ret_description)
                *ret_description = TAKE_PTR(d);
        return 0;
}

/* Note that the record at kv does not decode: what is printf-style. Returns 0 or -ENOMEM. */
_printf_(3, 4)
static int load_problem(Loader *l, const EtcdKeyValue *kv, const char *what, ...) {
        _cleanup_free_ char *a = NULL, *b = NULL, *key = NULL, *text = NULL;
        ClusterSnapshot *s = l->snapshot;
        const char *unit = NULL;
        va_list ap;
        int r, t;

        t = registry_parse_key(l->prefix, kv->key, &a, &b);
        if (t == -ENOMEM)
                return t;
        if (t == REGISTRY_KEY_UNIT || t == REGISTRY_KEY_STATE || t == REGISTRY_KEY_REASON)
                unit = a;
        else if (t == REGISTRY_KEY_ASSIGNMENT)
                unit = b;

        va_start(ap, what);
        r = vasprintf(&text, what, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        key = strdup(kv->key);
        if (!key || !GREEDY_REALLOC(s->problems, s->problems_allocated, s->n_problems + 1))
                return -ENOMEM;
        s->problems[s->n_problems] = (ClusterProblem) {
                .key = TAKE_PTR(key),
                .key_type = t,
                .unit = unit ? strdup(unit) : NULL,
                .what = TAKE_PTR(text),
                .mod_revision = kv->mod_revision,
        };
        if (unit && !s->problems[s->n_problems].unit) {
                free(s->problems[s->n_problems].key);
                free(s->problems[s->n_problems].what);
                return -ENOMEM;
        }
        s->n_problems++;
        log_debug("Malformed record %s: %s", kv->key, s->problems[s->n_problems - 1].what);
        return 0;
}

#define MALFORMED "not a %s record fleet can read (not JSON, or a field missing, of the wrong type or invalid)"

static int load_unit(Loader *l, const EtcdKeyValue *kv) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_free_ char *name = NULL, *description = NULL;
        ClusterSnapshot *s = l->snapshot;
        bool global = false;
        int r;

        r = registry_unit_from_json(kv->value, kv->value_size, &u);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_problem(l, kv, MALFORMED, "unit");
        r = registry_parse_key(l->prefix, kv->key, &name, NULL);
        if (r == -ENOMEM)
                return r;
        if (r != REGISTRY_KEY_UNIT || !streq(name, u->name))
                return load_problem(l, kv, "a unit record naming another unit, %s", u->name);

        r = cluster_unit_describe(u->raw, &global, &description);
        if (r == -ENOMEM)
                return r;

        if (!GREEDY_REALLOC(s->units, s->units_allocated, s->n_units + 1))
                return -ENOMEM;
        s->units[s->n_units++] = (ClusterUnit) {
                .unit = TAKE_PTR(u),
                .mod_revision = kv->mod_revision,
                .global = global,
                .description = TAKE_PTR(description),
        };
        return 0;
}

static int load_machine(Loader *l, const EtcdKeyValue *kv) {
        _cleanup_(registry_machine_freep) RegistryMachine *m = NULL;
        _cleanup_free_ char *id = NULL;
        ClusterSnapshot *s = l->snapshot;
        int r;

        r = registry_machine_from_json(kv->value, kv->value_size, &m);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_problem(l, kv, MALFORMED, "machine");
        r = registry_parse_key(l->prefix, kv->key, &id, NULL);
        if (r == -ENOMEM)
                return r;
        if (r != REGISTRY_KEY_MACHINE || !streq(id, m->id))
                return load_problem(l, kv, "a machine record naming another machine, %s", m->id);

        if (!GREEDY_REALLOC(s->machines, s->machines_allocated, s->n_machines + 1))
                return -ENOMEM;
        s->machines[s->n_machines++] = TAKE_PTR(m);
        return 0;
}

static int load_assignment(Loader *l, const EtcdKeyValue *kv) {
        _cleanup_(registry_assignment_freep) RegistryAssignment *a = NULL;
        _cleanup_free_ char *id = NULL, *unit = NULL;
        ClusterSnapshot *s = l->snapshot;
        int r;

        r = registry_assignment_from_json(kv->value, kv->value_size, &a);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_problem(l, kv, MALFORMED, "placement");
        r = registry_parse_key(l->prefix, kv->key, &id, &unit);
        if (r == -ENOMEM)
                return r;
        if (r != REGISTRY_KEY_ASSIGNMENT || !streq(unit, a->unit))
                return load_problem(l, kv, "a placement naming another unit, %s", a->unit);

        if (!GREEDY_REALLOC(s->assignments, s->assignments_allocated, s->n_assignments + 1))
                return -ENOMEM;
        s->assignments[s->n_assignments++] = (ClusterAssignment) {
                .machine_id = TAKE_PTR(id),
                .assignment = TAKE_PTR(a),
        };
        return 0;
}

static int load_state(Loader *l, const EtcdKeyValue *kv) {
        _cleanup_(registry_unit_state_freep) RegistryUnitState *st = NULL;
        _cleanup_free_ char *id = NULL, *unit = NULL;
        ClusterSnapshot *s = l->snapshot;
        int r;

        r = registry_unit_state_from_json(kv->value, kv->value_size, &st);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_problem(l, kv, MALFORMED, "unit state");
        r = registry_parse_key(l->prefix, kv->key, &unit, &id);
        if (r == -ENOMEM)
                return r;
        if (r != REGISTRY_KEY_STATE || !streq(unit, st->unit) || !streq(id, st->machine_id))
                return load_problem(l, kv, "a unit state naming another unit or machine, %s on %s", st->unit,
                                    st->machine_id);

        if (!GREEDY_REALLOC(s->states, s->states_allocated, s->n_states + 1))
                return -ENOMEM;
        s->states[s->n_states++] = TAKE_PTR(st);
        return 0;
}

static int load_reason(Loader *l, const EtcdKeyValue *kv) {
        _cleanup_free_ char *unit = NULL, *text = NULL;
        ClusterSnapshot *s = l->snapshot;
        int r;

        r = registry_parse_key(l->prefix, kv->key, &unit, NULL);
        if (r == -ENOMEM)
                return r;
        if (r != REGISTRY_KEY_REASON || strlen(kv->value) != kv->value_size)
                return load_problem(l, kv, "a reason with a NUL byte in it");
        text = strdup(kv->value);
        if (!text)
                return -ENOMEM;
        /* A reason is shown on one line. */
        for (char *p = text; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t')
                        *p = ' ';

        if (!GREEDY_REALLOC(s->reasons, s->reasons_allocated, s->n_reasons + 1))
                return -ENOMEM;
        s->reasons[s->n_reasons++] = (ClusterReason) { .unit = TAKE_PTR(unit), .text = TAKE_PTR(text) };
        return 0;
}

static int load_cordon(Loader *l, const EtcdKeyValue *kv) {
        _cleanup_free_ char *id = NULL;
        ClusterSnapshot *s = l->snapshot;
        RegistryCordon mode;
        int r;

        r = registry_parse_key(l->prefix, kv->key, &id, NULL);
        if (r == -ENOMEM)
                return r;
        mode = registry_cordon_from_string(kv->value, kv->value_size);
        if (r != REGISTRY_KEY_CORDON || mode < 0)
                return load_problem(l, kv, "a cordon that is neither \"cordoned\" nor \"drained\"");

        if (!GREEDY_REALLOC(s->cordons, s->cordons_allocated, s->n_cordons + 1))
                return -ENOMEM;
        s->cordons[s->n_cordons++] = (ClusterCordon) { .machine_id = TAKE_PTR(id), .mode = mode };
        return 0;
}

ClusterSnapshot *cluster_snapshot_new(void) {
        return new0(ClusterSnapshot, 1);
}

int cluster_snapshot_add(ClusterSnapshot *s, const char *prefix, const EtcdKeyValue *kv) {
        Loader l = { .prefix = prefix, .snapshot = s };
        int r;

        assert(s);
        assert(!s->unit_by_name);
        assert(kv);

        r = registry_parse_key(prefix, kv->key, NULL, NULL);
        switch (r) {
        case REGISTRY_KEY_UNIT:
                return load_unit(&l, kv);
        case REGISTRY_KEY_MACHINE:
                return load_machine(&l, kv);
        case REGISTRY_KEY_ASSIGNMENT:
                return load_assignment(&l, kv);
        case REGISTRY_KEY_STATE:
                return load_state(&l, kv);
        case REGISTRY_KEY_REASON:
                return load_reason(&l, kv);
        case REGISTRY_KEY_CORDON:
                return load_cordon(&l, kv);
        case -ENOMEM:
                return r;
        default:
                log_debug("Ignoring key %s", kv->key);
                return 0;
        }
}

static int unit_cmp(const void *a, const void *b) {
        return strcmp(((const ClusterUnit *) a)->unit->name, ((const ClusterUnit *) b)->unit->name);
}

static int machine_cmp(const void *a, const void *b) {
        return strcmp((*(RegistryMachine *const *) a)->id, (*(RegistryMachine *const *) b)->id);
}

static int assignment_cmp(const void *a, const void *b) {
        const ClusterAssignment *x = a, *y = b;
        int c = strcmp(x->assignment->unit, y->assignment->unit);

        return c != 0 ? c : strcmp(x->machine_id, y->machine_id);
}

static int state_cmp(const void *a, const void *b) {
        const RegistryUnitState *x = *(RegistryUnitState *const *) a, *y = *(RegistryUnitState *const *) b;
        int c = strcmp(x->unit, y->unit);

        return c != 0 ? c : strcmp(x->machine_id, y->machine_id);
}

static int reason_cmp(const void *a, const void *b) {
        return strcmp(((const ClusterReason *) a)->unit, ((const ClusterReason *) b)->unit);
}

int cluster_snapshot_seal(ClusterSnapshot *s) {
        int r;

        if (s->units)
                qsort(s->units, s->n_units, sizeof(ClusterUnit), unit_cmp);
        if (s->machines)
                qsort(s->machines, s->n_machines, sizeof(RegistryMachine *), machine_cmp);
        if (s->assignments)
                qsort(s->assignments, s->n_assignments, sizeof(ClusterAssignment), assignment_cmp);
        if (s->states)
                qsort(s->states, s->n_states, sizeof(RegistryUnitState *), state_cmp);
        if (s->reasons)
                qsort(s->reasons, s->n_reasons, sizeof(ClusterReason), reason_cmp);

        s->unit_by_name = hashmap_new();
        s->machine_by_id = hashmap_new();
        if (!s->unit_by_name || !s->machine_by_id)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_units; i++) {
                r = hashmap_put(s->unit_by_name, s->units[i].unit->name, &s->units[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_machines; i++) {
                r = hashmap_put(s->machine_by_id, s->machines[i]->id, s->machines[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int snapshot_add_page(const EtcdResponse *page, void *userdata) {
        Loader *l = userdata;
        int r;

        for (size_t i = 0; i < page->n_kvs; i++) {
                r = cluster_snapshot_add(l->snapshot, l->prefix, &page->kvs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every section in pages bounded by size (a few huge units must not make one reply too large to
 * read), all at the revision of the first page: one consistent view. */
static int snapshot_load_once(EtcdClient *c, const char *prefix, ClusterSnapshot **ret) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        int r;

        s = cluster_snapshot_new();
        if (!s)
                return -ENOMEM;

        for (size_t i = 0; i < _SECTION_MAX; i++) {
                _cleanup_free_ char *key = section_prefix[i](prefix);
                Loader l = { .prefix = prefix, .snapshot = s };
                EtcdPager pager;

                if (!key)
                        return -ENOMEM;
                r = etcd_pager_init(&pager, key, NULL, 0, s->revision);
                if (r < 0)
                        return r;
                r = etcd_sync_list(c, &pager, snapshot_add_page, &l);
                if (r >= 0 && s->revision == 0)
                        s->revision = pager.revision;
                etcd_pager_done(&pager);
                if (r < 0)
                        return r;
        }

        r = cluster_snapshot_seal(s);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

int cluster_snapshot_load(EtcdClient *c, const char *prefix, ClusterSnapshot **ret) {
        int r;

        assert(c);
        assert(prefix);
        assert(ret);

        /* A compaction between the pages took their revision away: read again at a newer one. */
        for (unsigned try = 0;; try++) {
                r = snapshot_load_once(c, prefix, ret);
                if (r != -ESTALE || try >= 2)
                        return r;
        }
}

ClusterUnit *cluster_snapshot_unit(const ClusterSnapshot *s, const char *name) {
        return hashmap_get(s->unit_by_name, name);
}

RegistryMachine *cluster_snapshot_machine(const ClusterSnapshot *s, const char *id) {
        return id ? hashmap_get(s->machine_by_id, id) : NULL;
}

int cluster_snapshot_find_machine(const ClusterSnapshot *s, const char *id, RegistryMachine **ret) {
        RegistryMachine *found = NULL;

        assert(s);
        assert(ret);

        if (isempty(id))
                return -ENOENT;
        for (size_t i = 0; i < s->n_machines; i++)
                if (startswith(s->machines[i]->id, id)) {
                        if (found)
                                return -ENOTUNIQ;
                        found = s->machines[i];
                }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

ClusterAssignment *cluster_snapshot_assignment(const ClusterSnapshot *s, const char *unit) {
        size_t lo = 0, hi = s->n_assignments;

        /* The first assignment of unit, by binary search on the (unit, machine) order. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(s->assignments[mid].assignment->unit, unit) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < s->n_assignments && streq(s->assignments[lo].assignment->unit, unit))
                return &s->assignments[lo];
        return NULL;
}

RegistryUnitState *cluster_snapshot_state(const ClusterSnapshot *s, const char *unit,
                                          const char *machine_id) {
        size_t lo = 0, hi = s->n_states;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(s->states[mid]->unit, unit);

                if (c == 0)
                        c = strcmp(s->states[mid]->machine_id, machine_id);
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < s->n_states && streq(s->states[lo]->unit, unit) &&
            streq(s->states[lo]->machine_id, machine_id))
                return s->states[lo];
        return NULL;
}

const char *cluster_snapshot_reason(const ClusterSnapshot *s, const char *unit) {
        for (size_t i = 0; i < s->n_reasons; i++)
                if (streq(s->reasons[i].unit, unit))
                        return s->reasons[i].text;
        /* Placed, but its machine's agent refused it (a local unit has the name, say). */
        for (size_t i = 0; i < s->n_states; i++)
                if (streq(s->states[i]->unit, unit) && s->states[i]->reason)
                        return s->states[i]->reason;
        return NULL;
}

const ClusterProblem *cluster_snapshot_unit_problem(const ClusterSnapshot *s, const char *unit) {
        for (size_t i = 0; i < s->n_problems; i++)
                if (s->problems[i].key_type == REGISTRY_KEY_UNIT && streq_ptr(s->problems[i].unit, unit))
                        return &s->problems[i];
        return NULL;
}

const char *cluster_snapshot_current_state(const ClusterSnapshot *s, const ClusterUnit *u) {
        ClusterAssignment *a;
        RegistryUnitState *st;

        if (u->global)
                return NULL;
        a = cluster_snapshot_assignment(s, u->unit->name);
        if (!a)
                return "inactive";
        st = cluster_snapshot_state(s, u->unit->name, a->machine_id);
        if (!st)
                return "inactive";
        if (a->assignment->desired == UNIT_DESIRED_LAUNCHED &&
            unit_active_state_is_running(unit_active_state_from_string(st->active_state)))
                return "launched";
        return "loaded";
}

int cluster_unit_get(EtcdClient *c, const char *prefix, const char *name, RegistryUnit **ret,
                     int64_t *ret_mod_revision) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_free_ char *key = NULL;
        int r;

        assert(ret);

        key = registry_unit_key(prefix, name);
        if (!key)
                return -ENOMEM;
        r = etcd_sync_range(c, &(EtcdRangeOptions) { .key = key }, &resp);
        if (r < 0)
                return r;
        if (resp->n_kvs == 0)
                return -ENOENT;
        r = registry_unit_from_json(resp->kvs[0].value, resp->kvs[0].value_size, &u);
        if (r < 0)
                return r;
        if (!streq(u->name, name))
                return -EBADMSG;

        if (ret_mod_revision)
                *ret_mod_revision = resp->kvs[0].mod_revision;
        *ret = TAKE_PTR(u);
        return 0;
}

static int units_write_chunk(EtcdClient *c, const char *prefix, const ClusterUnitWrite *writes, size_t n) {
        _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
        _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
        int r;

        r = etcd_txn_new(&t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *key = NULL, *json = NULL;

                key = registry_unit_key(prefix, writes[i].unit->name);
                if (!key)
                        return -ENOMEM;
                r = registry_unit_to_json(writes[i].unit, &json);
                if (r < 0)
                        return r;
                r = etcd_txn_compare_unchanged(t, key, writes[i].expected_mod_revision);
                if (r < 0)
                        return r;
                r = etcd_txn_put(t, true, key, json, strlen(json), 0, 0);
                if (r < 0)
                        return r;
        }

        r = etcd_sync_txn(c, t, &resp);
        if (r < 0)
                return r;
        return resp->succeeded ? 0 : -EEXIST;
}

int cluster_units_write(EtcdClient *c, const char *prefix, const ClusterUnitWrite *writes, size_t n_writes) {
        int r;

        assert(c);
        assert(writes || n_writes == 0);

        /* etcd limits a transaction to ETCD_TXN_MAX_OPS operations: larger batches go in chunks,
         * each all or nothing. */
        for (size_t i = 0; i < n_writes; i += ETCD_TXN_MAX_OPS) {
                r = units_write_chunk(c, prefix, writes + i, MIN((size_t) ETCD_TXN_MAX_OPS, n_writes - i));
                if (r < 0)
                        return r;
        }
        return 0;
}

int cluster_units_set_desired(EtcdClient *c, const char *prefix, char *const *names, UnitDesiredState desired,
                              const char **ret_missing) {
        int r;

        for (unsigned attempt = 0; attempt < SET_DESIRED_TRIES; attempt++) {
                _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
                _cleanup_free_ ClusterUnitWrite *writes = NULL;
                _cleanup_free_ RegistryUnit *copies = NULL;
                size_t n = 0, max = strv_length(names);

                r = cluster_snapshot_load(c, prefix, &s);
                if (r < 0)
                        return r;

                writes = new0(ClusterUnitWrite, max);
                copies = new0(RegistryUnit, max);
                if (!writes || !copies)
                        return -ENOMEM;

                for (size_t i = 0; i < max; i++) {
                        ClusterUnit *u = cluster_snapshot_unit(s, names[i]);

                        if (!u) {
                                if (ret_missing)
                                        *ret_missing = names[i];
                                return -ENOENT;
                        }
                        if (u->unit->desired == desired)
                                continue;
                        /* A shallow copy: the strings stay the snapshot's. */
                        copies[n] = *u->unit;
                        copies[n].desired = desired;
                        writes[n] = (ClusterUnitWrite) { .unit = &copies[n], .expected_mod_revision = u->mod_revision };
                        n++;
                }

                r = cluster_units_write(c, prefix, writes, n);
                if (r == 0)
                        return (int) MIN(n, (size_t) INT_MAX);
                if (r != -EEXIST)
                        return r;
                log_debug("Units changed while setting their desired state, retrying.");
        }
        return -EBUSY;
}

typedef struct Placements {
        const char *prefix;
        Set *names;                     /* borrowed strings */
        char **keys;                    /* the placements of names */
} Placements;

static int placements_add_page(const EtcdResponse *page, void *userdata) {
        Placements *p = userdata;
        int r;

        for (size_t i = 0; i < page->n_kvs; i++) {
                _cleanup_free_ char *unit = NULL;

                r = registry_parse_key(p->prefix, page->kvs[i].key, NULL, &unit);
                if (r == -ENOMEM)
                        return r;
                if (r != REGISTRY_KEY_ASSIGNMENT || !set_contains(p->names, unit))
                        continue;
                r = strv_extend(&p->keys, page->kvs[i].key);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Delete the placements and reasons of names (their units are gone). */
static int units_destroy_placements(EtcdClient *c, const char *prefix, char *const *names) {
        _cleanup_free_ char *schedule = registry_schedule_prefix(prefix);
        _cleanup_(set_freep) Set *wanted = set_new();
        Placements p = { .prefix = prefix, .names = wanted };
        EtcdPager pager;
        size_t n;
        int r;

        if (!schedule || !wanted)
                return -ENOMEM;
        STRV_FOREACH(name, names) {
                r = set_put(wanted, *name);
                if (r < 0)
                        return r;
        }
        r = etcd_pager_init(&pager, schedule, NULL, ETCD_KEYS_ONLY, 0);
        if (r < 0)
                return r;
        r = etcd_sync_list(c, &pager, placements_add_page, &p);
        etcd_pager_done(&pager);
        if (r >= 0)
                STRV_FOREACH(name, names) {
                        r = strv_consume(&p.keys, registry_reason_key(prefix, *name));
                        if (r < 0)
                                break;
                }
        if (r < 0) {
                strv_free(p.keys);
                return r;
        }

        n = strv_length(p.keys);
        for (size_t i = 0; i < n && r >= 0; i += ETCD_TXN_MAX_OPS) {
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;

                r = etcd_txn_new(&t);
                for (size_t j = i; r >= 0 && j < MIN(n, i + ETCD_TXN_MAX_OPS); j++)
                        r = etcd_txn_delete(t, true, p.keys[j], 0);
                if (r >= 0)
                        r = etcd_sync_txn(c, t, NULL);
        }
        strv_free(p.keys);
        return r < 0 ? r : 0;
}

int cluster_units_destroy(EtcdClient *c, const char *prefix, char *const *names, char ***ret_deleted) {
        _cleanup_strv_free_ char **deleted = NULL;
        size_t n = strv_length(names);
        int r;

        assert(ret_deleted);

        deleted = new0(char *, 1);
        if (!deleted)
                return -ENOMEM;

        for (size_t i = 0; i < n; i += ETCD_TXN_MAX_OPS) {
                _cleanup_(etcd_response_freep) EtcdResponse *resp = NULL;
                _cleanup_(etcd_txn_freep) EtcdTxn *t = NULL;
                size_t m = MIN((size_t) ETCD_TXN_MAX_OPS, n - i);

                r = etcd_txn_new(&t);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < m; j++) {
                        _cleanup_free_ char *key = registry_unit_key(prefix, names[i + j]);

                        if (!key)
                                return -ENOMEM;
                        r = etcd_txn_delete(t, true, key, 0);
                        if (r < 0)
                                return r;
                }
                r = etcd_sync_txn(c, t, &resp);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < m && j < resp->n_responses; j++)
                        if (resp->responses[j].count > 0) {
                                r = strv_extend(&deleted, names[i + j]);
                                if (r < 0)
                                        return r;
                        }
        }

        r = units_destroy_placements(c, prefix, names);
        if (r < 0)
                return r;

        *ret_deleted = TAKE_PTR(deleted);
        return 0;
}

int cluster_machine_legend(const char *id, const RegistryMachine *m, bool full, bool with_ip, char **ret) {
        _cleanup_free_ char *ip = NULL;
        char *s;
        int n;

        assert(id);
        assert(ret);

        if (with_ip && m && !isempty(m->public_ip)) {
                ip = utf8_escape_non_printable(m->public_ip);
                if (!ip)
                        return -ENOMEM;
        }
        n = asprintf(&s, "%.*s%s%s%s", full ? (int) strlen(id) : 8, id, full ? "" : "...",
                     ip ? "/" : "", strempty(ip));
        if (n < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

RegistryCordon cluster_snapshot_cordon(const ClusterSnapshot *s, const char *id) {
        /* A handful at most (machines being drained or repaired): a scan is enough. */
        for (size_t i = 0; id && i < s->n_cordons; i++)
                if (streq(s->cordons[i].machine_id, id))
                        return s->cordons[i].mode;
        return REGISTRY_CORDON_NONE;
}
