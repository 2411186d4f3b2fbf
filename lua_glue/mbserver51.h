/*
 * mbserver51.h: Moonbridge's globals `listen{...}` and `timeout(...)` for a Lua 5.1 host,
 * over sockit's prefork server (sockit_server, sockit_server_pool). Used by
 * sockit-moonbridge (moonbridge_main.c); any host that wants the same can use it.
 */
#ifndef SOCKIT_LUA_MBSERVER51_H
#define SOCKIT_LUA_MBSERVER51_H

#include <stddef.h>

#include "lua.h"
#include "sockit.h"

/* A Lua state whose allocator counts its bytes, so that a pool's memory_limit can cap
 * the Lua heap in its workers (as Moonbridge does). NULL when out of memory. */
lua_State *mbserver51_newstate(void);

/* Sets the globals `listen` and `timeout` in L; listen{...} adds its pools to srv
 * (which must outlive L's use of them). `worker_init`, when not NULL, runs first thing
 * in every worker (before the prepare handler). Requires "moonbridge_io" (its socket
 * class is what the connect handler gets); returns 0, or -1 with a message on the
 * stack when that fails. */
int mbserver51_open(lua_State *L, sockit_server *srv, void (*worker_init)(void));

/* Bytes the Lua state of mbserver51_newstate holds now. */
size_t mbserver51_memory_in_use(void);

#endif
