#!/usr/bin/env bash
# LTN12 / MIME benchmark (part of `make bench`): sockit's C API against LuaSocket 3 and
# GNU coreutils on the same data, ratios from one run.
#
#   1. 256 MiB of random bytes through base64 encode then decode into a null sink:
#      sockit (ltn12 pump, chunk 2048) vs LuaSocket 3 (ltn12.pump.all with
#      mime.encode/decode) vs `base64 -w0 | base64 -d` (and with base64's default wrapping).
#   2. quoted-printable encoding of the same 256 MiB: sockit vs LuaSocket 3, on the random
#      bytes and on text (base64 lines with CRLF).
#   3. Peak memory (max RSS) of sockit pumping 1 GiB from a pipe through base64 into a file.
#
# Environment: SOCKIT_LIBDIR (directory with libsockit.a; default build/lib),
# LTN12_BENCH_MIB (data size, default 256), CC (default cc).
set -euo pipefail
cd "$(dirname "$0")/../.."

libdir=${SOCKIT_LIBDIR:-build/lib}
[ -e "$libdir/libsockit.a" ] || { echo "ltn12 bench: $libdir/libsockit.a is missing; build first (make lib)" >&2; exit 1; }
mib=${LTN12_BENCH_MIB:-256}
out=build/bench/ltn12
mkdir -p "$out"
"${CC:-cc}" -O2 -Wall -Wextra -Werror -Iinclude bench/ltn12/bench_ltn12.c -o "$out/bench_ltn12" \
    "$libdir/libsockit.a" -lpthread -ldl -lm
bench=$out/bench_ltn12

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockit-ltn12-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
head -c "${mib}M" /dev/urandom >"$tmp/data.bin"
head -c $((mib * 1024 * 1024 * 3 / 4 * 76 / 78)) "$tmp/data.bin" | base64 -w 76 | sed 's/$/\r/' >"$tmp/text.txt"

have_lua=1
lua5.1 -e 'require("mime"); require("ltn12"); require("socket")' 2>/dev/null || have_lua=0
[ "$have_lua" = 1 ] || echo "ltn12 bench: lua5.1 with LuaSocket is missing: LuaSocket figures skipped"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# report LABEL SECONDS [FILE]: the time and the throughput over FILE's size (default: the data).
report() {
    local bytes
    bytes=$(stat -c %s "${3:-$tmp/data.bin}")
    printf '  %-44s %8.3f s  %8.1f MiB/s\n' "$1" "$2" \
        "$(awk -v s="$2" -v b="$bytes" 'BEGIN { print b / 1048576 / s }')"
}

echo "data: $mib MiB of random bytes; text: $(($(stat -c %s "$tmp/text.txt") >> 20)) MiB of base64 lines with CRLF"
echo "1. base64 encode + decode to a null sink"
s_b64=$("$bench" b64 "$tmp/data.bin" 2048 | field seconds)
report "sockit C API (pump, chunk 2048)" "$s_b64"
s_b64_big=$("$bench" b64 "$tmp/data.bin" 65536 | field seconds)
report "sockit C API (pump, chunk 65536)" "$s_b64_big"
t0=$(now); base64 -w0 "$tmp/data.bin" | base64 -d >/dev/null; t1=$(now)
s_core=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
report "coreutils base64 -w0 | base64 -d" "$s_core"
t0=$(now); base64 "$tmp/data.bin" | base64 -d >/dev/null; t1=$(now)
s_core_wrap=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
report "coreutils base64 | base64 -d (76 columns)" "$s_core_wrap"
if [ "$have_lua" = 1 ]; then
    s_lua_b64=$(lua5.1 bench/ltn12/luasocket_bench.lua b64 "$tmp/data.bin" | field seconds)
    report "LuaSocket 3 (ltn12.pump.all, mime)" "$s_lua_b64"
fi

echo "2. quoted-printable encode to a null sink"
s_qp=$("$bench" qp "$tmp/data.bin" 2048 | field seconds)
report "sockit C API, random bytes" "$s_qp"
s_qp_text=$("$bench" qp "$tmp/text.txt" 2048 | field seconds)
report "sockit C API, text" "$s_qp_text" "$tmp/text.txt"
if [ "$have_lua" = 1 ]; then
    s_lua_qp=$(lua5.1 bench/ltn12/luasocket_bench.lua qp "$tmp/data.bin" | field seconds)
    report "LuaSocket 3, random bytes" "$s_lua_qp"
    s_lua_qp_text=$(lua5.1 bench/ltn12/luasocket_bench.lua qp "$tmp/text.txt" | field seconds)
    report "LuaSocket 3, text" "$s_lua_qp_text" "$tmp/text.txt"
fi

echo "3. peak memory: 1 GiB from a pipe through base64 into a file sink"
line=$(for _ in $(seq $((1024 / mib))); do cat "$tmp/data.bin"; done |
    "$bench" b64file "$tmp/out.b64" 2048)
rm -f "$tmp/out.b64"
rss=$(echo "$line" | field maxrss_kib)
printf '  %-44s %8.3f s  max RSS %s KiB\n' "sockit C API (fd source, file sink)" \
    "$(echo "$line" | field seconds)" "$rss"

echo "ratios (higher is better for sockit):"
echo "  base64 vs coreutils -w0:        $(ratio "$s_core" "$s_b64")x   (target >= 1)"
echo "  base64 vs coreutils wrapped:    $(ratio "$s_core_wrap" "$s_b64")x"
if [ "$have_lua" = 1 ]; then
    echo "  base64 vs LuaSocket 3:          $(ratio "$s_lua_b64" "$s_b64")x   (target >= 5)"
    echo "  qp vs LuaSocket 3 (random):     $(ratio "$s_lua_qp" "$s_qp")x   (target >= 5)"
    echo "  qp vs LuaSocket 3 (text):       $(ratio "$s_lua_qp_text" "$s_qp_text")x"
fi
echo "  peak memory of the 1 GiB pump:  $((rss / 1024)) MiB   (target < 16)"
