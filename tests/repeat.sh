#!/bin/bash
# repeat.sh N PROGRAM [ARGS...]: run a test program N times in a row (a flake hunt: the keeper test
# under load, a partition test), keep the output of the runs that failed, and end with
# "K of N passed"; the exit status is non-zero if any run failed. REPEAT_SHOW=REGEX prints the
# matching lines of every run (a figure the test prints).
#   REPEAT_SHOW='^# lease' tests/repeat.sh 20 build-asan/tests/etcd/test-etcd-keeper-load
set -u
n=${1:?usage: repeat.sh N PROGRAM [ARGS...]}; shift
logdir=$(mktemp -d /tmp/repeat.XXXXXX)
passed=0
for i in $(seq 1 "$n"); do
        log=$logdir/run-$i.log
        start=$(date +%s%N)
        if "$@" >"$log" 2>&1 && ! grep -q '^not ok' "$log"; then
                passed=$((passed + 1))
                result=ok
        else
                result="FAILED (log $log)"
        fi
        ms=$((($(date +%s%N) - start) / 1000000))
        printf 'run %d: %s, %d.%03d s\n' "$i" "$result" $((ms / 1000)) $((ms % 1000))
        [ -n "${REPEAT_SHOW:-}" ] && grep -E -- "$REPEAT_SHOW" "$log" | sed 's/^/    /'
        [ "$result" = ok ] && rm -f "$log"
done
echo "$passed of $n passed"
[ "$passed" -eq "$n" ]
