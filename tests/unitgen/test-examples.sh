#!/bin/bash
# The units checked in under examples/<app>/units/ must be what unitgen makes of the compose file
# next to them (unitgen --check), and fleetctl verify (lib's [X-Fleet] validator, as at submit)
# must accept every one of them, in TAP. Regenerate with:
#   cd examples/<app> && unitgen $(cat unitgen.args 2>/dev/null) -o units
# usage: test-examples.sh UNITGEN FLEETCTL
set -u
UNITGEN=$1
FLEETCTL=$2
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
n=0
failed=0
for dir in "$EXAMPLES"/*/; do
        [ -d "$dir/units" ] || continue
        app=$(basename "$dir")
        args=()
        [ -f "$dir/unitgen.args" ] && read -r -a args < "$dir/unitgen.args"
        n=$((n + 1))
        if out=$(cd "$dir" && env -i PATH=/usr/bin:/bin HOME=/root "$UNITGEN" "${args[@]}" --check units 2>&1); then
                echo "ok $n - examples/$app/units match the compose file"
        else
                failed=$((failed + 1))
                echo "not ok $n - examples/$app/units are stale"
                echo "$out" | sed 's/^/# /'
        fi
        n=$((n + 1))
        if out=$("$FLEETCTL" verify "$dir"/units/* 2>&1); then
                echo "ok $n - fleetctl verify accepts examples/$app/units"
        else
                failed=$((failed + 1))
                echo "not ok $n - fleetctl verify refuses examples/$app/units"
                echo "$out" | sed 's/^/# /'
        fi
done
[ $n = 0 ] && { echo "1..0 # SKIP no examples with units/"; exit 0; }
echo "1..$n"
[ $failed = 0 ]
