#!/bin/bash
# test-provision.sh: tools/vagrant/provision.sh for real, on three throw-away machines.
#
# A Vagrant VM cannot run here, so each "VM" is a systemd-nspawn container booting this host's own
# root file system through an overlay whose writable layer is a tmpfs: apt, meson install, /etc and
# /var changes stay in the container and vanish with it. The containers sit on a private bridge
# (10.99.62.0/24, the project's test subnets; the host is .1) at 10.99.62.101-103, the Vagrant
# layout with another prefix. The test runs provision.sh in all three as Vagrant would, then checks
# the static etcd cluster, the files, the services, distinct machine-ids, fleetd's registrations
# (when fleetd is built) and that a second provisioning changes nothing.
# It contacts only 10.99.62.x and starts and stops only its own containers, by PID.
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TOP_BUILDDIR:-}
. "$SRC/tests/deploy/tap.sh"

NET=10.99.62
BRIDGE=fleetdp62
N=3

[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v systemd-nspawn >/dev/null 2>&1 || skip_all "systemd-nspawn is not installed (apt-get install systemd-container)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || skip_all "no overlay file system"
# The containers have no way out to a package mirror: what provision.sh installs must be here.
for p in $(sed -n '/^PACKAGES=(/,/^)/p' "$SRC/tools/vagrant/provision.sh" | sed '1d;$d'); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                skip_all "package $p is not installed (tools/setup.sh installs it)"
done

exec 9>/run/fleet-deploy-test.lock
flock -n 9 || skip_all "another test-provision.sh is running"
ip link show "$BRIDGE" >/dev/null 2>&1 && skip_all "bridge $BRIDGE exists already: another run was not cleaned up"

TMP=$(mktemp -d /tmp/fleet-deploy.XXXXXX)
NSPAWN_PIDS=()

cleanup() {
        local pid k i
        for pid in "${NSPAWN_PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null     # nspawn halts the container's systemd
        done
        for pid in "${NSPAWN_PIDS[@]}"; do
                for ((k = 0; k < 100; k++)); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        for ((i = 1; i <= N; i++)); do
                mountpoint -q "$TMP/m$i/root" && umount -l "$TMP/m$i/root"
        done
        mountpoint -q "$TMP" && umount -l "$TMP"
        ip link del "$BRIDGE" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

mount -t tmpfs -o size=6g,mode=0700 tmpfs "$TMP" || { echo "Bail out! cannot mount a tmpfs"; exit 1; }

# The tree under test, as the working tree is now (the containers see host paths through the
# overlay, but not this tmpfs, so it is bound in as /vagrant like Vagrant's synced folder).
tar -C "$SRC" --exclude='./.git' --exclude='./build*' --exclude='./obj-*' --exclude='./.vagrant' -cf - . |
        { mkdir -p "$TMP/src" && tar -C "$TMP/src" -xf -; }

ip link add "$BRIDGE" type bridge && ip addr add "$NET.1/24" dev "$BRIDGE" && ip link set "$BRIDGE" up ||
        { echo "Bail out! cannot create bridge $BRIDGE"; exit 1; }

# container_pid I: the host PID of container I's systemd.
container_pid() {
        local nspawn=${NSPAWN_PIDS[$(($1 - 1))]} c
        for c in $(pgrep -P "$nspawn"); do
                [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && { echo "$c"; return 0; }
        done
        return 1
}
in_container() {        # in_container I CMD...: no command may hang the test
        local i=$1 pid
        shift
        pid=$(container_pid "$i") || return 1
        timeout 600 nsenter -t "$pid" -a "$@"
}
etcdctl3() {
        ETCDCTL_API=3 timeout 10 etcdctl --endpoints="$endpoints" --dial-timeout=1s --command-timeout=2s "$@"
}

booted=0
for ((i = 1; i <= N; i++)); do
        mkdir -p "$TMP/m$i/upper" "$TMP/m$i/work" "$TMP/m$i/root"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$TMP/m$i/upper,workdir=$TMP/m$i/work" "$TMP/m$i/root" ||
                { echo "Bail out! overlay mount failed"; exit 1; }
        systemd-nspawn -D "$TMP/m$i/root" --machine="fleetdp62-$i" --register=no --keep-unit \
                --link-journal=no --network-bridge="$BRIDGE" --bind-ro="$TMP/src:/vagrant" -q -b \
                >"$TMP/nspawn$i.log" 2>&1 </dev/null &
        NSPAWN_PIDS+=($!)
done
for ((i = 1; i <= N; i++)); do
        deadline=$((SECONDS + 60))          # bounds, not timed assertions
        while [ $SECONDS -lt $deadline ]; do
                state=$(in_container $i timeout 5 systemctl is-system-running 2>/dev/null)
                case $state in running|degraded) break ;; esac
                sleep 0.2
        done
        case $state in running|degraded) booted=$((booted + 1)) ;; *) diag "$(tail -5 "$TMP/nspawn$i.log")" ;; esac
        in_container $i ip addr add "$NET.$((100 + i))/24" dev host0
        in_container $i ip link set host0 up
