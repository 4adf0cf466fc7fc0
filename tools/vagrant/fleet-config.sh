#!/bin/bash
# fleet-config.sh: the configuration one machine of a static fleet cluster needs, printed to stdout.
#
#   fleet-config.sh etcd  [OPTIONS]   /etc/default/etcd for Debian's etcd.service (EnvironmentFile)
#   fleet-config.sh fleet [OPTIONS]   /etc/fleet/fleet.conf for fleetd
#   fleet-config.sh fleetctl [OPTIONS] FLEETCTL_* variables for fleetctl on the machine, as root
#
# Options:
#   --instances N      machines (and etcd members) in the cluster (default 3, or the number of --ips)
#   --index I          which machine this is, 1..N (required)
#   --ip-prefix P      member i has the address P.(BASE+i) (default 172.17.8, as the seeds' CoreOS VMs)
#   --ip-base BASE     (default 100)
#   --ips A,B,...      explicit member addresses, for real machines; replaces --ip-prefix/--ip-base
#   --client-port P    etcd client port (default 2379)
#   --peer-port P      etcd peer port (default 2380)
#   --port-stride S    member i uses ports P + (i-1)*S (default 0; for several members on one host)
#   --token T          etcd's initial-cluster-token (default fleet-vagrant)
#   --name-prefix X    member i is named X<two-digit i>, also its hostname (default fleet-)
#   --data-dir D       etcd data directory (default /var/lib/etcd/fleet)
#   --metadata K=V,..  more fleet metadata for this machine, after hostname= and role=
#   --agent-ttl T      fleet's agent_ttl (default 10s)
#   --etcd-members M   machines 1..M run an etcd member (default N); the others run fleetd only
#   --etcd-state S     new (default: the members start a cluster together) or existing (this
#                      machine joins a running cluster, after `etcdctl member add`)
#   --tls-dir D        where ca.crt, machine.crt and machine.key are on the machine (default
#                      /etc/fleet/tls; tools/vagrant/fleet-ca.sh makes them): etcd serves https with
#                      client-certificate auth on its client and peer URLs, fleetd uses the files
#   --insecure         plain http without authentication instead: anyone who can reach etcd can
#                      run anything as root on every machine
#
# Pure: no file is read or written, nothing is contacted; the same arguments give the same bytes.
# The Vagrant provisioning script and the tests (tests/deploy/) source this file and call
# fleet_config_main, or run it as a program.

fleet_config_usage() {
        sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
}

fleet_config_fail() {
        echo "fleet-config.sh: $*" >&2
        return 1
}

