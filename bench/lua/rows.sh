# bench/lua/rows.sh: the table rows of the Lua benchmarks, sourced by run.sh and
# run-proto.sh. The sourcing script defines `ref` and `ours` (its Lua script under
# LuaSocket 3 and under sockit; each prints "<case> <seconds>") and sets `runs`.

rows_failed=0

rows_header() {
    printf '%-44s %12s %12s %9s %s\n' "case" "LuaSocket 3" "sockit" "speed-up" "target"
}

# The smaller of two times ("" is none; a missing new time keeps the old one).
min_time() {
    if [ -z "$2" ]; then
        echo "$1"
    elif [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then
        echo "$2"
    else
        echo "$1"
    fi
}

# row <label> <target> <args...>: `ref args` and `ours args` $runs times each, taking
# turns; prints the best time of each, the speed-up (LuaSocket time / sockit time) and
# whether it reaches the target. A run that prints no time fails the row.
row() {
    local label=$1 target=$2 a="" b="" ta tb ok=1 ratio verdict
    shift 2
    for _ in $(seq 1 "$runs"); do
        ta=$(ref "$@" | awk '{print $2}')
        tb=$(ours "$@" | awk '{print $2}')
        [ -n "$ta" ] && [ -n "$tb" ] || ok=0
        a=$(min_time "$a" "$ta")
        b=$(min_time "$b" "$tb")
    done
    if [ $ok = 0 ] || [ -z "$a" ] || [ -z "$b" ]; then
        printf '%-44s %12s %12s %9s %s\n' "$label" "${a:-failed}" "${b:-failed}" "-" "FAILED"
        rows_failed=$((rows_failed + 1))
        return
    fi
    ratio=$(echo "$a / $b" | bc -l)
    if [ "$(echo "$ratio >= $target" | bc -l)" = 1 ]; then
        verdict="ok (>= ${target}x)"
    else
        verdict="MISSED (< ${target}x)"
    fi
    printf '%-44s %11ss %11ss %8.2fx %s\n' "$label" "$a" "$b" "$ratio" "$verdict"
}
