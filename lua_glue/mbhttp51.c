/*
 * mbhttp51.c: luaopen_moonbridge_http_core, the C half of moonbridge_http for Lua 5.1 /
 * LuaJIT (moonbridge_http.lua builds Moonbridge's request object on it).
 *
 *   core.connection(socket, options) -> conn   the server side of an HTTP connection
 *                                              over a moonbridge_io socket
 *     conn:read_request()  -> method, target, minor, {name, value, ...}
 *                           | nil, status, message       (status 0: nothing to answer)
 *     conn:read_body()     -> chunk | false (end) | nil, message, status
 *     conn:has_body(), conn:body_done(), conn:keep_alive() -> boolean
 *     conn:status(code, reason), conn:header(name, value), conn:finish_headers(),
 *     conn:send(data), conn:flush(), conn:finish()  -> true | nil, message
 *     conn:close_after(), conn:refuse(status), conn:close()
 *   core.form(content_type | nil, max_chunk) -> form | nil (not a form) | false, message
 *     form:feed(data), form:finish() -> true | nil, message
 *     form:next() -> "field", name, file_name, content_type | "data", chunk | "end" | nil
 *     form:is_multipart() -> boolean
 *
 * Everything is sockit's C API (sockit_http_exchange, sockit_form).
 */
#include <string.h>

#include "sk51.h"

#define CLS_CONN "moonbridge_http connection"
#define CLS_FORM "moonbridge_http form"
#define SCRATCH "sockit.mbhttp.scratch"

typedef struct {
    sockit_http_exchange *ex;
    sk_obj *sock; /* the moonbridge_io socket object (kept alive through the env table) */
    sockit_buffer *fields; /* the last request's fields, reused */
} conn_obj;

typedef struct {
    sockit_form *f;
} form_obj;

/* ---------------------------------------------------------------- helpers */

static int fail_msg(lua_State *L)
{
    lua_pushnil(L);
    lua_pushstring(L, sockit_last_error());
    return 2;
}

static int ok_or_fail(lua_State *L, sockit_status st)
{
    if (st != SOCKIT_OK)
        return fail_msg(L);
    lua_pushboolean(L, 1);
    return 1;
}

static conn_obj *check_conn(lua_State *L)
{
    conn_obj *c = (conn_obj *)luaL_checkudata(L, 1, CLS_CONN);
    if (c->ex == NULL)
        luaL_error(L, "moonbridge_http: the connection is closed");
    return c;
}

/* The connection's socket handle, or a Lua error when the socket was closed. */
static sockit_socket *conn_socket(lua_State *L, conn_obj *c)
{
    if (c->sock == NULL || c->sock->s == NULL || c->sock->closed_by_user)
        luaL_error(L, "moonbridge_http: the socket has been closed");
    return c->sock->s;
}

static double opt_number(lua_State *L, int t, const char *k, double dflt)
{
    double v = dflt;
    lua_getfield(L, t, k);
    if (lua_isnumber(L, -1))
        v = lua_tonumber(L, -1);
    else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
        v = -1; /* false: none */
    else if (!lua_isnil(L, -1))
        luaL_error(L, "moonbridge_http: option %s must be a number", k);
    lua_pop(L, 1);
    return v;
}

/* ---------------------------------------------------------------- connection */

