/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <jansson.h>

#include "cli-list.h"
#include "table.h"
#include "strv.h"
#include "xfleet.h"

char *const list_units_fields[] = { "unit", "load", "active", "sub", "machine", "hash", "health", "reason", NULL };
char *const list_units_default[] = { "unit", "machine", "active", "sub", NULL };
char *const list_unit_files_fields[] = {
        "unit", "hash", "dstate", "state", "target", "tmachine", "global", "desc", "reason", NULL,
};
char *const list_unit_files_default[] = { "unit", "hash", "dstate", "state", "target", NULL };
char *const list_machines_fields[] = {
        "machine", "ip", "metadata", "hostname", "version",
        "cpu", "memory", "resources", "cpu_reserved", "memory_reserved", "resources_reserved", "cordon", NULL,
};
char *const list_machines_default[] = { "machine", "ip", "metadata", NULL };

OutputMode output_mode_from_string(const char *s) {
        if (streq_ptr(s, "table"))
                return OUTPUT_TABLE;
        if (streq_ptr(s, "json"))
                return OUTPUT_JSON;
        return _OUTPUT_MODE_INVALID;
}

int list_parse_fields(const char *spec, char *const *valid, char ***ret, const char **ret_bad) {
        _cleanup_strv_free_ char **l = NULL;

        assert(ret);

        l = strv_split(strempty(spec), ",");
        if (!l)
                return -ENOMEM;
        if (strv_length(l) == 0) {
                if (ret_bad)
                        *ret_bad = "";
                return -EINVAL;
        }
        STRV_FOREACH(f, l)
                if (!strv_contains(valid, *f)) {
                        if (ret_bad)
                                *ret_bad = strstr(spec, *f);
                        return -EINVAL;
                }

        *ret = TAKE_PTR(l);
        return 0;
}

static const char *short_hash(const char *hash, bool full, char buf[static 8]) {
        if (isempty(hash))
                return "-";
        if (full)
                return hash;
        snprintf(buf, 8, "%.7s", hash);
        return buf;
}

typedef int (*cell_func_t)(const ClusterSnapshot *s, const void *row, const char *field, bool full,
                           char **ret);

/* Build a table of rows with fleet's shape: upper-cased header, then one line per row. */
static int format_table(const ClusterSnapshot *s, const ListOptions *o, char *const *fields,
                        const void *const *rows, size_t n_rows, cell_func_t cell, char **ret) {
        _cleanup_(table_freep) Table *t = NULL;
        size_t n = strv_length(fields);
        int r;

        t = table_new();
        if (!t)
                return -ENOMEM;

        if (o->legend) {
                _cleanup_strv_free_ char **header = strv_copy(fields);

                if (!header)
                        return -ENOMEM;
                STRV_FOREACH(h, header)
                        for (char *p = *h; *p; p++)
                                *p = (char) toupper((unsigned char) *p);
                r = table_add_row(t, header, n);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n_rows; i++) {
                _cleanup_strv_free_ char **cells = new0(char *, n + 1);

                if (!cells)
                        return -ENOMEM;
                for (size_t j = 0; j < n; j++) {
                        r = cell(s, rows[i], fields[j], o->full, &cells[j]);
                        if (r < 0)
                                return r;
                }
                r = table_add_row(t, cells, n);
                if (r < 0)
                        return r;
        }

        return table_format(t, ret);
}

static int dump_json(json_t *j, char **ret) {
        _cleanup_free_ char *s = NULL;
        char *out;

        if (!j)
                return -ENOMEM;
        s = json_dumps(j, JSON_INDENT(2));
        if (!s)
                return -ENOMEM;
        if (asprintf(&out, "%s\n", s) < 0)
                return -ENOMEM;
        *ret = out;
        return 0;
}

static json_t *json_string_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

/* ---- list-units ---- */

static int unit_state_cell(const ClusterSnapshot *s, const void *row, const char *field, bool full,
                           char **ret) {
        const RegistryUnitState *st = row;
        char buf[8];
        const char *v;

        if (streq(field, "unit"))
                v = st->unit;
        else if (streq(field, "load"))
                v = st->load_state;
        else if (streq(field, "active"))
                v = st->active_state;
        else if (streq(field, "sub"))
                v = st->sub_state;
        else if (streq(field, "hash"))
                v = short_hash(st->hash, full, buf);
        else if (streq(field, "machine"))
                return cluster_machine_legend(st->machine_id, cluster_snapshot_machine(s, st->machine_id),
                                              full, true, ret);
        else if (streq(field, "health"))
                v = unit_health_to_string(st->health);
        else if (streq(field, "reason"))
                v = st->reason ?: cluster_snapshot_reason(s, st->unit);
        else
                v = "-";

        *ret = strdup(isempty(v) ? "-" : v);
        return *ret ? 0 : -ENOMEM;
}

