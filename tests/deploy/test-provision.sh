#!/bin/bash
# test-provision.sh: docs/install.md's path on five throw-away Debian machines (tests/deploy/
# nspawn.sh: systemd-nspawn containers on overlays of this host, 10.99.62.101-105).
#
# The .debs are built once from a clean copy of the tree; a cluster CA and one certificate per
# machine come from tools/vagrant/fleet-ca.sh. provision.sh (uploaded alone, as Vagrant does) turns
# machines 1-3 into a TLS etcd cluster running fleetd from the packages; etcd refuses a client
# without a certificate. Six units start. Machine 4 joins as a new etcd member (etcdctl member add),
# machine 5 as a fleetd-only machine against the existing members (--etcd-members 3).
# A cordon shows in list-machines --fields cordon.
# Machine 2 leaves (provision.sh --leave: fleetctl drain, each move printed, then etcdctl member
# remove): its units run elsewhere, each on exactly one machine. Provisioning again changes nothing.
# It contacts only 10.99.62.x and starts and stops only its own containers, by PID.
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TOP_BUILDDIR:-}
. "$SRC/tests/deploy/tap.sh"
NSPAWN_NET=10.99.62 NSPAWN_BRIDGE=fleetdp62 NSPAWN_NAME=fleetdp62
. "$SRC/tests/deploy/nspawn.sh"
NET=$NSPAWN_NET
N=5

FLEETCTL=${BUILD:+$BUILD/cli/fleetctl}
[ -n "$FLEETCTL" ] && [ -x "$FLEETCTL" ] || skip_all "fleetctl is not built"
for tool in dpkg-buildpackage dh etcd etcdctl openssl; do
        command -v $tool >/dev/null 2>&1 || skip_all "$tool is not installed (tools/setup.sh installs it)"
done
nspawn_require
nspawn_setup
T=$NSPAWN_TMP

# ---- what an operator prepares: packages, CA, certificates ----
deploy_build_debs "$T/pkg" || { diag "$(tail -30 "$T/pkg/build.log")"; echo "Bail out! no packages"; exit 1; }
mkdir -p "$T/debs" && cp "$T"/pkg/fleetd_*.deb "$T"/pkg/fleetctl_*.deb "$T/debs/"
CA="bash $SRC/tools/vagrant/fleet-ca.sh"
$CA init "$T/ca" >/dev/null && $CA issue "$T/ca" admin 127.0.0.1 >/dev/null || { echo "Bail out! no CA"; exit 1; }
IPS=
for ((i = 1; i <= N; i++)); do
        name=$(printf 'fleet-%02d' $i)
        $CA issue "$T/ca" $name $NET.$((100 + i)) >/dev/null || { echo "Bail out! no certificate"; exit 1; }
        mkdir -p "$T/certs$i" && cp "$T/ca/ca.crt" "$T/ca/$name.crt" "$T/ca/$name.key" "$T/certs$i/"
        IPS+="${IPS:+,}$NET.$((100 + i))"
done
IPS4=${IPS%,*}
IPS3=${IPS4%,*}
tar -C "$SRC" --exclude='./.git' --exclude='./build*' --exclude='./obj-*' --exclude='./.vagrant' -cf - . |
        { mkdir -p "$T/src" && tar -C "$T/src" -xf -; }

ADMIN=(--ca-file="$T/ca/ca.crt" --cert-file="$T/ca/admin.crt" --key-file="$T/ca/admin.key")
fleetctl() { timeout 120 "$FLEETCTL" --endpoint="$(printf "https://$NET.%d:2379," 101 103 104 | sed 's/,$//')" \
        "${ADMIN[@]}" "$@"; }
etcdctl3() {
        ETCDCTL_API=3 timeout 20 etcdctl --endpoints="https://$NET.101:2379,https://$NET.103:2379" \
                --cacert="$T/ca/ca.crt" --cert="$T/ca/admin.crt" --key="$T/ca/admin.key" \
                --dial-timeout=2s --command-timeout=5s "$@"
}
# wait_for SECONDS CMD...: until CMD succeeds (a bound, not a timed assertion).
wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.5
        done
}
provision() {   # provision I ARGS...: as Vagrant does, the script alone in /tmp
        local i=$1
        shift
        in_container $i sh -c 'cat >/tmp/vagrant-shell && chmod 0755 /tmp/vagrant-shell' \
                <"$SRC/tools/vagrant/provision.sh"
        in_container $i /tmp/vagrant-shell --src /vagrant --deb /debs --certs /certs --new-machine-id \
                --index $i --ip-prefix $NET "$@"
}

