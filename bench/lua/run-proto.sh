#!/usr/bin/env bash
# Lua pipeline and HTTP benchmarks: the same script (bench/lua/proto.lua) under Lua 5.1
# with LuaSocket 3 (Debian lua-socket, the anchor) and with sockit's modules from
# build/lua51. Rows: ltn12.pump.all of 64 MiB through mime base64 encode (into a null
# sink, a table sink, and with line wrapping chained), and http.request downloading
# 256 MiB from a local nginx on 127.0.0.1 into an ltn12 null sink and a table sink.
# Prints seconds (best of SOCKIT_BENCH_RUNS runs, default 3, the two libraries taking
# turns), the ratio LuaSocket 3 / sockit (above 1: sockit is faster) and whether the
# target holds (>= 2x on the pipelines, >= 1x on HTTP). SOCKIT_BENCH_PIPE_MIB and SOCKIT_BENCH_HTTP_MIB change the
# sizes. Needs nginx (scripts/install-deps.sh --bench) and lua5.1 with lua-socket.
set -uo pipefail
cd "$(dirname "$0")/../.."

pipe_mib=${SOCKIT_BENCH_PIPE_MIB:-64}
http_mib=${SOCKIT_BENCH_HTTP_MIB:-256}
runs=${SOCKIT_BENCH_RUNS:-3}
# shellcheck source=bench/nginx.sh
. bench/nginx.sh
if ! (unset LUA_PATH LUA_CPATH; lua5.1 -e 'require "socket.http"; require "mime"') 2>/dev/null; then
    echo "bench/lua: LuaSocket 3 (lua-socket) is not installed; nothing to compare with"
    exit 1
fi
SOCKIT_SKIP_CARGO=${SOCKIT_SKIP_CARGO:-0} bash scripts/build-lua51.sh >/dev/null || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-bench-lua.XXXXXX") || exit 1
cleanup() {
    nginx_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/www" "$work/tmp"
head -c $((http_mib * 1048576)) /dev/urandom >"$work/www/big.bin"
nginx_serve "$work" || { echo "bench/lua: nginx did not start"; exit 1; }
port=$nginx_port
url="http://127.0.0.1:$port/big.bin"

ref() { (unset LUA_PATH LUA_CPATH; lua5.1 bench/lua/proto.lua "$@"); }
ours() { LUA_PATH='build/lua51/?.lua;;' LUA_CPATH='build/lua51/?.so;;' lua5.1 bench/lua/proto.lua "$@"; }

# shellcheck source=bench/lua/rows.sh
. bench/lua/rows.sh
rows_header
row "pump ${pipe_mib} MiB base64 -> sink.null" 2 b64_null "$pipe_mib"
row "pump ${pipe_mib} MiB base64 -> sink.table" 2 b64_table "$pipe_mib"
row "pump ${pipe_mib} MiB base64 + wrap -> sink.table" 2 b64_wrap "$pipe_mib"
row "http.request ${http_mib} MiB -> sink.null" 1 http_null "$url"
row "http.request ${http_mib} MiB -> sink.table" 1 http_table "$url"
[ "$rows_failed" -eq 0 ]
