#!/bin/sh
# Builds what an embedder links, for `make install` (into build/glue, or $SOCKIT_GLUE_OUT):
#   libsockit-lua51.a   the Lua 5.1/LuaJIT glue: lua_socketlibopen (LuaSocket 1.3b's
#                       globals and protocol functions) and every luaopen_* module
#   sockit-lua51.pc     its pkg-config file: Cflags with the glue header (sockit_lua.h)
#                       and Lua 5.1's, Libs with the glue, libsockit.a and Lua 5.1
#   libsockit-lua4.a, sockit-lua4.pc   the same for Lua 4.0 (lua_socketlibopen), only when
#                       LUA4_DIR names a Lua 4.0 build (its headers and libraries are
#                       named in the .pc file)
# Both link sockit statically (libsockit.a), so a host runs without libsockit.so.
#
# Environment: PREFIX, LIBDIR, INCLUDEDIR (the install locations written into the .pc
# files), VERSION, LUA4_DIR, CC, CFLAGS, AR, LUA51_CFLAGS, LUA51_LIBS, CARGO_TARGET_DIR.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${SOCKIT_GLUE_OUT:-build/glue}
cc=${CC:-cc}
ar=${AR:-ar}
cflags=${CFLAGS:--O2 -g}
prefix=${PREFIX:-/usr/local}
libdir=${LIBDIR:-$prefix/lib}
includedir=${INCLUDEDIR:-$prefix/include}
version=${VERSION:-$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)}
target=${CARGO_TARGET_DIR:-target}/release
[ -f "$target/libsockit.a" ] || { echo "build-glue-libs: $target/libsockit.a is missing (make lib)" >&2; exit 1; }

if [ -z "${LUA51_CFLAGS+set}" ]; then
    LUA51_CFLAGS=$(pkg-config --cflags lua5.1 2>/dev/null || echo "-I/usr/include/lua5.1")
fi
if [ -z "${LUA51_LIBS+set}" ]; then
    LUA51_LIBS=$(pkg-config --libs lua5.1 2>/dev/null || echo "-llua5.1")
fi

# Paths under the prefix are written relative to ${prefix}.
rel() { case "$1" in "$prefix"/*) printf '${prefix}/%s' "${1#"$prefix"/}" ;; *) printf '%s' "$1" ;; esac; }

warn="-Wall -Wextra -Wno-unused-parameter"
rm -rf "$out/obj51" "$out/obj4"
rm -f "$out/libsockit-lua51.a" "$out/sockit-lua51.pc" "$out/libsockit-lua4.a" "$out/sockit-lua4.pc"
# Without Lua 5.1's headers there is no Lua 5.1 glue to build (a C-only install).
if ! printf '#include "lua.h"\n' | $cc $LUA51_CFLAGS -E -x c - >/dev/null 2>&1; then
    echo "build-glue-libs: Lua 5.1's headers are not there ($LUA51_CFLAGS): no Lua 5.1 glue"
    exit 0
fi
mkdir -p "$out/obj51"
for src in socketlib classic_proto core51 stream51 udp51 unix51 mbio51 ltn12_51 mime51 proto51 sk51; do
    # shellcheck disable=SC2086
    $cc $cflags $warn -Iinclude -Ilua_glue $LUA51_CFLAGS -c -o "$out/obj51/$src.o" "lua_glue/$src.c"
done
rm -f "$out/libsockit-lua51.a"
$ar rcs "$out/libsockit-lua51.a" "$out"/obj51/*.o

cat >"$out/sockit-lua51.pc" <<EOF
prefix=$prefix
libdir=$(rel "$libdir")
includedir=$(rel "$includedir")

Name: sockit-lua51
Description: sockit's Lua 5.1/LuaJIT glue (lua_socketlibopen, luaopen_*) with sockit, linked statically
Version: $version
Cflags: -I\${includedir} $LUA51_CFLAGS
Libs: \${libdir}/libsockit-lua51.a \${libdir}/libsockit.a $LUA51_LIBS -lpthread -ldl -lm
EOF

if [ -n "${LUA4_DIR:-}" ]; then
    lua4=$(cd "$LUA4_DIR" && pwd)
    mkdir -p "$out/obj4"
    for src in socketlib classic_proto; do
        # shellcheck disable=SC2086
        $cc $cflags $warn -Iinclude -Ilua_glue -I"$lua4/include" -c -o "$out/obj4/$src.o" "lua_glue/$src.c"
    done
    rm -f "$out/libsockit-lua4.a"
    $ar rcs "$out/libsockit-lua4.a" "$out"/obj4/*.o
    cat >"$out/sockit-lua4.pc" <<EOF
prefix=$prefix
libdir=$(rel "$libdir")
includedir=$(rel "$includedir")
lua4dir=$lua4

Name: sockit-lua4
Description: sockit's Lua 4.0 glue (lua_socketlibopen) with sockit and Lua 4.0, linked statically
Version: $version
Cflags: -I\${includedir} -I\${lua4dir}/include
Libs: \${libdir}/libsockit-lua4.a \${libdir}/libsockit.a \${lua4dir}/lib/liblualib.a \${lua4dir}/lib/liblua.a -lpthread -ldl -lm
EOF
fi
echo "build-glue-libs: built $out$([ -n "${LUA4_DIR:-}" ] && echo ' (with Lua 4.0)')"
