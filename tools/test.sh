#!/bin/bash
# test.sh: from a fresh Debian 12 machine to a full test run, as root.
#
#   1. installs what the build and the tests need (tools/setup.sh, apt-get only)
#   2. builds with -Werror and runs every suite: unit, integration (real etcd), cluster
#      (the local cluster: real systemd as PID 1 per node, real etcd)
#   3. builds again with ASan+UBSan and runs the unit and integration suites under them
#   4. prints "N passed, N failed" and exits non-zero if anything failed
#
# Environment: BUILD_ROOT (default: <source>/build-test), MESON_TEST_ARGS (extra meson test args).
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_ROOT=${BUILD_ROOT:-$SRC/build-test}
export DEBIAN_FRONTEND=noninteractive

bash "$SRC/tools/setup.sh" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

count() {   # count meson's per-test results from a build dir's testlog.json
        local log=$1/meson-logs/testlog.json p f
        [ -f "$log" ] || { failed=$((failed + 1)); return; }
        p=$(grep -cE '"result": "(OK|SKIP|EXPECTEDFAIL)"' "$log")
        f=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
        passed=$((passed + p)); failed=$((failed + f))
}

run_build() {   # run_build NAME "meson setup args" "meson test args"
        local dir=$BUILD_ROOT/$1 setup_args=$2 test_args=$3
        echo "=== $1: meson setup $setup_args"
        if [ -d "$dir" ]; then
                meson setup --wipe "$dir" "$SRC" $setup_args >/dev/null
        else
                meson setup "$dir" "$SRC" $setup_args >/dev/null
        fi || { echo "meson setup failed for $1"; failed=$((failed + 1)); return; }
        if ! ninja -C "$dir" >"$dir.ninja.log" 2>&1; then
                tail -50 "$dir.ninja.log"
                echo "build failed for $1"
                failed=$((failed + 1))
                return
        fi
        echo "=== $1: meson test $test_args"
        meson test -C "$dir" --print-errorlogs $test_args ${MESON_TEST_ARGS:-}
        count "$dir"
}

mkdir -p "$BUILD_ROOT"
run_build main "--werror -Dbuildtype=debugoptimized" ""
run_build sanitizers "--werror -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false" \
        "--suite unit --suite integration --timeout-multiplier 3"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
