#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tools/cluster as a command: its errors and usage, "down" of a cluster that is not up, two
# clusters (ids 41 and 42) side by side and isolated from each other, exec/run/env/share, and
# "down" of one leaving the other alone.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
. "$HERE/etcd.sh"

cluster_requirements
C=$CLUSTER_TOOL
unset FLEET_CLUSTER FLEETD FLEETD_ARGS
SHARED=$(mktemp -d /tmp/fleet-cluster-share.XXXXXX)
# A fleetd directly in /tmp: the tool must share the file, not all of /tmp.
TMPFLEETD=$(mktemp /tmp/fleet-cluster-fleetd.XXXXXX)
cp "$FAKE_FLEETD" "$TMPFLEETD"
chmod 755 "$TMPFLEETD"
trap '"$C" -c 41 down >/dev/null 2>&1; "$C" -c 42 down >/dev/null 2>&1; rm -rf "$SHARED" "$TMPFLEETD"' EXIT
"$C" -c 41 down >/dev/null 2>&1
"$C" -c 42 down >/dev/null 2>&1

# ------------------------------------------------------------------ errors and usage
if setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$C" 2>/dev/null; then
        out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$C" -c 41 status 2>&1)
        rc=$?
        is "$rc" 1 "not root: exit 1"
        is "$out" "cluster: must run as root (it creates namespaces, a bridge and cgroups)" \
                "not root: says so"
else
        echo "ok $((TAP_COUNT += 1)) # SKIP $C is not readable by nobody"
        echo "ok $((TAP_COUNT += 1)) # SKIP $C is not readable by nobody"
fi
out=$("$C" 2>&1)
is "$?" 2 "no command: exit 2"
check "no command: usage text" grep -q '^usage: cluster ' <<< "$out"
out=$("$C" --help)
is "$?" 0 "--help: exit 0"
check "--help lists every command" bash -c 'for c in up down status env etcd-endpoints cgroup etcd-kill etcd-start \
        exec run kill start restart partition heal freeze thaw node-ip node-pid; do
        grep -qE "^  $c[ |]|\| $c " <<< "$1" || { echo "missing $c"; exit 1; }; done' _ "$out"
out=$("$C" -c 64 status 2>&1)
is "$?:$out" "1:cluster: cluster id must be 0-63, got '64'" "cluster id out of range"
out=$("$C" -c 41 frobnicate 2>&1)
is "$?" 2 "unknown command: exit 2"
out=$("$C" -c 41 exec 0 true 2>&1)
is "$?:$out" "1:cluster: node number must be 1-200, got '0'" "node number out of range"
out=$("$C" -c 41 exec 1 true 2>&1)
is "$?:$out" "1:cluster: node1 is not running" "exec on a cluster that is not up"

out=$("$C" -c 42 down 2>&1)
is "$?:$out" "0:" "down of a cluster that is not up: exit 0, silent"
check "... and it created nothing" \
        bash -c '! ip link show fleetbr42 2>/dev/null && ! [ -e /run/fleet-cluster/42 ]'

# ------------------------------------------------------------------ two clusters at once
echo "seen from a node" > "$SHARED/file"
mkdir "$SHARED/units"
printf '[Service]\nExecStart=/bin/sleep infinity\n' > "$SHARED/units/fleet-cluster-test.service"
FLEET_CLUSTER_SHARE=$SHARED FLEET_CLUSTER_UNITS=$SHARED/units "$C" -c 41 up 2 > "$SHARED/up41.out" 2>&1 &
p41=$!
FLEET_CLUSTER=42 "$C" up 1 --fleetd "$TMPFLEETD" > "$SHARED/up42.out" 2>&1 &
p42=$!
wait $p41
ok $? "cluster 41 came up" || diag "$(cat "$SHARED/up41.out")"
wait $p42
ok $? "cluster 42 came up at the same time" || diag "$(cat "$SHARED/up42.out")"
is "$(tail -1 "$SHARED/up41.out")" "etcd: http://10.99.41.1:24110" "up prints the node-side etcd URL"
is "$("$C" -c 41 node-ip 2) $("$C" -c 42 node-ip 1)" "10.99.41.12 10.99.42.11" "addresses derive from the id"
E41=$("$C" -c 41 etcd-endpoints)
E42=$(FLEET_CLUSTER=42 "$C" etcd-endpoints)
is "$E41 $E42" "http://127.0.0.1:24110 http://127.0.0.1:24210" "each cluster has its own etcd"
check "a key put in cluster 41's etcd" etcd_put "$E41" /fleet-cluster-test/only-41 yes
check "... is not in cluster 42's" etcd_absent "$E42" /fleet-cluster-test/only-41
check "a node of 41 reaches its etcd" "$C" -c 41 exec 1 curl -sf -m 2 http://10.99.41.1:24110/health
check "... and not cluster 42's network" \
        bash -c "! '$C' -c 41 exec 1 curl -sf -m 2 http://10.99.42.1:24210/health"
