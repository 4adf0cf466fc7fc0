#!/bin/bash
# A generated unit really runs, in TAP (cluster suite): unitgen --runtime podman turns a compose
# file into a unit; in a node of a local cluster (tools/cluster, cluster id 47, one node, real
# systemd as PID 1) that unit starts a container of a local busybox image (podman import), the
# container sees exactly the arguments and environment of the compose file, and stopping the
# unit stops and removes the container. podman needs runc and explicit ulimits on this kind of
# host (machine-notes.md §5), which the compose file says with "runtime:" and "ulimits:", and
# the node's cgroup tree has no pids controller, hence "pids_limit: -1".
# usage: test-cluster-podman.sh UNITGEN CLUSTER_TOOL
set -u
UNITGEN=$1
CLUSTER=$2
ID=47
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

[ "$(id -u)" = 0 ] || skip_all "needs root (the cluster nodes are namespaces with systemd as PID 1)"
[ -x "$CLUSTER" ] || skip_all "tools/cluster not found"
for b in podman runc busybox; do
        command -v $b >/dev/null || [ -x /usr/sbin/$b ] || skip_all "$b is not installed (tools/setup.sh installs it)"
done
if ! "$CLUSTER" -c $ID status 2>/dev/null | grep -q "not up"; then
        skip_all "cluster $ID is already up (someone else's): not touching it"
fi

TMP=$(mktemp -d /tmp/unitgen-cluster.XXXXXX)
C() { "$CLUSTER" -c $ID "$@"; }
cleanup() {
        C exec 1 sh -c 'systemctl stop ugc-hello.service; podman rm -f -i ugc-hello; podman rmi -f localhost/unitgen-bb:latest' \
                >/dev/null 2>&1
        C down >/dev/null 2>&1
        rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" "$TMP/rootfs/dev" \
        "$TMP/rootfs/tmp" "$TMP/rootfs/out" "$TMP/out"
cp "$(command -v busybox)" "$TMP/rootfs/bin/"
for a in sh echo sleep cat; do ln -s busybox "$TMP/rootfs/bin/$a"; done
tar -C "$TMP/rootfs" -cf "$TMP/bb.tar" .

cat > "$TMP/compose.yaml" <<EOF2
name: ugc
services:
  hello:
    image: localhost/unitgen-bb:latest
    runtime: runc
    pids_limit: -1
    network_mode: host
    ulimits:
      nofile: {soft: 1024, hard: 1024}
      nproc: {soft: 1024, hard: 1024}
    volumes:
      - $TMP/out:/out
    environment:
      GREETING: "it's \$\$HOME at 100% \"quoted\""
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo \"\$\$GREETING\" > /out/hello; while :; do sleep 1; done"]
    stop_grace_period: 5s
EOF2

(cd "$TMP" && "$UNITGEN" --runtime podman -o units) > "$TMP/names" 2>/dev/null
check "unitgen --runtime podman converts the file" '[ "$(cat "$TMP/names")" = ugc-hello.service ]'

FLEET_CLUSTER_SHARE=$TMP C up 1 >/dev/null 2>&1
check "cluster $ID is up" 'C status 2>/dev/null | grep -q "node1.*running"'

C exec 1 podman import "$TMP/bb.tar" localhost/unitgen-bb:latest >/dev/null 2>&1
check "podman import of a busybox root file system in the node" \
        'C exec 1 podman image exists localhost/unitgen-bb:latest'

C exec 1 sh -c "cp '$TMP/units/ugc-hello.service' /run/systemd/system/ && systemctl daemon-reload" >/dev/null 2>&1
C exec 1 systemctl start ugc-hello.service > "$TMP/start.log" 2>&1
check "systemctl start of the generated unit succeeds" '[ $? = 0 ]'
check "the unit is active" '[ "$(C exec 1 systemctl is-active ugc-hello.service 2>/dev/null)" = active ]'
check "the container runs" 'C exec 1 podman ps --format "{{.Names}}" 2>/dev/null | grep -qx ugc-hello'
for i in $(seq 50); do [ -s "$TMP/out/hello" ] && break; sleep 0.1; done
expected="it's \$HOME at 100% \"quoted\""
check "the container got exactly the compose file's environment and command" \
        '[ "$(cat "$TMP/out/hello" 2>/dev/null)" = "$expected" ]'
[ "$(cat "$TMP/out/hello" 2>/dev/null)" = "$expected" ] || { echo "# got: $(cat "$TMP/out/hello" 2>/dev/null)"; \
        C exec 1 journalctl -u ugc-hello.service --no-pager 2>/dev/null | tail -5 | sed 's/^/# /'; }

C exec 1 systemctl stop ugc-hello.service >/dev/null 2>&1
check "systemctl stop leaves the unit inactive, not failed" \
        '[ "$(C exec 1 systemctl is-active ugc-hello.service 2>/dev/null)" = inactive ]'
check "the container is gone" '! C exec 1 podman ps -a --format "{{.Names}}" 2>/dev/null | grep -qx ugc-hello'

echo "1..$n"
[ $failed = 0 ]
