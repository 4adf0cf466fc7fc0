#!/bin/bash
# test-etcd-static.sh: the generated /etc/default/etcd files really form a static etcd cluster.
#
# Three members of one host stand in for the three VMs: fleet-config.sh --ips 127.0.0.1,... with a
# port stride gives each member its own ports. Each member is started only with the environment
# its generated file sets (as Debian's etcd.service does with EnvironmentFile=); the test then
# checks membership, a write through one member read through another, and that the etcd_servers
# of each generated fleet.conf are all healthy endpoints. Only 127.0.0.1 is contacted.
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
GEN=$SRC/tools/vagrant/fleet-config.sh
. "$SRC/tests/deploy/tap.sh"

command -v etcd >/dev/null 2>&1 || skip_all "etcd is not installed (apt-get install etcd-server)"
command -v etcdctl >/dev/null 2>&1 || skip_all "etcdctl is not installed (apt-get install etcd-client)"
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"

TMP=$(mktemp -d)
PIDS=()
cleanup() {
        local pid
        for pid in "${PIDS[@]}"; do
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        rm -rf "$TMP"
}
trap cleanup EXIT

# Six consecutive free ports: client P, P+2, P+4 and peer P+1, P+3, P+5. They lie between the local
# clusters' etcd ports (20000-26399) and the kernel's ephemeral range (from 32768), where an
# outgoing connection of a concurrent test could take one of them before etcd binds it.
listening=$(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
base=
for ((try = 0; try < 200; try++)); do
        p=$((27000 + (RANDOM % 350) * 16))
        busy=0
        for ((k = 0; k < 6; k++)); do
                grep -qx "$((p + k))" <<<"$listening" && busy=1
        done
        [ $busy -eq 0 ] && { base=$p; break; }
done
[ -n "$base" ] || skip_all "no six free consecutive ports found"

ARGS=(--ips 127.0.0.1,127.0.0.1,127.0.0.1 --client-port "$base" --peer-port $((base + 1))
      --port-stride 2 --token "deploy-test-$$")

for i in 1 2 3; do
        bash "$GEN" etcd "${ARGS[@]}" --index $i --data-dir "$TMP/member$i" >"$TMP/etcd$i.env" &&
                bash "$GEN" fleet "${ARGS[@]}" --index $i >"$TMP/fleet$i.conf" ||
                { echo "Bail out! fleet-config.sh failed for member $i"; exit 1; }
done

for i in 1 2 3; do
        # Only what the file sets (plus PATH): no option comes from anywhere else.
        env -i PATH="$PATH" bash -c 'set -a; . "$1"; set +a; exec etcd' _ "$TMP/etcd$i.env" \
                >"$TMP/etcd$i.log" 2>&1 </dev/null &
        PIDS+=($!)
done

endpoints=$(sed -n 's/^etcd_servers=//p' "$TMP/fleet1.conf")
healthy=1
deadline=$((SECONDS + 30))             # a bound of 30 s on the wait, not a timed assertion
while [ $SECONDS -lt $deadline ]; do
        if ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --dial-timeout=1s endpoint health >/dev/null 2>&1; then
                healthy=0
                break
        fi
        dead=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || dead=1; done
        [ $dead = 1 ] && break          # a member exited (its log says why): waiting cannot help
        sleep 0.1
done
ok $healthy "3 members started from the generated files become a healthy cluster" ||
        diag "$(tail -5 "$TMP"/etcd*.log)"

members=$(ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$base" member list 2>&1)
expected=$(for i in 1 2 3; do
        printf 'started, fleet-%02d, http://127.0.0.1:%d, http://127.0.0.1:%d, false\n' \
                $i $((base + 1 + (i - 1) * 2)) $((base + (i - 1) * 2))
done | sort)
got=$(cut -d' ' -f2- <<<"$members" | sort)
ok "$([ "$got" = "$expected" ]; echo $?)" "member list: fleet-01..03 with the generated peer and client URLs" ||
        diag "expected:" "$expected" "got:" "$members"

ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$base" put /deploy-test/key "value-$$" >/dev/null 2>&1
value=$(ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$((base + 4))" get --print-value-only /deploy-test/key 2>&1)
ok "$([ "$value" = "value-$$" ]; echo $?)" "a write through fleet-01 is read through fleet-03" ||
        diag "got: $value"

all=0
for i in 1 2 3; do
        servers=$(sed -n 's/^etcd_servers=//p' "$TMP/fleet$i.conf")
        for url in ${servers//,/ }; do
                curl -sf --max-time 2 "$url/health" | grep -q '"health":"true"' || all=1
        done
done
ok $all "every etcd_servers URL of every fleet.conf answers /health"

bad=$(grep -h 'unrecognized environment variable' "$TMP"/etcd*.log)
ok "$([ -z "$bad" ]; echo $?)" "etcd recognizes every variable of the generated files" || diag "$bad"

done_testing
