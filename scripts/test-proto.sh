#!/bin/sh
# Protocol tests against real servers: builds the library, starts the test servers
# (tests/servers/launch.py: httpbin under gunicorn, pyftpdlib, aiosmtpd, the fault server)
# on 127.0.0.1, runs the Rust protocol tests and the C tests (test_http, test_ftp,
# test_smtp; also under valgrind when it is installed) with the servers' addresses in the
# environment, stops the servers, and ends with one line "N passed, M failed".
#
# Needs the Python packages of scripts/requirements-test.txt; installs nothing itself.
# Set SOCKIT_NO_VALGRIND=1 to skip the valgrind runs.
set -u
cd "$(dirname "$0")/.." || exit 2

passed=0
failed=0
add() { passed=$((passed + $1)); failed=$((failed + $2)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-proto.XXXXXX") || exit 2
env_file="$work/servers.env"
launcher=""
cleanup() {
    if [ -n "$launcher" ]; then
        kill "$launcher" 2>/dev/null
        # bounded wait for the launcher to stop its servers
        i=0
        while kill -0 "$launcher" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$launcher" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building"
if ! cargo build --release --quiet; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== starting test servers"
python3 tests/servers/launch.py --env-file "$env_file" --max-seconds 1800 \
    >"$work/servers.log" 2>&1 &
launcher=$!
i=0
while [ ! -f "$env_file" ] && [ $i -lt 600 ]; do
    if ! kill -0 "$launcher" 2>/dev/null; then break; fi
    sleep 0.1
    i=$((i + 1))
done
if [ ! -f "$env_file" ]; then
    echo "test servers did not start:"
    cat "$work/servers.log"
    echo "0 passed, 1 failed"
    exit 1
fi
set -a
. "$env_file"
set +a

echo "== Rust protocol tests (servers in the environment)"
out="$work/cargo-test.out"
cargo test --release --quiet --lib proto:: -- --test-threads=2 >"$out" 2>&1
cat "$out" | grep -v '^$' | tail -n 40
line=$(grep -E '^test result:' "$out" | tail -n 1)
if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    add "$p" "$f"
else
    add 0 1
fi

echo "== C protocol tests"
cc_flags="-Wall -Wextra -Werror -g -O1 -Iinclude -Ic_tests -pthread"
# The library under the names programs link and load (the SONAME is libsockit.so.MAJOR):
# SOCKIT_LIBDIR when the test frame made it, else links made here.
lib_dir=${SOCKIT_LIBDIR:-}
if [ -z "$lib_dir" ] || [ ! -e "$lib_dir/libsockit.so" ]; then
    major=$(sed -n 's/^version *= *"\([0-9]*\)\..*/\1/p' Cargo.toml | head -n 1)
    lib_dir="$work/lib"
    mkdir -p "$lib_dir"
    ln -sf "$PWD/target/release/libsockit.so" "$lib_dir/libsockit.so"
    ln -sf "$PWD/target/release/libsockit.so" "$lib_dir/libsockit.so.$major"
fi
for name in http ftp smtp; do
    src="c_tests/test_$name.c"
    [ -f "$src" ] || continue
    bin="$work/test_$name"
    if ! cc $cc_flags -o "$bin" "$src" -L"$lib_dir" -lsockit -Wl,-rpath,"$lib_dir"; then
        echo "$src: does not compile"
        add 0 1
        continue
    fi
    runs="plain"
    if [ -z "${SOCKIT_NO_VALGRIND:-}" ] && command -v valgrind >/dev/null 2>&1; then
        runs="plain valgrind"
    fi
    for how in $runs; do
        log="$work/test_$name.$how.log"
        if [ "$how" = valgrind ]; then
            timeout 600 valgrind -q --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite --show-leak-kinds=definite "$bin" >"$log" 2>&1
        else
            timeout 300 "$bin" >"$log" 2>&1
        fi
        rc=$?
        summary=$(grep -E ': [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
        echo "$how test_$name: ${summary#*: } (exit $rc)"
        if [ -n "$summary" ]; then
            p=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
            f=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed$/\1/')
            add "$p" "$f"
        fi
        if [ $rc -ne 0 ] && { [ -z "$summary" ] || [ "$f" = 0 ]; }; then
            # crashed, timed out, or valgrind found errors
            add 0 1
        fi
        if [ $rc -ne 0 ]; then
            tail -n 30 "$log"
        fi
    done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
