#!/bin/bash
# test-deb.sh: the Debian packages as a packager and an operator meet them.
#
# From a clean copy of the tree (no build directory, no .git): dpkg-buildpackage builds fleetd and
# fleetctl; lintian finds no error in them. Then in a fresh systemd-nspawn machine (tests/deploy/
# nspawn.sh): dpkg installs both; fleetd.service is in /lib/systemd/system, known to systemd, not
# enabled and not started; enabled and started against the machine's own etcd (Debian's
# etcd-server, 127.0.0.1:2379, fleetd's default) it registers the machine and fleetctl lists it;
# stopped and purged, no file of either package, no enablement link and no maintainer-script state
# is left, and systemd no longer knows the unit. Between the two, a compose file in
# /etc/fleet/compose and a reboot: the package's generator (unitgen) has systemd start its service
# at boot through the multi-user.target.wants link it made, and leaves the x-install: {} one alone.
# The machine has no docker: a stand-in /usr/bin/docker records the run and sleeps, so what is
# checked is systemd's start at boot of the generated unit, not a container.
# It contacts only its own container and starts and stops only that, by PID.
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/deploy/tap.sh"
NSPAWN_NET=10.99.62 NSPAWN_BRIDGE=fleetdp62 NSPAWN_NAME=fleetdeb
. "$SRC/tests/deploy/nspawn.sh"

for tool in dpkg-buildpackage dh lintian etcd; do
        command -v $tool >/dev/null 2>&1 || skip_all "$tool is not installed (tools/setup.sh installs it)"
done
nspawn_require
nspawn_setup
T=$NSPAWN_TMP

# ---- build from a clean tree ----
deploy_build_debs "$T/pkg"
ok $? "dpkg-buildpackage builds fleetd and fleetctl from a clean tree" ||
        { diag "$(tail -30 "$T/pkg/build.log")"; echo "Bail out! no packages"; exit 1; }

lintian --fail-on error --tag-display-limit 0 "$T"/pkg/fleet_*.changes >"$T/lintian.log" 2>&1
status=$?
ok "$([ $status -eq 0 ] && ! grep -q '^E:' "$T/lintian.log"; echo $?)" "lintian reports no error" ||
        diag "$(cat "$T/lintian.log")"
grep -q '^W:' "$T/lintian.log" && diag "lintian warnings:" "$(grep '^W:' "$T/lintian.log")"

# ---- install in a fresh machine ----
mkdir -p "$T/debs" && cp "$T"/pkg/fleetd_*.deb "$T"/pkg/fleetctl_*.deb "$T/debs/"
nspawn_boot 1 --bind-ro="$T/debs:/debs" || { echo "Bail out! the machine did not boot"; exit 1; }
upper=$(nspawn_upper 1)
snapshot() { (cd "$upper" && find . -xdev ! -type d | sort); }
snapshot >"$T/before"

in_container 1 sh -c 'dpkg -i /debs/*.deb' >"$T/install.log" 2>&1
ok $? "dpkg installs both packages" || diag "$(cat "$T/install.log")"
in_container 1 dpkg -L fleetd fleetctl >"$T/files" 2>&1

ok "$(grep -qx /lib/systemd/system/fleetd.service "$T/files" &&
      grep -qx /lib/systemd/system-generators/fleet-unitgen-generator "$T/files"; echo $?)" \
        "the unit and the generator are in systemd's directories as its pkg-config names them"
state=$(for p in LoadState UnitFileState ActiveState; do
        in_container 1 systemctl show -p $p --value fleetd.service; done | tr '\n' ' ')
ok "$([ "$state" = "loaded disabled inactive " ]; echo $?)" \
        "after install systemd knows fleetd.service, not enabled, not started" || diag "state: $state"
doc=$(in_container 1 systemctl show -p Documentation --value fleetd.service)
man=0
for page in $(grep -o 'man:[^ "]*' <<<"$doc" | sed 's/man:\(.*\)(\(.*\))/\2\/\1/'); do
        grep -q "/man${page%%/*}/${page#*/}.${page%%/*}" "$T/files" || man=1
done
ok "$([ $man -eq 0 ] && [[ $doc == *"man:fleetd(8)"* ]]; echo $?)" \
        "fleetd.service's Documentation= pages are installed ($doc)"

# fleetd's default endpoint is the machine's own etcd (Debian's etcd-server, on loopback).
in_container 1 systemctl start etcd.service
in_container 1 systemctl enable --now fleetd.service >"$T/start.log" 2>&1
deadline=$((SECONDS + 90)) out=
while [ $SECONDS -lt $deadline ]; do
        out=$(in_container 1 fleetctl --no-legend --fields=machine list-machines 2>&1)
        [ "$(grep -c . <<<"$out")" = 1 ] && in_container 1 systemctl is-active -q fleetd.service && break
        sleep 0.5
