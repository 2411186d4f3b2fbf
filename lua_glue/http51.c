/*
 * http51.c: luaopen_sockit_http_core, the C half of "sockit.http" (Emilua's http.socket,
 * http.request, http.response) for Lua 5.1 / LuaJIT, over sockit's sockit_httpsock.
 * sockit/http.lua is the module itself; it adds the {yield = true} variants in Lua, as
 * loops over this module's non-blocking calls (Lua 5.1 cannot yield across C).
 *
 * Messages are Lua tables (fields method, target, status, reason, headers, body,
 * trailers); each socket object converts them to and from its own sockit messages.
 * Header tables map lower-case names to a string, or to an array of strings for a
 * field that is repeated.
 *
 * Methods return true on success, or nil, a message and (for a refused request) the
 * status to answer with; "timeout", "closed" and "block" are LuaSocket's short strings.
 * Wrong argument types raise Lua errors.
 */
#include <string.h>

#include "sk51.h"

#define CLS "sockit.http.socket"
#define METHODS_KEY "sockit.http.methods"
#define YIELD_METHODS_KEY "sockit.http.yield_methods"

typedef struct {
    sockit_httpsock *hs;
    sockit_httpreq *req; /* scratch messages for the conversions */
    sockit_httpres *res;
    int yield;           /* methods come from the yield table (non-blocking calls) */
    const char *err;     /* a failure the glue found itself (static text), for fail() */
} hobj;

static hobj *check(lua_State *L, int i)
{
    hobj *h = (hobj *)luaL_checkudata(L, i, CLS);
    if (h->hs == NULL)
        luaL_error(L, "attempt to use a freed http socket");
    return h;
}

/* Pushes nil, the message for st and, when the socket refused a request, its status. */
static int fail(lua_State *L, hobj *h, sockit_status st)
{
    int refusal = 0;
    lua_pushnil(L);
    if (h && h->err) {
        lua_pushstring(L, h->err);
        h->err = NULL;
        return 2;
    }
    switch (st) {
    case SOCKIT_TIMEOUT:
    case SOCKIT_CLOSED:
    case SOCKIT_WOULDBLOCK:
        lua_pushstring(L, sockit_status_str(st));
        break;
    default:
        lua_pushstring(L, sockit_last_error());
        break;
    }
    if (st == SOCKIT_PROTOCOL && h && sockit_httpsock_info(h->hs, NULL, NULL, NULL, &refusal) == SOCKIT_OK &&
        refusal) {
        lua_pushinteger(L, refusal);
        return 3;
    }
    return 2;
}

static int done(lua_State *L, hobj *h, sockit_status st)
{
    if (st != SOCKIT_OK)
        return fail(L, h, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---------------------------------------------------------------- Lua -> sockit */

/* Adds the fields of the table at index t to msg (req or res); trailers when tr.
 * Returns a status; a failure the glue finds itself is SOCKIT_INVALID with h->err. */
static sockit_status load_fields(lua_State *L, hobj *h, int t, sockit_httpreq *req,
                                 sockit_httpres *res, int tr)
{
    sockit_status st = req ? sockit_httpreq_clear_fields(req, tr) : sockit_httpres_clear_fields(res, tr);
    if (st != SOCKIT_OK || lua_isnoneornil(L, t))
        return st;
    if (!lua_istable(L, t))
        luaL_error(L, "%s must be a table", tr ? "trailers" : "headers");
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        size_t nlen;
        const char *name;
        int k, n = 1, array = lua_istable(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "header names must be strings");
        name = lua_tolstring(L, -2, &nlen);
        if (strlen(name) != nlen) {
            lua_pop(L, 2);
            h->err = "header name contains NUL";
            return SOCKIT_INVALID;
        }
        if (array)
            n = (int)lua_objlen(L, -1);
        for (k = 1; k <= n; k++) {
            size_t vlen;
            const char *v;
            if (array)
                lua_rawgeti(L, -1, k);
            else
                lua_pushvalue(L, -1);
            if (!lua_isstring(L, -1))
                luaL_error(L, "value of header '%s' must be a string", name);
            v = lua_tolstring(L, -1, &vlen);
            st = req ? sockit_httpreq_add_field(req, tr, name, (const uint8_t *)v, vlen)
                     : sockit_httpres_add_field(res, tr, name, (const uint8_t *)v, vlen);
            lua_pop(L, 1);
            if (st != SOCKIT_OK) {
                lua_pop(L, 2);
                return st;
            }
        }
        lua_pop(L, 1);
    }
    return SOCKIT_OK;
}

/* The string field k of the table at t, or def when nil. */
static const char *opt_field(lua_State *L, int t, const char *k, const char *def, size_t *len)
{
    const char *s;
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (len)
            *len = strlen(def);
        return def;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "message field '%s' must be a string", k);
    s = lua_tolstring(L, -1, len);
    lua_pop(L, 1); /* the table keeps the string alive */
    return s;
}

