#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The local cluster, end to end, on cluster id 40: 3 nodes with real systemd as PID 1 and 3 real
# etcd members; fake-fleetd.sh as every node's fleetd.service. Identity of each node, systemd over
# /run/systemd/private, a power cut that leaves the others alone, restart with the same
# machine-id, partition/heal and freeze/thaw seen through the stand-in agent's lease, an etcd
# member killed and started, then down leaves nothing behind, and up works again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
. "$HERE/etcd.sh"

cluster_requirements
[ -x "${CLUSTER_PROBE:-}" ] || bail_out "CLUSTER_PROBE is not set (run through meson test)"
FAKE=${FAKE_FLEETD:-$HERE/fake-fleetd.sh}

export FLEET_CLUSTER=40
C=$CLUSTER_TOOL
NET=10.99.40
TTL=3
trap '"$C" down >/dev/null 2>&1' EXIT
"$C" down >/dev/null 2>&1    # what an aborted earlier run may have left

machine_key() {
        echo "/fleet-cluster-test/machines/$1"
}

probe() {   # probe N [UNIT]: the node's systemd answers, over /run/systemd/private
        "$C" exec "$1" "$CLUSTER_PROBE" "${@:2}"
}

field() {   # field KEY TEXT: the value of "KEY=value" in TEXT
        printf '%s\n' "$2" | sed -n "s/^$1=//p"
}

# ------------------------------------------------------------------ up
out=$("$C" up 3 3 --fleetd "$FAKE" --fleetd-args "--flag-a --flag-b=1" --agent-ttl "${TTL}s" \
        --metadata 2=region=eu,disk=ssd 2>&1)
ok $? "up 3 nodes with 3 etcd members" || { diag "$out"; bail_out "no cluster"; }
is "$(printf '%s\n' "$out" | grep -c '^node[123] pid=[0-9]* ip=10\.99\.40\.1[123] running$')" 3 \
        "up prints one running line per node"
E=$("$C" etcd-endpoints)
IFS=, read -r E1 E2 E3 <<< "$E"
is "$E" "http://127.0.0.1:24010,http://127.0.0.1:24020,http://127.0.0.1:24030" \
        "etcd-endpoints gives the host-side URLs derived from the cluster id"

# ------------------------------------------------------------------ identity
declare -A PID MID PROBE
host_mid=$(cat /etc/machine-id)
for n in 1 2 3; do
        PID[$n]=$("$C" node-pid $n)
        MID[$n]=$("$C" exec $n cat /etc/machine-id)
        PROBE[$n]=$(probe $n fleetd.service)
        ok $? "node$n: systemd answers over /run/systemd/private" || diag "${PROBE[$n]}"
        is "$(field SystemState "${PROBE[$n]}")" running "node$n: SystemState=running"
        is "$(field ActiveState "${PROBE[$n]}")" active "node$n: fleetd.service (the stand-in) is active"
        is "$(field Virtualization "${PROBE[$n]}")" container-other \
                "node$n: systemd knows it is in a container"
        is "$(field MachineID "${PROBE[$n]}")" "${MID[$n]}" \
                "node$n: sd_id128_get_machine agrees with /etc/machine-id"
        is "$("$C" exec $n hostname)" "node$n" "node$n: hostname"
        is "$("$C" exec $n cat /etc/hostname)" "node$n" "node$n: /etc/hostname"
        isnt "${MID[$n]}" "$host_mid" "node$n: machine-id is not the host's"
        is "$("$C" exec $n ip -4 -o addr show eth0 | awk '{print $4}')" "$NET.1$n/24" \
                "node$n: eth0 address"
        is "$("$C" node-ip $n)" "$NET.1$n" "node-ip $n"
        is "$(alive "${PID[$n]}" && awk '/^NSpid:/{print $NF}' "/proc/${PID[$n]}/status")" 1 \
                "node-pid $n is PID 1 of its own pid namespace"
done
is "$(printf '%s\n' "${MID[@]}" | sort -u | wc -l)" 3 "three different machine-ids"
is "$(for n in 1 2 3; do "$C" exec $n stat -c '%d:%i' /run/systemd/private; done | sort -u | wc -l)" 3 \
        "each node has its own /run/systemd/private"
check "/etc is read-only in a node" bash -c "! '$C' exec 1 touch /etc/fleet-cluster-test 2>/dev/null"
is "$("$C" exec 1 cat /proc/sys/net/ipv4/ip_forward)" 1 "a node forwards IPv4, as a router machine does"
check "a node's own network sysctls are writable" \
        "$C" exec 1 sh -c 'echo 61 > /proc/sys/net/ipv4/ip_default_ttl && [ "$(cat /proc/sys/net/ipv4/ip_default_ttl)" = 61 ]'
