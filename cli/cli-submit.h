/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Making sure units exist in the cluster before acting on them (fleet's lazyCreateUnits):
 * every argument is brace-expanded and turned into a unit name; a unit the cluster does not know
 * is read from its file, or instantiated from its template (in the cluster, or next to the file);
 * with arg_replace a known unit whose local file differs gets the new body. Everything is checked
 * before anything is written, and all writes go in one transaction: nothing is half-submitted. */

#include "etcd-client.h"
#include "macro.h"

typedef enum SubmitMode {
        SUBMIT_ONLY,                    /* submit: templates allowed */
        SUBMIT_ACTIVATE,                /* load/start: templates refused */
} SubmitMode;

/* Returns 0 and the unit names (deduplicated, in argument order) in *ret_names, and the names it
 * created in *ret_created (optional); or a negative errno after printing why on stderr. */
int cli_submit_units(EtcdClient *c, char *const *args, SubmitMode mode, char ***ret_names, char ***ret_created);
