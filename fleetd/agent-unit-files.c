/* SPDX-License-Identifier: Apache-2.0 */

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "agent-internal.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"
#include "unit-file.h"
#include "unit-name.h"

static char *path_join2(const char *dir, const char *name) {
        char *p;

        if (asprintf(&p, "%s%s", dir, name) < 0)
                return NULL;
        return p;
}

/* An unparsable body has no [Install] section as far as we can tell; systemd will say more. */
static bool body_has_install(const char *body) {
        _cleanup_(unit_file_freep) UnitFile *f = NULL;

        if (unit_file_parse(body, strlen(body), &f, NULL) < 0)
                return false;
        return unit_file_has_section(f, "Install");
}

/* The system manager's unit search path (systemd.unit(5)), but for the link directory, where only
 * a link of ours is ours. */
static const char *const system_unit_path[] = {
        "/etc/systemd/system.control/", "/run/systemd/system.control/", "/run/systemd/transient/",
        "/run/systemd/generator.early/", "/etc/systemd/system/", "/etc/systemd/system.attached/",
        "/run/systemd/system/", "/run/systemd/system.attached/", "/run/systemd/generator/",
        "/usr/local/lib/systemd/system/", "/usr/lib/systemd/system/", "/lib/systemd/system/",
        "/run/systemd/generator.late/", NULL,
};

/* Is there a file (a unit, a mask, a link) called name, or template if not NULL, in dir that is
 * not our link? Returns 1 and its path, 0, or -ENOMEM. */
static int dir_has_foreign(Agent *a, const char *dir, const char *name, const char *template, char **ret_path) {
        const char *names[] = { name, template };

        for (size_t i = 0; i < ELEMENTSOF(names) && names[i]; i++) {
                const char *n = names[i];
                _cleanup_free_ char *p = path_join2(dir, n);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) < 0)
                        continue;
                if (streq(dir, a->link_dir) && n == name && agent_unit_file_linked(a, name))
                        continue;
                *ret_path = TAKE_PTR(p);
                return 1;
        }
        return 0;
}

int agent_unit_file_foreign(Agent *a, const char *name, char **ret_reason) {
        _cleanup_free_ char *template = NULL, *p = NULL;
        char *const *dirs = a->unit_path ?: (char *const *) system_unit_path;
        int r;

        assert(ret_reason);

        if (unit_name_is_fleet_own(name))
                return asprintf(ret_reason, "%s is fleet's own unit on this machine; a submitted unit may not "
                                "replace it", name) < 0 ? -ENOMEM : 1;
        if (unit_name_is_instance(name)) {
                r = unit_name_template_of(name, &template);
                if (r < 0)
                        return r;
        }

        r = 0;
        STRV_FOREACH(d, dirs) {
                r = dir_has_foreign(a, *d, name, template, &p);
                if (r != 0)
                        break;
        }
        if (r == 0 && !strv_contains(dirs, a->link_dir))
                r = dir_has_foreign(a, a->link_dir, name, template, &p);
        if (r <= 0) {
                *ret_reason = NULL;
                return r;
        }
        return asprintf(ret_reason, "the machine has a unit of its own by that name (%s); fleet does not touch it",
                        p) < 0 ? -ENOMEM : 1;
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
                u->file_install = body_has_install(body);
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
        /* The temporary link's name is short whatever the unit's: no name may exceed 255 bytes. */
        if (!path || !link || asprintf(&tmp, "%s.#fleet-link%u", a->link_dir, (unsigned) getpid()) < 0)
                return -ENOMEM;

        r = write_file_atomic(path, raw, strlen(raw), 0644, false);
        if (r < 0)
                return r;
        u->file_install = u->assignment_install;

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

int agent_unit_file_install(Agent *a, AgentUnit *u, bool had_install) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!had_install && !u->file_install)
                return 0;
        path = path_join2(a->units_dir, u->name);
        if (!path)
                return -ENOMEM;

        if (had_install) {
                /* Links of the old [Install] section may differ from the new one's: drop them all. */
                r = systemd_client_disable_unit_file(a->systemd, u->name);
                if (r < 0)
                        return r;
                if (!u->file_install)
                        return systemd_client_link_unit_file(a->systemd, path);
        }
        log_debug("Enabling %s in the runtime scope.", u->name);
        return systemd_client_enable_unit_file(a->systemd, path);
}

int agent_unit_file_uninstall(Agent *a, AgentUnit *u) {
        if (!u->file_install)
                return 0;
        log_debug("Disabling %s in the runtime scope.", u->name);
        u->file_install = false;
        return systemd_client_disable_unit_file(a->systemd, u->name);
}
