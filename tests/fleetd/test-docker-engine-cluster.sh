#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# docker's "fleet" network against a REAL docker engine, on cluster id 61: 2 nodes with real
# systemd, real etcd, the real fleetd, and Debian's own dockerd (docker.io, with its containerd) in
# node 2. test-docker-network-cluster stands podman's Docker-compatible API in for docker; this one
# shows the same against the engine itself. docker.io conflicts with podman-docker, so tools/setup.sh
# unpacks its packages into /var/cache/fleet-test-docker/root instead of installing them (the nodes'
# root is the host's, so they see it there); dockerd runs with its own data, exec and config
# directories (its data in this run's own directory, gone with it: a data root kept from an earlier
# run would bring back its networks), as a transient unit of node 2's systemd. What it shows:
#   - docker not running yet: fleetd says so and waits; once dockerd starts, fleetd creates network
#     "fleet" with the leased subnet, gateway, upper-half IP range, bridge fleet0, the cluster MTU
#     and no masquerade, and docker builds exactly that (the bridge, its address, no NAT rule);
#   - a second network "fleet" (docker's CLI refuses one, its API makes one without CheckDuplicate,
#     as a create sent again after a timeout can): docker then answers "network fleet is ambiguous"
#     to every use of the name; fleetd removes the second one and keeps its own;
#   - a wrong "fleet" network: fleetd removes it, naming what was wrong, and creates it again;
#   - docker units (unitgen --runtime docker, docker's own CLI) on it: a podman container on node 1
#     reaches the docker one by its bare compose name, and the docker one reaches a podman one on
#     node 1 by name. docker starts with forwarding off, as at a machine's boot, so it turns it on
#     and sets FORWARD's policy to DROP: node 1 reaches the docker container through the accept
#     rules fleetd keeps in docker's chain DOCKER-USER.
# No skip: where the unpacked engine is missing or dockerd does not start, the test fails. Every wait
# has its bound and all of them end 360 s into the test (meson gives it 600 s, and kills it, cluster
# and all, without a teardown): a broken step makes the test fail, saying what it waited for.
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
cleanup() {   # dockerd first (it stops its containers and unmounts its layers), then the cluster
        timeout 60 "$C" exec 2 systemctl stop real-dockerd.service >/dev/null 2>&1
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
"$C" down >/dev/null 2>&1
# What a run killed by meson's timeout left (the cluster is down now: nothing is mounted there).
rm -rf /var/tmp/docker-engine-cluster.*
TMP=$(mktemp -d /var/tmp/docker-engine-cluster.XXXXXX)   # /tmp is private to each node
trap cleanup EXIT
trap 'exit 1' INT TERM
tap_deadline 360

out=$("$C" up 2 --fleetd "$FLEETD" --agent-ttl 3s 2>&1)
ok $? "up 2 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
await 60 "node2's subnet lease" "$C" exec 2 test -s /var/lib/fleet/network/subnet
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
fleets() {   # the networks named exactly fleet (the API's name filter matches parts): "ID SUBNET" each
        api GET '/networks?filters=%7B%22name%22%3A%5B%22fleet%22%5D%7D' | python3 -c '
import json, sys
code, _, body = sys.stdin.read().partition(" ")
for n in json.loads(body) if code == "200" else []:
    if n["Name"] == "fleet":
        print(n["Id"], ((n["IPAM"]["Config"] or [{}])[0]).get("Subnet", "-"))' 2>/dev/null
}
journal() { "$C" exec 2 journalctl -u "$1" --no-pager -o cat 2>/dev/null; }
logged() { journal fleetd.service | grep -qF "$1"; }

# ---- 1. no docker yet, then the real engine starts ----
await 30 "fleetd to say there is no docker" logged "no docker at /run/docker.sock"
ok $? "with no docker running, fleetd says so and waits"
# Node 2's /usr/bin/docker (podman-docker) becomes docker's own CLI: the units' ExecStart and fleetd's
# "docker inspect" then talk to the real engine. The bind mount lives in the node's mount namespace.
"$C" exec 2 mount --bind "$D/usr/bin/docker" /usr/bin/docker
# /etc is read-only in the nodes: dockerd's config (and its key, which it would put in /etc/docker)
# goes to /run. dockerd starts its containerd from PATH; runc is Debian's, installed for podman.
"$C" exec 2 sh -c 'mkdir -p /run/fleet-test-docker-conf &&
        echo "{\"deprecated-key-path\": \"/run/fleet-test-docker-conf/key.json\"}" >/run/fleet-test-docker-conf/daemon.json'
# Forwarding off, as on a machine where docker starts at boot: docker turns it on and sets FORWARD's
# policy to DROP (with forwarding already on, as the nodes boot, it leaves the policy alone).
"$C" exec 2 sysctl -qw net.ipv4.ip_forward=0
"$C" exec 2 systemd-run -q --unit real-dockerd -p "Environment=PATH=$D/usr/sbin:$D/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$D/usr/sbin/dockerd" -H unix:///run/docker.sock --config-file /run/fleet-test-docker-conf/daemon.json \
        --data-root "$TMP/docker" --exec-root /run/fleet-test-docker \
        --pidfile /run/fleet-test-docker.pid
answers() { api GET /_ping | grep -q '^200'; }
await 90 "dockerd to answer on /run/docker.sock" answers
ok $? "Debian's dockerd answers on node2's /run/docker.sock" ||
        { diag "$(journal real-dockerd.service | grep -v grpc | tail -n 20)"; bail_out "dockerd does not run in a node"; }
V=$(api GET /version | sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion".*/\1/p' | head -n 1)
[[ $V == 20.10.* ]]
ok $? "it is docker's own engine, version $V" || diag "$(api GET /version)"
drops() { "$C" exec 2 iptables -S FORWARD | grep -qx -- '-P FORWARD DROP'; }
await 30 "docker to set FORWARD's policy" drops
ok $? "docker turned forwarding on and FORWARD's policy to DROP" || diag "$("$C" exec 2 iptables -S FORWARD 2>&1)"

await 60 "fleetd to create docker's network fleet" logged "created docker network fleet on $S"
ok $? "fleetd, docker started afterwards, creates network fleet on $S" ||
        { diag "$(journal fleetd.service | grep -i docker | tail -n 5)"; bail_out "no docker network fleet"; }
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
ID=$(echo "$r" | sed -n 's/.*"Id":"\([0-9a-f]*\)".*/\1/p')
R=10.42.0.0/16   # fleetd's default network_range: the cluster sets none
accepts() {   # DOCKER-USER: fleetd's two accept rules, before docker's RETURN
        "$C" exec 2 iptables -S DOCKER-USER | grep -v '^-N' | tr '\n' '|' |
                grep -qE -- "-d $R -m comment --comment \"fleet: to cluster range $R\" -j ACCEPT.*-j RETURN"
}
await 30 "fleetd's rules in DOCKER-USER" accepts
ok $? "fleetd accepts the cluster range $R in docker's chain DOCKER-USER, before docker's RETURN" ||
        diag "$("$C" exec 2 iptables -S DOCKER-USER 2>&1)"
"$C" exec 2 iptables -S DOCKER-USER | grep -qF -- "-s $R -m comment --comment \"fleet: from cluster range $R\" -j ACCEPT"
ok $? "both ways (from the range too)"

# ---- 2. a second network fleet, as a create sent again makes: docker's name becomes ambiguous ----
out=$("$C" exec 2 docker network create --subnet 10.99.198.0/24 fleet 2>&1)
[ $? -ne 0 ] && [[ $out == *"already exists"* ]]
ok $? "docker's CLI refuses a second network named fleet" || diag "$out"
dup=$(api POST /networks/create '{"Name":"fleet","CheckDuplicate":false,"Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.99.198.0/24"}]}}')
DUP=$(echo "$dup" | sed -n 's/^201 .*"Id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$DUP" ]
ok $? "docker's API makes one, given CheckDuplicate false" || diag "$dup"
diag "docker on the name now: $(api GET /networks/fleet | cut -c 1-120)"
only_ours() { [ "$(fleets)" = "$ID $S" ]; }
await 60 "fleetd to leave one network fleet, its own" only_ours
ok $? "fleetd removes the second network fleet and keeps its own" ||
        diag "networks named fleet: $(fleets | tr '\n' ' '); fleetd: $(journal fleetd.service | grep -i docker | tail -n 3)"
logged "docker network fleet ${DUP:0:12} has subnet 10.99.198.0/24 (wants $S)"
ok $? "saying what the second one is"
api GET /networks/fleet | grep -q '^200'
ok $? "docker knows the name fleet again"

# ---- 3. a wrong network fleet: removed, with what was wrong, and made again ----
wrong() {   # replace fleet by a wrong one (fleetd may recreate it in between: CheckDuplicate refuses, try again)
        local id

        for id in $(fleets | cut -d' ' -f1); do
                api DELETE "/networks/$id" >/dev/null
        done
        api POST /networks/create '{"Name":"fleet","CheckDuplicate":true,"Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.99.199.0/24","Gateway":"10.99.199.1"}]}}' |
                grep -q '^201'
}
await 30 "a wrong network fleet to be made" wrong
ok $? "a wrong network fleet (10.99.199.0/24) is made behind fleetd's back"
await 60 "fleetd to name what is wrong" logged "has subnet 10.99.199.0/24 (wants $S), gateway 10.99.199.1 (wants $GW)"
ok $? "fleetd names what is wrong" || diag "$(journal fleetd.service | grep -i docker | tail -n 3)"
new_one() { f=$(fleets) && [[ $f == *" $S" ]] && [ "$(echo "$f" | wc -l)" = 1 ] && [[ $f != "$ID "* ]]; }
await 60 "a new network fleet on $S, alone" new_one
ok $? "and creates it again on $S, a new one, alone" || diag "networks named fleet: $(fleets | tr '\n' ' ')"
ID=$(fleets | cut -d' ' -f1)

# ---- 4. docker units on it, reached by name across machines, and reaching by name ----
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
all_active() { active_on dk-web.service 10.99.61.12 && active_on dk-dclient.service 10.99.61.12 &&
        active_on dk-pweb.service 10.99.61.11 && active_on dk-client.service 10.99.61.11; }
await 180 "the four units to be active" all_active
for u in dk-web:12 dk-dclient:12 dk-pweb:11 dk-client:11; do
        active_on "${u%:*}.service" "10.99.61.${u#*:}"
        ok $? "${u%:*} is active on node$((${u#*:} - 10))" || diag "$("$FLEETCTL" list-units 2>&1)"
done

web_ip() {   # as docker's engine reports it
        api GET /containers/dk-web/json | python3 -c \
                'import json, sys; print(json.loads(sys.stdin.read().split(" ", 1)[1])["NetworkSettings"]["Networks"]["fleet"]["IPAddress"])' 2>/dev/null
}
has_ip() { [ -n "$(web_ip)" ]; }
await 60 "docker to report web's address" has_ip
W=$(web_ip)
[[ $W == $NET.* ]] && [ "${W##*.}" -ge 128 ]
ok $? "docker gives web $W, in the upper half of node2's subnet" || diag "web's address: '$W'"
get() {   # get NODE RUNTIME CONTAINER NAME: the page at NAME:8080, fetched from inside CONTAINER
        "$C" exec "$1" "$2" exec "$3" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $4 8080 | tail -n 1" 2>/dev/null
}
fetch_ok() { [ "$(get "$@" | tr -d '\r')" = "$5" ]; }
await 60 "node1's client to fetch web's page" fetch_ok 1 podman dk-client web hello-from-docker
ok $? "node1's podman client fetches the docker container's page by its bare compose name (FORWARD's policy DROP)" ||
        diag "got '$(get 1 podman dk-client web)'"
fetch_ok 1 podman dk-client web.dk.fleet hello-from-docker
ok $? "and by its full name web.dk.fleet"
await 60 "node2's docker client to fetch pweb's page" fetch_ok 2 docker dk-dclient pweb hello-from-podman
ok $? "node2's docker client fetches node1's podman container by its bare compose name" ||
        diag "got '$(get 2 docker dk-dclient pweb)'; resolv.conf: $("$C" exec 2 docker exec dk-dclient cat /etc/resolv.conf 2>&1 | tr '\n' ' ')"
fetch_ok 2 docker dk-dclient pweb.dk.fleet hello-from-podman
ok $? "and by its full name pweb.dk.fleet"

is "$(fleets)" "$ID $S" "docker's right network was left alone (same id, the only one)"

done_testing
