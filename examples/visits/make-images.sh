#!/bin/bash
# make-images.sh OUTDIR: the visit counter's two images, built locally from Debian's packages (no
# registry is reachable here), as tarballs to load into each machine with `podman import`:
#   OUTDIR/visits-web.tar    busybox-static: httpd serving a CGI that counts visits in redis (nc)
#   OUTDIR/visits-redis.tar  redis-server and redis-cli from Debian's redis packages, with the
#                            shared libraries ldd names, plus busybox for a shell
set -euo pipefail
out=${1:?usage: make-images.sh OUTDIR}
mkdir -p "$out"
bb=$(command -v busybox || echo /bin/busybox)
[ -x "$bb" ] || { echo "make-images.sh: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q "dynamically linked" &&
        { echo "make-images.sh: $bb is not static (apt-get install busybox-static)" >&2; exit 1; }
for b in redis-server redis-cli; do
        command -v $b >/dev/null || { echo "make-images.sh: $b not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

base() {        # base ROOT: the directories every image has, and busybox
        mkdir -p "$1"/{bin,etc,proc,sys,dev,tmp,run,var}
        cp "$bb" "$1/bin/busybox"
        for a in sh echo cat printf sleep hostname nc nslookup wget tr ls ps ip; do ln -sf busybox "$1/bin/$a"; done
        echo "root:x:0:0:root:/:/bin/sh" > "$1/etc/passwd"
        echo "root:x:0:" > "$1/etc/group"
        echo "hosts: files dns" > "$1/etc/nsswitch.conf"
}

# web: httpd runs /www/cgi-bin/index.cgi for "/" (index.html redirects there); the CGI asks redis,
# by its service name, to count one more visit.
w=$tmp/web
base "$w"
ln -sf busybox "$w/bin/httpd"
mkdir -p "$w/www/cgi-bin"
cat > "$w/www/cgi-bin/index.cgi" <<'CGI'
#!/bin/sh
# One visit: INCR hits in redis (found by name on the cluster network), then the page.
n=$(printf 'INCR hits\r\n' | nc -w 2 "${REDIS_HOST:-redis}" "${REDIS_PORT:-6379}" 2>/dev/null | tr -d ':\r\n')
printf 'Content-Type: text/plain\r\n\r\n'
if [ -n "$n" ]; then
        echo "Hello from $(hostname)! I have been seen $n times."
else
        echo "Hello from $(hostname)! redis (${REDIS_HOST:-redis}) does not answer."
fi
CGI
chmod +x "$w/www/cgi-bin/index.cgi"
tar -C "$w" -cf "$out/visits-web.tar" .

# redis: the binaries and every library they load, at the same paths.
r=$tmp/redis
base "$r"
mkdir -p "$r/usr/bin" "$r/data"
cp -L "$(command -v redis-server)" "$r/usr/bin/redis-server"
cp -L "$(command -v redis-cli)" "$r/usr/bin/redis-cli"
for lib in $(ldd "$(command -v redis-server)" "$(command -v redis-cli)" | awk '/=> \//{ print $3 } /^\t\/lib/{ print $1 }' | sort -u); do
        mkdir -p "$r$(dirname "$lib")"
        cp -L "$lib" "$r$lib"
done
tar -C "$r" -cf "$out/visits-redis.tar" .
ls -la "$out"/visits-*.tar | awk '{ print $5, $9 }'
