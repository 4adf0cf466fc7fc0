/* SPDX-License-Identifier: Apache-2.0 */

/* list-units, list-unit-files, list-machines. */

#include "cluster.h"
#include "cli-list.h"
#include "fleetctl.h"
#include "log.h"
#include "strv.h"

typedef int (*list_format_t)(const ClusterSnapshot *s, const ListOptions *o, char **ret);

static int list(char *const *valid, list_format_t format) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        _cleanup_free_ char *text = NULL;
        const char *bad = NULL;
        ListOptions o = {
                .full = arg_full,
                .legend = !arg_no_legend,
                .mode = OUTPUT_TABLE,
        };
        int r;

        if (arg_journal_output) {
                o.mode = output_mode_from_string(arg_journal_output);
                if (o.mode < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid output format '%s': use table or json.",
                                               arg_journal_output);
        }
        if (arg_fields) {
                r = list_parse_fields(arg_fields, valid, &fields, &bad);
                if (r == -EINVAL)
                        return log_error_errno(r, isempty(bad) ? "Must define output format%s"
                                                               : "Invalid key in output field: %s", strempty(bad));
                if (r < 0)
                        return log_oom();
                o.fields = fields;
        }

        r = fleetctl_snapshot("read the cluster state", NULL, &s);
        if (r < 0)
                return r;

        r = format(s, &o, &text);
        if (r < 0)
                return log_oom();
        fputs(text, stdout);
        return 0;
}

int verb_list_units(int argc, char *argv[]) {
        return list(list_units_fields, list_units_format);
}

int verb_list_unit_files(int argc, char *argv[]) {
        return list(list_unit_files_fields, list_unit_files_format);
}

int verb_list_machines(int argc, char *argv[]) {
        return list(list_machines_fields, list_machines_format);
}
