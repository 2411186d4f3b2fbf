#!/usr/bin/env bash
# HTTP client benchmark (part of `make bench`): a local nginx (Debian package) on
# 127.0.0.1, started here with its own configuration in a temporary directory, serves
#   - a 1 GiB file: downloaded by sockit into a null sink, by `curl -o /dev/null`, and by
#     LuaSocket 3's http.request with an ltn12 sink; then by sockit into a file sink, for
#     its peak memory;
#   - a small file: 2,000 GETs by sockit on one client (connection reuse) and by curl given
#     all 2,000 URLs in one invocation (which reuses its connection too).
# Prints the figures, the ratios and whether the targets hold (>= 0.9x curl, >= 3x
# LuaSocket, >= 1x curl for the small GETs, < 16 MiB peak). Best of 3 runs for the fast
# measurements. Needs nginx, curl, lua5.1 with lua-socket, a C compiler.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

for tool in nginx curl cc; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        { echo "bench/http: $tool is missing"; exit 1; }
done
# shellcheck source=bench/nginx.sh
. bench/nginx.sh

libdir=${SOCKIT_LIBDIR:-}
if [ -z "$libdir" ] || [ ! -e "$libdir/libsockit.so" ]; then
    cargo build --release --quiet || exit 1
    major=$(sed -n 's/^version *= *"\([0-9]*\)\..*/\1/p' Cargo.toml | head -n 1)
    libdir=$(mktemp -d "${TMPDIR:-/tmp}/sockit-lib.XXXXXX")
    ln -sf "$root/target/release/libsockit.so" "$libdir/libsockit.so"
    ln -sf "$root/target/release/libsockit.so" "$libdir/libsockit.so.$major"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-bench-http.XXXXXX") || exit 1
cleanup() {
    nginx_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -Wall -Wextra -Iinclude -o "$work/bench_http" bench/http/bench_http.c \
    -L"$libdir" -lsockit -Wl,-rpath,"$libdir" || exit 1

# Content: a 1 GiB file (sparse: the disk is not what is measured) and a small one.
mkdir -p "$work/www" "$work/tmp"
truncate -s 1G "$work/www/big.bin"
head -c 100 /dev/zero | tr '\0' 'x' >"$work/www/small.txt"

nginx_serve "$work" || { echo "bench/http: nginx did not start"; exit 1; }
port=$nginx_port

big="http://127.0.0.1:$port/big.bin"
small="http://127.0.0.1:$port/small.txt"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
best() { sort -g | head -n 1; }

# 1 GiB into a null sink: best of 3 each.
sockit_big=$(for _ in 1 2 3; do "$work/bench_http" download "$big" | field secs; done | best)
curl_big=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' "$big"; done | best)
lua_big=""
if command -v lua5.1 >/dev/null 2>&1 && lua5.1 -e 'require "socket.http"' 2>/dev/null; then
    lua_big=$(lua5.1 bench/http/luasocket_get.lua "$big" | field secs)
fi

# 1 GiB into a file sink: peak memory.
file_out=$("$work/bench_http" download-file "$big" "$work/out.bin")
rm -f "$work/out.bin"
peak_kb=$(echo "$file_out" | field maxrss_kb)

# 2,000 small GETs.
n=2000
sockit_many_out=$("$work/bench_http" many "$small" $n)
sockit_many=$(for _ in 1 2 3; do "$work/bench_http" many "$small" $n | field secs; done | best)
reused=$(echo "$sockit_many_out" | field reused)
for _ in $(seq 1 $n); do printf 'url = "%s"\noutput = "/dev/null"\n' "$small"; done >"$work/curl.cfg"
curl_many=$(for _ in 1 2 3; do
    t0=$(date +%s.%N); curl -s -K "$work/curl.cfg"; t1=$(date +%s.%N)
    printf '%.6f\n' "$(echo "$t1 - $t0" | bc -l)"
done | best)

gib=1073741824
ratio() { echo "scale=2; $1 / $2" | bc -l; }
mbps() { echo "scale=0; $gib / $1 / 1048576" | bc -l; }
echo "1 GiB download, null sink:"
echo "  sockit     ${sockit_big}s ($(mbps "$sockit_big") MiB/s)"
echo "  curl       ${curl_big}s ($(mbps "$curl_big") MiB/s)"
[ -n "$lua_big" ] && echo "  LuaSocket  ${lua_big}s ($(mbps "$lua_big") MiB/s)"
r_curl=$(ratio "$curl_big" "$sockit_big")
echo "  sockit / curl throughput: ${r_curl}x (target >= 0.9)"
if [ -n "$lua_big" ]; then
    r_lua=$(ratio "$lua_big" "$sockit_big")
    echo "  sockit / LuaSocket throughput: ${r_lua}x (target >= 3)"
fi
echo "1 GiB download, file sink: peak RSS $((peak_kb / 1024)) MiB (${peak_kb} KiB; target < 16 MiB)"
echo "$n small GETs:"
echo "  sockit     ${sockit_many}s (reused $reused of $n connections)"
echo "  curl       ${curl_many}s (one invocation, $n URLs)"
echo "  sockit / curl speed: $(ratio "$curl_many" "$sockit_many")x (target >= 1)"
