#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Service names on the cluster network, measured (printed, never asserted), on a local cluster
# (id 23, 3 nodes running the real fleetd, tools/cluster):
#  - propagation: N units of one replicated compose service (unitgen's template, a real podman
#    container each) are started one after another, each placed by the scheduler on one of the 3
#    machines and destroyed once measured; from the moment systemd on the running machine reports
#    the unit active (ActiveEnterTimestampMonotonic) until its name, web-<i>.bench.fleet, answers
#    with an address from every machine's dnsmasq (dns-probe.py asks each machine's DNS every
#    millisecond; the nodes share the host's CLOCK_MONOTONIC with their systemd). The chain
#    measured: systemd's PropertiesChanged to the agent, the agent's "podman inspect" for the
#    address, the name record's put in etcd, every fleetd's watch, the hosts file, dnsmasq's inotify.
#  - DNS query latency: one query at a time to the machine's dnsmasq from a container's network
#    namespace (through the bridge to the machine's lo), for a name that exists and one that does
#    not; and from the machine itself.
# usage: bench-names.sh BUILD_DIR [N]   (BENCH_KEEP=1 leaves the cluster up; BENCH_FLEETD_ARGS are
# more fleetd flags, e.g. --verbosity=1 to see in each node's journal when the agent read an address)
set -euo pipefail
BUILD=$(readlink -f "${1:?usage: bench-names.sh BUILD_DIR [N]}")
N=${2:-30}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
C="$SRC/tools/cluster -c 23"
FLEETCTL=$BUILD/cli/fleetctl
DNS=169.254.53.53
[ "$(id -u)" = 0 ] || { echo "bench-names: needs root (it boots a local cluster)" >&2; exit 1; }
for b in busybox podman runc dnsmasq python3; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || { echo "bench-names: $b not installed (tools/setup.sh)" >&2; exit 1; }
done
TMP=$(mktemp -d /var/tmp/bench-names.XXXXXX)   # /tmp is private to each node; $PWD is shared
PROBES=()
cleanup() {
        for p in "${PROBES[@]}"; do kill "$p" 2>/dev/null || true; done
        [ -n "${BENCH_KEEP:-}" ] || { $C down >/dev/null 2>&1; rm -rf "$TMP"; }
}
trap cleanup EXIT
cd "$TMP"
$C down >/dev/null 2>&1 || true
FLEET_CLUSTER_ETCD_DATA=/dev/shm $C up 3 --fleetd "$BUILD/fleetd/fleetd" ${BENCH_FLEETD_ARGS:+--fleetd-args "$BENCH_FLEETD_ARGS"} >/dev/null
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$($C etcd-endpoints)
for n in 1 2 3; do
        until $C exec $n test -s /etc/cni/net.d/fleet.conflist 2>/dev/null &&
              $C exec $n systemctl -q is-active fleet-dns.service 2>/dev/null; do sleep 0.2; done
done

bash "$SRC/examples/visits/make-images.sh" "$TMP" >/dev/null
for n in 1 2 3; do
        $C exec $n podman import -q "$TMP/visits-web.tar" localhost/bench-bb:latest >/dev/null
done
cat > compose.yaml <<'YAML'
name: bench
services:
  web:
    image: localhost/bench-bb:latest
    runtime: runc
    pids_limit: -1
    ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
    stop_grace_period: 1s
    command: ["sleep", "100000"]
    deploy: {replicas: 2}
YAML
"$BUILD/unitgen/unitgen" --runtime podman -o units >/dev/null
cd units

cp "$SRC/bench/network/dns-probe.py" "$TMP/"
names=()
for i in $(seq 1 "$N"); do names+=("web-$i.bench.fleet"); done
for n in 1 2 3; do
        $C exec $n python3 "$TMP/dns-probe.py" wait $DNS "$TMP/resolved.$n" "${names[@]}" &
        PROBES+=($!)
done
for n in 1 2 3; do
        until [ -e "$TMP/resolved.$n" ]; do sleep 0.1; done
