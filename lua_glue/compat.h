/*
 * compat.h: the few Lua C API differences between Lua 4.0 and Lua 5.1 (and LuaJIT),
 * so that one C source (socketlib.c) compiles against either interpreter's headers.
 *
 * Include it after lua.h and lauxlib.h. Everything here is a macro or a small static
 * inline function named sk_*; nothing is exported.
 *
 * What differs, and how it is bridged:
 * - Version: Lua 5.1 defines LUA_VERSION_NUM (501); Lua 4.0 does not. SK_LUA4 is 1 under
 *   Lua 4.0, 0 otherwise.
 * - Classes: Lua 5.1 tags objects with metatables, Lua 4.0 with integer tags and tag
 *   methods. A class here has a registry name; sk_newclass() creates the metatable (5.1)
 *   or the tag (4.0) and installs a method table (__index / "index" tag method) and an
 *   optional finaliser (__gc / "gc" tag method, which Lua 4.0 only runs for userdata).
 *   sk_setclass() marks the value on top of the stack, sk_isclass() tests a value.
 * - Upvalues: Lua 4.0 passes a C closure's upvalues as extra arguments after the real
 *   ones; Lua 5.1 keeps them at pseudo-indices. The glue keeps per-state data in the
 *   registry instead, so that no C function needs upvalues; SK_UPVALUE is provided for
 *   hosts that do.
 * - Registry: Lua 4.0 reaches it through lua_getref(L, LUA_REFREGISTRY); Lua 5.1 through
 *   LUA_REGISTRYINDEX. sk_getreg/sk_setreg use string keys; sk_ref/sk_getref/sk_unref
 *   hold references to single values.
 * - Errors: Lua 4.0 has lua_error(L, msg) and luaL_verror; Lua 5.1 has luaL_error.
 *   sk_error(L, fmt, ...) raises in both and never returns.
 * - Calls: Lua 4.0's lua_call is protected and lua_rawcall is not; Lua 5.1 has
 *   lua_call (unprotected) and lua_pcall. sk_call is unprotected, sk_pcall protected.
 * - Auxiliary library names: luaL_check_lstr vs luaL_checklstring and so on.
 * - Booleans: Lua 4.0 has none. sk_pushbool pushes 1 or nil there, true or false in 5.1.
 *   (The 1.3b API returns 1/nil in both, as LuaSocket 1.3b did.)
 * - Strings with lengths: lua_pushlstring and lua_strlen exist in both; sk_tolstring
 *   gives a pointer and length in one call.
 */
#ifndef SOCKIT_LUA_COMPAT_H
#define SOCKIT_LUA_COMPAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef LUA_VERSION_NUM
#define SK_LUA4 0
#else
#define SK_LUA4 1
#endif

#if SK_LUA4
/* ---------------------------------------------------------------- Lua 4.0 */

#define SK_TBOOLEAN (-100) /* no such type in Lua 4.0: never matches */

#define sk_checklstring(L, n, len) luaL_check_lstr((L), (n), (len))
#define sk_optlstring(L, n, d, len) luaL_opt_lstr((L), (n), (d), (len))
#define sk_checknumber(L, n) luaL_check_number((L), (n))
#define sk_optnumber(L, n, d) luaL_opt_number((L), (n), (d))
#define sk_checkany(L, n) luaL_checkany((L), (n))
#define sk_checkstack(L, n) luaL_checkstack((L), (n), "too many results")
#define sk_call(L, nargs, nres) lua_rawcall((L), (nargs), (nres))
#define sk_pcall(L, nargs, nres) lua_call((L), (nargs), (nres))
#define sk_pushbool(L, b) ((b) ? lua_pushnumber((L), 1) : lua_pushnil(L))
#define sk_toboolean(L, i) (!lua_isnil((L), (i)) && lua_type((L), (i)) != LUA_TNONE)
#define sk_getn(L, i) lua_getn((L), (i))
/* Upvalue i (1-based) of a C closure with nup upvalues: after the actual arguments. */
#define SK_UPVALUE(L, nup, i) (lua_gettop(L) - (nup) + (i))
#define SK_NARGS(L, nup) (lua_gettop(L) - (nup))

static inline int sk_argerror(lua_State *L, int n, const char *msg)
{
    luaL_argerror(L, n, msg);
    return 0;
}

static inline void sk_error(lua_State *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_error(L, msg);
}

