#!/usr/bin/env bash
# The Moonbridge server benchmark (part of `make bench`):
#   - hello world over keep-alive, `wrk -t2 -c64 -d5s`: sockit-moonbridge with 2 workers
#     (tests/moonbridge/http_app.lua's /hello) against Debian's lua-http server (cqueues)
#     running the same handler, target >= 2x; and the ratio to nginx with 2 workers;
#   - a 1 GiB multipart upload (curl -F of a sparse file) streamed through
#     stream_post_param: the worker's peak RSS, target < 32 MiB.
# Best of 3 runs per side, the sides taking turns. Needs wrk, curl, nginx, lua5.1 with
# lua-http (scripts/install-deps.sh --bench) and build/lua51 (made here).
set -uo pipefail
cd "$(dirname "$0")/../.."

for tool in wrk curl lua5.1; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench/moonbridge: $tool is missing"; exit 1; }
done
env -u LUA_PATH -u LUA_CPATH lua5.1 -e 'require "http.server"' 2>/dev/null ||
    { echo "bench/moonbridge: lua-http is missing (scripts/install-deps.sh --bench)"; exit 1; }
sh scripts/build-lua51.sh >/dev/null || exit 1
# shellcheck source=bench/nginx.sh
. bench/nginx.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-bench-mb.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    nginx_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts sockit-moonbridge with http_app.lua and the given arguments; sets mb_pid, mb_port.
mb_start() {
    local log=$work/mb-$RANDOM.log
    build/lua51/sockit-moonbridge -s tests/moonbridge/http_app.lua "$@" >"$log" 2>&1 &
    mb_pid=$!
    pids+=("$mb_pid")
    mb_port=""
    for _ in $(seq 1 200); do
        mb_port=$(sed -n 's/.*listening on TCP 127.0.0.1 port \([0-9]*\).*/\1/p' "$log" | head -n 1)
        [ -n "$mb_port" ] && grep -q "worker .* is idle" "$log" && break
        sleep 0.05
    done
    mb_log=$log
}
mb_stop() {
    kill -TERM "$mb_pid" 2>/dev/null
    wait "$mb_pid" 2>/dev/null
}

# Requests/sec of one wrk run against URL.
rps() {
    wrk -t2 -c64 -d5s "$1" 2>/dev/null | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}
best() { # best of the numbers given
    printf '%s\n' "$@" | sort -g | tail -n 1
}

mb_start min_fork=2 max_fork=2 pre_fork=0
lh_log=$work/luahttp.log
env -u LUA_PATH -u LUA_CPATH lua5.1 bench/moonbridge/lua_http_hello.lua 0 >"$lh_log" 2>&1 &
lh_pid=$!
pids+=("$lh_pid")
lh_port=""
for _ in $(seq 1 400); do
    lh_port=$(sed -n 's/^listening on \([0-9]*\)/\1/p' "$lh_log")
    [ -n "$lh_port" ] && break
    sleep 0.05
done
nginx_serve "$work/nginx" 'location = /hello { default_type text/plain; return 200 "Hello, World!\n"; }' 2 || exit 1
[ -n "$mb_port" ] && [ -n "$lh_port" ] || { echo "bench/moonbridge: a server did not start"; cat "$lh_log"; exit 1; }

s=() l=() n=()
for round in 1 2 3; do
    s+=("$(rps "http://127.0.0.1:$mb_port/hello")")
    l+=("$(rps "http://127.0.0.1:$lh_port/hello")")
    n+=("$(rps "http://127.0.0.1:$nginx_port/hello")")
    echo "  round $round: sockit-moonbridge ${s[-1]} req/s, lua-http ${l[-1]} req/s, nginx ${n[-1]} req/s"
done
sb=$(best "${s[@]}") lb=$(best "${l[@]}") nb=$(best "${n[@]}")
mb_stop
kill -TERM "$lh_pid" 2>/dev/null
nginx_stop
ratio=$(echo "scale=2; $sb / $lb" | bc)
nratio=$(echo "scale=2; $sb / $nb" | bc)
verdict=$(echo "$ratio >= 2" | bc)
printf '%-58s %10s req/s\n' "hello world, wrk -t2 -c64 -d5s: sockit-moonbridge (2 workers)" "$sb"
printf '%-58s %10s req/s\n' "  lua-http (cqueues), same handler" "$lb"
printf '%-58s %10s req/s\n' "  nginx, 2 workers" "$nb"
echo "  ratio to lua-http: ${ratio}x (target >= 2x: $([ "$verdict" = 1 ] && echo met || echo NOT met))"
echo "  ratio to nginx: ${nratio}x"

# 1 GiB multipart upload through stream_post_param.
mb_start min_fork=1 max_fork=1 http.request_body_size_limit=2000000000
truncate -s 1G "$work/gig"
t0=$(date +%s.%N)
out=$(curl -sS -F "file=@$work/gig;type=application/octet-stream" "http://127.0.0.1:$mb_port/upload")
t1=$(date +%s.%N)
rm -f "$work/gig"
mb_stop
size=$(printf '%s\n' "$out" | sed -n 's/^file1=[^|]*|[^|]*|[^|]*|\([0-9]*\)|.*/\1/p')
kib=$(printf '%s\n' "$out" | sed -n 's/^peak_rss_kib=\([0-9]*\)/\1/p')
[ "$size" = 1073741824 ] || { echo "bench/moonbridge: the upload did not arrive whole: $out"; exit 1; }
mib=$(echo "scale=1; $kib / 1024" | bc)
secs=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
echo "1 GiB multipart upload (stream_post_param): ${secs} s, worker peak RSS ${mib} MiB (target < 32 MiB: $([ "$kib" -lt 32768 ] && echo met || echo NOT met))"
