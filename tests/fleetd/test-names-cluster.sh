#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Service names on the cluster network, end to end, on cluster id 22: 3 nodes with real systemd as
# PID 1, real etcd, the real fleetd, real podman containers from units unitgen made. A client on
# node 1 fetches a page from "web" on node 2 by its bare compose name and by its full name; a service
# on another compose network does not resolve it, nor reach it by its address (nftables: across
# machines, and on one machine after the move), while a service on both networks reaches either;
# after a power cut of node 2, web is active on node 3, its name points at its new address, and the
# client, which retries and is never restarted, gets the page again. Also: a published port (CNI
# portmap on the fleet network) answers at its machine's address from another node, and the name
# of a 3-replica service answers every replica's address.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] && [ -x "${FLEETCTL:-}" ] && [ -x "${UNITGEN:-}" ] || skip_all "fleetd, fleetctl or unitgen was not built"
for b in podman runc busybox dnsmasq; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done

export FLEET_CLUSTER=22
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/names-cluster.XXXXXX)   # /tmp is private to each node
cleanup() {
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

out=$("$C" up 3 3 --fleetd "$FLEETD" --agent-ttl 3s 2>&1)
ok $? "up 3 nodes running fleetd" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
if ! wait_for 60 "$C" exec 1 test -s /etc/cni/net.d/fleet.conflist; then
        skip_all "fleetd set up no cluster network on node1 (no data plane in this build)"
fi

bash "$TOP_SRCDIR/examples/visits/make-images.sh" "$TMP" >/dev/null
for n in 1 2 3; do
        "$C" exec $n podman import -q "$TMP/visits-web.tar" localhost/names-bb:latest >/dev/null
done

mkdir -p "$TMP/app"
cat > "$TMP/app/compose.yaml" <<'YAML'
name: names
x-c: &c
  image: localhost/names-bb:latest
  runtime: runc
  pids_limit: -1
  ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 1024, hard: 1024}}
  stop_grace_period: 1s
services:
  client:
    <<: *c
    networks: [front]
    # Retries for ever, never restarted: one line per try.
    command: ["sh", "-c", "while :; do r=$$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web 8080 2>/dev/null | tail -n 1); echo \"try $${r:-FAIL}\"; sleep 0.3; done"]
    x-fleet: {MachineMetadata: hostname=node1}
  other:
    <<: *c
    networks: [back]
    command: ["sleep", "100000"]
    x-fleet: {MachineMetadata: hostname=node3}
  both:
    <<: *c
    networks: [front, back]
    ports: ["18080:8080"]
    command: ["sh", "-c", "mkdir -p /w && echo hello-from-both > /w/index.html && exec httpd -f -p 8080 -h /w"]
    x-fleet: {MachineMetadata: hostname=node3}
  web:
    <<: *c
    networks: [front]
    command: ["sh", "-c", "mkdir -p /w && echo hello-from-web > /w/index.html && exec httpd -f -p 8080 -h /w"]
    x-fleet: {MachineMetadata: hostname!=node1}
  rr:
    <<: *c
    networks: [front]
    command: ["sleep", "100000"]
    deploy: {replicas: 3}
networks:
  front: {}
  back: {}
YAML
(cd "$TMP/app" && "$UNITGEN" --runtime podman -o "$TMP/units" >/dev/null 2>&1)
ok $? "unitgen converts the app for the cluster network"
cd "$TMP/units" || bail_out "no units"

state_of() {   # state_of UNIT: "ACTIVE IP"
        "$FLEETCTL" list-units --no-legend --fields unit,active,machine 2>/dev/null |
                awk -v u="$1" '$1 == u { ip = $3; sub(/.*\//, "", ip); print $2, ip }'
}
active_on() { [ "$(state_of "$1")" = "active $2" ]; }
# The first two first, so that web, started last, goes to the least loaded machine: node 2.
out=$("$FLEETCTL" start names-client.service names-other.service names-both.service 2>&1)
ok $? "fleetctl starts client, other and both" || diag "$out"
wait_for 120 active_on names-client.service 10.99.22.11
ok $? "client is active on node1"
wait_for 120 active_on names-other.service 10.99.22.13
ok $? "other is active on node3"
wait_for 120 active_on names-both.service 10.99.22.13
ok $? "both (on front and back) is active on node3"
out=$("$FLEETCTL" start names-web.service 2>&1)
ok $? "fleetctl starts web" || diag "$out"
wait_for 120 active_on names-web.service 10.99.22.12
ok $? "web is active on node2" || diag "$("$FLEETCTL" list-units 2>&1)"