int list_units_format(const ClusterSnapshot *s, const ListOptions *o, char **ret) {
        json_auto_t *a = NULL;
        int r;

        assert(s);
        assert(o);
        assert(ret);

        if (o->mode == OUTPUT_TABLE) {
                _cleanup_strv_free_ char **fields = NULL;
                bool health = false;

                fields = strv_copy(o->fields ?: list_units_default);
                if (!fields)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_states; i++)
                        health = health || s->states[i]->health != UNIT_HEALTH_NONE;
                /* fleet's four columns while no unit has a healthcheck; a HEALTH column once one has. */
                if (!o->fields && health) {
                        r = strv_extend(&fields, "health");
                        if (r < 0)
                                return r;
                }
                return format_table(s, o, fields, (const void *const *) s->states, s->n_states,
                                    unit_state_cell, ret);
        }

        a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_states; i++) {
                const RegistryUnitState *st = s->states[i];
                const RegistryMachine *m = cluster_snapshot_machine(s, st->machine_id);

                if (json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:o}",
                                                       "unit", st->unit,
                                                       "machine", st->machine_id,
                                                       "ip", json_string_or_null(m ? m->public_ip : NULL),
                                                       "load", st->load_state,
                                                       "active", st->active_state,
                                                       "sub", st->sub_state,
                                                       "hash", json_string_or_null(st->hash),
                                                       "health", json_string_or_null(unit_health_to_string(st->health)),
                                                       "reason", json_string_or_null(st->reason ?: cluster_snapshot_reason(s, st->unit)))) < 0)
                        return -ENOMEM;
        }
        return dump_json(a, ret);
}

/* ---- list-unit-files ---- */

static int unit_target(const ClusterSnapshot *s, const ClusterUnit *u, bool full, char **ret) {
        ClusterAssignment *a;

        if (u->global) {
                *ret = strdup("global");
                return *ret ? 0 : -ENOMEM;
        }
        a = cluster_snapshot_assignment(s, u->unit->name);
        if (!a) {
                *ret = strdup("-");
                return *ret ? 0 : -ENOMEM;
        }
        return cluster_machine_legend(a->machine_id, cluster_snapshot_machine(s, a->machine_id), full, true,
                                      ret);
}

static int unit_file_cell(const ClusterSnapshot *s, const void *row, const char *field, bool full,
                          char **ret) {
        const ClusterUnit *u = row;
        char buf[8];
        const char *v;

        if (streq(field, "unit"))
                v = u->unit->name;
        else if (streq(field, "hash"))
                v = short_hash(u->unit->hash, full, buf);
        else if (streq(field, "dstate"))
                v = unit_desired_state_to_string(u->unit->desired);
        else if (streq(field, "state"))
                v = cluster_snapshot_current_state(s, u);
        else if (streq(field, "target") || streq(field, "tmachine"))
                return unit_target(s, u, full, ret);
        else if (streq(field, "global"))
                v = u->global ? "true" : "false";
        else if (streq(field, "desc"))
                v = u->description;
        else if (streq(field, "reason"))
                v = cluster_snapshot_reason(s, u->unit->name);
        else
                v = NULL;

        *ret = strdup(isempty(v) ? "-" : v);
        return *ret ? 0 : -ENOMEM;
}

/* Not placed, or placed and refused by its machine's agent: either way there is a reason to show. */
static bool unit_is_unplaced(const ClusterSnapshot *s, const ClusterUnit *u) {
        ClusterAssignment *a;
        RegistryUnitState *st;

        if (u->global || u->unit->desired == UNIT_DESIRED_INACTIVE || !cluster_snapshot_reason(s, u->unit->name))
                return false;
        a = cluster_snapshot_assignment(s, u->unit->name);
        if (!a)
                return true;
        st = cluster_snapshot_state(s, u->unit->name, a->machine_id);
        return st && st->reason;
}

