#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Resource-aware scheduling end to end (issue 14), on cluster id 30: 3 nodes with real systemd as
# PID 1, real etcd, the real fleetd, each machine with its own fleet.conf declaring a different
# capacity (capacity_*, reserve_* taken off, resources=gpu=1 on one) and scheduler_strategy=binpack.
# Units that reserve CPU, memory and a GPU fill the machines, each one where only it fits or where
# binpack's definition puts it; one more unit stays unplaced with a reason naming the numbers, shown
# by fleetctl. A power cut of the fullest machine re-places what fits on a survivor and leaves the
# rest unplaced with their reasons; the machine's return takes back what fits there; a destroyed
# unit's room goes to the unit that waited. After every step, each machine's own systemd is asked
# which units it runs: the sum of their reservations never exceeds the machine's capacity, and no
# unit runs twice. At the end fleetd stops on every machine; in a sanitizer build, its journal
# must hold no report.
set -u
HERE=$(cd "$(dirname "$0")/../cluster" && pwd)
. "$HERE/tap.sh"

cluster_requirements
[ -x "${FLEETD:-}" ] || skip_all "fleetd was not built"
[ -x "${FLEETCTL:-}" ] || skip_all "fleetctl was not built"

export FLEET_CLUSTER=30
C=$CLUSTER_TOOL
TMP=$(mktemp -d /var/tmp/resources-cluster.XXXXXX)   # /tmp is private to each node
cleanup() {
        "$C" down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT
"$C" down >/dev/null 2>&1

# ------------------------------------------------------------------ the machines' fleet.conf
# Effective capacity (what the units may reserve), in milli-CPU and MiB:
#   node1 2 CPU / 2 GiB (declares 2.5 CPU, keeps 0.5 for the system)
#   node2 1 CPU / 3 GiB (declares 3.5 GiB, keeps 512 MiB)
#   node3 1 CPU / 1 GiB, gpu=1
declare -A CAP_CPU=([1]=2000 [2]=1000 [3]=1000) CAP_MEM=([1]=2048 [2]=3072 [3]=1024) CAP_GPU=([1]=0 [2]=0 [3]=1)
conf() {   # conf N LINES...: node N's fleet.conf
        local n=$1

        shift
        {
                echo "# node$n of test-resources-cluster"
                echo "scheduler_strategy = binpack"
                echo "network = false"
                echo "disable_dns = true"
                printf '%s\n' "$@"
        } > "$TMP/node$n.conf"
}
conf 1 "capacity_cpu = 2.5" "reserve_cpu = 0.5" "capacity_memory = 2G"
conf 2 "capacity_cpu = 1" "capacity_memory = 3.5G" "reserve_memory = 512M"
conf 3 "capacity_cpu = 1" "capacity_memory = 1G" "resources = gpu=1"

# systemd expands ${NODE_NAME} (from the harness's environment file) in fleetd's ExecStart=.
out=$("$C" up 3 --fleetd "$FLEETD" --fleetd-args "--config=$TMP/\${NODE_NAME}.conf" --agent-ttl 3s 2>&1)
ok $? "up 3 nodes running fleetd, each with its own fleet.conf" || { diag "$out"; bail_out "no cluster"; }
export FLEETCTL_ENDPOINT
FLEETCTL_ENDPOINT=$("$C" etcd-endpoints)
declare -A MID
for n in 1 2 3; do
        MID[$n]=$("$C" exec $n cat /etc/machine-id)
done

machines() {   # one "machine cpu memory resources" line per machine, from fleetctl
        "$FLEETCTL" list-machines --full --no-legend --fields machine,cpu,memory,resources 2>/dev/null | sort
}
wait_for 60 bash -c "[ \$('$FLEETCTL' list-machines --no-legend 2>/dev/null | wc -l) = 3 ]"
ok $? "three machines registered" || diag "$("$FLEETCTL" list-machines 2>&1)"
expect=$(printf '%s\t2\t2 GiB\t-\n%s\t1\t3 GiB\t-\n%s\t1\t1 GiB\tgpu=1\n' "${MID[1]}" "${MID[2]}" "${MID[3]}" | sort)
is "$(machines | tr -s ' \t' '\t')" "$(tr -s ' \t' '\t' <<< "$expect")" \
        "list-machines shows each machine's capacity from its fleet.conf, the reserve_* taken off"
for n in 1 2 3; do
        check "node$n: fleetd logged the capacity it publishes" \
                bash -c "'$C' exec $n journalctl -u fleetd --no-pager -o cat | grep -q '^Capacity for units: '"
done

# ------------------------------------------------------------------ what each machine's systemd runs
# "unit cpu_milli mem_mib gpu" per unit of ours active in node N's systemd, the reservations read
# from the unit file that systemd loaded.
running() {
        local n=$1 u

        for u in $("$C" exec "$n" systemctl list-units --type=service --state=active --no-legend --plain 'r-*' 2>/dev/null |
                   awk '{print $1}'); do
                "$C" exec "$n" systemctl cat "$u" 2>/dev/null | python3 -c '
import re, sys
unit = sys.argv[1]
cpu = mem = gpu = 0
mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
for line in sys.stdin:
    k, _, v = line.strip().partition("=")
    if k == "ReserveCPU":
        cpu += round(float(v) * 1000)
    elif k == "ReserveMemory":
        m = re.fullmatch(r"([0-9.]+)([KMGT]?)", v.upper())
        mem += float(m.group(1)) * mult[m.group(2)]
    elif k == "ReserveResource" and v.startswith("gpu="):
        gpu += int(v[4:])
print(unit, cpu, int(mem) >> 20, gpu)' "$u"
        done
}
DOWN=""
# No machine runs more than its capacity, and no unit runs on two machines.
no_overcommit() {
        local n u cpu mem gpu sc sm sg all="" rc=0

        for n in 1 2 3; do
                [[ " $DOWN " == *" $n "* ]] && continue
                sc=0 sm=0 sg=0
                while read -r u cpu mem gpu; do
                        [ -n "$u" ] || continue
                        sc=$((sc + cpu)) sm=$((sm + mem)) sg=$((sg + gpu)) all+="$u "
                done < <(running "$n")
                if [ $sc -gt "${CAP_CPU[$n]}" ] || [ $sm -gt "${CAP_MEM[$n]}" ] || [ $sg -gt "${CAP_GPU[$n]}" ]; then
                        echo "node$n runs ${sc}m CPU / ${sm} MiB / gpu $sg > ${CAP_CPU[$n]}m / ${CAP_MEM[$n]} MiB / gpu ${CAP_GPU[$n]}"
                        rc=1
                fi
        done
        u=$(tr ' ' '\n' <<< "$all" | sed '/^$/d' | sort | uniq -d)
        [ -z "$u" ] || { echo "running on two machines: $u"; rc=1; }
        return $rc
}
active_on() {   # active_on UNIT: the nodes whose systemd runs UNIT
        local n w=""

        for n in 1 2 3; do
                [[ " $DOWN " == *" $n "* ]] && continue
                [ "$("$C" exec $n systemctl is-active "$1" 2>/dev/null)" = active ] && w+="$n "
        done
        echo "${w% }"
}
runs_on() { [ "$(active_on "$1")" = "$2" ]; }   # runs_on UNIT "N..."
reason() {   # reason UNIT: fleetctl's REASON for UNIT ("" when it has none)
        "$FLEETCTL" list-unit-files -o json 2>/dev/null | python3 -c '
import json, sys
for u in json.load(sys.stdin):
    if u.get("unit") == sys.argv[1]:
        print(u.get("reason") or "")' "$1"
}
reason_is() { [ "$(reason "$1")" = "$2" ]; }
target() {   # target UNIT: fleetctl's TARGET machine ID for UNIT ("-" when unplaced)
        "$FLEETCTL" list-unit-files --full --no-legend --fields unit,tmachine 2>/dev/null |
                awk -v u="$1" '$1 == u { sub(/\/.*/, "", $2); print $2 }'
}

# ------------------------------------------------------------------ filling the machines
mkdir -p "$TMP/units"
unit() {   # unit NAME RESERVATIONS...
        local n=$1

        shift
        {
                printf '[Unit]\nDescription=test-resources-cluster %s\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\n' "$n"
                printf '%s\n' "$@"
        } > "$TMP/units/$n.service"
}
unit r-db    ReserveCPU=1   ReserveMemory=2560M                       # fits node2 only (memory)
unit r-big   ReserveCPU=1.5 ReserveMemory=1.5G                        # fits node1 only (CPU)
unit r-small ReserveCPU=0.5 ReserveMemory=512M                        # node1 or node3: binpack takes node1
unit r-gpu   ReserveCPU=0.5 ReserveMemory=512M ReserveResource=gpu=1  # node3 only (the GPU)
unit r-extra ReserveCPU=1   ReserveMemory=1G                          # fits nowhere once the rest runs
cd "$TMP/units" || bail_out "no units"
start() {   # start UNIT EXPECTED-NODE WHY: submit, wait until active, check where
        local out

        out=$("$FLEETCTL" start --no-block "$1.service" 2>&1)
        ok $? "fleetctl start $1" || diag "$out"
        wait_for 90 runs_on "$1.service" "$2"
        ok $? "$1 runs on node$2 ($3)" || diag "it runs on: '$(active_on "$1.service")'; reason: '$(reason "$1.service")'"
        is "$(target "$1.service")" "${MID[$2]}" "fleetctl: $1's target is node$2's machine"
}
start r-db 2 "the only machine with 2.5 GiB free"
start r-big 1 "the only machine with 1.5 CPU"
start r-small 1 "binpack: the fuller of node1 and node3, where it still fits"
start r-gpu 3 "the only machine with a GPU"
check "no machine runs more than it has, no unit runs twice (from each machine's systemd)" no_overcommit

# ------------------------------------------------------------------ one more: unplaced, with numbers
out=$("$FLEETCTL" start --no-block r-extra.service 2>&1)
ok $? "fleetctl start r-extra" || diag "$out"
want="needs 1 CPU / 1 GiB; most free: ${MID[3]} 0.5 CPU / 512 MiB"
wait_for 60 reason_is r-extra.service "$want"
ok $? "r-extra is unplaced with a reason naming its needs and the closest machine's free room" ||
        diag "reason: '$(reason r-extra.service)'"
is "$(target r-extra.service)" "-" "fleetctl: r-extra has no target"
check "fleetctl list-unit-files shows the reason in its table" \
        bash -c "'$FLEETCTL' list-unit-files --full --fields unit,reason | grep -qF 'r-extra.service' &&
                 '$FLEETCTL' list-unit-files --full --fields unit,reason | grep -qF '$want'"
is "$(active_on r-extra.service)" "" "no machine's systemd runs r-extra"
reserved=$("$FLEETCTL" list-machines --full --no-legend --fields machine,cpu_reserved,memory_reserved,resources_reserved |
           sort | tr -s ' \t' '\t')
expect=$(printf '%s\t2\t2 GiB\t-\n%s\t1\t2.5 GiB\t-\n%s\t0.5\t512 MiB\tgpu=1\n' "${MID[1]}" "${MID[2]}" "${MID[3]}" | sort |
         tr -s ' \t' '\t')
is "$reserved" "$expect" "list-machines shows what is reserved on each machine"
check "still nothing overcommitted" no_overcommit

# ------------------------------------------------------------------ power cut of node1
"$C" kill 1
DOWN="1"
wait_for 90 runs_on r-small.service 3
ok $? "power cut of node1: r-small moved to node3, the one survivor with room for it" ||
        diag "r-small runs on '$(active_on r-small.service)', reason '$(reason r-small.service)'"
want_big="needs 1.5 CPU / 1.5 GiB; most free: ${MID[2]} 0 CPU / 512 MiB"
wait_for 60 reason_is r-big.service "$want_big"
ok $? "r-big fits on no survivor: unplaced with its reason" || diag "reason: '$(reason r-big.service)'"
want="needs 1 CPU / 1 GiB; most free: ${MID[2]} 0 CPU / 512 MiB"
wait_for 60 reason_is r-extra.service "$want"
ok $? "r-extra still unplaced, its reason updated to what the survivors have free" ||
        diag "reason: '$(reason r-extra.service)'"
is "$(active_on r-big.service)" "" "no survivor's systemd runs r-big"
is "$(active_on r-extra.service)" "" "no survivor's systemd runs r-extra"
check "r-db and r-gpu kept their machines" bash -c "[ \"\$($(declare -f active_on); C='$C' DOWN='$DOWN' active_on r-db.service)\" = 2 ] &&
        [ \"\$($(declare -f active_on); C='$C' DOWN='$DOWN' active_on r-gpu.service)\" = 3 ]"
check "no survivor runs more than it has (from each machine's systemd)" no_overcommit

# ------------------------------------------------------------------ node1 returns
out=$("$C" start 1 2>&1)
ok $? "node1 boots again" || diag "$out"
DOWN=""
wait_for 90 runs_on r-big.service 1
ok $? "r-big is placed on node1 again, the only machine where it fits" ||
        diag "r-big runs on '$(active_on r-big.service)', reason '$(reason r-big.service)'"
want="needs 1 CPU / 1 GiB; most free: ${MID[1]} 0.5 CPU / 512 MiB"
wait_for 60 reason_is r-extra.service "$want"
ok $? "r-extra still fits nowhere; its reason names node1's room" || diag "reason: '$(reason r-extra.service)'"
is "$(active_on r-small.service)" 3 "r-small stays on node3 (nothing is moved that runs)"
check "nothing overcommitted with node1 back" no_overcommit

# ------------------------------------------------------------------ room freed: the waiting unit goes
out=$("$FLEETCTL" destroy r-db.service 2>&1)
ok $? "fleetctl destroy r-db" || diag "$out"
wait_for 90 runs_on r-extra.service 2
ok $? "r-extra is placed on node2 once r-db's room is free" ||
        diag "r-extra runs on '$(active_on r-extra.service)', reason '$(reason r-extra.service)'"
is "$(reason r-extra.service)" "" "r-extra has no reason any more"
is "$(active_on r-db.service)" "" "r-db runs nowhere"
check "nothing overcommitted at the end" no_overcommit

# ------------------------------------------------------------------ fleetd stops cleanly
# In a sanitizer build, what ASan, LeakSanitizer (at exit) or UBSan found is in fleetd's journal.
for n in 1 2 3; do
        "$C" exec $n systemctl stop fleetd
        bad=$("$C" exec $n journalctl -u fleetd --no-pager -o cat 2>&1 |
              grep -E -m 5 'AddressSanitizer|LeakSanitizer|runtime error:')
        is "$bad" "" "node$n: fleetd stopped with no sanitizer report in its journal"
done

done_testing
