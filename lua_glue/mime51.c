/*
 * mime51.c: luaopen_mime_core, sockit's "mime.core" for Lua 5.1 / LuaJIT: LuaSocket's
 * low-level incremental calls (b64, unb64, qp, unqp, wrp, qpwrp, eol, dot) with their
 * exact argument and nil conventions, and native filter constructors (base64, quoted-
 * printable, wrapping, normalisation, dot-stuffing) that mime.lua hands out, so that
 * pipelines of native stages never call back into Lua.
 */
#include <string.h>

#include "sk51.h"
#include "ltn12_51.h"

#define SCRATCH "sockit.mime.scratch"

typedef struct {
    const uint8_t *p;
    size_t len;
} bytes;

/* An optional string argument: nil (or absent) is NULL. */
static bytes opt_bytes(lua_State *L, int i)
{
    bytes b = {NULL, 0};
    if (!lua_isnoneornil(L, i))
        b.p = (const uint8_t *)luaL_checklstring(L, i, &b.len);
    return b;
}

/* Pushes buffer A, or nil when it is empty and `nil_if_empty`; nil when `force_nil`. */
static void push_a(lua_State *L, sockit_buffer *a, int force_nil, int nil_if_empty)
{
    if (force_nil || (nil_if_empty && sockit_buffer_len(a) == 0))
        lua_pushnil(L);
    else
        sk51_pushbuffer(L, a);
}

/* The (A, B) calls: b64, unb64, unqp share this shape; qp adds a marker. */
typedef sockit_status (*pair_fn)(const uint8_t *, size_t, const uint8_t *, size_t,
                                 sockit_buffer *, sockit_buffer *);

static int pair_call(lua_State *L, pair_fn fn)
{
    bytes c = opt_bytes(L, 1), d = opt_bytes(L, 2);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st;
    if (c.p == NULL) { /* end-of-input black hole */
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    st = fn(c.p, c.len, d.p, d.len, S->data, S->text);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    push_a(L, S->data, 0, d.p == NULL);
    if (d.p == NULL)
        lua_pushnil(L);
    else
        sk51_pushbuffer(L, S->text);
    return 2;
}

static int l_b64(lua_State *L)
{
    return pair_call(L, sockit_mime_b64);
}

static int l_unb64(lua_State *L)
{
    return pair_call(L, sockit_mime_unb64);
}

static int l_unqp(lua_State *L)
{
    return pair_call(L, sockit_mime_unqp);
}

static int l_qp(lua_State *L)
{
    bytes c = opt_bytes(L, 1), d = opt_bytes(L, 2);
    size_t mlen = 0;
    const char *marker = luaL_optlstring(L, 3, "\r\n", &mlen);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st;
    if (c.p == NULL) {
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    st = sockit_mime_qp(c.p, c.len, d.p, d.len, (const uint8_t *)marker, mlen, S->data, S->text);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    push_a(L, S->data, 0, d.p == NULL);
    if (d.p == NULL)
        lua_pushnil(L);
    else
        sk51_pushbuffer(L, S->text);
    return 2;
}

typedef sockit_status (*wrap_fn)(int64_t, const uint8_t *, size_t, int64_t, sockit_buffer *,
                                 int64_t *);

static int wrap_call(lua_State *L, wrap_fn fn)
{
    int64_t left = (int64_t)luaL_checknumber(L, 1);
    bytes c = opt_bytes(L, 2);
    int64_t length = (int64_t)luaL_optnumber(L, 3, 76);
    int64_t left_out = 0;
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st = fn(left, c.p, c.len, length, S->data, &left_out);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    push_a(L, S->data, 0, c.p == NULL);
    lua_pushnumber(L, (lua_Number)left_out);
    return 2;
}

static int l_wrp(lua_State *L)
{
    return wrap_call(L, sockit_mime_wrp);
}

static int l_qpwrp(lua_State *L)
{
    return wrap_call(L, sockit_mime_qpwrp);
}

static int l_eol(lua_State *L)
{
    int64_t ctx = (int64_t)luaL_checknumber(L, 1);
    bytes d = opt_bytes(L, 2);
    size_t mlen = 0;
    const char *marker = luaL_optlstring(L, 3, "\r\n", &mlen);
    int64_t ctx_out = 0;
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st =
        sockit_mime_eol(ctx, d.p, d.len, (const uint8_t *)marker, mlen, S->data, &ctx_out);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    push_a(L, S->data, 0, d.p == NULL);
    lua_pushnumber(L, (lua_Number)ctx_out);
    return 2;
}

static int l_dot(lua_State *L)
{
    int64_t state = (int64_t)luaL_checknumber(L, 1);
    bytes c = opt_bytes(L, 2);
    int64_t state_out = 0;
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st = sockit_mime_dot(state, c.p, c.len, S->data, &state_out);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    push_a(L, S->data, 0, c.p == NULL);
    lua_pushnumber(L, (lua_Number)state_out);
    return 2;
}

/* ---------------------------------------------------------------- native filters */

static int filter_result(lua_State *L, sockit_status st, sockit_filter *f)
{
    return sk51_stage_result(L, st, SK_FILTER, f, 0, NULL);
}

static int l_encode_base64(lua_State *L)
{
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_base64_encode(&f);
    return filter_result(L, made, f);
}

static int l_decode_base64(lua_State *L)
{
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_base64_decode(&f);
    return filter_result(L, made, f);
}

static int l_encode_qp(lua_State *L)
{
    const char *mode = luaL_optstring(L, 1, "text");
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_qp_encode(strcmp(mode, "binary") == 0, &f);
    return filter_result(L, made, f);
}

static int l_decode_qp(lua_State *L)
{
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_qp_decode(&f);
    return filter_result(L, made, f);
}

static int l_wrap_text(lua_State *L)
{
    int64_t length = (int64_t)luaL_optnumber(L, 1, 76);
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_wrap(length, &f);
    return filter_result(L, made, f);
}

static int l_wrap_qp(lua_State *L)
{
    int64_t length = (int64_t)luaL_optnumber(L, 1, 76);
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_qp_wrap(length, &f);
    return filter_result(L, made, f);
}

static int l_normalize(lua_State *L)
{
    size_t mlen = 0;
    const char *marker = luaL_optlstring(L, 1, "\r\n", &mlen);
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_normalize((const uint8_t *)marker, mlen, &f);
    return filter_result(L, made, f);
}

static int l_stuff(lua_State *L)
{
    sockit_filter *f = NULL;
    sockit_status made = sockit_filter_dot_stuff(lua_toboolean(L, 1), &f);
    return filter_result(L, made, f);
}

static const luaL_Reg funcs[] = {
    {"b64", l_b64},
    {"unb64", l_unb64},
    {"qp", l_qp},
    {"unqp", l_unqp},
    {"wrp", l_wrp},
    {"qpwrp", l_qpwrp},
    {"eol", l_eol},
    {"dot", l_dot},
    {"_encode_base64", l_encode_base64},
    {"_decode_base64", l_decode_base64},
    {"_encode_qp", l_encode_qp},
    {"_decode_qp", l_decode_qp},
    {"_wrap_text", l_wrap_text},
    {"_wrap_qp", l_wrap_qp},
    {"_normalize", l_normalize},
    {"_stuff", l_stuff},
    {NULL, NULL},
};

SK_EXPORT int luaopen_mime_core(lua_State *L)
{
    sk51_ltn12_open(L);
    sk51_scratch_open(L, SCRATCH);
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    lua_pushstring(L, "MIME 1.0.3 (sockit)");
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
