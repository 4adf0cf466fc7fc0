#!/bin/bash
# test-fleet-config.sh: the per-machine configuration of the Vagrant (and real) cluster.
#
# tools/vagrant/fleet-config.sh must print, for each golden case, exactly the checked-in
# /etc/default/etcd and /etc/fleet/fleet.conf; every ETCD_* variable must be a flag the installed
# etcd knows; the N machines' files must agree with each other; bad options must be refused with a
# message and no output; provision.sh must refuse bad options before it touches the machine.
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
HERE=$SRC/tests/deploy
GEN=$SRC/tools/vagrant/fleet-config.sh
. "$HERE/tap.sh"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- golden files ----
while read -r dir args; do
        case $dir in ''|'#'*) continue ;; esac
        # shellcheck disable=SC2086  # the options are words on purpose
        for what in etcd fleet; do
                expected=$HERE/golden/$dir/$what
                # A machine that runs no etcd member has no etcd file: fleet-config.sh refuses it.
                [ "$what" = etcd ] && [ ! -f "$expected" ] && [[ " $args " == *" --etcd-members "* ]] && continue
                [ "$what" = fleet ] && expected=$HERE/golden/$dir/fleet.conf
                bash "$GEN" "$what" $args >"$TMP/out" 2>"$TMP/err"
                status=$?
                if ! ok $((status != 0)) "$dir: $what exits 0"; then
                        diag "$(cat "$TMP/err")"
                        continue
                fi
                ok "$(cmp -s "$expected" "$TMP/out"; echo $?)" "$dir: $what is exactly ${expected#"$SRC"/}" ||
                        diag "$(diff -u "$expected" "$TMP/out")"
        done
done <"$HERE/golden/cases"

# ---- the same arguments give the same bytes, sourced or run ----
(
        . "$GEN"
        fleet_config_main etcd --instances 3 --index 2
) >"$TMP/sourced" 2>&1
ok "$(cmp -s "$TMP/sourced" "$HERE/golden/vagrant-3-2/etcd"; echo $?)" \
        "sourced fleet_config_main prints what the program prints"