/* Pushes registry[key]. */
static inline void sk_getreg(lua_State *L, const char *key)
{
    lua_getregistry(L);
    lua_pushstring(L, key);
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

/* registry[key] = value on top; pops it. */
static inline void sk_setreg(lua_State *L, const char *key)
{
    lua_getregistry(L);
    lua_pushstring(L, key);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

/* Pops the value on top and returns a reference to it. */
#define sk_ref(L) lua_ref((L), 1)
#define sk_getref(L, r) ((void)lua_getref((L), (r)))
#define sk_unref(L, r) lua_unref((L), (r))

/* Tag of a class (0 if the class does not exist in this state). */
static inline int sk_classtag(lua_State *L, const char *cls)
{
    int tag;
    sk_getreg(L, cls);
    tag = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    return tag;
}

/* "index" tag method shared by all classes: methods live in registry["sk.methods"][tag]. */
static inline int sk_index_tm(lua_State *L)
{
    int tag = lua_tag(L, 1);
    sk_getreg(L, "sk.methods");
    if (!lua_istable(L, -1))
        return 0;
    lua_rawgeti(L, -1, tag);
    if (!lua_istable(L, -1))
        return 0;
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

/*
 * Creates class cls. The method table is on top of the stack (or nil for none) and is
 * popped. gc (may be NULL) becomes the "gc" tag method: Lua 4.0 calls it for userdata
 * only, so only give it to userdata classes.
 */
static inline void sk_newclass(lua_State *L, const char *cls, lua_CFunction gc)
{
    int tag = lua_newtag(L);
    lua_pushnumber(L, tag);
    sk_setreg(L, cls);
    if (lua_istable(L, -1)) {
        sk_getreg(L, "sk.methods");
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            sk_setreg(L, "sk.methods");
        }
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, tag);
        lua_pop(L, 1);
        lua_pushcfunction(L, sk_index_tm);
        lua_settagmethod(L, tag, "index");
    }
    lua_pop(L, 1);
    if (gc) {
        lua_pushcfunction(L, gc);
        lua_settagmethod(L, tag, "gc");
    }
}

/* Marks the table or userdata on top of the stack as an instance of cls. */
static inline void sk_setclass(lua_State *L, const char *cls)
{
    lua_settag(L, sk_classtag(L, cls));
}

/* Is the value at index i an instance of cls? */
static inline int sk_isclass(lua_State *L, int i, const char *cls)
{
    int t = lua_type(L, i);
    if (t != LUA_TTABLE && t != LUA_TUSERDATA)
        return 0;
    return lua_tag(L, i) == sk_classtag(L, cls);
}

#else
/* ---------------------------------------------------------------- Lua 5.1 / LuaJIT */

#define SK_TBOOLEAN LUA_TBOOLEAN

#define sk_checklstring(L, n, len) luaL_checklstring((L), (n), (len))
#define sk_optlstring(L, n, d, len) luaL_optlstring((L), (n), (d), (len))
#define sk_checknumber(L, n) luaL_checknumber((L), (n))
#define sk_optnumber(L, n, d) luaL_optnumber((L), (n), (d))
#define sk_checkany(L, n) luaL_checkany((L), (n))
#define sk_checkstack(L, n) luaL_checkstack((L), (n), "too many results")
#define sk_argerror(L, n, msg) luaL_argerror((L), (n), (msg))
#define sk_call(L, nargs, nres) lua_call((L), (nargs), (nres))
#define sk_pcall(L, nargs, nres) lua_pcall((L), (nargs), (nres), 0)
#define sk_pushbool(L, b) lua_pushboolean((L), (b))
#define sk_toboolean(L, i) lua_toboolean((L), (i))
#define sk_getn(L, i) ((int)lua_objlen((L), (i)))
#define SK_UPVALUE(L, nup, i) lua_upvalueindex(i)
#define SK_NARGS(L, nup) lua_gettop(L)

#define sk_error(L, ...) ((void)luaL_error((L), __VA_ARGS__))

static inline void sk_getreg(lua_State *L, const char *key)
{
    lua_getfield(L, LUA_REGISTRYINDEX, key);
}

static inline void sk_setreg(lua_State *L, const char *key)
{
    lua_setfield(L, LUA_REGISTRYINDEX, key);
}

#define sk_ref(L) luaL_ref((L), LUA_REGISTRYINDEX)
#define sk_getref(L, r) lua_rawgeti((L), LUA_REGISTRYINDEX, (r))
#define sk_unref(L, r) luaL_unref((L), LUA_REGISTRYINDEX, (r))

/* See the Lua 4.0 version above. */
static inline void sk_newclass(lua_State *L, const char *cls, lua_CFunction gc)
{
    luaL_newmetatable(L, cls);
    if (lua_istable(L, -2)) {
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "__index");
    }
    if (gc) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 2);
}

static inline void sk_setclass(lua_State *L, const char *cls)
{
    luaL_getmetatable(L, cls);
    lua_setmetatable(L, -2);
}

static inline int sk_isclass(lua_State *L, int i, const char *cls)
{
    int same;
    if (!lua_getmetatable(L, i))
        return 0;
    luaL_getmetatable(L, cls);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

#endif

/* ---------------------------------------------------------------- both */

static inline const char *sk_tolstring(lua_State *L, int i, size_t *len)
{
    const char *s = lua_tostring(L, i);
    if (len)
        *len = s ? lua_strlen(L, i) : 0;
    return s;
}

/* Pushes nil and a message; returns 2 (the LuaSocket "nil, error" convention). */
static inline int sk_pushfail(lua_State *L, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
}

/* t[name] = f for the table at index t (absolute index). */
static inline void sk_setfunc(lua_State *L, int t, const char *name, lua_CFunction f)
{
    lua_pushstring(L, name);
    lua_pushcfunction(L, f);
    lua_settable(L, t);
}

/* t[name] = number for the table at index t (absolute index). */
static inline void sk_setnumber(lua_State *L, int t, const char *name, double v)
{
    lua_pushstring(L, name);
    lua_pushnumber(L, v);
    lua_settable(L, t);
}

/* t[name] = string for the table at index t (absolute index). */
static inline void sk_setstring(lua_State *L, int t, const char *name, const char *v)
{
    lua_pushstring(L, name);
    lua_pushstring(L, v);
    lua_settable(L, t);
}

#endif /* SOCKIT_LUA_COMPAT_H */
