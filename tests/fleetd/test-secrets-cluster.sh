#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Secrets and configs, end to end (issue 15), on cluster id 26: 2 nodes with real systemd as PID 1,
# real etcd, the real fleetd, a real podman container from the unit unitgen makes of a compose file
# with a file: secret and a file: config. tools/cluster gives every node the cluster's one key.
# fleetctl compose up creates the objects; the container reads the secret at /run/secrets/NAME
# with the mode and owner asked, and the config at its target; the value is not in clear in etcd
# (the raw key) nor on a disk (etcd's data, the nodes' podman storage and fleet state; the files
# served are on a tmpfs); secret rm is refused while the unit uses it; a changed value rewrites the
# secret and the unit's text (its Secret= line's digest=), so compose up rolls the unit and its new
# container reads the new value; a power cut moves the unit and the secret with it, and the machine comes
# back without them; a unit naming a secret that does not exist waits, with the reason in
# list-units and list-unit-files, and starts when it is created.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] && [ -x "${UNITGEN:-}" ] || skip_all "fleetd, fleetctl or unitgen was not built"
for b in podman runc busybox etcdctl; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done

export FLEET_CLUSTER=26
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/secrets-cluster.XXXXXX)   # /tmp is private to each node
cleanup() {
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

# The image: busybox-static, from Debian's package (no registry).
mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" "$TMP/rootfs/dev" \
        "$TMP/rootfs/tmp" "$TMP/rootfs/run"
cp "$(command -v busybox)" "$TMP/rootfs/bin/"
for a in sh cat sleep stat grep; do ln -s busybox "$TMP/rootfs/bin/$a"; done
tar -C "$TMP/rootfs" -cf "$TMP/bb.tar" .

out=$(FLEET_CLUSTER_SHARE=$TMP "$C" up 2 1 --fleetd "$FLEETD" --agent-ttl 5s 2>&1)
ok $? "up 2 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
eval "$("$C" env)"
export FLEETCTL_ENDPOINT FLEETCTL_CLUSTER_KEY ETCDCTL_API ETCDCTL_ENDPOINTS
for n in 1 2; do
        "$C" exec $n podman import -q "$TMP/bb.tar" localhost/secrets-bb:latest >/dev/null
done

# ---------------------------------------------------------------- the cluster key
diag "the cluster key (at ${SECONDS} s)"
host_key=$(sha256sum < "$FLEETCTL_CLUSTER_KEY")
is "$(stat -c %a "$FLEETCTL_CLUSTER_KEY")" 400 "the cluster's key is 0400 on the host (tools/cluster env: $FLEETCTL_CLUSTER_KEY)"
for n in 1 2; do
        is "$("$C" exec $n stat -c '%a %U' /run/fleet-harness/cluster.key 2>&1)" "400 root" \
                "node$n has the cluster key, root-only"
        is "$("$C" exec $n cat /run/fleet-harness/cluster.key | sha256sum)" "$host_key" "node$n's key is the cluster's one key"
done

# ---------------------------------------------------------------- compose up
diag "compose up (at ${SECONDS} s)"
V1="s3cr3t-$RANDOM-$RANDOM-one"
V2="s3cr3t-$RANDOM-$RANDOM-two"
CONF="listen=8080 conf-$RANDOM"
mkdir -p "$TMP/app"
printf '%s' "$V1" > "$TMP/app/db_password.txt"
printf '%s\n' "$CONF" > "$TMP/app/app.conf"
cat > "$TMP/app/compose.yaml" <<YAML
name: sc
services:
  app:
    image: localhost/secrets-bb:latest
    runtime: runc
    pids_limit: -1
    network_mode: host
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    stop_grace_period: 1s
    secrets:
      - source: db_password
        uid: "1000"
        gid: "1001"
        mode: 0400
    configs:
      - source: app_conf
        target: /etc/app.conf
secrets:
  db_password:
    file: ./db_password.txt
configs:
  app_conf:
    file: ./app.conf
YAML
cd "$TMP/app" || bail_out "no app"

row() { "$FLEETCTL" list-units --no-legend --fields unit,active,machine,reason 2>/dev/null | awk -v u="$1" '$1 == u'; }
node_of() { local ip; ip=$(row "$1" | awk '$2 == "active" { m = $3; sub(/.*\//, "", m); print m }'); [ -n "$ip" ] && echo $(( ${ip##*.} - 10 )); }
running_on() { [ "$(node_of sc-app.service)" = "$1" ]; }
in_app() { "$C" exec "$1" podman exec sc-app "${@:2}" 2>&1; }

out=$("$FLEETCTL" compose up 2>&1)
ok $? "fleetctl compose up creates the secret and the config and starts the app" || diag "$out"
"$FLEETCTL" secret ls --no-legend 2>/dev/null | awk '$1 == "sc_db_password" { f = 1 } END { exit !f }'
ok $? "secret ls lists the project's secret (sc_db_password)"
"$FLEETCTL" config ls --no-legend 2>/dev/null | awk '$1 == "sc_app_conf" { f = 1 } END { exit !f }'
ok $? "config ls lists the project's config (sc_app_conf)"
wait_for 120 node_of sc-app.service
ok $? "sc-app.service is active" || diag "$("$FLEETCTL" list-units 2>&1)"
node=$(node_of sc-app.service)
other=$((3 - ${node:-1}))
app_has() { [ "$(in_app "$1" cat /run/secrets/db_password)" = "$2" ]; }
wait_for 60 app_has "$node" "$V1"
ok $? "the container on node$node reads the secret at /run/secrets/db_password" ||
        diag "$(in_app "$node" cat /run/secrets/db_password)"
is "$(in_app "$node" stat -c '%a %u %g' /run/secrets/db_password)" "400 1000 1001" \
        "with the mode and owner compose asked (0400, uid 1000, gid 1001)"
is "$(in_app "$node" cat /etc/app.conf)" "$CONF" "the config is at its target, /etc/app.conf"
is "$(in_app "$node" stat -c '%a %u %g' /etc/app.conf)" "444 0 0" "with docker's defaults (0444, root)"
# The mount's source filesystem, as the container's kernel sees it: the value is served from a tmpfs.
is "$(in_app "$node" grep ' /run/secrets/db_password ' /proc/self/mountinfo | awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $(i + 1); exit } }')" \
        tmpfs "the container's /run/secrets/db_password is a bind of a file on a tmpfs"
is "$("$C" exec "$node" stat -f -c %T /run/fleet/objects/sc-app.service/secrets/sc_db_password 2>&1)" tmpfs \
        "node$node materialised it under /run/fleet/objects/sc-app.service/ (a tmpfs)"

# ---------------------------------------------------------------- not in clear anywhere
diag "not in clear anywhere (at ${SECONDS} s)"
prefix=/_coreos.com/fleet
raw=$(etcdctl get --prefix "$prefix/" -w json 2>&1)
[ -n "$raw" ] && printf '%s' "$raw" | grep -q '"count"'
ok $? "etcd's keys read raw (etcdctl get --prefix $prefix/)" || diag "$raw"
dump=$(etcdctl get --prefix "$prefix/" 2>/dev/null)
printf '%s' "$dump" | grep -q "^$prefix/secrets/sc_db_password$"
ok $? "the secret's record is there"
! printf '%s' "$dump" | grep -qF "$V1" && ! printf '%s' "$dump" | grep -qF "$(printf '%s' "$V1" | base64 -w0)"
ok $? "the value is not in clear in etcd, nor in base64"
printf '%s' "$dump" | grep -qF "$(printf '%s\n' "$CONF" | base64 -w0)"
ok $? "the config is stored in clear (base64), as docker's"
on_disk() {   # files on a disk that hold $1: etcd's data, and each node's podman storage and fleet state
        local d=$(cat "/run/fleet-cluster/26/etcd/data") n
        grep -rlaF "$1" "$d" 2>/dev/null
        for n in 1 2; do
                "$C" exec $n grep -rlaF "$1" /var/lib/containers /var/lib/fleet 2>/dev/null
        done
}
etcdctl snapshot save "$TMP/etcd.snap" >/dev/null 2>&1
found=$(on_disk "$V1"; grep -laF "$V1" "$TMP/etcd.snap")
is "$found" "" "nor in etcd's data, an etcd snapshot or the nodes' container storage and state"
"$FLEETCTL" secret inspect sc_db_password 2>/dev/null | grep -qF "$V1"
isnt $? 0 "secret inspect does not show it"

# ---------------------------------------------------------------- in use
diag "in use (at ${SECONDS} s)"
out=$("$FLEETCTL" secret rm sc_db_password 2>&1)
rc=$?
[ $rc -ne 0 ] && printf '%s' "$out" | grep -q "sc-app.service"
ok $? "secret rm is refused while sc-app.service uses it, naming the unit" || diag "exit $rc: $out"
etcdctl get "$prefix/secrets/sc_db_password" --print-value-only 2>/dev/null | grep -q '"data"'
ok $? "and the record is still there"

# ---------------------------------------------------------------- a changed value rolls the unit
diag "a changed value rolls the unit (at ${SECONDS} s)"
digest() { "$FLEETCTL" secret inspect sc_db_password 2>/dev/null | sed -n 's/.*"Digest": *"\([0-9a-f]*\)".*/\1/p'; }
d1=$(digest)
printf '%s' "$V2" > "$TMP/app/db_password.txt"
out=$("$FLEETCTL" compose up 2>&1)
ok $? "compose up with the secret's file changed" || diag "$out"
d2=$(digest)
[ -n "$d1" ] && [ -n "$d2" ] && [ "$d1" != "$d2" ]
ok $? "it rewrote the secret (digest ${d1:0:16} -> ${d2:0:16})"
# The unit's Secret= line carries the value's digest, so its text changed with the value alone,
# and compose up's converge replaced it: its new container mounts the new value.
"$FLEETCTL" cat sc-app.service 2>/dev/null | grep -q "^Secret=sc_db_password .*digest=${d2:0:16}"
ok $? "the unit's Secret= line carries the new digest" || diag "$("$FLEETCTL" cat sc-app.service 2>&1 | grep ^Secret=)"
rolled() { local n; n=$(node_of sc-app.service) && app_has "$n" "$V2"; }
wait_for 120 rolled
ok $? "compose up rolled the unit: its new container reads the new value" || diag "$(in_app "$(node_of sc-app.service)" cat /run/secrets/db_password)"
node=$(node_of sc-app.service)
other=$((3 - node))
found=$(on_disk "$V2")
is "$found" "" "the new value is not on a disk either"

# ---------------------------------------------------------------- a power cut moves it
diag "a power cut moves it (at ${SECONDS} s)"
"$C" kill "$node" >/dev/null 2>&1
ok $? "power cut of node$node"
wait_for 180 running_on "$other"
ok $? "sc-app.service moved to node$other" || diag "$("$FLEETCTL" list-units 2>&1)"
wait_for 60 app_has "$other" "$V2"
ok $? "its container on node$other reads the secret" || diag "$(in_app "$other" cat /run/secrets/db_password)"
is "$(in_app "$other" stat -c '%a %u %g' /run/secrets/db_password)" "400 1000 1001" "0400, uid 1000, gid 1001 there too"
out=$("$C" start "$node" 2>&1)
ok $? "node$node is back" || diag "$out"
has_dir() { "$C" exec "$1" test -e /run/fleet/objects/sc-app.service; }
no_dir() { ! has_dir "$1"; }
machine_back() { "$FLEETCTL" list-machines --no-legend 2>/dev/null | grep -c . | grep -qx 2; }
wait_for 120 machine_back
! has_dir "$node"
ok $? "node$node, back, holds no file of sc-app.service"

# ---------------------------------------------------------------- removing the unit
diag "removing the unit (at ${SECONDS} s)"
has_dir "$other"
ok $? "node$other holds sc-app.service's files"
out=$("$FLEETCTL" destroy sc-app.service 2>&1)
ok $? "fleetctl destroy sc-app.service" || diag "$out"
wait_for 120 no_dir "$other"
ok $? "node$other removed sc-app.service's files"
out=$("$FLEETCTL" secret rm sc_db_password 2>&1)
ok $? "secret rm once no unit uses it" || diag "$out"

# ---------------------------------------------------------------- a missing secret holds the unit
diag "a missing secret holds the unit (at ${SECONDS} s)"
cat > "$TMP/waiter.service" <<EOF
[Service]
ExecStart=/bin/sh -c 'cat /run/fleet/objects/%n/secrets/later > /dev/null && exec sleep infinity'

[X-Fleet]
Secret=later mode=0400
EOF
out=$("$FLEETCTL" start --no-block "$TMP/waiter.service" 2>&1)
ok $? "a unit naming the secret 'later', which does not exist, is submitted" || diag "$out"
reason_is() { row waiter.service | grep -q "secret later does not exist in the cluster"; }
wait_for 120 reason_is
ok $? "list-units says why it does not start" || diag "$("$FLEETCTL" list-units 2>&1)"
"$FLEETCTL" list-unit-files --no-legend --fields unit,reason 2>/dev/null | grep "^waiter.service" |
        grep -q "secret later does not exist"
ok $? "list-unit-files too"
printf 'v-%s' "$RANDOM" | "$FLEETCTL" secret create later - >/dev/null 2>&1
ok $? "secret create later"
wait_for 120 node_of waiter.service
ok $? "the unit starts once the secret exists" || diag "$("$FLEETCTL" list-units 2>&1)"

"$FLEETCTL" destroy waiter.service >/dev/null 2>&1

# ---------------------------------------------------------------- destroyed, then submitted again changed
# The old body takes 3 s to stop; the new one comes while it stops, to the same machine. The agent
# used to remove the file and reload at once, then write the new body: systemd, still stopping the
# old unit, failed to load it ("failed to load properly: Device or resource busy"), and the start
# that followed could cancel the stop and leave the old body running.
diag "destroyed, then submitted again with a changed body (at ${SECONDS} s)"
mid=$("$C" exec 1 cat /etc/machine-id 2>/dev/null)
again_body() {
        cat > "$TMP/again.service" <<EOF
[Service]
ExecStart=/bin/sh -c 'trap "sleep 3; exit 0" TERM; while :; do sleep 0.2; done' again-$1

[X-Fleet]
MachineID=$mid
EOF
}
# The command line of the process node1's systemd runs for again.service ("" if none).
again_cmdline() {
        local pid
        pid=$("$C" exec 1 systemctl show -P MainPID again.service 2>/dev/null)
        [ -n "$pid" ] && [ "$pid" != 0 ] && "$C" exec 1 cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' '
}
runs_body() { again_cmdline | grep -q "again-$1 *$"; }
since=$("$C" exec 1 date '+%Y-%m-%d %H:%M:%S')
again_body one
out=$("$FLEETCTL" start --no-block "$TMP/again.service" 2>&1)
ok $? "again.service (body one) submitted to node1" || diag "$out"
wait_for 60 runs_body one
ok $? "node1 runs body one" || diag "$(again_cmdline)"
again_body two
out=$("$FLEETCTL" destroy again.service 2>&1 && "$FLEETCTL" start --no-block "$TMP/again.service" 2>&1)
ok $? "destroyed and submitted again at once, with body two" || diag "$out"
wait_for 90 runs_body two
ok $? "node1 runs body two, not the old one" || diag "$(again_cmdline); $("$FLEETCTL" list-units 2>&1)"
busy=$("$C" exec 1 journalctl -u fleetd.service --since "$since" --no-pager -o cat 2>/dev/null | grep "again.service.*failed to load")
is "$busy" "" "the agent never had systemd load the new body under the stopping old one"
"$FLEETCTL" destroy again.service >/dev/null 2>&1

# fleetd did all that without a crash (with FLEETD built with -Db_sanitize=address,undefined, this
# is where a sanitizer's report shows).
for n in 1 2; do
        restarts=$("$C" exec $n systemctl show -P NRestarts fleetd.service 2>&1)
        reports=$("$C" exec $n journalctl -u fleetd.service --no-pager -o cat 2>/dev/null |
                grep -E "AddressSanitizer|LeakSanitizer|runtime error:")
        [ "$restarts" = 0 ] && [ -z "$reports" ]
        ok $? "node$n's fleetd never crashed this boot (NRestarts $restarts, no sanitizer report)" || diag "$reports"
done
done_testing
