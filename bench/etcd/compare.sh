#!/bin/bash
# compare.sh: what etcdctl and curl reach against one local etcd member, next to bench-etcd
# against the same member, so the README's figures come from one machine and one etcd.
#
#   bench/etcd/compare.sh [BUILD_DIR] [N]        (default: build, 500 puts)
#
# Starts its own etcd on free 127.0.0.1 ports with its data in a temporary directory (or on
# /dev/shm with TMPFS=1), and stops it (by PID) and removes the directory at the end.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-500}
TXNS=${TXNS:-50}

command -v etcd >/dev/null || { echo "compare.sh: etcd not installed"; exit 0; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
rate() { python3 -c "import sys; n,t0,t1=map(float,sys.argv[1:]); print('%6d in %.3f s = %7.0f' % (n, t1-t0, n/(t1-t0)))" "$@"; }
b64() { printf %s "$1" | base64 -w0; }

base=/tmp
[ "${TMPFS:-0}" = 1 ] && base=/dev/shm
DIR=$(mktemp -d "$base/etcd-compare-XXXXXX")
CP=$(free_port); PP=$(free_port)
E=http://127.0.0.1:$CP
etcd --name c --data-dir "$DIR/data" --listen-client-urls "$E" --advertise-client-urls "$E" \
        --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
        --initial-cluster "c=http://127.0.0.1:$PP" >"$DIR/etcd.log" 2>&1 </dev/null &
PID=$!
cleanup() { kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "$E/health" >/dev/null && break; sleep 0.05; done

echo "etcd $(etcd --version | head -1 | awk '{print $3}') at $E, data in $base, $(nproc) CPUs"
export ETCDCTL_API=3

# etcdctl: one process per put, as a shell script would use it.
t0=$(now)
for i in $(seq "$N"); do etcdctl --endpoints="$E" put /cmp/etcdctl "v$i" >/dev/null; done
t1=$(now)
echo "etcdctl put (one process each):    $(rate "$N" "$t0" "$t1") puts/s"

# curl: one process per put (bodies made before the clock starts).
key=$(b64 /cmp/curl)
bodies=()
for i in $(seq "$N"); do bodies+=("{\"key\":\"$key\",\"value\":\"$(b64 v$i)\"}"); done
t0=$(now)
for body in "${bodies[@]}"; do curl -s "$E/v3/kv/put" -d "$body" >/dev/null; done
t1=$(now)
echo "curl put (one process each):       $(rate "$N" "$t0" "$t1") puts/s"

# curl: one process, N requests on one kept-alive connection.
K="$DIR/curl.cfg"
key=$(b64 /cmp/curl1)
for i in $(seq "$N"); do
        [ "$i" -gt 1 ] && echo next
        printf 'url = "%s/v3/kv/put"\ndata = "{\\"key\\":\\"%s\\",\\"value\\":\\"%s\\"}"\noutput = "/dev/null"\n' \
                "$E" "$key" "$(b64 v$i)"
done >"$K"
t0=$(now)
curl -s -K "$K"
t1=$(now)
echo "curl put (one process, keep-alive): $(rate "$N" "$t0" "$t1") puts/s"

# etcdctl txn with 128 puts, one process each.
T="$DIR/txn.txt"
{ echo; for i in $(seq 0 127); do echo "put /cmp/txn/$i v$i"; done; echo; echo; } >"$T"
t0=$(now)
for _ in $(seq "$TXNS"); do etcdctl --endpoints="$E" txn <"$T" >/dev/null; done
t1=$(now)
echo "etcdctl txn of 128 puts:           $(rate "$TXNS" "$t0" "$t1") txns/s"

if [ -x "$BUILD/bench/etcd/bench-etcd" ]; then
        echo "--- bench-etcd against the same member:"
        "$BUILD/bench/etcd/bench-etcd" --puts "$N" --txns "$TXNS" "$E"
fi
