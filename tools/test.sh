#!/bin/bash
# test.sh: from a fresh Debian 12 machine to a full test run, as root.
#
#   1. installs what the build and the tests need (tools/setup.sh, apt-get only)
#   2. builds with -Werror and runs every suite: unit, integration (real etcd), cluster
#      (the local cluster: real systemd as PID 1 per node, real etcd)
#   3. builds again with ASan+UBSan and runs the unit and integration suites under them
#   4. prints what each failed test said (its failed TAP points and their diagnostics, or the end
#      of its output), then "N passed, N failed", and exits non-zero if anything failed
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

# digest BUILD...: each failed test's "not ok" lines with the "#" lines after them (or, with none,
# the last lines it printed), last in the output, where a reader of its tail finds them.
digest() {
        python3 - "$@" <<'PY'
import json, sys
for build in sys.argv[1:]:
    try:
        lines = open(build + "/meson-logs/testlog.json").read().splitlines()
    except OSError:
        continue
    for line in lines:
        t = json.loads(line)
        if t["result"] in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        print("--- %s: %s after %.0f s" % (t["name"], t["result"], t["duration"]))
        out = (t.get("stdout") or "").splitlines()
        keep, take = [], False
        for l in out:
            if l.startswith("not ok") or l.startswith("Bail out"):
                take = True
            elif not l.startswith("#"):
                take = False
            if take:
                keep.append(l[:300])
        for l in (keep or out[-25:])[:60]:
            print("    " + l[:300])
PY
}

mkdir -p "$BUILD_ROOT"
run_build main "--werror -Dbuildtype=debugoptimized" ""
run_build sanitizers "--werror -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false" \
        "--suite unit --suite integration --timeout-multiplier 3"

echo
[ "$failed" -eq 0 ] || digest "$BUILD_ROOT/main" "$BUILD_ROOT/sanitizers"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
