# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# etcd.sh: the few etcd v3 JSON-gateway calls the cluster tests make (curl; keys are base64).

b64() {
        printf %s "$1" | base64 -w0
}

etcd_range() {   # etcd_range URL KEY [serializable]: the raw reply
        curl -sf -m 2 "$1/v3/kv/range" \
                -d "{\"key\":\"$(b64 "$2")\"${3:+,\"serializable\":true}}"
}

etcd_get() {   # etcd_get URL KEY [serializable]: prints the value; fails if the key is absent
        local out v

        out=$(etcd_range "$@") || return 1
        case "$out" in *'"kvs"'*) ;; *) return 1 ;; esac
        v=$(printf %s "$out" | sed -n 's/.*"value":"\([^"]*\)".*/\1/p')
        printf %s "$v" | base64 -d
}

etcd_absent() {   # etcd_absent URL KEY: etcd answers, and the key is not there
        local out

        out=$(etcd_range "$@") || return 1
        case "$out" in *'"kvs"'*) return 1 ;; esac
        return 0
}

etcd_lease_of() {   # etcd_lease_of URL KEY: the lease ID the key is attached to
        etcd_range "$@" | sed -n 's/.*"lease":"\([0-9]*\)".*/\1/p' | grep .
}

etcd_put() {   # etcd_put URL KEY VALUE
        curl -sf -m 2 "$1/v3/kv/put" -d "{\"key\":\"$(b64 "$2")\",\"value\":\"$(b64 "$3")\"}" >/dev/null
}

etcd_is_leader() {   # etcd_is_leader URL: that member is the raft leader
        local out me leader

        out=$(curl -sf -m 2 "$1/v3/maintenance/status" -d '{}') || return 1
        me=$(printf %s "$out" | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')
        leader=$(printf %s "$out" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')
        [ -n "$me" ] && [ "$me" = "$leader" ]
}
