#!/usr/bin/env bash
# Every function declared in include/sockit.h must be called by at least one C test in
# c_tests/, so the C suite exercises the whole exported API; and every name the header
# defines (macros, types, functions) carries the sockit_ / SOCKIT_ prefix, so the header
# cannot clash with a program's own names.
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
names=$(sed -n -e 's/^#define \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' \
              -e 's/^typedef .*[ *]\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' \
              -e 's/^} \([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' include/sockit.h | sort -u)
for name in $names; do
    case "$name" in
    sockit_* | SOCKIT_*) passed=$((passed + 1)) ;;
    *)
        failed=$((failed + 1))
        echo "api-coverage: sockit.h defines $name without the sockit_/SOCKIT_ prefix"
        ;;
    esac
done
echo "api-coverage: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