done
ok "$([ $booted -eq $N ]; echo $?)" "$N containers booted systemd on overlays of the host" ||
        { echo "Bail out! containers did not boot"; exit 1; }

# ---- provision, as `vagrant up` would (here all at once) ----
# Vagrant's shell provisioner uploads the script alone to /tmp/vagrant-shell and runs it there.
for ((i = 1; i <= N; i++)); do
        in_container $i sh -c 'cat >/tmp/vagrant-shell && chmod 0755 /tmp/vagrant-shell' \
                <"$SRC/tools/vagrant/provision.sh"
        in_container $i /tmp/vagrant-shell --instances $N --index $i \
                --ip-prefix $NET --src /vagrant --new-machine-id >"$TMP/provision$i.log" 2>&1 &
        eval "PROVISION_$i=\$!"
done
failed=
for ((i = 1; i <= N; i++)); do
        eval "pid=\$PROVISION_$i"
        wait "$pid" || failed+=" $i"
done
ok "$([ -z "$failed" ]; echo $?)" "provision.sh succeeds on all $N machines" ||
        for i in $failed; do diag "machine $i:" "$(tail -20 "$TMP/provision$i.log")"; done

# ---- the static etcd cluster ----
endpoints=$(for ((i = 1; i <= N; i++)); do printf 'http://%s.%d:2379,' $NET $((100 + i)); done)
endpoints=${endpoints%,}
healthy=1
deadline=$((SECONDS + 90))
while [ $SECONDS -lt $deadline ]; do
        etcdctl3 endpoint health >/dev/null 2>&1 && { healthy=0; break; }
        sleep 0.5
done
ok $healthy "the $N etcd members form a healthy cluster at $NET.101-103" ||
        for ((i = 1; i <= N; i++)); do diag "$(in_container $i journalctl -m -u etcd -n 5 --no-pager 2>&1)"; done

members=$(etcdctl3 member list 2>&1 | cut -d, -f3,4 | sort | tr -d ' ')
expected=$(for ((i = 1; i <= N; i++)); do printf 'fleet-%02d,http://%s.%d:2380\n' $i $NET $((100 + i)); done)
ok "$([ "$members" = "$expected" ]; echo $?)" "members fleet-01..03 with their peer URLs" ||
        diag "got:" "$members"

# ---- files and services on each machine ----
files_ok=0 services_ok=0 ids=
for ((i = 1; i <= N; i++)); do
        args=(--instances $N --index $i --ip-prefix $NET)
        cmp -s <(bash "$SRC/tools/vagrant/fleet-config.sh" etcd "${args[@]}") "$TMP/m$i/root/etc/default/etcd" ||
                files_ok=1
        cmp -s <(bash "$SRC/tools/vagrant/fleet-config.sh" fleet "${args[@]}") "$TMP/m$i/root/etc/fleet/fleet.conf" ||
                files_ok=1
        in_container $i systemctl is-enabled -q etcd.service || services_ok=1
        in_container $i systemctl is-active -q etcd.service || services_ok=1
        [ "$(in_container $i stat -c %U /var/lib/etcd/fleet)" = etcd ] || services_ok=1
        ids+="$(cat "$TMP/m$i/root/etc/machine-id") "
