#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The cluster network's data plane, measured (printed, never asserted): on a local cluster (id 21,
# 2 nodes running the real fleetd, tools/cluster), container-to-container TCP throughput across
# the two machines over VXLAN as a ratio of host-to-host throughput on the same pair (iperf3 from
# Debian), the round-trip time the overlay adds (busybox ping, host pair vs container pair), and
# how long a changed subnet record takes to reach the other machine's routing table.
# The containers are real podman containers (runc) on the CNI network "fleet"; iperf3 and ping
# run in their network namespaces (nsenter --net), so the packets take the containers' path:
# veth, bridge fleet0, fleet.1, the underlay, and back up on the other machine.
# usage: bench-network.sh BUILD_DIR [SECONDS]
set -euo pipefail
BUILD=$(readlink -f "${1:?usage: bench-network.sh BUILD_DIR [SECONDS]}")
SECS=${2:-5}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
C="$SRC/tools/cluster -c 21"
FLEETD=$BUILD/fleetd/fleetd
[ "$(id -u)" = 0 ] || { echo "bench-network: needs root (it boots a local cluster)" >&2; exit 1; }
for b in iperf3 busybox podman runc; do
        command -v $b >/dev/null || { echo "bench-network: $b not installed (tools/setup.sh)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/bench-network.XXXXXX)
trap '$C down >/dev/null 2>&1; rm -rf "$TMP"' EXIT
$C down >/dev/null 2>&1 || true
FLEET_CLUSTER_ETCD_DATA=/dev/shm $C up 2 --fleetd "$FLEETD" >/dev/null
for n in 1 2; do
        until $C exec $n ip -4 route show dev fleet.1 2>/dev/null | grep -q onlink; do sleep 0.2; done
done

mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" "$TMP/rootfs/dev" "$TMP/rootfs/tmp"
cp "$(command -v busybox)" "$TMP/rootfs/bin/"
ln -s busybox "$TMP/rootfs/bin/sleep"
tar -C "$TMP/rootfs" -cf "$TMP/bb.tar" .
declare -A CPID CIP HIP
for n in 1 2; do
        $C exec $n podman import - localhost/benchbb:latest < "$TMP/bb.tar" >/dev/null 2>&1
        $C exec $n podman --runtime runc run -d --name bench --pids-limit -1 --ulimit nofile=1024:1024 \
                --ulimit nproc=1024:1024 --network fleet localhost/benchbb:latest sleep 100000 >/dev/null
        CPID[$n]=$($C exec $n podman inspect bench --format '{{.State.Pid}}')
        CIP[$n]=$($C exec $n podman inspect bench --format '{{.NetworkSettings.Networks.fleet.IPAddress}}')
        HIP[$n]=$($C node-ip $n)
done
# PIDs are the nodes' own: enter from inside the node.
in_host() { $C exec "$1" "${@:2}"; }
in_ctr() { local n=$1; shift; $C exec "$n" nsenter -t "${CPID[$n]}" -n "$@"; }

gbps() { python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
iperf() {   # iperf host|ctr: Gbit/s from node1 to node2
        local where=$1 ip

        if [ "$where" = host ]; then ip=${HIP[2]}; else ip=${CIP[2]}; fi
        in_$where 2 iperf3 -s -1 -D -B "$ip" -p 5201 >/dev/null
        sleep 0.5
        in_$where 1 iperf3 -c "$ip" -p 5201 -t "$SECS" -J | gbps
}
rtt() {   # rtt host|ctr: average round trip in ms, node1 -> node2, 50 pings
        local where=$1 ip

        if [ "$where" = host ]; then ip=${HIP[2]}; else ip=${CIP[2]}; fi
        in_$where 1 busybox ping -c 50 -i 0.05 -q "$ip" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

echo "bench-network: 2 machines (tools/cluster nodes on one host, veth + bridge underlay), iperf3 -t $SECS"
echo "underlay MTU $(in_host 1 cat /sys/class/net/eth0/mtu), overlay MTU $(in_host 1 cat /sys/class/net/fleet.1/mtu)"
for round in 1 2 3; do
        h=$(iperf host); c=$(iperf ctr)
        echo "round $round: host-to-host $h Gbit/s, container-to-container $c Gbit/s, ratio $(python3 -c "print('%.2f' % ($c / $h))")"
done
for round in 1 2 3; do
        rh=$(rtt host); rc=$(rtt ctr)
        echo "round $round: round trip host-to-host $rh ms, container-to-container $rc ms, added by the overlay $(python3 -c "print('%.3f' % ($rc - $rh))") ms"
done

# A record change reaching the other machine's routing table: a subnet record appears in etcd;
# node1's kernel announces the route fleetd programmed from its watch (ip monitor, kernel
# timestamps on this host's clock). The etcd put's own reply time is printed beside it: on a
# loaded disk etcd's commit is most of it.
E=$($C etcd-endpoints | cut -d, -f1)
b64() { printf %s "$1" | base64 -w0; }
ip -n fleet21-n1 -ts monitor route > "$TMP/monitor" &
mon=$!
sleep 0.5
: > "$TMP/puts"
for i in $(seq 1 20); do
        key=/_coreos.com/fleet/network/subnets/10.42.$((250 - i)).0-24
        val="{\"machine_id\":\"bench$i\",\"public_ip\":\"10.99.21.$((100 + i))\",\"vtep_mac\":\"02:00:00:00:00:$(printf %02x $i)\",\"vni\":1}"
        t0=$(date +%s.%N)
        curl -sf "$E/v3/kv/put" -d "{\"key\":\"$(b64 "$key")\",\"value\":\"$(b64 "$val")\"}" >/dev/null
        t1=$(date +%s.%N)
        echo "10.42.$((250 - i)).0/24 $t0 $t1" >> "$TMP/puts"
        sleep 0.2
        curl -sf "$E/v3/kv/deleterange" -d "{\"key\":\"$(b64 "$key")\"}" >/dev/null
        sleep 0.2
done
sleep 0.5
kill "$mon"
python3 - "$TMP/puts" "$TMP/monitor" <<'PY'
import datetime, sys
routes = {}
for line in open(sys.argv[2]):
    if not line.startswith("[") or " via " not in line or "Deleted" in line:
        continue
    ts, rest = line[1:].split("] ", 1)
    t = datetime.datetime.fromisoformat(ts).timestamp()
    routes.setdefault(rest.split()[0], t)
route_ms, put_ms = [], []
for line in open(sys.argv[1]):
    net, t0, t1 = line.split()
    if net in routes:
        route_ms.append((routes[net] - float(t0)) * 1000)
    put_ms.append((float(t1) - float(t0)) * 1000)
route_ms.sort(); put_ms.sort()
def p(v, q): return v[min(len(v) - 1, int(q * len(v)))]
print("record put -> route on the other machine (%d of %d changes seen): p50 %.1f ms, p99 %.1f ms; "
      "the put's own reply from etcd: p50 %.1f ms, p99 %.1f ms" %
      (len(route_ms), len(put_ms), p(route_ms, .5), p(route_ms, .99), p(put_ms, .5), p(put_ms, .99)))
PY
