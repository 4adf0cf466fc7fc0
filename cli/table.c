/* SPDX-License-Identifier: Apache-2.0 */

#include "table.h"
#include "fileio.h"
#include "strv.h"
#include "utf8.h"

#define TABLE_TABWIDTH 8
#define TABLE_PADDING 1

typedef struct TableRow {
        char **cells;
        size_t n_cells;
} TableRow;

struct Table {
        TableRow *rows;
        size_t n_rows;
        size_t n_allocated;
};

Table *table_new(void) {
        return new0(Table, 1);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows; i++)
                strv_free(t->rows[i].cells);
        free(t->rows);
        return mfree(t);
}

int table_add_row(Table *t, char *const *cells, size_t n_cells) {
        _cleanup_strv_free_ char **copy = NULL;

        assert(t);
        assert(n_cells >= 1);

        copy = new0(char *, n_cells + 1);
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n_cells; i++) {
                copy[i] = utf8_escape_non_printable(cells[i] ?: "-");
                if (!copy[i])
                        return -ENOMEM;
        }
        if (!GREEDY_REALLOC(t->rows, t->n_allocated, t->n_rows + 1))
                return -ENOMEM;

        t->rows[t->n_rows++] = (TableRow) { .cells = TAKE_PTR(copy), .n_cells = n_cells };
        return 0;
}

size_t table_n_rows(const Table *t) {
        return t ? t->n_rows : 0;
}

/* Go counts runes: every byte that is not a UTF-8 continuation byte starts one. */
static size_t text_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if ((*s & 0xC0) != 0x80)
                        n++;
        return n;
}

typedef struct Formatter {
        const Table *table;
        FILE *out;
        size_t *widths;                 /* the stack of widths of the enclosing column blocks */
        size_t n_widths;
} Formatter;

static void write_padding(Formatter *f, size_t textw, size_t cellw) {
        size_t n;

        /* With '\t' as the padding character the cell is widened to a multiple of the tab width
         * and filled with as many tabs as it takes to get there. */
        cellw = (cellw + TABLE_TABWIDTH - 1) / TABLE_TABWIDTH * TABLE_TABWIDTH;
        n = cellw - textw;
        for (size_t i = 0; i < (n + TABLE_TABWIDTH - 1) / TABLE_TABWIDTH; i++)
                fputc('\t', f->out);
}

static void write_lines(Formatter *f, size_t line0, size_t line1) {
        for (size_t i = line0; i < line1; i++) {
                const TableRow *row = &f->table->rows[i];

                for (size_t j = 0; j < row->n_cells; j++) {
                        fputs(row->cells[j], f->out);
                        if (j < f->n_widths)
                                write_padding(f, text_width(row->cells[j]), f->widths[j]);
                }
                fputc('\n', f->out);
        }
}

/* tabwriter's format(): find the runs of rows that have a (non-last) cell in the next column,
 * size that column to its widest cell, and recurse into the columns to its right. */
static int format_block(Formatter *f, size_t line0, size_t line1) {
        size_t column = f->n_widths;
        int r;

        for (size_t this = line0; this < line1; this++) {
                size_t width = 0;

                if (column + 1 >= f->table->rows[this].n_cells)
                        continue;

                write_lines(f, line0, this);
                line0 = this;

                for (; this < line1; this++) {
                        const TableRow *row = &f->table->rows[this];

                        if (column + 1 >= row->n_cells)
                                break;
                        width = MAX(width, text_width(row->cells[column]) + TABLE_PADDING);
                }

                f->widths[f->n_widths++] = width;
                r = format_block(f, line0, this);
                f->n_widths--;
                if (r < 0)
                        return r;
                line0 = this;
        }

        write_lines(f, line0, line1);
        return 0;
}

static int table_write(const Table *t, FILE *out) {
        _cleanup_free_ size_t *widths = NULL;
        size_t max_cells = 1;
        Formatter f;

        for (size_t i = 0; i < t->n_rows; i++)
                max_cells = MAX(max_cells, t->rows[i].n_cells);
        widths = new0(size_t, max_cells);
        if (!widths)
                return -ENOMEM;

        f = (Formatter) { .table = t, .out = out, .widths = widths };
        return format_block(&f, 0, t->n_rows);
}

int table_format(const Table *t, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        int r;

        assert(t);
        assert(ret);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = table_write(t, f);
        if (r < 0)
                return r;
        r = fflush_and_check(f);
        if (r < 0)
                return r;
        f = (fclose(f), NULL);

        *ret = TAKE_PTR(buf);
        return 0;
}
