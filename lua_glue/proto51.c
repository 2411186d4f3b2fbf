/*
 * proto51.c: the socket.proto module for Lua 5.1 / LuaJIT: the C half of socket.url,
 * socket.headers, socket.http, socket.ftp and socket.smtp (the Lua files in
 * lua_glue/lua/socket/), over sockit's URL functions and protocol clients.
 *
 * Bodies move through LTN12 stages: native stages (ltn12_51.c) are handed to the
 * clients directly, Lua functions through callbacks. Every function here converts
 * between Lua values and one or a few sockit calls; the protocols themselves are
 * sockit's.
 */
#include <stdlib.h>
#include <string.h>

#include "ltn12_51.h"

/* ---------------------------------------------------------------- helpers */

static int pushfail(lua_State *L, sockit_status st)
{
    lua_pushnil(L);
    lua_pushstring(L, lt_errmsg(st));
    return 2;
}

/* Pushes the buffer's bytes, or nil + error for a failed status. */
static int pushresult(lua_State *L, sockit_status st, sockit_buffer *b)
{
    if (st != SOCKIT_OK)
        return pushfail(L, st);
    lt_pushbuffer(L, b);
    return 1;
}

/* t[name] = string at index -1 when it is a string (or number); pops it. */
static const char *optfield(lua_State *L, int t, const char *name)
{
    const char *s;
    lua_getfield(L, t, name);
    s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);
    return s;
}

/* ---------------------------------------------------------------- socket.url */

static const char *const url_fields[] = {
    "scheme", "authority", "userinfo", "user", "password", "host",
    "port", "path", "params", "query", "fragment",
};
#define URL_NFIELDS 11

/* url_parse(s): a table of the fields present, or nil and the error. */
static int url_parse(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    sockit_url *u = NULL;
    sockit_buffer *b = lt_scratch(L, 0);
    sockit_status st = sockit_url_parse(s, &u);
    int i;
    if (st != SOCKIT_OK)
        return pushfail(L, st);
    lua_createtable(L, 0, URL_NFIELDS);
    for (i = 0; i < URL_NFIELDS; i++) {
        bool present = false;
        if (sockit_url_get(u, i, b, &present) == SOCKIT_OK && present) {
            lt_pushbuffer(L, b);
            lua_setfield(L, -2, url_fields[i]);
        }
    }
    sockit_url_free(u);
    return 1;
}

/* url_build(t): the URL string, or nil and the error (a field sockit refuses). */
static int url_build(lua_State *L)
{
    sockit_url *u = NULL;
    sockit_buffer *b = lt_scratch(L, 0);
    sockit_status st;
    int i;
    luaL_checktype(L, 1, LUA_TTABLE);
    st = sockit_url_new(&u);
    for (i = 0; st == SOCKIT_OK && i < URL_NFIELDS; i++) {
        const char *v = optfield(L, 1, url_fields[i]);
        if (v)
            st = sockit_url_set(u, i, v);
    }
    if (st == SOCKIT_OK)
        st = sockit_url_build(u, b);
    sockit_url_free(u);
    return pushresult(L, st, b);
}

static int url_absolute(lua_State *L)
{
    const char *base = luaL_checkstring(L, 1);
    const char *rel = luaL_checkstring(L, 2);
    sockit_buffer *b = lt_scratch(L, 0);
    return pushresult(L, sockit_url_absolute(base, rel, b), b);
}

typedef sockit_status (*bytesfn)(const uint8_t *, size_t, sockit_buffer *);

static int bytes_op(lua_State *L, bytesfn fn)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    sockit_buffer *b = lt_scratch(L, 0);
    sockit_status st = fn((const uint8_t *)s, n, b);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", lt_errmsg(st));
    lt_pushbuffer(L, b);
    return 1;
}

static int url_escape(lua_State *L)
{
    return bytes_op(L, sockit_url_escape);
}

static int url_unescape(lua_State *L)
{
    return bytes_op(L, sockit_url_unescape);
}

static int url_protect_segment(lua_State *L)
{
    return bytes_op(L, sockit_url_protect_segment);
}

/* ---------------------------------------------------------------- socket.headers */

/* headers_canonic(): LuaSocket's table, lower-case name -> canonical spelling. */
static int headers_canonic(lua_State *L)
{
    size_t i, n = sockit_headers_canonic_count();
    sockit_buffer *b = lt_scratch(L, 0);
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n; i++) {
        size_t k, len;
        char *lower;
        const uint8_t *p;
        if (sockit_headers_canonic_at(i, b) != SOCKIT_OK)
            continue;
        p = sockit_buffer_data(b);
        len = sockit_buffer_len(b);
        lower = (char *)malloc(len ? len : 1);
        if (lower == NULL)
            return luaL_error(L, "not enough memory");
        for (k = 0; k < len; k++)
            lower[k] = (p[k] >= 'A' && p[k] <= 'Z') ? (char)(p[k] - 'A' + 'a') : (char)p[k];
        lua_pushlstring(L, lower, len);
        free(lower);
        lt_pushbuffer(L, b);
        lua_rawset(L, -3);
    }
    return 1;
}

/* ---------------------------------------------------------------- the module */

static const luaL_Reg proto_funcs[] = {
    {"url_parse", url_parse},
    {"url_build", url_build},
    {"url_absolute", url_absolute},
    {"url_escape", url_escape},
    {"url_unescape", url_unescape},
    {"url_protect_segment", url_protect_segment},
    {"headers_canonic", headers_canonic},
    {NULL, NULL},
};

__attribute__((visibility("default"))) int luaopen_socket_proto(lua_State *L)
{
    lt_open(L);
    lua_newtable(L);
    luaL_register(L, NULL, proto_funcs);
    return 1;
}
