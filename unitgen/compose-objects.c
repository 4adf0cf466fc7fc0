/* SPDX-License-Identifier: Apache-2.0 */

#include <jansson.h>
#include <string.h>

#include "compose-objects.h"
#include "error-message.h"
#include "fileio.h"

void compose_objects_free(ComposeObject *objects, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(objects[i].name);
                free(objects[i].source);
                free(objects[i].where);
                free(objects[i].value);
        }
        free(objects);
}

int compose_objects_add(ComposeObject **objects, size_t *n, const ComposeObject *o) {
        ComposeObject *a, *e;

        assert(objects && n && o);

        for (size_t i = 0; i < *n; i++)
                if ((*objects)[i].kind == o->kind && streq((*objects)[i].name, o->name))
                        return 0;
        a = reallocarray(*objects, *n + 1, sizeof(ComposeObject));
        if (!a)
                return -ENOMEM;
        *objects = a;
        e = a + *n;
        *e = (ComposeObject) {
                .kind = o->kind,
                .name = strdup(o->name),
                .source = strdup(o->source),
                .where = strdup(o->where),
                .value = o->value ? strdup(o->value) : NULL,
        };
        (*n)++;
        if (!e->name || !e->source || !e->where || (o->value && !e->value))
                return -ENOMEM;         /* freed with the list */
        return 0;
}

/* The value of o, malloc'd (with its size); a message naming the definition when it has none. */
static int object_value(const ComposeObject *o, char **ret, size_t *ret_size, char **ret_error) {
        const char *p;
        int r;

        if ((p = startswith(o->source, "file:"))) {
                r = read_full_file(p, ret, ret_size, CLUSTER_OBJECT_SIZE_MAX + 1);
                if (r == -EFBIG)
                        return error_message_set(ret_error, EINVAL, "%s.file: %s is more than the limit of %u bytes (500 KiB)",
                                                 o->where, p, CLUSTER_OBJECT_SIZE_MAX);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_message_set(ret_error, EINVAL, "%s.file: cannot read %s: %s", o->where, p,
                                                 strerror(-r));
        } else if ((p = startswith(o->source, "environment:"))) {
                if (!o->value)
                        return error_message_set(ret_error, EINVAL, "%s.environment: variable %s is not set", o->where, p);
                *ret = strdup(o->value);
                *ret_size = strlen(o->value);
        } else {
                *ret = strdup(strempty(o->value));
                *ret_size = strlen(strempty(o->value));
        }
        if (!*ret)
                return -ENOMEM;
        if (*ret_size > CLUSTER_OBJECT_SIZE_MAX) {
                *ret = mfree(*ret);
                return error_message_set(ret_error, EINVAL, "%s: the value is %zu bytes, more than the limit of %u bytes (500 KiB)",
                                         o->where, *ret_size, CLUSTER_OBJECT_SIZE_MAX);
        }
        return 0;
}

int compose_objects_manifest(const ComposeObject *objects, size_t n, char **ret_json, char **ret_error) {
        json_auto_t *a = json_array();
        char *s;
        int r;

        assert(ret_json);

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const ComposeObject *o = objects + i;
                json_t *m;

                m = json_pack("{s:s, s:s, s:s}", "kind", cluster_object_kind_to_string(o->kind), "name", o->name,
                              "where", o->where);
                if (!m || json_array_append_new(a, m) < 0)
                        return -ENOMEM;
                if (streq(o->source, "external")) {
                        if (json_object_set_new(m, "external", json_true()) < 0)
                                return -ENOMEM;
                } else {
                        _cleanup_free_ char *v = NULL, *b64 = NULL;
                        size_t size = 0;

                        r = object_value(o, &v, &size, ret_error);
                        if (r < 0)
                                return r;
                        b64 = cluster_object_encode(v, size);
                        explicit_bzero(v, size);
                        if (!b64 || json_object_set_new(m, "value", json_string(b64)) < 0)
                                return -ENOMEM;
                }
        }
        s = json_dumps(a, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        *ret_json = s;
        return 0;
}
