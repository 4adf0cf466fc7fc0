#!/bin/bash
# make-image.sh OUT.tar: a busybox root file system with a page for httpd, to load into each
# machine with `podman import OUT.tar localhost/fleet-demo:latest`.
set -euo pipefail
out=$1
bb=$(command -v busybox || echo /bin/busybox)
[ -x "$bb" ] || { echo "make-image.sh: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,www}
cp "$bb" "$root/bin/busybox"
for a in sh echo sleep cat date hostname httpd ls ps; do ln -s busybox "$root/bin/$a"; done
echo "hello from a fleet demo container" > "$root/www/index.html"
tar -C "$root" -cf "$out" .
