/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Secrets and configs in the cluster, for fleetctl's secret/config verbs and compose up: reading,
 * writing and removing the records of cluster-object.h in etcd, each write one transaction guarded
 * by the revision it was decided on, so nothing is ever half-written or lost to a race. */

#include "cluster-object.h"
#include "etcd-client.h"

/* The record of kind/name and its mod revision (optional). Returns 0, -ENOENT, -EBADMSG for a
 * malformed record or one under a key of another name, or the etcd error. */
int objects_get(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, ClusterObject **ret,
                int64_t *ret_mod_revision);

/* Every record of kind, sorted by name. Malformed records are skipped and counted in *ret_n_bad
 * (optional). Returns 0 or a negative errno. */
int objects_list(EtcdClient *c, const char *prefix, ClusterObjectKind kind, ClusterObject ***ret, size_t *ret_n,
                 size_t *ret_n_bad);
void objects_list_free(ClusterObject **l, size_t n);

/* Create o (docker's create): -EEXIST when an object of that name exists. Returns 0 or a negative
 * errno. */
int objects_create(EtcdClient *c, const char *prefix, const ClusterObject *o);

/* Create o, or replace the existing object of its name when its digest differs (compose up);
 * keeps the existing created time. Returns 1 when written, 0 when the stored value is the same (not
 * rewritten), -EAGAIN when it changed under us, or a negative errno. */
int objects_ensure(EtcdClient *c, const char *prefix, const ClusterObject *o);

/* The submitted units (sorted) that refer to kind/name in [X-Fleet]. Returns 0 (*ret may be an
 * empty strv) or a negative errno. */
int objects_users(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret);

/* Remove kind/name, unless a submitted unit refers to it: then -EBUSY with the units in
 * *ret_users. -ENOENT when it does not exist. The check and the delete are one transaction: it
 * deletes only if the record is the one checked and no unit was written since the units were read
 * (a range compare over P units/), so a unit submitted in between is never left referring to a
 * deleted object; when one was, it reads again (a few times, then -EAGAIN). */
int objects_remove(EtcdClient *c, const char *prefix, ClusterObjectKind kind, const char *name, char ***ret_users);

/* compose up's objects (issue 15): manifest is what `unitgen --objects` wrote (a JSON array of
 * {"kind","name","where"} with "external":true or the value in base64). First every external
 * object must exist: -ENOENT with a message naming the compose file, line and key of the first that
 * does not, and nothing written. Then each other object is created, or rewritten when its value
 * changed (objects_ensure(); load_keyring is called once, when there is a secret to seal). Last,
 * each Secret=/Config= reference in [X-Fleet] of the n_units unit texts units (each replaced by a
 * new malloc'd text when it changes) gets digest=<the first 16 hex digits of the object's digest>,
 * so that a changed value changes the unit's text and compose up rolls the units that use it.
 * Returns the number of objects written, or a negative errno with a message in *ret_error (not for -ENOMEM, nor when load_keyring failed: it logs). */
int objects_compose_up(EtcdClient *c, const char *prefix, const char *manifest, size_t size,
                       int (*load_keyring)(ClusterKeyring **ret), char **units, size_t n_units, char **ret_error);
