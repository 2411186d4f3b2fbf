#!/usr/bin/env bash
# FFI from Python: runs examples/python/test_sockit.py (sockit through ctypes: TCP echo
# with sockit on both sides and against Python's own sockets, partial data on timeout and
# close, select, bad arguments, closed and freed handles) and the echo example.
# Part of `make test`; the last line is "python: N passed, M failed".
#
# Environment: SOCKIT_LIBDIR (default build/lib, made by `make lib`), PYTHON (default python3).
set -uo pipefail
cd "$(dirname "$0")/.."

export SOCKIT_LIBDIR=$(cd "${SOCKIT_LIBDIR:-build/lib}" 2>/dev/null && pwd)
py=${PYTHON:-python3}
if [ -z "$SOCKIT_LIBDIR" ] || [ ! -e "$SOCKIT_LIBDIR/libsockit.so" ]; then
    echo "test-python: libsockit.so not found; build it first (make lib)"
    echo "python: 0 passed, 1 failed"
    exit 1
fi
if ! command -v "$py" >/dev/null; then
    echo "test-python: $py not found"
    echo "python: 0 passed, 1 failed"
    exit 1
fi

passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The unit tests print their own "N passed, M failed"; add their counts.
timeout -k 5 300 "$py" -B examples/python/test_sockit.py 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -n "$line" ]; then
    read -r p _ f _ <<<"${line//,/}"
    passed=$((passed + p)) failed=$((failed + f))
fi
if [ "$rc" -ne 0 ] && { [ -z "$line" ] || [ "${f:-0}" -eq 0 ]; }; then
    echo "test-python: test_sockit.py exited with status $rc without reporting a failure"
    failed=$((failed + 1))
fi

# The echo example, run as a user would run it.
if timeout -k 5 60 "$py" -B examples/python/echo.py "first line" "second line" >"$log" 2>&1 &&
    grep -q "every line came back unchanged" "$log"; then
    echo "  ok    examples/python/echo.py"
    passed=$((passed + 1))
else
    echo "  FAIL  examples/python/echo.py"
    sed 's/^/      /' "$log"
    failed=$((failed + 1))
fi

echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
