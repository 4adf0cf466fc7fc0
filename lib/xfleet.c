/* SPDX-License-Identifier: Apache-2.0 */

#include <fnmatch.h>
#include <stdarg.h>

#include "parse-util.h"
#include "strv.h"
#include "unit-name.h"
#include "xfleet.h"

typedef enum XFleetKey {
        XFLEET_MACHINE_ID,
        XFLEET_MACHINE_OF,
        XFLEET_MACHINE_METADATA,
        XFLEET_CONFLICTS,
        XFLEET_REPLACES,
        XFLEET_GLOBAL,
        XFLEET_MACHINE_BOOT_ID,
        _XFLEET_KEY_MAX,
        _XFLEET_KEY_INVALID = -EINVAL,
} XFleetKey;

static const struct {
        const char *name;
        XFleetKey key;
        bool deprecated;
} xfleet_key_table[] = {
        { "MachineID", XFLEET_MACHINE_ID, false },
        { "MachineOf", XFLEET_MACHINE_OF, false },
        { "MachineMetadata", XFLEET_MACHINE_METADATA, false },
        { "Conflicts", XFLEET_CONFLICTS, false },
        { "Replaces", XFLEET_REPLACES, false },
        { "Global", XFLEET_GLOBAL, false },
        { "X-ConditionMachineID", XFLEET_MACHINE_ID, true },
        { "X-ConditionMachineOf", XFLEET_MACHINE_OF, true },
        { "X-ConditionMachineMetadata", XFLEET_MACHINE_METADATA, true },
        { "X-Conflicts", XFLEET_CONFLICTS, true },
        { "X-ConditionMachineBootID", XFLEET_MACHINE_BOOT_ID, true },
};

XFleetOptions *xfleet_options_new(void) {
        return new0(XFleetOptions, 1);
}

XFleetOptions *xfleet_options_free(XFleetOptions *x) {
        if (!x)
                return NULL;
        free(x->machine_id);
        strv_free(x->machine_of);
        strv_free(x->machine_metadata);
        strv_free(x->conflicts);
        strv_free(x->replaces);
        strv_free(x->warnings);
        return mfree(x);
}

static int strv_copy_to(char *const *from, char ***to) {
        if (!from)
                return 0;
        *to = strv_copy(from);
        return *to ? 0 : -ENOMEM;
}

int xfleet_options_copy(const XFleetOptions *x, XFleetOptions **ret) {
        _cleanup_(xfleet_options_freep) XFleetOptions *c = NULL;

        assert(x);
        assert(ret);

        c = xfleet_options_new();
        if (!c)
                return -ENOMEM;
        if (x->machine_id) {
                c->machine_id = strdup(x->machine_id);
                if (!c->machine_id)
                        return -ENOMEM;
        }
        if (strv_copy_to(x->machine_of, &c->machine_of) < 0 ||
            strv_copy_to(x->machine_metadata, &c->machine_metadata) < 0 ||
            strv_copy_to(x->conflicts, &c->conflicts) < 0 ||
            strv_copy_to(x->replaces, &c->replaces) < 0 ||
            strv_copy_to(x->warnings, &c->warnings) < 0)
                return -ENOMEM;
        c->global = x->global;

        *ret = TAKE_PTR(c);
        return 0;
}

bool xfleet_options_equal(const XFleetOptions *a, const XFleetOptions *b) {
        if (xfleet_options_is_empty(a) || xfleet_options_is_empty(b))
                return xfleet_options_is_empty(a) && xfleet_options_is_empty(b);
        return streq_ptr(a->machine_id, b->machine_id) && strv_equal(a->machine_of, b->machine_of) &&
               strv_equal(a->machine_metadata, b->machine_metadata) && strv_equal(a->conflicts, b->conflicts) &&
               strv_equal(a->replaces, b->replaces) && a->global == b->global;
}

bool xfleet_options_is_empty(const XFleetOptions *x) {
        return !x || (!x->machine_id && strv_length(x->machine_of) == 0 &&
                      strv_length(x->machine_metadata) == 0 && strv_length(x->conflicts) == 0 &&
                      strv_length(x->replaces) == 0 && !x->global);
}

int xfleet_parse_boolean(const char *v) {
        return parse_boolean(v);
}

/* Locate key and value of "k=v" / "k!=v" without copying. */
static int metadata_locate(const char *req, size_t *ret_key_len, const char **ret_value,
                           bool *ret_negated) {
        const char *eq = strchr(req, '=');
        bool negated;
        size_t key_len;

        if (!eq || strchr(eq + 1, '='))
                return -EINVAL;
        negated = eq > req && eq[-1] == '!';
        key_len = eq - req - negated;
        if (key_len == 0 || isempty(eq + 1))
                return -EINVAL;

        *ret_key_len = key_len;
        *ret_value = eq + 1;
        *ret_negated = negated;
        return 0;
}

