#!/bin/bash
# unitgen -o and what it finds in the output directory, in TAP: a failed rerun keeps the previous
# units (its rollback once removed them), a rerun removes the units of the same project the new
# model no longer has and says so (other projects' and hand-written units stay), COMPOSE_FILE
# naming a missing file is an error, and in generator mode two projects that make the same unit
# name are refused rather than the later one silently winning.
# usage: test-output.sh UNITGEN
set -u
UNITGEN=$1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"    # see test-generator.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
failed=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else failed=$((failed + 1)); echo "not ok $n - $1"; fi; }

cd "$TMP"
printf 'name: p\nservices:\n  a:\n    image: busybox\n  b:\n    image: busybox\n' > compose.yaml
"$UNITGEN" -o out >/dev/null 2>&1
check "first run writes both units" '[ -f out/p-a.service ] && [ -f out/p-b.service ]'
cp out/p-a.service a.before

# A failed rerun: p-b.service cannot be replaced (a directory of that name is in the way once the
# first file is written), so the run must put p-a.service back as it was.
printf 'name: p\nservices:\n  a:\n    image: busybox:2\n  b:\n    image: busybox:2\n' > compose.yaml
mv out/p-b.service b.saved && mkdir out/p-b.service
"$UNITGEN" -o out >/dev/null 2>err
rc=$?
check "a rerun that cannot write every unit fails" '[ $rc = 1 ]'
check "the unit it had overwritten has its previous contents back" 'cmp -s out/p-a.service a.before'
rmdir out/p-b.service && mv b.saved out/p-b.service

# A service removed from the project: its unit goes, and unitgen says so.
printf 'manual\n' > out/hand-written.service
mkdir other && printf 'name: q\nservices:\n  b:\n    image: busybox\n' > other/compose.yaml
"$UNITGEN" -f other/compose.yaml -o out >/dev/null 2>&1
printf 'name: p\nservices:\n  a:\n    image: busybox\n' > compose.yaml
"$UNITGEN" -o out >/dev/null 2>err
rc=$?
check "the rerun succeeds" '[ $rc = 0 ]'
check "the unit of the removed service is gone" '[ ! -e out/p-b.service ]'
check "and unitgen says so" 'grep -q "removed out/p-b.service: project \"p\" no longer has it" err'
check "another project's unit stays" '[ -f out/q-b.service ]'
check "a hand-written unit stays" '[ -f out/hand-written.service ]'

# COMPOSE_FILE naming a missing file: an error, not compose.yaml instead.
rm -rf out2
COMPOSE_FILE=missing.yaml "$UNITGEN" -o out2 >/dev/null 2>err
rc=$?
check "COMPOSE_FILE=missing.yaml fails" '[ $rc = 1 ] && [ ! -e out2 ]'
check "naming the file" 'grep -q "COMPOSE_FILE names missing.yaml: No such file or directory" err'
COMPOSE_FILE=compose.yaml:other/compose.yaml "$UNITGEN" -o out2 >/dev/null 2>&1
check "COMPOSE_FILE's files are merged in order (the second names the project)" '[ -f out2/q-a.service ] && [ -f out2/q-b.service ]'

# Generator mode: project a with service b-c and project a-b with service c both make a-b-c.service.
mkdir -p src gen
printf 'services:\n  b-c:\n    image: busybox:1\n' > src/a.yaml
printf 'services:\n  c:\n    image: busybox:2\n' > src/a-b.yaml
UNITGEN_COMPOSE_DIR=$TMP/src "$UNITGEN" "$TMP/gen" >/dev/null 2>&1
rc=$?
check "a collision makes the generator's exit status 1" '[ $rc = 1 ]'
# Projects are converted in alphabetical order of their files: a-b.yaml before a.yaml.
check "the first project's unit is kept, not overwritten by the later one" \
        'grep -q "^ExecStart=.* busybox:2" gen/a-b-c.service && ! grep -q busybox:1 gen/a-b-c.service'

echo "1..$n"
[ $failed = 0 ]