done
ok $files_ok "each machine has exactly the generated /etc/default/etcd and /etc/fleet/fleet.conf"
ok $services_ok "etcd is enabled and active on each machine, data in /var/lib/etcd/fleet owned by etcd"
distinct=$(tr ' ' '\n' <<<"$ids" | grep -c .)
unique=$(tr ' ' '\n' <<<"$ids" | grep . | sort -u | grep -vc "^$(cat /etc/machine-id)$")
ok "$([ "$distinct" -eq $N ] && [ "$unique" -eq $N ]; echo $?)" \
        "--new-machine-id gave $N distinct machine-ids, none the image's" || diag "ids: $ids"

# ---- fleetd, if this tree builds it ----
if [ -e "$TMP/m1/root/usr/sbin/fleetd" ] && in_container 1 systemctl cat fleetd.service >/dev/null 2>&1; then
        enabled=0
        for ((i = 1; i <= N; i++)); do
                in_container $i systemctl is-enabled -q fleetd.service || enabled=1
        done
        ok $enabled "fleetd is installed and enabled on each machine"
        registered=
        deadline=$((SECONDS + 60))
        while [ $SECONDS -lt $deadline ]; do
                registered=$(etcdctl3 get --prefix --keys-only /_coreos.com/fleet/machines/ 2>/dev/null |
                        grep . | sed 's|.*/||' | sort | tr '\n' ' ')
                [ "$registered" = "$(tr ' ' '\n' <<<"$ids" | grep . | sort | tr '\n' ' ')" ] && break
                sleep 0.5
        done
        ok "$([ "$registered" = "$(tr ' ' '\n' <<<"$ids" | grep . | sort | tr '\n' ' ')" ]; echo $?)" \
                "the $N fleetds registered under their machine-ids" ||
                { diag "registered: $registered" "ids: $ids"
                  diag "$(in_container 1 systemctl status fleetd.service --no-pager -n 0 2>&1)"
                  diag "$(in_container 1 journalctl -m -u fleetd.service -n 15 --no-pager 2>&1)"; }
        fleetctl=${BUILD:+$BUILD/cli/fleetctl}
        if [ -n "$fleetctl" ] && [ -x "$fleetctl" ]; then
                out=$(timeout 30 "$fleetctl" --endpoint="http://$NET.101:2379" list-machines 2>&1)
                ok "$(grep -q "$NET.102.*hostname=fleet-02,role=worker" <<<"$out" &&
                      grep -q "$NET.101.*hostname=fleet-01,role=manager" <<<"$out"; echo $?)" \
                        "fleetctl --endpoint=http://$NET.101:2379 list-machines from the host shows IPs and metadata" ||
                        diag "$out"
        else
                echo "ok $((TAP_COUNT += 1)) - # SKIP fleetctl is not built"
        fi
else
        echo "ok $((TAP_COUNT += 1)) - # SKIP this tree does not build and install fleetd.service yet"
fi

# ---- a second provisioning changes nothing ----
etcd_pid=$(in_container 2 systemctl show -p MainPID --value etcd.service)
in_container 2 /tmp/vagrant-shell --instances $N --index 2 --ip-prefix $NET \
        --src /vagrant --new-machine-id >"$TMP/reprovision.log" 2>&1
status=$?
etcd_pid_after=$(in_container 2 systemctl show -p MainPID --value etcd.service)
ok "$([ $status -eq 0 ] && ! grep -q 'wrote\|regenerating' "$TMP/reprovision.log" &&
      [ "$etcd_pid" = "$etcd_pid_after" ] && [ "$etcd_pid" != 0 ]; echo $?)" \
        "provisioning again rewrites nothing, keeps the machine-id and does not restart etcd" ||
        diag "status $status, etcd pid $etcd_pid -> $etcd_pid_after" "$(cat "$TMP/reprovision.log")"

done_testing
