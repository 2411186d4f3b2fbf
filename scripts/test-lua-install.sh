#!/usr/bin/env bash
# Packaging for Lua users and embedders:
#   1. `luarocks make` of the top-level rockspec into a temporary tree, then lua5.1 and
#      luajit require every module from that tree (and nothing from build/ or the system);
#   2. `make install` into a temporary prefix installs sockit_lua.h, libsockit-lua51.a and
#      sockit-lua51.pc (and the Lua 4.0 ones when LUA4_DIR is set); examples/lua_host.c
#      builds with exactly `cc examples/lua_host.c -o lua_host $(pkg-config --cflags --libs
#      sockit-lua51)` and runs; a host that preloads the luaopen_* functions requires
#      socket.core from the static library; with LUA4_DIR, a Lua 4.0 host builds with
#      sockit-lua4.pc and runs a LuaSocket 1.3b script.
# Ends with "N passed, M failed[, K skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check "what" command...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockit-lua-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
rockspec=$(ls sockit-*.rockspec 2>/dev/null | head -n 1)

# --- 1. luarocks make into a tree
tree=$tmp/tree
if [ -z "$rockspec" ]; then
    bad "a rockspec at the top of the repository"
elif ! command -v luarocks >/dev/null 2>&1; then
    bad "luarocks is installed (scripts/install-deps.sh installs it)"
elif luarocks --lua-version 5.1 --tree "$tree" make "$rockspec" >"$tmp/rocks.log" 2>&1; then
    ok "luarocks make $rockspec into a temporary tree"
    luadir=$tree/share/lua/5.1
    cdir=$tree/lib/lua/5.1
    for f in socket.lua socket/http.lua socket/url.lua socket/ftp.lua socket/smtp.lua socket/tp.lua \
        socket/headers.lua ltn12.lua mime.lua moonbridge_io.lua sockit/http.lua; do
        check "the tree holds $f" test -f "$luadir/$f"
    done
    for f in socket/core.so socket/unix.so socket/proto.so ltn12/core.so mime/core.so \
        moonbridge_io/core.so sockit/http/core.so libsockit.so.0; do
        check "the tree holds $f" test -f "$cdir/$f"
    done
    cat >"$tmp/from_tree.lua" <<'EOF'
-- every module from the LuaRocks tree, and a loopback exchange through them
local tree = assert(os.getenv("TREE"))
local names = { "socket", "socket.core", "socket.http", "socket.url", "socket.ftp", "socket.smtp",
    "socket.tp", "socket.headers", "socket.unix", "ltn12", "mime", "moonbridge_io", "sockit.http" }
local bad = 0
for _, name in ipairs(names) do
    local ok, m = pcall(require, name)
    if not ok or m == nil then
        print("not ok require " .. name .. ": " .. tostring(m))
        bad = bad + 1
    end
end
for name, _ in pairs(package.loaded) do
    local rel = string.gsub(name, "%.", "/")
    for _, pat in ipairs({ package.path, package.cpath }) do
        for dir in string.gmatch(pat, "[^;]+") do
            local f = string.gsub(dir, "%?", rel)
            local h = io.open(f)
            if h then
                h:close()
                if string.sub(f, 1, #tree) ~= tree and (string.find(name, "^socket") or name == "mime"
                    or name == "ltn12" or string.find(name, "^moonbridge")) then
                    print("not ok " .. name .. " found outside the tree: " .. f)
                    bad = bad + 1
                end
                break
            end
        end
    end
end
local socket = require("socket")
if not string.find(socket._VERSION, "sockit", 1, true) then
    print("not ok socket._VERSION " .. socket._VERSION)
    bad = bad + 1
end
local srv = assert(socket.bind("127.0.0.1", 0))
local ip, port = srv:getsockname()
local c = assert(socket.connect(ip, port))
local a = assert(srv:accept())
c:send("through the tree\n")
a:settimeout(5)
local line = a:receive()
if line ~= "through the tree" then print("not ok echo " .. tostring(line)) bad = bad + 1 end
print(require("socket.url").absolute("http://a/b/c", "../d"))
os.exit(bad == 0 and 0 or 1)
EOF
    for lua in lua5.1 luajit; do
        command -v "$lua" >/dev/null 2>&1 || { skipped=$((skipped + 1)); continue; }
        if out=$(cd "$tmp" && TREE=$tree LUA_PATH="$luadir/?.lua;$luadir/?/init.lua" \
            LUA_CPATH="$cdir/?.so" "$lua" "$tmp/from_tree.lua" 2>&1) && [ "$out" = "http://a/d" ]; then
            ok "$lua requires every module from the tree"
        else
            bad "$lua requires every module from the tree"
            printf '%s\n' "$out" | sed 's/^/    /'
        fi
    done
else
    bad "luarocks make $rockspec"
    tail -n 30 "$tmp/rocks.log" | sed 's/^/    /'
fi

# --- 2. make install: the glue for embedders
prefix=$tmp/prefix
lua4=${LUA4_DIR:-}
if make --no-print-directory install PREFIX="$prefix" ${lua4:+LUA4_DIR="$lua4"} >"$tmp/install.log" 2>&1; then
    ok "make install PREFIX=<tmp>${lua4:+ LUA4_DIR=...}"
else
    bad "make install PREFIX=<tmp>"
    tail -n 30 "$tmp/install.log" | sed 's/^/    /'