"$C" -c 41 exec 1 curl -s -m 2 http://10.99.41.12:1/
is "$?" 7 "node1 of 41 reaches node2 of 41 (connection refused, not a timeout)"
isnt "$("$C" -c 41 exec 1 cat /etc/machine-id)" "$("$C" -c 42 exec 1 cat /etc/machine-id)" \
        "node1 of 41 and node1 of 42 are different machines"
# CNI's state (host-local's leases and last address) is each machine's, as on real machines.
check "a file in node1's /var/lib/cni" "$C" -c 41 exec 1 sh -c 'mkdir -p /var/lib/cni/networks && touch /var/lib/cni/networks/only-node1'
check "... is not in node2's, nor the host's" \
        bash -c "! '$C' -c 41 exec 2 test -e /var/lib/cni/networks/only-node1 && ! test -e /var/lib/cni/networks/only-node1"

# ------------------------------------------------------------------ exec, run, env, share
is "$(cd "$TOP_SRCDIR" && "$C" -c 41 exec 1 pwd)" "$TOP_SRCDIR" "exec keeps the working directory"
is "$("$C" -c 41 exec 1 cat "$SHARED/file")" "seen from a node" \
        "FLEET_CLUSTER_SHARE shows a /tmp dir in the nodes"
is "$("$C" -c 41 exec 2 cat "$SHARED/file")" "seen from a node" "... in every node"
"$C" -c 41 run 1 sh -c 'exit 7'
is "$?" 7 "run passes the exit code through"
check "run runs CMD as a transient unit of the node's systemd" \
        bash -c "'$C' -c 41 run 1 cat /proc/self/cgroup | grep -q '^0::/system.slice/run-.*\\.service$'"
is "$("$C" -c 41 run 2 hostname)" node2 "run runs in the node"
is "$("$C" -c 41 exec 2 systemctl is-active fleet-cluster-test.service)" active \
        "FLEET_CLUSTER_UNITS: the node started the extra unit at boot"
is "$(FLEET_CLUSTER=42 "$C" exec 1 systemctl is-active fleet-cluster-test.service)" inactive \
        "... only in the cluster it was given to"
out=$("$C" -c 41 env)
ok $? "env"
is "$(eval "$out"; echo "$FLEET_CLUSTER $ETCDCTL_ENDPOINTS $FLEET_NODES $FLEET_NODE2_IP")" \
        "41 http://127.0.0.1:24110 1 2 10.99.41.12" "env prints shell exports"
check "etcdctl works with env's exports" \
        bash -c "eval \"\$('$C' -c 41 env)\"; etcdctl get /fleet-cluster-test/only-41 | grep -qx yes"

is "$(FLEET_CLUSTER=42 "$C" exec 1 systemctl is-active fleetd.service)" active \
        "a fleetd lying directly in /tmp runs in the node"
check "... without the host's /tmp in the node" bash -c "! FLEET_CLUSTER=42 '$C' exec 1 test -e '$SHARED/file'"

# ------------------------------------------------------------------ up again restarts what is down
pid41=$("$C" -c 41 node-pid 2)
"$C" -c 41 etcd-kill 1
check "etcd of 41 is down" bash -c "! curl -sf -m 2 $E41/health"
out=$("$C" -c 41 up 2 2>&1)
ok $? "up on a running cluster" || diag "$out"
check "... started its etcd member again" curl -sf -m 2 "$E41/health"
check "... which kept its data" etcd_get "$E41" /fleet-cluster-test/only-41
is "$("$C" -c 41 node-pid 2)" "$pid41" "... and left the running nodes alone"

# ------------------------------------------------------------------ down of one leaves the other
pid41=$("$C" -c 41 node-pid 1)
"$C" -c 42 down
ok $? "down 42"
check "cluster 42's bridge is gone" bash -c '! ip link show fleetbr42 2>/dev/null'
check "cluster 41's bridge is still there" ip link show fleetbr41
is "$("$C" -c 41 node-pid 1)" "$pid41" "cluster 41's node1 still runs"
check "cluster 41's etcd still answers" etcd_get "$E41" /fleet-cluster-test/only-41
is "$("$C" -c 41 status | grep -c ' running$')" 2 "status of 41: both nodes running"
is "$("$C" -c 42 status)" "cluster 42: not up" "status of 42: not up"
"$C" -c 41 down
ok $? "down 41"
is "$(ip netns list | grep -cE '^fleet4[12]-')" 0 "no netns of 41 or 42 left"

done_testing
