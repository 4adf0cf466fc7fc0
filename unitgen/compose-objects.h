/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cluster secrets and configs a project's units refer to (issue 15), as the conversion found
 * them, and the manifest `unitgen --objects=FILE` writes for fleetctl compose up: each object with
 * its value, read from its file:, environment: or content:, or marked external. */

#include <stddef.h>

#include "cluster-object.h"

typedef struct ComposeObject {
        ClusterObjectKind kind;
        char *name;             /* the cluster object's name */
        char *source;           /* "file:<abs path>", "environment:<VAR>", "content", "external" */
        char *where;            /* "<file>:<line>:<column>: <secrets|configs>.<key>": the definition */
        char *value;            /* content: the text; environment: the variable's value (NULL when unset) */
} ComposeObject;

void compose_objects_free(ComposeObject *objects, size_t n);

/* Add an object unless one of the same kind and name is there. Takes nothing: strings are copied.
 * Returns 0 or -ENOMEM. */
int compose_objects_add(ComposeObject **objects, size_t *n, const ComposeObject *o);

/* The manifest: a JSON array, one member per object, {"kind","name","where","external":true} or
 * {"kind","name","where","value": base64}. A file is read here. Returns 0; -EINVAL with a message
 * naming the definition (where) for a file that cannot be read, an unset variable or a value over
 * the size limit; -ENOMEM. */
int compose_objects_manifest(const ComposeObject *objects, size_t n, char **ret_json, char **ret_error);
