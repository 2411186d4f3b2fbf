#!/usr/bin/env bash
# Network benchmarks (part of `make bench`): sockit's C API against plain C loops and
# against LuaSocket 3, over loopback only. Prints each round, then one table whose
# figures all come from this run:
#
#   tcp 1GiB     sockit_socket_send / sockit_socket_receive(COUNT 65536) vs write/read(2)
#   lines        10,000,000 lines of 80 bytes: sockit_socket_receive(LINE) vs read(2) +
#                memchr (the same plain sender feeds both)
#   select       1,000 idle sockets + 1 active: sockit_select and sockit_pollset_wait vs
#                LuaSocket 3's socket.select under lua5.1 (and plain poll(2) for reference)
#
# Each measurement is repeated ($BENCH_ROUNDS, default 7) with the sides alternating; the
# table gives the MEDIAN round of each side and its ratio, and the ratio of the BEST rounds
# in brackets, flagged when the best rounds miss the target although the medians meet it.
# The median leads because loopback itself is bimodal on some machines: on a 2-CPU VM,
# rounds of the same program ran at either about 1.9 or about 3.4 GB/s. In the lines
# benchmark the fast mode lifts the plain loop to about 45 M lines/s while sockit's line
# receive stays near 30 M lines/s (its cost per call is then the limit), so the best
# rounds can miss where the medians do not. Throughput ratios are sockit / plain; select ratios are LuaSocket's time per
# call / sockit's (above 1 = sockit is faster). Targets are goals, not pass/fail tests: a
# missed target is marked, but only a benchmark that cannot run makes this script fail.
#
# Environment: SOCKIT_LIBDIR (default build/lib, made by `make lib`), CC, BENCH_ROUNDS,
# BENCH_BULK_MIB (1024), BENCH_LINES (10000000), BENCH_SELECT_IDLE (1000),
# BENCH_SELECT_CALLS (5000).
set -euo pipefail
cd "$(dirname "$0")/../.."

libdir=$(cd "${SOCKIT_LIBDIR:-build/lib}" 2>/dev/null && pwd) ||
    { echo "bench/net: ${SOCKIT_LIBDIR:-build/lib} is missing; build first (make lib)" >&2; exit 1; }
[ -e "$libdir/libsockit.so" ] ||
    { echo "bench/net: $libdir/libsockit.so is missing; build first (make lib)" >&2; exit 1; }

export BENCH_ROUNDS=${BENCH_ROUNDS:-7}
bulk_mib=${BENCH_BULK_MIB:-1024}
lines=${BENCH_LINES:-10000000}
idle=${BENCH_SELECT_IDLE:-1000}
calls=${BENCH_SELECT_CALLS:-5000}

out=build/bench
mkdir -p "$out"
for prog in bench_stream bench_select holder; do
    "${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -Ibench/net \
        "bench/net/$prog.c" -o "$out/$prog" -L"$libdir" -lsockit -Wl,-rpath,"$libdir"
done

# Every socket of the select benchmark is a descriptor; the Lua side needs 1,001 of them.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 4096 2>/dev/null || true

