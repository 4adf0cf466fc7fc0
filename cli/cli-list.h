/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The three listings, formatted from a registry snapshot: fleet's tables (table.h), exactly as
 * fleetctl printed them, or JSON for scripts. Pure: no etcd, no output. */

#include "cluster.h"

typedef enum OutputMode {
        OUTPUT_TABLE,
        OUTPUT_JSON,
        _OUTPUT_MODE_MAX,
        _OUTPUT_MODE_INVALID = -EINVAL,
} OutputMode;

typedef struct ListOptions {
        char **fields;                  /* column names, in order; NULL: the command's defaults */
        bool full;                      /* full machine ids and hashes */
        bool legend;                    /* the header line */
        OutputMode mode;
        char *const *only;              /* list only these units (NULL: all) */
} ListOptions;

/* Parse a --fields value ("unit,hash,...") against the names a command knows. Returns 0 and a new
 * strv; -EINVAL for an empty list or an unknown name (*ret_bad then borrows it from the new
 * vector's source, a static "" for an empty list); -ENOMEM. */
int list_parse_fields(const char *spec, char *const *valid, char ***ret, const char **ret_bad);

/* The field names each listing knows, and its default columns. */
extern char *const list_units_fields[];
extern char *const list_units_default[];
extern char *const list_unit_files_fields[];
extern char *const list_unit_files_default[];
extern char *const list_machines_fields[];
extern char *const list_machines_default[];

/* Output format names: "table", "json". */
OutputMode output_mode_from_string(const char *s) _pure_;

/* Format a listing into a malloc'd string (*ret). Returns 0 or -ENOMEM.
 *   list-units:      one row per unit state an agent reports (sorted by unit, then machine);
 *   list-unit-files: one row per unit (sorted); without explicit fields, a REASON column is added
 *                    when some unit is not placed and the leader said why;
 *   list-machines:   one row per machine (sorted by id). */
int list_units_format(const ClusterSnapshot *s, const ListOptions *o, char **ret);
int list_unit_files_format(const ClusterSnapshot *s, const ListOptions *o, char **ret);
int list_machines_format(const ClusterSnapshot *s, const ListOptions *o, char **ret);
