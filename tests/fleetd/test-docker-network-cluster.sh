#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# docker's "fleet" network, kept by fleetd through the Docker Engine API, on cluster id 23: 2 nodes
# with real systemd, real etcd, the real fleetd. podman stands in for docker here (the real engine:
# test-docker-engine-cluster): podman's "system service" on /run/docker.sock of node 2 serves the
# same API docker's CLI talks (podman 4.3's compat API). What it shows:
#   - docker answering with no network "fleet": fleetd asks docker to create it on the machine's
#     leased subnet (podman refuses any subnet overlapping an address of the machine, and the VTEP
#     holds <subnet>.0; docker does not: fleetd reports podman's refusal, naming the subnet);
#   - a wrong "fleet" network (another subnet): fleetd removes it, saying what was wrong;
#   - a right one (podman sharing the CNI directory fleetd writes): left alone, its id unchanged;
#   - a unit of runtime docker (unitgen --runtime docker, its docker CLI pointed at the socket) gets
#     an address in node 2's subnet and is reached by its bare compose name from a container on
#     node 1.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] && [ -x "${UNITGEN:-}" ] || skip_all "fleetd, fleetctl or unitgen was not built"
for b in podman runc busybox dnsmasq curl; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done
[ -x /usr/bin/docker ] || skip_all "/usr/bin/docker is not installed (podman-docker; tools/setup.sh installs it)"

