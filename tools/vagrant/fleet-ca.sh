#!/bin/bash
# fleet-ca.sh: the cluster's certificate authority and one certificate per machine, with openssl.
#
#   fleet-ca.sh init DIR                  DIR/ca.key and DIR/ca.crt, and DIR/cluster.key, the key
#                                         that seals the cluster's secrets (each kept if it exists)
#   fleet-ca.sh issue DIR NAME IP [IP..]  DIR/NAME.key and DIR/NAME.crt, signed by the CA, for the
#                                         machine NAME at the IPs (kept if they exist and are valid)
#   fleet-ca.sh cluster-key DIR           DIR/cluster.key alone (kept if it exists), 0400: for a
#                                         cluster without TLS, e.g. tools/cluster's
#
# A machine's certificate serves its etcd member (client and peer URLs) and authenticates it as a
# client: fleetd and etcdctl on the machine, and the member to its peers. etcd runs with
# client-certificate auth on both URLs, so only holders of a certificate of this CA get in. Its
# names: NAME, localhost, the IPs and 127.0.0.1. An operator's workstation gets one too
# (`fleet-ca.sh issue DIR admin 127.0.0.1`) for fleetctl.
#
# Keep DIR/ca.key off the machines: whoever has it can make certificates. Keys are 0600.
# Validity: 10 years (a test or a trial cluster; rotate by issuing anew).
set -euo pipefail

die() { printf 'fleet-ca.sh: %s\n' "$*" >&2; exit 1; }

need_openssl() {
        command -v openssl >/dev/null 2>&1 || die "openssl is not installed (apt-get install openssl)"
}

# The cluster key (docs/secrets.md): one line "<id> <32 random bytes in base64>", the same on every
# machine (provision.sh installs it as /etc/fleet/cluster.key, 0400). The id names the key in each
# sealed record, so a rotation adds a new first line and keeps the old one until all are resealed.
cluster_key_init() {
        local dir=$1

        [ -s "$dir/cluster.key" ] && return 0
        mkdir -p "$dir"
        # Written to a temporary name and renamed: a key cut short by a crash would seal with it.
        (umask 077 && printf 'k%s %s\n' "$(date -u +%Y%m%d)" "$(head -c 32 /dev/urandom | base64)" >"$dir/cluster.key.new")
        chmod 0400 "$dir/cluster.key.new"
        mv "$dir/cluster.key.new" "$dir/cluster.key"
        echo "fleet-ca.sh: created the cluster key $dir/cluster.key"
}

ca_init() {
        local dir=$1

        need_openssl
        mkdir -p "$dir"
        cluster_key_init "$dir"
        [ -s "$dir/ca.key" ] && [ -s "$dir/ca.crt" ] && return 0
        (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key" 2>/dev/null)
        openssl req -x509 -new -key "$dir/ca.key" -days 3650 -subj "/O=fleet/CN=fleet cluster CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -out "$dir/ca.crt" 2>/dev/null || die "cannot create the CA in $dir"
        echo "fleet-ca.sh: created the cluster CA $dir/ca.crt"
}

# cert_is_current DIR NAME IP...: the certificate exists, is the CA's and names NAME and every IP.
cert_is_current() {
        local dir=$1 name=$2 crt=$1/$2.crt ip

        shift 2
        [ -s "$dir/$name.key" ] && [ -s "$crt" ] || return 1
        openssl verify -CAfile "$dir/ca.crt" "$crt" >/dev/null 2>&1 || return 1
        openssl x509 -in "$crt" -noout -checkhost "$name" 2>/dev/null | grep -q "does match" || return 1
        for ip in "$@"; do
                openssl x509 -in "$crt" -noout -checkip "$ip" 2>/dev/null | grep -q "does match" || return 1
        done
}

ca_issue() {
        local dir=$1 name=$2 san="DNS:$2,DNS:localhost,IP:127.0.0.1" ip

        shift 2
        need_openssl
        [ -s "$dir/ca.key" ] || die "no CA in $dir (run: fleet-ca.sh init $dir)"
        [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || die "'$name' is not a machine name"
        for ip in "$@"; do
                [[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "'$ip' is not an IPv4 address"
                [ "$ip" = 127.0.0.1 ] || san+=",IP:$ip"
        done
        if cert_is_current "$dir" "$name" "$@"; then
                return 0
        fi
        (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" 2>/dev/null)
        # No CN: etcd's gateway refuses a certificate CN as a user name once etcd auth is on.
        openssl req -new -key "$dir/$name.key" -subj "/O=fleet/OU=$name" -out "$dir/$name.csr" 2>/dev/null
        openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
                -days 3650 -out "$dir/$name.crt" -extfile <(printf '%s\n' \
                        "basicConstraints=critical,CA:FALSE" \
                        "keyUsage=critical,digitalSignature,keyEncipherment" \
                        "extendedKeyUsage=serverAuth,clientAuth" \
                        "subjectAltName=$san") 2>/dev/null || die "cannot issue the certificate of $name"
        rm -f "$dir/$name.csr"
        echo "fleet-ca.sh: issued $dir/$name.crt ($san)"
}

case ${1:-} in
init)  [ $# -eq 2 ] || die "usage: fleet-ca.sh init DIR"; ca_init "$2" ;;
cluster-key) [ $# -eq 2 ] || die "usage: fleet-ca.sh cluster-key DIR"; cluster_key_init "$2" ;;
issue) [ $# -ge 3 ] || die "usage: fleet-ca.sh issue DIR NAME [IP...]"; ca_issue "$2" "$3" "${@:4}" ;;
-h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" ;;
*) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
