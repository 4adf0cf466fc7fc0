#!/bin/bash
# Golden tests of unitgen, in TAP. Each directory under data/ is one case:
#   compose files, .env, env files ...   the input (the case directory is the project directory)
#   args                                 unitgen's arguments, one line (default: none, so the default
#                                        file names are looked up)
#   env                                  KEY=VALUE lines: the whole environment unitgen sees
#   expected/                            the units a successful conversion must write, byte for byte
#   expected.out                         its stdout (the unit names)
#   expected.err                         its stderr (warnings, or the error of a failing case)
# A case without expected/ must fail with exit status 1 and leave no file behind. Each successful
# case also checks that a second run gives identical bytes, that --check accepts the expected units,
# that fleetctl verify (lib's [X-Fleet] validator, as at submit) accepts every generated unit, and
# that systemd-analyze verify accepts them. Absolute paths of the case
# directory are written as @DIR@ in the expected files.
#
# usage: test-golden.sh UNITGEN FLEETCTL [CASE...]
set -u

UNITGEN=$1
FLEETCTL=$2
shift 2
DATA=$(cd "$(dirname "$0")/data" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

# systemd-analyze verify wants the executables of Exec lines to exist and the units named in
# dependencies to be loadable: give it a root with stub executables and systemd's own units.
VERIFY_ROOT=$TMP/verify-root
have_verify=0
if command -v systemd-analyze >/dev/null && [ -d /usr/lib/systemd/system ]; then
        mkdir -p "$VERIFY_ROOT/usr/bin" "$VERIFY_ROOT/bin" "$VERIFY_ROOT/usr/lib/systemd" "$VERIFY_ROOT/etc/systemd"
        for b in usr/bin/docker usr/bin/podman usr/bin/mkdir bin/sh; do
                printf '#!/bin/sh\nexit 0\n' > "$VERIFY_ROOT/$b"
                chmod +x "$VERIFY_ROOT/$b"
        done
        cp -r /usr/lib/systemd/system "$VERIFY_ROOT/usr/lib/systemd/"
        have_verify=1
fi

run_case() {   # run_case DIR OUTDIR: runs unitgen in DIR, stdout/stderr/rc into OUTDIR.{out,err,rc}
        local dir=$1 out=$2 args=() envs=()
        [ -f "$dir/args" ] && read -r -a args < "$dir/args"
        [ -f "$dir/env" ] && mapfile -t envs < <(grep -v '^#' "$dir/env")
        (cd "$dir" && env -i PATH=/usr/bin:/bin HOME=/root "${envs[@]}" "$UNITGEN" "${args[@]}" -o "$out") \
                > "$out.out" 2> "$out.err"
        echo $? > "$out.rc"
}

# Replace the absolute case directory by @DIR@ so the expectations do not depend on the checkout.
normalize() { sed "s|$2|@DIR@|g" "$1"; }

cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=($(cd "$DATA" && ls -d */ | tr -d /))

for c in "${cases[@]}"; do
        dir=$DATA/$c
        out=$TMP/$c
        run_case "$dir" "$out"
        rc=$(cat "$out.rc")

        if [ -f "$dir/expected.err" ]; then
                if diff -u "$dir/expected.err" <(normalize "$out.err" "$dir") > "$TMP/diff"; then
                        ok "$c: stderr"
                else
                        not_ok "$c: stderr"; sed 's/^/# /' "$TMP/diff"
                fi
        elif [ -s "$out.err" ]; then
                not_ok "$c: unexpected stderr"; sed 's/^/# /' "$out.err"
        else
                ok "$c: no messages"
        fi

        if [ ! -d "$dir/expected" ]; then
                check "$c: fails with exit status 1" '[ "$rc" = 1 ]'
                check "$c: leaves no output" '[ ! -e "$out" ] || [ -z "$(ls -A "$out")" ]'
                check "$c: prints no unit names" '[ ! -s "$out.out" ]'
                continue
        fi

        check "$c: exit status 0" '[ "$rc" = 0 ]'
        if diff -u "$dir/expected.out" "$out.out" > "$TMP/diff"; then
                ok "$c: stdout"
        else
                not_ok "$c: stdout"; sed 's/^/# /' "$TMP/diff"
        fi
        good=1
        for f in "$dir"/expected/* "$out"/*; do
                name=$(basename "$f")
                if ! diff -u "$dir/expected/$name" <(normalize "$out/$name" "$dir") > "$TMP/diff" 2>&1; then
                        good=0; sed 's/^/# /' "$TMP/diff"
                fi
        done
        check "$c: units match expected/" '[ $good = 1 ]'

        run_case "$dir" "$out.again"
        check "$c: a second run writes the same bytes" 'diff -r "$out" "$out.again" >/dev/null'

        # --check against the freshly written units (expected/ has @DIR@ in place of the path).
        args=()
        [ -f "$dir/args" ] && read -r -a args < "$dir/args"
        envs=()
        [ -f "$dir/env" ] && mapfile -t envs < <(grep -v '^#' "$dir/env")
        (cd "$dir" && env -i PATH=/usr/bin:/bin HOME=/root "${envs[@]}" "$UNITGEN" "${args[@]}" --check "$out") \
                > "$out.check" 2>/dev/null
        check "$c: --check accepts the units it wrote" '[ $? = 0 ] && [ ! -s "$out.check" ]'

        # unitgen must never write a unit that fleetctl would refuse to submit.
        if "$FLEETCTL" verify "$out"/* > "$TMP/fleetctl-verify" 2>&1; then
                ok "$c: fleetctl verify"
        else
                not_ok "$c: fleetctl verify"; sed 's/^/# /' "$TMP/fleetctl-verify"
        fi

        if [ $have_verify = 1 ]; then
                rm -rf "$VERIFY_ROOT/etc/systemd/system"
                mkdir -p "$VERIFY_ROOT/etc/systemd/system"
                cp "$out"/* "$VERIFY_ROOT/etc/systemd/system/"
                names=$(cd "$out" && ls)
                if systemd-analyze verify --root="$VERIFY_ROOT" $names > "$TMP/verify" 2>&1 && \
                   [ ! -s "$TMP/verify" ]; then
                        ok "$c: systemd-analyze verify"
                else
                        not_ok "$c: systemd-analyze verify"; sed 's/^/# /' "$TMP/verify"
                fi
        else
                n=$((n + 1)); echo "ok $n # SKIP systemd-analyze not available"
        fi
done

# --check must notice a changed unit, a missing one and a stale one, and print a diff.
c=seed-wordpress-mysql
if [ -d "$TMP/$c" ]; then
        cp -r "$TMP/$c" "$TMP/stale"
        sed -i 's/^Restart=always$/Restart=no/' "$TMP/stale/wp-db.service"
        (cd "$DATA/$c" && env -i PATH=/usr/bin:/bin "$UNITGEN" -p wp --check "$TMP/stale") > "$TMP/stale.out" 2>/dev/null
        rc=$?
        check "--check: a changed unit gives exit status 1" '[ $rc = 1 ]'
        check "--check: prints the diff" 'grep -q "^-Restart=no" "$TMP/stale.out" && grep -q "^+Restart=always" "$TMP/stale.out"'
        rm "$TMP/stale/wp-db.service"
        cp "$TMP/stale/wp-wordpress.service" "$TMP/stale/wp-old.service"
        (cd "$DATA/$c" && env -i PATH=/usr/bin:/bin "$UNITGEN" -p wp --check "$TMP/stale") > "$TMP/stale.out" 2>/dev/null
        check "--check: reports a missing and a stale unit" \
                'grep -q "^missing: .*wp-db.service" "$TMP/stale.out" && grep -q "^stale: .*wp-old.service" "$TMP/stale.out"'
fi

echo "1..$n"
[ $failed = 0 ]
