/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "diag.h"
#include "macro.h"
#include "yaml-node.h"

/* Loading a compose project: every -f file is parsed (anchors and merge keys resolved), checked at
 * the top level, interpolated on its own, normalised (list forms of environment, labels,
 * depends_on, networks, ... become mappings; v1 files become "services:"), then merged into the
 * files before it by compose's rules. Then "extends" is resolved and services outside the active
 * profiles are dropped. What comes out is one tree that the converter reads. */

typedef enum ComposeVersion {
        COMPOSE_V1 = 1,         /* services at the top level, "links", "net" */
        COMPOSE_V2 = 2,
        COMPOSE_V3 = 3,
        COMPOSE_SPEC = 4,       /* no "version", or a version we treat as the specification */
} ComposeVersion;

typedef struct ComposeLoadOptions {
        char **files;                   /* file names as the user gave them, first one decides the directory */
        const char *const *contents;    /* optional: the files' contents (then nothing is read for them) */
        const size_t *sizes;            /* with contents */
        const char *project_name;       /* -p, or NULL */
        const char *project_dir;        /* NULL: the first file's directory */
        char **profiles;                /* --profile */
        char **environment;             /* "K=V" list; NULL: the process environment */
} ComposeLoadOptions;

typedef struct ComposeProject {
        char *name;
        char *dir;                      /* absolute */
        char **files;                   /* as given */
        char **env;                     /* interpolation variables: the environment over .env */
        ComposeVersion version;         /* of the first file */
        YamlNode *root;                 /* merged tree with "services", "networks", "volumes", ... */
        char **disabled;                /* services dropped because of profiles */
} ComposeProject;

/* Load and merge a project. Messages (errors and warnings) go to d. Returns 0 and the project in
 * *ret (owned by the caller), -EINVAL after an error message, -ENOMEM. */
int compose_project_load(const ComposeLoadOptions *o, ComposeProject **ret, Diag *d);

/* Free a project. Accepts NULL, returns NULL. */
ComposeProject *compose_project_free(ComposeProject *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(ComposeProject *, compose_project_free);

/* Look up a variable in the project's environment, for InterpolateLookup (userdata: ComposeProject). */
const char *compose_project_lookup(const char *name, void *userdata);

/* Make path absolute against the project directory ("~" is left to the caller). *ret owned by the
 * caller. Returns 0 or -ENOMEM. */
int compose_project_path(const ComposeProject *p, const char *path, char **ret);

/* Parse one compose file into a normalised tree (used for -f files and "extends: file:"). Exposed
 * for the tests. */
int compose_file_parse(ComposeProject *p, const char *name, const char *data, size_t size, YamlNode **ret,
                       ComposeVersion *ret_version, Diag *d);

/* Merge over into *base by compose's rules; over is consumed. Returns 0 or -ENOMEM. */
int compose_merge(YamlNode **base, YamlNode *over, const char *key);
