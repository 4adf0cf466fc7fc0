#!/bin/bash
# provision.sh: turn a fresh Debian 12 machine into member I of an N-machine fleet cluster, as root.
#
#   provision.sh --instances N --index I [fleet-config.sh options...] [--src DIR] [--new-machine-id]
#                [--container-runtime docker|podman|none]
#
#   1. installs the build dependencies, etcd-server and etcd-client with apt-get;
#   2. builds fleet from DIR (default: this script's checkout) with meson and installs it into /usr;
#   3. writes /etc/default/etcd (a static etcd cluster across the N machines) and
#      /etc/fleet/fleet.conf (etcd_servers, public_ip, metadata hostname=/role=) with fleet-config.sh;
#   4. enables and (re)starts etcd and fleetd.
#
# Idempotent: running it again rebuilds, rewrites the files and restarts only what changed.
# The Vagrantfile runs it in every VM; on real machines run it by hand with --ips A,B,C.
# --new-machine-id regenerates /etc/machine-id once (cloned VM images may share one, and fleet
# identifies machines by it). --container-runtime installs Debian's docker.io or podman so that
# units running containers (the examples, unitgen's output) work; the default is none.
# Untested here (no network in the test containers): the docker/podman installation itself.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=/var/tmp/fleet-build
STATE=/var/lib/fleet-provision
NEW_MACHINE_ID=false
CONTAINER_RUNTIME=none
CONFIG_ARGS=()

PACKAGES=(
        gcc meson ninja-build pkg-config
        libsystemd-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
        etcd-server etcd-client curl
)

log() { printf '==> provision: %s\n' "$*"; }
die() { printf 'provision.sh: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
        case $1 in
        --src)            [ $# -ge 2 ] || die "--src: missing value"; SRC=$2; shift 2 ;;
        --src=*)          SRC=${1#*=}; shift ;;
        --new-machine-id) NEW_MACHINE_ID=true; shift ;;
        --container-runtime)
                [ $# -ge 2 ] || die "--container-runtime: missing value"; CONTAINER_RUNTIME=$2; shift 2 ;;
        --container-runtime=*) CONTAINER_RUNTIME=${1#*=}; shift ;;
        -h|--help)        sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *)                CONFIG_ARGS+=("$1"); shift ;;
        esac
done

[ "$(id -u)" = 0 ] || die "must run as root"
# Vagrant's shell provisioner uploads this one file to /tmp and runs it there: the configuration
# generator then comes from the source tree.
for lib in "$HERE/fleet-config.sh" "$SRC/tools/vagrant/fleet-config.sh" ""; do
        [ -z "$lib" ] || [ ! -f "$lib" ] || break
done
[ -n "$lib" ] || die "fleet-config.sh is neither next to this script nor in $SRC/tools/vagrant (use --src)"
# shellcheck source=tools/vagrant/fleet-config.sh
. "$lib"
# Validate every option before touching the machine.
fleet_config_parse "${CONFIG_ARGS[@]}" || exit 1
NAME=$(fleet_config_name "$FC_INDEX")   # the etcd member name and the machine's hostname= metadata
[ -f "$SRC/meson.build" ] || die "$SRC is not a fleet source tree (no meson.build)"
case $CONTAINER_RUNTIME in
docker) PACKAGES+=(docker.io) ;;
podman) PACKAGES+=(podman) ;;
none) ;;
*) die "--container-runtime '$CONTAINER_RUNTIME': expected docker, podman or none" ;;
esac