# fleet_config_parse ARGS...: sets the FC_* variables from the options, validates them.
fleet_config_parse() {
        FC_INSTANCES= FC_INDEX= FC_IP_PREFIX=172.17.8 FC_IP_BASE=100 FC_IPS=
        FC_CLIENT_PORT=2379 FC_PEER_PORT=2380 FC_PORT_STRIDE=0 FC_TOKEN=fleet-vagrant
        FC_NAME_PREFIX=fleet- FC_DATA_DIR=/var/lib/etcd/fleet FC_METADATA= FC_AGENT_TTL=10s
        FC_ETCD_MEMBERS= FC_ETCD_STATE=new FC_TLS_DIR=/etc/fleet/tls FC_SCHEME=https
        local opt val

        while [ $# -gt 0 ]; do
                opt=$1
                [ "$opt" = --insecure ] && { FC_SCHEME=http; shift; continue; }
                case $opt in
                --*=*)  val=${opt#*=}; opt=${opt%%=*} ;;
                --*)    [ $# -ge 2 ] || { fleet_config_fail "$opt: missing value"; return; }
                        val=$2; shift ;;
                *)      fleet_config_fail "unexpected argument '$opt'"; return ;;
                esac
                shift
                case $opt in
                --instances)    FC_INSTANCES=$val ;;
                --index)        FC_INDEX=$val ;;
                --ip-prefix)    FC_IP_PREFIX=$val ;;
                --ip-base)      FC_IP_BASE=$val ;;
                --ips)          FC_IPS=$val ;;
                --client-port)  FC_CLIENT_PORT=$val ;;
                --peer-port)    FC_PEER_PORT=$val ;;
                --port-stride)  FC_PORT_STRIDE=$val ;;
                --token)        FC_TOKEN=$val ;;
                --name-prefix)  FC_NAME_PREFIX=$val ;;
                --data-dir)     FC_DATA_DIR=$val ;;
                --metadata)     FC_METADATA=$val ;;
                --agent-ttl)    FC_AGENT_TTL=$val ;;
                --etcd-members) FC_ETCD_MEMBERS=$val ;;
                --etcd-state)   FC_ETCD_STATE=$val ;;
                --tls-dir)      FC_TLS_DIR=$val ;;
                *)              fleet_config_fail "unknown option $opt"; return ;;
                esac
        done

        FC_MEMBER_IPS=()
        if [ -n "$FC_IPS" ]; then
                IFS=, read -r -a FC_MEMBER_IPS <<<"$FC_IPS"
                [ -n "$FC_INSTANCES" ] || FC_INSTANCES=${#FC_MEMBER_IPS[@]}
                [ "${#FC_MEMBER_IPS[@]}" = "$FC_INSTANCES" ] ||
                        { fleet_config_fail "--ips has ${#FC_MEMBER_IPS[@]} addresses, --instances is $FC_INSTANCES"; return; }
        fi
        [ -n "$FC_INSTANCES" ] || FC_INSTANCES=3

        fleet_config_check_number instances "$FC_INSTANCES" 1 99 || return
        [ -n "$FC_INDEX" ] || { fleet_config_fail "--index is required"; return; }
        fleet_config_check_number index "$FC_INDEX" 1 "$FC_INSTANCES" || return
        [ -n "$FC_ETCD_MEMBERS" ] || FC_ETCD_MEMBERS=$FC_INSTANCES
        fleet_config_check_number etcd-members "$FC_ETCD_MEMBERS" 1 "$FC_INSTANCES" || return
        case $FC_ETCD_STATE in new|existing) ;;
        *) fleet_config_fail "--etcd-state '$FC_ETCD_STATE': expected new or existing"; return ;;
        esac
        [[ $FC_TLS_DIR == /* ]] || { fleet_config_fail "--tls-dir '$FC_TLS_DIR': must be absolute"; return; }
        fleet_config_check_number ip-base "$FC_IP_BASE" 0 254 || return
        fleet_config_check_number client-port "$FC_CLIENT_PORT" 1 65535 || return
        fleet_config_check_number peer-port "$FC_PEER_PORT" 1 65535 || return
        fleet_config_check_number port-stride "$FC_PORT_STRIDE" 0 1000 || return
        [ $((FC_CLIENT_PORT > FC_PEER_PORT ? FC_CLIENT_PORT : FC_PEER_PORT)) -le \
          $((65535 - (FC_INSTANCES - 1) * FC_PORT_STRIDE)) ] ||
                { fleet_config_fail "--port-stride $FC_PORT_STRIDE: ports beyond 65535"; return; }
        [ $((FC_IP_BASE + FC_INSTANCES)) -le 254 ] ||
                { fleet_config_fail "--ip-base $FC_IP_BASE leaves no room for $FC_INSTANCES addresses"; return; }
        [[ $FC_AGENT_TTL =~ ^[0-9]+(ms|s|m)?$ ]] ||
                { fleet_config_fail "--agent-ttl '$FC_AGENT_TTL': expected a duration such as 10s, 500ms, 1m"; return; }
        [[ $FC_TOKEN =~ ^[A-Za-z0-9._-]+$ ]] ||
                { fleet_config_fail "--token '$FC_TOKEN': letters, digits, '.', '_' and '-' only"; return; }
        [[ $FC_NAME_PREFIX =~ ^[a-z0-9][a-z0-9-]*$ ]] ||
                { fleet_config_fail "--name-prefix '$FC_NAME_PREFIX': not usable in a hostname"; return; }
        [[ $FC_DATA_DIR == /* ]] || { fleet_config_fail "--data-dir '$FC_DATA_DIR': must be absolute"; return; }
        if [ -n "$FC_METADATA" ]; then
                [[ $FC_METADATA =~ ^[A-Za-z0-9._-]+=[^,=!]+(,[A-Za-z0-9._-]+=[^,=!]+)*$ ]] ||
                        { fleet_config_fail "--metadata '$FC_METADATA': expected k=v[,k=v...]"; return; }
                [[ ,$FC_METADATA =~ ,(hostname|role)= ]] &&
                        { fleet_config_fail "--metadata: hostname and role are set by the index"; return; }
        fi

        local i ip
        if [ ${#FC_MEMBER_IPS[@]} -eq 0 ]; then
                [[ $FC_IP_PREFIX =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] ||
                        { fleet_config_fail "--ip-prefix '$FC_IP_PREFIX': expected three octets such as 172.17.8"; return; }
                for ((i = 1; i <= FC_INSTANCES; i++)); do
                        FC_MEMBER_IPS+=("$FC_IP_PREFIX.$((FC_IP_BASE + i))")
                done
        fi
        for ip in "${FC_MEMBER_IPS[@]}"; do
                fleet_config_check_ipv4 "$ip" || return
        done
        return 0
}

fleet_config_check_number() {   # NAME VALUE MIN MAX
        [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] ||
                fleet_config_fail "--$1 '$2': expected a number from $3 to $4"
}

fleet_config_check_ipv4() {
        local IFS=. o
        local -a octets
        read -r -a octets <<<"$1"
        [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { fleet_config_fail "'$1' is not an IPv4 address"; return; }
        for o in "${octets[@]}"; do
                [ "$((10#$o))" -le 255 ] || { fleet_config_fail "'$1' is not an IPv4 address"; return; }
        done
}

# The member's name (also the machine's hostname), address and URLs; I is 1-based.
fleet_config_name() { printf '%s%02d' "$FC_NAME_PREFIX" "$1"; }
fleet_config_ip() { printf '%s' "${FC_MEMBER_IPS[$(($1 - 1))]}"; }
fleet_config_client_url() {
        printf '%s://%s:%d' $FC_SCHEME "$(fleet_config_ip "$1")" $((FC_CLIENT_PORT + ($1 - 1) * FC_PORT_STRIDE))
}
fleet_config_peer_url() {
        printf '%s://%s:%d' $FC_SCHEME "$(fleet_config_ip "$1")" $((FC_PEER_PORT + ($1 - 1) * FC_PORT_STRIDE))
}
fleet_config_is_member() { [ "$1" -le "$FC_ETCD_MEMBERS" ]; }

fleet_config_etcd() {
        local i=$FC_INDEX j cluster= listen_client

        fleet_config_is_member "$i" ||
                { fleet_config_fail "machine $i runs no etcd member (--etcd-members $FC_ETCD_MEMBERS)"; return; }
        for ((j = 1; j <= FC_ETCD_MEMBERS; j++)); do
                cluster+="${cluster:+,}$(fleet_config_name "$j")=$(fleet_config_peer_url "$j")"
        done
        listen_client=$(fleet_config_client_url "$i")
        # Local tools (etcdctl, fleetctl without --endpoint) find the member on loopback too.
        [ "$(fleet_config_ip "$i")" = 127.0.0.1 ] ||
                listen_client+=",$FC_SCHEME://127.0.0.1:$((FC_CLIENT_PORT + (i - 1) * FC_PORT_STRIDE))"

        cat <<EOF
# /etc/default/etcd for $(fleet_config_name "$i"), member $i of a static etcd cluster of $FC_ETCD_MEMBERS.
# Generated by fleet's tools/vagrant/fleet-config.sh; read by Debian's etcd.service.
# The ETCD_INITIAL_* settings only matter on the first start: afterwards the data directory rules.
ETCD_NAME=$(fleet_config_name "$i")
ETCD_DATA_DIR=$FC_DATA_DIR
ETCD_LISTEN_PEER_URLS=$(fleet_config_peer_url "$i")
ETCD_INITIAL_ADVERTISE_PEER_URLS=$(fleet_config_peer_url "$i")
ETCD_LISTEN_CLIENT_URLS=$listen_client
ETCD_ADVERTISE_CLIENT_URLS=$(fleet_config_client_url "$i")
ETCD_INITIAL_CLUSTER=$cluster
ETCD_INITIAL_CLUSTER_STATE=$FC_ETCD_STATE
ETCD_INITIAL_CLUSTER_TOKEN=$FC_TOKEN
# A leader election within fleetd's lease renewal window: with etcd's defaults (100 ms, 1 s) one took
# up to 4.5 s on a loaded machine, past the point where an agent at agent_ttl 5 s stops its units.
# For members on one LAN; members farther apart than ~5 ms need both raised (etcd's tuning guide).
ETCD_HEARTBEAT_INTERVAL=50
ETCD_ELECTION_TIMEOUT=500
EOF
        [ $FC_SCHEME = https ] || return 0
        cat <<EOF
# TLS with client-certificate auth on the client and the peer URLs: only holders of a certificate
# of the cluster's CA (fleet-ca.sh) get in.
ETCD_TRUSTED_CA_FILE=$FC_TLS_DIR/ca.crt
ETCD_CERT_FILE=$FC_TLS_DIR/machine.crt
ETCD_KEY_FILE=$FC_TLS_DIR/machine.key
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_TRUSTED_CA_FILE=$FC_TLS_DIR/ca.crt
ETCD_PEER_CERT_FILE=$FC_TLS_DIR/machine.crt
ETCD_PEER_KEY_FILE=$FC_TLS_DIR/machine.key
ETCD_PEER_CLIENT_CERT_AUTH=true
EOF
}

fleet_config_fleet() {
        local i=$FC_INDEX j servers role=worker

        # The own member first: reads stay on the machine while it is healthy.
        servers=
        fleet_config_is_member "$i" && servers=$(fleet_config_client_url "$i")
        for ((j = 1; j <= FC_ETCD_MEMBERS; j++)); do
                [ "$j" = "$i" ] || servers+="${servers:+,}$(fleet_config_client_url "$j")"
        done
        [ "$i" != 1 ] || role=manager

        cat <<EOF
# /etc/fleet/fleet.conf for $(fleet_config_name "$i"), machine $i of $FC_INSTANCES.
# Generated by fleet's tools/vagrant/fleet-config.sh. public_ip is explicit because a Vagrant VM's
# default route leads to the NAT interface, which the other machines cannot reach.
etcd_servers=$servers
public_ip=$(fleet_config_ip "$i")
metadata=hostname=$(fleet_config_name "$i"),role=$role${FC_METADATA:+,$FC_METADATA}
agent_ttl=$FC_AGENT_TTL
EOF
        [ $FC_SCHEME = https ] || return 0
        cat <<EOF
etcd_cafile=$FC_TLS_DIR/ca.crt
etcd_certfile=$FC_TLS_DIR/machine.crt
etcd_keyfile=$FC_TLS_DIR/machine.key
EOF
}

# fleetctl on the machine, as root: FLEETCTL_* variables for /etc/profile.d.
fleet_config_fleetctl() {
        local servers

        servers=$(fleet_config_fleet | sed -n 's/^etcd_servers=//p')
        printf 'export FLEETCTL_ENDPOINT=%s\n' "$servers"
        [ $FC_SCHEME = https ] || return 0
        printf 'export FLEETCTL_CA_FILE=%s/ca.crt FLEETCTL_CERT_FILE=%s/machine.crt FLEETCTL_KEY_FILE=%s/machine.key\n' \
                "$FC_TLS_DIR" "$FC_TLS_DIR" "$FC_TLS_DIR"
}

# fleet_config_main etcd|fleet|name|ip OPTIONS...: prints the requested output; non-zero on bad options.
fleet_config_main() {
        local what=${1:-}

        [ $# -gt 0 ] && shift
        case $what in
        etcd|fleet|fleetctl|name|ip) ;;
        -h|--help) fleet_config_usage; return 0 ;;
        *) fleet_config_usage; fleet_config_fail "expected etcd, fleet, fleetctl, name or ip, got '$what'"; return ;;
        esac
        fleet_config_parse "$@" || return
        case $what in
        etcd)   fleet_config_etcd ;;
        fleet)  fleet_config_fleet ;;
        fleetctl) fleet_config_fleetctl ;;
        name)   fleet_config_name "$FC_INDEX"; echo ;;
        ip)     fleet_config_ip "$FC_INDEX"; echo ;;
        esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        set -u
        fleet_config_main "$@"
fi
