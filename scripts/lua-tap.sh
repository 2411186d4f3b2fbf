# scripts/lua-tap.sh: sourced by the Lua suites (test-lua.sh, test-lua-proto.sh,
# test-lua-libs.sh). They set logdir, verbose, filter and the counters passed/failed;
# this file gives them:
#   note <text...>              prints a line
#   run_tap <label> <cmd...>    runs one script (at most $tap_timeout seconds, default
#                               300) with its output in $logdir; every "ok ..." and
#                               "not ok ..." line counts, and a script that exits
#                               non-zero without a failed check counts one failure
#   selected <name>             true when $filter is empty or <name> contains it

note() { printf '%s\n' "$*"; }

run_tap() {
    label=$1
    shift
    log="$logdir/$(printf '%s' "$label" | tr -c 'A-Za-z0-9_.-' '_').log"
    timeout "${tap_timeout:-300}" "$@" >"$log" 2>&1
    rc=$?
    ok=$(grep -c '^ok ' "$log")
    bad=$(grep -c '^not ok ' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$bad" -eq 0 ] && [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        note "FAIL $label: exited with status $rc after $ok checks"
        tail -n 15 "$log" | sed 's/^/    /'
    elif [ "$bad" -ne 0 ]; then
        note "FAIL $label: $bad of $((ok + bad)) checks failed"
        grep '^not ok ' "$log" | sed 's/^/    /'
        grep -v '^ok \|^not ok \|^#' "$log" | tail -n 10 | sed 's/^/    /'
    else
        note "ok   $label ($ok checks)"
        [ "$verbose" = 1 ] && sed 's/^/    /' "$log"
    fi
    return 0
}

selected() { [ -z "$filter" ] || case "$1" in *"$filter"*) return 0 ;; *) return 1 ;; esac; }
