# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# tap.sh: TAP for the cluster tests (bash), the same vocabulary as tests/tap.h.
# Source it; end the script with "done_testing".

TAP_COUNT=0
TAP_FAILED=0

diag() {   # every line of a multi-line message is a comment, not TAP
        printf '%s\n' "$*" | sed 's/^/# /'
}

ok() {   # ok STATUS NAME: one test point, passing when STATUS is 0
        local status=$1

        shift
        TAP_COUNT=$((TAP_COUNT + 1))
        if [ "$status" -eq 0 ]; then
                echo "ok $TAP_COUNT - $*"
                return 0
        fi
        TAP_FAILED=$((TAP_FAILED + 1))
        echo "not ok $TAP_COUNT - $*"
        return 1
}

check() {   # check NAME CMD...: a test point that passes when CMD succeeds
        local name=$1 out rc=0

        shift
        out=$("$@" 2>&1) || rc=$?
        ok "$rc" "$name" || { diag "command: $*"; diag "exit $rc: $out"; }
}

is() {   # is GOT EXPECTED NAME
        if [ "$1" = "$2" ]; then
                ok 0 "$3"
        else
                ok 1 "$3"
                diag "  got: '$1'"
                diag "  expected: '$2'"
        fi
}

isnt() {   # isnt GOT UNEXPECTED NAME
        if [ "$1" != "$2" ]; then
                ok 0 "$3"
        else
                ok 1 "$3"
                diag "  got the unexpected: '$1'"
        fi
}

skip_all() {
        echo "1..0 # SKIP $*"
        exit 0
}

bail_out() {
        echo "Bail out! $*"
        exit 1
}

done_testing() {
        echo "1..$TAP_COUNT"
        [ "$TAP_FAILED" -eq 0 ]
}

wait_for() {   # wait_for SECONDS CMD...: poll until CMD succeeds; a generous bound, not a timing test
        local deadline=$((SECONDS + $1))

        shift
        until "$@" >/dev/null 2>&1; do
                [ "$SECONDS" -lt "$deadline" ] || return 1
                sleep 0.2
        done
}

tap_deadline() {   # tap_deadline SECONDS: every await from now on gives up within SECONDS from now
        TAP_DEADLINE=$((SECONDS + $1))
}

await() {   # await SECONDS WHAT CMD...: wait_for, also bounded by tap_deadline; says what it gave up on
        local s=$1 what=$2 left

        shift 2
        if [ -n "${TAP_DEADLINE:-}" ]; then
                left=$((TAP_DEADLINE - SECONDS))
                [ "$left" -gt 0 ] || left=0
                [ "$s" -le "$left" ] || s=$left
        fi
        wait_for "$s" "$@" && return 0
        diag "gave up after ${s} s (at ${SECONDS} s into the test) waiting for $what"
        return 1
}

alive() {   # a process that exists and is not a zombie
        local st

        st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
        [ -n "$st" ] && [ "$st" != Z ]
}

cluster_requirements() {   # skip the whole test when the machine cannot run a cluster
        local t

        [ "$(id -u)" = 0 ] || skip_all "needs root"
        for t in etcd curl ip nsenter unshare flock systemd-run base64; do
                command -v "$t" >/dev/null || skip_all "$t not found (tools/setup.sh installs it)"
        done
        [ -x /lib/systemd/systemd ] || skip_all "systemd not installed"
        [ -x "${CLUSTER_TOOL:-}" ] || bail_out "CLUSTER_TOOL is not set (run through meson test)"
}
