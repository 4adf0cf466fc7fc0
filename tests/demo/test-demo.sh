#!/bin/bash
# The README's main command really does what the README says, in TAP (cluster suite): tools/demo.sh
# on its own cluster id boots 3 machines, starts the visit counter's real containers (web and redis
# on different machines, web reaching redis by name over the cluster network), counts visits, moves
# redis to another machine after a power cut, shows the counter answering through it again, and
# prints how to tear the cluster down. The cluster is torn down afterwards.
# usage: test-demo.sh (TOP_SRCDIR and TOP_BUILDDIR from meson)
set -u
SRC=${TOP_SRCDIR:?}
BUILD=${TOP_BUILDDIR:?}
ID=59
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

[ "$(id -u)" = 0 ] || skip_all "needs root (the cluster's machines are namespaces with systemd as PID 1)"
for b in podman runc busybox etcd dnsmasq redis-server; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || [ -x /bin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done
if ! "$SRC/tools/cluster" -c $ID status 2>/dev/null | grep -q "not up"; then
        skip_all "cluster $ID is already up (someone else's): not touching it"
fi

LOG=$(mktemp /tmp/test-demo.XXXXXX)
cleanup() {
        "$SRC/tools/cluster" -c $ID down >/dev/null 2>&1
        rm -rf "$LOG" "/var/tmp/fleet-demo-$ID"
}
trap cleanup EXIT

FLEET_CLUSTER=$ID BUILD=$BUILD "$SRC/tools/demo.sh" >"$LOG" 2>&1
rc=$?
check "tools/demo.sh exits 0" '[ $rc = 0 ]'
check "3 machines registered" '[ "$(grep -c "^[0-9a-f]\{8\}\.\.\.	10\.99\.$ID\.1[1-3]	hostname=node[1-3]$" "$LOG")" -ge 3 ]'
check "fleetctl start launched both units" '[ "$(grep -c "^Unit visits-.* launched on " "$LOG")" = 2 ]'
check "web and redis run on different machines" \
        'grep -q "^web runs on 10.99.$ID.1[1-3], redis on 10.99.$ID.1[1-3]: different machines" "$LOG" &&
         ! grep -q "^web runs on \(10.99.$ID.1[1-3]\), redis on \1:" "$LOG"'
check "web reached redis by name and counted three visits" \
        '[ "$(grep -c "^visit http://10.99.$ID.1[1-3]:8080/: Hello from .*! I have been seen [0-9]* times." "$LOG")" = 3 ]'
check "the counts go up" \
        '[ "$(grep "^visit " "$LOG" | sed "s/.*seen \([0-9]*\) times./\1/" | sort -n | uniq | wc -l)" = 3 ]'
check "redis moved after the power cut, reported once active and answering" \
        'grep -q "^redis moved from 10.99.$ID.1[1-3] to 10.99.$ID.1[1-3]: active [0-9.]* s and answering [0-9.]* s after" "$LOG"'
check "the counter answers again through the moved redis" \
        'grep -q "^the counter answers again on 10.99.$ID.1[1-3]: Hello from .*! I have been seen [0-9]* times." "$LOG"'
check "it prints how to tear the cluster down" 'grep -q "tools/cluster -c $ID down" "$LOG"'
if [ $failed != 0 ]; then
        sed 's/^/# /' "$LOG" | tail -60
fi
echo "1..$n"
[ $failed = 0 ]
