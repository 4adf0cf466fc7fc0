#!/bin/bash
# provision.sh: turn a fresh Debian 12 machine into machine I of an N-machine fleet cluster, as root.
#
#   provision.sh --instances N --index I [fleet-config.sh options...] [--src DIR] [--new-machine-id]
#                [--certs DIR] [--deb DIR] [--container-runtime docker|podman|none]
#   provision.sh --leave [the same options]
#
#   1. installs etcd-server, etcd-client and openssl with apt-get;
#   2. installs the fleetd and fleetctl packages: the .debs in --deb DIR, or built here from the
#      source tree DIR (default: this script's checkout) with dpkg-buildpackage;
#   3. installs the machine's TLS files from --certs DIR (ca.crt, NAME.crt, NAME.key as
#      tools/vagrant/fleet-ca.sh makes them; NAME is fleet-0I) into /etc/fleet/tls, and the
#      cluster key DIR/cluster.key (fleet-ca.sh init) as /etc/fleet/cluster.key, root-only;
#   4. writes /etc/default/etcd (a static etcd cluster across the --etcd-members machines, TLS with
#      client certificates), /etc/fleet/fleet.conf and /etc/profile.d/fleetctl.sh with
#      fleet-config.sh; with --etcd-state existing it first adds itself with `etcdctl member add`;
#   5. enables and (re)starts etcd (members only) and fleetd.
#
# --leave takes the machine out: `fleetctl drain` moves its units away (each move printed), fleetd
# stops, its etcd member is removed from the cluster (`etcdctl member remove`) and stops, and the
# drain mark is dropped.
#
# Idempotent: running it again rewrites the files and restarts only what changed.
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
CERTS=
DEBS=
LEAVE=false
TLS=true

PACKAGES=(
        etcd-server etcd-client curl openssl
)
# Only to build the packages here (without --deb).
BUILD_PACKAGES=(
        dpkg-dev debhelper gcc meson ninja-build pkg-config
        libsystemd-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
)

log() { printf '==> provision: %s\n' "$*"; }
die() { printf 'provision.sh: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
        case $1 in
        --src)            [ $# -ge 2 ] || die "--src: missing value"; SRC=$2; shift 2 ;;
        --src=*)          SRC=${1#*=}; shift ;;
        --new-machine-id) NEW_MACHINE_ID=true; shift ;;
        --certs)          [ $# -ge 2 ] || die "--certs: missing value"; CERTS=$2; shift 2 ;;
        --certs=*)        CERTS=${1#*=}; shift ;;
        --deb)            [ $# -ge 2 ] || die "--deb: missing value"; DEBS=$2; shift 2 ;;
        --deb=*)          DEBS=${1#*=}; shift ;;
        --leave)          LEAVE=true; shift ;;
        --insecure)       TLS=false; CONFIG_ARGS+=("$1"); shift ;;
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
[ -n "$DEBS" ] || [ -f "$SRC/meson.build" ] || die "$SRC is not a fleet source tree (no meson.build)"
if [ -n "$DEBS" ]; then
        compgen -G "$DEBS/fleetd_*.deb" >/dev/null && compgen -G "$DEBS/fleetctl_*.deb" >/dev/null ||
                die "--deb $DEBS: no fleetd_*.deb and fleetctl_*.deb there"
else
        PACKAGES+=("${BUILD_PACKAGES[@]}")
fi
case $CONTAINER_RUNTIME in
docker) PACKAGES+=(docker.io) ;;
podman) PACKAGES+=(podman) ;;
none) ;;
*) die "--container-runtime '$CONTAINER_RUNTIME': expected docker, podman or none" ;;
esac
if [ $TLS = true ] && [ $LEAVE = false ]; then
        [ -n "$CERTS" ] || die "TLS needs the machine's certificate: --certs DIR (tools/vagrant/fleet-ca.sh makes them), or --insecure"
        for f in ca.crt "$NAME.crt" "$NAME.key"; do
                [ -s "$CERTS/$f" ] || die "--certs $CERTS: no $f (fleet-ca.sh issue DIR $NAME IP)"
        done
fi

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

