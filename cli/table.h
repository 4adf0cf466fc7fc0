/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "macro.h"

/* fleet's tables: rows of cells printed the way fleetctl prints them, through Go's text/tabwriter
 * configured as NewWriter(out, 0, 8, 1, '\t', 0): minwidth 0, tabwidth 8, padding 1, padded with
 * tabs. A column is only aligned across a run of consecutive rows that all have a cell in it, and
 * the last cell of a row is never padded (tabwriter's cells are tab-terminated). Widths count
 * UTF-8 characters, as Go counts runes. */

typedef struct Table Table;

/* A new, empty table. Returns NULL on OOM. */
Table *table_new(void);
/* Free the table and its cells. Accepts NULL, returns NULL. */
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Append a row with copies of the n_cells strings in cells (n_cells >= 1; NULL cells print as
 * "-"). Cells come from the cluster, where anyone who can write a record chooses their bytes: the
 * copies have control bytes and invalid UTF-8 escaped (utf8_escape_non_printable()), so no cell
 * can start a row or steer the terminal. Returns 0 or -ENOMEM (the table is unchanged then). */
int table_add_row(Table *t, char *const *cells, size_t n_cells);

size_t table_n_rows(const Table *t);

/* The formatted table, each row ending in '\n', as a malloc'd string in *ret ("" for an empty
 * table). Returns 0 or -ENOMEM. */
int table_format(const Table *t, char **ret);
