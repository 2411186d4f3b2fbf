/*
 * lua_host.c: a complete minimal program embedding Lua 5.1 whose scripts get LuaSocket
 * 1.3b's global API (connect, bind, select, receive, send, ...) from sockit through
 * lua_socketlibopen.
 *
 * Build, after `make install` (which installs sockit_lua.h, libsockit-lua51.a and
 * sockit-lua51.pc; for a prefix outside pkg-config's search path set
 * PKG_CONFIG_PATH=<prefix>/lib/pkgconfig):
 *   cc examples/lua_host.c -o lua_host $(pkg-config --cflags --libs sockit-lua51)
 * Run:
 *   ./lua_host script.lua [args...]   runs the script (args in the global table arg)
 *   ./lua_host                        runs a small loopback echo demo
 */
#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "sockit_lua.h"

/* The demo: a server and a client in one script, on an ephemeral loopback port. */
static const char demo[] =
    "local server, ip, port = assert(bind('127.0.0.1', 0))\n"
    "local client = assert(connect(ip, port))\n"
    "server:timeout(5)\n"
    "local peer = assert(server:accept())\n"
    "client:send('hello from ', ip, ':', port, '\\n')\n"
    "local line, err = peer:receive('*l')\n"
    "print('server received: ' .. tostring(line), err)\n"
    "client:close() peer:close() server:close()\n";

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    int status, i;
    if (L == NULL) {
        fprintf(stderr, "lua_host: cannot create a Lua state\n");
        return EXIT_FAILURE;
    }
    luaL_openlibs(L);      /* the standard libraries first, */
    lua_socketlibopen(L);  /* then LuaSocket 1.3b's globals */

    lua_newtable(L);       /* arg = {[0] = script, args...} */
    for (i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");

    if (argc > 1)
        status = luaL_dofile(L, argv[1]);
    else
        status = luaL_dostring(L, demo);
    if (status != 0) {
        fprintf(stderr, "lua_host: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_close(L);          /* collects every socket still open */
    return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
