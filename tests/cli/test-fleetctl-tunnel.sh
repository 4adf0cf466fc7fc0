#!/bin/bash
# fleetctl --tunnel carries etcd traffic too, as fleet's did: the etcd endpoints are as the tunnel
# host sees them, and fleetctl reaches them through ssh -L forwards to unix sockets of its own.
#
# The "tunnel host" is a network namespace of its own holding the only etcd (on its 127.0.0.1, at a
# port nothing on this host listens on), so etcd is reachable through the tunnel and only through
# it. There is no sshd here: a stand-in ssh on PATH does what `ssh -N -L SOCKET:HOST:PORT DEST`
# does, from inside the namespace (a small forwarder, python3), and logs its command line and every
# connection it forwards. Real: fleetctl, its etcd client, etcd, the kernel's namespaces and sockets.
# Root only (ip netns); skipped otherwise.
# usage: test-fleetctl-tunnel.sh FLEETCTL
set -uo pipefail
FLEETCTL=$1
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; [ "$1" = 0 ]; }
diag() { printf '# %s\n' "$@"; }

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (ip netns)"; exit 0; }
for tool in etcd etcdctl ip python3; do
        command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

T=$(mktemp -d)
NS=fleetctl-tunnel-$$
ETCD_PID=
cleanup() {
        [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null
        [ -f "$T/shim.pid" ] && kill "$(cat "$T/shim.pid")" 2>/dev/null
        ip netns del "$NS" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

ip netns add "$NS" && ip -n "$NS" link set lo up || { echo "Bail out! cannot create network namespace $NS"; exit 1; }
# A port nothing listens on here, so that only the namespace's etcd can answer on it.
for ((i = 0; i < 50; i++)); do
        PORT=$((20000 + RANDOM % 20000))
        [ -z "$(ss -ltnH "sport = :$PORT or sport = :$((PORT + 1))")" ] && break
done
ip netns exec "$NS" etcd --name tunnel --data-dir "$T/etcd" \
        --listen-client-urls "http://127.0.0.1:$PORT" --advertise-client-urls "http://127.0.0.1:$PORT" \
        --listen-peer-urls "http://127.0.0.1:$((PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((PORT + 1))" \
        --initial-cluster "tunnel=http://127.0.0.1:$((PORT + 1))" >"$T/etcd.log" 2>&1 &
ETCD_PID=$!
ETCDCTL=(ip netns exec "$NS" etcdctl --endpoints "http://127.0.0.1:$PORT")
deadline=$((SECONDS + 60))
until "${ETCDCTL[@]}" endpoint health >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] && kill -0 $ETCD_PID 2>/dev/null || { echo "Bail out! etcd did not start"; tail -5 "$T/etcd.log"; exit 1; }
        sleep 0.2
done

mkdir -p "$T/shim"
cat >"$T/shim/fwd.py" <<'PY'
# What ssh -N -L SOCKET:HOST:PORT does on the far side: each connection to SOCKET becomes one to
# HOST:PORT (here, from inside the tunnel host's namespace). Each forwarded connection is logged.
import os, socket, sys, threading
log = sys.argv[1]
def pump(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve(path, host, port):
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        u = socket.create_connection((host, port))
        with open(log, "a") as f:
            f.write("forwarded to %s:%d\n" % (host, port))
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()
for spec in sys.argv[2:]:
    path, host, port = spec.rsplit(":", 2)
    threading.Thread(target=serve, args=(path, host, int(port)), daemon=True).start()
threading.Event().wait()
PY
cat >"$T/shim/ssh" <<SHIM
#!/bin/bash
printf '%s\n' "\$*" >>"$T/ssh.log"
echo \$\$ >"$T/shim.pid"
[ -e "$T/shim/fail" ] && { echo "ssh: connect to host \${!#} port 2222: Connection refused" >&2; exit 255; }
specs=()
while [ \$# -gt 1 ]; do [ "\$1" = -L ] && { specs+=("\$2"); shift; }; shift; done
exec ip netns exec "$NS" python3 "$T/shim/fwd.py" "$T/fwd.log" "\${specs[@]}"
SHIM
chmod +x "$T/shim/ssh"

fc() { PATH="$T/shim:$PATH" timeout 60 "$FLEETCTL" --endpoint "http://127.0.0.1:$PORT" "$@"; }
printf '[Service]\nExecStart=/bin/sleep infinity\n' >"$T/hello.service"

# ---- without the tunnel, etcd is out of reach ----
out=$(fc --request-timeout 2 list-unit-files 2>&1)
ok "$([ $? != 0 ]; echo $?)" "without --tunnel, fleetctl cannot reach the etcd only the tunnel host sees" ||
        diag "$out"
ok "$([ ! -e "$T/ssh.log" ]; echo $?)" "and it ran no ssh"

# ---- with it, reads and writes go through ----
out=$(fc --tunnel gw.test:2222 --ssh-username ops submit "$T/hello.service" 2>&1)
ok $? "fleetctl --tunnel gw.test:2222 submit writes through the tunnel" || diag "$out"
out=$(fc --tunnel gw.test:2222 --ssh-username ops --no-legend --fields unit list-unit-files 2>&1)
ok "$([ "$out" = hello.service ]; echo $?)" "a second fleetctl --tunnel reads it back" || diag "$out"
keys=$("${ETCDCTL[@]}" get --prefix --keys-only / 2>&1)
ok "$(grep -q 'hello.service' <<<"$keys"; echo $?)" "etcd in the tunnel host's namespace holds the unit" ||
        diag "$keys"
forwarded=$(grep -c "^forwarded to 127.0.0.1:$PORT\$" "$T/fwd.log" 2>/dev/null)
ok "$([ "${forwarded:-0}" -ge 2 ]; echo $?)" "every run's etcd connections went through the forward ($forwarded)"

line=$(head -1 "$T/ssh.log")
sock=$(grep -o -- "-L [^ ]*" <<<"$line" | cut -d' ' -f2)
ok "$([[ " $line " == *" -N "* && " $line " == *" -oExitOnForwardFailure=yes "* && " $line " == *" -p2222 "* &&
       "$sock" == /tmp/fleetctl-tunnel.*/etcd-0.sock:127.0.0.1:$PORT && "$line" == *" ops@gw.test" ]]; echo $?)" \
        "ssh -N -L SOCKET:127.0.0.1:$PORT ops@gw.test -p2222: the endpoint as the tunnel host sees it" || diag "$line"
ok "$([ ! -e "${sock%%:*}" ] && [ ! -e "$(dirname "${sock%%:*}")" ]; echo $?)" \
        "the sockets and their directory are gone when fleetctl exits"
pid=$(cat "$T/shim.pid")
ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "and so is the tunnel's ssh"

# ---- a tunnel that cannot be set up ----
touch "$T/shim/fail"
out=$(fc --tunnel gw.test:2222 list-unit-files 2>&1)
rc=$?
ok "$([ $rc != 0 ] && grep -q "tunnel through gw.test:2222 to etcd failed" <<<"$out"; echo $?)" \
        "an ssh that fails fails fleetctl, naming the tunnel host" || diag "rc $rc" "$out"

echo "1..$n"
[ $failed = 0 ]