static sockit_status check_nul(hobj *h, const char *s, size_t len, const char *what)
{
    if (strlen(s) == len)
        return SOCKIT_OK;
    h->err = what;
    return SOCKIT_INVALID;
}

/* Loads the request table at t into h->req (with the body when body). */
static sockit_status load_request(lua_State *L, hobj *h, int t, int body)
{
    size_t len;
    const char *s;
    sockit_status st;
    luaL_checktype(L, t, LUA_TTABLE);
    s = opt_field(L, t, "method", "GET", &len);
    if ((st = check_nul(h, s, len, "method contains NUL")) != SOCKIT_OK || (st = sockit_httpreq_set_method(h->req, s)) != SOCKIT_OK)
        return st;
    s = opt_field(L, t, "target", "/", &len);
    if ((st = check_nul(h, s, len, "request target contains NUL")) != SOCKIT_OK || (st = sockit_httpreq_set_target(h->req, s)) != SOCKIT_OK)
        return st;
    lua_getfield(L, t, "version");
    if (!lua_isnil(L, -1)) {
        lua_Number v = lua_tonumber(L, -1);
        if (v != 1.0 && v != 1.1) {
            lua_pop(L, 1);
            h->err = "version must be 1.0 or 1.1";
            return SOCKIT_INVALID;
        }
        if ((st = sockit_httpreq_set_version(h->req, v == 1.0 ? 0 : 1)) != SOCKIT_OK)
            return lua_pop(L, 1), st;
    } else if ((st = sockit_httpreq_set_version(h->req, 1)) != SOCKIT_OK) {
        return lua_pop(L, 1), st;
    }
    lua_pop(L, 1);
    lua_getfield(L, t, "headers");
    st = load_fields(L, h, lua_gettop(L), h->req, NULL, 0);
    lua_pop(L, 1);
    if (st != SOCKIT_OK)
        return st;
    if (body) {
        s = opt_field(L, t, "body", "", &len);
        st = sockit_httpreq_set_body(h->req, (const uint8_t *)s, len);
    }
    return st;
}

static sockit_status load_response(lua_State *L, hobj *h, int t, int body)
{
    size_t len;
    const char *s;
    sockit_status st;
    lua_Number status;
    luaL_checktype(L, t, LUA_TTABLE);
    lua_getfield(L, t, "status");
    status = lua_isnil(L, -1) ? 200 : luaL_checknumber(L, -1);
    lua_pop(L, 1);
    s = opt_field(L, t, "reason", "", &len);
    if ((st = check_nul(h, s, len, "reason phrase contains NUL")) != SOCKIT_OK ||
        (st = sockit_httpres_set_status(h->res, (int)status, s)) != SOCKIT_OK)
        return st;
    lua_getfield(L, t, "headers");
    st = load_fields(L, h, lua_gettop(L), NULL, h->res, 0);
    lua_pop(L, 1);
    if (st != SOCKIT_OK)
        return st;
    if (body) {
        s = opt_field(L, t, "body", "", &len);
        st = sockit_httpres_set_body(h->res, (const uint8_t *)s, len);
    }
    return st;
}

/* ---------------------------------------------------------------- sockit -> Lua */

/* Sets t[key] to a new table of the fields of the message (a string per name, an array
 * for a repeated name). */
static void store_fields(lua_State *L, int t, const char *key, sockit_httpreq *req,
                         sockit_httpres *res, int tr)
{
    size_t i, count = 0;
    if (req)
        sockit_httpreq_field_count(req, tr, &count);
    else
        sockit_httpres_field_count(res, tr, &count);
    lua_createtable(L, 0, (int)count);
    for (i = 0; i < count; i++) {
        const uint8_t *n, *v;
        size_t nl, vl;
        if ((req ? sockit_httpreq_field_at(req, tr, i, &n, &nl, &v, &vl)
                 : sockit_httpres_field_at(res, tr, i, &n, &nl, &v, &vl)) != SOCKIT_OK)
            break;
        lua_pushlstring(L, (const char *)n, nl);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, (const char *)v, vl);
            lua_rawset(L, -3);
        } else if (lua_istable(L, -1)) {
            lua_pushlstring(L, (const char *)v, vl);
            lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
            lua_pop(L, 2);
        } else {
            /* second value of this name: make it an array */
            lua_createtable(L, 2, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
            lua_pushlstring(L, (const char *)v, vl);
            lua_rawseti(L, -2, 2);
            lua_rawset(L, -3);
        }
    }
    lua_setfield(L, t, key);
}