# ---- consistency across the machines of one cluster ----
cluster_ok=0
for n in 1 2 3 5 7; do
        first_cluster=
        servers_sorted=
        ip=
        for ((i = 1; i <= n; i++)); do
                bash "$GEN" etcd --instances $n --index $i >"$TMP/e" || cluster_ok=1
                bash "$GEN" fleet --instances $n --index $i >"$TMP/f" || cluster_ok=1
                cluster=$(sed -n 's/^ETCD_INITIAL_CLUSTER=//p' "$TMP/e")
                [ -n "$first_cluster" ] || first_cluster=$cluster
                # Every member lists the same cluster, and its own name/peer URL is in it.
                [ "$cluster" = "$first_cluster" ] || cluster_ok=1
                name=$(sed -n 's/^ETCD_NAME=//p' "$TMP/e")
                peer=$(sed -n 's/^ETCD_INITIAL_ADVERTISE_PEER_URLS=//p' "$TMP/e")
                [[ ,$cluster, == *",$name=$peer,"* ]] || cluster_ok=1
                # Its fleet.conf names every member's client URL, its own first.
                adv=$(sed -n 's/^ETCD_ADVERTISE_CLIENT_URLS=//p' "$TMP/e")
                servers=$(sed -n 's/^etcd_servers=//p' "$TMP/f")
                [ "${servers%%,*}" = "$adv" ] || cluster_ok=1
                s=$(tr , '\n' <<<"$servers" | sort | tr '\n' ,)
                [ -n "$servers_sorted" ] || servers_sorted=$s
                [ "$s" = "$servers_sorted" ] || cluster_ok=1
                [ "$(tr , '\n' <<<"$servers" | wc -l)" -eq $n ] || cluster_ok=1
                ip=${adv#https://}
                grep -qx "public_ip=${ip%:*}" "$TMP/f" || cluster_ok=1
        done
        [ "$(tr , '\n' <<<"$first_cluster" | wc -l)" -eq $n ] || cluster_ok=1
done
ok $cluster_ok "clusters of 1, 2, 3, 5, 7 machines: same ETCD_INITIAL_CLUSTER, own member in it, all servers listed"

# ---- every ETCD_* variable is a flag etcd knows ----
if command -v etcd >/dev/null 2>&1; then
        etcd --help >"$TMP/help" 2>&1
        unknown=
        for v in $(grep -ho '^ETCD_[A-Z_]*' "$HERE"/golden/*/etcd | sort -u); do
                flag=--$(tr 'A-Z_' 'a-z-' <<<"${v#ETCD_}")
                grep -q -- "^ *$flag\b" "$TMP/help" || unknown+=" $v"
        done
        ok "$([ -z "$unknown" ]; echo $?)" "every ETCD_* variable names a flag of $(etcd --version | head -1)" ||
                diag "unknown:$unknown"
else
        echo "ok $((TAP_COUNT += 1)) - # SKIP etcd is not installed (apt-get install etcd-server)"
fi

# ---- values a systemd EnvironmentFile and fleetd read literally: no quotes, spaces or escapes ----
bad=$(grep -hv '^#' "$HERE"/golden/*/etcd "$HERE"/golden/*/fleet.conf | grep -v '^[A-Za-z_]*=[^ "'\''\\$]*$')
ok "$([ -z "$bad" ]; echo $?)" "generated lines are plain key=value" || diag "$bad"

keys=$(grep -hv '^#' "$HERE"/golden/*/fleet.conf | cut -d= -f1 | sort -u | tr '\n' ' ')
ok "$([ "$keys" = "agent_ttl etcd_cafile etcd_certfile etcd_keyfile etcd_servers metadata public_ip " ]; echo $?)" \
        "fleet.conf uses fleet's option names only ($keys)"

# ---- bad options: a message, exit 1, nothing on stdout ----
refuse() {      # refuse "EXPECTED MESSAGE PART" ARGS...
        local expect=$1
        shift
        bash "$GEN" "$@" >"$TMP/out" 2>"$TMP/err"
        local status=$?
        ok "$([ $status -eq 1 ] && [ ! -s "$TMP/out" ] && grep -qF -- "$expect" "$TMP/err"; echo $?)" \
                "refused: $* ($expect)" || diag "status $status" "$(cat "$TMP/out" "$TMP/err")"
}
refuse "--index is required" etcd --instances 3
refuse "--index '4': expected a number from 1 to 3" fleet --instances 3 --index 4
refuse "--index '0'" etcd --index 0
refuse "--instances 'x'" etcd --instances x --index 1
refuse "--instances '100'" etcd --instances 100 --index 1
refuse "--ips has 2 addresses, --instances is 3" etcd --ips 10.0.0.1,10.0.0.2 --instances 3 --index 1
refuse "'10.0.0.300' is not an IPv4 address" fleet --ips 10.0.0.1,10.0.0.300 --index 1
refuse "--ip-prefix '10.0': expected three octets" etcd --ip-prefix 10.0 --index 1
refuse "--ip-base 250 leaves no room" etcd --ip-base 250 --instances 5 --index 1
refuse "ports beyond 65535" etcd --client-port 65000 --port-stride 1000 --instances 3 --index 1
refuse "--agent-ttl '10 s'" fleet --agent-ttl "10 s" --index 1
refuse "--metadata 'disk'" fleet --metadata disk --index 1
refuse "--metadata: hostname and role are set by the index" fleet --metadata a=b,role=x --index 1
refuse "--token 'a b'" etcd --token "a b" --index 1
refuse "--data-dir 'rel'" etcd --data-dir rel --index 1
refuse "unknown option --bogus" etcd --bogus 1 --index 1
refuse "--index: missing value" etcd --index
refuse "expected etcd, fleet, fleetctl, name or ip" cloud --index 1
refuse "--etcd-members '4'" etcd --instances 3 --etcd-members 4 --index 1
refuse "machine 3 runs no etcd member" etcd --instances 3 --etcd-members 2 --index 3
refuse "--etcd-state 'maybe'" etcd --etcd-state maybe --index 1
refuse "--tls-dir 'tls'" fleet --tls-dir tls --index 1

# ---- secure by default: TLS with client certificates on both URLs, unless --insecure ----
bash "$GEN" etcd --instances 3 --index 2 >"$TMP/e"
bash "$GEN" fleet --instances 3 --index 2 >"$TMP/f"
ok "$(! grep -q 'http://' "$TMP/e" "$TMP/f" && grep -qx ETCD_CLIENT_CERT_AUTH=true "$TMP/e" &&
      grep -qx ETCD_PEER_CLIENT_CERT_AUTH=true "$TMP/e" && grep -q '^etcd_certfile=' "$TMP/f"; echo $?)" \
        "by default every URL is https, etcd demands client certificates on both, fleetd has its files"
