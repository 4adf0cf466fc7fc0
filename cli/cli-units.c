/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include "cli-units.h"
#include "error-message.h"
#include "fileio.h"
#include "strv.h"
#include "unit-file.h"
#include "unit-name.h"
#include "xfleet.h"

int cli_expand_args(char *const *args, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        assert(ret);

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(a, args) {
                _cleanup_strv_free_ char **e = NULL;

                r = unit_name_expand_braces(*a, &e);
                if (r < 0)
                        return r;
                r = strv_extend_strv(&l, e);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

int cli_unit_name_from_arg(const char *arg, char **ret, const char **ret_reason) {
        _cleanup_free_ char *name = NULL;
        const char *base, *reason = NULL;
        int r;

        assert(arg);
        assert(ret);

        base = strrchr(arg, '/');
        base = base ? base + 1 : arg;
        if (isempty(base)) {
                if (ret_reason)
                        *ret_reason = "empty unit name";
                return -EINVAL;
        }

        r = unit_name_fleetctl_normalize(base, &name);
        if (r < 0)
                return r;
        r = unit_name_check(name, &reason);
        if (r < 0) {
                if (ret_reason)
                        *ret_reason = reason ?: "invalid unit name";
                return -EINVAL;
        }

        *ret = TAKE_PTR(name);
        return 0;
}

int cli_unit_from_text_full(const char *name, const char *text, size_t size, RegistryUnit **ret,
                            char ***ret_warnings, char **ret_error) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_(unit_file_freep) UnitFile *uf = NULL;
        _cleanup_free_ char *error = NULL, *raw = NULL;
        char hash[SHA1_HEX_SIZE];
        int r;

        assert(name);
        assert(ret);

        r = unit_file_parse(text, size, &uf, &error);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return error_message_set(ret_error, EINVAL, "unit file too large");
        if (r < 0)
                return error_message_set(ret_error, EINVAL, "%s", error ?: "unit file does not parse");

        /* X-Fleet is checked for the unit's own name, so that an instance's %i is final. */
        r = xfleet_options_parse(uf, name, &x, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_message_set(ret_error, EINVAL, "%s", error ?: "invalid [X-Fleet] section");
        r = xfleet_options_validate(x, name, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_message_set(ret_error, EINVAL, "%s", error ?: "invalid [X-Fleet] options");

        r = unit_file_serialize(uf, &raw, NULL);
        if (r < 0)
                return r;
        r = unit_file_hash_hex(uf, hash);
        if (r < 0)
                return r;

        u = new0(RegistryUnit, 1);
        if (!u)
                return -ENOMEM;
        u->name = strdup(name);
        u->hash = strdup(hash);
        if (!u->name || !u->hash)
                return -ENOMEM;
        u->raw = TAKE_PTR(raw);
        u->desired = UNIT_DESIRED_INACTIVE;

        if (ret_warnings)
                *ret_warnings = TAKE_PTR(x->warnings);
        *ret = TAKE_PTR(u);
        return 0;
}

int cli_unit_from_text(const char *name, const char *text, size_t size, RegistryUnit **ret, char **ret_error) {
        return cli_unit_from_text_full(name, text, size, ret, NULL, ret_error);
}

int cli_unit_from_file(const char *name, const char *path, RegistryUnit **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = read_full_file(path, &text, &size, UNIT_FILE_SIZE_MAX);
        if (r == -EFBIG)
                return error_message_set(ret_error, EINVAL, "unit file too large");
        if (r < 0)
                return r;
        return cli_unit_from_text(name, text, size, ret, ret_error);
}

bool cli_arg_is_glob(const char *arg) {
        return strpbrk(arg, "*?[");
}

int cli_resolve_names(char *const *args, char *const *known, char ***ret, const char **ret_missing) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        assert(ret);

        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;

        STRV_FOREACH(a, args) {
                if (cli_arg_is_glob(*a)) {
                        bool any = false;

                        STRV_FOREACH(k, known)
                                if (xfleet_glob_match(*a, *k)) {
                                        any = true;
                                        if (!strv_contains(l, *k)) {
                                                r = strv_extend(&l, *k);
                                                if (r < 0)
                                                        return r;
                                        }
                                }
                        if (!any) {
                                if (ret_missing)
                                        *ret_missing = *a;
                                return -ENOENT;
                        }
                } else {
                        _cleanup_free_ char *name = NULL;

                        r = cli_unit_name_from_arg(*a, &name, NULL);
                        if (r == -EINVAL) {
                                if (ret_missing)
                                        *ret_missing = *a;
                                return r;
                        }
                        if (r < 0)
                                return r;
                        if (!strv_contains(l, name)) {
                                r = strv_consume(&l, TAKE_PTR(name));
                                if (r < 0)
                                        return r;
                        }
                }
        }

        *ret = TAKE_PTR(l);
        return 0;
}
