/* SPDX-License-Identifier: Apache-2.0 */

#include <sys/stat.h>

#include "fileio.h"
#include "generator-install.h"
#include "log.h"
#include "strv.h"
#include "unit-file.h"
#include "unit-name.h"

static int link_replace(const char *dest, const char *dir, const char *name, const char *target) {
        _cleanup_free_ char *d = NULL, *path = NULL;
        int r;

        if (asprintf(&d, "%s%s%s", dest, dir ? "/" : "", strempty(dir)) < 0 ||
            asprintf(&path, "%s/%s", d, name) < 0)
                return log_oom();
        r = mkdir_p(d, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", d);
        if (unlink(path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to replace %s: %m", path);
        if (symlink(target, path) < 0)
                return log_error_errno(errno, "Failed to link %s to %s: %m", path, target);
        return 0;
}

int generator_install_links(const char *dest, const RenderedUnit *u) {
        static const struct {
                const char *key, *suffix;
        } deps[] = {
                { "WantedBy",   "wants"    },
                { "RequiredBy", "requires" },
        };
        _cleanup_(unit_file_freep) UnitFile *f = NULL;
        _cleanup_strv_free_ char **aliases = NULL;
        _cleanup_free_ char *up = NULL;
        int r;

        assert(dest);
        assert(u);

        r = unit_file_parse(u->text, strlen(u->text), &f, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read back %s: %m", u->name);
        if (asprintf(&up, "../%s", u->name) < 0)
                return log_oom();

        for (size_t i = 0; i < ELEMENTSOF(deps); i++) {
                _cleanup_strv_free_ char **targets = NULL;

                r = unit_file_get_all(f, "Install", deps[i].key, &targets);
                if (r < 0)
                        return log_oom();
                STRV_FOREACH(t, targets) {
                        _cleanup_free_ char *dir = NULL;

                        /* A name, never a path: the link stays inside dest. */
                        if (!unit_name_is_valid(*t) || unit_name_is_template(*t))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: %s=%s is not a unit that can pull it in.",
                                                       u->name, deps[i].key, *t);
                        if (asprintf(&dir, "%s.%s", *t, deps[i].suffix) < 0)
                                return log_oom();
                        /* A template is enabled by its instances, each linking to the template. */
                        STRV_FOREACH(inst, u->instances) {
                                r = link_replace(dest, dir, *inst, up);
                                if (r < 0)
                                        return r;
                        }
                }
        }

        r = unit_file_get_all(f, "Install", "Alias", &aliases);
        if (r < 0)
                return log_oom();
        STRV_FOREACH(a, aliases) {
                if (!unit_name_is_valid(*a) || unit_name_is_template(*a) != unit_name_is_template(u->name))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Alias=%s is not a name it can have.", u->name, *a);
                r = link_replace(dest, NULL, *a, u->name);
                if (r < 0)
                        return r;
        }
        return 0;
}