isnt "$(cat /proc/sys/net/ipv4/ip_default_ttl)" 61 "... and they are the node's, not the host's"
isnt "$("$C" exec 2 cat /proc/sys/net/ipv4/ip_default_ttl)" 61 "... nor another node's"
check "the rest of /proc/sys stays read-only in a node" \
        bash -c "! '$C' exec 1 sh -c 'cat /proc/sys/kernel/pid_max > /proc/sys/kernel/pid_max' 2>/dev/null"
"$C" exec 1 touch /tmp/fleet-cluster-private
check "a node's /tmp is private" test ! -e /tmp/fleet-cluster-private

# ------------------------------------------------------------------ fleetd wiring
for n in 1 2 3; do
        wait_for 60 etcd_get "$E1" "$(machine_key "${MID[$n]}")"
        ok $? "node$n: the stand-in fleetd registered with a lease"
done
meta1="hostname=node1"
meta2="hostname=node2,region=eu,disk=ssd"
is "$(etcd_get "$E1" "$(machine_key "${MID[1]}")")" \
        "node1 ip=$NET.11 metadata=$meta1 args=--flag-a --flag-b=1" \
        "node1: fleetd got FLEET_PUBLIC_IP, FLEET_METADATA and FLEETD_ARGS"
is "$(etcd_get "$E1" "$(machine_key "${MID[2]}")")" \
        "node2 ip=$NET.12 metadata=$meta2 args=--flag-a --flag-b=1" \
        "node2: --metadata 2=... reached FLEET_METADATA"
env1=$("$C" exec 1 cat /run/fleet-harness/env)
is "$(field FLEET_ETCD_SERVERS "$env1")" "http://$NET.1:24010,http://$NET.1:24020,http://$NET.1:24030" \
        "env file: FLEET_ETCD_SERVERS are the node-side URLs"
is "$(field FLEET_AGENT_TTL "$env1")" "${TTL}s" "env file: FLEET_AGENT_TTL"
is "$(field MACHINE_ID "$env1")" "${MID[1]}" "env file: MACHINE_ID"

# ------------------------------------------------------------------ power cut of node2
"$C" kill 2
ok $? "kill 2"
check "node2's PID 1 is gone" bash -c "! [ -e /proc/${PID[2]}/stat ] || grep -q ') Z' /proc/${PID[2]}/stat"
check "node-pid 2 fails for a dead node" bash -c "! '$C' node-pid 2"
wait_for 60 etcd_absent "$E1" "$(machine_key "${MID[2]}")"
ok $? "node2's lease expired: its fleetd died with it"
for n in 1 3; do
        is "$("$C" node-pid $n)" "${PID[$n]}" "node$n still runs with the same PID 1"
        is "$(probe $n fleetd.service)" "${PROBE[$n]}" "node$n: systemd gives the same answers"
        check "node$n: its fleetd kept its lease" etcd_get "$E1" "$(machine_key "${MID[$n]}")"
done

out=$("$C" start 2 2>&1)
ok $? "start 2" || diag "$out"
isnt "$("$C" node-pid 2)" "${PID[2]}" "node2 has a new PID 1"
is "$("$C" exec 2 cat /etc/machine-id)" "${MID[2]}" "node2 kept its machine-id across the restart"
is "$(field SystemState "$(probe 2)")" running "node2: systemd answers again"
wait_for 60 etcd_get "$E1" "$(machine_key "${MID[2]}")"
ok $? "node2's fleetd registered again"

pid3=$("$C" node-pid 3)
out=$("$C" restart 3 2>&1)
ok $? "restart 3" || diag "$out"
isnt "$("$C" node-pid 3)" "$pid3" "restart gave node3 a new PID 1"
is "$("$C" exec 3 cat /etc/machine-id)" "${MID[3]}" "node3 kept its machine-id"
PID[2]=$("$C" node-pid 2)
PID[3]=$("$C" node-pid 3)

# ------------------------------------------------------------------ partition and heal node3
wait_for 60 etcd_get "$E1" "$(machine_key "${MID[3]}")"
ok $? "node3 registered before the partition"
"$C" partition 3
ok $? "partition 3"
check "node3 cannot reach etcd" bash -c "! '$C' exec 3 curl -sf -m 2 $NET.1:24010/health"
wait_for 60 etcd_absent "$E1" "$(machine_key "${MID[3]}")"
ok $? "partitioned node3 lost its lease"
is "$("$C" node-pid 3)" "${PID[3]}" "node3 itself still runs"
check "node1 keeps its lease" etcd_get "$E1" "$(machine_key "${MID[1]}")"
"$C" heal 3
ok $? "heal 3"
wait_for 60 etcd_get "$E1" "$(machine_key "${MID[3]}")"
ok $? "healed node3 registered again"

