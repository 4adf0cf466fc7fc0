#!/bin/bash
# setup.sh: install every build and test dependency on a Debian 12 machine.
#
# Idempotent: when every package is already installed it returns in well under a second
# without touching apt. Only Debian's own package archive is used.
set -euo pipefail

PACKAGES=(
        # build
        gcc meson ninja-build pkg-config
        libsystemd-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
        libmnl-dev libnftables-dev      # fleetd's cluster network: rtnetlink and nftables
        libsodium-dev                   # secrets sealed with the cluster key (crypto_secretbox)
        # the cluster: real etcd, real systemd as PID 1 per node, namespaces and networking
        etcd-server etcd-client systemd dbus util-linux iproute2 curl nftables
        # tests and tools
        openssl diffutils python3 procps vagrant systemd-container
        dpkg-dev debhelper lintian      # the .deb test: dpkg-buildpackage and lintian
        stress-ng                       # the lease keeper test oversubscribes the CPUs
        podman runc busybox-static      # unitgen cluster test: a generated podman unit runs in a node
        podman-docker                   # docker network test: a docker unit's /usr/bin/docker (talks to podman's Docker API)
        dnsmasq-base                    # the cluster DNS on each machine (fleet-dns.service)
        redis-server redis-tools        # the demo's redis image is built from their binaries
        iperf3                          # bench/network: overlay throughput
)

if [ "$(id -u)" != 0 ]; then
        echo "setup.sh: must run as root (it installs packages with apt-get)" >&2
        exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
        echo "setup.sh: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # The etcd-server postinst tries to start etcd; policy-rc.d may refuse, which is fine:
        # we never use the system etcd, the tests and the cluster tool start their own.
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The docker engine test (tests/fleetd/test-docker-engine-cluster.sh) runs Debian's real dockerd in a
# cluster node. Debian's docker.io conflicts with podman-docker (installed above, which the podman
# tests use), so its packages are unpacked, not installed, into a directory of their own; nothing
# of them runs on this machine outside the test.
DOCKER_ROOT=/var/cache/fleet-test-docker/root
if [ ! -x "$DOCKER_ROOT/usr/sbin/dockerd" ] || [ ! -x "$DOCKER_ROOT/usr/bin/containerd" ]; then
        echo "setup.sh: unpacking docker.io and containerd into $DOCKER_ROOT"
        [ -n "$(apt-cache policy docker.io 2>/dev/null | grep Candidate: | grep -v none)" ] || apt-get update -qq
        debs=$(mktemp -d)
        # apt fetches as its own user when it can write the directory.
        chown _apt "$debs" 2>/dev/null || true
        (cd "$debs" && apt-get download -qq docker.io containerd)
        rm -rf "$DOCKER_ROOT.new"
        mkdir -p "$DOCKER_ROOT.new"
        for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$DOCKER_ROOT.new"; done
        rm -rf "$debs" "$DOCKER_ROOT"
        mv "$DOCKER_ROOT.new" "$DOCKER_ROOT"
fi

# The Debian package enables etcd.service for multi-user.target; we never want the host's
# own etcd running (our tools start their own members on private ports).
exit 0
