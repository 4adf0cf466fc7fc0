#!/bin/bash
# test-debian.sh: debian/ agrees with the tree, so `dpkg-buildpackage -us -uc -b` can work.
#
# Checks what breaks a package build silently or late: the changelog's version against meson's
# project version, Build-Depends against the libraries meson.build requires, make's tab-indented
# recipes in debian/rules, and the files debian/*.docs and *.examples name. (tests/deploy/test-deb.sh
# builds the packages for real.)
set -uo pipefail

SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/deploy/tap.sh"
D=$SRC/debian

[ -d "$D" ] || skip_all "no debian/ directory"

meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
changelog_version=$(sed -n '1s/^fleet (\([^)]*\)).*/\1/p' "$D/changelog")
ok "$([ -n "$meson_version" ] && [ "$changelog_version" = "$meson_version" ]; echo $?)" \
        "debian/changelog's version ($changelog_version) is meson's project version ($meson_version)"

format=$(cat "$D/source/format")
ok "$([ "$format" = "3.0 (native)" ] && [[ $changelog_version != *-* ]]; echo $?)" \
        "native source format, version without a Debian revision"

if command -v dpkg-parsechangelog >/dev/null 2>&1; then
        out=$(cd "$SRC" && dpkg-parsechangelog -S Version 2>&1)
        ok "$([ "$out" = "$changelog_version" ]; echo $?)" "dpkg-parsechangelog reads the changelog" ||
                diag "$out"
else
        echo "ok $((TAP_COUNT += 1)) - # SKIP dpkg-parsechangelog is not installed (dpkg-dev)"
fi

# meson.build maps each pkg-config name to the Debian package providing it.
missing=
build_depends=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$D/control")
for pkg in $(sed -n "s/^ *'[^']*' *: *'\([a-z0-9.+-]*\)',\{0,1\}$/\1/p" "$SRC/meson.build"); do
        grep -qE "(^|[ ,|])$pkg([ ,(]|$)" <<<"$build_depends" || missing+=" $pkg"
done
libs=$(sed -n "s/^ *'[^']*' *: *'\([a-z0-9.+-]*\)',\{0,1\}$/\1/p" "$SRC/meson.build" | wc -l)
ok "$([ "$libs" -ge 4 ] && [ -z "$missing" ]; echo $?)" \
        "Build-Depends has every library package meson.build requires ($libs found)" || diag "missing:$missing"

missing=
for pkg in debhelper-compat meson ninja-build; do
        grep -q "$pkg" <<<"$build_depends" || missing+=" $pkg"
done
ok "$([ -z "$missing" ]; echo $?)" "Build-Depends has debhelper-compat, meson and ninja-build"

ok "$([ -x "$D/rules" ] && head -1 "$D/rules" | grep -qx '#!/usr/bin/make -f'; echo $?)" \
        "debian/rules is an executable makefile"
bad=$(grep -nE '^ +[a-z]' "$D/rules")
ok "$([ -z "$bad" ]; echo $?)" "debian/rules recipes are indented with tabs" || diag "$bad"

if command -v make >/dev/null 2>&1; then
        out=$(make -n -f "$D/rules" -C "$SRC" override_dh_auto_test 2>&1)
        ok "$(grep -q -- 'dh_auto_test -- --suite unit' <<<"$out"; echo $?)" \
                "make parses debian/rules; the build runs only the unit suite" || diag "$out"
else
        echo "ok $((TAP_COUNT += 1)) - # SKIP make is not installed"
fi

for list in $(cd "$D" && ls *.docs *.examples 2>/dev/null); do
        absent=
        while read -r pattern; do
                [ -n "$pattern" ] || continue
                compgen -G "$SRC/$pattern" >/dev/null || absent+=" $pattern"
        done <"$D/$list"
        ok "$([ -z "$absent" ]; echo $?)" "every file debian/$list names exists" || diag "absent:$absent"
done

packages=$(sed -n 's/^Package: *//p' "$D/control")
missing=
for p in $packages; do
        [ -f "$D/$p.install" ] || missing+=" $p"
done
ok "$([ -n "$packages" ] && [ -z "$missing" ]; echo $?)" "each binary package ($(echo $packages)) has its .install list" ||
        diag "no .install for:$missing"

done_testing
