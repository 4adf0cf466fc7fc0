#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A rolling update through fleetctl compose up, measured (printed, never asserted), on a local
# cluster (id 47, 3 nodes running the real fleetd, tools/cluster; real podman containers): N
# replicas of a web service (busybox httpd) behind its name on the cluster network, and a client
# container on node1 that asks "web" for its page continuously (one request at a time, each
# resolving the name again through its machine's DNS and taking one of the addresses at random,
# 2 s timeout, 0.1 s apart). The service's environment changes, so every replica's body changes,
# and compose up replaces them by deploy.update_config (parallelism P, the order given); printed
# per order: compose up's time, the client's requests during it, how many failed (no address, no
# answer, or an empty one), and the versions they saw. The client's requests are read from podman's
# log of its container (k8s-file: not in the unit's journal) between the update's start and end.
# usage: bench-rolling.sh BUILD_DIR [N [P [ORDERS]]]   (defaults: 30 replicas, parallelism 5,
# ORDERS "start-first stop-first": one update each, one after the other; BENCH_KEEP=1 leaves the
# cluster up; BENCH_DRAIN=S makes each replica serve S seconds after its SIGTERM; web has a
# healthcheck, BENCH_NO_HEALTHCHECK=1 drops it)
set -euo pipefail
BUILD=$(readlink -f "${1:?usage: bench-rolling.sh BUILD_DIR [N [P [ORDERS]]]}")
N=${2:-30}
P=${3:-5}
ORDERS=${4:-start-first stop-first}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
C="$SRC/tools/cluster -c 47"
FLEETCTL=$BUILD/cli/fleetctl
[ "$(id -u)" = 0 ] || { echo "bench-rolling: needs root (it boots a local cluster)" >&2; exit 1; }
for b in busybox podman runc; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || { echo "bench-rolling: $b not installed (tools/setup.sh)" >&2; exit 1; }
done
TMP=$(mktemp -d /var/tmp/bench-rolling.XXXXXX)   # /tmp is private to each node; $PWD is shared
cleanup() {
        [ -n "${BENCH_KEEP:-}" ] || { $C down >/dev/null 2>&1; rm -rf "$TMP"; }
}
trap cleanup EXIT
cd "$TMP"
$C down >/dev/null 2>&1 || true
FLEET_CLUSTER_ETCD_DATA=/dev/shm $C up 3 --fleetd "$BUILD/fleetd/fleetd" >/dev/null
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

# BENCH_DRAIN=S: each replica keeps serving S seconds after its SIGTERM before it exits, as a
# service that drains does (the agent withdraws a name when its unit starts stopping: this shows
# what that leaves to the service).
DRAIN=${BENCH_DRAIN:-0}
if [ "$DRAIN" = 0 ]; then
        WEB_CMD='mkdir -p /w && echo v$$VERSION > /w/index.html && exec httpd -f -p 8080 -h /w'
        GRACE=1s
else
        WEB_CMD="mkdir -p /w && echo v\$\$VERSION > /w/index.html && { httpd -f -p 8080 -h /w & p=\$\$!; }; trap 'sleep $DRAIN; kill \$\$p' TERM; wait \$\$p"
        GRACE=$((DRAIN + 3))s
fi

# BENCH_GARP=1: each replica announces its address (a gratuitous ARP, busybox arping -U, which needs
# NET_RAW) as it starts. Addresses are reused at once by the next container on a machine, with a new
# MAC, and the neighbour entries other hosts and containers have for the address keep the old MAC
# until they expire (tens of seconds): the announcement updates them (see the README's analysis).
CAPS=""
if [ -n "${BENCH_GARP:-}" ]; then
        WEB_CMD="a=\$\$(ip -o -4 addr show dev eth0 | awk '{ print \$\$4 }'); arping -U -c 2 -I eth0 \$\${a%/*} >/dev/null 2>&1 & $WEB_CMD"
        CAPS="cap_add: [NET_RAW]"
fi

# web's readiness: a copy's name is published (and compose up counts it started) once its
# healthcheck passes, as a zero-downtime update needs; without one, a name is published once the
# unit is active, and httpd may not listen yet. BENCH_NO_HEALTHCHECK=1: none.
HEALTH='healthcheck: {test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], interval: 5s, timeout: 5s, retries: 3}'
[ -z "${BENCH_NO_HEALTHCHECK:-}" ] || HEALTH=""

