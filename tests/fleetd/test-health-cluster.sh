#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Health, end to end, on cluster id 43: 3 nodes with real systemd as PID 1, real etcd, the real
# fleetd, a real podman container from a unit unitgen made of a compose file with a healthcheck
# (podman 4.3 runs it from its own systemd timer in the node). The agent publishes the health
# with the unit's state: list-units shows "starting" then "healthy" (a HEALTH column by default,
# -o json too). When the check starts failing (a flag file on a shared directory), the unit turns
# "unhealthy" and the agent restarts it (restart: always): a new container; once the flag is gone
# it is healthy again. A second service whose check fails only on its node (a flag in the node's
# own /tmp) is restarted there, then, at the third failure within 5 minutes (MoveAfterFailures=
# and FailureWindow= at their defaults), given up there and moved to another node, where it is
# healthy; list-units shows where it runs, its health and why it moved.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] && [ -x "${UNITGEN:-}" ] || skip_all "fleetd, fleetctl or unitgen was not built"
for b in podman runc busybox; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done

export FLEET_CLUSTER=43
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/health-cluster.XXXXXX)   # /tmp is private to each node
cleanup() {
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

# The image: busybox-static, from Debian's package (no registry).
mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" "$TMP/rootfs/dev" \
        "$TMP/rootfs/tmp" "$TMP/flags"
cp "$(command -v busybox)" "$TMP/rootfs/bin/"
for a in sh echo sleep cat test; do ln -s busybox "$TMP/rootfs/bin/$a"; done
tar -C "$TMP/rootfs" -cf "$TMP/bb.tar" .

out=$(FLEET_CLUSTER_SHARE=$TMP "$C" up 3 1 --fleetd "$FLEETD" --agent-ttl 3s 2>&1)
ok $? "up 3 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
for n in 1 2 3; do
        "$C" exec $n podman import -q "$TMP/bb.tar" localhost/health-bb:latest >/dev/null
        "$C" exec $n mkdir -p /tmp/hc-move      # private to the node: a flag there fails one node
done

mkdir -p "$TMP/app"
cat > "$TMP/app/compose.yaml" <<YAML
name: hc
services:
  web:
    image: localhost/health-bb:latest
    runtime: runc
    pids_limit: -1
    network_mode: host
    ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
    volumes: ["$TMP/flags:/flags"]
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    stop_grace_period: 1s
    restart: always
    healthcheck:
      test: ["CMD-SHELL", "test ! -e /flags/bad"]
      interval: 2s
      timeout: 2s
      retries: 2
  move:
    image: localhost/health-bb:latest
    runtime: runc
    pids_limit: -1
    network_mode: host
    ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
    volumes: ["/tmp/hc-move:/nf"]
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    stop_grace_period: 1s
    restart: always
    healthcheck:
      test: ["CMD-SHELL", "test ! -e /nf/bad"]
      interval: 2s
      timeout: 2s
      retries: 2
YAML
(cd "$TMP/app" && "$UNITGEN" --runtime podman -o "$TMP/units" >/dev/null 2>&1)
ok $? "unitgen converts the service with a healthcheck"
grep -qx "Healthcheck=podman hc-web 2" "$TMP/units/hc-web.service"
ok $? "its unit tells the agent where to read the health ([X-Fleet] Healthcheck=podman hc-web 2)"
cd "$TMP/units" || bail_out "no units"

row() { "$FLEETCTL" list-units --no-legend --fields unit,active,health,machine 2>/dev/null | awk '$1 == "hc-web.service"'; }
health_is() { [ "$(row | awk '{ print $2, $3 }')" = "active $1" ]; }
out=$("$FLEETCTL" start hc-web.service 2>&1)
ok $? "fleetctl starts web" || diag "$out"
wait_for 120 health_is healthy
ok $? "list-units shows web active and healthy" || diag "$("$FLEETCTL" list-units 2>&1)"
"$FLEETCTL" list-units 2>/dev/null | head -n 1 | grep -q "HEALTH"
ok $? "list-units' default table has a HEALTH column once a unit has a healthcheck"
"$FLEETCTL" list-units -o json 2>/dev/null | grep -q '"health": "healthy"'
ok $? "list-units -o json carries the health"

ip=$(row | awk '{ m = $4; sub(/.*\//, "", m); print m }')
node=$(( ${ip##*.} - 10 ))
started() { "$C" exec $node podman inspect hc-web --format '{{.State.StartedAt}}' 2>/dev/null; }
first=$(started)
[ -n "$first" ]
ok $? "web's container runs on node$node (started $first)"

since=$(date '+%Y-%m-%d %H:%M:%S')
touch "$TMP/flags/bad"
restarted() { local s; s=$(started); [ -n "$s" ] && [ "$s" != "$first" ]; }
journal_says() { "$C" exec $node journalctl -u fleetd.service --since "$since" --no-pager -o cat 2>/dev/null | grep -q "$1"; }
wait_for 120 journal_says "hc-web.service: container hc-web is unhealthy"
ok $? "the agent reads the failing check: unhealthy"
wait_for 120 journal_says "hc-web.service: restarting it, its container is unhealthy"
ok $? "and restarts the unit (restart: always)"
wait_for 120 restarted
ok $? "a new container runs ($(started))"
rm -f "$TMP/flags/bad"
wait_for 120 health_is healthy
ok $? "with the check passing again, list-units shows it healthy" || diag "$("$FLEETCTL" list-units 2>&1)"

"$FLEETCTL" destroy hc-web.service >/dev/null 2>&1

# Moved after 3 failures in 5 minutes on one machine.
# Its running row: the machine it leaves keeps a row until its agent unloads it.
mrow() { "$FLEETCTL" list-units --no-legend --fields unit,active,health,machine 2>/dev/null | awk '$1 == "hc-move.service" && $2 == "active"' | head -n 1; }
mnode() { local m; m=$(mrow | awk '{ print $4 }'); m=${m##*/}; [ -n "$m" ] && echo $(( ${m##*.} - 10 )); }
mhealthy() { [ "$(mrow | awk '{ print $2, $3 }')" = "active healthy" ]; }
out=$("$FLEETCTL" start hc-move.service 2>&1)
ok $? "fleetctl starts move" || diag "$out"
wait_for 120 mhealthy
ok $? "move is active and healthy" || diag "$("$FLEETCTL" list-units 2>&1)"
from=$(mnode)
[ -n "$from" ]
ok $? "move runs on node$from"
since=$(date '+%Y-%m-%d %H:%M:%S')
"$C" exec "$from" touch /tmp/hc-move/bad
fsays() { "$C" exec $from journalctl -u fleetd.service --since "$since" --no-pager -o cat 2>/dev/null | grep -q "$1"; }
wait_for 120 fsays "hc-move.service: restarting it, its container is unhealthy"
ok $? "its check fails on node$from only: the agent restarts it there first"
wait_for 300 fsays "hc-move.service: 3 failures in 5min (unhealthy) on this machine: stopping it here"
ok $? "at the third failure within 5 minutes the agent gives it up on node$from"
moved() { local n; n=$(mnode); [ -n "$n" ] && [ "$n" != "$from" ] && mhealthy; }
wait_for 180 moved
ok $? "the leader moved it to node$(mnode), where it is active and healthy" || diag "$("$FLEETCTL" list-units 2>&1)"
reason=$("$FLEETCTL" list-units --no-legend --fields unit,active,health,reason 2>/dev/null | awk '$1 == "hc-move.service" && $2 == "active"' | tr '\t' ' ')
case "$reason" in
*"active healthy moved from "*": 3 failures in 5min (unhealthy)"*) ok 0 "list-units shows its health and why it moved: $reason" ;;
*) ok 1 "list-units shows its health and why it moved: $reason" ;;
esac
"$FLEETCTL" list-units -o json 2>/dev/null | grep -q '"reason": "moved from .*3 failures in 5min (unhealthy)"'
ok $? "list-units -o json carries the reason"
[ -z "$("$C" exec "$from" podman ps -q --filter name=hc-move 2>/dev/null)" ]
ok $? "nothing of it runs on node$from any more"

"$FLEETCTL" destroy hc-move.service >/dev/null 2>&1
done_testing
