/*
 * classic_proto.h: LuaSocket 1.3b's protocol globals for lua_socketlibopen embedders
 * (Lua 4.0 and Lua 5.1): http_request, http_get, http_post, http_requestindirect,
 * http_getindirect, http_postindirect, ftp_get, ftp_put, ftp_getindirect,
 * ftp_putindirect, smtp_mail and mail. Build classic_proto.c together with
 * socketlib.c; lua_socketlibopen registers them.
 */
#ifndef SOCKIT_LUA_CLASSIC_PROTO_H
#define SOCKIT_LUA_CLASSIC_PROTO_H

#include "lua.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Registers the protocol globals in L. Returns 0. */
int sockit_lua_classic_protocols(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