static int conn_new(lua_State *L)
{
    sk_obj *o = sk51_toobj(L, 1);
    conn_obj *c;
    double head, body, in, out;
    if (o == NULL || o->type != SK_STREAM || o->s == NULL)
        luaL_argerror(L, 1, "moonbridge_io socket expected");
    luaL_checktype(L, 2, LUA_TTABLE);
    c = (conn_obj *)lua_newuserdata(L, sizeof *c);
    c->ex = NULL;
    c->sock = o;
    c->fields = NULL;
    luaL_getmetatable(L, CLS_CONN);
    lua_setmetatable(L, -2);
    /* Keep the socket object alive as long as the connection object. */
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_setfenv(L, -2);
    c->fields = sockit_buffer_new();
    if (sockit_http_exchange_new(&c->ex) != SOCKIT_OK)
        luaL_error(L, "moonbridge_http: %s", sockit_last_error());
    head = opt_number(L, 2, "request_header_size_limit", 1024 * 1024);
    body = opt_number(L, 2, "request_body_size_limit", 64.0 * 1024 * 1024);
    in = opt_number(L, 2, "maximum_input_chunk_size", 16384);
    out = opt_number(L, 2, "minimum_output_chunk_size", 16384);
    if (sockit_http_exchange_set_limits(c->ex, head < 64 ? 64 : (size_t)head,
                                        body < 0 ? -1 : (int64_t)body) != SOCKIT_OK ||
        sockit_http_exchange_set_chunks(c->ex, in < 1 ? 1 : (size_t)in,
                                        out < 1 ? 1 : (size_t)out) != SOCKIT_OK ||
        sockit_http_exchange_set_timeouts(
            c->ex, opt_number(L, 2, "idle_timeout", 65), opt_number(L, 2, "stall_timeout", 60),
            opt_number(L, 2, "request_header_timeout", 120),
            opt_number(L, 2, "response_timeout", 3600)) != SOCKIT_OK)
        luaL_error(L, "moonbridge_http: %s", sockit_last_error());
    /* static headers: a flat {name, value, ...} list */
    lua_getfield(L, 2, "static_header_list");
    if (lua_istable(L, -1)) {
        int i, n = (int)lua_objlen(L, -1);
        for (i = 1; i + 1 <= n; i += 2) {
            lua_rawgeti(L, -1, i);
            lua_rawgeti(L, -2, i + 1);
            if (sockit_http_exchange_add_static_header(c->ex, luaL_checkstring(L, -2),
                                                       luaL_checkstring(L, -1)) != SOCKIT_OK)
                luaL_error(L, "moonbridge_http: static_headers: %s", sockit_last_error());
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1);
    return 1;
}

static int conn_gc(lua_State *L)
{
    conn_obj *c = (conn_obj *)lua_touserdata(L, 1);
    if (c && c->ex) {
        sockit_http_exchange_free(c->ex);
        c->ex = NULL;
    }
    if (c && c->fields) {
        sockit_buffer_free(c->fields);
        c->fields = NULL;
    }
    return 0;
}

static int conn_close(lua_State *L)
{
    return conn_gc(L);
}

static int conn_read_request(lua_State *L)
{
    conn_obj *c = check_conn(L);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_buffer *method = S->data, *target = S->text;
    sockit_buffer *fields = c->fields;
    int version = 1, refusal = 0, n = 0;
    sockit_status st = sockit_http_exchange_read_request(c->ex, conn_socket(L, c), method, target,
                                                         &version, fields, &refusal);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushinteger(L, refusal);
        lua_pushstring(L, sockit_last_error());
        return 3;
    }
    sk51_pushbuffer(L, method);
    sk51_pushbuffer(L, target);
    lua_pushinteger(L, version);
    {
        const char *p = (const char *)sockit_buffer_data(fields);
        const char *end = p + sockit_buffer_len(fields);
        lua_createtable(L, 16, 0);
        while (p < end) {
            const char *z = memchr(p, '\0', (size_t)(end - p));
            if (z == NULL)
                break;
            lua_pushlstring(L, p, (size_t)(z - p));
            lua_rawseti(L, -2, ++n);
            p = z + 1;
        }
    }
    return 4;
}

static int conn_read_body(lua_State *L)
{
    conn_obj *c = check_conn(L);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    bool end = false;
    int refusal = 0;
    sockit_status st =
        sockit_http_exchange_read_body(c->ex, conn_socket(L, c), S->data, &end, &refusal);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sockit_last_error());
        lua_pushinteger(L, refusal);
        return 3;
    }
    if (end) {
        lua_pushboolean(L, 0);
        return 1;
    }
    sk51_pushbuffer(L, S->data);
    return 1;
}

static int conn_body_flags(lua_State *L, int which)
{
    conn_obj *c = check_conn(L);
    bool has = false, done = true;
    sockit_http_exchange_body_state(c->ex, &has, &done);
    lua_pushboolean(L, which ? done : has);
    return 1;
}

static int conn_has_body(lua_State *L)
{
    return conn_body_flags(L, 0);
}

static int conn_body_done(lua_State *L)
{
    return conn_body_flags(L, 1);
}

static int conn_status(lua_State *L)
{
    conn_obj *c = check_conn(L);
    int code = (int)luaL_checkinteger(L, 2);
    return ok_or_fail(L, sockit_http_exchange_status(c->ex, code, luaL_optstring(L, 3, "")));
}

static int conn_header(lua_State *L)
{
    conn_obj *c = check_conn(L);
    size_t len;
    const char *name = luaL_checkstring(L, 2);
    const char *value = luaL_checklstring(L, 3, &len);
    return ok_or_fail(L, sockit_http_exchange_header(c->ex, name, (const uint8_t *)value, len));
}

static int conn_finish_headers(lua_State *L)
{
    conn_obj *c = check_conn(L);
    return ok_or_fail(L, sockit_http_exchange_finish_headers(c->ex, conn_socket(L, c)));
}

static int conn_send(lua_State *L)
{
    conn_obj *c = check_conn(L);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    return ok_or_fail(
        L, sockit_http_exchange_send(c->ex, conn_socket(L, c), (const uint8_t *)data, len));
}

static int conn_flush(lua_State *L)
{
    conn_obj *c = check_conn(L);
    return ok_or_fail(L, sockit_http_exchange_flush(c->ex, conn_socket(L, c)));
}

static int conn_finish(lua_State *L)
{
    conn_obj *c = check_conn(L);
    return ok_or_fail(L, sockit_http_exchange_finish(c->ex, conn_socket(L, c)));
}