done
id=$(cat "$upper/etc/machine-id" 2>/dev/null || cat /etc/machine-id)
ok "$(in_container 1 systemctl is-active -q fleetd.service && [ "$out" = "${id:0:8}..." ]; echo $?)" \
        "enabled and started, fleetd registers the machine and fleetctl lists it" ||
        diag "$out" "$(in_container 1 journalctl -u fleetd -n 20 --no-pager 2>&1)"

in_container 1 systemctl stop fleetd.service
ok "$(! in_container 1 systemctl is-active -q fleetd.service; echo $?)" "fleetd stops"
in_container 1 systemctl stop etcd.service

# ---- the generator at boot ----
in_container 1 sh -c 'mkdir -p /etc/fleet/compose &&
        printf "services:\n  web:\n    image: nginx\n  manual:\n    image: busybox\n    x-install: {}\n" \
                >/etc/fleet/compose/boot.yaml &&
        printf "#!/bin/sh\necho \"\$*\" >>/run/docker-calls\n[ \"\$1\" = run ] && exec sleep infinity\nexit 0\n" \
                >/usr/bin/docker && chmod 755 /usr/bin/docker'
nspawn_reboot 1 || { echo "Bail out! the machine did not boot again"; exit 1; }
link=$(in_container 1 readlink /run/systemd/generator/multi-user.target.wants/boot-web.service)
ok "$([ "$link" = ../boot-web.service ]; echo $?)" \
        "the generator linked boot-web.service into multi-user.target.wants at boot" || diag "link: '$link'"
deadline=$((SECONDS + 60)) state=
while [ $SECONDS -lt $deadline ]; do
        state=$(in_container 1 systemctl show -p ActiveState --value boot-web.service)
        [ "$state" = active ] && break
        sleep 0.5
done
ok "$([ "$state" = active ] && in_container 1 grep -q "^run --rm --name boot-web " /run/docker-calls; echo $?)" \
        "systemd started the generated boot-web.service at boot, and it ran the container" ||
        diag "state: $state" "$(in_container 1 journalctl -b -u boot-web --no-pager 2>&1 | tail -5)"
state=$(for p in LoadState ActiveState; do in_container 1 systemctl show -p $p --value boot-manual.service; done | tr '\n' ' ')
ok "$([ "$state" = "loaded inactive " ]; echo $?)" "the x-install: {} service is generated but not started" ||
        diag "state: $state"
in_container 1 systemctl stop fleetd.service etcd.service boot-web.service
in_container 1 sh -c 'rm -r /etc/fleet/compose /usr/bin/docker && systemctl daemon-reload'

# ---- purge ----
in_container 1 dpkg --purge fleetd fleetctl >"$T/purge.log" 2>&1
ok $? "dpkg purges both packages" || diag "$(cat "$T/purge.log")"
left=
while read -r f; do
        [ -e "$upper$f" ] || [ -L "$upper$f" ] || continue
        [ -d "$upper$f" ] && [ ! -L "$upper$f" ] && continue
        left+=" $f"
done <"$T/files"
ok "$([ -z "$left" ]; echo $?)" "no file of the packages is left" || diag "left:$left"
state=$(in_container 1 systemctl show -p LoadState --value fleetd.service)
ok "$([ "$state" = not-found ]; echo $?)" "systemd no longer knows fleetd.service (reloaded on removal)" ||
        diag "LoadState=$state"

# What the machine gained between before the install and after the purge, apart from what any
# boot, dpkg run, the etcd we started and the host's other services (podman-restart.service at boot
# writes podman's storage) write, and the test's own docker stub (a whiteout where the host has
# podman-docker's /usr/bin/docker): nothing. The machine is an
# overlay of the host's root: where the host has a /var/lib/fleet of its own, purging removes it
# from the machine's view, which the upper layer records as the directory itself (a whiteout); what
# fleetd wrote into it must still be gone.
snapshot >"$T/after"
new=$(comm -13 "$T/before" "$T/after" | grep -vE '^\./(var/lib/dpkg|var/log|var/cache|var/lib/etcd|var/lib/systemd/(timers|random-seed|catalog|timesync)|var/lib/postgresql|var/lib/redis|var/lib/containers|tmp|var/tmp|run)/|^\./etc/ld\.so\.cache$|^\./usr/bin/docker$|^\./var/lib/systemd/random-seed$|^\./var/lib/fleet$')
ok "$([ -z "$new" ]; echo $?)" "install, start, stop and purge leave nothing else behind" || diag "$new"

done_testing
