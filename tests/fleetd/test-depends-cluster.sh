#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# depends_on across machines, end to end, on cluster id 23: 2 nodes with real systemd as PID 1,
# real etcd, the real fleetd and real podman containers from units unitgen made of a compose file.
# db has a healthcheck that passes only once a flag file exists and is pinned to node1; web
# depends on it (condition: service_healthy, restart: true) and is pinned to node2. web is held
# with the reason in its state record while db runs unhealthy; once the check passes, web starts,
# and node2's journal puts web's start after node1's journal shows db healthy. Restarting db
# restarts web (restart: true), again only once db is healthy.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] && [ -x "${UNITGEN:-}" ] || skip_all "fleetd, fleetctl or unitgen was not built"
for b in podman runc busybox; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done

export FLEET_CLUSTER=23
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/depends-cluster.XXXXXX)   # /tmp is private to each node
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

out=$(FLEET_CLUSTER_SHARE=$TMP "$C" up 2 1 --fleetd "$FLEETD" --agent-ttl 5s 2>&1)
ok $? "up 2 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
for n in 1 2; do
        "$C" exec $n podman import -q "$TMP/bb.tar" localhost/dep-bb:latest >/dev/null
done

mkdir -p "$TMP/app"
cat > "$TMP/app/compose.yaml" <<YAML
name: dep
x-common: &common
  image: localhost/dep-bb:latest
  runtime: runc
  pids_limit: -1
  network_mode: host
  ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
  volumes: ["$TMP/flags:/flags"]
  command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
  stop_grace_period: 1s
services:
  db:
    <<: *common
    restart: always
    healthcheck:
      test: ["CMD-SHELL", "test -e /flags/ready"]
      interval: 2s
      timeout: 2s
      retries: 2
    x-fleet: {MachineMetadata: hostname=node1}
  web:
    <<: *common
    depends_on:
      db: {condition: service_healthy, restart: true}
    x-fleet: {MachineMetadata: hostname=node2}
YAML
(cd "$TMP/app" && "$UNITGEN" --runtime podman -o "$TMP/units" >/dev/null 2>&1)
ok $? "unitgen converts db and web"
grep -qx "DependsOn=dep-db.service healthy restart" "$TMP/units/dep-web.service"
ok $? "web's unit waits for db across machines ([X-Fleet] DependsOn=dep-db.service healthy restart)"
! grep -q "^MachineOf=" "$TMP/units/dep-web.service"
ok $? "and is not pinned next to db (no MachineOf=)"
cd "$TMP/units" || bail_out "no units"

field() { "$FLEETCTL" list-units --no-legend --fields unit,"$2" 2>/dev/null | awk -v u="$1" '$1 == u { $1 = ""; sub(/^ /, ""); print }'; }
out=$("$FLEETCTL" start --no-block dep-db.service dep-web.service 2>&1)
ok $? "fleetctl starts db and web" || diag "$out"

# db runs (its container is up, its check fails): web is held, and says why.
db_running() { "$C" exec 1 podman inspect dep-db --format '{{.State.Running}}' 2>/dev/null | grep -qx true; }
wait_for 180 db_running
ok $? "db's container runs on node1" || diag "$("$FLEETCTL" list-units 2>&1)"
web_waits() { field dep-web.service reason | grep -q "waiting for dep-db.service to be healthy"; }
wait_for 120 web_waits
ok $? "web is held on node2: $(field dep-web.service reason)" || diag "$("$FLEETCTL" list-units --fields unit,active,machine,reason 2>&1)"
sleep_observed=$(field dep-web.service active)
[ "$sleep_observed" != active ] && ! "$C" exec 2 podman container exists dep-web 2>/dev/null
ok $? "web has not started while db is unhealthy (web: $sleep_observed)"

touch "$TMP/flags/ready"
web_active() { [ "$(field dep-web.service active)" = active ]; }
wait_for 180 web_active
ok $? "once db's check passes, web starts" || diag "$("$FLEETCTL" list-units --fields unit,active,health,machine,reason 2>&1)"
[ "$(field dep-db.service health)" = healthy ]
ok $? "db is healthy"

# The order, from the two machines' journals (one host clock: the nodes are namespaces).
first_usec() {   # first_usec NODE UNIT-OR-EMPTY PATTERN: the realtime of the first journal line matching
        "$C" exec "$1" journalctl ${2:+-u "$2"} --no-pager -o json --output-fields=MESSAGE 2>/dev/null |
                python3 -c 'import json, sys, re
p = re.compile(sys.argv[1])
for l in sys.stdin:
    e = json.loads(l)
    if isinstance(e.get("MESSAGE"), str) and p.search(e["MESSAGE"]):
        print(e["__REALTIME_TIMESTAMP"]); break' "$3"
}
db_healthy=$(first_usec 1 fleetd.service "dep-db.service: container dep-db is healthy")
db_started=$(first_usec 1 "" "^Started .*dep db")
web_start=$(first_usec 2 "" "^Starting .*dep web")
[ -n "$db_healthy" ] && [ -n "$db_started" ] && [ -n "$web_start" ] &&
        [ "$web_start" -gt "$db_healthy" ] && [ "$web_start" -gt "$db_started" ]
ok $? "node2 starts web ($web_start) after node1 reports db healthy ($db_healthy, active $db_started)" ||
        diag "$("$C" exec 2 journalctl -u fleetd.service --no-pager -o short-precise 2>&1 | grep -i dep- | tail -n 20)"

# restart: true: db restarts, web follows once db is healthy again.
web_pid() { "$C" exec 2 podman inspect dep-web --format '{{.State.Pid}}' 2>/dev/null; }
old=$(web_pid)
since=$(date '+%Y-%m-%d %H:%M:%S')
"$C" exec 1 systemctl restart --no-block dep-db.service
web_restarted() { local p; p=$(web_pid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && web_active; }
wait_for 180 web_restarted
ok $? "restarting db restarts web (restart: true): pid $old -> $(web_pid)" ||
        diag "$("$C" exec 2 journalctl -u fleetd.service --since "$since" --no-pager -o cat 2>&1 | tail -n 20)"
"$C" exec 2 journalctl -u fleetd.service --since "$since" --no-pager -o cat 2>/dev/null |
        grep -q "Restarting dep-web.service: its dependency dep-db.service restarted"
ok $? "the agent on node2 says why it restarted web"
db_again=$("$C" exec 1 journalctl -u fleetd.service --since "$since" --no-pager -o json --output-fields=MESSAGE 2>/dev/null |
        python3 -c 'import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if "dep-db.service: container dep-db is healthy" in str(e.get("MESSAGE")):
        print(e["__REALTIME_TIMESTAMP"]); break')
web_again=$("$C" exec 2 journalctl -u fleetd.service --since "$since" --no-pager -o json --output-fields=MESSAGE 2>/dev/null |
        python3 -c 'import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if "Restarting dep-web.service" in str(e.get("MESSAGE")):
        print(e["__REALTIME_TIMESTAMP"]); break')
[ -n "$db_again" ] && [ -n "$web_again" ] && [ "$web_again" -gt "$db_again" ]
ok $? "web is restarted ($web_again) after db is healthy again ($db_again)"

"$FLEETCTL" destroy dep-web.service dep-db.service >/dev/null 2>&1
done_testing