static int conn_close_after(lua_State *L)
{
    conn_obj *c = check_conn(L);
    sockit_http_exchange_close_after(c->ex);
    return 0;
}

static int conn_keep_alive(lua_State *L)
{
    conn_obj *c = check_conn(L);
    bool keep = false;
    sockit_http_exchange_keep_alive(c->ex, &keep);
    lua_pushboolean(L, keep);
    return 1;
}

static int conn_refuse(lua_State *L)
{
    conn_obj *c = check_conn(L);
    int status = (int)luaL_checkinteger(L, 2);
    if (c->sock && c->sock->s && !c->sock->closed_by_user)
        sockit_http_exchange_refuse(c->ex, c->sock->s, status);
    return 0;
}

/* ---------------------------------------------------------------- forms */

static form_obj *check_form(lua_State *L)
{
    form_obj *f = (form_obj *)luaL_checkudata(L, 1, CLS_FORM);
    if (f->f == NULL)
        luaL_error(L, "moonbridge_http: the form parser is gone");
    return f;
}

static int form_new(lua_State *L)
{
    size_t max_chunk = (size_t)luaL_optnumber(L, 2, 16384);
    form_obj *f;
    sockit_status st;
    sockit_form *p = NULL;
    if (lua_isnoneornil(L, 1))
        st = sockit_form_new_urlencoded(max_chunk, &p);
    else
        st = sockit_form_new(luaL_checkstring(L, 1), max_chunk, &p);
    if (st == SOCKIT_UNSUPPORTED) {
        lua_pushnil(L);
        return 1;
    }
    if (st != SOCKIT_OK) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, sockit_last_error());
        return 2;
    }
    f = (form_obj *)lua_newuserdata(L, sizeof *f);
    f->f = p;
    luaL_getmetatable(L, CLS_FORM);
    lua_setmetatable(L, -2);
    return 1;
}

static int form_gc(lua_State *L)
{
    form_obj *f = (form_obj *)lua_touserdata(L, 1);
    if (f && f->f) {
        sockit_form_free(f->f);
        f->f = NULL;
    }
    return 0;
}

static int form_feed(lua_State *L)
{
    form_obj *f = check_form(L);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    return ok_or_fail(L, sockit_form_feed(f->f, (const uint8_t *)data, len));
}

static int form_finish(lua_State *L)
{
    form_obj *f = check_form(L);
    return ok_or_fail(L, sockit_form_end(f->f));
}

static int form_next(lua_State *L)
{
    form_obj *f = check_form(L);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_form_event ev = SOCKIT_FORM_NONE;
    if (sockit_form_next(f->f, &ev, S->data, NULL) != SOCKIT_OK)
        return fail_msg(L);
    switch (ev) {
    case SOCKIT_FORM_FIELD: {
        bool hf = false, hc = false;
        lua_pushliteral(L, "field");
        sk51_pushbuffer(L, S->data);
        sockit_form_field_info(f->f, S->data, &hf, S->text, &hc);
        if (hf)
            sk51_pushbuffer(L, S->data);
        else
            lua_pushnil(L);
        if (hc)
            sk51_pushbuffer(L, S->text);
        else
            lua_pushnil(L);
        return 4;
    }
    case SOCKIT_FORM_DATA:
        lua_pushliteral(L, "data");
        sk51_pushbuffer(L, S->data);
        return 2;
    case SOCKIT_FORM_END:
        lua_pushliteral(L, "end");
        return 1;
    default:
        lua_pushnil(L);
        return 1;
    }
}

static int form_is_multipart(lua_State *L)
{
    form_obj *f = check_form(L);
    bool m = false;
    sockit_form_is_multipart(f->f, &m);
    lua_pushboolean(L, m);
    return 1;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg conn_methods[] = {
    {"read_request", conn_read_request},
    {"read_body", conn_read_body},
    {"has_body", conn_has_body},
    {"body_done", conn_body_done},
    {"status", conn_status},
    {"header", conn_header},
    {"finish_headers", conn_finish_headers},
    {"send", conn_send},
    {"flush", conn_flush},
    {"finish", conn_finish},
    {"close_after", conn_close_after},
    {"keep_alive", conn_keep_alive},
    {"refuse", conn_refuse},
    {"close", conn_close},
    {NULL, NULL},
};

static const luaL_Reg form_methods[] = {
    {"feed", form_feed},     {"finish", form_finish},         {"next", form_next},
    {"is_multipart", form_is_multipart}, {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"connection", conn_new},
    {"form", form_new},
    {NULL, NULL},
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

SK_EXPORT int luaopen_moonbridge_http_core(lua_State *L)
{
    sk51_scratch_open(L, SCRATCH);
    new_class(L, CLS_CONN, conn_methods, conn_gc);
    new_class(L, CLS_FORM, form_methods, form_gc);
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    return 1;
}
