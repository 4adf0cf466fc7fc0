#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# fleet's functional scenarios (fleet-semantics.md §6) with our fleetctl and fleetd, in a local
# cluster of 3 nodes (cluster id 57, so nobody else's cluster is touched). fleetctl runs inside
# node 1, as a user of the cluster would; status and journal run inside the node that has the unit.
# Waits are fleetctl's own blocking waits (generous --block-attempts), not timed assertions.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$TOP_SRCDIR/tests/cluster/tap.sh"

cluster_requirements
[ -x "${FLEETCTL:-}" ] || bail_out "FLEETCTL is not set (run through meson test)"
[ -x "${FLEETD:-}" ] || skip_all "fleetd is not built"

export FLEET_CLUSTER=57
C=$CLUSTER_TOOL
BLOCK=--block-attempts=240     # 60 s: a bound on waiting, not a figure under test
WORK=$(mktemp -d "$TOP_BUILDDIR/tests/cli/cluster-units.XXXXXX")
trap '"$C" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT
"$C" down >/dev/null 2>&1    # what an aborted earlier run of this test may have left
cd "$WORK" || bail_out "no work directory"

fc_on() {   # fc_on N ARGS...: fleetctl inside node N, talking to the cluster's etcd
        local n=$1
        shift
        "$C" exec "$n" sh -c '. /run/fleet-harness/env; FLEETCTL_ENDPOINT=$ETCD_ENDPOINTS; export FLEETCTL_ENDPOINT
                exec "$@"' _ "$FLEETCTL" "$@"
}

fc() {
        fc_on 1 "$@"
}

diag_lines() {   # diag_lines TEXT: every line of TEXT as a TAP comment
        printf '%s\n' "$*" | sed 's/^/# /'
}

count() {   # count PATTERN TEXT: lines of TEXT matching PATTERN
        printf '%s\n' "$2" | grep -c -- "$1"
}

active_units() {
        fc list-units --no-legend --fields=unit,active | awk '$2 == "active"' | wc -l
}

n_machines_is() { [ "$(fc list-machines --no-legend | wc -l)" = "$1" ]; }
no_units_listed() { [ -z "$(fc list-units --no-legend)" ]; }
active_is() { [ "$(active_units)" = "$1" ]; }
reason_column() { fc list-unit-files | grep -q '^UNIT.*REASON$'; }
reasons_are() { [ "$(fc list-unit-files --no-legend --fields=unit,reason | awk '$2 != "-"' | wc -l)" = "$1" ]; }

