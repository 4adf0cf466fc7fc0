/* SPDX-License-Identifier: Apache-2.0 */

#include "scheduler-internal.h"

static const char *const change_type_table[_SCHEDULER_CHANGE_TYPE_MAX] = {
        [SCHEDULER_UNASSIGN] = "unassign",
        [SCHEDULER_ASSIGN] = "assign",
};

const char *scheduler_change_type_to_string(SchedulerChangeType t) {
        if (t < 0 || t >= _SCHEDULER_CHANGE_TYPE_MAX)
                return NULL;
        return change_type_table[t];
}

void change_list_done(SchedulerChangeList *l) {
        assert(l);

        for (size_t i = 0; i < l->n_changes; i++) {
                scheduler_name_unref(l->changes[i].unit);
                scheduler_name_unref(l->changes[i].machine);
        }
        l->changes = mfree(l->changes);
        l->n_changes = l->n_allocated = 0;
}

SchedulerChangeList *scheduler_change_list_free(SchedulerChangeList *l) {
        if (!l)
                return NULL;
        change_list_done(l);
        return mfree(l);
}

int change_list_append(SchedulerChangeList *l, SchedulerChangeType type, char *unit, char *machine,
                       bool global) {
        assert(l);
        assert(unit);
        assert(machine);

        if (!GREEDY_REALLOC(l->changes, l->n_allocated, l->n_changes + 1))
                return -ENOMEM;
        l->changes[l->n_changes++] = (SchedulerChange) {
                .type = type,
                .unit = scheduler_name_ref(unit),
                .machine = scheduler_name_ref(machine),
                .global = global,
        };
        return 0;
}

/* Append all of from to to, emptying from. */
int change_list_move(SchedulerChangeList *to, SchedulerChangeList *from) {
        assert(to);
        assert(from);

        if (from->n_changes == 0)
                return 0;
        if (!GREEDY_REALLOC(to->changes, to->n_allocated, to->n_changes + from->n_changes))
                return -ENOMEM;
        memcpy(to->changes + to->n_changes, from->changes, from->n_changes * sizeof(SchedulerChange));
        to->n_changes += from->n_changes;
        from->n_changes = 0;
        return 0;
}

void change_list_drop(SchedulerChangeList *l, const char *unit, const char *machine) {
        size_t j = 0;

        assert(l);

        for (size_t i = 0; i < l->n_changes; i++) {
                SchedulerChange *c = l->changes + i;

                if (streq(c->unit, unit) && streq(c->machine, machine)) {
                        scheduler_name_unref(c->unit);
                        scheduler_name_unref(c->machine);
                        continue;
                }
                l->changes[j++] = *c;
        }
        l->n_changes = j;
}
