#!/bin/sh
# Runs the Lua tests in tests/lua/ and ends with "N passed, M failed[, K skipped]";
# exits non-zero when anything failed.
#
# Which script runs where (by file name):
#   socket_*.lua       require "socket" & co. from build/lua51, under lua5.1 and luajit
#   classic_*.lua      LuaSocket 1.3b API scripts in the Lua 4.0/5.1 common subset, under
#                      build/lua51/sockit-lua51 and (when LUA4_DIR is set) sockit-lua4
#   lua40_*.lua        Lua 4.0 syntax, under sockit-lua4 only
#   diff_*.lua         differential: run once with LuaSocket 3 (the system's lua-socket)
#                      and once with sockit, under lua5.1 and luajit; stdout must match
#   dbgsocket_*.lua    require "socket" from a DEBUG=1 build, under lua5.1 and luajit
#   dbgclassic_*.lua   1.3b API under DEBUG=1 builds of sockit-lua51 and sockit-lua4
#   interp_*.lua       under build/lua51/sockit-lua51 with the modules of build/lua51
#   host_*.lua         run by examples/lua_host.c (built here against Lua 5.1)
# Every check a script makes prints "ok ..." or "not ok ..."; each one counts. A script
# that exits non-zero without a failed check counts as one failure.
#
# Environment: LUA4_DIR (a Lua 4.0 installation; without it the Lua 4.0 tests are
# skipped), SOCKIT_TEST_NO_BUILD=1 (use what is already built), SOCKIT_TEST_FILTER
# (only scripts whose name contains it), SOCKIT_TEST_VERBOSE=1 (show every check).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

out51=build/lua51
out51d=build/lua51-debug
out4=build/lua40
out4d=build/lua40-debug
filter=${SOCKIT_TEST_FILTER:-}
verbose=${SOCKIT_TEST_VERBOSE:-0}
lua4_dir=${LUA4_DIR:-}
logdir=build/test-lua
mkdir -p "$logdir"

. scripts/lua-tap.sh
passed=0
failed=0
skipped=0


if [ "${SOCKIT_TEST_NO_BUILD:-0}" != 1 ]; then
    scripts/build-lua51.sh >"$logdir/build.log" 2>&1 &&
        SOCKIT_SKIP_CARGO=1 DEBUG=1 SOCKIT_LUA51_OUT=$out51d scripts/build-lua51.sh \
            >>"$logdir/build.log" 2>&1 || {
        cat "$logdir/build.log"
        note "build of the Lua 5.1 targets failed"
        note "0 passed, 1 failed"
        exit 1
    }
    if [ -n "$lua4_dir" ]; then
        SOCKIT_SKIP_CARGO=1 scripts/build-lua4.sh "$lua4_dir" >>"$logdir/build.log" 2>&1 &&
            SOCKIT_SKIP_CARGO=1 DEBUG=1 SOCKIT_LUA4_OUT=$out4d scripts/build-lua4.sh \
                "$lua4_dir" >>"$logdir/build.log" 2>&1 || {
            cat "$logdir/build.log"
            note "build of the Lua 4.0 targets failed"
            note "0 passed, 1 failed"
            exit 1
        }
    fi
fi

have() { command -v "$1" >/dev/null 2>&1; }

# The GC tests drop 10,000 sockets at once when the descriptor limit allows it.
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SOCKIT_FD_LIMIT=$(ulimit -n)
export SOCKIT_FD_LIMIT


# run_diff <label> <script> <lua>: the script's output under LuaSocket 3 and sockit.
run_diff() {
    label=$1
    script=$2
    lua=$3
    base="$logdir/$(printf '%s' "$label" | tr -c 'A-Za-z0-9_.-' '_')"
    (unset LUA_PATH LUA_CPATH; timeout 300 "$lua" "$script") >"$base.ref" 2>&1
    rc1=$?
    LUA_PATH="$out51/?.lua;;" LUA_CPATH="$out51/?.so;;" timeout 300 "$lua" "$script" \
        >"$base.out" 2>&1
    rc2=$?
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && cmp -s "$base.ref" "$base.out"; then
        passed=$((passed + 1))
        note "ok   $label (same output as LuaSocket 3, $(wc -l <"$base.out") lines)"
    else
        failed=$((failed + 1))
        note "FAIL $label: LuaSocket 3 exited $rc1, sockit exited $rc2; diff (- LuaSocket 3, + sockit):"
        diff -u "$base.ref" "$base.out" | tail -n +3 | head -n 40 | sed 's/^/    /'
    fi
}


luas=lua5.1
if have luajit; then luas="$luas luajit"; else note "luajit not found: LuaJIT runs skipped"; fi

lua4_reason=
if [ -z "$lua4_dir" ]; then
    lua4_reason="LUA4_DIR is not set"
elif [ ! -x "$out4/sockit-lua4" ]; then
    lua4_reason="$out4/sockit-lua4 was not built"