static void store_request(lua_State *L, hobj *h, int t)
{
    const uint8_t *m, *g;
    size_t ml, gl;
    int minor = 1;
    sockit_httpreq_line(h->req, &m, &ml, &g, &gl, &minor);
    lua_pushnumber(L, minor ? 1.1 : 1.0);
    lua_setfield(L, t, "version");
    lua_pushlstring(L, (const char *)m, ml);
    lua_setfield(L, t, "method");
    lua_pushlstring(L, (const char *)g, gl);
    lua_setfield(L, t, "target");
    store_fields(L, t, "headers", h->req, NULL, 0);
    lua_pushliteral(L, "");
    lua_setfield(L, t, "body");
    lua_newtable(L);
    lua_setfield(L, t, "trailers");
}

static void store_response(lua_State *L, hobj *h, int t)
{
    int status = 0;
    const uint8_t *r;
    size_t rl;
    int minor = 1;
    sockit_httpres_status(h->res, &status, &r, &rl, &minor);
    lua_pushnumber(L, minor ? 1.1 : 1.0);
    lua_setfield(L, t, "version");
    lua_pushinteger(L, status);
    lua_setfield(L, t, "status");
    lua_pushlstring(L, (const char *)r, rl);
    lua_setfield(L, t, "reason");
    store_fields(L, t, "headers", NULL, h->res, 0);
    lua_pushliteral(L, "");
    lua_setfield(L, t, "body");
    lua_newtable(L);
    lua_setfield(L, t, "trailers");
}

static int role_of(hobj *h)
{
    int role = 0;
    sockit_httpsock_info(h->hs, NULL, NULL, &role, NULL);
    return role;
}

/* ---------------------------------------------------------------- methods */

static int m_read_request(lua_State *L)
{
    hobj *h = check(L, 1);
    sockit_status st;
    luaL_checktype(L, 2, LUA_TTABLE);
    st = sockit_httpsock_read_request(h->hs, h->req);
    if (st == SOCKIT_OK)
        store_request(L, h, 2);
    return done(L, h, st);
}

static int m_read_response(lua_State *L)
{
    hobj *h = check(L, 1);
    sockit_status st;
    luaL_checktype(L, 2, LUA_TTABLE);
    st = sockit_httpsock_read_response(h->hs, h->res);
    if (st == SOCKIT_OK)
        store_response(L, h, 2);
    return done(L, h, st);
}

/* read_some(msg): msg.body = msg.body .. the next part; the trailers at the end. */
static int m_read_some(lua_State *L)
{
    hobj *h = check(L, 1);
    int client = role_of(h) == 2;
    sockit_status st;
    const uint8_t *d;
    size_t n = 0;
    sockit_http_read_state rs;
    luaL_checktype(L, 2, LUA_TTABLE);
    st = client ? sockit_httpsock_read_some(h->hs, NULL, h->res)
                : sockit_httpsock_read_some(h->hs, h->req, NULL);
    /* what arrived is delivered, also with an error */
    if (client)
        sockit_httpres_body(h->res, &d, &n);
    else
        sockit_httpreq_body(h->req, &d, &n);
    if (n > 0) {
        lua_getfield(L, 2, "body");
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "");
        }
        lua_pushlstring(L, (const char *)d, n);
        lua_concat(L, 2);
        lua_setfield(L, 2, "body");
        if (client)
            sockit_httpres_set_body(h->res, NULL, 0);
        else
            sockit_httpreq_set_body(h->req, NULL, 0);
    }
    if (st == SOCKIT_OK && sockit_httpsock_state(h->hs, &rs, NULL) == SOCKIT_OK &&
        (rs == SOCKIT_HTTP_READ_FINISHED || rs == SOCKIT_HTTP_READ_EMPTY))
        store_fields(L, 2, "trailers", client ? NULL : h->req, client ? h->res : NULL, 1);
    return done(L, h, st);
}

typedef sockit_status (*req_op)(sockit_httpsock *, sockit_httpreq *);
typedef sockit_status (*res_op)(sockit_httpsock *, sockit_httpres *);

