/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "diag.h"
#include "interpolate.h"
#include "yaml-node.h"

/* Interpolate every scalar value (never a key) of the tree in place. Unset variables give a warning
 * each, a failed ${V:?} or a bad template an error at the scalar. Returns 0, -EINVAL, -ENOMEM. */
int compose_interpolate_tree(YamlNode *root, InterpolateLookup lookup, void *userdata, Diag *d);

/* The same for a node found at path (the dotted key its messages name). */
int compose_interpolate_at(YamlNode *n, const char *path, InterpolateLookup lookup, void *userdata, Diag *d);

/* Bring a service's list forms into their mapping forms, so that merging and converting see one
 * shape: environment/labels/annotations/sysctls ("K=V"), extra_hosts ("host:ip"), depends_on
 * (names → {condition: service_started}), networks (names → null). v1 keys (net, log_driver,
 * log_opt) get their v2 names. Returns 0, -EINVAL after a message, -ENOMEM. */
int compose_normalize_service(YamlNode *svc, const char *name, bool v1, Diag *d);

/* Replace the value of an existing key of map (value is consumed). -ENOENT if key is absent. */
int compose_replace_value(YamlNode *map, const char *key, YamlNode *value);