done

node_of() {   # node_of UNIT: the node number running it
        "$FLEETCTL" list-units --no-legend --fields unit,machine 2>/dev/null |
                awk -v u="$1" '$1 == u { ip = $2; sub(/.*\./, "", ip); print ip - 10 }'
}
resolved_everywhere() { for n in 1 2 3; do grep -q "^$1 " "$TMP/resolved.$n" 2>/dev/null || return 1; done; }
echo "bench-names: 3 machines (tools/cluster nodes on one host), $N units started one after another"
: > "$TMP/samples"
for i in $(seq 1 "$N"); do
        u=bench-web@$i.service
        "$FLEETCTL" start "$u" >/dev/null
        deadline=$((SECONDS + 120))
        until resolved_everywhere "web-$i.bench.fleet"; do
                [ $SECONDS -lt $deadline ] || { echo "bench-names: web-$i never resolved everywhere" >&2; exit 1; }
                sleep 0.05
        done
        n=$(node_of "$u")
        active=$($C exec "$n" systemctl show -P ActiveEnterTimestampMonotonic "$u")
        line="$i $n $active"
        for m in 1 2 3; do line+=" $(awk -v k="web-$i.bench.fleet" '$1 == k { print $2 }' "$TMP/resolved.$m")"; done
        echo "$line" >> "$TMP/samples"
        if [ "$i" -lt "$N" ]; then "$FLEETCTL" destroy "$u" >/dev/null; fi
done
python3 - "$TMP/samples" <<'PY'
import sys
every, local, remote = [], [], []
for line in open(sys.argv[1]):
    i, node, active, *res = line.split()
    node, active, res = int(node), int(active), [int(x) for x in res]
    every.append((max(res) - active) / 1000)
    for m, t in enumerate(res, 1):
        (local if m == node else remote).append((t - active) / 1000)
def p(v, q): v = sorted(v); return v[min(len(v) - 1, int(q * len(v)))]
def line(what, v): print("%-44s p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  min %6.1f  max %6.1f  (%d samples)" %
                         (what, p(v, .5), p(v, .9), p(v, .99), min(v), max(v), len(v)))
line("unit active -> name answers on every machine", every)
line("  ... on the machine running it", local)
line("  ... on each other machine", remote)
slow = sorted((max(int(x) for x in l.split()[3:]) - int(l.split()[2]), l.split()[0], l.split()[1])
              for l in open(sys.argv[1]))[-3:]
print("slowest: " + ", ".join("web-%s on node%s %.1f ms" % (i, n, us / 1000) for us, i, n in reversed(slow)))
PY
for n in 1 2 3; do
        k=$($C exec $n journalctl -u fleetd --no-pager -o cat 2>/dev/null | grep -c "no address of container" || true)
        [ "$k" = 0 ] || echo "node$n: fleetd waited for a container's address $k times (see its journal)"
done

# DNS query latency, the last unit still running: from its container's network namespace and from
# its machine, for its own full name and for a name of the domain that does not exist.
u=bench-web@$N.service
n=$(node_of "$u")
pid=$($C exec "$n" podman inspect "bench-web-$N" --format '{{.State.Pid}}')
for where in container machine; do
        for q in "web-$N.bench.fleet" "nobody.bench.fleet"; do
                if [ $where = container ]; then
                        r=$($C exec "$n" nsenter -t "$pid" -n python3 "$TMP/dns-probe.py" latency $DNS 2000 "$q")
                else
                        r=$($C exec "$n" python3 "$TMP/dns-probe.py" latency $DNS 2000 "$q")
                fi
                read -r p50 p90 p99 max kinds <<< "$r"
                printf 'DNS query from the %-9s %-22s p50 %4s us  p90 %4s us  p99 %5s us  max %6s us  (%s)\n' \
                        "$where" "$q" "$p50" "$p90" "$p99" "$max" "$kinds"
        done
done