tmp=$(mktemp -d)
holder_pid=
cleanup() {
    if [ -n "$holder_pid" ]; then kill "$holder_pid" 2>/dev/null || true; wait "$holder_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
results=$tmp/results

# Runs a benchmark program with a time limit, showing its rounds and keeping its RESULTs.
run() {
    local what=$1
    shift
    echo "-- $what"
    if ! timeout -k 10 900 "$@" >"$tmp/log" 2>&1; then
        cat "$tmp/log"
        echo "bench/net: $what failed" >&2
        return 1
    fi
    grep -v '^RESULT ' "$tmp/log" || true
    grep '^RESULT ' "$tmp/log" | cut -d' ' -f2- >>"$results"
}

: >"$results"
failed=0
run "tcp ${bulk_mib} MiB (sockit vs plain read/write)" "$out/bench_stream" bulk "$bulk_mib" || failed=1
run "$lines lines of 80 bytes (sockit line pattern vs read + memchr)" "$out/bench_stream" lines "$lines" || failed=1

"$out/holder" >"$tmp/holder" &
holder_pid=$!
port=
for _ in $(seq 50); do
    port=$(awk '$1 == "PORT" { print $2 }' "$tmp/holder" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "bench/net: the holder did not start" >&2; exit 1; }
run "select over $idle idle + 1 active sockets (sockit)" "$out/bench_select" "$port" "$idle" "$calls" || failed=1
lua_ok=0
if command -v lua5.1 >/dev/null && env -u LUA_PATH -u LUA_CPATH lua5.1 -e 'require "socket"' 2>/dev/null; then
    if run "select over $idle idle + 1 active sockets (LuaSocket 3 under lua5.1)" \
        env -u LUA_PATH -u LUA_CPATH lua5.1 bench/net/select.lua "$port" "$idle" "$calls" "$BENCH_ROUNDS"; then
        lua_ok=1
    else
        failed=1
    fi
else
    echo "-- select (LuaSocket 3): lua5.1 with lua-socket is not installed (scripts/install-deps.sh --bench)"
fi

# ----- the table ---------------------------------------------------------------------------
awk -v rounds="$BENCH_ROUNDS" -v mib="$bulk_mib" -v lines="$lines" -v idle="$idle" -v lua_ok="$lua_ok" '
    { v[$1] = $2 }
    function have(k) { return (k in v) }
    function mark(r, target) { return r >= target ? "" : "  << below target" }
    # The median leads; the best rounds are flagged too when they miss.
    function markboth(r, best, target) {
        if (r < target) return "  << below target"
        return best >= target ? "" : "  << best rounds below target"
    }
    function size(m) { return m % 1024 == 0 ? (m / 1024) "GiB" : m "MiB" }
    function count(n) { return n % 1000000 == 0 ? (n / 1000000) "M" : n }
    END {
        printf "\nsockit network benchmarks: loopback, median of %d rounds (ratio of the best rounds in brackets)\n", rounds
        if (have("bulk_sockit_median")) {
            r = v["bulk_sockit_median"] / v["bulk_plain_median"]
            b = v["bulk_sockit_best"] / v["bulk_plain_best"]
            printf "tcp %s: sockit %.2f GB/s, plain %.2f GB/s, ratio %.2f (%.2f) (target >= 0.95)%s\n",
                size(mib), v["bulk_sockit_median"], v["bulk_plain_median"], r, b, markboth(r, b, 0.95)
        }
        if (have("lines_sockit_median")) {
            r = v["lines_sockit_median"] / v["lines_plain_median"]
            b = v["lines_sockit_best"] / v["lines_plain_best"]
            printf "lines %s x 80 B: sockit %.2f M lines/s, plain %.2f M lines/s, ratio %.2f (%.2f) (target >= 0.9)%s\n",
                count(lines), v["lines_sockit_median"], v["lines_plain_median"], r, b, markboth(r, b, 0.9)
        }
        if (have("select_sockit_best")) {
            n = idle " idle + 1"
            if (lua_ok && have("select_lua_median")) {
                r = v["select_lua_median"] / v["select_sockit_median"]
                printf "select %s: sockit_select %.1f us, LuaSocket %.1f us per call, ratio %.2f (%.2f) (target >= 1)%s\n",
                    n, v["select_sockit_median"], v["select_lua_median"], r,
                    v["select_lua_best"] / v["select_sockit_best"], mark(r, 1)
                r = v["select_lua_median"] / v["select_pollset_median"]
                printf "pollset %s: sockit_pollset_wait %.1f us, LuaSocket %.1f us per call, ratio %.2f (%.2f) (target >= 1)%s\n",
                    n, v["select_pollset_median"], v["select_lua_median"], r,
                    v["select_lua_best"] / v["select_pollset_best"], mark(r, 1)
            } else {
                printf "select %s: sockit_select %.1f us, sockit_pollset_wait %.1f us per call; LuaSocket not measured\n",
                    n, v["select_sockit_median"], v["select_pollset_median"]
            }
            printf "  (reference: plain poll(2) on the same descriptors %.1f us per call)\n", v["select_poll_median"]
        }
    }' "$results"

exit "$failed"
