#!/bin/sh
# Real Lua libraries written for LuaSocket, run unchanged over sockit's modules:
# tests/lua/lib_*.lua under lua5.1 and luajit with LUA_PATH/LUA_CPATH on build/lua51 (so
# that require "socket" finds sockit first and copas, LuaSec and redis-lua come from the
# system). Each script first checks that the modules it uses are sockit's.
#
# Servers, started here on 127.0.0.1 and stopped by their pids at the end:
#   - tests/servers/https_server.py with a self-signed certificate made with openssl
#     (SOCKIT_TLS_PORT, SOCKIT_TLS_CERT), for lib_luasec.lua;
#   - redis-server on a free port, without persistence (SOCKIT_REDIS_PORT), for
#     lib_redis.lua.
# Ends with "N passed, M failed[, K skipped]". Environment: SOCKIT_TEST_NO_BUILD=1,
# SOCKIT_TEST_FILTER (only scripts whose name contains it), SOCKIT_TEST_VERBOSE=1.
set -u
cd "$(dirname "$0")/.." || exit 2

out51=build/lua51
filter=${SOCKIT_TEST_FILTER:-}
verbose=${SOCKIT_TEST_VERBOSE:-0}
logdir=build/test-lua-libs
mkdir -p "$logdir"
. scripts/lua-tap.sh
passed=0
failed=0
skipped=0

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-lua-libs.XXXXXX") || exit 2
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null; done
    for pid in $pids; do
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${SOCKIT_TEST_NO_BUILD:-0}" != 1 ]; then
    if ! sh scripts/build-lua51.sh >"$logdir/build.log" 2>&1; then
        cat "$logdir/build.log"
        note "build of the Lua 5.1 targets failed"
        note "0 passed, 1 failed"
        exit 1
    fi
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The TLS server, with a certificate made for this run.
tls_ok=0
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 2 -subj /CN=localhost >"$work/openssl.log" 2>&1; then
    python3 tests/servers/https_server.py --cert "$work/cert.pem" --key "$work/key.pem" \
        --port-file "$work/tls.port" --max-seconds 900 >"$work/tls.log" 2>&1 &
    pids="$pids $!"
    i=0
    while [ ! -s "$work/tls.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if [ -s "$work/tls.port" ]; then
        tls_ok=1
        SOCKIT_TLS_PORT=$(cat "$work/tls.port")
        SOCKIT_TLS_CERT=$work/cert.pem
        export SOCKIT_TLS_PORT SOCKIT_TLS_CERT
    else
        note "the TLS test server did not start:"
        cat "$work/tls.log"
    fi
else
    note "openssl could not make a certificate:"
    cat "$work/openssl.log"
fi

# redis-server on a free port (a port taken in between makes it exit; one retry).
redis_ok=0
if command -v redis-server >/dev/null 2>&1; then
    for attempt in 1 2; do
        SOCKIT_REDIS_PORT=$(free_port)
        mkdir -p "$work/redis"
        redis-server --port "$SOCKIT_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$work/redis" --daemonize no >"$work/redis.log" 2>&1 &
        rpid=$!
        pids="$pids $rpid"
        i=0
        while [ $i -lt 100 ]; do
            if ! kill -0 "$rpid" 2>/dev/null; then break; fi
            if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
                "$SOCKIT_REDIS_PORT" 2>/dev/null; then
                redis_ok=1
                break
            fi
            sleep 0.1
            i=$((i + 1))
        done
        [ $redis_ok = 1 ] && break
    done
    export SOCKIT_REDIS_PORT
    [ $redis_ok = 1 ] || { note "redis-server did not start:"; cat "$work/redis.log"; }
else
    note "redis-server is not installed (scripts/install-deps.sh installs it)"
fi



luas=lua5.1
if command -v luajit >/dev/null 2>&1; then luas="$luas luajit"; else note "luajit not found: LuaJIT runs skipped"; fi

for t in tests/lua/lib_*.lua; do
    [ -f "$t" ] || continue
    name=$(basename "$t")
    selected "$name" || continue
    for lua in $luas; do
        case "$name" in
        lib_luasec.lua) [ $tls_ok = 1 ] || { failed=$((failed + 1)); note "FAIL $lua $name: no TLS server"; continue; } ;;
        lib_redis.lua) [ $redis_ok = 1 ] || { failed=$((failed + 1)); note "FAIL $lua $name: no redis-server"; continue; } ;;
        esac
        LUA_PATH="$out51/?.lua;;" LUA_CPATH="$out51/?.so;;" run_tap "$lua $name" "$lua" "$t"
    done
done

if [ "$skipped" -gt 0 ]; then
    note "$passed passed, $failed failed, $skipped skipped"
else
    note "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