int xfleet_metadata_split(const char *req, char **ret_key, char **ret_value, bool *ret_negated) {
        _cleanup_free_ char *k = NULL, *v = NULL;
        const char *value;
        size_t key_len;
        bool negated;
        int r;

        assert(req);
        assert(ret_key);
        assert(ret_value);

        r = metadata_locate(req, &key_len, &value, &negated);
        if (r < 0)
                return r;
        k = strndup(req, key_len);
        v = strdup(value);
        if (!k || !v)
                return -ENOMEM;

        *ret_key = TAKE_PTR(k);
        *ret_value = TAKE_PTR(v);
        if (ret_negated)
                *ret_negated = negated;
        return 0;
}

/* Whether the machine has key (of length key_len) = value. */
static bool machine_has(char *const *machine_metadata, const char *key, size_t key_len,
                        const char *value) {
        STRV_FOREACH(m, machine_metadata)
                if (strneq(*m, key, key_len) && (*m)[key_len] == '=' && streq(*m + key_len + 1, value))
                        return true;
        return false;
}

bool xfleet_metadata_match(char *const *requirements, char *const *machine_metadata) {
        size_t n = strv_length(requirements);

        for (size_t i = 0; i < n; i++) {
                const char *value;
                size_t key_len;
                bool negated, seen = false, any = false;

                if (metadata_locate(requirements[i], &key_len, &value, &negated) < 0)
                        return false;
                if (negated) {
                        if (machine_has(machine_metadata, requirements[i], key_len, value))
                                return false;
                        continue;
                }

                /* Evaluate each key's '=' group once, at its first member: one of them must hold. */
                for (size_t j = 0; j < i && !seen; j++) {
                        const char *v2;
                        size_t l2;
                        bool n2;

                        seen = metadata_locate(requirements[j], &l2, &v2, &n2) >= 0 && !n2 &&
                               l2 == key_len && strneq(requirements[j], requirements[i], key_len);
                }
                if (seen)
                        continue;
                for (size_t j = i; j < n && !any; j++) {
                        const char *v2;
                        size_t l2;
                        bool n2;

                        if (metadata_locate(requirements[j], &l2, &v2, &n2) < 0 || n2 || l2 != key_len ||
                            !strneq(requirements[j], requirements[i], key_len))
                                continue;
                        any = machine_has(machine_metadata, requirements[j], key_len, v2);
                }
                if (!any)
                        return false;
        }
        return true;
}

bool xfleet_machine_id_match(const char *required, const char *machine_id) {
        size_t n;

        assert(required);
        assert(machine_id);

        n = strlen(required);
        return streq(required, machine_id) || (n >= 8 && strneq(required, machine_id, n));
}

bool xfleet_glob_match(const char *pattern, const char *name) {
        assert(pattern);
        assert(name);

        if (!strpbrk(pattern, "*?[\\"))
                return streq(pattern, name);
        return fnmatch(pattern, name, 0) == 0;
}

bool xfleet_globs_match(char *const *patterns, const char *name) {
        STRV_FOREACH(p, patterns)
                if (xfleet_glob_match(*p, name))
                        return true;
        return false;
}

static int set_error(char **error_message, const char *format, ...) _printf_(2, 3);
static int set_error(char **error_message, const char *format, ...) {
        va_list ap;
        int r;

        if (!error_message)
                return -EINVAL;
        va_start(ap, format);
        r = vasprintf(error_message, format, ap);
        va_end(ap);
        return r < 0 ? -ENOMEM : -EINVAL;
}

