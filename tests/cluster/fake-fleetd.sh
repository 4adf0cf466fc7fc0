#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# fake-fleetd.sh: a stand-in for fleetd in the cluster tests, to prove the wiring of
# "tools/cluster up --fleetd PATH": it runs as the node's fleetd.service (Type=notify) with
# /run/fleet-harness/env, takes a lease of FLEET_AGENT_TTL seconds (default 3) from the etcd
# members in FLEET_ETCD_SERVERS, keeps it alive every second, and holds
#   /fleet-cluster-test/machines/<MACHINE_ID> = "<NODE_NAME> ip=<FLEET_PUBLIC_IP>
#                                                metadata=<FLEET_METADATA> args=<its arguments>"
# When etcd says the lease expired (after a partition or a freeze) it registers again with a new
# one; while no member answers it keeps trying the lease it has, as fleetd does.
set -u

b64() {
        printf %s "$1" | base64 -w0
}

post() {   # post PATH JSON: the first etcd member that answers; prints the reply
        for e in $(echo "$FLEET_ETCD_SERVERS" | tr , ' '); do
                curl -sf -m 1 "$e$1" -d "$2" && return 0
        done
        return 1
}

register() {
        lease=$(post /v3/lease/grant "{\"TTL\":$ttl}" | sed -n 's/.*"ID":"\([0-9]*\)".*/\1/p')
        [ -n "$lease" ] || return 1
        post /v3/kv/put "{\"key\":\"$key\",\"value\":\"$value\",\"lease\":\"$lease\"}" >/dev/null
}

ttl=${FLEET_AGENT_TTL:-3}
ttl=${ttl%s}
key=$(b64 "/fleet-cluster-test/machines/$MACHINE_ID")
value=$(b64 "$NODE_NAME ip=$FLEET_PUBLIC_IP metadata=$FLEET_METADATA args=$*")
lease=
ready=

while :; do
        if [ -n "$lease" ]; then
                # No answer from any member (partition, election): the lease may still be alive.
                if ! reply=$(post /v3/lease/keepalive "{\"ID\":\"$lease\"}"); then
                        sleep 0.5
                        continue
                fi
                # An expired lease still answers the keepalive, with no TTL in the reply.
                case "$reply" in
                        *'"TTL"'*)
                                sleep 1
                                continue ;;
                esac
                lease=
        fi
        if ! register; then
                lease=
                sleep 0.5
                continue
        fi
        if [ -z "$ready" ]; then
                systemd-notify --ready
                ready=1
        fi
        sleep 1
done