/* A write of the request (rop) or response (sop) table at 2, with its body when body. */
static int write_message(lua_State *L, req_op rop, res_op sop, int body)
{
    hobj *h = check(L, 1);
    sockit_status st = rop ? load_request(L, h, 2, body) : load_response(L, h, 2, body);
    if (st == SOCKIT_OK)
        st = rop ? rop(h->hs, h->req) : sop(h->hs, h->res);
    return done(L, h, st);
}

static int m_write_request(lua_State *L)
{
    return write_message(L, sockit_httpsock_write_request, NULL, 1);
}

static int m_write_request_metadata(lua_State *L)
{
    return write_message(L, sockit_httpsock_write_request_metadata, NULL, 0);
}

static int m_write_response(lua_State *L)
{
    return write_message(L, NULL, sockit_httpsock_write_response, 1);
}

static int m_write_response_metadata(lua_State *L)
{
    return write_message(L, NULL, sockit_httpsock_write_response_metadata, 0);
}

static int m_write_response_continue(lua_State *L)
{
    hobj *h = check(L, 1);
    return done(L, h, sockit_httpsock_write_response_continue(h->hs));
}

/* write(msg): msg.body as the next piece, straight from the Lua string. */
static int m_write(lua_State *L)
{
    hobj *h = check(L, 1);
    size_t len;
    const char *s;
    luaL_checktype(L, 2, LUA_TTABLE);
    s = opt_field(L, 2, "body", "", &len);
    return done(L, h, sockit_httpsock_write_data(h->hs, (const uint8_t *)s, len));
}

static int m_write_trailers(lua_State *L)
{
    hobj *h = check(L, 1);
    int client = role_of(h) == 2;
    sockit_status st;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "trailers");
    st = load_fields(L, h, lua_gettop(L), client ? h->req : NULL, client ? NULL : h->res, 1);
    lua_pop(L, 1);
    if (st == SOCKIT_OK)
        st = client ? sockit_httpsock_write_trailers(h->hs, h->req, NULL)
                    : sockit_httpsock_write_trailers(h->hs, NULL, h->res);
    return done(L, h, st);
}

static int m_write_end_of_message(lua_State *L)
{
    hobj *h = check(L, 1);
    return done(L, h, sockit_httpsock_write_end_of_message(h->hs));
}

/* write_error([status]): a complete error response, then the end of the connection. */
static int m_write_error(lua_State *L)
{
    hobj *h = check(L, 1);
    int status = (int)luaL_optinteger(L, 2, 0);
    return done(L, h, sockit_httpsock_write_error(h->hs, status));
}

static int m_close(lua_State *L)
{
    hobj *h = check(L, 1);
    return done(L, h, sockit_httpsock_close(h->hs));
}

/* flush(): pushes what non-blocking writes queued; returns the bytes still queued. */
static int m_flush(lua_State *L)
{
    hobj *h = check(L, 1);
    size_t left = 0;
    sockit_status st = sockit_httpsock_flush(h->hs, &left);
    if (st != SOCKIT_OK)
        return fail(L, h, st);
    lua_pushnumber(L, (lua_Number)left);
    return 1;
}

/* The wrapped socket object (what the yield variants yield with). */
static int m_socket(lua_State *L)
{
    check(L, 1);
    lua_getfenv(L, 1);
    lua_getfield(L, -1, "socket");
    return 1;
}