fi
lua4_skipped=0

ref_ok=1
if ! (unset LUA_PATH LUA_CPATH; lua5.1 -e 'assert(not require("socket")._VERSION:find("sockit"))') >/dev/null 2>&1; then
    ref_ok=0
    note "LuaSocket 3 (lua-socket) is not installed: differential tests skipped"
fi
# The sockit side of a differential run must really load sockit's modules.
if ! LUA_PATH="$out51/?.lua;;" LUA_CPATH="$out51/?.so;;" lua5.1 \
    -e 'assert(require("socket")._VERSION:find("sockit"))' >/dev/null 2>&1; then
    note "FAIL: require \"socket\" with LUA_PATH/LUA_CPATH on $out51 does not load sockit"
    failed=$((failed + 1))
fi

for t in tests/lua/*.lua; do
    name=$(basename "$t")
    selected "$name" || continue
    case "$name" in
    socket_*)
        for lua in $luas; do
            LUA_PATH="$out51/?.lua;;" LUA_CPATH="$out51/?.so;;" SOCKIT_LUA="$lua" SOCKIT_EXPECT_SOCKIT=1 \
                run_tap "$lua $name" "$lua" "$t"
        done
        ;;
    dbgsocket_*)
        for lua in $luas; do
            LUA_PATH="$out51d/?.lua;;" LUA_CPATH="$out51d/?.so;;" SOCKIT_LUA="$lua" SOCKIT_EXPECT_SOCKIT=1 \
                run_tap "$lua DEBUG $name" "$lua" "$t"
        done
        ;;
    classic_*)
        SOCKIT_LUA="$out51/sockit-lua51" run_tap "sockit-lua51 $name" "$out51/sockit-lua51" "$t"
        if [ -z "$lua4_reason" ]; then
            SOCKIT_LUA="$out4/sockit-lua4" run_tap "sockit-lua4 $name" "$out4/sockit-lua4" -f "$t"
        else
            lua4_skipped=$((lua4_skipped + 1))
        fi
        ;;
    dbgclassic_*)
        SOCKIT_LUA="$out51d/sockit-lua51" run_tap "sockit-lua51 DEBUG $name" "$out51d/sockit-lua51" "$t"
        if [ -z "$lua4_reason" ]; then
            SOCKIT_LUA="$out4d/sockit-lua4" run_tap "sockit-lua4 DEBUG $name" "$out4d/sockit-lua4" -f "$t"
        else
            lua4_skipped=$((lua4_skipped + 1))
        fi
        ;;
    interp_*)
        LUA_PATH="$out51/?.lua;;" LUA_CPATH="$out51/?.so;;" SOCKIT_LUA="$out51/sockit-lua51" \
            run_tap "sockit-lua51 $name" "$out51/sockit-lua51" "$t"
        ;;
    lua40_*)
        if [ -z "$lua4_reason" ]; then
            SOCKIT_LUA="$out4/sockit-lua4" run_tap "sockit-lua4 $name" "$out4/sockit-lua4" -f "$t"
        else
            lua4_skipped=$((lua4_skipped + 1))
        fi
        ;;
    diff_*)
        for lua in $luas; do
            if [ $ref_ok = 1 ]; then
                run_diff "$lua differential $name" "$t" "$lua"
            else
                skipped=$((skipped + 1))
            fi
        done
        ;;
    host_*)
        host="$logdir/lua_host"
        if [ ! -x "$host" ] || [ examples/lua_host.c -nt "$host" ] || [ lua_glue/socketlib.c -nt "$host" ]; then
            lua51_cflags=$(pkg-config --cflags lua5.1 2>/dev/null || echo "-I/usr/include/lua5.1")
            lua51_libs=$(pkg-config --libs lua5.1 2>/dev/null || echo "-llua5.1")
            # shellcheck disable=SC2086
            if ! ${CC:-cc} -O2 -Wall -Wextra -Werror -Iinclude -Ilua_glue $lua51_cflags \
                -o "$host" examples/lua_host.c lua_glue/socketlib.c lua_glue/classic_proto.c \
                "${CARGO_TARGET_DIR:-target}/release/libsockit.a" $lua51_libs \
                -lpthread -ldl -lm >"$logdir/host-build.log" 2>&1; then
                failed=$((failed + 1))
                note "FAIL building examples/lua_host.c:"
                sed 's/^/    /' "$logdir/host-build.log"
                continue
            fi
        fi
        run_tap "lua_host $name" "$host" "$t"
        ;;
    esac
done

if [ -n "$lua4_reason" ] && [ "$lua4_skipped" -gt 0 ]; then
    note "skipped Lua 4.0 tests: $lua4_reason"
    skipped=$((skipped + lua4_skipped))
fi

if [ "$skipped" -gt 0 ]; then
    note "$passed passed, $failed failed, $skipped skipped"
else
    note "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