int list_unit_files_format(const ClusterSnapshot *s, const ListOptions *o, char **ret) {
        _cleanup_free_ const void **rows = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        json_auto_t *a = NULL;
        bool unplaced = false;
        size_t n_rows = 0;
        int r;

        assert(s);
        assert(o);
        assert(ret);

        if (o->mode == OUTPUT_TABLE) {
                rows = new0(const void *, s->n_units);
                if (!rows)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_units; i++) {
                        if (o->only && !strv_contains(o->only, s->units[i].unit->name))
                                continue;
                        rows[n_rows++] = &s->units[i];
                        unplaced = unplaced || unit_is_unplaced(s, &s->units[i]);
                }

                fields = strv_copy(o->fields ?: list_unit_files_default);
                if (!fields)
                        return -ENOMEM;
                /* fleet printed nothing about a unit it could not place (#1348); we add why. */
                if (!o->fields && unplaced) {
                        r = strv_extend(&fields, "reason");
                        if (r < 0)
                                return r;
                }
                return format_table(s, o, fields, rows, n_rows, unit_file_cell, ret);
        }

        a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_units; i++) {
                const ClusterUnit *u = &s->units[i];
                ClusterAssignment *as = u->global ? NULL : cluster_snapshot_assignment(s, u->unit->name);

                if (o->only && !strv_contains(o->only, u->unit->name))
                        continue;

                if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o}",
                                                       "unit", u->unit->name,
                                                       "hash", u->unit->hash,
                                                       "dstate", unit_desired_state_to_string(u->unit->desired),
                                                       "state", json_string_or_null(cluster_snapshot_current_state(s, u)),
                                                       "target", json_string_or_null(as ? as->machine_id : NULL),
                                                       "global", u->global,
                                                       "desc", json_string_or_null(u->description),
                                                       "reason", json_string_or_null(cluster_snapshot_reason(s, u->unit->name)))) < 0)
                        return -ENOMEM;
        }
        return dump_json(a, ret);
}

/* ---- list-machines ---- */

/* A machine and what the units placed on it reserve. */
typedef struct MachineRow {
        const RegistryMachine *m;
        Resources reserved;
} MachineRow;

static int machine_index_compare(const void *key, const void *elem) {
        return strcmp(key, (*(RegistryMachine *const *) elem)->id);
}

/* Add every placed unit's reservation (its [X-Fleet] Reserve* options, from the body the
 * assignment carries) to its machine's row. A body that does not parse reserves nothing here: the
 * engine refused it at submit already. */
