#!/bin/bash
# The hand-written units under examples/*/handwritten/ are valid for fleet: `fleetctl verify`
# accepts each (X-Fleet syntax and option combinations), and each code.it unit conflicts with its
# siblings, so three of them need three machines. In TAP.
# usage: test-handwritten.sh FLEETCTL
set -u
FLEETCTL=$1
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

for f in "$EXAMPLES"/*/handwritten/*.service; do
        [ -f "$f" ] || continue
        name=${f#"$EXAMPLES"/}
        if out=$("$FLEETCTL" verify "$f" 2>&1); then
                ok "fleetctl verify accepts examples/$name"
        else
                not_ok "fleetctl verify accepts examples/$name"
                echo "$out" | sed 's/^/# /'
        fi
done

for i in 1 2 3; do
        f=$EXAMPLES/code-it/handwritten/code.it.$i.service
        if grep -qx 'X-Conflicts=code.it.\*.service' "$f"; then
                ok "code.it.$i.service conflicts with every code.it unit"
        else
                not_ok "code.it.$i.service conflicts with every code.it unit"
        fi
done

printf '[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineID=0123456789abcdef\nGlobal=true\n' > "${TMPDIR:-/tmp}/bad-$$.service"
if "$FLEETCTL" verify "${TMPDIR:-/tmp}/bad-$$.service" >/dev/null 2>&1; then
        not_ok "fleetctl verify rejects MachineID with Global"
else
        ok "fleetctl verify rejects MachineID with Global"
fi
rm -f "${TMPDIR:-/tmp}/bad-$$.service"

echo "1..$n"
[ $failed = 0 ]
