#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tools/cluster up --etcd-per-machine (the CoreOS and Vagrant shape), on cluster id 36: each of 3
# nodes runs its own etcd member as a unit of its own systemd, and the members are one cluster.
# fake-fleetd.sh is every node's fleetd and lists its own member first. A partition cuts a machine
# together with its member: the member, a minority of one, keeps the machine's stale registration
# while the majority expires it; after the heal it catches up. An etcd member killed and started,
# a power cut and restart, a freeze and thaw, and down leaving nothing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
. "$HERE/etcd.sh"

cluster_requirements
FAKE=${FAKE_FLEETD:-$HERE/fake-fleetd.sh}

export FLEET_CLUSTER=36
C=$CLUSTER_TOOL
NET=10.99.36
TTL=3
trap '"$C" down >/dev/null 2>&1' EXIT
"$C" down >/dev/null 2>&1    # what an aborted earlier run may have left

member() {   # member N: member eN's client URL (as the host and the nodes reach it)
        echo "http://$NET.$((10 + $1)):2379"
}

machine_key() {
        echo "/fleet-cluster-test/machines/$1"
}

in_node() {   # in_node N CMD...: CMD in node N's namespaces
        "$C" exec "$1" "${@:2}"
}

node_get() {   # node_get N KEY: a serializable read of KEY on node N's own member, from node N
        in_node "$1" bash -c '. "$1"; etcd_get "$2" "$3" serializable' _ "$HERE/etcd.sh" "$(member "$1")" "$2"
}

# ------------------------------------------------------------------ up
out=$("$C" up --etcd-per-machine 3 3 2>&1)
is "$?:$out" "1:cluster: --etcd-per-machine: every node runs a member, give no ETCD_MEMBERS" \
        "--etcd-per-machine with a member count: refused"
out=$("$C" up --etcd-per-machine 3 --fleetd "$FAKE" --agent-ttl "${TTL}s" 2>&1)
ok $? "up --etcd-per-machine 3" || { diag "$out"; bail_out "no cluster"; }
E="$(member 1),$(member 2),$(member 3)"
is "$(tail -1 <<< "$out")" "etcd: $E" "up prints the members' URLs at the nodes' addresses"
is "$("$C" etcd-endpoints)" "$E" "etcd-endpoints gives the same (the host reaches them over the bridge)"
is "$("$C" status | grep -c '^etcd e[123] in node[123] http://10\.99\.36\.1[123]:2379 healthy$')" 3 \
        "status: three healthy members, one per node"
check "no etcd of this cluster runs on the host" \
        bash -c '! compgen -G "/run/fleet-cluster/36/etcd/e*.pid" && ! grep -qs "fleet-cluster-36/etcd" /proc/[0-9]*/cgroup'

declare -A MID
for n in 1 2 3; do
        is "$(in_node $n systemctl is-active etcd-member.service)" active \
                "node$n: etcd-member.service runs under the node's own systemd"
        p=$(in_node $n systemctl show -P MainPID etcd-member.service)
        # MainPID is in the node's pid namespace; the node's /proc shows its network namespace.
        is "$(in_node $n readlink "/proc/$p/ns/net")" "$(readlink "/proc/$("$C" node-pid $n)/ns/net")" \
                "node$n: the member is in the node's network namespace"
        is "$(cat "/proc/$(head -1 "$("$C" cgroup)/node$n/system.slice/etcd-member.service/cgroup.procs")/comm")" \
                etcd "node$n: ... and in the node's cgroup (as 'cgroup' names it)"
        mine=$(member $n)
        is "$(in_node $n sed -n 's/^FLEET_ETCD_SERVERS=//p' /run/fleet-harness/env | cut -d, -f1)" "$mine" \
                "node$n: fleetd lists its own member first"
        is "$(in_node $n sed -n 's/^FLEET_ETCD_SERVERS=//p' /run/fleet-harness/env | tr , '\n' | sort | paste -sd,)" \
                "$E" "node$n: ... and every member"
        MID[$n]=$(in_node $n cat /etc/machine-id)
done