node_of() {   # node_of UNIT: the node number whose machine runs UNIT
        local mid n
        mid=$(fc list-unit-files --no-legend --full --fields=unit,target | awk -v u="$1" '$1 == u { print $2 }')
        mid=${mid%%/*}
        for n in 1 2 3; do
                [ "$("$C" exec $n cat /etc/machine-id)" = "$mid" ] && { echo $n; return 0; }
        done
        return 1
}

cat > hello@.service <<'UNIT'
[Unit]
Description=Hello World %i

[Service]
ExecStart=/bin/sh -c "while true; do echo Hello, World!; sleep 1; done"
UNIT
cp hello@.service hello.service

out=$("$C" up 3 --fleetd "$FLEETD" --agent-ttl 5s 2>&1)
ok $? "up 3 nodes with our fleetd" || { diag_lines "$out"; bail_out "no cluster"; }

check "the 3 machines register" wait_for 60 n_machines_is 3
m=$(fc list-machines --no-legend)
is "$(count '^[0-9a-f]\{8\}\.\.\.	*10\.99\.57\.1[123]	' "$m")" 3 "list-machines: short ids and node IPs"

# ---- TestUnitSubmit: 9 units submitted, listed, destroyed
out=$(fc submit hello@{1..9}.service 2>&1)
ok $? "submit hello@{1..9}.service" || diag_lines "$out"
is "$(fc list-unit-files --no-legend | wc -l)" 9 "list-unit-files shows 9 units"
is "$(fc list-unit-files --no-legend --fields=dstate | sort -u)" inactive "all inactive"
out=$(fc destroy 'hello@*' 2>&1)
is "$(count '^Destroyed hello@' "$out")" 9 "destroy prints 9 lines"
is "$(fc list-unit-files --no-legend | wc -l)" 0 "no units left"

# ---- TestUnitLoad: 6 units loaded, then unloaded
out=$(fc load $BLOCK hello@{1..6}.service 2>&1)
ok $? "load 6 units" || diag_lines "$out"
is "$(count '^Unit hello@[1-6]\.service loaded on [0-9a-f]\{8\}\.\.\./10\.99\.57\.1[123]$' "$out")" 6 \
        "load prints 'Unit X loaded on id.../ip' for each"
is "$(fc list-units --no-legend | wc -l)" 6 "list-units shows 6 units"
out=$(fc unload $BLOCK hello@{1..6}.service 2>&1)
ok $? "unload them" || diag_lines "$out"
check "list-units empties" wait_for 30 no_units_listed
fc destroy 'hello@*' >/dev/null

# ---- TestUnitStart and TestUnitStartReplace
out=$(fc start $BLOCK hello@{1..3}.service 2>&1)
ok $? "start 3 units" || diag_lines "$out"
is "$(count '^Unit hello@[1-3]\.service launched on ' "$out")" 3 "start prints 'launched on' for each"
is "$(active_units)" 3 "3 active units"
sed 's/Hello, World!/Hello again/' hello@.service > hello@1.service
out=$(fc start --replace $BLOCK hello@1.service 2>&1)
ok $? "start --replace hello@1.service" || diag_lines "$out"
is "$(fc cat hello@1.service)" "$(cat hello@1.service)" "cat shows the new body"
is "$(fc list-unit-files --no-legend | wc -l)" 3 "still 3 units"
check "the new body runs" wait_for 30 active_is 3
rm hello@1.service

# ---- TestUnitStatus and journal, on the unit's own machine
n=$(node_of hello@2.service)
ok $? "hello@2.service has a machine (node ${n:-?})"
out=$(fc_on "${n:-1}" status hello@2.service 2>&1)
printf '%s\n' "$out" | grep -q 'Active: active'
ok $? "status shows Active: active" || diag_lines "$out"
out=$(fc_on "${n:-1}" journal --lines=20 hello@2.service 2>&1)
printf '%s\n' "$out" | grep -q 'Hello, World!'
ok $? "journal shows the unit's output" || diag_lines "$out"

# ---- TestUnitSSHActions: a command on the unit's machine
out=$(fc_on "${n:-1}" ssh hello@2.service echo foo 2>&1 | grep -v '^fleetctl: WARNING: etcd endpoint .* is plain http')
is "$out" foo "ssh UNIT echo foo"

# ---- TestUnitRestart
out=$(fc restart $BLOCK hello@{1..3}.service 2>&1)
ok $? "restart 3 units" || diag_lines "$out"
is "$(active_units)" 3 "3 active after restart"

out=$(fc stop $BLOCK hello@{1..3}.service 2>&1)
ok $? "stop them" || diag_lines "$out"
is "$(count 'Successfully stopped units' "$out")" 1 "stop's message"
check "no active unit" wait_for 30 active_is 0
fc destroy 'hello@*' >/dev/null

# ---- TestUnitLoadReplace
out=$(fc load $BLOCK hello@{1..3}.service 2>&1)
ok $? "load 3 units" || diag_lines "$out"
sed 's/Hello, World!/Hello, loaded/' hello@.service > hello@3.service
out=$(fc load --replace $BLOCK hello@3.service 2>&1)
ok $? "load --replace hello@3.service" || diag_lines "$out"
is "$(fc cat hello@3.service)" "$(cat hello@3.service)" "cat shows the replaced body"
is "$(fc list-unit-files --no-legend | wc -l)" 3 "still 3 units"
rm hello@3.service
fc destroy 'hello@*' >/dev/null

# ---- TestScheduleConflicts: 5 mutually conflicting units on 3 machines: 3 run, on 3 machines
for i in 0 1 2 3 4; do
        printf '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nConflicts=conflict.*\n' > conflict.$i.service
done
out=$(fc start --no-block conflict.{0..4}.service 2>&1)
ok $? "start 5 conflicting units" || diag_lines "$out"
check "3 of them become active" wait_for 60 active_is 3
# The leader writes P reasons/<unit> for each unit it leaves unplaced, in the pass that decides it:
# once the other two have one, the engine has decided about all five, and a 4th would show here.
check "the other 2 are unplaced, with a reason" wait_for 60 reasons_are 2
is "$(active_units)" 3 "still exactly 3"
is "$(fc list-units --no-legend --fields=machine,active | awk '$2 == "active" { print $1 }' | sort -u | wc -l)" 3 \
        "on 3 different machines"
fc destroy 'conflict.*' >/dev/null

# ---- TestUnitCat
out=$(fc submit hello.service 2>&1)
is "$(fc cat hello.service)" "$(cat hello.service)" "cat equals the submitted file"
fc destroy hello.service >/dev/null

# ---- TestListUnitFilesOrder: 20 units listed sorted
fc submit hello@{1..20}.service >/dev/null 2>&1
got=$(fc list-unit-files --no-legend --fields=unit)
is "$got" "$(printf 'hello@%s.service\n' $(seq 1 20) | LC_ALL=C sort)" "20 units listed in sorted order"
fc destroy 'hello@*' >/dev/null

# ---- TestScheduleGlobalUnits: 2 normal units and a global one give 5 active units
cat > global.service <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity

[X-Fleet]
Global=true
UNIT
out=$(fc start $BLOCK hello@1.service hello@2.service global.service 2>&1)
ok $? "start 2 units and a global one" || diag_lines "$out"
is "$(count '^Triggered global unit global.service start$' "$out")" 1 "the global unit does not block"
check "5 active units (the global one on every machine)" wait_for 60 active_is 5
is "$(fc list-unit-files --no-legend --fields=unit,target | awk '$1 == "global.service" { print $2 }')" global \
        "its target is 'global'"
out=$(fc status global.service 2>&1)
printf '%s\n' "$out" | grep -q 'Active: active'
ok $? "status of the global unit (here, on node 1)" || diag_lines "$out"

# restart of the global unit: "systemctl restart" on every machine that runs it, here on node 1,
# over ssh elsewhere. The nodes run no sshd, so a recording ssh on PATH stands in for the transport:
# node 1's restart is real (its MainPID changes), the other machines' commands are checked as ssh
# got them.
mkdir -p "$WORK/shim"
cat > "$WORK/shim/ssh" <<'SHIM'
#!/bin/sh
printf '%s\n' "$*" >> "$(dirname "$0")/ssh.log"
case " $* " in *" ${SSH_FAIL_HOST:-none} "*) exit 255 ;; esac
exit 0
SHIM
chmod +x "$WORK/shim/ssh"
mainpid() { "$C" exec 1 systemctl show -p MainPID --value global.service; }
pid1=$(mainpid)
out=$(PATH="$WORK/shim:$PATH" fc restart global.service 2>&1)
ok $? "restart of the global unit succeeds" || diag_lines "$out"
is "$(count '^Restarted global unit global.service on [0-9a-f]\{8\}\.\.\./10\.99\.57\.1[123]$' "$out")" 3 \
        "it reports each of the 3 machines"
pid2=$(mainpid)
[ -n "$pid1" ] && [ "$pid1" != 0 ] && [ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid1" != "$pid2" ]
ok $? "its MainPID changed on node 1, where fleetctl runs ($pid1 -> $pid2)"
is "$(grep -c -- ' -- systemctl restart global.service$' "$WORK/shim/ssh.log")" 2 \
        "the 2 other machines are told to restart it over ssh"
is "$(grep -o ' 10\.99\.57\.1[0-9] ' "$WORK/shim/ssh.log" | sort | tr -d ' ' | tr '\n' ' ')" \
        "10.99.57.12 10.99.57.13 " "at their addresses (ssh's own user: no user@)"
out=$(PATH="$WORK/shim:$PATH" SSH_FAIL_HOST=10.99.57.13 fc restart global.service 2>&1)
isnt "$?" 0 "restart fails when it fails on one machine"
failed_line='^fleetctl: Failed to restart global unit global.service on [0-9a-f]\{8\}\.\.\./10\.99\.57\.13: '
is "$(count "$failed_line" "$out")" 1 "which is named" || diag_lines "$out"
is "$(count '^Restarted global unit global.service on ' "$out")" 2 "the other machines are still restarted"
fc destroy global.service 'hello@*' >/dev/null

# ---- Unschedulable units say why (fleet #1348)
cat > nowhere.service <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity

[X-Fleet]
MachineMetadata=role=nonexistent
UNIT
out=$(fc start --block-attempts=8 nowhere.service 2>&1)
isnt "$?" 0 "start of an unschedulable unit gives up after its attempts"
check "list-unit-files shows why it is not placed" wait_for 30 reason_column
fc destroy nowhere.service >/dev/null

done_testing
