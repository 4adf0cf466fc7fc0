/* SPDX-License-Identifier: Apache-2.0 */

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "agent-internal.h"
#include "fileio.h"
#include "log.h"
#include "unit-name.h"

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static char *path_join2(const char *dir, const char *name) {
        char *p;

        if (asprintf(&p, "%s%s", dir, name) < 0)
                return NULL;
        return p;
}

int agent_unit_files_scan(Agent *a) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        d = opendir(a->units_dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *body = NULL;
                AgentUnit *u;

                if (!unit_name_is_valid(de->d_name) || unit_name_is_template(de->d_name))
                        continue;
                path = path_join2(a->units_dir, de->d_name);
                if (!path)
                        return -ENOMEM;
                r = read_full_file(path, &body, NULL, 0);
                if (r < 0) {
                        log_warning_errno(r, "Failed to read %s, ignoring: %m", path);
                        continue;
                }
                u = agent_unit_get_or_add(a, de->d_name);
                if (!u)
                        return -ENOMEM;
                free_and_replace(u->disk_body, body);
        }
        log_debug("Found %zu unit files in %s.", hashmap_size(a->units), a->units_dir);
        return 0;
}

bool agent_unit_file_linked(Agent *a, const char *name) {
        _cleanup_free_ char *link = NULL, *path = NULL;
        char target[PATH_MAX];
        ssize_t n;

        link = path_join2(a->link_dir, name);
        path = path_join2(a->units_dir, name);
        if (!link || !path)
                return false;
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return false;
        target[n] = 0;
        return streq(target, path);
}

int agent_unit_file_write(Agent *a, AgentUnit *u) {
        _cleanup_free_ char *path = NULL, *link = NULL, *tmp = NULL;
        const char *raw;
        int r;

        assert(u->assignment);

        raw = u->assignment->raw;
        path = path_join2(a->units_dir, u->name);
        link = path_join2(a->link_dir, u->name);
        if (!path || !link || asprintf(&tmp, "%s.fleet-tmp", link) < 0)
                return -ENOMEM;

        r = write_file_atomic(path, raw, strlen(raw), 0644, false);
        if (r < 0)
                return r;

        if (agent_unit_file_linked(a, u->name))
                return 0;
        /* Replace whatever is there in one step: a temporary link renamed over it. */
        (void) unlink(tmp);
        if (symlink(path, tmp) < 0)
                return -errno;
        if (rename(tmp, link) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int agent_unit_file_remove(Agent *a, const char *name) {
        _cleanup_free_ char *path = NULL, *link = NULL;
        bool removed = false;

        path = path_join2(a->units_dir, name);
        link = path_join2(a->link_dir, name);
        if (!path || !link)
                return -ENOMEM;

        /* Only our own link: a unit of the same name that someone else installed stays. */
        if (agent_unit_file_linked(a, name)) {
                if (unlink(link) < 0 && errno != ENOENT)
                        return -errno;
                removed = true;
        }
        if (unlink(path) < 0) {
                if (errno != ENOENT)
                        return -errno;
        } else
                removed = true;
        return removed;
}