bash "$GEN" fleet --ips 10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4 --etcd-members 3 --index 4 >"$TMP/f"
ok "$(grep -qx 'etcd_servers=https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379' "$TMP/f"; echo $?)" \
        "a fleetd-only machine lists the members' URLs only"
bash "$GEN" fleetctl --instances 3 --index 1 >"$TMP/c"
ok "$(grep -q '^export FLEETCTL_ENDPOINT=https://172.17.8.101:2379,' "$TMP/c" &&
      grep -q 'FLEETCTL_KEY_FILE=/etc/fleet/tls/machine.key' "$TMP/c"; echo $?)" \
        "fleetctl's environment on a machine: its endpoints and certificate"

# ---- provision.sh validates before it touches anything ----
# Both the options and the source tree are bad, so even a broken check could not start installing.
if [ "$(id -u)" = 0 ]; then
        bash "$SRC/tools/vagrant/provision.sh" --instances 3 --index 9 --src "$TMP/nonexistent" \
                >"$TMP/out" 2>"$TMP/err"
        status=$?
        ok "$([ $status -eq 1 ] && grep -qF -- "--index '9'" "$TMP/err" && ! grep -q installing "$TMP/out"; echo $?)" \
                "provision.sh refuses --index 9 of 3 before installing anything" ||
                diag "status $status" "$(cat "$TMP/out" "$TMP/err")"
        bash "$SRC/tools/vagrant/provision.sh" --instances 3 --index 1 --container-runtime rkt \
                --src "$TMP/nonexistent" >"$TMP/out" 2>"$TMP/err"
        status=$?
        ok "$([ $status -eq 1 ] && grep -qF -- "is not a fleet source tree" "$TMP/err"; echo $?)" \
                "provision.sh checks the source tree before anything else" || diag "$(cat "$TMP/err")"
        mkdir -p "$TMP/tree" && touch "$TMP/tree/meson.build"
        bash "$SRC/tools/vagrant/provision.sh" --instances 3 --index 1 --container-runtime rkt \
                --src "$TMP/tree" >"$TMP/out" 2>"$TMP/err"
        status=$?
        ok "$([ $status -eq 1 ] && grep -qF -- "--container-runtime 'rkt'" "$TMP/err" &&
              ! grep -q installing "$TMP/out"; echo $?)" \
                "provision.sh refuses --container-runtime rkt before installing anything" ||
                diag "status $status" "$(cat "$TMP/out" "$TMP/err")"
else
        bash "$SRC/tools/vagrant/provision.sh" --instances 3 --index 1 >"$TMP/out" 2>"$TMP/err"
        ok "$(grep -q "must run as root" "$TMP/err"; echo $?)" "provision.sh refuses to run without root"
fi

done_testing
