/*
 * sk51.c: helpers shared by the Lua 5.1 / LuaJIT modules (see sk51.h): classes,
 * objects, errors, argument conversions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk51.h"

/* ---------------------------------------------------------------- scratch buffers */

static int scratch_gc(lua_State *L)
{
    sk_scratch *s = (sk_scratch *)lua_touserdata(L, 1);
    if (s) {
        sockit_buffer_free(s->data);
        sockit_buffer_free(s->text);
        sockit_pollset_free(s->pollset);
        s->data = s->text = NULL;
        s->pollset = NULL;
    }
    return 0;
}

void sk51_scratch_open(lua_State *L, const char *key)
{
    sk_scratch *s;
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    s = (sk_scratch *)lua_newuserdata(L, sizeof *s);
    s->data = sockit_buffer_new();
    s->text = sockit_buffer_new();
    s->pollset = sockit_pollset_new();
    lua_newtable(L);
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
}

sk_scratch *sk51_scratch(lua_State *L, const char *key)
{
    sk_scratch *s;
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    s = (sk_scratch *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (s == NULL || s->data == NULL)
        luaL_error(L, "sockit: module state is gone");
    return s;
}

/* ---------------------------------------------------------------- classes */

static int obj_tostring(lua_State *L)
{
    const char *cls = "sockit";
    if (lua_getmetatable(L, 1)) {
        lua_getfield(L, -1, "__class");
        if (lua_isstring(L, -1))
            cls = lua_tostring(L, -1);
    }
    lua_pushfstring(L, "%s: %p", cls, lua_touserdata(L, 1));
    return 1;
}

void sk51_newclass(lua_State *L, const char *cls, int methods, lua_CFunction gc,
                   const char *const *groups)
{
    if (methods < 0)
        methods = lua_gettop(L) + methods + 1;
    luaL_newmetatable(L, cls);
    lua_newtable(L); /* this class's own copy of the methods, as LuaSocket has */
    lua_pushnil(L);
    while (lua_next(L, methods) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_pushstring(L, cls);
    lua_setfield(L, -2, "class");
    lua_setfield(L, -2, "__index");
    if (gc) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pushcfunction(L, obj_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, cls);
    lua_setfield(L, -2, "__class");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, SK_MARK);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, cls);
    for (; groups && *groups; groups++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, *groups);
    }
    lua_pop(L, 1);
}

void sk51_setclass(lua_State *L, const char *cls)
{
    luaL_getmetatable(L, cls);
    lua_setmetatable(L, -2);
}

sk_obj *sk51_testclass(lua_State *L, int i, const char *cls)
{
    void *p = lua_touserdata(L, i);
    int same;
    if (p == NULL || !lua_getmetatable(L, i))
        return NULL;
    luaL_getmetatable(L, cls);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? (sk_obj *)p : NULL;
}

static sk_obj *test_field(lua_State *L, int i, const char *field)
{
    void *p = lua_touserdata(L, i);
    int yes;
    if (p == NULL || lua_type(L, i) != LUA_TUSERDATA || !lua_getmetatable(L, i))
        return NULL;
    lua_pushstring(L, field);
    lua_rawget(L, -2);
    yes = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return yes ? (sk_obj *)p : NULL;
}

sk_obj *sk51_testgroup(lua_State *L, int i, const char *group)
{
    return test_field(L, i, group);
}

sk_obj *sk51_toobj(lua_State *L, int i)
{
    return test_field(L, i, SK_MARK);
}

sk_obj *sk51_checkclass(lua_State *L, int i, const char *cls)
{
    sk_obj *o = sk51_testclass(L, i, cls);
    if (o == NULL) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s expected", cls);
        luaL_argerror(L, i, msg);
    }
    return o;
}

sk_obj *sk51_checkgroup(lua_State *L, int i, const char *group)
{
    sk_obj *o = sk51_testgroup(L, i, group);
    if (o == NULL) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s expected", group);
        luaL_argerror(L, i, msg);
    }
    return o;
}

sk_obj *sk51_newobj(lua_State *L, const char *cls, size_t size)
{
    sk_obj *o = (sk_obj *)lua_newuserdata(L, size);
    memset(o, 0, size);
    sk51_setclass(L, cls);
    return o;
}

