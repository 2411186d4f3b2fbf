#!/bin/sh
# Lua protocol tests against real servers: builds the Lua targets, starts the test servers
# (tests/servers/launch.py: httpbin under gunicorn, pyftpdlib, aiosmtpd) on 127.0.0.1,
# runs the protocol scripts with the servers' addresses in the environment, stops the
# servers, and ends with "N passed, M failed[, K skipped]".
#
# Which script runs where (by file name):
#   tests/lua/proto_classic_*.lua  LuaSocket 1.3b globals (http_get, ftp_put, smtp_mail,
#                                  ...), Lua 4.0/5.1 common subset: under
#                                  build/lua51/sockit-lua51 and, when LUA4_DIR is set,
#                                  build/lua40/sockit-lua4
#   tests/lua/proto_*.lua (others) require "socket.http" & co. from build/lua51, under
#                                  lua5.1 and luajit
#   tests/lua40/proto_*.lua        Lua 4.0 syntax (upvalues, tag methods), sockit-lua4 only
# Every "ok ..." / "not ok ..." line counts; a script that exits non-zero without a
# failed check counts as one failure.
#
# Environment: LUA4_DIR (a Lua 4.0 installation; without it the Lua 4.0 runs are skipped
# and the summary says so), SOCKIT_TEST_NO_BUILD=1, SOCKIT_TEST_FILTER (only scripts
# whose name contains it), SOCKIT_TEST_VERBOSE=1. Needs the Python packages of
# scripts/requirements-test.txt; installs nothing itself.
set -u
cd "$(dirname "$0")/.." || exit 2

out51=build/lua51
out4=build/lua40
filter=${SOCKIT_TEST_FILTER:-}
verbose=${SOCKIT_TEST_VERBOSE:-0}
lua4_dir=${LUA4_DIR:-}
logdir=build/test-lua-proto
mkdir -p "$logdir"

tap_timeout=600
. scripts/lua-tap.sh
passed=0
failed=0
skipped=0

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-lua-proto.XXXXXX") || exit 2
env_file="$work/servers.env"
launcher=""
cleanup() {
    if [ -n "$launcher" ]; then
        kill "$launcher" 2>/dev/null
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

if [ "${SOCKIT_TEST_NO_BUILD:-0}" != 1 ]; then
    if ! sh scripts/build-lua51.sh >"$logdir/build.log" 2>&1; then
        cat "$logdir/build.log"
        echo "build of the Lua 5.1 targets failed"
        echo "0 passed, 1 failed"
        exit 1
    fi
    if [ -n "$lua4_dir" ] &&
        ! SOCKIT_SKIP_CARGO=1 sh scripts/build-lua4.sh "$lua4_dir" >>"$logdir/build.log" 2>&1; then
        cat "$logdir/build.log"
        echo "build of the Lua 4.0 interpreter failed"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

python3 tests/servers/launch.py --env-file "$env_file" --only http,ftp,smtp \
    --max-seconds 1800 >"$work/servers.log" 2>&1 &
launcher=$!
i=0
while [ ! -f "$env_file" ] && [ $i -lt 600 ]; do
    kill -0 "$launcher" 2>/dev/null || break
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




luas=lua5.1
if command -v luajit >/dev/null 2>&1; then luas="$luas luajit"; else note "luajit not found: LuaJIT runs skipped"; fi

lua4_reason=
if [ -z "$lua4_dir" ]; then
    lua4_reason="LUA4_DIR is not set"
elif [ ! -x "$out4/sockit-lua4" ]; then
    lua4_reason="$out4/sockit-lua4 was not built"
fi
lua4_skipped=0

for t in tests/lua/proto_*.lua tests/lua40/proto_*.lua; do
    [ -f "$t" ] || continue
    name=$(basename "$t")
    selected "$name" || continue
    case "$t" in
    tests/lua40/*)
        if [ -z "$lua4_reason" ]; then
            run_tap "sockit-lua4 lua40/$name" "$out4/sockit-lua4" -f "$t"
        else
            lua4_skipped=$((lua4_skipped + 1))
        fi
        ;;
    */proto_classic_*)
        run_tap "sockit-lua51 $name" "$out51/sockit-lua51" "$t"
        if [ -z "$lua4_reason" ]; then
            run_tap "sockit-lua4 $name" "$out4/sockit-lua4" -f "$t"
        else
            lua4_skipped=$((lua4_skipped + 1))
        fi
        ;;
    *)
        for lua in $luas; do
            LUA_PATH="$out51/?.lua;;" LUA_CPATH="$out51/?.so;;" SOCKIT_EXPECT_SOCKIT=1 \
                run_tap "$lua $name" "$lua" "$t"
        done
        ;;
    esac
done

if [ "$lua4_skipped" -gt 0 ]; then
    note "skipped $lua4_skipped Lua 4.0 script runs: $lua4_reason"
    skipped=$((skipped + lua4_skipped))
fi
if [ "$skipped" -gt 0 ]; then
    note "$passed passed, $failed failed, $skipped skipped"
else
    note "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