/* Split a value into words at whitespace; single or double quotes group (and are removed). */
static int split_quoted(const char *value, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = value;
        int r;

        for (;;) {
                _cleanup_free_ char *word = NULL;
                size_t len = 0;
                char quote = 0;

                p += strspn(p, WHITESPACE);
                if (!*p)
                        break;
                word = new(char, strlen(p) + 1);
                if (!word)
                        return -ENOMEM;
                for (; *p && (quote || !strchr(WHITESPACE, *p)); p++) {
                        if (quote && *p == quote)
                                quote = 0;
                        else if (!quote && (*p == '"' || *p == '\''))
                                quote = *p;
                        else
                                word[len++] = *p;
                }
                if (quote)
                        return -EINVAL;
                word[len] = 0;
                r = strv_consume(&l, TAKE_PTR(word));
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static int strv_extend_words(char ***l, const char *value) {
        _cleanup_strv_free_ char **words = strv_split(value, WHITESPACE);

        if (!words)
                return -ENOMEM;
        return strv_extend_strv(l, words);
}

int xfleet_options_parse(const UnitFile *u, const char *unit_name, XFleetOptions **ret,
                         char **error_message) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_free_ char *boot_id = NULL;
        int r;

        assert(u);
        assert(ret);

        if (unit_name && !unit_name_type(unit_name))
                return set_error(error_message, "invalid unit name '%s'", unit_name);

        x = xfleet_options_new();
        if (!x)
                return -ENOMEM;

        for (size_t i = 0; i < u->n_options; i++) {
                const UnitOption *o = u->options + i;
                _cleanup_free_ char *expanded = NULL;
                XFleetKey key = _XFLEET_KEY_INVALID;
                const char *name = o->name, *v;

                if (!streq(o->section, XFLEET_SECTION))
                        continue;

                for (size_t k = 0; k < ELEMENTSOF(xfleet_key_table); k++)
                        if (streq(xfleet_key_table[k].name, name)) {
                                key = xfleet_key_table[k].key;
                                if (xfleet_key_table[k].deprecated) {
                                        r = strv_extendf(&x->warnings,
                                                         "[X-Fleet] option '%s' is deprecated", name);
                                        if (r < 0)
                                                return r;
                                }
                                break;
                        }
                if (key < 0) {
                        r = strv_extendf(&x->warnings, "Unknown [X-Fleet] option '%s'", name);
                        if (r < 0)
                                return r;
                        continue;
                }

                v = o->value;
                if (unit_name) {
                        r = unit_name_specifier_expand(o->value, unit_name, &expanded);
                        if (r < 0)
                                return r;
                        v = expanded;
                }

                switch (key) {
                case XFLEET_MACHINE_ID:
                        if (!x->machine_id && !isempty(v)) {
                                x->machine_id = strdup(v);
                                if (!x->machine_id)
                                        return -ENOMEM;
                        }
                        break;
                case XFLEET_MACHINE_BOOT_ID:
                        if (!boot_id && !isempty(v)) {
                                boot_id = strdup(v);
                                if (!boot_id)
                                        return -ENOMEM;
                        }
                        break;
                case XFLEET_MACHINE_OF:
                        r = strv_extend_words(&x->machine_of, v);
                        if (r < 0)
                                return r;
                        break;
                case XFLEET_CONFLICTS:
                        r = strv_extend_words(&x->conflicts, v);
                        if (r < 0)
                                return r;
                        break;
                case XFLEET_REPLACES:
                        r = strv_extend_words(&x->replaces, v);
                        if (r < 0)
                                return r;
                        break;
                case XFLEET_GLOBAL:
                        r = parse_boolean(v);
                        if (r < 0)
                                return set_error(error_message, "Global=%s is not a boolean", v);
                        x->global = r;
                        break;
                case XFLEET_MACHINE_METADATA: {
                        _cleanup_strv_free_ char **words = NULL;
                        const char *value;
                        size_t key_len;
                        bool negated;

                        r = split_quoted(v, &words);
                        if (r == -EINVAL)
                                return set_error(error_message, "MachineMetadata=%s: unbalanced quotes", v);
                        if (r < 0)
                                return r;
                        STRV_FOREACH(w, words)
                                if (metadata_locate(*w, &key_len, &value, &negated) < 0)
                                        return set_error(error_message,
                                                         "MachineMetadata '%s' is not of the form key=value "
                                                         "or key!=value with a non-empty key and value",
                                                         *w);
                        r = strv_extend_strv(&x->machine_metadata, words);
                        if (r < 0)
                                return r;
                        break;
                }
                default:
                        assert_not_reached();
                }
        }

        /* The legacy boot ID only counts when no MachineID is given, as in fleet. */
        if (!x->machine_id && boot_id)
                x->machine_id = TAKE_PTR(boot_id);

        *ret = TAKE_PTR(x);
        return 0;
}

int xfleet_options_validate(const XFleetOptions *x, const char *unit_name, char **error_message) {
        bool has_id, has_of, has_conflicts, has_replaces;

        assert(x);

        STRV_FOREACH(peer, x->machine_of) {
                STRV_FOREACH(c, x->conflicts)
                        if (xfleet_glob_match(*c, *peer))
                                return set_error(error_message,
                                                 "unresolvable requirements: MachineOf peer '%s' matches "
                                                 "Conflicts pattern '%s'", *peer, *c);
                STRV_FOREACH(c, x->replaces)
                        if (xfleet_glob_match(*c, *peer))
                                return set_error(error_message,
                                                 "unresolvable requirements: MachineOf peer '%s' matches "
                                                 "Replaces pattern '%s'", *peer, *c);
                if (unit_name && streq(*peer, unit_name))
                        return set_error(error_message, "MachineOf cannot name the unit itself");
        }

        has_id = !!x->machine_id;
        has_of = strv_length(x->machine_of) > 0;
        has_conflicts = strv_length(x->conflicts) > 0;
        has_replaces = strv_length(x->replaces) > 0;

        if (has_id && has_of)
                return set_error(error_message, "MachineID cannot be used with MachineOf");
        if (has_id && has_conflicts)
                return set_error(error_message, "MachineID cannot be used with Conflicts");
        if (has_id && x->global)
                return set_error(error_message, "MachineID cannot be used with Global");
        if (has_id && has_replaces)
                return set_error(error_message, "MachineID cannot be used with Replaces");
        if (x->global && has_of)
                return set_error(error_message, "Global cannot be used with MachineOf");
        if (x->global && has_replaces)
                return set_error(error_message, "Global cannot be used with Replaces");
        if (has_conflicts && has_replaces)
                return set_error(error_message, "Conflicts cannot be used with Replaces");
        return 0;
}