booted=0
for ((i = 1; i <= N; i++)); do
        nspawn_boot $i --bind-ro="$T/src:/vagrant" --bind-ro="$T/debs:/debs" --bind-ro="$T/certs$i:/certs" &&
                booted=$((booted + 1))
done
ok "$([ $booted -eq $N ]; echo $?)" "$N machines booted" || { echo "Bail out! machines did not boot"; exit 1; }

# ---- three machines: a TLS cluster from the packages ----
failed=
for i in 1 2 3; do
        provision $i --ips "$IPS3" >"$T/provision$i.log" 2>&1 &
        eval "PROVISION_$i=\$!"
done
for i in 1 2 3; do
        eval "pid=\$PROVISION_$i"
        wait "$pid" || failed+=" $i"
done
ok "$([ -z "$failed" ]; echo $?)" "provision.sh --deb --certs succeeds on machines 1-3" ||
        for i in $failed; do diag "machine $i:" "$(tail -20 "$T/provision$i.log")"; done
ok "$(for i in 1 2 3; do in_container $i dpkg-query -W fleetd fleetctl >/dev/null || exit 1; done; echo $?)" \
        "fleetd and fleetctl are installed from the packages"

ok "$(wait_for 120 etcdctl3 endpoint health; echo $?)" "the three members form a healthy cluster, over TLS" ||
        for i in 1 2 3; do diag "$(in_container $i journalctl -u etcd -n 5 --no-pager 2>&1)"; done
members=$(etcdctl3 member list 2>&1 | cut -d, -f3,4 | sort | tr -d ' ')
ok "$([ "$members" = "$(printf 'fleet-%02d,https://%s.%d:2380\n' 1 $NET 101 2 $NET 102 3 $NET 103)" ]; echo $?)" \
        "members fleet-01..03 with https peer URLs" || diag "$members"
out=$(ETCDCTL_API=3 timeout 20 etcdctl --endpoints=https://$NET.101:2379 --cacert="$T/ca/ca.crt" \
        --dial-timeout=2s --command-timeout=3s get --prefix /_coreos.com/ 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "etcd refuses a client without a certificate: $(tail -1 <<<"$out" | cut -c1-80)"
curl -s --max-time 3 http://$NET.101:2379/health >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "and plain http gets nothing"

three() { [ "$(fleetctl --no-legend list-machines | grep -c .)" = "$1" ]; }
ok "$(wait_for 120 three 3; echo $?)" "three fleetds registered, seen with the admin certificate" ||
        diag "$(fleetctl list-machines 2>&1)" "$(in_container 1 journalctl -u fleetd -n 10 --no-pager 2>&1)"
ok "$(in_container 1 bash -lc 'fleetctl --no-legend list-machines' | grep -c . | grep -qx 3; echo $?)" \
        "fleetctl on a machine works as root without flags (/etc/profile.d/fleetctl.sh)"

# ---- six units ----
mkdir -p "$T/units"
printf '[Unit]\nDescription=t %%i\n[Service]\nExecStart=/bin/sleep infinity\n' >"$T/units/t@.service"
fleetctl start --block-attempts=480 "$T"/units/t@{1..6}.service >"$T/start.log" 2>&1
ok $? "six units start" || diag "$(cat "$T/start.log")"

# Where each unit really runs: the containers' own systemd, not what etcd says.
running() {     # running UNIT: the machines whose systemd has it active
        local i r=
        for ((i = 1; i <= N; i++)); do
                [ -n "${NSPAWN_PIDS[$((i - 1))]:-}" ] || continue
                in_container $i systemctl is-active -q "$1" 2>/dev/null && r+="$i "
        done
        echo "$r"
}

# ---- a fourth machine joins as a new etcd member ----
provision 4 --ips "$IPS4" --etcd-state existing >"$T/provision4.log" 2>&1
ok $? "machine 4 joins with --etcd-state existing (etcdctl member add, then start)" ||
        diag "$(tail -20 "$T/provision4.log")"
four_members() { [ "$(etcdctl3 member list | grep -c ', started, ')" = 4 ]; }
ok "$(wait_for 120 four_members; echo $?)" "etcd has four started members" || diag "$(etcdctl3 member list 2>&1)"
ok "$(wait_for 120 three 4; echo $?)" "four fleetds registered" || diag "$(fleetctl list-machines 2>&1)"

# ---- a fifth machine joins as fleetd only, against the existing members ----
provision 5 --ips "$IPS" --etcd-members 3 >"$T/provision5.log" 2>&1
ok $? "machine 5 joins with --etcd-members 3 (fleetd only)" || diag "$(tail -20 "$T/provision5.log")"
ok "$(wait_for 120 three 5; echo $?)" "five fleetds registered" || diag "$(fleetctl list-machines 2>&1)"
ok "$(! in_container 5 systemctl is-active -q etcd && [ "$(etcdctl3 member list | grep -c ', started, ')" = 4 ]; echo $?)" \
        "machine 5 runs no etcd member; etcd still has four" || diag "$(etcdctl3 member list 2>&1)"

# ---- a cordon shows in list-machines (opt-in field), and fleet's default table is unchanged ----
# (The machines' hostname field is the host's own, the containers share it: fleet-config.sh's
# hostname= metadata names them.)
names() { fleetctl --no-legend --full --fields machine,metadata,cordon list-machines |
          sed -E 's/^([0-9a-f]+)[[:space:]]+hostname=([^,[:space:]]+)[^[:space:]]*[[:space:]]+/\1 \2 /'; }
id3=$(names | awk '$2 == "fleet-03" { print $1 }')
table=$(fleetctl list-machines)
fleetctl cordon "$id3" >/dev/null 2>&1
cordons=$(names | awk '{ print $2, $3 }' | sort | tr '\n' ';')
ok "$([ -n "$id3" ] && [ "$cordons" = "fleet-01 -;fleet-02 -;fleet-03 cordoned;fleet-04 -;fleet-05 -;" ] &&
      [ "$(fleetctl list-machines)" = "$table" ]; echo $?)" \
        "fleetctl cordon shows in list-machines --fields machine,metadata,cordon; the default table is the same" ||
        diag "id3 '$id3'" "$cordons" "$(names)"