export FLEET_CLUSTER=23
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/docker-network-cluster.XXXXXX)   # /tmp is private to each node
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
GW=${S%.0/*}.1
diag "node2's subnet: $S"

api() {   # api METHOD PATH [BODY]: the Docker Engine API on node 2, "CODE BODY"
        "$C" exec 2 curl -s --max-time 10 -w '\n%{http_code}' --unix-socket /run/docker.sock -X "$1" \
                ${3:+-H 'Content-Type: application/json' -d "$3"} "http://docker/v1.41$2" 2>/dev/null |
                awk '{ l[NR] = $0 } END { printf "%s", l[NR]; for (i = 1; i < NR; i++) printf " %s", l[i]; print "" }'
}
logged() { "$C" exec 2 journalctl -u fleetd.service --no-pager -o cat 2>/dev/null | grep -qF "$1"; }
serve() {   # serve UNIT [podman global flags]: podman's Docker-compatible API on /run/docker.sock
        local u=$1
        shift
        "$C" exec 2 systemd-run -q --unit "$u" podman "$@" system service -t 0 unix:///run/docker.sock
}
answers() { api GET /_ping | grep -q '^200'; }

# ---- 1. a docker with no "fleet" network: fleetd asks for one on the leased subnet ----
"$C" exec 2 mkdir -p /run/own-cni
serve fake-docker-own --cni-config-dir /run/own-cni
wait_for 30 answers
ok $? "podman's Docker API answers on node2's /run/docker.sock"
wait_for 60 logged "docker refuses to create network fleet (500: subnet $S is already used on the host"
ok $? "fleetd asked docker to create network fleet on $S (podman refuses a subnet holding a machine address: reported)" ||
        diag "$("$C" exec 2 journalctl -u fleetd.service --no-pager -o cat | grep -i docker | tail -3)"

# ---- 2. a wrong "fleet" network: removed, with what was wrong ----
r=$(api POST /networks/create '{"Name":"fleet","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.99.199.0/24","Gateway":"10.99.199.1"}]}}')
[[ $r == 201* ]]
ok $? "a wrong network fleet (10.99.199.0/24) is made behind fleetd's back" || diag "$r"
wait_for 60 logged "has subnet 10.99.199.0/24 (wants $S), gateway 10.99.199.1 (wants $GW): removing it"
ok $? "fleetd names what is wrong and removes it"
gone() { api GET /networks/fleet | grep -q '^404'; }
wait_for 30 gone
ok $? "the wrong network is gone"
"$C" exec 2 systemctl stop fake-docker-own

# ---- 3. a right one: left alone ----
removals() { "$C" exec 2 journalctl -u fleetd.service --no-pager -o cat 2>/dev/null | grep -c ": removing it to create it again"; }
R0=$(removals)
serve fake-docker
wait_for 30 answers
ok $? "podman's Docker API, sharing fleetd's CNI directory, answers"
wait_for 60 logged "docker network fleet on $S (bridge fleet0"
ok $? "fleetd finds docker's network fleet right"
r=$(api GET /networks/fleet)
[[ $r == 200* ]] && echo "$r" | grep -qF "\"Subnet\":\"$S\"" && echo "$r" | grep -qF "\"Gateway\":\"$GW\""
ok $? "docker's network fleet has the leased subnet $S and gateway $GW" || diag "$r"
ID=$(echo "$r" | grep -o '"Id":"[0-9a-f]*"')

# ---- 4. a docker unit on it, reached by name from the other machine ----
bash "$TOP_SRCDIR/examples/visits/make-images.sh" "$TMP" >/dev/null
for n in 1 2; do
        "$C" exec $n podman import -q "$TMP/visits-web.tar" localhost/dk-bb:latest >/dev/null
done
mkdir -p "$TMP/web" "$TMP/client"
cat > "$TMP/web/compose.yaml" <<'YAML'
name: dk
services:
  web:
    image: localhost/dk-bb:latest
    pids_limit: -1
    command: ["sh", "-c", "mkdir -p /w && echo hello-from-docker > /w/index.html && exec httpd -f -p 8080 -h /w"]
    x-fleet: {MachineMetadata: hostname=node2}
YAML
cat > "$TMP/client/compose.yaml" <<'YAML'
name: dk
services:
  client:
    image: localhost/dk-bb:latest
    runtime: runc
    pids_limit: -1
    command: ["sleep", "100000"]
    x-fleet: {MachineMetadata: hostname=node1}
YAML
# Two directories: unitgen removes the units a project no longer has from its output directory.
(cd "$TMP/web" && "$UNITGEN" --runtime docker -o "$TMP/units-web" >/dev/null 2>&1) &&
        (cd "$TMP/client" && "$UNITGEN" --runtime podman -o "$TMP/units-client" >/dev/null 2>&1) &&
        mkdir -p "$TMP/units" && cp "$TMP"/units-web/*.service "$TMP"/units-client/*.service "$TMP/units/"
ok $? "unitgen converts web for docker and client for podman, one compose project"
grep -q -- "--network fleet" "$TMP/units/dk-web.service"
ok $? "the docker unit runs its container on network fleet"
# This machine's "docker" CLI is podman-docker's: point it at the Docker API socket, as docker's is.
"$C" exec 2 sh -c 'mkdir -p /run/systemd/system/dk-web.service.d &&
        printf "[Service]\nEnvironment=CONTAINER_HOST=unix:///run/docker.sock\n" >/run/systemd/system/dk-web.service.d/socket.conf'

cd "$TMP/units" || bail_out "no units"
state_of() {
        "$FLEETCTL" list-units --no-legend --fields unit,active,machine 2>/dev/null |
                awk -v u="$1" '$1 == u { ip = $3; sub(/.*\//, "", ip); print $2, ip }'
}
active_on() { [ "$(state_of "$1")" = "active $2" ]; }
out=$("$FLEETCTL" start dk-web.service dk-client.service 2>&1)
ok $? "fleetctl starts web (docker) and client (podman)" || diag "$out"
wait_for 120 active_on dk-web.service 10.99.23.12
ok $? "web is active on node2" || diag "$("$FLEETCTL" list-units 2>&1)"
wait_for 120 active_on dk-client.service 10.99.23.11
ok $? "client is active on node1"

web_ip() {   # as docker's API reports it
        "$C" exec 2 curl -s --max-time 10 --unix-socket /run/docker.sock http://docker/v1.41/containers/dk-web/json 2>/dev/null |
                python3 -c 'import json, sys; print(json.load(sys.stdin)["NetworkSettings"]["Networks"]["fleet"]["IPAddress"])' 2>/dev/null
}
has_ip() { [ -n "$(web_ip)" ]; }
wait_for 60 has_ip
W=$(web_ip)
in_subnet() { [ "${1%.*}.0/24" = "$S" ]; }
in_subnet "$W"
ok $? "docker reports web's address on network fleet, $W, in node2's subnet $S"
get() { "$C" exec 1 podman exec dk-client sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $1 8080 | tail -n 1" 2>/dev/null; }
fetch_ok() { [ "$(get "$1")" = hello-from-docker ]; }
wait_for 60 fetch_ok web
ok $? "node1's client fetches the docker container's page by its bare compose name" || diag "got '$(get web)'"
fetch_ok web.dk.fleet
ok $? "and by its full name web.dk.fleet"

# ---- 5. containers on the cluster network with no compose network: a scope of their own ----
# Started by hand, with no unit: published nowhere, on the bare network "fleet" only.
# The nodes' cgroup tree has no pids controller: --pids-limit -1.
"$C" exec 1 podman run -d -q --name plain1 --network fleet --pids-limit -1 localhost/dk-bb:latest \
        sh -c 'mkdir -p /w && echo hello-from-plain > /w/index.html && exec httpd -f -p 8080 -h /w' >/dev/null
"$C" exec 2 podman run -d -q --name plain2 --network fleet --pids-limit -1 localhost/dk-bb:latest sleep 100000 >/dev/null
P1=$("$C" exec 1 podman inspect plain1 --format '{{.NetworkSettings.Networks.fleet.IPAddress}}' 2>/dev/null)
[[ $P1 =~ ^10\.42\. ]]
ok $? "a container with no compose network runs on node1's fleet network ($P1)"
pget() { "$C" exec "$1" podman exec "$2" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $3 8080 | tail -n 1" 2>/dev/null; }
pgets() { [ "$(pget "$@")" = hello-from-plain ]; }
wait_for 30 pgets 2 plain2 "$P1"
ok $? "another such container on node2 reaches it by its address (the bare network is one scope)"
confines() { "$C" exec 1 nft list set bridge fleet_scopes members 2>/dev/null | grep -qF "$1"; }
C1=$("$C" exec 1 podman inspect dk-client --format '{{.NetworkSettings.Networks.fleet.IPAddress}}' 2>/dev/null)
wait_for 30 confines "$C1"
ok $? "node1's scope rules hold the client's address ($C1)"
isnt "$(pget 1 dk-client "$P1")" hello-from-plain "a compose service (client, dk_default) does not reach it by its address on their machine"
isnt "$(pget 2 plain2 "$W")" hello-from-docker "nor does it reach a compose service (web) by its address"

r=$(api GET /networks/fleet)
is "$(echo "$r" | grep -o '"Id":"[0-9a-f]*"')" "$ID" "docker's right network was left alone (same id)"
is "$(removals)" "$R0" "and never called wrong"

done_testing
