#!/usr/bin/env bash
# Builds and runs every c_tests/test_*.c twice: linked against the shared library (run
# under valgrind) and against the static library. Binaries and logs go to build/c_tests/.
#
#   c_tests/run.sh [test_name ...]     (default: every c_tests/test_*.c)
#
# Environment: SOCKIT_LIBDIR (default build/lib, made by `make lib`), CC (default cc),
# C_TESTS_JOBS (parallel jobs, default 2), C_TESTS_VALGRIND=0 (shared run without valgrind),
# C_TESTS_TIMEOUT (seconds per run, default 900).
#
# The shared and the static build of a test may run at the same time, so a test must use
# ephemeral ports (port 0) and its own temporary directories. Each run gets
# SOCKIT_C_TEST_VARIANT=shared|static in its environment.
#
# Each test program prints "<file>: N passed, M failed" (check.h). A program that exits
# non-zero without a failed check (crash, valgrind error, timeout) counts one failure.
# The last line printed is the total: "c_tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

libdir=$(cd "${SOCKIT_LIBDIR:-build/lib}" 2>/dev/null && pwd) ||
    { echo "c_tests: ${SOCKIT_LIBDIR:-build/lib} is missing; build first (make lib)" >&2; exit 1; }
cc=${CC:-cc}
jobs=${C_TESTS_JOBS:-2}
limit=${C_TESTS_TIMEOUT:-900}
out=build/c_tests
cflags=(-Wall -Wextra -Werror -g -O1 -Iinclude -Ic_tests -pthread)

for f in "$libdir/libsockit.so" "$libdir/libsockit.a"; do
    [ -e "$f" ] || { echo "c_tests: $f is missing; build first (make lib)" >&2; exit 1; }
done

if [ $# -gt 0 ]; then
    tests=()
    for t in "$@"; do t=${t##*/}; tests+=("c_tests/${t%.c}.c"); done
else
    tests=(c_tests/test_*.c)
    [ -e "${tests[0]}" ] || { echo "c_tests: 0 passed, 0 failed"; exit 0; }
fi

rm -rf "$out"
mkdir -p "$out/shared" "$out/static"

# One job: compile one test in one variant and run it. Writes <bin>.log and <bin>.rc.
run_one() {
    local variant=$1 src=$2 name bin rc
    name=$(basename "$src" .c)
    bin=$out/$variant/$name
    {
        if [ "$variant" = shared ]; then
            "$cc" "${cflags[@]}" "$src" -o "$bin" -L"$libdir" -lsockit -Wl,-rpath,"$libdir"
        else
            "$cc" "${cflags[@]}" "$src" -o "$bin" "$libdir/libsockit.a" -lpthread -ldl -lm
        fi
    } >"$bin.log" 2>&1 || { echo compile >"$bin.rc"; return 0; }
    local runner=()
    if [ "$variant" = shared ] && [ "${C_TESTS_VALGRIND:-1}" != 0 ]; then
        runner=(valgrind -q --error-exitcode=99 --leak-check=full
                --errors-for-leak-kinds=definite --show-leak-kinds=definite)
    fi
    rc=0
    SOCKIT_C_TEST_VARIANT=$variant timeout -k 10 "$limit" \
        "${runner[@]}" "./$bin" >>"$bin.log" 2>&1 </dev/null || rc=$?
    echo "$rc" >"$bin.rc"
}
export -f run_one
export out libdir cc limit
export CFLAGS_JOINED="${cflags[*]}"

# Interleave variants so that a slow valgrind run overlaps with static runs.
for src in "${tests[@]}"; do printf 'shared %s\nstatic %s\n' "$src" "$src"; done |
    xargs -P "$jobs" -L 1 bash -c 'cflags=($CFLAGS_JOINED); run_one "$0" "$1"'

passed=0
failed=0
for src in "${tests[@]}"; do
    name=$(basename "$src" .c)
    for variant in shared static; do
        bin=$out/$variant/$name
        rc=$(cat "$bin.rc" 2>/dev/null || echo missing)
        line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$bin.log" 2>/dev/null | tail -n 1 || true)
        p=0 f=0
        if [ -n "$line" ]; then read -r p _ f _ <<<"${line//,/}"; fi
        verdict=ok
        case "$rc" in
            0) [ -n "$line" ] || { verdict="no summary line"; f=$((f + 1)); } ;;
            compile) verdict="did not compile"; f=$((f + 1)) ;;
            99) verdict="valgrind found errors"; f=$((f + 1)) ;;
            124 | 137) verdict="timed out after ${limit}s"; f=$((f + 1)) ;;
            *) [ "$f" -gt 0 ] && verdict="checks failed" || { verdict="exit status $rc"; f=$((f + 1)); } ;;
        esac
        passed=$((passed + p))
        failed=$((failed + f))
        printf '  %-6s %-28s %4d passed, %d failed  %s\n' "$variant" "$name" "$p" "$f" "$verdict"
        if [ "$verdict" != ok ]; then
            echo "---- $bin.log"
            tail -n 60 "$bin.log" | sed 's/^/    /'
            echo "----"
        fi
    done
done
echo "c_tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
