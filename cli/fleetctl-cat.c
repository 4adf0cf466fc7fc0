/* SPDX-License-Identifier: Apache-2.0 */

#include "cluster.h"
#include "cli-units.h"
#include "fleetctl.h"
#include "log.h"

int verb_cat(int argc, char *argv[]) {
        _cleanup_(registry_unit_freep) RegistryUnit *u = NULL;
        _cleanup_free_ char *name = NULL;
        const char *reason = NULL;
        EtcdClient *c;
        int r;

        r = cli_unit_name_from_arg(argv[1], &name, &reason);
        if (r == -EINVAL)
                return log_error_errno(r, "Invalid unit name \"%s\": %s", argv[1], reason);
        if (r < 0)
                return log_oom();

        r = fleetctl_etcd(&c);
        if (r < 0)
                return r;
        r = cluster_unit_get(c, arg_etcd_key_prefix, name, &u, NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "Unit %s not found", name);
        if (r == -EBADMSG)
                return log_error_errno(r, "The record of unit %s in the cluster is malformed.", name);
        if (r < 0)
                return fleetctl_log_etcd_error(r, "read the unit");

        /* fleet prints the unit's text with a newline after it (fmt.Println). */
        fputs(u->raw, stdout);
        if (!endswith(u->raw, "\n"))
                fputc('\n', stdout);
        return 0;
}
