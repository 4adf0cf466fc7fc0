# nspawn.sh: throw-away Debian machines for the deployment tests, sourced after tap.sh.
#
# Each machine is a systemd-nspawn container booting this host's own root file system through an
# overlay whose writable layer is on a tmpfs: apt, dpkg, /etc and /var changes stay in the
# container and vanish with it. The containers sit on a private bridge NSPAWN_BRIDGE with the
# host at NSPAWN_NET.1 and machine I at NSPAWN_NET.(100+I). Only these containers are started and
# stopped, by PID.
#
#   nspawn_require                  skip_all unless root, systemd-nspawn and overlayfs are here
#   nspawn_setup                    tmpfs at $NSPAWN_TMP, the bridge, cleanup on exit
#   nspawn_boot I [nspawn args...]  boot machine I (--bind-ro etc.), wait for its systemd, address it
#   in_container I CMD...           run CMD in machine I's namespaces (bounded by a timeout)
#   nspawn_halt I                   power machine I off and wait for it
#   nspawn_reboot I [nspawn args...] power machine I off and boot it again on what it changed
#   nspawn_upper I                  the directory holding what machine I changed
#
# Set NSPAWN_NET (three octets), NSPAWN_BRIDGE and NSPAWN_NAME (container name prefix) first.

NSPAWN_PIDS=()

nspawn_require() {
        [ "$(id -u)" = 0 ] || skip_all "needs root"
        command -v systemd-nspawn >/dev/null 2>&1 ||
                skip_all "systemd-nspawn is not installed (apt-get install systemd-container)"
        grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
        grep -qw overlay /proc/filesystems || skip_all "no overlay file system"
        exec 9>/run/fleet-deploy-test.lock
        flock -w 1800 9 || skip_all "another deployment test held the lock for 30 minutes"
        ip link show "$NSPAWN_BRIDGE" >/dev/null 2>&1 &&
                skip_all "bridge $NSPAWN_BRIDGE exists already: another run was not cleaned up"
        return 0
}

nspawn_cleanup() {
        local i

        for i in "${!NSPAWN_PIDS[@]}"; do
                nspawn_halt $((i + 1))
        done
        for i in "$NSPAWN_TMP"/m*/root; do
                mountpoint -q "$i" && umount -l "$i"
        done
        mountpoint -q "$NSPAWN_TMP" && umount -l "$NSPAWN_TMP"
        ip link del "$NSPAWN_BRIDGE" 2>/dev/null
        rm -rf "$NSPAWN_TMP"
}

nspawn_setup() {
        NSPAWN_TMP=$(mktemp -d /tmp/fleet-deploy.XXXXXX)
        trap nspawn_cleanup EXIT
        mount -t tmpfs -o size=6g,mode=0700 tmpfs "$NSPAWN_TMP" || { echo "Bail out! cannot mount a tmpfs"; exit 1; }
        ip link add "$NSPAWN_BRIDGE" type bridge && ip addr add "$NSPAWN_NET.1/24" dev "$NSPAWN_BRIDGE" &&
                ip link set "$NSPAWN_BRIDGE" up || { echo "Bail out! cannot create bridge $NSPAWN_BRIDGE"; exit 1; }
}

# container_pid I: the host PID of container I's systemd.
container_pid() {
        local nspawn=${NSPAWN_PIDS[$(($1 - 1))]:-} c

        [ -n "$nspawn" ] || return 1
        for c in $(pgrep -P "$nspawn"); do
                [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && { echo "$c"; return 0; }
        done
        return 1
}

in_container() {
        local i=$1 pid

        shift
        pid=$(container_pid "$i") || return 1
        timeout 600 nsenter -t "$pid" -a "$@"
}

nspawn_upper() {
        echo "$NSPAWN_TMP/m$1/upper"
}

# nspawn_boot I [ARGS...]: returns non-zero (after diag) if its systemd did not come up in 90 s.
nspawn_boot() {
        local i=$1 dir=$NSPAWN_TMP/m$1 deadline state=

        shift
        mkdir -p "$dir/upper" "$dir/work" "$dir/root"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" ||
                { echo "Bail out! overlay mount failed"; exit 1; }
        systemd-nspawn -D "$dir/root" --machine="$NSPAWN_NAME-$i" --register=no --keep-unit \
                --link-journal=no --network-bridge="$NSPAWN_BRIDGE" -q -b "$@" \
                >"$dir/nspawn.log" 2>&1 </dev/null &
        NSPAWN_PIDS[$((i - 1))]=$!
        deadline=$((SECONDS + 90))          # bounds, not timed assertions
        while [ $SECONDS -lt $deadline ]; do
                state=$(in_container "$i" timeout 5 systemctl is-system-running 2>/dev/null)
                case $state in running|degraded) break ;; esac
                sleep 0.2
        done
        case $state in
        running|degraded) ;;
        *) diag "machine $i: systemd is '$state'" "$(tail -5 "$dir/nspawn.log")"; return 1 ;;
        esac
        in_container "$i" ip addr add "$NSPAWN_NET.$((100 + i))/24" dev host0 &&
                in_container "$i" ip link set host0 up
}

nspawn_halt() {
        local pid=${NSPAWN_PIDS[$(($1 - 1))]:-} k

        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null          # nspawn halts the container's systemd
        for ((k = 0; k < 150; k++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        NSPAWN_PIDS[$(($1 - 1))]=
}

nspawn_reboot() {
        local i=$1

        nspawn_halt "$i"
        umount "$NSPAWN_TMP/m$i/root" || { diag "machine $i: cannot unmount its root"; return 1; }
        nspawn_boot "$@"
}

# deploy_build_debs OUTDIR: the fleetd and fleetctl .debs built from a clean copy of $SRC (no .git,
# no build directories) with dpkg-buildpackage, into OUTDIR; the log is OUTDIR/build.log.
deploy_build_debs() {
        local out=$1

        mkdir -p "$out/fleet"
        tar -C "$SRC" --exclude='./.git' --exclude='./build*' --exclude='./obj-*' --exclude='./.vagrant' \
                --exclude='./debian/.debhelper' --exclude='./debian/tmp' -cf - . | tar -C "$out/fleet" -xf -
        (cd "$out/fleet" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 &&
                compgen -G "$out/fleetd_*.deb" >/dev/null && compgen -G "$out/fleetctl_*.deb" >/dev/null
}
