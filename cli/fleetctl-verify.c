/* SPDX-License-Identifier: Apache-2.0 */

/* verify: check unit files the way submit would, without talking to the cluster. */

#include "cli-units.h"
#include "fileio.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"
#include "unit-file.h"
#include "unit-name.h"

static int verify_one(const char *path) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *name = NULL, *text = NULL, *error = NULL;
        const char *reason = NULL;
        size_t size = 0;
        int r;

        r = cli_unit_name_from_arg(path, &name, &reason);
        if (r == -EINVAL)
                return log_error_errno(r, "%s: invalid unit name: %s", path, reason);
        if (r < 0)
                return log_oom();
        if (unit_name_is_template(name) && !unit_name_template_type_ok(name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: templates of this unit type cannot be instantiated by fleet",
                                       path);

        r = read_full_file(path, &text, &size, UNIT_FILE_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "%s: %m", path);

        r = cli_unit_from_text_full(name, text, size, &u, &warnings, &error);
        if (r == -EINVAL)
                return log_error_errno(r, "%s: %s", path, strna(error));
        if (r < 0)
                return log_oom();

        /* Valid: still show what fleet would only have warned about. */
        STRV_FOREACH(w, warnings)
                log_warning("%s: %s", path, *w);

        printf("%s: OK (%s, hash %.7s)\n", path, name, u->hash);
        return 0;
}

int verb_verify(int argc, char *argv[]) {
        int r, ret = 0;

        for (int i = 1; i < argc; i++) {
                r = verify_one(argv[i]);
                if (r < 0)
                        ret = r;
        }
        return ret;
}
