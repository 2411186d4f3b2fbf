/*
 * sockit_lua.h: the C entry points of sockit's Lua glue, for programs that embed Lua and
 * link the glue statically (`pkg-config --cflags --libs sockit-lua51`, or sockit-lua4).
 *
 * - lua_socketlibopen(L) (Lua 4.0 and Lua 5.1/LuaJIT): LuaSocket 1.3b's globals
 *   (connect, bind, select, toip, tohostname, udpsocket, _sleep, _time, the socket
 *   methods as globals, the protocol globals http_get, ftp_get, smtp_mail, ...). Call it
 *   once on a state whose standard libraries are open. Returns 0.
 * - luaopen_* (Lua 5.1/LuaJIT only): the C halves of the modules `require` loads from
 *   build/lua51 (socket.core, socket.unix, socket.proto, ltn12.core, mime.core,
 *   moonbridge_io.core). A host that links them statically puts them in
 *   package.preload under those names; the Lua halves (socket.lua, socket/http.lua, ...)
 *   still come from package.path.
 */
#ifndef SOCKIT_LUA_H
#define SOCKIT_LUA_H

#include "lua.h"

#ifdef __cplusplus
extern "C" {
#endif

int lua_socketlibopen(lua_State *L);

#if defined(LUA_VERSION_NUM) && LUA_VERSION_NUM >= 501
int luaopen_socket_core(lua_State *L);
int luaopen_socket_unix(lua_State *L);
int luaopen_socket_proto(lua_State *L);
int luaopen_ltn12_core(lua_State *L);
int luaopen_mime_core(lua_State *L);
int luaopen_moonbridge_io_core(lua_State *L);
#endif

#ifdef __cplusplus
}
#endif

#endif
