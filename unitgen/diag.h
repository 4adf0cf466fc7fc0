/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Diagnostics of a conversion: every message has the shape "file:line:column: key: text" so that
 * an editor can jump to it. The library never prints them; the program does. */

typedef struct YamlNode YamlNode;

typedef enum DiagLevel {
        DIAG_WARNING,
        DIAG_ERROR,
        _DIAG_LEVEL_MAX,
        _DIAG_LEVEL_INVALID = -EINVAL,
} DiagLevel;

typedef struct Diag {
        char **lines;           /* every message, in the order they were raised */
        unsigned n_errors;
        unsigned n_warnings;
        bool strict;            /* warnings count as errors */
} Diag;

/* Free the messages (not d itself). Accepts NULL. */
void diag_done(Diag *d);

/* Record a message about node `at` (its file, line and column; NULL gives "-"; line 0 no position). key is the
 * dotted path of the offending key, e.g. "services.web.ports". A warning is recorded as an error
 * when d->strict is set. Returns -EINVAL for an error (so that callers can "return diag_error(...)"),
 * 0 for a warning, -ENOMEM if the message could not be stored. d may be NULL (nothing is kept). */
int diag_add(Diag *d, DiagLevel level, const YamlNode *at, const char *key, const char *format, ...)
        _printf_(5, 6);

/* The same, with an explicit location. */
int diag_add_at(Diag *d, DiagLevel level, const char *file, unsigned line, unsigned column, const char *key,
                const char *format, ...) _printf_(7, 8);

#define diag_error(d, at, key, ...) diag_add((d), DIAG_ERROR, (at), (key), __VA_ARGS__)
#define diag_warning(d, at, key, ...) diag_add((d), DIAG_WARNING, (at), (key), __VA_ARGS__)
