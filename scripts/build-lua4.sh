#!/bin/sh
# Builds build/lua40/sockit-lua4 (or $SOCKIT_LUA4_OUT/sockit-lua4): a Lua 4.0 standalone
# interpreter (like Lua 4.0's lua: base, io, string, math and debug libraries) with
# lua_socketlibopen applied, linked statically with libsockit.a.
#
# LUA4_DIR (environment or first argument) holds include/ (lua.h, lualib.h, lauxlib.h,
# luadebug.h) and lib/ (liblua.a, liblualib.a), the layout Lua 4.0's own build makes.
# DEBUG=1 builds LuaSocket's debug mode (send/receive return the elapsed seconds as an
# extra last value). CC, CFLAGS, CARGO, SOCKIT_SKIP_CARGO=1, CARGO_TARGET_DIR as in
# build-lua51.sh.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lua4=${1:-${LUA4_DIR:-}}
if [ -z "$lua4" ]; then
    echo "build-lua4: set LUA4_DIR to a Lua 4.0 installation (include/ and lib/)" >&2
    exit 2
fi
for f in include/lua.h include/lualib.h include/lauxlib.h lib/liblua.a lib/liblualib.a; do
    [ -f "$lua4/$f" ] || { echo "build-lua4: $lua4/$f is missing" >&2; exit 2; }
done
if ! grep -q '"Lua 4\.0' "$lua4/include/lua.h"; then
    echo "build-lua4: $lua4/include/lua.h is not Lua 4.0's" >&2
    exit 2
fi

out=${SOCKIT_LUA4_OUT:-build/lua40}
cc=${CC:-cc}
cflags=${CFLAGS:--O2 -g}
target=${CARGO_TARGET_DIR:-target}/release
debug_flag=
if [ "${DEBUG:-0}" = 1 ]; then
    debug_flag=-DSOCKIT_LUA_DEBUG=1
fi

if [ "${SOCKIT_SKIP_CARGO:-0}" != 1 ]; then
    ${CARGO:-cargo} build --release --quiet
fi
[ -f "$target/libsockit.a" ] || { echo "build-lua4: $target/libsockit.a is missing" >&2; exit 1; }

mkdir -p "$out"
# shellcheck disable=SC2086
$cc $cflags -Wall -Wextra -Wno-unused-parameter $debug_flag -Iinclude -Ilua_glue \
    -I"$lua4/include" -o "$out/sockit-lua4" lua_glue/lua40_main.c lua_glue/socketlib.c \
    lua_glue/classic_proto.c "$target/libsockit.a" "$lua4/lib/liblualib.a" "$lua4/lib/liblua.a" \
    -lpthread -ldl -lm

if [ "${DEBUG:-0}" = 1 ]; then echo "build-lua4: built $out/sockit-lua4 (DEBUG=1)"; else echo "build-lua4: built $out/sockit-lua4"; fi
