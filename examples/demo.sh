#!/usr/bin/env bash
# Builds examples/demo.c against the sockit library and runs it (this is `make demo`).
# The demo starts an echo server on 127.0.0.1 (a port the system picks) and talks to it;
# it exits 0 only when every echo came back exactly.
#
# Environment: SOCKIT_LIBDIR (default build/lib, made by `make lib`), CC (default cc).
set -euo pipefail
cd "$(dirname "$0")/.."

libdir=$(cd "${SOCKIT_LIBDIR:-build/lib}" 2>/dev/null && pwd) ||
    { echo "demo: ${SOCKIT_LIBDIR:-build/lib} is missing; build the library first (make lib)" >&2; exit 1; }
[ -e "$libdir/libsockit.so" ] ||
    { echo "demo: $libdir/libsockit.so is missing; build the library first (make lib)" >&2; exit 1; }

mkdir -p build/examples
"${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2 -pthread -Iinclude \
    examples/demo.c -o build/examples/demo -L"$libdir" -lsockit -Wl,-rpath,"$libdir"
echo "demo: built build/examples/demo; running it"
echo
exec timeout -k 5 90 build/examples/demo
