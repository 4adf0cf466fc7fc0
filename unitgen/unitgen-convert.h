/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "compose-load.h"
#include "compose-model.h"
#include "unit-writer.h"

/* The whole conversion in one call, for the program, the benchmark and the fuzzer: load the
 * project described by o, convert it for runtime, render its units (o->wanted_by: the [Install]
 * WantedBy= of every service without x-install). Nothing is written to disk.
 * On success *ret_units (an array of *ret_n, free with unit_render_free()) and, if ret_project is
 * given, the project's name in *ret_project (owned by the caller). Returns 0, -EINVAL after at least
 * one error message in d, or -ENOMEM. */
int unitgen_convert(const ComposeLoadOptions *o, Runtime runtime, Networking networking, RenderedUnit **ret_units, size_t *ret_n,
                    char **ret_project, Diag *d);

/* The same, and in *ret_objects (if not NULL; an array of *ret_n_objects owned by the caller, free
 * with compose_objects_free()) the cluster secrets and configs the units refer to. */
int unitgen_convert_objects(const ComposeLoadOptions *o, Runtime runtime, Networking networking,
                            RenderedUnit **ret_units, size_t *ret_n, char **ret_project, ComposeObject **ret_objects,
                            size_t *ret_n_objects, Diag *d);
