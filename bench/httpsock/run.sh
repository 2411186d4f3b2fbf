#!/usr/bin/env bash
# The symmetric HTTP socket's benchmark (part of `make bench`), every comparison in the
# same run against a local nginx (Debian package) with one worker:
#   - server: hello-world responses over one keep-alive connection (wrk -t1 -c1):
#     examples/http_server.c (the C API) and examples/http_server.lua (sockit.http
#     under lua5.1 and LuaJIT) against nginx's `return 200`; targets >= 0.8x nginx for
#     C, >= 0.5x for Lua. Best of 3 runs of 3 s each, the servers taking turns.
#   - client: 10,000 GETs of a small file from nginx with sockit.http's write_request /
#     read_response over one connection, against LuaSocket 3's http.request (which
#     connects for each request); target >= 3x.
#   - the peak RSS of a server process that reads a 256 MiB chunked upload with
#     read_some; target < 16 MiB.
# Needs nginx, wrk, lua5.1 with lua-socket, luajit, python3, a C compiler.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

for tool in wrk cc lua5.1 python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench/httpsock: $tool is missing"; exit 1; }
done
# shellcheck source=bench/nginx.sh
. bench/nginx.sh

libdir=${SOCKIT_LIBDIR:-$root/build/lib}
[ -e "$libdir/libsockit.so" ] || { echo "bench/httpsock: build first (make lib)"; exit 1; }
sh scripts/build-lua51.sh >/dev/null || { echo "bench/httpsock: make lua51 failed"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-bench-httpsock.XXXXXX") || exit 1
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=""
    fi
}
cleanup() {
    stop_server
    nginx_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -Wall -Wextra -pthread -Iinclude examples/http_server.c -o "$work/http_server" \
    -L"$libdir" -lsockit -Wl,-rpath,"$libdir" || exit 1
export LUA_PATH="$root/build/lua51/?.lua;;" LUA_CPATH="$root/build/lua51/?.so;;"

mkdir -p "$work/www"
head -c 100 /dev/zero | tr '\0' 'x' >"$work/www/small.txt"
nginx_serve "$work" 'location = /hello { default_type text/plain; return 200 "Hello, World!\n"; }' ||
    { echo "bench/httpsock: nginx did not start"; exit 1; }

# start_server <command...>: runs a server printing "port N"; sets server_port.
start_server() {
    "$@" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    server_port=""
    for _ in $(seq 1 100); do
        server_port=$(awk '/^port /{print $2}' "$work/server.out" 2>/dev/null)
        [ -n "$server_port" ] && return 0
        sleep 0.1
    done
    echo "bench/httpsock: server $* did not start"; cat "$work/server.err"
    return 1
}

# rps <url>: requests per second of wrk -t1 -c1 over 3 s.
rps() { wrk -t1 -c1 -d3s "$1" 2>/dev/null | awk '/Requests\/sec/{print $2}'; }
best() { sort -g | tail -n 1; }

declare -A r
for name in nginx c lua51 luajit; do r[$name]=""; done
for round in 1 2 3; do
    r[nginx]="${r[nginx]} $(rps "http://127.0.0.1:$nginx_port/hello")"
    start_server "$work/http_server" && r[c]="${r[c]} $(rps "http://127.0.0.1:$server_port/")"
    stop_server
    start_server lua5.1 examples/http_server.lua && r[lua51]="${r[lua51]} $(rps "http://127.0.0.1:$server_port/")"
    stop_server
    if command -v luajit >/dev/null 2>&1; then
        start_server luajit examples/http_server.lua && r[luajit]="${r[luajit]} $(rps "http://127.0.0.1:$server_port/")"
        stop_server
    fi
done
bestof() { echo "$1" | tr ' ' '\n' | grep . | best; }
n_rps=$(bestof "${r[nginx]}")
verdict() { # verdict <ratio> <target>
    if [ "$(echo "$1 >= $2" | bc -l 2>/dev/null || python3 -c "print(int($1 >= $2))")" = 1 ]; then
        echo "ok (>= ${2}x)"
    else
        echo "MISSED (< ${2}x)"
    fi
}
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
echo "hello world over one keep-alive connection (wrk -t1 -c1, best of 3 x 3 s), requests/s:"
printf '  %-30s %10s\n' "nginx (1 worker, return 200)" "$n_rps"
for name in c lua51 luajit; do
    v=$(bestof "${r[$name]}")
    [ -n "$v" ] || continue
    case $name in c) label="sockit C server"; target=0.8 ;; lua51) label="sockit Lua server (lua5.1)"; target=0.5 ;;
        luajit) label="sockit Lua server (LuaJIT)"; target=0.5 ;; esac
    q=$(ratio "$v" "$n_rps")
    printf '  %-30s %10s  %5sx nginx  %s\n' "$label" "$v" "$q" "$(verdict "$q" "$target")"
done

# Client: 10,000 GETs.
n=10000
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
ours=$(for _ in 1 2 3; do lua5.1 bench/httpsock/client.lua sockit 127.0.0.1 "$nginx_port" /small.txt $n | field secs; done | sort -g | head -n 1)
theirs=""
if env -u LUA_PATH -u LUA_CPATH lua5.1 -e 'require "socket.http"' 2>/dev/null; then
    theirs=$(env -u LUA_PATH -u LUA_CPATH lua5.1 bench/httpsock/client.lua luasocket 127.0.0.1 "$nginx_port" /small.txt $n | field secs)
fi
echo "$n GETs of a 100-byte file from nginx:"
echo "  sockit.http, one connection     ${ours}s"
if [ -n "$theirs" ]; then
    q=$(ratio "$theirs" "$ours")
    echo "  LuaSocket 3 http.request        ${theirs}s (a connection each)"
    echo "  sockit / LuaSocket speed: ${q}x $(verdict "$q" 3)"
else
    echo "  LuaSocket 3 (lua-socket) is missing: no comparison"
fi

# Peak RSS of a server reading a 256 MiB chunked upload with read_some.
upload() { # upload <port>: prints the server's answer
    python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
piece = b"%x\r\n" % (1 << 20) + b"u" * (1 << 20) + b"\r\n"
for _ in range(256):
    s.sendall(piece)
s.sendall(b"0\r\n\r\n")
got = b""
while b"max_rss_kb=" not in got or not got.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    got += d
print(got.decode(errors="replace").split("\r\n\r\n")[-1].strip())
PY
}
echo "256 MiB chunked upload read with read_some (a fresh server process each):"
start_server "$work/http_server" && c_up=$(upload "$server_port")
stop_server
start_server lua5.1 examples/http_server.lua && l_up=$(upload "$server_port")
stop_server
for pair in "C server|$c_up" "Lua server (lua5.1)|$l_up"; do
    label=${pair%%|*}
    line=${pair#*|}
    kb=$(echo "$line" | field max_rss_kb)
    bytes=$(echo "$line" | field bytes)
    if [ -z "$kb" ] || [ "$bytes" != 268435456 ]; then
        printf '  %-22s FAILED (%s)\n' "$label" "$line"
        continue
    fi
    if [ "$kb" -lt 16384 ]; then v="ok (< 16 MiB)"; else v="MISSED (>= 16 MiB)"; fi
    printf '  %-22s peak RSS %6d KiB  %s\n' "$label" "$kb" "$v"
done
