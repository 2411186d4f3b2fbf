/*
 * mime51.c: the mime.core module for Lua 5.1 / LuaJIT (LuaSocket's low-level MIME
 * functions b64, unb64, qp, unqp, wrp, qpwrp, eol, dot) over sockit's sockit_mime_*.
 *
 * Each function takes and returns exactly what LuaSocket's does, nils included, so that
 * mime.lua's filters (ltn12.filter.cycle of these functions) behave the same. The
 * functions are also listed in the registry (LT_LOWFUNCS), so that a cycle of one of
 * them runs natively (ltn12_51.c).
 */
#include <string.h>

#include "ltn12_51.h"

#define CRLF "\r\n"

/* An optional string argument: NULL for nil or none. */
static const uint8_t *optbytes(lua_State *L, int i, size_t *len)
{
    *len = 0;
    return (const uint8_t *)luaL_optlstring(L, i, NULL, len);
}

static int fail(lua_State *L, sockit_status st)
{
    return luaL_error(L, "%s", lt_errmsg(st));
}

/* Pushes A (nil when a_nil) and B (nil when b_nil). */
static int push2(lua_State *L, sockit_buffer *a, int a_nil, sockit_buffer *b, int b_nil)
{
    if (a_nil)
        lua_pushnil(L);
    else
        lt_pushbuffer(L, a);
    if (b_nil)
        lua_pushnil(L);
    else
        lt_pushbuffer(L, b);
    return 2;
}

typedef sockit_status (*pairfn)(const uint8_t *, size_t, const uint8_t *, size_t,
                                sockit_buffer *, sockit_buffer *);

/* b64, unb64, unqp: (C, D) -> A, B. */
static int pair(lua_State *L, pairfn fn)
{
    size_t clen, dlen;
    const uint8_t *c = optbytes(L, 1, &clen);
    const uint8_t *d = optbytes(L, 2, &dlen);
    sockit_buffer *a = lt_scratch(L, 0), *b = lt_scratch(L, 1);
    sockit_status st;
    if (c == NULL) {
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    st = fn(c, clen, d, dlen, a, b);
    if (st != SOCKIT_OK)
        return fail(L, st);
    return push2(L, a, d == NULL && sockit_buffer_len(a) == 0, b, d == NULL);
}

static int mime_b64(lua_State *L)
{
    return pair(L, sockit_mime_b64);
}

static int mime_unb64(lua_State *L)
{
    return pair(L, sockit_mime_unb64);
}

static int mime_unqp(lua_State *L)
{
    return pair(L, sockit_mime_unqp);
}

/* qp(C, D [, marker]) -> A, B */
static int mime_qp(lua_State *L)
{
    size_t clen, dlen, mlen;
    const uint8_t *c = optbytes(L, 1, &clen);
    const uint8_t *d = optbytes(L, 2, &dlen);
    const char *marker = luaL_optlstring(L, 3, CRLF, &mlen);
    sockit_buffer *a = lt_scratch(L, 0), *b = lt_scratch(L, 1);
    sockit_status st;
    if (c == NULL) {
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    st = sockit_mime_qp(c, clen, d, dlen, (const uint8_t *)marker, mlen, a, b);
    if (st != SOCKIT_OK)
        return fail(L, st);
    return push2(L, a, d == NULL && sockit_buffer_len(a) == 0, b, d == NULL);
}

typedef sockit_status (*wrapfn)(int64_t, const uint8_t *, size_t, int64_t, sockit_buffer *,
                                int64_t *);

/* wrp / qpwrp(n, C [, length]) -> A, n */
static int wrap(lua_State *L, wrapfn fn)
{
    int64_t left = (int64_t)luaL_checknumber(L, 1);
    size_t clen;
    const uint8_t *c = optbytes(L, 2, &clen);
    int64_t length = (int64_t)luaL_optnumber(L, 3, 76);
    sockit_buffer *a = lt_scratch(L, 0);
    int64_t out = 0;
    sockit_status st = fn(left, c, clen, length, a, &out);
    if (st != SOCKIT_OK)
        return fail(L, st);
    if (c == NULL && sockit_buffer_len(a) == 0)
        lua_pushnil(L);
    else
        lt_pushbuffer(L, a);
    lua_pushnumber(L, (lua_Number)out);
    return 2;
}

static int mime_wrp(lua_State *L)
{
    return wrap(L, sockit_mime_wrp);
}

static int mime_qpwrp(lua_State *L)
{
    return wrap(L, sockit_mime_qpwrp);
}

/* eol(ctx, D [, marker]) -> A, ctx */
static int mime_eol(lua_State *L)
{
    int64_t ctx = (int64_t)luaL_checkinteger(L, 1);
    size_t dlen, mlen;
    const uint8_t *d = optbytes(L, 2, &dlen);
    const char *marker = luaL_optlstring(L, 3, CRLF, &mlen);
    sockit_buffer *a = lt_scratch(L, 0);
    int64_t out = 0;
    sockit_status st;
    if (d == NULL) {
        lua_pushnil(L);
        lua_pushnumber(L, 0);
        return 2;
    }
    st = sockit_mime_eol(ctx, d, dlen, (const uint8_t *)marker, mlen, a, &out);
    if (st != SOCKIT_OK)
        return fail(L, st);
    lt_pushbuffer(L, a);
    lua_pushnumber(L, (lua_Number)out);
    return 2;
}

/* dot(m, C) -> A, m */
static int mime_dot(lua_State *L)
{
    int64_t state = (int64_t)luaL_checknumber(L, 1);
    size_t clen;
    const uint8_t *c = optbytes(L, 2, &clen);
    sockit_buffer *a = lt_scratch(L, 0);
    int64_t out = 0;
    sockit_status st;
    if (c == NULL) {
        lua_pushnil(L);
        lua_pushnumber(L, 2);
        return 2;
    }
    st = sockit_mime_dot(state, c, clen, a, &out);
    if (st != SOCKIT_OK)
        return fail(L, st);
    lt_pushbuffer(L, a);
    lua_pushnumber(L, (lua_Number)out);
    return 2;
}

static const struct {
    const char *name;
    lua_CFunction fn;
    int id;
} funcs[] = {
    {"b64", mime_b64, LT_M_B64},       {"unb64", mime_unb64, LT_M_UNB64},
    {"qp", mime_qp, LT_M_QP},          {"unqp", mime_unqp, LT_M_UNQP},
    {"wrp", mime_wrp, LT_M_WRP},       {"qpwrp", mime_qpwrp, LT_M_QPWRP},
    {"eol", mime_eol, LT_M_EOL},       {"dot", mime_dot, LT_M_DOT},
};

__attribute__((visibility("default"))) int luaopen_mime_core(lua_State *L)
{
    size_t i;
    lt_open(L);
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LT_LOWFUNCS);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, LT_LOWFUNCS);
    }
    for (i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        lua_pushcfunction(L, funcs[i].fn);
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, funcs[i].name);
        lua_pushnumber(L, funcs[i].id);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    lua_pushliteral(L, "MIME 1.0.3");
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
