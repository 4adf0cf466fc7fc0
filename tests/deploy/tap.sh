# tap.sh: TAP output for the deploy tests' shell scripts (sourced). The plan goes last.

TAP_COUNT=0
TAP_FAILED=0

ok() {          # ok STATUS NAME: one test point; STATUS 0 passes
        local status=$1
        shift
        TAP_COUNT=$((TAP_COUNT + 1))
        if [ "$status" -eq 0 ]; then
                echo "ok $TAP_COUNT - $*"
        else
                TAP_FAILED=$((TAP_FAILED + 1))
                echo "not ok $TAP_COUNT - $*"
        fi
        return "$status"
}

diag() {        # diag TEXT...: each line as a TAP comment
        printf '%s\n' "$@" | sed 's/^/# /'
}

skip_all() {
        echo "1..0 # SKIP $*"
        exit 0
}

done_testing() {
        echo "1..$TAP_COUNT"
        [ "$TAP_FAILED" -eq 0 ]
}
