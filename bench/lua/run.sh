#!/usr/bin/env bash
# Lua benchmarks (part of `make bench`): the same script under Lua 5.1 with LuaSocket 3
# (Debian lua-socket, the anchor) and with sockit's modules from build/lua51. Prints a
# table of seconds (best of SOCKIT_BENCH_RUNS runs each, default 3, the two libraries
# taking turns), the speed-up (LuaSocket time / sockit time; above 1 = faster) and whether
# the target holds. The sender of the receive cases always runs with LuaSocket 3.
# SOCKIT_BENCH_MIB (default 100) sets the size of the receive cases; run-proto.sh, run
# at the end, adds the ltn12/mime pipeline and http.request rows.
set -uo pipefail
cd "$(dirname "$0")/../.."

mib=${SOCKIT_BENCH_MIB:-100}
SOCKIT_SKIP_CARGO=${SOCKIT_SKIP_CARGO:-0} bash scripts/build-lua51.sh >/dev/null || exit 1
if ! (unset LUA_PATH LUA_CPATH; lua5.1 -e 'require "socket"; require "mime"') 2>/dev/null; then
    echo "bench/lua: LuaSocket 3 (lua-socket) is not installed; nothing to compare with"
    exit 0
fi
ulimit -n 4096 2>/dev/null || true

ref() { (unset LUA_PATH LUA_CPATH; lua5.1 bench/lua/bench.lua "$@"); }
ours() { LUA_PATH='build/lua51/?.lua;;' LUA_CPATH='build/lua51/?.so;;' lua5.1 bench/lua/bench.lua "$@"; }
sender="env -u LUA_PATH -u LUA_CPATH lua5.1 bench/lua/bench.lua"

runs=${SOCKIT_BENCH_RUNS:-3}
# shellcheck source=bench/lua/rows.sh
. bench/lua/rows.sh
rows_header
row "receive ${mib} MiB as lines" 2 lines "$mib" "$sender"
row "receive ${mib} MiB as *a" 1 all "$mib" "$sender"
row "receive ${mib} MiB as 8 KiB blocks" 1 blocks "$mib" "$sender"
row "select over 1,000 sockets x20000" 1 select 0 "$sender"
# copas: most of the time goes to copas's own Lua scheduler and to the kernel, the same
# for both libraries; the socket library's share is what sockit can make smaller.
if (unset LUA_PATH LUA_CPATH; lua5.1 -e 'require "copas"') 2>/dev/null; then
    row "copas echo: 1,000 clients x 100 lines" 1.5 copas 1000
else
    echo "copas (lua-copas) is not installed: no copas row (scripts/install-deps.sh --bench installs it)"
fi

# The pipeline (ltn12 + mime) and http.request rows.
bash "$(dirname "$0")/run-proto.sh" && [ "$rows_failed" -eq 0 ]
