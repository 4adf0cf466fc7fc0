/* SPDX-License-Identifier: Apache-2.0 */

#include "strv.h"
#include "unitgen-convert.h"

int unitgen_convert(const ComposeLoadOptions *o, Runtime runtime, Networking networking, RenderedUnit **ret_units, size_t *ret_n,
                    char **ret_project, Diag *d) {
        return unitgen_convert_objects(o, runtime, networking, ret_units, ret_n, ret_project, NULL, NULL, d);
}

int unitgen_convert_objects(const ComposeLoadOptions *o, Runtime runtime, Networking networking,
                            RenderedUnit **ret_units, size_t *ret_n, char **ret_project, ComposeObject **ret_objects,
                            size_t *ret_n_objects, Diag *d) {
        _cleanup_(compose_project_freep) ComposeProject *p = NULL;
        _cleanup_(compose_model_freep) ComposeModel *m = NULL;
        RenderedUnit *units = NULL;
        size_t n = 0;
        int r;

        assert(o);
        assert(ret_units);
        assert(ret_n);
        assert(d);

        r = compose_project_load(o, &p, d);
        if (r < 0)
                return r;
        r = compose_model_build(p, runtime, networking, &m, d);
        if (r < 0)
                return r;
        /* --strict: a warning is an error, and no unit is written. */
        if (d->n_errors > 0)
                return -EINVAL;
        for (size_t i = 0; o->wanted_by && i < m->n_services; i++)
                if (!m->services[i].install_given) {
                        r = strv_extendf(&m->services[i].install, "WantedBy=%s", o->wanted_by);
                        if (r < 0)
                                return r;
                }
        r = unit_render_all(m, d, &units, &n);
        if (r < 0)
                return r;
        if (ret_project) {
                *ret_project = strdup(p->name);
                if (!*ret_project) {
                        unit_render_free(units, n);
                        return -ENOMEM;
                }
        }
        if (ret_objects) {
                *ret_objects = TAKE_PTR(m->objects);
                *ret_n_objects = m->n_objects;
                m->n_objects = 0;
        }
        *ret_units = units;
        *ret_n = n;
        return 0;
}
