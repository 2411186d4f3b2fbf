#!/usr/bin/env bash
# `make demo`: sockit end to end, servers included, nothing external to start.
#
#   1. examples/demo.c: a local echo server and a client, both made with sockit;
#   2. sockit-moonbridge runs examples/moonbridge_app.lua (a file store served by a pool
#      of forked workers), and sockit's HTTP client uploads a file to it with a progress
#      display and fetches it back: in C (examples/http_upload.c) and in Lua through
#      require "socket.http" (examples/http_upload.lua); then the server is stopped with
#      SIGTERM and its workers are checked to be gone.
#
# Exits 0 only when every step worked. Environment: SOCKIT_LIBDIR (default build/lib,
# made by `make lib`), CC (default cc), DEMO_MIB (size of the uploaded file, default 16).
set -euo pipefail
cd "$(dirname "$0")/.."

libdir=$(cd "${SOCKIT_LIBDIR:-build/lib}" 2>/dev/null && pwd) ||
    { echo "demo: ${SOCKIT_LIBDIR:-build/lib} is missing; build the library first (make lib)" >&2; exit 1; }
[ -e "$libdir/libsockit.so" ] ||
    { echo "demo: $libdir/libsockit.so is missing; build the library first (make lib)" >&2; exit 1; }
cc=${CC:-cc}

mkdir -p build/examples
"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2 -pthread -Iinclude \
    examples/demo.c -o build/examples/demo -L"$libdir" -lsockit -Wl,-rpath,"$libdir"
"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2 -Iinclude \
    examples/http_upload.c -o build/examples/http_upload -L"$libdir" -lsockit -Wl,-rpath,"$libdir"

echo "==== 1. echo: a sockit server and a sockit client (examples/demo.c)"
echo
timeout -k 5 90 build/examples/demo

echo
echo "==== 2. HTTP: sockit-moonbridge serving examples/moonbridge_app.lua"
# sockit-moonbridge needs Lua 5.1's headers; scripts/install-deps.sh brings them (as root).
if ! { [ -f /usr/include/lua5.1/lua.h ] || pkg-config --exists lua5.1 2>/dev/null; }; then
    bash scripts/install-deps.sh
fi
SOCKIT_SKIP_CARGO=1 sh scripts/build-lua51.sh >/dev/null
lua=$(command -v lua5.1 || command -v luajit || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-demo.XXXXXX")
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -INT "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/store"
build/lua51/sockit-moonbridge -l "$work/server.log" examples/moonbridge_app.lua "$work/store" &
server=$!
port=""
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on TCP 127.0.0.1 port \([0-9]*\).*/\1/p' "$work/server.log" 2>/dev/null | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
done
[ -n "$port" ] || { echo "demo: the server did not start"; cat "$work/server.log"; exit 1; }
sed 's/^/  log: /' "$work/server.log"
workers=$(pgrep -P "$server" | tr '\n' ' ')
echo "  master pid $server, workers: $workers"

mib=${DEMO_MIB:-16}
head -c $((mib * 1048576)) /dev/urandom >"$work/upload.bin"
echo
echo "  -- C: sockit_http_perform, PUT then GET of a $mib MiB file"
build/examples/http_upload "http://127.0.0.1:$port/files/from-c.bin" "$work/upload.bin"
cmp -s "$work/upload.bin" "$work/store/from-c.bin" && echo "  the server's copy is identical"

if [ -n "$lua" ]; then
    echo
    echo "  -- Lua ($(basename "$lua")): require \"socket.http\", PUT then GET of the same file"
    LUA_PATH="build/lua51/?.lua;;" LUA_CPATH="build/lua51/?.so;;" \
        "$lua" examples/http_upload.lua "http://127.0.0.1:$port/files/from-lua.bin" "$work/upload.bin"
    cmp -s "$work/upload.bin" "$work/store/from-lua.bin" && echo "  the server's copy is identical"
else
    echo "  (no lua5.1 or luajit: the Lua client is skipped)"
fi

echo
echo "  -- stopping the server (SIGTERM)"
workers=$(pgrep -P "$server" | tr '\n' ' ' || true)
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
left=""
for w in $workers; do kill -0 "$w" 2>/dev/null && left="$left $w"; done
echo "  sockit-moonbridge exited with status $status; workers left: ${left:-none}"
[ "$status" -eq 0 ] && [ -z "$left" ]
echo
echo "demo: everything worked"