# The client: each request resolves web again and takes one of its addresses at random (busybox
# nc alone connects to the first, which dnsmasq does not rotate: the client would ask one replica).
CLIENT_CMD='while :; do ip=$$(nslookup web 2>/dev/null | awk -v s=$$RANDOM '"'"'/^Name:/ { n = 1 } n && /^Address/ { a[k++] = $$NF } END { srand(s); if (k) print a[int(rand() * k)] }'"'"'); r=; [ -n \"$$ip\" ] && r=$$(printf '"'"'GET / HTTP/1.0\\r\\n\\r\\n'"'"' | nc -w 2 $$ip 8080 2>/dev/null | tail -n 1); echo \"req $${r:-FAIL $${ip:-no-address}}\"; sleep 0.1; done'

compose() {   # compose VERSION ORDER: the file, every replica serving "v<VERSION>"
        cat <<YAML
name: bench
x-c: &c
  image: localhost/bench-bb:latest
  runtime: runc
  pull_policy: never
  pids_limit: -1
  ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
  stop_grace_period: 1s
services:
  web:
    <<: *c
    environment: {VERSION: "$1"}
    command: ["sh", "-c", "$WEB_CMD"]
    stop_grace_period: $GRACE
    $CAPS
    $HEALTH
    deploy:
      replicas: $N
      update_config: {parallelism: $P, order: $2, monitor: 0s, failure_action: pause}
  client:
    <<: *c
    command: ["sh", "-c", "$CLIENT_CMD"]
    x-fleet: {MachineMetadata: hostname=node1}
YAML
}

echo "bench-rolling: 3 machines (tools/cluster nodes on one host), $N replicas of web, parallelism $P"
compose 1 start-first > compose.yaml
t0=$(date +%s.%N)
"$FLEETCTL" compose up >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log" >&2; exit 1; }
printf 'first compose up (%d replicas and the client started, waited for): %.1f s\n' "$N" "$(echo "$(date +%s.%N) - $t0" | bc)"
client_log() {   # client_log SINCE UNTIL: the client's request lines in that time (epoch seconds)
        # podman's log driver here is k8s-file: the container's output is not in the unit's journal.
        $C exec 1 podman logs --since "$1" --until "$2" bench-client 2>/dev/null | grep '^req ' || true
}
client_log_t() {   # the same with each line's time (RFC 3339, first field), kept for the analysis
        $C exec 1 podman logs -t --since "$1" --until "$2" bench-client 2>/dev/null | grep '^[^ ]* req ' || true
}
# The client answers before the update starts: every replica's name is published.
deadline=$((SECONDS + 120))
until client_log "$(date -d '-3 sec' +%s)" "$(date +%s)" | grep -q '^req v1'; do
        [ $SECONDS -lt $deadline ] || { echo "bench-rolling: the client never got an answer" >&2; exit 1; }
        sleep 0.5
done

# The same client with nothing changing, for comparison (the load's own failures).
QUIET=${BENCH_QUIET:-30}
t0=$(date +%s.%N)
sleep "$QUIET"
client_log "$t0" "$(date +%s.%N)" > "$TMP/req-quiet"
printf 'no update, %d s: client requests %d, failed %d\n' "$QUIET" "$(wc -l < "$TMP/req-quiet")" \
        "$(grep -c '^req FAIL' "$TMP/req-quiet" || true)"

v=1
for order in $ORDERS; do
        v=$((v + 1))
        compose $v "$order" > compose.yaml
        t0=$(date +%s.%N)
        rc=0
        "$FLEETCTL" compose up >"$TMP/up-$v.log" 2>&1 || rc=$?
        t1=$(date +%s.%N)
        [ $rc = 0 ] || { echo "bench-rolling: compose up ($order) exited $rc:" >&2; tail -20 "$TMP/up-$v.log" >&2; }
        # The journal has the lines up to t1 once the client logged one after it.
        deadline=$((SECONDS + 30))
        until client_log "$t1" "$(date +%s)" | grep -q .; do
                [ $SECONDS -lt $deadline ] || break
                sleep 0.2
        done
        client_log_t "$t0" "$t1" > "$TMP/req-$v.t"
        cut -d' ' -f2- "$TMP/req-$v.t" > "$TMP/req-$v"
        total=$(wc -l < "$TMP/req-$v")
        failed=$(grep -c '^req FAIL' "$TMP/req-$v" || true)
        versions=$(grep -v '^req FAIL' "$TMP/req-$v" | sort | uniq -c | awk '{ printf "%s%s %s", s, $3, $1; s = ", " }')
        noaddr=$(grep -c '^req FAIL no-address' "$TMP/req-$v" || true)
        printf 'rolling update of %d replicas, parallelism %d, %-11s: %6.1f s; client requests %d, failed %d (%d without an address; answers: %s)\n' \
                "$N" "$P" "$order" "$(echo "$t1 - $t0" | bc)" "$total" "$failed" "$noaddr" "${versions:-none}"
        [ "$failed" = 0 ] || printf '  failed, by address: %s\n' \
                "$(grep '^req FAIL' "$TMP/req-$v" | awk '{ print $3 }' | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
done
