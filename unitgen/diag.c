/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>

#include "diag.h"
#include "strv.h"
#include "utf8.h"
#include "yaml-node.h"

void diag_done(Diag *d) {
        if (!d)
                return;
        d->lines = strv_free(d->lines);
        d->n_errors = d->n_warnings = 0;
}

_printf_(7, 0) static int diag_vadd(Diag *d, DiagLevel level, const char *file, unsigned line, unsigned column,
                     const char *key, const char *format, va_list ap) {
        _cleanup_free_ char *text = NULL, *line_text = NULL, *shown = NULL;
        bool error = level == DIAG_ERROR || (d && d->strict);
        int r;

        if (!d)
                return error ? -EINVAL : 0;

        if (vasprintf(&text, format, ap) < 0)
                return -ENOMEM;

        /* No position (a name from the command line or a file name): "file: key: text", not ":0:0". */
        if (line == 0)
                r = asprintf(&line_text, "%s: %s: %s%s", file ?: "-", key ?: "-", error ? "" : "warning: ", text);
        else
                r = asprintf(&line_text, "%s:%u:%u: %s: %s%s", file ?: "-", line, column, key ?: "-",
                             error ? "" : "warning: ", text);
        if (r < 0)
                return -ENOMEM;
        /* Messages quote what they refuse: a control byte in it is shown escaped, never sent to the
         * terminal (issue 12, item 11). */
        shown = utf8_escape_non_printable(line_text);
        if (!shown)
                return -ENOMEM;
        r = strv_consume(&d->lines, TAKE_PTR(shown));
        if (r < 0)
                return r;

        if (error) {
                d->n_errors++;
                return -EINVAL;
        }
        d->n_warnings++;
        return 0;
}

int diag_add_at(Diag *d, DiagLevel level, const char *file, unsigned line, unsigned column, const char *key,
                const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = diag_vadd(d, level, file, line, column, key, format, ap);
        va_end(ap);
        return r;
}

int diag_add(Diag *d, DiagLevel level, const YamlNode *at, const char *key, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = diag_vadd(d, level, at ? at->file : NULL, at ? at->line : 0, at ? at->column : 0, key, format, ap);
        va_end(ap);
        return r;
}
