/* SPDX-License-Identifier: Apache-2.0 */

/* Unit names and machine IDs, shared by the model and the change lists that report them: a change
 * list outlives a unit or machine removed after the reconcile that returned it, so it holds a
 * reference rather than a copy. A reconcile that places 100,000 units would otherwise allocate
 * 100,000 copies, and on a VM every fresh page costs microseconds. Single-threaded, like the
 * scheduler. */

#include <stddef.h>

#include "scheduler-internal.h"

typedef struct SharedName {
        unsigned n_ref;
        char name[];
} SharedName;

static SharedName *shared_name(char *name) {
        return (SharedName *) (name - offsetof(SharedName, name));
}

char *scheduler_name_new(const char *s) {
        size_t n = strlen(s) + 1;
        SharedName *p;

        p = malloc(offsetof(SharedName, name) + n);
        if (!p)
                return NULL;
        p->n_ref = 1;
        memcpy(p->name, s, n);
        return p->name;
}

char *scheduler_name_ref(char *name) {
        if (name)
                shared_name(name)->n_ref++;
        return name;
}

char *scheduler_name_unref(char *name) {
        SharedName *p;

        if (!name)
                return NULL;
        p = shared_name(name);
        assert(p->n_ref > 0);
        if (--p->n_ref == 0)
                free(p);
        return NULL;
}
