#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# docker's "fleet" network against a REAL docker engine, on cluster id 61: 2 nodes with real
# systemd, real etcd, the real fleetd, and Debian's own dockerd (docker.io, with its containerd) in
# node 2. test-docker-network-cluster stands podman's Docker-compatible API in for docker; this one
# shows the same against the engine itself. docker.io conflicts with podman-docker, so tools/setup.sh
# unpacks its packages into /var/cache/fleet-test-docker/root instead of installing them (the nodes'
# root is the host's, so they see it there); dockerd runs with its own data, exec and config
# directories, as a transient unit of node 2's systemd. What it shows:
#   - docker not running yet: fleetd says so and waits; once dockerd starts, fleetd creates network
#     "fleet" with the leased subnet, gateway, upper-half IP range, bridge fleet0, the cluster MTU
#     and no masquerade, and docker builds exactly that (the bridge, its address, no NAT rule);
#   - a wrong "fleet" network: fleetd removes it, naming what was wrong, and creates it again;
#   - docker units (unitgen --runtime docker, docker's own CLI) on it: a podman container on node 1
#     reaches the docker one by its bare compose name, and the docker one reaches a podman one on
#     node 1 by name.
# No skip: where the unpacked engine is missing or dockerd does not start, the test fails.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] && [ -x "${UNITGEN:-}" ] || skip_all "fleetd, fleetctl or unitgen was not built"
for b in podman runc busybox dnsmasq curl iptables; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done
D=${FLEET_TEST_DOCKER_ROOT:-/var/cache/fleet-test-docker/root}
[ -x "$D/usr/sbin/dockerd" ] && [ -x "$D/usr/bin/containerd" ] && [ -x "$D/usr/bin/docker" ]
ok $? "Debian's docker engine is unpacked in $D" ||
        bail_out "no dockerd, containerd or docker in $D: run tools/setup.sh (it unpacks docker.io and containerd there)"

