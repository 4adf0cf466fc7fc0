#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The cluster network's data plane, end to end, on cluster id 20: 3 nodes with real systemd as
# PID 1, real etcd, the real fleetd. Every machine leases a subnet of 10.42.0.0/16 and programs
# its VXLAN device, nftables and the CNI network "fleet"; a real podman container (runc, a busybox
# image imported locally) on node 1 fetches a page from a container on node 2 by IP over the
# overlay. A reboot keeps the subnet; a power cut removes the dead machine's route once its lease
# ends, and its return brings it back; a remembered subnet held by another machine and a device
# with other parameters are clear errors naming both sides, with nothing half set up.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"
. "$HERE/etcd.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] || skip_all "fleetd was not built"
[ -x "${FLEETCTL:-}" ] || skip_all "fleetctl was not built"
for b in podman runc busybox nft; do
        command -v $b >/dev/null || skip_all "$b is not installed (tools/setup.sh installs it)"
done

export FLEET_CLUSTER=20
C=$CLUSTER_TOOL
NET=10.99.20
P=/_coreos.com/fleet/network/subnets/
TMP=$(mktemp -d /tmp/network-cluster.XXXXXX)
cleanup() {
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

subnets() {   # the subnet keys in etcd, one "a.b.c.d-len machine-id" per line, sorted
        curl -sf -m 2 "$E/v3/kv/range" -d "{\"key\":\"$(b64 $P)\",\"range_end\":\"$(b64 /_coreos.com/fleet/network/subnets0)\"}" |
                python3 -c '
import base64, json, sys
for kv in json.load(sys.stdin).get("kvs", []):
    k = base64.b64decode(kv["key"]).decode().rsplit("/", 1)[1]
    v = json.loads(base64.b64decode(kv["value"]))
    print(k, v["machine_id"], v["public_ip"], v["vtep_mac"])' | sort
}
subnet_of() {   # subnet_of N: node N's subnet as a.b.c.d/len, from etcd
        subnets | awk -v m="${MID[$1]}" '$2 == m { sub(/-/, "/", $1); print $1 }'
}
n_subnets() { subnets | wc -l; }
route_to() {   # route_to N SUBNET: node N's route to SUBNET
        "$C" exec "$1" ip -4 route show "$2" 2>/dev/null
}
has_route() { [ -n "$(route_to "$1" "$2")" ]; }
no_route() { [ -z "$(route_to "$1" "$2")" ]; }
journal_has() {   # journal_has N TEXT
        "$C" exec "$1" journalctl -u fleetd --no-pager -o cat 2>/dev/null | grep -qF -- "$2"
}
PODMAN="podman --runtime runc run --pids-limit -1 --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
serve() {   # serve N: a web container on node N's cluster network, answering "hello-from-nodeN"
        "$C" exec "$1" podman rm -f -i web >/dev/null 2>&1
        "$C" exec "$1" $PODMAN -d --name web --network fleet localhost/netbb:latest \
                sh -c "mkdir /www && echo hello-from-node$1 > /www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
}
container_ip() { "$C" exec "$1" podman inspect web --format '{{.NetworkSettings.Networks.fleet.IPAddress}}'; }
fetch() {   # fetch N IP: from a container on node N, GET http://IP/
        "$C" exec "$1" $PODMAN --rm --network fleet localhost/netbb:latest \
                sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 $2 80" 2>/dev/null | tail -n 1
}

# ------------------------------------------------------------------ up
out=$("$C" up 3 --fleetd "$FLEETD" --agent-ttl 3s 2>&1)
ok $? "up 3 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
E=$("$C" etcd-endpoints)
declare -A MID SUB
for n in 1 2 3; do
        MID[$n]=$("$C" exec $n cat /etc/machine-id)
done
wait_for 60 bash -c "[ \$($(declare -f subnets n_subnets b64); P=$P E=$E n_subnets) = 3 ]"
ok $? "every machine leased a subnet in etcd" || diag "$(subnets)"
for n in 1 2 3; do
        SUB[$n]=$(subnet_of $n)
        [[ ${SUB[$n]} =~ ^10\.42\.[0-9]+\.0/24$ ]]
        ok $? "node$n: a /24 of 10.42.0.0/16 (${SUB[$n]})"
        is "$("$C" exec $n cat /var/lib/fleet/network/subnet)" "${SUB[$n]}" "node$n: remembered in /var/lib/fleet"
done
is "$(printf '%s\n' "${SUB[@]}" | sort -u | wc -l)" 3 "three different subnets"

# ------------------------------------------------------------------ the kernel's state
for n in 1 2 3; do
        wait_for 30 "$C" exec $n test -s /etc/cni/net.d/fleet.conflist
        ok $? "node$n: CNI network 'fleet' written"
done
dev=$("$C" exec 1 ip -d link show fleet.1)
check "node1: fleet.1 is a VXLAN device, VNI 1, port 4789, local = its address, no learning" \
        grep -Eq "vxlan id 1 local $NET.11 dev eth0 srcport [0-9]+ [0-9]+ dstport 4789 nolearning" <<< "$dev"
is "$("$C" exec 1 ip -o link show fleet.1 | grep -o 'mtu [0-9]*')" "mtu $(( $("$C" exec 1 cat /sys/class/net/eth0/mtu) - 50 ))" \
        "node1: MTU = underlay - 50"
is "$("$C" exec 1 ip -4 -o addr show fleet.1 | awk '{print $4}')" "${SUB[1]%/24}/32" "node1: VTEP address <subnet>.0/32"
for m in 2 3; do
        gw=${SUB[$m]%/24}
        wait_for 30 has_route 1 "${SUB[$m]}"
        is "$(route_to 1 "${SUB[$m]}")" "${SUB[$m]} via $gw dev fleet.1 proto static onlink " \
                "node1: route to node$m's subnet via its VTEP address, onlink"
        mac=$(subnets | awk -v m="${MID[$m]}" '$2 == m { print $4 }')
        check "node1: permanent neighbour $gw -> node$m's VTEP MAC" \
                grep -q "$gw lladdr $mac PERMANENT" <<< "$("$C" exec 1 ip neigh show dev fleet.1)"
        check "node1: FDB entry node$m's VTEP MAC -> its public IP" \
                grep -q "$mac dst $NET.1$m self permanent" <<< "$("$C" exec 1 bridge fdb show dev fleet.1)"
done
fw=$("$C" exec 1 nft list table ip fleet 2>&1)
check "node1: nftables accepts VXLAN only from the cluster's machines" \
        grep -q "udp dport 4789 ip saddr != @machines" <<< "$fw"
check "node1: ... which are the three machines" \
        grep -q "elements = { $NET.11, $NET.12,.*$NET.13 }\|elements = { $NET.11, $NET.12, $NET.13 }" <<< "$(tr -d '\n\t' <<< "$fw" | sed 's/  */ /g')"
check "node1: masquerade for container traffic leaving 10.42.0.0/16" \
        grep -q "ip saddr 10.42.0.0/16 ip daddr != 10.42.0.0/16 masquerade" <<< "$fw"

# ------------------------------------------------------------------ containers across machines
mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" "$TMP/rootfs/dev" "$TMP/rootfs/tmp"
cp "$(command -v busybox)" "$TMP/rootfs/bin/"
for a in sh mkdir echo httpd nc printf tail; do ln -s busybox "$TMP/rootfs/bin/$a"; done
tar -C "$TMP/rootfs" -cf "$TMP/bb.tar" .
for n in 1 2; do
        "$C" exec $n podman import - localhost/netbb:latest < "$TMP/bb.tar" >/dev/null 2>&1
        check "node$n: busybox image imported (no registry)" "$C" exec $n podman image exists localhost/netbb:latest
done
serve 2
ip2=$(container_ip 2)
check "node2: the container got an address of node2's subnet ($ip2)" \
        python3 -c "import ipaddress,sys; sys.exit(ipaddress.ip_address('$ip2') not in ipaddress.ip_network('${SUB[2]}'))"
is "$(fetch 1 "$ip2")" hello-from-node2 "a container on node1 fetches the page of a container on node2 over VXLAN"
check "the container's packets left node1 through fleet.1" \
        bash -c "[ \$('$C' exec 1 cat /sys/class/net/fleet.1/statistics/tx_packets) -gt 0 ]"

# ------------------------------------------------------------------ reboot keeps the subnet
out=$("$C" restart 2 2>&1)
ok $? "restart node2" || diag "$out"
wait_for 60 bash -c "'$C' exec 2 ip -4 -o addr show fleet.1 | grep -q '${SUB[2]%/24}/32'"
ok $? "node2 set up fleet.1 again after the reboot"
is "$(subnet_of 2)" "${SUB[2]}" "node2 leased the same subnet again (remembered across the reboot)"
serve 2
ip2=$(container_ip 2)
wait_for 30 bash -c "[ \"\$($(declare -f fetch); C='$C' PODMAN='$PODMAN' fetch 1 $ip2)\" = hello-from-node2 ]"
ok $? "node1's container reaches the new container on rebooted node2"

# ------------------------------------------------------------------ power cut
"$C" kill 3
wait_for 60 no_route 1 "${SUB[3]}"
ok $? "power cut of node3: node1 removed its route once node3's lease ended"
check "node1: ... and its neighbour entry" \
        bash -c "! '$C' exec 1 ip neigh show dev fleet.1 | grep -q '${SUB[3]%/24} '"
check "node1: ... and node3 is no longer let in by the firewall" \
        bash -c "! '$C' exec 1 nft list set ip fleet machines | grep -q '$NET.13'"
check "node2 kept its route to node1" has_route 2 "${SUB[1]}"

# ------------------------------------------------------------------ conflict: subnet taken
# node3 comes back remembering node1's subnet (as if its disk said so): a clear error naming both
# machines, and no network set up on node3.
echo "${SUB[1]}" > "/run/fleet-cluster/$FLEET_CLUSTER/node3/fleet/network/subnet"
out=$("$C" start 3 2>&1)
ok $? "start node3 again" || diag "$out"
wait_for 60 journal_has 3 "subnet ${SUB[1]} (remembered in the state file of this machine ${MID[3]}) is held by machine ${MID[1]} ($NET.11)"
ok $? "node3: the error names its subnet, itself and the holder" ||
        diag "$("$C" exec 3 journalctl -u fleetd --no-pager -o cat | grep -i network | tail -5)"
check "node3: no VXLAN device (nothing half set up)" bash -c "! '$C' exec 3 ip link show fleet.1"
check "node3: no firewall table" bash -c "! '$C' exec 3 nft list table ip fleet"
is "$(subnet_of 1)" "${SUB[1]}" "node1 keeps its subnet"
is "$("$C" exec 3 systemctl is-active fleetd)" active "node3's fleetd runs on without the network"
# Units placed on node3 meanwhile: a plain one runs as today, one on the cluster network waits,
# with the reason in the journal.
mkdir -p "$TMP/units"
printf '[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nMachineID=%s\n' "${MID[3]}" > "$TMP/units/plain.service"
printf '[Service]\nExecStart=/bin/sh -c "exec sleep 100000" --network fleet\n\n[X-Fleet]\nMachineID=%s\n' "${MID[3]}" \
        > "$TMP/units/onnet.service"
out=$(cd "$TMP/units" && FLEETCTL_ENDPOINT=$E "$FLEETCTL" start --no-block plain.service onnet.service 2>&1)
ok $? "fleetctl start of a plain unit and a unit on the cluster network, both on node3" || diag "$out"
wait_for 60 bash -c "[ \"\$('$C' exec 3 systemctl is-active plain.service)\" = active ]"
ok $? "node3: the plain unit runs without the network"
wait_for 60 journal_has 3 "Not starting onnet.service yet: it needs the cluster network, which is not up on this machine: subnet ${SUB[1]}"
ok $? "node3: the unit on the cluster network waits, and the journal says why"
isnt "$("$C" exec 3 systemctl is-active onnet.service)" active "node3: ... it is not started"
# The disk is fixed: fleetd retries and comes up with node3's own subnet.
echo "${SUB[3]}" > "/run/fleet-cluster/$FLEET_CLUSTER/node3/fleet/network/subnet"
wait_for 60 has_route 1 "${SUB[3]}"
ok $? "node3 leased its own subnet again: node1 routes to it"
is "$(subnet_of 3)" "${SUB[3]}" "node3's subnet in etcd"
wait_for 60 bash -c "[ \"\$('$C' exec 3 systemctl is-active onnet.service)\" = active ]"
ok $? "node3: with the network up, the waiting unit starts"
is "$("$C" exec 3 systemctl show -p StatusText --value fleetd)" \
        "Machine ${MID[3]}; cluster network: subnet ${SUB[3]} on fleet.1 (vni 1, port 4789, mtu 1450), CNI network fleet" \
        "node3: systemctl status fleetd shows the network's state"

# ------------------------------------------------------------------ conflict: device
"$C" exec 1 systemctl stop fleetd
"$C" exec 1 ip link del fleet.1
"$C" exec 1 ip link add fleet.1 type vxlan id 9 dstport 8472 local $NET.11 dev eth0
"$C" exec 1 systemctl start fleetd
wait_for 60 journal_has 1 "device fleet.1 exists as vxlan vni 9 local $NET.11 port 8472 learning"
ok $? "node1: a foreign fleet.1 is an error naming both the device's and the wanted parameters" ||
        diag "$("$C" exec 1 journalctl -u fleetd --no-pager -o cat | grep -i network | tail -5)"
check "node1: ... and the device is left as it was" \
        grep -q "vxlan id 9 " <<< "$("$C" exec 1 ip -d link show fleet.1)"
"$C" exec 1 ip link del fleet.1
"$C" exec 1 systemctl restart fleetd
wait_for 60 bash -c "'$C' exec 1 ip -d link show fleet.1 | grep -q 'vxlan id 1 '"
ok $? "node1: with the foreign device gone, fleetd sets its own up"
is "$(subnet_of 1)" "${SUB[1]}" "node1 took over its own subnet record"
wait_for 30 has_route 1 "${SUB[2]}"
ok $? "node1 routes to node2 again"

done_testing
