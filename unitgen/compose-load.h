/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "diag.h"
#include "macro.h"
#include "yaml-node.h"

/* Loading a compose project: every -f file is parsed (anchors and merge keys resolved), checked at
 * the top level, interpolated on its own, normalised (list forms of environment, labels,
 * depends_on, networks, ... become mappings; v1 files become "services:"), then merged into the
 * files before it by compose's rules. Then "include" brings in other applications' resources,
 * "extends" is resolved and services outside the active profiles are dropped. What comes out is one
 * tree that the converter reads. */

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
        const char *project_name_from;  /* where project_name came from, for messages (NULL: "-p") */
        const char *project_dir;        /* NULL: the first file's directory */
        char **profiles;                /* --profile */
        char **services;                /* services named on the command line: one that no active
                                         * profile enables turns its own profiles on (docker compose:
                                         * "explicitly targeted by a command") */
        char **environment;             /* "K=V" list; NULL: the process environment */
        char **env_files;               /* --env-file (each must exist, a later one wins); NULL: the
                                         * project directory's .env, if any */
        const char *wanted_by;          /* the generator's boot target: WantedBy= of the services
                                         * without x-install (NULL: no [Install] unless asked) */
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

/* Whether s is a project name docker compose accepts: lowercase letters, digits, "-" and "_",
 * starting with a letter or digit. The name is chosen by -p, then $COMPOSE_PROJECT_NAME (the
 * environment, then .env), then the last file's "name:", then the project directory's base name
 * lowercased without the other characters. */
bool compose_project_name_valid(const char *s);

/* Free a project. Accepts NULL, returns NULL. */
ComposeProject *compose_project_free(ComposeProject *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(ComposeProject *, compose_project_free);

/* Look up a variable in the project's environment, for InterpolateLookup (userdata: ComposeProject). */
const char *compose_project_lookup(const char *name, void *userdata);

/* Make path absolute against the project directory ("~" is left to the caller). *ret owned by the
 * caller. Returns 0 or -ENOMEM. */
int compose_project_path(const ComposeProject *p, const char *path, char **ret);

/* The same against any directory dir (absolute): leading "./" dropped, no other cleaning. */
int compose_path_join(const char *dir, const char *path, char **ret);

/* Read the dotenv file at path and add each of its variables that p->env does not set yet (the
 * environment, or the including project, wins). name is the file's name in messages. A missing file
 * is fine unless required. Returns 0, -EINVAL after an error message, -ENOMEM. */
int compose_project_load_env(ComposeProject *p, const char *path, const char *name, bool required, Diag *d);

#define COMPOSE_INCLUDE_DEPTH_MAX 32U

/* Apply one top-level "include" list (compose-spec 14-include.md) of a file of project p to root,
 * that file's tree: each entry (a path, or a mapping with path, project_directory and env_file,
 * all relative to p->dir) is loaded as a project of its own: its directory, its .env under p's
 * variables, its relative paths made absolute, its own includes applied; then its services,
 * networks, volumes, secrets and configs are copied into root. A name defined on both sides is an
 * error naming both files. stack holds the absolute names of the files being included (the chain
 * from the -f files); a file already on it is an include cycle. include is borrowed. Returns 0,
 * -EINVAL after an error message, -ENOMEM. */
int compose_include_apply(ComposeProject *p, YamlNode *root, YamlNode *include, char ***stack, unsigned depth,
                          Diag *d);

/* Make the relative host paths of a service loaded from a file outside the project directory
 * absolute against dir, that file's directory: the fields compose-go's ResolveRelativePaths
 * resolves, env_file, label_file, build.context and build.additional_contexts (not remote ones),
 * bind-mount sources of volumes (with the converter's warning that they must exist on every machine;
 * d may be NULL), develop.watch paths and extends.file. svc is changed in place; name is the
 * service's name for messages. fleetctl compose config applies it to the project's own files too.
 * Returns 0 or -ENOMEM. */
int compose_service_rebase(YamlNode *svc, const char *name, const char *dir, Diag *d);

/* The same for every service of a file's tree, the "file" of its top-level secrets and configs, and
 * driver_opts.device of its local volumes that bind a host directory ("o: bind"). */
int compose_tree_rebase(YamlNode *root, const char *dir, Diag *d);

/* Parse one compose file into a normalised tree (used for -f files and "extends: file:"). Exposed
 * for the tests. */
int compose_file_parse(ComposeProject *p, const char *name, const char *data, size_t size, YamlNode **ret,
                       ComposeVersion *ret_version, Diag *d);

/* Merge over into *base by compose's rules; over is consumed. Returns 0 or -ENOMEM. */
int compose_merge(YamlNode **base, YamlNode *over, const char *key);
