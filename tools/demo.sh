#!/bin/bash
# demo.sh: the main job, end to end, on this machine (as root).
#
#   1. installs the dependencies (tools/setup.sh) and builds the project into build/
#   2. boots a local cluster: 3 machines (network namespaces with systemd as PID 1, each running the
#      fleetd just built, which sets up the cluster network and the machine's DNS) and a 3-member etcd
#   3. builds the visit counter's two images from Debian's packages (examples/visits/make-images.sh:
#      no registry is reachable) and loads them into each machine's podman
#   4. turns examples/visits/compose.yaml into units with unitgen and starts them with fleetctl: the
#      web service and redis land on different machines, and web reaches redis by its name
#   5. counts a few visits, then cuts the power of redis's machine and waits until redis is active
#      on another machine AND the counter answers through it again
#   6. leaves the cluster running and prints how to explore it and tear it down
#
# Environment: FLEET_CLUSTER (cluster id, default 0), AGENT_TTL (default 5s), BUILD (default build).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
CID=${FLEET_CLUSTER:-0}
AGENT_TTL=${AGENT_TTL:-5s}
APP=$SRC/examples/visits
WORK=/var/tmp/fleet-demo-$CID
CLUSTER() { "$SRC/tools/cluster" -c "$CID" "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
now() { date +%s%N; }
secs() { awk -v d=$(($2 - $1)) 'BEGIN { printf "%.1f", d / 1e9 }'; }

[ "$(id -u)" = 0 ] || die "must run as root (the cluster's machines are namespaces with systemd as PID 1)"

step "Installing dependencies (apt-get, skipped when present)"
bash "$SRC/tools/setup.sh"

step "Building into $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
        meson setup "$BUILD" "$SRC" -Dbuildtype=release >/dev/null
fi
ninja -C "$BUILD" fleetd/fleetd cli/fleetctl unitgen/unitgen | tail -1
FLEETCTL=$BUILD/cli/fleetctl
UNITGEN=$BUILD/unitgen/unitgen

step "Booting a cluster: 3 machines running fleetd, 3 etcd members (cluster $CID)"
CLUSTER down >/dev/null 2>&1 || true
rm -rf "$WORK"
mkdir -p "$WORK"
CLUSTER up 3 3 --fleetd "$BUILD/fleetd/fleetd" --agent-ttl "$AGENT_TTL"
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$(CLUSTER etcd-endpoints)

printf 'waiting for 3 machines to register'
for _ in $(seq 150); do
        [ "$("$FLEETCTL" list-machines --no-legend 2>/dev/null | wc -l)" -ge 3 ] && break
        printf '.'; sleep 0.2
done
echo
"$FLEETCTL" list-machines

step "Building the images locally from Debian's packages and loading them into each machine"
"$APP/make-images.sh" "$WORK"
for n in 1 2 3; do
        CLUSTER exec "$n" podman import -q "$WORK/visits-web.tar" localhost/visits-web:latest >/dev/null
        CLUSTER exec "$n" podman import -q "$WORK/visits-redis.tar" localhost/visits-redis:latest >/dev/null
        echo "node$n: localhost/visits-web:latest localhost/visits-redis:latest"
done

step "unitgen: $APP/compose.yaml -> systemd units on the cluster network"
(cd "$APP" && "$UNITGEN" $(cat unitgen.args) -o "$WORK/units") | tee "$WORK/instances"
echo "--- visits-web.service: how the container joins the cluster network, and what names it gets"
grep -E '^ExecStart=' "$WORK/units/visits-web.service" | grep -o -- '--network .*fleet '
sed -n '/^\[X-Fleet/,$p' "$WORK/units/visits-web.service"

step "fleetctl start: submit, schedule and start both units"
cd "$WORK/units"
"$FLEETCTL" start $(cat "$WORK/instances")

# unit -> "ACTIVE_STATE IP" from fleetctl (the machine's public IP).
where() {
        "$FLEETCTL" list-units --no-legend --fields unit,active,machine 2>/dev/null |
                awk -v u="$1" '$1 == u { ip = $3; sub(/.*\//, "", ip); print $2, ip }'
}
# A page from web's published port on its machine (empty if it does not answer).
page() { curl -s -m 3 "http://$1:8080/" 2>/dev/null || true; }

printf 'waiting for both units to be active and the counter to answer'
web_ip="" redis_ip=""
for _ in $(seq 300); do
        read -r web_state web_ip < <(where visits-web.service) || true
        read -r redis_state redis_ip < <(where visits-redis.service) || true
        if [ "${web_state:-}" = active ] && [ "${redis_state:-}" = active ] &&
           page "$web_ip" | grep -q "been seen"; then
                break
        fi
        printf '.'; sleep 0.2
done
echo
"$FLEETCTL" list-units
[ -n "$web_ip" ] && [ -n "$redis_ip" ] || die "the units did not start"
echo "web runs on $web_ip, redis on $redis_ip: different machines, one network"
for _ in 1 2 3; do
        printf 'visit http://%s:8080/: %s\n' "$web_ip" "$(page "$web_ip")"
done

web_node=$(( ${web_ip##*.} - 10 ))
redis_node=$(( ${redis_ip##*.} - 10 ))
echo "--- inside the web container, redis is a name of the machine's DNS (TTL 0):"
CLUSTER exec "$web_node" podman exec visits-web nslookup redis 2>/dev/null | grep -A2 "^Name" || true
echo "--- node$web_node's DNS hosts files, fed from etcd (P names/):"
CLUSTER exec "$web_node" sh -c 'cat /run/fleet/dns/hosts/*' 2>/dev/null | cut -c1-150

step "Power cut: node$redis_node ($redis_ip), which runs redis"
CLUSTER kill "$redis_node"
start=$(now)
printf 'waiting for redis to be active on another machine and the counter to answer through it'
moved="" active_at="" answer=""
for _ in $(seq 450); do
        read -r state ip < <(where visits-redis.service) || true
        if [ "${state:-}" = active ] && [ -n "${ip:-}" ] && [ "$ip" != "$redis_ip" ]; then
                [ -n "$active_at" ] || active_at=$(now)
                answer=$(page "$web_ip")
                case $answer in *"been seen"*) moved=$ip; break ;; esac
        fi
        printf '.'; sleep 0.2
done
echo
end=$(now)
if [ -n "$moved" ]; then
        printf 'redis moved from %s to %s: active %s s and answering %s s after the power cut (agent_ttl %s)\n' \
                "$redis_ip" "$moved" "$(secs "$start" "$active_at")" "$(secs "$start" "$end")" "$AGENT_TTL"
        printf 'the counter answers again on %s: %s\n' "$web_ip" "$answer"
        printf 'and counts on: %s\n' "$(page "$web_ip")"
        echo "(redis kept the count in memory only, so it started again on the new machine)"
else
        echo "redis did not move and answer within 90 s"
fi
"$FLEETCTL" list-machines
"$FLEETCTL" list-units

node_endpoints=${FLEETCTL_ENDPOINT//127.0.0.1/10.99.$CID.1}
cat <<EOF

The cluster is still running. Explore it:
  export FLEETCTL_ENDPOINT=$FLEETCTL_ENDPOINT
  $FLEETCTL list-unit-files
  curl http://$web_ip:8080/
  tools/cluster -c $CID exec $web_node podman exec visits-web nslookup redis.visits.fleet
  tools/cluster -c $CID exec $web_node env FLEETCTL_ENDPOINT=$node_endpoints $FLEETCTL journal visits-web.service
  tools/cluster -c $CID start $redis_node        # power node$redis_node back on
  tools/cluster -c $CID status
Tear it down:
  tools/cluster -c $CID down
EOF
