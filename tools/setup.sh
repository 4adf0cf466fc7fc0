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

# The Debian package enables etcd.service for multi-user.target; we never want the host's
# own etcd running (our tools start their own members on private ports).
exit 0
