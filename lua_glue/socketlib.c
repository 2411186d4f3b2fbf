/*
 * socketlib.c: lua_socketlibopen, LuaSocket 1.3b's global API for Lua 4.0 and Lua 5.1
 * embedders, on top of sockit's C API. One source for both interpreters: the
 * differences are in compat.h.
 */
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "compat.h"
#include "sockit.h"
#include "socketlib.h"

static const char *const option_names[] = {
    "SO_KEEPALIVE", "SO_DONTROUTE", "SO_BROADCAST", "SO_LINGER", NULL,
};

int lua_socketlibopen(lua_State *L)
{
    int i;
    for (i = 0; option_names[i]; i++) {
        lua_pushstring(L, option_names[i]);
        lua_setglobal(L, option_names[i]);
    }
    return 0;
}
