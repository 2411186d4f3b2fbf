#!/usr/bin/env bash
# Runs every sockit test suite (this is `make test`):
#   0. scripts/install-deps.sh (installs missing test dependencies; SOCKIT_SKIP_DEPS=1 skips)
#   1. builds the release library once (cargo build --release)
#   2. rust     cargo test --release (unit tests, header drift test, doc tests)
#   3. c        c_tests/run.sh (every c_tests/test_*.c, shared under valgrind + static)
#   4. every scripts/test-*.sh, in name order (install/pkg-config, Python, Lua, ...)
#
# A suite script is run from the repository root with the library built, with
# SOCKIT_LIBDIR set to the directory holding libsockit.so and libsockit.a. It prints, as its
# last line matching the pattern, "N passed, M failed" or "N passed, M failed, K skipped"
# (anything may come before it on that line), and exits non-zero when something failed.
# A suite that cannot run at all (say Lua 4.0 without LUA4_DIR) reports skipped items and
# says why. A suite that exits non-zero without reporting a failure counts one failure.
#
#   scripts/run-tests.sh [suite ...]   suites: rust, c, or a script name (test-install)
#
# The last line of the output is the total: "N passed, M failed" plus ", K skipped" when
# something was skipped. The exit status is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export SOCKIT_LIBDIR=${SOCKIT_LIBDIR:-$root/build/lib}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
logdir=build/test-logs
mkdir -p "$logdir"

total_p=0 total_f=0 total_s=0
report=()
start_all=$(date +%s)

# Adds the counts from a suite's log ($2) and exit status ($3) to the totals.
tally() {
    local name=$1 log=$2 rc=$3 secs=$4 line p=0 f=0 s=0
    line=$(grep -oE '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' "$log" | tail -n 1 || true)
    if [ -n "$line" ]; then read -r p _ f _ s _ <<<"${line//,/}"; fi
    s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
    report+=("$(printf '%-22s %5d passed, %3d failed, %3d skipped  %4ds%s' "$name" "$p" "$f" "$s" "$secs" \
        "$([ "$rc" -ne 0 ] && echo "  (exit status $rc)")")")
}

# Runs one suite command with its output shown and logged.
suite() {
    local name=$1
    shift
    local log=$logdir/$name.log t0 rc
    echo
    echo "==== $name: $*"
    t0=$(date +%s)
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    tally "$name" "$log" "$rc" $(($(date +%s) - t0))
}

# Cargo prints one "test result:" line per test binary; sum them into one summary line.
rust_suite() {
    local log=$logdir/rust.raw rc
    cargo test --release --no-fail-fast 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    awk '/^test result:/ {
            for (i = 1; i <= NF; i++) {
                if ($(i) ~ /^passed;?$/) p += $(i - 1)
                if ($(i) ~ /^failed;?$/) f += $(i - 1)
                if ($(i) ~ /^ignored;?$/) s += $(i - 1)
            }
         }
         END { printf "rust: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
    return "$rc"
}

selected() {
    [ ${#wanted[@]} -eq 0 ] && return 0
    local w
    for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}
wanted=("$@")

if [ "${SOCKIT_SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install-deps.sh || { echo "make test: test dependencies are missing (see above)"; echo "0 passed, 1 failed"; exit 1; }
fi

echo "==== build: make lib (cargo build --release)"
t0=$(date +%s)
if ! make --no-print-directory lib; then
    echo "make test: the library does not build"
    echo "0 passed, 1 failed"
    exit 1
fi
build_secs=$(($(date +%s) - t0))

selected rust && suite rust rust_suite
selected c && suite c bash c_tests/run.sh
for script in scripts/test-*.sh; do
    [ -e "$script" ] || continue
    name=$(basename "$script" .sh)
    selected "$name" && suite "$name" bash "$script"
done

echo
echo "==== summary (build ${build_secs}s, total $(($(date +%s) - start_all))s)"
for r in "${report[@]}"; do echo "  $r"; done
summary="$total_p passed, $total_f failed"
[ "$total_s" -gt 0 ] && summary="$summary, $total_s skipped"
echo "$summary"
[ "$total_f" -eq 0 ]
