#!/bin/bash
# test-vagrantfile.sh: `vagrant validate` of the top-level Vagrantfile, without a VM provider.
#
# Debian's vagrant (2.3) validates a Vagrantfile with --ignore-provider when no provider is
# installed. It runs with a throw-away VAGRANT_HOME and dot-file directory and with the update
# checkpoint disabled, so it neither touches ~/.vagrant.d nor the network.
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/deploy/tap.sh"

command -v vagrant >/dev/null 2>&1 || skip_all "vagrant is not installed (apt-get install vagrant)"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export VAGRANT_HOME=$TMP/home VAGRANT_DOTFILE_PATH=$TMP/dot VAGRANT_CWD=$SRC
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_NO_COLOR=1
unset FLEET_NUM_INSTANCES FLEET_IP_PREFIX

vagrant --version >"$TMP/version" 2>&1 || skip_all "vagrant does not run here: $(head -1 "$TMP/version")"
diag "$(cat "$TMP/version")"

validate() {    # validate OUTFILE [ENV=VALUE...]: vagrant validate with extra environment
        local out=$1
        shift
        env "$@" vagrant validate --ignore-provider --no-tty >"$out" 2>&1
}

validate "$TMP/out"
status=$?
ok $status "vagrant validate --ignore-provider accepts the Vagrantfile" || diag "$(cat "$TMP/out")"
machines=$(grep -o 'fleet-[0-9]*: Ignoring provider' "$TMP/out" | cut -d: -f1 | tr '\n' ' ')
ok "$([ "$machines" = "fleet-01 fleet-02 fleet-03 " ]; echo $?)" \
        "the default cluster is 3 machines fleet-01..03 (got: $machines)"

validate "$TMP/out" FLEET_NUM_INSTANCES=5 FLEET_IP_PREFIX=192.168.56
status=$?
machines=$(grep -c 'fleet-0[1-5]: Ignoring provider' "$TMP/out")
ok "$([ $status -eq 0 ] && [ "$machines" -eq 5 ]; echo $?)" "FLEET_NUM_INSTANCES=5 gives 5 valid machines" ||
        diag "$(cat "$TMP/out")"

validate "$TMP/out" FLEET_NUM_INSTANCES=0
status=$?
ok "$([ $status -ne 0 ] && grep -q 'must be from 1 to 99' "$TMP/out"; echo $?)" \
        "FLEET_NUM_INSTANCES=0 is refused with a message" || diag "$(cat "$TMP/out")"

# A config.rb next to the Vagrantfile overrides the defaults, as coreos-vagrant's did. Validate a
# copy of the tree's Vagrantfile and provisioning scripts so the checkout is not touched.
mkdir -p "$TMP/tree/tools/vagrant"
cp "$SRC/Vagrantfile" "$TMP/tree/"
cp "$SRC/tools/vagrant/provision.sh" "$SRC/tools/vagrant/fleet-config.sh" "$SRC/tools/vagrant/fleet-ca.sh" \
        "$TMP/tree/tools/vagrant/"
echo '$num_instances = 2' >"$TMP/tree/config.rb"
validate "$TMP/out" VAGRANT_CWD="$TMP/tree"
status=$?
machines=$(grep -o 'fleet-[0-9]*: Ignoring provider' "$TMP/out" | cut -d: -f1 | tr '\n' ' ')
ok "$([ $status -eq 0 ] && [ "$machines" = "fleet-01 fleet-02 " ]; echo $?)" \
        "config.rb with \$num_instances = 2 gives fleet-01 and fleet-02" || diag "$(cat "$TMP/out")"

# The provisioner's script must exist where the Vagrantfile says: vagrant validate checks the path.
rm "$TMP/tree/tools/vagrant/provision.sh"
validate "$TMP/out" VAGRANT_CWD="$TMP/tree"
status=$?
ok "$([ $status -ne 0 ] && grep -q 'provision.sh' "$TMP/out"; echo $?)" \
        "validation fails when tools/vagrant/provision.sh is missing (the check is real)" ||
        diag "$(cat "$TMP/out")"

done_testing
