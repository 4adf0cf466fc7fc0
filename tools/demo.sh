#!/bin/bash
# demo.sh: the main job, end to end, on this machine (as root).
#
#   1. installs the dependencies (tools/setup.sh) and builds the project into build/
#   2. boots a local cluster: 3 machines (network namespaces with systemd as PID 1, each running the
#      fleetd just built) and a 3-member etcd
#   3. turns examples/demo/compose.yaml into units with unitgen, submits and starts them with fleetctl
#   4. shows list-machines and list-units, and fetches a page from each web container
#   5. powers off the machine running demo-web@1 and shows the unit moving to another machine
#   6. leaves the cluster running and prints how to explore it and tear it down
#
# Environment: FLEET_CLUSTER (cluster id, default 0), AGENT_TTL (default 5s), BUILD (default build).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
CID=${FLEET_CLUSTER:-0}
AGENT_TTL=${AGENT_TTL:-5s}
APP=$SRC/examples/demo
WORK=/var/tmp/fleet-demo-$CID
CLUSTER() { "$SRC/tools/cluster" -c "$CID" "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

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
for _ in $(seq 100); do
        [ "$("$FLEETCTL" list-machines --no-legend 2>/dev/null | wc -l)" -ge 3 ] && break
        printf '.'; sleep 0.2
done
echo
"$FLEETCTL" list-machines

step "Loading the demo image (busybox) into each machine's container storage"
"$APP/make-image.sh" "$WORK/fleet-demo.tar"
for n in 1 2 3; do
        CLUSTER exec "$n" podman import -q "$WORK/fleet-demo.tar" localhost/fleet-demo:latest >/dev/null
        echo "node$n: localhost/fleet-demo:latest"
done

step "unitgen: $APP/compose.yaml -> systemd units with [X-Fleet] metadata"
(cd "$APP" && "$UNITGEN" --runtime podman -o "$WORK/units") | tee "$WORK/instances"
echo "--- demo-web@.service, [X-Fleet] section:"
sed -n '/^\[X-Fleet\]/,$p' "$WORK/units/demo-web@.service"

step "fleetctl start: submit, schedule and start every unit"
cd "$WORK/units"
"$FLEETCTL" start $(cat "$WORK/instances")
"$FLEETCTL" list-units

step "The containers really run: a page from each web replica"
while read -r unit machine; do
        case $unit in demo-web@*) ;; *) continue ;; esac
        ip=${machine#*/}
        printf '%s on %s: ' "$unit" "$ip"
        curl -s -m 3 "http://$ip:8080/" || echo "(no answer)"
done < <("$FLEETCTL" list-units --no-legend --fields unit,machine)

victim_ip=$("$FLEETCTL" list-units --no-legend --fields unit,machine | awk '$1 == "demo-web@1.service" { sub(/.*\//, "", $2); print $2 }')
[ -n "$victim_ip" ] || die "demo-web@1.service is not running anywhere"
victim=$(( ${victim_ip##*.} - 10 ))

step "Power cut: node$victim ($victim_ip), which runs demo-web@1.service"
CLUSTER kill "$victim"
start=$(date +%s%N)
printf 'waiting for demo-web@1.service to be active on another machine'
moved=""
for _ in $(seq 300); do
        line=$("$FLEETCTL" list-units --no-legend --fields unit,active,machine 2>/dev/null |
                awk '$1 == "demo-web@1.service"')
        case $line in
        *active*/*) ip=${line##*/}; [ "$ip" != "$victim_ip" ] && { moved=$ip; break; } ;;
        esac
        printf '.'; sleep 0.2
done
echo
end=$(date +%s%N)
if [ -n "$moved" ]; then
        printf 'demo-web@1.service moved from %s to %s in %s s after the power cut (agent_ttl %s)\n' \
                "$victim_ip" "$moved" "$(awk -v d=$((end - start)) 'BEGIN { printf "%.1f", d / 1e9 }')" "$AGENT_TTL"
else
        echo "demo-web@1.service did not move within 60 s"
fi
"$FLEETCTL" list-machines
"$FLEETCTL" list-units
printf 'demo-web@1.service answers on %s: ' "${moved:-?}"
curl -s -m 3 "http://${moved:-127.0.0.1}:8080/" || echo "(no answer)"

worker_ip=$("$FLEETCTL" list-units --no-legend --fields unit,machine |
        awk '$1 == "demo-worker.service" { sub(/.*\//, "", $2); print $2 }')
worker=$(( ${worker_ip##*.} - 10 ))
node_endpoints=${FLEETCTL_ENDPOINT//127.0.0.1/10.99.$CID.1}

cat <<EOF

The cluster is still running. Explore it:
  export FLEETCTL_ENDPOINT=$FLEETCTL_ENDPOINT
  $FLEETCTL list-unit-files
  # status and journal run systemctl/journalctl on the unit's machine, so run fleetctl there:
  tools/cluster -c $CID exec $worker env FLEETCTL_ENDPOINT=$node_endpoints $FLEETCTL status demo-worker.service
  tools/cluster -c $CID exec $worker env FLEETCTL_ENDPOINT=$node_endpoints $FLEETCTL journal demo-worker.service
  tools/cluster -c $CID start $victim        # power node$victim back on
  tools/cluster -c $CID status
Tear it down:
  tools/cluster -c $CID down
EOF
