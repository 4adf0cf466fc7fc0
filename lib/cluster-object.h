/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Secrets and configs as cluster objects (issue 15), as docker swarm has them: a named value
 * stored in the registry, mounted into the containers of the units that refer to it on whichever
 * machine runs them. This module is pure: names, limits, the etcd keys, the record and the
 * references a unit makes in [X-Fleet]. Sealing secret values is cluster-key.h's.
 *
 * Keys, under the registry prefix P (registry.h):
 *
 *   P secrets/<name>    ClusterObject  value sealed with the cluster key (key id, nonce, data)
 *   P configs/<name>    ClusterObject  value in clear (base64 in the record)
 *
 * A unit refers to them in [X-Fleet] (xfleet.h):
 *
 *   Secret=NAME [target=T] [uid=N] [gid=N] [mode=0NNN] [digest=HEX]
 *   Config=NAME [target=T] [uid=N] [gid=N] [mode=0NNN] [digest=HEX]
 *
 * and the agent materialises each under CLUSTER_OBJECTS_DIR/<unit>/<kind>s/<name> (tmpfs) before
 * the unit starts; the unit (unitgen's podman run) bind-mounts that file at the target. */

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define CLUSTER_OBJECTS_DIR "/run/fleet/objects"

/* swarm's names: 1..64 characters of [A-Za-z0-9_.-], beginning and ending alphanumeric. */
#define CLUSTER_OBJECT_NAME_MAX 64U
/* swarmkit's limit for secrets (MaxSecretSize, 500 KiB); configs get the same rather than swarm's
 * 1000 KiB, because the record holds the value in base64 and etcd refuses requests over 1.5 MiB. */
#define CLUSTER_OBJECT_SIZE_MAX (500U * 1024U)

typedef enum ClusterObjectKind {
        CLUSTER_OBJECT_SECRET,
        CLUSTER_OBJECT_CONFIG,
        _CLUSTER_OBJECT_KIND_MAX,
        _CLUSTER_OBJECT_KIND_INVALID = -EINVAL,
} ClusterObjectKind;

/* "secret", "config"; NULL for an invalid kind. */
const char *cluster_object_kind_to_string(ClusterObjectKind k) _const_;
ClusterObjectKind cluster_object_kind_from_string(const char *s) _pure_;

/* Whether name is a valid object name. cluster_object_name_check() says why not, in a sentence
 * naming the kind and the name (-EINVAL; -ENOMEM). */
bool cluster_object_name_is_valid(const char *name) _pure_;
int cluster_object_name_check(ClusterObjectKind kind, const char *name, char **ret_error);

/* -EFBIG with a message naming the object, the size and the limit when size is over
 * CLUSTER_OBJECT_SIZE_MAX; 0 otherwise. */
int cluster_object_size_check(ClusterObjectKind kind, const char *name, size_t size, char **ret_error);

/* P secrets/<name> or P configs/<name>; the *_prefix() form with an empty name (ending in '/').
 * malloc'd, NULL on OOM. prefix must end in '/'. */
char *cluster_object_key(const char *prefix, ClusterObjectKind kind, const char *name);
char *cluster_objects_prefix(const char *prefix, ClusterObjectKind kind);

/* The record under the key. */
typedef struct ClusterObject {
        ClusterObjectKind kind;         /* from the key, not stored */
        char *name;
        uint64_t size;                  /* bytes of the value */
        char *digest;                   /* cluster_key_digest(): keyed for secrets, plain for configs */
        uint64_t created_usec;          /* CLOCK_REALTIME */
        uint64_t updated_usec;
        char *key_id;                   /* secrets: the sealing key's id; configs: NULL */
        char *nonce;                    /* secrets: base64 nonce; configs: NULL */
        char *data;                     /* base64: the sealed value (secrets), the value (configs) */
} ClusterObject;

ClusterObject *cluster_object_free(ClusterObject *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(ClusterObject *, cluster_object_free);

/* Compact JSON, keys in a fixed order. -EINVAL when a secret lacks key_id/nonce or a config has
 * them, or the name is invalid; -ENOMEM. */
int cluster_object_to_json(const ClusterObject *o, char **ret);
/* Strict decoding, as registry records: -EBADMSG for unknown or missing keys, wrong types, a name
 * that is not valid, a secret without its key id and nonce or a config with them. */
int cluster_object_from_json(ClusterObjectKind kind, const char *json, size_t size, ClusterObject **ret);

/* A config's value from its record (base64-decoded), malloc'd and NUL-terminated. -EBADMSG for bad
 * base64 or a size that differs from the record's; -EINVAL for a secret; -ENOMEM. */
int cluster_object_config_value(const ClusterObject *o, char **ret, size_t *ret_size);
/* base64 (original variant) of value, for a config's record. NULL on OOM. */
char *cluster_object_encode(const void *value, size_t size);

/* A unit's reference to an object. */
typedef struct ClusterObjectRef {
        ClusterObjectKind kind;
        char *name;
        char *target;                   /* as given, or NULL: cluster_object_ref_container_path() */
        uid_t uid;                      /* default 0 */
        gid_t gid;                      /* default 0 */
        mode_t mode;                    /* default 0444, as docker */
        char *digest;                   /* or NULL: the version compose up made the unit for (a prefix
                                         * of the record's digest, lowercase hex). Only there so that a
                                         * changed value changes the unit's text and compose up rolls
                                         * it; the agent always materialises the current value. */
} ClusterObjectRef;

void cluster_object_ref_done(ClusterObjectRef *r);

/* Parse an [X-Fleet] Secret=/Config= value: "NAME [target=T] [uid=N] [gid=N] [mode=0NNN] [digest=HEX]"
 * (HEX: 8..64 lowercase hex digits). The
 * target is a path without "..", ',' ':' or whitespace; mode at most 0777. Returns 0, -EINVAL with
 * a message naming the option and the bad part, -ENOMEM. */
int cluster_object_ref_parse(ClusterObjectKind kind, const char *value, ClusterObjectRef *ret, char **ret_error);
/* The canonical value for r (options only where not the default). malloc'd, NULL on OOM. */
char *cluster_object_ref_format(const ClusterObjectRef *r);

/* Where the file appears in the container: secrets at /run/secrets/<target or name> (an absolute
 * target as it is), configs at /<name> or their target (made absolute). malloc'd, NULL on OOM. */
char *cluster_object_ref_container_path(const ClusterObjectRef *r);
/* Where the agent materialises it for unit: CLUSTER_OBJECTS_DIR/<unit>/<kind>s/<name>. */
char *cluster_object_ref_host_path(const ClusterObjectRef *r, const char *unit);
/* CLUSTER_OBJECTS_DIR/<unit>: removed with everything in it when the unit goes. */
char *cluster_object_unit_dir(const char *unit);

/* A new record for value (size bytes, checked against the limit): a secret's sealed with keyring
 * (cluster_key_seal(), keyed digest), a config's in clear (keyring unused, may be NULL). created
 * and updated are now_usec. Returns 0; -EFBIG (with a message) for an oversized value; -EINVAL
 * (with a message) for a bad name or a secret without a keyring; -ENOMEM. */
typedef struct ClusterKeyring ClusterKeyring;
int cluster_object_build(ClusterObjectKind kind, const char *name, const void *value, size_t size,
                         const ClusterKeyring *keyring, uint64_t now_usec, ClusterObject **ret, char **ret_error);

/* The names of the objects of kind that a unit's [X-Fleet] refers to (Secret=/Config=), from the
 * unit's text; unit_name expands specifiers (NULL for a template, whose values are taken as they
 * are). A unit that does not parse refers to nothing. Returns 0 (*ret NULL when none), -ENOMEM. */
int cluster_object_unit_refs(const char *raw, const char *unit_name, ClusterObjectKind kind,
                             ClusterObjectRef **ret, size_t *ret_n);
/* The same from a parsed unit (the agent has it parsed already). */
typedef struct UnitFile UnitFile;
int cluster_object_unit_file_refs(const UnitFile *f, const char *unit_name, ClusterObjectKind kind,
                                  ClusterObjectRef **ret, size_t *ret_n);
void cluster_object_refs_free(ClusterObjectRef *refs, size_t n);
