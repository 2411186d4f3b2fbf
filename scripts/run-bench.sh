#!/usr/bin/env bash
# Runs every bench/*/run.sh (this is `make bench`) from the repository root with the
# release library built, printing each one's output. Benchmarks report figures and
# ratios; they are not pass/fail tests, but a benchmark that exits non-zero makes
# `make bench` fail after the others have run.
set -uo pipefail
cd "$(dirname "$0")/.."
export SOCKIT_LIBDIR=${SOCKIT_LIBDIR:-$(pwd)/build/lib}

shopt -s nullglob
benches=(bench/*/run.sh)
if [ ${#benches[@]} -eq 0 ]; then
    echo "make bench: no benchmarks yet (no bench/*/run.sh)"
    exit 0
fi
failed=()
for b in "${benches[@]}"; do
    echo "==== ${b%/run.sh}"
    t0=$(date +%s)
    if bash "$b"; then :; else failed+=("$b"); fi
    echo "==== ${b%/run.sh}: $(($(date +%s) - t0))s"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "make bench: failed: ${failed[*]}" >&2
    exit 1
fi
