#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# fleetctl compose up converges, end to end, on cluster id 46: 3 nodes with real systemd, real
# etcd, the real fleetd and real podman containers. A 6-replica service is updated through compose
# up after an image tag change, with update_config parallelism 2, delay 2s: sampled all along, never
# fewer than 4 replicas are active, and every replica ends on the new body, active. A failing new
# version (an image tag that does not exist) with failure_action: rollback ends with every replica
# back on the old body, active, and compose up exits 1. up twice with no change restarts nothing (same MainPID). A service removed
# from the file is listed, kept, and destroyed only with --remove-orphans; down -p removes the rest.
# fleetctl start stops waiting for a unit that fails, and gives up on an unplaceable one at
# --timeout with the engine's reason.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] || skip_all "fleetd or fleetctl was not built"
for b in podman runc busybox; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done

export FLEET_CLUSTER=46
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/compose-cluster.XXXXXX)   # /tmp is private to each node
SAMPLER=
cleanup() {
        [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

out=$("$C" up 3 3 --fleetd "$FLEETD" 2>&1)
ok $? "up 3 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
wait_for 60 "$C" exec 1 test -s /etc/cni/net.d/fleet.conflist ||
        skip_all "fleetd set up no cluster network on node1 (no data plane in this build)"

# Two tags of one locally built image: the "new version" is the tag change.
bash "$TOP_SRCDIR/examples/visits/make-images.sh" "$TMP" >/dev/null || bail_out "no image"
for n in 1 2 3; do
        "$C" exec $n podman import -q "$TMP/visits-web.tar" localhost/up-bb:1 >/dev/null &&
                "$C" exec $n podman tag localhost/up-bb:1 localhost/up-bb:2 || bail_out "image on node$n"
done

mkdir -p "$TMP/app"
cd "$TMP/app" || bail_out "no app directory"
compose() {   # compose TAG COMMAND [AUX]: the file, web at image TAG running COMMAND, with aux if AUX
        cat <<YAML
name: up
x-c: &c
  runtime: runc
  pull_policy: never
  pids_limit: -1
  ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
  stop_grace_period: 1s
services:
  web:
    <<: *c
    image: localhost/up-bb:$1
    command: ["sh", "-c", "$2"]
    deploy:
      replicas: 6
      update_config: {parallelism: 2, delay: 2s, monitor: 2s, failure_action: rollback}
      rollback_config: {parallelism: 3, monitor: 1s}
YAML
        [ -n "${3:-}" ] && cat <<YAML
  aux:
    <<: *c
    image: localhost/up-bb:1
    command: ["sleep", "100000"]
YAML
}
compose 1 "exec sleep 100000" aux > compose.yaml

fc() { "$FLEETCTL" "$@"; }
web_units() { fc list-units --no-legend --fields unit,active,hash -l 2>/dev/null | grep '^up-web@[1-6]\.service'; }
n_active() { web_units | awk '$2 == "active"' | wc -l; }
all_active() { [ "$(n_active)" -eq 6 ]; }
body_hash() { fc list-unit-files --no-legend --fields unit,hash -l 2>/dev/null | awk -v u="$1" '$1 == u { print $2 }'; }
# Every replica reports its unit's current body, active, and that body contains NEEDLE.
all_on_body_with() {
        local i u h
        for i in 1 2 3 4 5 6; do
                u=up-web@$i.service
                h=$(body_hash "$u")
                web_units | awk -v u="$u" -v h="$h" '$1 == u && $2 == "active" && $3 == h { f = 1 } END { exit !f }' || return 1
                fc cat "$u" 2>/dev/null | grep -qF -- "$1" || return 1
        done
}
node_of() { fc list-units --no-legend --fields unit,machine 2>/dev/null | awk -v u="$1" '$1 == u { sub(/.*\.1/, "", $2); print $2 }'; }
main_pid() { "$C" exec "$(node_of "$1")" systemctl show -P MainPID "$1" 2>/dev/null; }

out=$(fc compose up 2>&1)
ok $? "compose up starts the project and waits for it" || diag "$out"
wait_for 120 all_active
ok $? "6 web replicas active" || diag "$(fc list-units 2>&1)"
pid1=$(main_pid up-web@1.service); pida=$(main_pid up-aux.service)
ok "$([ -n "$pid1" ] && [ "$pid1" != 0 ] && [ -n "$pida" ] && [ "$pida" != 0 ]; echo $?)" "their MainPIDs ($pid1, $pida)"

out=$(fc compose up 2>&1)
ok $? "compose up again" || diag "$out"
check "it says the project is up to date" grep -q "up to date" <<< "$out"
is "$(main_pid up-web@1.service) $(main_pid up-aux.service)" "$pid1 $pida" "nothing restarted: same MainPIDs"

# The rolling update, sampled from another process all along.
old_hash=$(body_hash up-web@1.service)
: > "$TMP/samples"
( while :; do n_active >> "$TMP/samples"; sleep 0.2; done ) &
SAMPLER=$!
compose 2 "exec sleep 100000" aux > compose.yaml
out=$(fc compose up 2>&1)
ok $? "compose up after the image tag change: a rolling update" || diag "$out"
kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null; SAMPLER=
check "it went 2 by 2" grep -q "Updating web: 5-6 of 6" <<< "$out"
min=$(sort -n "$TMP/samples" | head -n 1)
ok "$([ "$(wc -l < "$TMP/samples")" -ge 10 ] && [ "$min" -ge 4 ]; echo $?)" \
        "never fewer than 4 of 6 replicas active ($(wc -l < "$TMP/samples") samples, min $min)"
wait_for 60 all_on_body_with "localhost/up-bb:2"
ok $? "every replica active on the new body" || diag "$(fc list-units 2>&1)"
new_hash=$(body_hash up-web@1.service)
isnt "$new_hash" "$old_hash" "the body changed"
is "$(main_pid up-aux.service)" "$pida" "the unchanged service was not restarted"

# A new version that fails (its image tag does not exist): rolled back.
compose missing "exec sleep 100000" aux > compose.yaml
out=$(fc compose up 2>&1)
rc=$?
ok "$([ $rc -ne 0 ]; echo $?)" "compose up of a failing version exits non-zero ($rc)" || diag "$out"
check "it says it rolled back" grep -q "rolled back" <<< "$out" || diag "$out"
wait_for 60 all_on_body_with "localhost/up-bb:2"
ok $? "every replica active on the previous body again" || diag "$(fc list-units 2>&1)"
is "$(body_hash up-web@1.service)" "$new_hash" "the previous hash"

# Orphans.
compose 2 "exec sleep 100000" > compose.yaml
out=$(fc compose up 2>&1)
ok $? "compose up without aux" || diag "$out"
check "aux is listed as an orphan" grep -q "Orphan unit up-aux.service" <<< "$out"
is "$(main_pid up-aux.service)" "$pida" "and keeps running"
out=$(fc compose up --remove-orphans 2>&1)
ok $? "compose up --remove-orphans" || diag "$out"
check "destroys it" grep -q "Destroyed up-aux.service" <<< "$out"

# start: a unit that fails, a unit that cannot be placed.
printf '[Service]\nExecStartPre=/bin/false\nExecStart=/bin/sleep 1000\n' > "$TMP/app/fails.service"
out=$(fc start fails.service 2>&1)
rc=$?
ok "$([ $rc -ne 0 ]; echo $?)" "start of a failing unit stops waiting and exits non-zero ($rc)"
check "it says the unit failed" grep -q "Unit fails.service failed" <<< "$out" || diag "$out"
printf '[Service]\nExecStart=/bin/sleep 1000\n[X-Fleet]\nMachineMetadata=role=nowhere\n' > "$TMP/app/nowhere.service"
out=$(fc start --timeout 20 nowhere.service 2>&1)
rc=$?
ok "$([ $rc -ne 0 ]; echo $?)" "start of an unplaceable unit gives up at --timeout ($rc)"
check "with the engine's reason" grep -q "Unit nowhere.service is not placed: .*role=nowhere" <<< "$out" || diag "$out"

cd / || true
out=$(fc compose -p up down 2>&1)
ok $? "compose -p up down, without the file" || diag "$out"
is "$(fc list-unit-files --no-legend 2>/dev/null | grep -c '^up-')" 0 "no unit of the project is left"

done_testing