static int obj_index(lua_State *L)
{
    hobj *h = (hobj *)luaL_checkudata(L, 1, CLS);
    const char *k = lua_tostring(L, 2);
    if (k && h->hs) {
        sockit_http_read_state r;
        sockit_http_write_state w;
        if (strcmp(k, "read_state") == 0 || strcmp(k, "write_state") == 0) {
            if (sockit_httpsock_state(h->hs, &r, &w) != SOCKIT_OK)
                return 0;
            lua_pushstring(L, k[0] == 'r' ? sockit_http_read_state_str(r) : sockit_http_write_state_str(w));
            return 1;
        }
        if (strcmp(k, "is_open") == 0 || strcmp(k, "upgraded") == 0) {
            int open = 0, up = 0;
            sockit_httpsock_info(h->hs, &open, &up, NULL, NULL);
            lua_pushboolean(L, k[0] == 'i' ? open : up);
            return 1;
        }
    }
    lua_getfield(L, LUA_REGISTRYINDEX, h->yield ? YIELD_METHODS_KEY : METHODS_KEY);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int obj_gc(lua_State *L)
{
    hobj *h = (hobj *)lua_touserdata(L, 1);
    if (h && h->hs) {
        sockit_httpsock_free(h->hs);
        sockit_httpreq_free(h->req);
        sockit_httpres_free(h->res);
        h->hs = NULL;
        h->req = NULL;
        h->res = NULL;
    }
    return 0;
}

static int obj_tostring(lua_State *L)
{
    lua_pushfstring(L, "http.socket: %p", lua_touserdata(L, 1));
    return 1;
}

/* ---------------------------------------------------------------- functions */

static size_t opt_size(lua_State *L, int t, const char *k, size_t def)
{
    lua_Number n;
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    n = luaL_checknumber(L, -1);
    lua_pop(L, 1);
    if (n < 1)
        luaL_error(L, "option '%s' must be at least 1", k);
    return (size_t)n;
}

/* new(sock [, options]): options yield (boolean: non-blocking calls; the Lua module
 * adds the yielding methods), max_head, max_line, max_fields, max_body, drain_limit,
 * read_chunk. */
static int l_new(lua_State *L)
{
    sk_obj *o = sk51_toobj(L, 1);
    hobj *h;
    sockit_status st;
    sockit_httpsock *hs = NULL;
    if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2))
        return luaL_argerror(L, 2, "table of options expected");
    lua_settop(L, 2); /* the options (or nil) stay at 2 */
    if (o == NULL || o->type != SK_STREAM || o->s == NULL || o->closed_by_user)
        return luaL_argerror(L, 1, "connected socket expected (socket.tcp, socket.unix or moonbridge_io)");
    st = sockit_httpsock_new(sk51_lend(o), &hs);
    if (st != SOCKIT_OK)
        return luaL_argerror(L, 1, sockit_last_error());
    h = (hobj *)lua_newuserdata(L, sizeof *h);
    memset(h, 0, sizeof *h);
    h->hs = hs;
    sockit_httpreq_new(&h->req);
    sockit_httpres_new(&h->res);
    luaL_getmetatable(L, CLS);
    lua_setmetatable(L, -2);
    lua_createtable(L, 0, 1); /* keeps the socket object alive as long as this one */
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "socket");
    lua_setfenv(L, -2);
    if (lua_istable(L, 2)) {
        lua_Number max_body = -1;
        lua_getfield(L, 2, "yield");
        h->yield = lua_toboolean(L, -1);
        lua_pop(L, 1);
        sockit_httpsock_set_nonblocking(hs, h->yield);
        st = sockit_httpsock_set_limits(hs, opt_size(L, 2, "max_head", 65536),
                                        opt_size(L, 2, "max_line", 8192),
                                        opt_size(L, 2, "max_fields", 100));
        if (st != SOCKIT_OK)
            return luaL_error(L, "%s", sockit_last_error());
        lua_getfield(L, 2, "max_body");
        if (!lua_isnil(L, -1))
            max_body = luaL_checknumber(L, -1);
        lua_pop(L, 1);
        st = sockit_httpsock_set_body_limits(hs, (int64_t)max_body,
                                             (uint64_t)opt_size(L, 2, "drain_limit", 262144),
                                             opt_size(L, 2, "read_chunk", 65536));
        if (st != SOCKIT_OK)
            return luaL_error(L, "%s", sockit_last_error());
    }
    lua_settop(L, 3);
    return 1;
}

static const luaL_Reg methods[] = {
    {"read_request", m_read_request},
    {"read_response", m_read_response},
    {"read_some", m_read_some},
    {"write_request", m_write_request},
    {"write_request_metadata", m_write_request_metadata},
    {"write_response", m_write_response},
    {"write_response_continue", m_write_response_continue},
    {"write_response_metadata", m_write_response_metadata},
    {"write", m_write},
    {"write_trailers", m_write_trailers},
    {"write_end_of_message", m_write_end_of_message},
    {"write_error", m_write_error},
    {"close", m_close},
    {"flush", m_flush},
    {"socket", m_socket},
    {NULL, NULL},
};

SK_EXPORT int luaopen_sockit_http_core(lua_State *L)
{
    luaL_newmetatable(L, CLS);
    lua_pushcfunction(L, obj_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, obj_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, obj_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    lua_newtable(L);
    luaL_register(L, NULL, methods);
    lua_setfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    lua_getfield(L, LUA_REGISTRYINDEX, YIELD_METHODS_KEY);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_setfield(L, LUA_REGISTRYINDEX, YIELD_METHODS_KEY);
    } else {
        lua_pop(L, 1);
    }

    lua_newtable(L);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    lua_setfield(L, -2, "methods");
    lua_getfield(L, LUA_REGISTRYINDEX, YIELD_METHODS_KEY);
    lua_setfield(L, -2, "yield_methods");
    return 1;
}
