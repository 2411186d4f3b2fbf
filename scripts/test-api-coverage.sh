#!/usr/bin/env bash
# Every function declared in include/sockit.h must be called by at least one C test in
# c_tests/, so the C suite exercises the whole exported API.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
for fn in $(grep -oE '\bsockit_[a-z0-9_]+\(' include/sockit.h | tr -d '(' | sort -u); do
    if grep -qw -- "$fn" c_tests/*.c; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "api-coverage: $fn is declared in sockit.h but no C test calls it"
    fi
done
echo "api-coverage: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