export FLEET_CLUSTER=61
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/docker-engine-cluster.XXXXXX)   # /tmp is private to each node
cleanup() {
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

out=$("$C" up 2 --fleetd "$FLEETD" --agent-ttl 3s 2>&1)
ok $? "up 2 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
wait_for 60 "$C" exec 2 test -s /var/lib/fleet/network/subnet
ok $? "node2 leased its subnet" || bail_out "no cluster network"
S=$("$C" exec 2 cat /var/lib/fleet/network/subnet)
NET=${S%.0/*}
GW=$NET.1
diag "node2's subnet: $S"

api() {   # api METHOD PATH [BODY]: the Docker Engine API on node 2, "CODE BODY"
        "$C" exec 2 curl -s --max-time 10 -w '\n%{http_code}' --unix-socket /run/docker.sock -X "$1" \
                ${3:+-H 'Content-Type: application/json' -d "$3"} "http://docker/v1.41$2" 2>/dev/null |
                awk '{ l[NR] = $0 } END { printf "%s", l[NR]; for (i = 1; i < NR; i++) printf " %s", l[i]; print "" }'
}
journal() { "$C" exec 2 journalctl -u "$1" --no-pager -o cat 2>/dev/null; }
logged() { journal fleetd.service | grep -qF "$1"; }
count() { journal fleetd.service | grep -cF "$1"; }

# ---- 1. no docker yet, then the real engine starts ----
wait_for 60 logged "no docker at /run/docker.sock"
ok $? "with no docker running, fleetd says so and waits"
# Node 2's /usr/bin/docker (podman-docker) becomes docker's own CLI: the units' ExecStart and fleetd's
# "docker inspect" then talk to the real engine. The bind mount lives in the node's mount namespace.
"$C" exec 2 mount --bind "$D/usr/bin/docker" /usr/bin/docker
# /etc is read-only in the nodes: dockerd's config (and its key, which it would put in /etc/docker)
# goes to /run. dockerd starts its containerd from PATH; runc is Debian's, installed for podman.
"$C" exec 2 sh -c 'mkdir -p /run/fleet-test-docker-conf &&
        echo "{\"deprecated-key-path\": \"/run/fleet-test-docker-conf/key.json\"}" >/run/fleet-test-docker-conf/daemon.json'
"$C" exec 2 systemd-run -q --unit real-dockerd -p "Environment=PATH=$D/usr/sbin:$D/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$D/usr/sbin/dockerd" -H unix:///run/docker.sock --config-file /run/fleet-test-docker-conf/daemon.json \
        --data-root /var/lib/fleet-test-docker --exec-root /run/fleet-test-docker \
        --pidfile /run/fleet-test-docker.pid
answers() { api GET /_ping | grep -q '^200'; }
wait_for 90 answers
ok $? "Debian's dockerd answers on node2's /run/docker.sock" ||
        { diag "$(journal real-dockerd.service | grep -v grpc | tail -n 20)"; bail_out "dockerd does not run in a node"; }
V=$(api GET /version | sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion".*/\1/p' | head -n 1)
[[ $V == 20.10.* ]]
ok $? "it is docker's own engine, version $V" || diag "$(api GET /version)"

wait_for 60 logged "created docker network fleet on $S"
ok $? "fleetd, docker started afterwards, creates network fleet on $S" ||
        diag "$(journal fleetd.service | grep -i docker | tail -n 3)"
r=$(api GET /networks/fleet)
has() { echo "$r" | grep -qF "$1"; }
has "\"Subnet\":\"$S\"" && has "\"Gateway\":\"$GW\"" && has "\"IPRange\":\"$NET.128/25\""
ok $? "docker's network fleet: subnet $S, gateway $GW, docker's addresses from $NET.128/25" || diag "$r"
has '"com.docker.network.bridge.name":"fleet0"' && has '"com.docker.network.bridge.enable_ip_masquerade":"false"'
ok $? "on the bridge fleet0, without docker's masquerade"
VX_MTU=$("$C" exec 2 sh -c 'ip -d -o link show type vxlan' | grep -o 'mtu [0-9]*' | head -n 1)
has "\"com.docker.network.driver.mtu\":\"${VX_MTU#mtu }\""
ok $? "with the VXLAN device's MTU (${VX_MTU#mtu })" || diag "$r"
"$C" exec 2 ip -4 -o addr show dev fleet0 | grep -qF "inet $GW/24"
ok $? "docker made the bridge fleet0 with the gateway $GW/24"
nat=$("$C" exec 2 iptables -t nat -S POSTROUTING 2>&1)
echo "$nat" | grep -q 'MASQUERADE' && ! echo "$nat" | grep -qF "$NET."
ok $? "docker's NAT rules masquerade its own bridge only, never $S" || diag "$nat"
ID=$(echo "$r" | grep -o '"Id":"[0-9a-f]*"')

# ---- 2. a wrong network fleet: removed, with what was wrong, and made again ----
created=$(count "created docker network fleet on $S")
wrong() {   # replace fleet by a wrong one (fleetd may recreate it in between: try again)
        api DELETE /networks/fleet >/dev/null
        api POST /networks/create '{"Name":"fleet","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.99.199.0/24","Gateway":"10.99.199.1"}]}}' |
                grep -q '^201'
}
wait_for 30 wrong
ok $? "a wrong network fleet (10.99.199.0/24) is made behind fleetd's back"
wait_for 60 logged "docker network fleet has subnet 10.99.199.0/24 (wants $S), gateway 10.99.199.1 (wants $GW)"
ok $? "fleetd names what is wrong" || diag "$(journal fleetd.service | grep -i docker | tail -n 3)"
again() { [ "$(count "created docker network fleet on $S")" -gt "$created" ]; }
wait_for 60 again
ok $? "and creates it again on $S"
r=$(api GET /networks/fleet)
has "\"Subnet\":\"$S\"" && ! has "$ID"
ok $? "docker's network fleet is a new one, on $S" || diag "$r"
ID=$(echo "$r" | grep -o '"Id":"[0-9a-f]*"')

# ---- 3. docker units on it, reached by name across machines, and reaching by name ----
bash "$TOP_SRCDIR/examples/visits/make-images.sh" "$TMP" >/dev/null
"$C" exec 1 podman import -q "$TMP/visits-web.tar" localhost/dk-bb:latest >/dev/null
"$C" exec 2 docker import "$TMP/visits-web.tar" localhost/dk-bb:latest >/dev/null
ok $? "docker imports a busybox image built locally"
mkdir -p "$TMP/docker" "$TMP/podman"
cat > "$TMP/docker/compose.yaml" <<'YAML'
name: dk
services:
  web:
    image: localhost/dk-bb:latest
    command: ["sh", "-c", "mkdir -p /w && echo hello-from-docker > /w/index.html && exec httpd -f -p 8080 -h /w"]
    x-fleet: {MachineMetadata: hostname=node2}
  dclient:
    image: localhost/dk-bb:latest
    command: ["sleep", "100000"]
    x-fleet: {MachineMetadata: hostname=node2}
YAML
cat > "$TMP/podman/compose.yaml" <<'YAML'
name: dk
services:
  pweb:
    image: localhost/dk-bb:latest
    pids_limit: -1
    command: ["sh", "-c", "mkdir -p /w && echo hello-from-podman > /w/index.html && exec httpd -f -p 8080 -h /w"]
    x-fleet: {MachineMetadata: hostname=node1}
  client:
    image: localhost/dk-bb:latest
    pids_limit: -1
    command: ["sleep", "100000"]
    x-fleet: {MachineMetadata: hostname=node1}
YAML
(cd "$TMP/docker" && "$UNITGEN" --runtime docker -o "$TMP/units-docker" >/dev/null 2>&1) &&
        (cd "$TMP/podman" && "$UNITGEN" --runtime podman -o "$TMP/units-podman" >/dev/null 2>&1) &&
        mkdir -p "$TMP/units" && cp "$TMP"/units-docker/*.service "$TMP"/units-podman/*.service "$TMP/units/"
ok $? "unitgen converts web and dclient for docker, pweb and client for podman, one compose project"

cd "$TMP/units" || bail_out "no units"
state_of() {
        "$FLEETCTL" list-units --no-legend --fields unit,active,machine 2>/dev/null |
                awk -v u="$1" '$1 == u { ip = $3; sub(/.*\//, "", ip); print $2, ip }'
}
active_on() { [ "$(state_of "$1")" = "active $2" ]; }
out=$("$FLEETCTL" start dk-web.service dk-dclient.service dk-pweb.service dk-client.service 2>&1)
ok $? "fleetctl starts the four units" || diag "$out"
for u in dk-web:12 dk-dclient:12 dk-pweb:11 dk-client:11; do
        wait_for 120 active_on "${u%:*}.service" "10.99.61.${u#*:}"
        ok $? "${u%:*} is active on node$((${u#*:} - 10))" || diag "$("$FLEETCTL" list-units 2>&1)"
done

web_ip() {   # as docker's engine reports it
        api GET /containers/dk-web/json | python3 -c \
                'import json, sys; print(json.loads(sys.stdin.read().split(" ", 1)[1])["NetworkSettings"]["Networks"]["fleet"]["IPAddress"])' 2>/dev/null
}
has_ip() { [ -n "$(web_ip)" ]; }
wait_for 60 has_ip
W=$(web_ip)
[[ $W == $NET.* ]] && [ "${W##*.}" -ge 128 ]
ok $? "docker gives web $W, in the upper half of node2's subnet" || diag "web's address: '$W'"
get() {   # get NODE RUNTIME CONTAINER NAME: the page at NAME:8080, fetched from inside CONTAINER
        "$C" exec "$1" "$2" exec "$3" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $4 8080 | tail -n 1" 2>/dev/null
}
fetch_ok() { [ "$(get "$@" | tr -d '\r')" = "$5" ]; }
wait_for 60 fetch_ok 1 podman dk-client web hello-from-docker
ok $? "node1's podman client fetches the docker container's page by its bare compose name" ||
        diag "got '$(get 1 podman dk-client web)'"
fetch_ok 1 podman dk-client web.dk.fleet hello-from-docker
ok $? "and by its full name web.dk.fleet"
wait_for 60 fetch_ok 2 docker dk-dclient pweb hello-from-podman
ok $? "node2's docker client fetches node1's podman container by its bare compose name" ||
        diag "got '$(get 2 docker dk-dclient pweb)'; resolv.conf: $("$C" exec 2 docker exec dk-dclient cat /etc/resolv.conf 2>&1 | tr '\n' ' ')"
fetch_ok 2 docker dk-dclient pweb.dk.fleet hello-from-podman
ok $? "and by its full name pweb.dk.fleet"

is "$(api GET /networks/fleet | grep -o '"Id":"[0-9a-f]*"')" "$ID" "docker's right network was left alone (same id)"

done_testing
