#!/bin/sh
# Builds sockit for Lua 5.1 and LuaJIT into build/lua51 (or $SOCKIT_LUA51_OUT):
#   sockit-lua51          standalone Lua 5.1 interpreter with lua_socketlibopen applied
#   sockit-moonbridge     the Moonbridge server (listen{...}, timeout(...)); it links
#                         libsockit.so.0 like the modules, so sockets pass between them
#   socket/core.so, socket/unix.so, moonbridge_io/core.so, moonbridge_http/core.so,
#   ltn12/core.so, mime/core.so, socket/proto.so, sockit/http/core.so   (C modules)
#   socket.lua, moonbridge_io.lua, moonbridge_http.lua, ltn12.lua, mime.lua,
#   socket/url.lua, sockit/http.lua                                    (Lua parts)
#   libsockit.so.0        the sockit library the C modules link to (rpath $ORIGIN/..), one
#                         copy shared by every module so that handles pass between them
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
# By default, calls into Lua go through the GOT rather than the PLT: one jump less per
# call, and a line receive makes six of them.
if [ -z "${CFLAGS+set}" ] && echo 'int x;' | $cc -fno-plt -x c -c -o /dev/null - 2>/dev/null; then
    cflags="$cflags -fno-plt"
fi
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

mkdir -p "$out/socket/url" "$out/moonbridge_io" "$out/moonbridge_http" "$out/ltn12" "$out/mime" \
    "$out/sockit/http"
# The C modules share one copy of the library (handles pass between modules); its
# SONAME is libsockit.so.0.
cp -f "$target/libsockit.so" "$out/libsockit.so.0.tmp"
mv -f "$out/libsockit.so.0.tmp" "$out/libsockit.so.0"

module() { # module <output.so> <sources...>
    so=$1
    shift
    # rpath: from the module's directory back up to $out, where libsockit.so.0 is
    up=$(dirname "$so" | sed 's|[^/][^/]*|..|g')
    # shellcheck disable=SC2086
    $cc $common -fPIC -fvisibility=hidden -shared -o "$out/$so.tmp" "$@" \
        lua_glue/sk51.c "$out/libsockit.so.0" -Wl,-rpath,"\$ORIGIN/$up"
    mv -f "$out/$so.tmp" "$out/$so"
}

module socket/core.so lua_glue/core51.c lua_glue/stream51.c lua_glue/udp51.c
module socket/unix.so lua_glue/unix51.c lua_glue/stream51.c
module moonbridge_io/core.so lua_glue/mbio51.c
module moonbridge_http/core.so lua_glue/mbhttp51.c
module ltn12/core.so lua_glue/ltn12_51.c
module mime/core.so lua_glue/mime51.c lua_glue/ltn12_51.c
# The C half of socket.url, socket.headers, socket.http, socket.ftp and socket.smtp.
module socket/proto.so lua_glue/proto51.c lua_glue/ltn12_51.c
# The C half of sockit.http (Emilua's http.socket).
module sockit/http/core.so lua_glue/http51.c

# The Lua halves of the modules, in the same layout.
(cd lua_glue/lua && find . -name '*.lua') | while read -r f; do
    mkdir -p "$out/$(dirname "$f")"
    cp -f "lua_glue/lua/$f" "$out/$f"
done

# The interpreter does not export its (static) sockit symbols, so modules it loads with
# require bind to libsockit.so.0 like under any other lua5.1.
# shellcheck disable=SC2086
$cc $common -o "$out/sockit-lua51" lua_glue/lua51_main.c lua_glue/socketlib.c \
    lua_glue/classic_proto.c "$target/libsockit.a" $LUA51_LIBS -lpthread -ldl -lm

# The Moonbridge server links the shared library the modules use (its connection
# sockets are moonbridge_io objects), found next to it or, installed, in
# ../lib/sockit/lua51.
# shellcheck disable=SC2086
$cc $common -o "$out/sockit-moonbridge.tmp" lua_glue/moonbridge_main.c lua_glue/mbserver51.c \
    lua_glue/sk51.c "$out/libsockit.so.0" -Wl,-rpath,'$ORIGIN:$ORIGIN/../lib/sockit/lua51' \
    $LUA51_LIBS -lm
mv -f "$out/sockit-moonbridge.tmp" "$out/sockit-moonbridge"

if [ "${DEBUG:-0}" = 1 ]; then echo "build-lua51: built $out (DEBUG=1)"; else echo "build-lua51: built $out"; fi