/* ---------------------------------------------------------------- look-ahead */

void sk51_settle(sk_obj *o)
{
    sk_ahead *a = o->ahead;
    if (a == NULL || (a->owed == 0 && a->count == 0))
        return;
    if (a->owed > 0 && o->s)
        sockit_socket_consume(o->s, a->owed);
    a->owed = 0;
    a->next = a->count = 0;
}

sockit_socket *sk51_lend(sk_obj *o)
{
    sk51_settle(o);
    o->lent = 1;
    return o->s;
}

void sk51_ahead_free(sk_obj *o)
{
    free(o->ahead);
    o->ahead = NULL;
}

/* ---------------------------------------------------------------- conversions */

void sk51_pushbuffer(lua_State *L, sockit_buffer *b)
{
    lua_pushlstring(L, (const char *)sockit_buffer_data(b), sockit_buffer_len(b));
}

const char *sk51_errstr(sockit_status st)
{
    if (st == SOCKIT_SYSTEM || st == SOCKIT_INTERNAL) {
        /* sockit's message is "what: detail"; LuaSocket gives strerror's text. */
        const char *m = sockit_last_error();
        const char *p, *last = NULL;
        if (m == NULL || *m == '\0')
            return sockit_status_str(st);
        for (p = strstr(m, ": "); p; p = strstr(p + 2, ": "))
            last = p + 2;
        return last && *last ? last : m;
    }
    return sockit_status_str(st);
}

int sk51_fail(lua_State *L, sockit_status st)
{
    lua_pushnil(L);
    lua_pushstring(L, sk51_errstr(st));
    return 2;
}

int sk51_okfail(lua_State *L, sockit_status st)
{
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushnumber(L, 1);
    return 1;
}

int sk51_checkport(lua_State *L, int i)
{
    lua_Number p = luaL_checknumber(L, i);
    if (p < 0 || p > 65535 || p != (lua_Number)(int)p)
        luaL_argerror(L, i, "invalid port");
    return (int)p;
}

int sk51_checkfd(lua_State *L, int i)
{
    lua_Number n = luaL_checknumber(L, i);
    luaL_argcheck(L, n < 2147483648.0, i, "descriptor out of range");
    return n < 0 ? -1 : (int)n;
}

double sk51_timeout_args(lua_State *L, int i, const char **mode)
{
    lua_Number t = luaL_optnumber(L, i, -1);
    *mode = luaL_optstring(L, i + 1, "b");
    if ((*mode)[0] != 'b' && (*mode)[0] != 't' && (*mode)[0] != 'r')
        luaL_argerror(L, i + 1, "invalid timeout mode");
    return t < 0 ? -1 : t;
}

int sk51_optfamily(lua_State *L, int i)
{
    const char *f = luaL_optstring(L, i, NULL);
    if (f == NULL)
        return SOCKIT_FAMILY_ANY;
    if (strcmp(f, "inet") == 0)
        return SOCKIT_FAMILY_INET;
    if (strcmp(f, "inet6") == 0)
        return SOCKIT_FAMILY_INET6;
    luaL_argerror(L, i, "invalid family");
    return SOCKIT_FAMILY_ANY;
}

const char *sk51_familyname(int family)
{
    switch (family) {
    case SOCKIT_FAMILY_INET:
        return "inet";
    case SOCKIT_FAMILY_INET6:
        return "inet6";
    case SOCKIT_FAMILY_UNIX:
        return "unix";
    default:
        return "unspec";
    }
}

void sk51_pushhostinfo(lua_State *L, const sockit_hostinfo *info)
{
    size_t i, n;
    lua_newtable(L);
    lua_pushstring(L, sockit_hostinfo_name(info));
    lua_setfield(L, -2, "name");
    lua_newtable(L);
    n = sockit_hostinfo_alias_count(info);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, sockit_hostinfo_alias(info, i));
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "alias");
    lua_newtable(L);
    n = sockit_hostinfo_address_count(info);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, sockit_hostinfo_address(info, i, NULL));
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "ip");
}

double sk51_now(void)
{
    return sockit_gettime();
}