check "a key put through e1" etcd_put "$(member 1)" /fleet-cluster-test/k one
check "... is read through e3: the members are one cluster" \
        wait_for 10 etcd_get "$(member 3)" /fleet-cluster-test/k
for n in 1 2 3; do
        check "node$n's stand-in agent registered" wait_for 30 etcd_get "$(member 1)" "$(machine_key "${MID[$n]}")"
done

# ------------------------------------------------------------------ partition: machine and member cut
"$C" partition 3
ok $? "partition node3"
check "the host no longer reaches e3" bash -c "! curl -sf -m 2 $(member 3)/health"
check "node3 still reaches its own member" in_node 3 curl -sf -m 2 "$(member 3)/version"
check "... but not e1" bash -c "! '$C' exec 3 curl -sf -m 2 $(member 1)/version"
check "the majority expires node3's registration (TTL ${TTL}s)" \
        wait_for $((TTL * 10)) etcd_absent "$(member 1)" "$(machine_key "${MID[3]}")"
check "node3's own member, a minority of one, still shows it (a stale serializable read)" \
        node_get 3 "$(machine_key "${MID[3]}")"
check "a write through e1 succeeds" etcd_put "$(member 1)" /fleet-cluster-test/during partitioned
check "... a write through e3 does not (no quorum)" \
        bash -c "! '$C' exec 3 curl -sf -m 3 $(member 3)/v3/kv/put -d '{\"key\":\"$(b64 x)\",\"value\":\"$(b64 y)\"}'"
"$C" heal 3
ok $? "heal node3"
check "e3 catches up with the write made while it was cut off" \
        wait_for 30 node_get 3 /fleet-cluster-test/during
check "node3 registers again" wait_for 30 etcd_get "$(member 1)" "$(machine_key "${MID[3]}")"

# ------------------------------------------------------------------ one member killed and started
pid2=$("$C" node-pid 2)
"$C" etcd-kill 2
ok $? "etcd-kill 2"
check "e2 does not answer" bash -c "! curl -sf -m 2 $(member 2)/health"
is "$(in_node 2 systemctl is-active etcd-member.service)" failed "... its unit failed (SIGKILL), not restarted"
is "$("$C" node-pid 2)" "$pid2" "... and node2 still runs"
check "the two others serve writes" wait_for 30 etcd_put "$(member 1)" /fleet-cluster-test/k two
out=$("$C" etcd-start 2 2>&1)
ok $? "etcd-start 2 waits until e2 is healthy" || diag "$out"
check "e2 kept its data and caught up" wait_for 10 bash -c \
        ". '$HERE/etcd.sh'; [ \"\$(etcd_get $(member 2) /fleet-cluster-test/k serializable)\" = two ]"

# ------------------------------------------------------------------ power cut, restart
"$C" kill 1
ok $? "power cut of node1"
check "e1 went down with its machine" bash -c "! curl -sf -m 2 $(member 1)/health"
# If e1 led, e2 and e3 elect a leader first (1-2 s, more under load): a write may wait for that.
check "e2 and e3 still have a quorum" wait_for 30 etcd_put "$(member 2)" /fleet-cluster-test/k three
out=$("$C" start 1 2>&1)
ok $? "start node1" || diag "$out"
check "node1 boots its member again, which catches up" wait_for 60 bash -c \
        ". '$HERE/etcd.sh'; [ \"\$(etcd_get $(member 1) /fleet-cluster-test/k serializable)\" = three ]"
check "node1 registers again" wait_for 30 etcd_get "$(member 2)" "$(machine_key "${MID[1]}")"

# ------------------------------------------------------------------ freeze, thaw
"$C" freeze 2
ok $? "freeze node2"
check "its member froze with it" bash -c "! curl -sf -m 2 $(member 2)/health"
"$C" thaw 2
ok $? "thaw node2"
check "... and answers again after the thaw" wait_for 30 curl -sf -m 2 "$(member 2)/health"

# ------------------------------------------------------------------ down
data=$(cat /run/fleet-cluster/36/etcd/data)
"$C" down
ok $? "down"
check "the members' data is gone" bash -c "! [ -e '$data' ]"
is "$(ip netns list | grep -c '^fleet36-')" 0 "no netns of 36 left"

done_testing
