/*
 * socketlib.h: the one C entry point of sockit's LuaSocket 1.3b compatibility layer,
 * lua_socketlibopen (declared in sockit_lua.h, which also declares the luaopen_*
 * functions of the Lua 5.1 modules).
 *
 * Build socketlib.c against your interpreter's headers (Lua 4.0 or Lua 5.1/LuaJIT), link
 * it with the sockit library, and call lua_socketlibopen(L) once on a state that has the
 * standard libraries opened. It registers LuaSocket 1.3b's global functions (connect,
 * bind, select, toip, tohostname, udpsocket, _sleep, _time, the socket methods as
 * globals too) and the option names, exactly like LuaSocket 1.3b's function of the same
 * name. Returns 0.
 */
#ifndef SOCKIT_LUA_SOCKETLIB_H
#define SOCKIT_LUA_SOCKETLIB_H

#include "sockit_lua.h"

#endif
