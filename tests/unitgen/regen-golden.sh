#!/bin/bash
# Rewrite the expectations of golden cases from what unitgen produces now. For a new case or an
# intended change of output only: review "git diff tests/unitgen/data" before committing.
#
# usage: regen-golden.sh UNITGEN CASE...
set -eu

UNITGEN=$1
shift
DATA=$(cd "$(dirname "$0")/data" && pwd)

for c in "$@"; do
        dir=$DATA/$c
        tmp=$(mktemp -d)
        args=()
        envs=()
        [ -f "$dir/args" ] && read -r -a args < "$dir/args"
        [ -f "$dir/env" ] && mapfile -t envs < <(grep -v '^#' "$dir/env")
        set +e
        (cd "$dir" && env -i PATH=/usr/bin:/bin HOME=/root "${envs[@]}" "$UNITGEN" "${args[@]}" -o "$tmp/out") \
                > "$tmp/stdout" 2> "$tmp/stderr"
        rc=$?
        set -e
        rm -rf "$dir/expected" "$dir/expected.out" "$dir/expected.err"
        if [ -s "$tmp/stderr" ] || [ $rc != 0 ]; then
                sed "s|$dir|@DIR@|g" "$tmp/stderr" > "$dir/expected.err"
        fi
        if [ $rc = 0 ]; then
                mkdir "$dir/expected"
                for f in "$tmp"/out/*; do
                        sed "s|$dir|@DIR@|g" "$f" > "$dir/expected/$(basename "$f")"
                done
                cp "$tmp/stdout" "$dir/expected.out"
        fi
        echo "$c: exit status $rc"
        rm -rf "$tmp"
done