# The packages: the given .debs, or built from the source tree (tests and docs skipped). dpkg only
# runs when they changed, so provisioning again restarts nothing.
install_fleet() {
        local dir=$DEBS out=$STATE/build.log sum

        if [ -z "$dir" ]; then
                log "building the fleet packages from $SRC (log: $out)"
                rm -rf "$BUILD" && mkdir -p "$BUILD/fleet"
                tar -C "$SRC" --exclude='./.git' --exclude='./build*' --exclude='./obj-*' -cf - . |
                        tar -C "$BUILD/fleet" -xf -
                (cd "$BUILD/fleet" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$out" 2>&1 ||
                        { tail -n 30 "$out" >&2; die "building the packages failed"; }
                dir=$BUILD
        fi
        sum=$(cat "$dir"/fleetd_*.deb "$dir"/fleetctl_*.deb | sha256sum)
        if [ "$sum" = "$(cat "$STATE/debs.sha256" 2>/dev/null)" ] && dpkg-query -W fleetd fleetctl >/dev/null 2>&1; then
                return 0
        fi
        log "installing $(cd "$dir" && echo fleetd_*.deb fleetctl_*.deb)"
        dpkg -i "$dir"/fleetd_*.deb "$dir"/fleetctl_*.deb >"$STATE/dpkg.log" 2>&1 ||
                { cat "$STATE/dpkg.log" >&2; die "installing the packages failed"; }
        echo "$sum" >"$STATE/debs.sha256"
}

# install_secret SRC DEST MODE [GROUP]: copies when different; returns 0 when it did.
install_secret() {
        cmp -s "$1" "$2" && return 1
        install -m "$3" -o root -g "${4:-root}" "$1" "$2"
        log "wrote $2"
}

install_certs() {
        local changed=1

        [ $TLS = true ] || return 1
        # etcd (user etcd) and fleetd (root) read the key.
        install -d -m 0750 -o root -g etcd /etc/fleet/tls
        install_secret "$CERTS/ca.crt" /etc/fleet/tls/ca.crt 0644 && changed=0
        install_secret "$CERTS/$NAME.crt" /etc/fleet/tls/machine.crt 0644 && changed=0
        install_secret "$CERTS/$NAME.key" /etc/fleet/tls/machine.key 0640 etcd && changed=0
        # The key that seals the cluster's secrets: root only (fleetd, and fleetctl run as root).
        if [ -s "$CERTS/cluster.key" ]; then
                install_secret "$CERTS/cluster.key" /etc/fleet/cluster.key 0400 && changed=0
        fi
        return $changed
}

# etcdctl against the cluster's other members, with this machine's certificate.
etcdctl_others() {
        local eps= j

        for ((j = 1; j <= FC_ETCD_MEMBERS; j++)); do
                [ "$j" = "$FC_INDEX" ] || eps+="${eps:+,}$(fleet_config_client_url "$j")"
        done
        ETCDCTL_API=3 etcdctl --endpoints="$eps" --dial-timeout=3s --command-timeout=10s \
                ${TLS_ARGS[@]+"${TLS_ARGS[@]}"} "$@"
}

# A new member joins a running cluster: announce it, then start it with state existing.
member_add() {
        [ "$FC_ETCD_STATE" = existing ] || return 0
        [ -z "$(ls -A "$FC_DATA_DIR" 2>/dev/null)" ] || return 0
        etcdctl_others member list | grep -q ", $NAME, \|, $(fleet_config_peer_url "$FC_INDEX")," && return 0
        log "adding etcd member $NAME ($(fleet_config_peer_url "$FC_INDEX")) to the cluster"
        etcdctl_others member add "$NAME" --peer-urls="$(fleet_config_peer_url "$FC_INDEX")" >/dev/null ||
                die "etcdctl member add failed"
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
        install_certs && etcd_changed=true
        fleet_config_fleet | install_file /etc/fleet/fleet.conf || true
        fleet_config_fleetctl | install_file /etc/profile.d/fleetctl.sh || true
        if ! fleet_config_is_member "$FC_INDEX"; then
                # fleetd only: Debian's package started a single-member etcd on install.
                systemctl disable --now etcd.service >/dev/null 2>&1 || true
                configure_fleetd
                return
        fi
        fleet_config_etcd | install_file /etc/default/etcd && etcd_changed=true
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
                member_add
                log "starting etcd member $NAME"
                systemctl restart --no-block etcd.service
        fi
        # Here etcd is local: fleetd starts once its member has joined the cluster.
        mkdir -p /etc/systemd/system/fleetd.service.d
        printf '[Unit]\nWants=etcd.service\nAfter=etcd.service\n' |
                install_file /etc/systemd/system/fleetd.service.d/local-etcd.conf || true
        configure_fleetd
}

configure_fleetd() {
        if systemctl cat fleetd.service >/dev/null 2>&1; then
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
        until ETCDCTL_API=3 etcdctl --endpoints="$endpoints" ${TLS_ARGS[@]+"${TLS_ARGS[@]}"} endpoint health >/dev/null 2>&1; do
                if [ $SECONDS -ge $deadline ]; then
                        echo "provision.sh: etcd is not healthy yet on every member; check 'journalctl -u etcd'" >&2
                        return 0
                fi
                sleep 1
        done
        log "etcd cluster healthy; from the host: fleetctl --endpoint=$(fleet_config_client_url 1) list-machines"
}

# Take this machine out of the cluster, its units first.
leave() {
        local id mid

        id=$(cat /etc/machine-id)
        # shellcheck disable=SC1091
        . /etc/profile.d/fleetctl.sh
        if systemctl is-active -q fleetd.service; then
                log "draining $id"
                fleetctl drain --block-attempts=1200 "$id" || die "fleetctl drain failed; the machine stays"
        fi
        systemctl disable --now fleetd.service >/dev/null 2>&1 || true
        if fleet_config_is_member "$FC_INDEX"; then
                mid=$(etcdctl_others member list | awk -F', ' -v n="$NAME" '$3 == n { print $1 }')
                if [ -n "$mid" ]; then
                        log "removing etcd member $NAME ($mid)"
                        etcdctl_others member remove "$mid" >/dev/null || die "etcdctl member remove failed"
                fi
                systemctl disable --now etcd.service >/dev/null 2>&1 || true
                rm -rf "$FC_DATA_DIR"
        fi
        # The mark outlives the machine's registration: drop it, from the remaining members.
        FLEETCTL_ENDPOINT=${FLEETCTL_ENDPOINT#*,} fleetctl uncordon "$id" >/dev/null 2>&1 || true
        rm -f "$STATE/machine-id-regenerated"
        log "left the cluster"
}

TLS_ARGS=()
[ $TLS = false ] || TLS_ARGS=(--cacert=/etc/fleet/tls/ca.crt --cert=/etc/fleet/tls/machine.crt --key=/etc/fleet/tls/machine.key)
mkdir -p "$STATE"
if [ $LEAVE = true ]; then
        leave
        exit 0
fi
install_packages
configure_docker
new_machine_id
install_fleet
configure
report