fi
check "include/sockit_lua.h installed" cmp -s lua_glue/sockit_lua.h "$prefix/include/sockit_lua.h"
check "lib/libsockit-lua51.a installed" test -f "$prefix/lib/libsockit-lua51.a"
check "lib/pkgconfig/sockit-lua51.pc installed" test -f "$prefix/lib/pkgconfig/sockit-lua51.pc"
check "libsockit-lua51.a has lua_socketlibopen and luaopen_socket_core" \
    bash -c "nm '$prefix/lib/libsockit-lua51.a' | grep -q ' T lua_socketlibopen' && nm '$prefix/lib/libsockit-lua51.a' | grep -q ' T luaopen_socket_core'"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
check "pkg-config --exists sockit-lua51" pkg-config --exists sockit-lua51
check "sockit-lua51's version" test "$(pkg-config --modversion sockit-lua51)" = "$(pkg-config --modversion sockit)"

# The README's line, exactly.
# shellcheck disable=SC2046
if $cc examples/lua_host.c -o "$tmp/lua_host" $(pkg-config --cflags --libs sockit-lua51) 2>"$tmp/cc.log"; then
    ok "cc examples/lua_host.c -o lua_host \$(pkg-config --cflags --libs sockit-lua51)"
    check "lua_host does not need libsockit.so" bash -c "! readelf -d '$tmp/lua_host' | grep -q 'NEEDED.*libsockit'"
    check "lua_host runs its demo" bash -c "'$tmp/lua_host' | grep -q 'server received: hello from 127.0.0.1'"
    if out=$("$tmp/lua_host" tests/lua/host_example.lua 2>&1) && ! printf '%s\n' "$out" | grep -q '^not ok'; then
        ok "lua_host runs tests/lua/host_example.lua"
    else
        bad "lua_host runs tests/lua/host_example.lua"
        printf '%s\n' "$out" | tail -n 10 | sed 's/^/    /'
    fi
else
    bad "cc examples/lua_host.c with pkg-config sockit-lua51"
    sed 's/^/    /' "$tmp/cc.log"
fi

# luaopen_* from the static library, through package.preload
cat >"$tmp/preload.c" <<'EOF'
#include <stdio.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "sockit_lua.h"

int main(void)
{
    lua_State *L = luaL_newstate();
    int st;
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_socket_core);
    lua_setfield(L, -2, "socket.core");
    lua_pushcfunction(L, luaopen_mime_core);
    lua_setfield(L, -2, "mime.core");
    lua_pop(L, 2);
    st = luaL_dostring(L,
        "local core = require('socket.core')\n"
        "assert(core._VERSION:find('sockit'), core._VERSION)\n"
        "local s = assert(core.bind('127.0.0.1', 0))\n"
        "local ip, port = s:getsockname()\n"
        "local c = assert(core.connect(ip, port))\n"
        "assert(require('mime.core').b64('sockit') == 'c29ja2l0')\n"
        "print('preloaded ' .. core._VERSION)\n");
    if (st) fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return st;
}
EOF
# shellcheck disable=SC2046
if $cc -Wall -Werror "$tmp/preload.c" -o "$tmp/preload" $(pkg-config --cflags --libs sockit-lua51) 2>"$tmp/cc2.log" &&
    "$tmp/preload" | grep -q '^preloaded .*sockit'; then
    ok "a host preloads luaopen_socket_core and luaopen_mime_core from libsockit-lua51.a"
else
    bad "a host preloads the luaopen_* functions"
    sed 's/^/    /' "$tmp/cc2.log"
fi

# Lua 4.0
if [ -n "$lua4" ]; then
    check "lib/libsockit-lua4.a installed" test -f "$prefix/lib/libsockit-lua4.a"
    check "pkg-config --exists sockit-lua4" pkg-config --exists sockit-lua4
    cat >"$tmp/host4.c" <<'EOF'
#include <stdio.h>
#include "lua.h"
#include "lualib.h"
#include "sockit_lua.h"

int main(void)
{
    lua_State *L = lua_open(0);
    int st;
    lua_baselibopen(L);
    lua_strlibopen(L);
    lua_socketlibopen(L);
    st = lua_dostring(L,
        "local server, ip, port = bind('127.0.0.1', 0)\n"
        "local client = connect(ip, port)\n"
        "local peer = server:accept()\n"
        "client:send('lua 4.0 host\\n')\n"
        "local line = peer:receive()\n"
        "print(line)\n");
    lua_close(L);
    return st;
}
EOF
    # shellcheck disable=SC2046
    if $cc "$tmp/host4.c" -o "$tmp/host4" $(pkg-config --cflags --libs sockit-lua4) 2>"$tmp/cc4.log" &&
        [ "$("$tmp/host4" 2>&1)" = "lua 4.0 host" ]; then
        ok "a Lua 4.0 host builds with pkg-config sockit-lua4 and runs"
    else
        bad "a Lua 4.0 host builds with pkg-config sockit-lua4 and runs"
        sed 's/^/    /' "$tmp/cc4.log"
        [ -x "$tmp/host4" ] && "$tmp/host4" 2>&1 | tail -n 5 | sed 's/^/    /'
    fi
else
    echo "skipped the Lua 4.0 glue: LUA4_DIR is not set"
    skipped=$((skipped + 3))
fi
# Leave build/sockit.pc as `make` makes it (default prefix).
make --no-print-directory pc >/dev/null 2>&1 || true

if [ "$skipped" -gt 0 ]; then
    echo "lua-install: $passed passed, $failed failed, $skipped skipped"
else
    echo "lua-install: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