fleetctl uncordon "$id3" >/dev/null 2>&1
ok "$([ -z "$(fleetctl --no-legend --fields cordon list-machines | grep -v '^-$')" ]; echo $?)" "and uncordon clears it"

# ---- machine 2 leaves: drain, then remove its member ----
before=$(for k in 1 2 3 4 5 6; do echo "t@$k $(running t@$k.service)"; done)
on2=$(grep -c ' 2 $' <<<"$before")
provision 2 --ips "$IPS3" --leave >"$T/leave.log" 2>&1
ok $? "provision.sh --leave on machine 2" || diag "$(tail -20 "$T/leave.log")"
moved=$(grep -c 'moved from' "$T/leave.log")
ok "$([ "$on2" -ge 1 ] && [ "$moved" = "$on2" ]; echo $?)" \
        "the drain printed a move for each of its $on2 units" || diag "$before" "$(cat "$T/leave.log")"
diag "$(grep 'moved from' "$T/leave.log")"
members=$(etcdctl3 member list 2>&1 | cut -d, -f3 | sort | tr -d ' ' | tr '\n' ' ')
ok "$([ "$members" = "fleet-01 fleet-03 fleet-04 " ]; echo $?)" "fleet-02 is no etcd member any more" || diag "$members"
ok "$(wait_for 60 three 4; echo $?)" "and no fleet machine" || diag "$(fleetctl list-machines 2>&1)"
# A moved unit is launched in etcd before its new machine's systemd has it active: wait (bounded).
placed() {
        local k where
        for ((k = 1; k <= 6; k++)); do
                where=$(running t@$k.service)
                [ "$(wc -w <<<"$where")" = 1 ] && [ "$where" != "2 " ] || { echo "t@$k runs on: '$where'"; return 1; }
        done
}
ok "$(wait_for 120 placed; echo $?)" "every unit runs on exactly one machine, none on the one that left" ||
        diag "$(placed)"
ok "$([ -z "$(in_container 2 systemctl list-units --no-legend 't@*' 2>/dev/null | grep -w active)" ] &&
      ! in_container 2 systemctl is-active -q fleetd etcd; echo $?)" \
        "machine 2 runs none of them, nor fleetd or etcd"
ok "$(fleetctl --no-legend list-unit-files | awk '{ print $4 }' | sort -u | grep -qx launched; echo $?)" \
        "fleetctl shows all six launched"
cordons=$(etcdctl3 get --prefix --keys-only /_coreos.com/fleet/cordons/ 2>&1 | grep -c .)
ok "$([ "$cordons" = 0 ]; echo $?)" "no drain mark is left behind"

# ---- provisioning again changes nothing ----
etcd_pid=$(in_container 1 systemctl show -p MainPID --value etcd.service)
provision 1 --ips "$IPS3" >"$T/reprovision.log" 2>&1
status=$?
ok "$([ $status -eq 0 ] && ! grep -q 'wrote\|installing' "$T/reprovision.log" &&
      [ "$etcd_pid" = "$(in_container 1 systemctl show -p MainPID --value etcd.service)" ]; echo $?)" \
        "provisioning machine 1 again rewrites and reinstalls nothing and keeps etcd running" ||
        diag "status $status" "$(cat "$T/reprovision.log")"

done_testing