static int machine_rows_reserve(const ClusterSnapshot *s, MachineRow *rows) {
        int r;

        for (size_t i = 0; i < s->n_assignments; i++) {
                const ClusterAssignment *a = s->assignments + i;
                _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
                _cleanup_(unit_file_freep) UnitFile *u = NULL;
                RegistryMachine *const *found;
                MachineRow *row;

                found = bsearch(a->machine_id, s->machines, s->n_machines, sizeof(RegistryMachine *),
                                machine_index_compare);
                if (!found || !a->assignment->raw)
                        continue;
                row = rows + (found - s->machines);
                r = unit_file_parse(a->assignment->raw, strlen(a->assignment->raw), &u, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                r = xfleet_options_parse(u, a->assignment->unit, &x, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                row->reserved.cpu_milli += x->reserve.cpu_milli;
                row->reserved.memory += x->reserve.memory;
                for (size_t k = 0; k < x->reserve.n_extra; k++) {
                        r = resources_add_extra(&row->reserved, x->reserve.extra[k].name, x->reserve.extra[k].amount);
                        if (r == -ENOMEM)
                                return r;
                }
        }
        return 0;
}

static void machine_rows_free(MachineRow *rows, size_t n) {
        for (size_t i = 0; rows && i < n; i++)
                resources_done(&rows[i].reserved);
        free(rows);
}

/* "gpu=2,fpga=1", or NULL for none. */
static char *extra_join(const Resources *r) {
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < r->n_extra; i++)
                if (strv_extendf(&l, "%s=%" PRIu64, r->extra[i].name, r->extra[i].amount) < 0)
                        return NULL;
        return l ? strv_join(l, ",") : strdup("-");
}

static int resources_cell(const Resources *r, const char *what, char **ret) {
        char buf[RESOURCES_FORMAT_MAX];

        if (!r)
                *ret = strdup("-");
        else if (streq(what, "cpu"))
                *ret = strdup(resources_format_cpu(buf, sizeof(buf), r->cpu_milli));
        else if (streq(what, "memory"))
                *ret = strdup(resources_format_memory(buf, sizeof(buf), r->memory));
        else
                *ret = extra_join(r);
        return *ret ? 0 : -ENOMEM;
}

static json_t *resources_to_json(const Resources *r) {
        json_t *extra = json_object(), *o;

        if (!extra)
                return NULL;
        for (size_t i = 0; i < r->n_extra; i++)
                if (json_object_set_new(extra, r->extra[i].name, json_integer((json_int_t) r->extra[i].amount)) < 0) {
                        json_decref(extra);
                        return NULL;
                }
        o = json_pack("{s:I, s:I, s:o}", "cpu_milli", (json_int_t) r->cpu_milli, "memory", (json_int_t) r->memory,
                      "resources", extra);
        return o;
}

static int machine_cell(const ClusterSnapshot *s, const void *row, const char *field, bool full, char **ret) {
        const MachineRow *mr = row;
        const RegistryMachine *m = mr->m;
        const char *v, *what;

        if ((what = startswith(field, "cpu")) || (what = startswith(field, "memory")) ||
            (what = startswith(field, "resources"))) {
                _cleanup_free_ char *kind = strndup(field, what - field);

                if (!kind)
                        return -ENOMEM;
                if (streq(what, "_reserved"))
                        return resources_cell(&mr->reserved, kind, ret);
                return resources_cell(m->has_capacity ? &m->capacity : NULL, kind, ret);
        }
        if (streq(field, "machine"))
                return cluster_machine_legend(m->id, m, full, false, ret);
        if (streq(field, "metadata")) {
                if (strv_length(m->metadata) == 0)
                        v = NULL;
                else {
                        *ret = strv_join(m->metadata, ",");
                        return *ret ? 0 : -ENOMEM;
                }
        } else if (streq(field, "ip"))
                v = m->public_ip;
        else if (streq(field, "hostname"))
                v = m->hostname;
        else if (streq(field, "version"))
                v = m->version;
        else if (streq(field, "cordon")) {
                RegistryCordon c = cluster_snapshot_cordon(s, m->id);

                v = c == REGISTRY_CORDON_NONE ? NULL : registry_cordon_to_string(c);
        } else
                v = NULL;

        *ret = strdup(isempty(v) ? "-" : v);
        return *ret ? 0 : -ENOMEM;
}

int list_machines_format(const ClusterSnapshot *s, const ListOptions *o, char **ret) {
        _cleanup_free_ const void **ptrs = NULL;
        json_auto_t *a = NULL;
        MachineRow *rows;
        int r;

        assert(s);
        assert(o);
        assert(ret);

        rows = new0(MachineRow, s->n_machines);
        ptrs = new0(const void *, s->n_machines);
        if (!rows || !ptrs) {
                free(rows);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_machines; i++) {
                rows[i].m = s->machines[i];
                ptrs[i] = rows + i;
        }
        r = machine_rows_reserve(s, rows);
        if (r >= 0)
                r = o->mode == OUTPUT_TABLE
                            ? format_table(s, o, o->fields ?: list_machines_default, ptrs, s->n_machines, machine_cell, ret)
                            : (a = json_array()) ? 0 : -ENOMEM;
        if (r < 0 || o->mode == OUTPUT_TABLE) {
                machine_rows_free(rows, s->n_machines);
                return r;
        }

        for (size_t i = 0; i < s->n_machines; i++) {
                const RegistryMachine *m = s->machines[i];
                json_t *md = json_array(), *cap = NULL, *res = NULL;

                if (md)
                        cap = m->has_capacity ? resources_to_json(&m->capacity) : json_null();
                if (cap)
                        res = resources_to_json(&rows[i].reserved);
                if (!md || !cap || !res) {
                        json_decref(md);
                        json_decref(cap);
                        machine_rows_free(rows, s->n_machines);
                        return -ENOMEM;
                }
                STRV_FOREACH(kv, m->metadata)
                        if (json_array_append_new(md, json_string(*kv)) < 0) {
                                json_decref(md);
                                json_decref(cap);
                                json_decref(res);
                                machine_rows_free(rows, s->n_machines);
                                return -ENOMEM;
                        }
                if (json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:s}",
                                                       "machine", m->id,
                                                       "ip", json_string_or_null(m->public_ip),
                                                       "hostname", json_string_or_null(m->hostname),
                                                       "metadata", md,
                                                       "version", m->version,
                                                       "capacity", cap,
                                                       "reserved", res,
                                                       "cordon", registry_cordon_to_string(
                                                                cluster_snapshot_cordon(s, m->id)))) < 0) {
                        machine_rows_free(rows, s->n_machines);
                        return -ENOMEM;
                }
        }
        machine_rows_free(rows, s->n_machines);
        return dump_json(a, ret);
}