install_packages() {
        local missing=() p

        for p in "${PACKAGES[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        [ ${#missing[@]} -gt 0 ] || return 0
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Docker's default bridge, 172.17.0.0/16, would overlap the Vagrant network 172.17.8.0/24.
configure_docker() {
        [ "$CONTAINER_RUNTIME" = docker ] || return 0
        mkdir -p /etc/docker
        printf '{\n  "bip": "10.254.254.1/24"\n}\n' | install_file /etc/docker/daemon.json || return 0
        systemctl restart --no-block docker.service
}

new_machine_id() {
        [ "$NEW_MACHINE_ID" = true ] && [ ! -e "$STATE/machine-id-regenerated" ] || return 0
        log "regenerating /etc/machine-id"
        # A random ID: systemd-machine-id-setup would reuse D-Bus's ID, cloned along with the image.
        systemd-id128 new >/etc/machine-id.new
        chmod 0444 /etc/machine-id.new
        mv -f /etc/machine-id.new /etc/machine-id
        if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
                ln -sf /etc/machine-id /var/lib/dbus/machine-id
        fi
        touch "$STATE/machine-id-regenerated"
}

# The project's default build type (debugoptimized: -O2 -g), the one its tests run.
build_and_install() {
        local out=$STATE/build.log

        log "building fleet in $BUILD (log: $out)"
        {
                if [ -f "$BUILD/build.ninja" ]; then
                        meson setup --reconfigure "$BUILD" "$SRC"
                else
                        meson setup "$BUILD" "$SRC" --prefix=/usr -Dtests=false
                fi && meson compile -C "$BUILD" && meson install -C "$BUILD" --quiet
        } >"$out" 2>&1 || { tail -n 30 "$out" >&2; die "building fleet failed"; }
}

# install_file PATH: replaces PATH with stdin; returns 0 when the content changed.
install_file() {
        local path=$1 tmp

        tmp=$(mktemp "$path.XXXXXX")
        cat >"$tmp"
        chmod 0644 "$tmp"
        if cmp -s "$tmp" "$path"; then
                rm -f "$tmp"
                return 1
        fi
        mv -f "$tmp" "$path"
        log "wrote $path"
}

configure() {
        local etcd_changed=false

        mkdir -p /etc/fleet
        fleet_config_etcd | install_file /etc/default/etcd && etcd_changed=true
        fleet_config_fleet | install_file /etc/fleet/fleet.conf || true
        install -d -o etcd -g etcd -m 0700 "$FC_DATA_DIR"
        # etcd reports ready only once a quorum of members runs; the first machine may wait for the
        # others for longer than systemd's default start timeout.
        mkdir -p /etc/systemd/system/etcd.service.d
        printf '[Service]\nTimeoutStartSec=infinity\n' | install_file /etc/systemd/system/etcd.service.d/fleet.conf || true
        systemctl daemon-reload
        systemctl enable etcd.service >/dev/null 2>&1
        # Debian's package started a single-member etcd on install; ours has its own data directory.
        # --no-block: the other members may not be up yet.
        if [ "$etcd_changed" = true ] || ! systemctl is-active -q etcd.service; then
                log "starting etcd member $NAME"
                systemctl restart --no-block etcd.service
        fi

        if systemctl cat fleetd.service >/dev/null 2>&1; then
                # Here etcd is local: fleetd starts once its member has joined the cluster.
                mkdir -p /etc/systemd/system/fleetd.service.d
                printf '[Unit]\nWants=etcd.service\nAfter=etcd.service\n' |
                        install_file /etc/systemd/system/fleetd.service.d/local-etcd.conf || true
                systemctl daemon-reload
                systemctl enable fleetd.service >/dev/null 2>&1
                # Always restart: the binary may be new. fleetd adopts the units that run, so a
                # restart does not restart them.
                log "starting fleetd"
                systemctl restart --no-block fleetd.service
        else
                echo "provision.sh: fleetd.service was not installed; fleetd is not started" >&2
        fi
}

# The last machine waits for the whole etcd cluster so `vagrant up` ends with a working cluster.
report() {
        local endpoints deadline

        [ "$FC_INDEX" = "$FC_INSTANCES" ] || return 0
        endpoints=$(fleet_config_fleet | sed -n 's/^etcd_servers=//p')
        deadline=$((SECONDS + 120))
        log "waiting for the etcd cluster ($endpoints)"
        until ETCDCTL_API=3 etcdctl --endpoints="$endpoints" endpoint health >/dev/null 2>&1; do
                if [ $SECONDS -ge $deadline ]; then
                        echo "provision.sh: etcd is not healthy yet on every member; check 'journalctl -u etcd'" >&2
                        return 0
                fi
                sleep 1
        done
        log "etcd cluster healthy; from the host: fleetctl --endpoint=$(fleet_config_client_url 1) list-machines"
}

mkdir -p "$STATE"
install_packages
configure_docker
new_machine_id
build_and_install
configure
report
