#!/bin/sh
# Builds sockit for Lua 5.1 and LuaJIT into build/lua51 (or $SOCKIT_LUA51_OUT):
#   sockit-lua51          standalone Lua 5.1 interpreter with lua_socketlibopen applied
#   socket/core.so, socket/unix.so, moonbridge_io/core.so (C modules)
#   socket.lua, moonbridge_io.lua, ... (Lua parts of the modules)
#   libsockit.so.0        the sockit library the C modules link to (rpath $ORIGIN/..)
# so that  LUA_PATH='build/lua51/?.lua;;' LUA_CPATH='build/lua51/?.so;;' lua5.1 -e 'require "socket"'
# loads sockit's implementation. The interpreter links libsockit.a statically.
#
# Environment: DEBUG=1 builds LuaSocket's debug mode (socket._DEBUG = true, send/receive
# return the elapsed seconds as an extra last value). CC, CFLAGS, LUA51_CFLAGS,
# LUA51_LIBS override the compiler and Lua 5.1 flags; CARGO (default cargo) builds the
# library unless SOCKIT_SKIP_CARGO=1; CARGO_TARGET_DIR is honoured.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${SOCKIT_LUA51_OUT:-build/lua51}
cc=${CC:-cc}
cflags=${CFLAGS:--O2 -g}
target=${CARGO_TARGET_DIR:-target}/release

if [ -z "${LUA51_CFLAGS+set}" ]; then
    LUA51_CFLAGS=$(pkg-config --cflags lua5.1 2>/dev/null || echo "-I/usr/include/lua5.1")
fi
if [ -z "${LUA51_LIBS+set}" ]; then
    LUA51_LIBS=$(pkg-config --libs lua5.1 2>/dev/null || echo "-llua5.1")
fi

debug_flag=
if [ "${DEBUG:-0}" = 1 ]; then
    debug_flag=-DSOCKIT_LUA_DEBUG=1
fi

if [ "${SOCKIT_SKIP_CARGO:-0}" != 1 ]; then
    ${CARGO:-cargo} build --release --quiet
fi
for f in "$target/libsockit.so" "$target/libsockit.a"; do
    [ -f "$f" ] || { echo "build-lua51: $f is missing (cargo build --release)" >&2; exit 1; }
done

warn="-Wall -Wextra -Wno-unused-parameter"
common="$cflags $warn $debug_flag -Iinclude -Ilua_glue $LUA51_CFLAGS"

mkdir -p "$out/socket" "$out/moonbridge_io"
# The C modules share one copy of the library (handles pass between modules); its
# SONAME is libsockit.so.0.
cp -f "$target/libsockit.so" "$out/libsockit.so.0.tmp"
mv -f "$out/libsockit.so.0.tmp" "$out/libsockit.so.0"

module() { # module <output.so> <sources...>
    so=$1
    shift
    # shellcheck disable=SC2086
    $cc $common -fPIC -shared -o "$out/$so" "$@" "$out/libsockit.so.0" \
        -Wl,-rpath,'$ORIGIN/..'
}

# C modules: added as the C API areas they wrap land.

# ---- lua-proto: ltn12.core, mime.core, socket.proto and their Lua halves ----
mkdir -p "$out/ltn12" "$out/mime" "$out/socket"
module ltn12/core.so lua_glue/ltn12_51.c
module mime/core.so lua_glue/mime51.c lua_glue/ltn12_51.c
module socket/proto.so lua_glue/proto51.c lua_glue/ltn12_51.c
for f in ltn12.lua mime.lua socket/url.lua socket/headers.lua socket/http.lua socket/ftp.lua \
    socket/smtp.lua socket/tp.lua; do
    [ -f "lua_glue/lua/$f" ] && cp -f "lua_glue/lua/$f" "$out/$f"
done
# ---- end lua-proto ----

# shellcheck disable=SC2086
$cc $common -o "$out/sockit-lua51" lua_glue/lua51_main.c lua_glue/socketlib.c \
    "$target/libsockit.a" $LUA51_LIBS -lpthread -ldl -lm -Wl,-E

if [ "${DEBUG:-0}" = 1 ]; then echo "build-lua51: built $out (DEBUG=1)"; else echo "build-lua51: built $out"; fi