# ------------------------------------------------------------------ freeze and thaw node1
"$C" freeze 1
ok $? "freeze 1"
like_frozen=$("$C" status | grep '^node1 ')
is "${like_frozen##* }" frozen "status shows node1 frozen"
wait_for 60 etcd_absent "$E1" "$(machine_key "${MID[1]}")"
ok $? "frozen node1 lost its lease"
check "frozen node1's PID 1 is still alive" alive "${PID[1]}"
"$C" thaw 1
ok $? "thaw 1"
wait_for 60 etcd_get "$E1" "$(machine_key "${MID[1]}")"
ok $? "thawed node1 registered again"
is "$(field SystemState "$(probe 1)")" running "thawed node1's systemd answers"
is "$("$C" node-pid 1)" "${PID[1]}" "node1 kept its PID 1 through the freeze"

# ------------------------------------------------------------------ the etcd leader killed and started
EURL=([1]="$E1" [2]="$E2" [3]="$E3")
L=""
for i in 1 2 3; do
        etcd_is_leader "${EURL[$i]}" && L=$i
done
ok "$([ -n "$L" ]; echo $?)" "one of the 3 members is the leader (e$L)"
L=${L:-1}
A=$((L % 3 + 1))
B=$((A % 3 + 1))
for n in 1 2 3; do
        wait_for 60 etcd_get "${EURL[$A]}" "$(machine_key "${MID[$n]}")"
done
declare -A LEASE
for n in 1 2 3; do
        LEASE[$n]=$(etcd_lease_of "${EURL[$A]}" "$(machine_key "${MID[$n]}")")
done
"$C" etcd-kill $L
ok $? "etcd-kill $L (the leader)"
check "member $L no longer answers" bash -c "! curl -sf -m 2 ${EURL[$L]}/health"
wait_for 60 etcd_put "${EURL[$A]}" /fleet-cluster-test/while-leader-down yes
ok $? "the two other members elect a leader and take writes"
# The agents' keepalives go to the other members; a new leader renews every lease, so after two
# TTLs the agents still hold the leases they had.
sleep $((2 * TTL))
for n in 1 2 3; do
        is "$(etcd_lease_of "${EURL[$B]}" "$(machine_key "${MID[$n]}")")" "${LEASE[$n]}" \
                "node$n's fleetd kept its lease through the other members"
done
out=$("$C" etcd-start $L 2>&1)
ok $? "etcd-start $L" || diag "$out"
check "member $L is healthy again" curl -sf -m 2 "${EURL[$L]}/health"
wait_for 60 etcd_get "${EURL[$L]}" /fleet-cluster-test/while-leader-down serializable
ok $? "member $L caught up with the write it missed (its own copy, serializable read)"
is "$("$C" status | grep -c '^etcd e[123] pid=[0-9]* http://127.0.0.1:240[123]0 healthy$')" 3 \
        "status: three healthy members"

# ------------------------------------------------------------------ down leaves nothing
pids=""
for f in /run/fleet-cluster/40/node*/pid /run/fleet-cluster/40/node*/unshare.pid \
         /run/fleet-cluster/40/etcd/e*.pid; do
        [ -f "$f" ] && pids="$pids $(cat "$f")"
done
is "$(echo $pids | wc -w)" 9 "before down: 3 PID 1s, 3 unshare processes, 3 etcd members"
out=$("$C" down 2>&1)
ok $? "down" || diag "$out"
is "$(ip netns list | grep -c '^fleet40-')" 0 "no netns left"
is "$(ip -o link show | grep -cE ': (fleetbr40|fleet40v[0-9]+)[:@]')" 0 "no bridge or veth left"
check "no cgroup left" \
        test ! -e /sys/fs/cgroup/fleet-cluster-40 -a ! -e /sys/fs/cgroup/unified/fleet-cluster-40
left=""
for p in $pids; do
        alive "$p" && left="$left $p"
done
is "$left" "" "no process left"
is "$(grep -cE 'fleet40-|/run/fleet-cluster/40' /proc/self/mountinfo)" 0 "no mount left"
check "no state directory left" test ! -e /run/fleet-cluster/40
check "no etcd data left" test ! -e /var/tmp/fleet-cluster-40
check "etcd's port is closed" bash -c "! curl -s -m 1 $E1/health"
out=$("$C" down 2>&1)
ok $? "down again is a no-op"
is "$out" "" "down again prints nothing"

# ------------------------------------------------------------------ up after down
out=$("$C" up 2 --fleetd "$FAKE" --agent-ttl "${TTL}s" 2>&1)
ok $? "up after down" || diag "$out"
E1=$("$C" etcd-endpoints)
for n in 1 2; do
        is "$(field SystemState "$(probe $n)")" running "node$n answers after up again"
        wait_for 60 etcd_get "$E1" "$(machine_key "$("$C" exec $n cat /etc/machine-id)")"
        ok $? "node$n's fleetd registered in the new etcd"
done
isnt "$("$C" exec 1 cat /etc/machine-id)" "${MID[1]}" "a new cluster gets new machine-ids"
"$C" down >/dev/null 2>&1
ok $? "final down"

done_testing
