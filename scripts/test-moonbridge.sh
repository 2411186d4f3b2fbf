#!/usr/bin/env bash
# The Moonbridge server: builds build/lua51 (sockit-moonbridge and the modules), then runs
# tests/moonbridge/test_*.py: listeners, the worker pool, timeout(), signals, options and
# exit codes, and moonbridge_http against real clients (curl, Python requests, wrk).
# Every server a test starts is stopped by pid, and its workers are checked to be gone.
# Part of `make test`; the last line is "moonbridge: N passed, M failed".
#
# Environment: SOCKIT_TEST_NO_BUILD=1 (skip the build), SOCKIT_TEST_FILTER (only tests
# whose function name contains it), PYTHON (default python3).
set -uo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-python3}
logdir=build/test-moonbridge
mkdir -p "$logdir"

if [ "${SOCKIT_TEST_NO_BUILD:-0}" != 1 ]; then
    if ! sh scripts/build-lua51.sh >"$logdir/build.log" 2>&1; then
        cat "$logdir/build.log"
        echo "moonbridge: the Lua 5.1 build failed"
        echo "moonbridge: 0 passed, 1 failed"
        exit 1
    fi
fi

passed=0 failed=0
for t in tests/moonbridge/test_*.py; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .py)
    log=$logdir/$name.log
    timeout -k 10 1200 "$py" -B "$t" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=0 f=0
    if [ -n "$line" ]; then read -r p _ f _ <<<"${line//,/}"; fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "moonbridge: $t exited with status $rc without reporting a failure"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f))
done

echo "moonbridge: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
