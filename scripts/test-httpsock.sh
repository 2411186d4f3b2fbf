#!/bin/sh
# The symmetric HTTP socket against real peers (tests/httpsock/peers.py): the C and Lua
# servers of examples/http_server.{c,lua} answering h11, curl, Python http.client and
# requests, wrk, ab, the smuggling and limit cases and a 256 MiB chunked upload; sockit
# as a client against an h11 server, nginx, httpbin under gunicorn and the fault server.
# Builds what it runs (build/lua51, build/examples/http_server) and ends with one line
# "N passed, M failed".
#
# Needs curl, wrk, ab, nginx (Debian) and h11, requests, httpbin, gunicorn (PyPI), which
# scripts/install-deps.sh installs. SOCKIT_HTTPSOCK_QUICK=1 uploads 16 MiB instead of 256.
set -u
cd "$(dirname "$0")/.." || exit 2

echo "== building"
if ! sh scripts/build-lua51.sh >/dev/null; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
lib_dir=$(cd "${SOCKIT_LIBDIR:-build/lib}" 2>/dev/null && pwd)
if [ -z "$lib_dir" ] || [ ! -e "$lib_dir/libsockit.so" ]; then
    echo "${SOCKIT_LIBDIR:-build/lib}/libsockit.so is missing: make lib first"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p build/examples
if ! cc -O2 -Wall -Wextra -Werror -pthread -Iinclude examples/http_server.c \
    -o build/examples/http_server -L"$lib_dir" -lsockit -Wl,-rpath,"$lib_dir"; then
    echo "examples/http_server.c does not compile"
    echo "0 passed, 1 failed"
    exit 1
fi

quick=""
[ "${SOCKIT_HTTPSOCK_QUICK:-0}" = 1 ] && quick=--quick
echo "== peers"
timeout -k 10 900 python3 tests/httpsock/peers.py $quick