ip_of() { "$C" exec "$1" podman inspect "$2" --format '{{.NetworkSettings.Networks.fleet.IPAddress}}' 2>/dev/null; }
web_ip() { ip_of "$1" names-web; }
in_client() { "$C" exec 1 podman exec names-client "$@" 2>/dev/null; }
in_other() { "$C" exec 3 podman exec names-other "$@" 2>/dev/null; }
# busybox-static's wget crashes in getaddrinfo; nc resolves with the same resolv.conf.
get() { "$C" exec "$1" podman exec "$2" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $3 8080 | tail -n 1" 2>/dev/null; }
gets() { [ "$(get "$1" "$2" "$3")" = "$4" ]; }   # gets NODE CONTAINER HOST PAGE
# Whether node N's scope rules hold address A among the published containers they protect.
confines() { "$C" exec "$1" nft list set ip fleet_scopes members 2>/dev/null | grep -qF "$2"; }
dropped() { "$C" exec "$1" nft list chain ip fleet_scopes forward 2>/dev/null | grep -o 'packets [0-9]*' | awk '{ print $2 }'; }
bridge_dropped() { "$C" exec "$1" nft list chain bridge fleet_scopes forward 2>/dev/null | grep -o 'packets [0-9]*' | awk '{ print $2 }'; }
fetch_ok() { [ "$(get 1 names-client "$1")" = hello-from-web ]; }
resolves_to() { in_client nslookup "$1" 2>/dev/null | grep -q "^Address: $2\$"; }

W1=$(web_ip 2)
[[ $W1 =~ ^10\.42\. ]]
ok $? "web's container has a cluster address ($W1)"
wait_for 30 fetch_ok web
ok $? "node1's client fetches web's page on node2 by its bare compose name"
fetch_ok web.names.fleet
ok $? "and by its full name web.names.fleet"
resolves_to web.names.fleet "$W1"
ok $? "the name answers web's address"
isnt "$(get 3 names-other web)" hello-from-web "a service on another compose network does not reach web by its bare name"
in_client nslookup other.names-front.fleet | grep -q "^Address: 10"
ok $((! $?)) "nor is other a name in front's scope"

# Scopes by packets: an address typed by hand gets no further than a name.
B=$(ip_of 3 names-both)
O=$(ip_of 3 names-other)
wait_for 30 confines 3 "$W1" && wait_for 30 confines 1 "$B" && wait_for 30 confines 3 "$O"
ok $? "every machine's scope rules hold the published containers (web $W1, both $B, other $O)"
wait_for 30 gets 1 names-client "$W1" hello-from-web
ok $? "client (front, node1) reaches web (front, node2) by its address"
d0=$(dropped 3)
isnt "$(get 3 names-other "$W1")" hello-from-web "other (back, node3) does not reach web (front, node2) by its address"
[ "$(dropped 3)" -gt "${d0:-0}" ]
ok $? "refused by node3's scope rule ($d0 -> $(dropped 3) packets dropped), not lost elsewhere"
wait_for 30 gets 3 names-other "$B" hello-from-both
ok $? "other reaches both (back, same node) by its address: its own network works"
wait_for 30 gets 1 names-client "$B" hello-from-both
ok $? "client (front, node1) reaches both (front and back, node3) across machines"
wait_for 30 gets 3 names-both "$W1" hello-from-web
ok $? "both reaches web (front, node2) across machines"

# ports: still publish on the machine with the cluster network (CNI portmap on the fleet network).
host_get() { "$C" exec "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 $2 $3 | tail -n 1" 2>/dev/null; }
host_gets() { [ "$(host_get "$1" "$2" "$3")" = "$4" ]; }
wait_for 30 host_gets 1 10.99.22.13 18080 hello-from-both
ok $? "node1 reaches both's published port at node3's address (10.99.22.13:18080)" ||
        diag "$(host_get 1 10.99.22.13 18080)"

# Round robin: the name of a replicated service answers every replica's address.
out=$("$FLEETCTL" start names-rr@1.service names-rr@2.service names-rr@3.service 2>&1)
ok $? "fleetctl starts 3 replicas of rr" || diag "$out"
rr_active() { [ "$("$FLEETCTL" list-units --no-legend --fields unit,active 2>/dev/null | grep -c '^names-rr@[123].service[[:space:]]*active')" = 3 ]; }
wait_for 120 rr_active
ok $? "the 3 replicas are active" || diag "$("$FLEETCTL" list-units 2>&1)"
rr_ips() {
        "$FLEETCTL" list-units --no-legend --fields unit,machine 2>/dev/null |
                awk '$1 ~ /^names-rr@/ { sub(/\.service$/, "", $1); sub(/@/, "-", $1); m = $2; sub(/.*\//, "", m); print $1, m }' |
                while read -r c m; do
                        m=${m##*.}; ip_of $((m - 10)) "$c" || true
                        echo
                done | sed '/^$/d' | sort -u
}
answers() { in_client nslookup "$1" 2>/dev/null | awk '/^Address: 10\.42\./ { print $2 }' | sort -u; }
all_answered() {   # all_answered NAME: every replica's address among 5 queries' answers
        local want got
        want=$(rr_ips)
        [ "$(echo "$want" | wc -l)" = 3 ] || return 1
        got=$(for i in 1 2 3 4 5; do answers "$1"; done | sort -u)
        [ "$got" = "$want" ]
}
wait_for 60 all_answered rr
ok $? "rr answers the addresses of its 3 replicas ($(rr_ips | tr '\n' ' '))" || diag "answers: $(answers rr | tr '\n' ' ')"
all_answered rr.names.fleet
ok $? "and so does its full name rr.names.fleet"
# A destroyed replica's name is withdrawn before its container stops: the agent logs the withdrawal,
# and systemd's stop job starts name_drain (2 s) after the name's delete was written, later still.
rr1=$("$FLEETCTL" list-units --no-legend --fields unit,machine 2>/dev/null | awk '$1 == "names-rr@1.service" { m = $2; sub(/.*\./, "", m); print m - 10 }')
rr1_ip=$(ip_of "$rr1" names-rr-1)
rev0=$(ETCDCTL_API=3 etcdctl --endpoints="$FLEETCTL_ENDPOINT" get / -w json 2>/dev/null |
       sed -n 's/.*"revision":\([0-9]*\).*/\1/p')
"$FLEETCTL" destroy names-rr@1.service >/dev/null 2>&1
usec_of() {   # usec_of NODE JOURNALCTL-ARGS...: the first matching entry's realtime, in µs
        local n=$1; shift
        "$C" exec "$n" journalctl -q --no-pager -o short-unix "$@" 2>/dev/null | awk 'NR == 1 { sub(/\./, "", $1); print $1 }'
}
rr1_stopped() { [ -n "$(usec_of "$rr1" UNIT=names-rr@1.service JOB_TYPE=stop)" ]; }
wait_for 60 rr1_stopped
withdrawn=$(usec_of "$rr1" -u fleetd.service -g "^Withdrawing the name of names-rr@1[.]service")
stopping=$(usec_of "$rr1" UNIT=names-rr@1.service JOB_TYPE=stop)
[ -n "$withdrawn" ] && [ -n "$stopping" ] && [ $((stopping - withdrawn)) -ge 2000000 ]
ok $? "a destroyed replica's name is withdrawn, its stop begins $(( (${stopping:-0} - ${withdrawn:-0}) / 1000 )) ms later (name_drain 2 s)"
# Every machine publishes how far its DNS follows the names (the drain waits for all of them): past
# the withdrawal, so above the revision read before the destroy.
applied=$(ETCDCTL_API=3 etcdctl --endpoints="$FLEETCTL_ENDPOINT" get --prefix /_coreos.com/fleet/names-applied/ 2>/dev/null |
          awk 'NR % 2 == 0')
[ -n "${rev0:-}" ] && [ "$(echo "$applied" | grep -c .)" = 3 ] &&
        [ -z "$(echo "$applied" | awk -v r="$rev0" '$1 + 0 <= r + 0')" ]
ok $? "all 3 machines' DNS followed the withdrawal (names-applied: $(echo $applied), revision before it $rev0)"
gone_rr1() { ! answers rr | grep -qxF "$rr1_ip"; }
wait_for 30 gone_rr1
ok $? "and rr no longer answers its address ($rr1_ip)"
"$FLEETCTL" destroy names-rr@2.service names-rr@3.service >/dev/null 2>&1

started=$("$C" exec 1 podman inspect names-client --format '{{.State.StartedAt}}')
"$C" kill 2
ok $? "power cut of node2"
wait_for 120 active_on names-web.service 10.99.22.13
ok $? "web is active on node3 after the power cut" || diag "$("$FLEETCTL" list-units 2>&1)"
W2=$(web_ip 3)
wait_for 30 resolves_to web.names.fleet "$W2"
ok $? "its name points at its new address ($W2)"
wait_for 30 confines 3 "$W2"
ok $? "node3's scope rules hold web's new address"
d0=$(bridge_dropped 3)
isnt "$(get 3 names-other "$W2")" hello-from-web "other does not reach web by its address on their shared machine (bridged)"
[ "$(bridge_dropped 3)" -gt "${d0:-0}" ]
ok $? "refused by node3's bridge scope rule ($d0 -> $(bridge_dropped 3) packets dropped)"
wait_for 30 gets 3 names-both "$W2" hello-from-web
ok $? "both reaches web on their shared machine"
client_ok_again() { "$C" exec 1 podman logs --tail 1 names-client 2>/dev/null | grep -q "try hello-from-web"; }
wait_for 30 client_ok_again
ok $? "the client, retrying, gets the page again"
is "$("$C" exec 1 podman inspect names-client --format '{{.State.StartedAt}}')" "$started" "without being restarted"
"$C" exec 1 podman logs names-client 2>/dev/null | grep -q "try FAIL"
ok $? "(it did see the outage)"

done_testing
