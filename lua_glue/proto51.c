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

/* url_parse(s): LuaSocket 3's fields of s (sockit_url_split), set in the table at index
 * 2 when one is given (the defaults), else in a new table; nil, "invalid url" for "". */
static int url_parse(lua_State *L)
{
    size_t n, starts[SOCKIT_URL_PARTS], lens[SOCKIT_URL_PARTS];
    bool present[SOCKIT_URL_PARTS];
    const char *s = luaL_checklstring(L, 1, &n);
    sockit_status st = sockit_url_split((const uint8_t *)s, n, starts, lens, present);
    int i;
    if (st != SOCKIT_OK)
        return pushfail(L, st);
    if (lua_istable(L, 2))
        lua_pushvalue(L, 2);
    else
        lua_createtable(L, 0, URL_NFIELDS);
    for (i = 0; i < URL_NFIELDS; i++) {
        if (present[i]) {
            lua_pushlstring(L, s + starts[i], lens[i]);
            lua_setfield(L, -2, url_fields[i]);
        }
    }
    return 1;
}

/* url_absolute(base, rel): LuaSocket 3's resolution (sockit_url_absolute_luasocket). */
static int url_absolute(lua_State *L)
{
    size_t bn, rn;
    const char *base = luaL_checklstring(L, 1, &bn);
    const char *rel = luaL_checklstring(L, 2, &rn);
    sockit_buffer *b = lt_scratch(L, 0);
    return pushresult(L, sockit_url_absolute_luasocket((const uint8_t *)base, bn,
                                                       (const uint8_t *)rel, rn, b), b);
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

/* ---------------------------------------------------------------- socket.http */

/* Pushes the response's header (or trailer) fields as LuaSocket's table: lower-case
 * names, repeated fields joined with ", ". */
static void push_fields(lua_State *L, sockit_http_response *resp, int trailers)
{
    sockit_buffer *name = lt_scratch(L, 0), *value = lt_scratch(L, 1);
    size_t i, n = 0;
    sockit_http_response_field_count(resp, trailers, &n);
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n; i++) {
        if (sockit_http_response_field_at(resp, trailers, i, name, value) != SOCKIT_OK)
            continue;
        lt_pushbuffer(L, name);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isstring(L, -1)) {
            lua_pushliteral(L, ", ");
            lt_pushbuffer(L, value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lt_pushbuffer(L, value);
        }
        lua_rawset(L, -3);
    }
}

/* Applies t.headers (name -> value) to the request. */
static sockit_status set_headers(lua_State *L, int t, sockit_http_request *req)
{
    sockit_status st = SOCKIT_OK;
    lua_getfield(L, t, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (st == SOCKIT_OK && lua_next(L, -2) != 0) {
            const char *name, *value;
            lua_pushvalue(L, -2); /* a copy, so that lua_next keeps its key */
            name = lua_tostring(L, -1);
            value = lua_tostring(L, -2);
            if (name && value)
                st = sockit_http_request_set_header(req, name, value);
            lua_pop(L, 2);
        }
        if (st != SOCKIT_OK)
            lua_pop(L, 1); /* the key lua_next did not get to remove */
    }
    lua_pop(L, 1);
    return st;
}

/*
 * http_request(t): performs one request. t holds method, url (absolute), headers, source
 * and sink (LTN12 stages, native or Lua; no sink discards the body), redirect (false:
 * do not follow), maxredirects, proxy, timeout (seconds per wait), user and password
 * (Basic authentication). Redirects follow LuaSocket's rules. Returns code, headers,
 * status line, final url, the number of redirects followed, the trailers and the Location
 * of the last redirect followed; or nil and the error.
 */
static int http_request(lua_State *L)
{
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_sink *sink = NULL;
    sockit_source *src = NULL;
    sockit_status st;
    lt_guard g;
    const char *method, *url, *proxy, *user, *password;
    int follow, maxredir, redirects = 0, srcidx, sinkidx;
    double timeout;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    method = optfield(L, 1, "method");
    url = optfield(L, 1, "url");
    proxy = optfield(L, 1, "proxy");
    user = optfield(L, 1, "user");
    password = optfield(L, 1, "password");
    if (url == NULL)
        return luaL_error(L, "http_request: url expected");
    lua_getfield(L, 1, "redirect");
    follow = !(lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1));
    lua_getfield(L, 1, "maxredirects");
    maxredir = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : 5;
    lua_getfield(L, 1, "timeout");
    timeout = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 60;
    lua_pop(L, 3);
    /* the stages stay on the stack (kept alive) for the whole call */
    lua_getfield(L, 1, "source");
    srcidx = lua_gettop(L);
    lua_getfield(L, 1, "sink");
    sinkidx = lua_gettop(L);

    if (!lua_isnil(L, srcidx) && !lt_accepts(L, srcidx, LT_SOURCE))
        return luaL_error(L, "source: ltn12 source expected");
    if (!lua_isnil(L, sinkidx) && !lt_accepts(L, sinkidx, LT_SINK))
        return luaL_error(L, "sink: ltn12 sink expected");
    if (!lua_isnil(L, srcidx))
        src = lt_tosource(L, srcidx);
    if (!lua_isnil(L, sinkidx))
        sink = lt_tosink(L, sinkidx);
    else if (sockit_sink_null(&sink) != SOCKIT_OK) {
        sockit_source_free(src);
        return pushfail(L, SOCKIT_NOMEM);
    }
    st = sockit_http_request_new(method ? method : "GET", url, &req);
    if (st == SOCKIT_OK)
        st = set_headers(L, 1, req);
    if (st == SOCKIT_OK && user)
        st = sockit_http_request_set_auth(req, user, password ? password : "");
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_redirect(req, follow, maxredir < 0 ? 0 : maxredir);
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_redirect_rules(req, SOCKIT_REDIRECT_LUASOCKET);
    if (st == SOCKIT_OK && proxy)
        st = sockit_http_request_set_proxy(req, proxy);
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_timeout(req, timeout, -1);
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_keep_alive(req, 0);
    if (src) {
        if (st == SOCKIT_OK)
            st = sockit_http_request_set_body_source(req, src, -1); /* takes src */
        else
            sockit_source_free(src);
    }
    if (st == SOCKIT_OK)
        st = sockit_http_response_new(&resp);
    if (st != SOCKIT_OK) {
        sockit_http_request_free(req);
        sockit_http_response_free(resp);
        sockit_sink_free(sink);
        return pushfail(L, st);
    }
    lt_enter(L, &g);
    st = sockit_http_perform(NULL, req, sink, resp);
    sockit_http_request_free(req);
    sockit_sink_free(sink);
    if (g.ctx->raise_ref != LUA_NOREF || st != SOCKIT_OK) {
        sockit_http_response_free(resp);
        lt_leave(L, &g);
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, st);
        return 2;
    }
    lt_leave(L, &g);
    lua_pushnumber(L, sockit_http_response_code(resp));
    push_fields(L, resp, 0);
    {
        sockit_buffer *b = lt_scratch(L, 0);
        sockit_http_response_status(resp, b, NULL);
        lt_pushbuffer(L, b);
        sockit_http_response_url(resp, b);
        lt_pushbuffer(L, b);
    }
    sockit_http_response_info(resp, NULL, &redirects, NULL);
    lua_pushnumber(L, redirects);
    push_fields(L, resp, 1);
    {
        sockit_buffer *b = lt_scratch(L, 0);
        sockit_http_response_location(resp, b);
        lt_pushbuffer(L, b);
    }
    sockit_http_response_free(resp);
    return 7;
}

/* ---------------------------------------------------------------- socket.ftp */

#define CLS_FTP "sockit.ftp.session"

typedef struct {
    sockit_ftp *f;
} ftp_ud;

static ftp_ud *check_ftp(lua_State *L)
{
    ftp_ud *u = (ftp_ud *)luaL_checkudata(L, 1, CLS_FTP);
    if (u->f == NULL)
        luaL_argerror(L, 1, "ftp session is closed");
    return u;
}

static int ftp_gc(lua_State *L)
{
    ftp_ud *u = (ftp_ud *)luaL_checkudata(L, 1, CLS_FTP);
    sockit_ftp_free(u->f);
    u->f = NULL;
    return 0;
}

/* ok(status): 1, or nil and the error */
static int okfail(lua_State *L, sockit_status st)
{
    if (st != SOCKIT_OK)
        return pushfail(L, st);
    lua_pushnumber(L, 1);
    return 1;
}

/* ftp_open(host, port, timeout): a session (greeting read) and the greeting, or nil and
 * the error. */
static int ftp_open(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = (int)luaL_optnumber(L, 2, 21);
    double timeout = luaL_optnumber(L, 3, 60);
    sockit_buffer *greeting = lt_scratch(L, 0);
    sockit_ftp *f = NULL;
    ftp_ud *u;
    sockit_status st = sockit_ftp_open(host, port, timeout, greeting, &f);
    if (st != SOCKIT_OK)
        return pushfail(L, st);
    u = (ftp_ud *)lua_newuserdata(L, sizeof *u);
    u->f = f;
    luaL_getmetatable(L, CLS_FTP);
    lua_setmetatable(L, -2);
    lt_pushbuffer(L, greeting);
    return 2;
}

static int ftp_login(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    return okfail(L, sockit_ftp_login(u->f, luaL_optstring(L, 2, NULL), luaL_optstring(L, 3, NULL)));
}

/* session:options(active, timeout) */
static int ftp_options(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    int flags = lua_toboolean(L, 2) ? SOCKIT_FTP_ACTIVE : 0;
    return okfail(L, sockit_ftp_set_options(u->f, flags, luaL_optnumber(L, 3, 60)));
}

static int ftp_type(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    return okfail(L, sockit_ftp_type(u->f, luaL_checkstring(L, 2)));
}

static int ftp_cwd(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    return okfail(L, sockit_ftp_cwd(u->f, luaL_checkstring(L, 2)));
}

/* session:command(verb [, arg]): code and reply text (whatever the code), or nil and
 * the error. */
static int ftp_command(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    sockit_buffer *reply = lt_scratch(L, 0);
    int code = 0;
    sockit_status st = sockit_ftp_command(u->f, luaL_checkstring(L, 2), luaL_optstring(L, 3, NULL),
                                          NULL, &code, reply);
    if (st != SOCKIT_OK)
        return pushfail(L, st);
    lua_pushnumber(L, code);
    lt_pushbuffer(L, reply);
    return 2;
}

/* session:retrieve(verb, arg, ascii, sink): 1 and the bytes received, or nil and the
 * error. */
static int ftp_retrieve(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    const char *verb = luaL_checkstring(L, 2);
    const char *arg = luaL_optstring(L, 3, NULL);
    int ascii = lua_toboolean(L, 4);
    sockit_sink *sink;
    uint64_t received = 0;
    sockit_status st;
    lt_guard g;
    lua_settop(L, 5);
    sink = lt_tosink(L, 5);
    lt_enter(L, &g);
    st = sockit_ftp_retrieve(u->f, verb, arg, ascii, sink, NULL, &received);
    sockit_sink_free(sink);
    lt_leave(L, &g);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, st);
        return 2;
    }
    lua_pushnumber(L, 1);
    lua_pushnumber(L, (lua_Number)received);
    return 2;
}

/* session:store(verb, arg, ascii, source): the bytes sent, or nil and the error. */
static int ftp_store(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    const char *verb = luaL_checkstring(L, 2);
    const char *arg = luaL_optstring(L, 3, NULL);
    int ascii = lua_toboolean(L, 4);
    sockit_source *src;
    uint64_t sent = 0;
    sockit_status st;
    lt_guard g;
    lua_settop(L, 5);
    src = lt_tosource(L, 5);
    lt_enter(L, &g);
    st = sockit_ftp_store(u->f, verb, arg, ascii, NULL, 0, src, &sent);
    lt_leave(L, &g);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, st);
        return 2;
    }
    lua_pushnumber(L, (lua_Number)sent);
    return 1;
}

static int ftp_quit(lua_State *L)
{
    ftp_ud *u = check_ftp(L);
    return okfail(L, sockit_ftp_quit(u->f));
}

static int ftp_close(lua_State *L)
{
    ftp_gc(L);
    lua_pushnumber(L, 1);
    return 1;
}

static const luaL_Reg ftp_methods[] = {
    {"login", ftp_login},       {"options", ftp_options}, {"type", ftp_type},
    {"cwd", ftp_cwd},           {"command", ftp_command}, {"retrieve", ftp_retrieve},
    {"store", ftp_store},       {"quit", ftp_quit},       {"close", ftp_close},
    {NULL, NULL},
};

/* ---------------------------------------------------------------- socket.smtp */

/* The strings of t (a string, or an array of strings) into a new array; *n its size.
 * The strings stay owned by Lua (t must stay on the stack). */
static const char **string_list(lua_State *L, int t, size_t *n)
{
    const char **list;
    size_t i, count;
    if (lua_isstring(L, t)) {
        list = (const char **)malloc(sizeof *list);
        if (list == NULL)
            luaL_error(L, "not enough memory");
        list[0] = lua_tostring(L, t);
        *n = 1;
        return list;
    }
    if (!lua_istable(L, t)) {
        *n = 0;
        return NULL;
    }
    count = lua_objlen(L, t);
    list = (const char **)malloc((count ? count : 1) * sizeof *list);
    if (list == NULL)
        luaL_error(L, "not enough memory");
    *n = 0;
    for (i = 1; i <= count; i++) {
        lua_rawgeti(L, t, (int)i);
        if (lua_isstring(L, -1))
            list[(*n)++] = lua_tostring(L, -1); /* the table keeps the string alive */
        lua_pop(L, 1);
    }
    return list;
}

/* An smtp settings handle from t's server, port, domain, user, password, timeout. */
static sockit_status smtp_settings(lua_State *L, int t, sockit_smtp **out)
{
    const char *server = optfield(L, t, "server");
    const char *domain = optfield(L, t, "domain");
    const char *user = optfield(L, t, "user");
    const char *password = optfield(L, t, "password");
    int port;
    double timeout;
    sockit_status st;
    lua_getfield(L, t, "port");
    port = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : 25;
    lua_getfield(L, t, "timeout");
    timeout = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 60;
    lua_pop(L, 2);
    st = sockit_smtp_new(server ? server : "localhost", port, out);
    if (st == SOCKIT_OK && domain)
        st = sockit_smtp_set_domain(*out, domain);
    if (st == SOCKIT_OK && user && password)
        st = sockit_smtp_set_auth(*out, user, password);
    if (st == SOCKIT_OK)
        st = sockit_smtp_set_timeout(*out, timeout, -1);
    return st;
}

/* smtp_send(t): t.from, t.rcpt (string or array), t.source (the message, an LTN12
 * source), and the settings above. 1, or nil and the error. */
static int smtp_send(lua_State *L)
{
    sockit_smtp *smtp = NULL;
    const char *from;
    const char **rcpt;
    size_t n = 0;
    sockit_source *src;
    sockit_status st;
    lt_guard g;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_getfield(L, 1, "from");   /* 2 */
    lua_getfield(L, 1, "rcpt");   /* 3 */
    lua_getfield(L, 1, "source"); /* 4 */
    from = lua_tostring(L, 2);
    if (from == NULL)
        return luaL_error(L, "smtp_send: from expected");
    src = lt_tosource(L, 4);
    rcpt = string_list(L, 3, &n);
    st = smtp_settings(L, 1, &smtp);
    if (st != SOCKIT_OK) {
        sockit_source_free(src);
        sockit_smtp_free(smtp);
        free((void *)rcpt);
        return pushfail(L, st);
    }
    lt_enter(L, &g);
    st = sockit_smtp_send_source(smtp, from, rcpt, n, src, NULL);
    sockit_smtp_free(smtp);
    free((void *)rcpt);
    lt_leave(L, &g);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, st);
        return 2;
    }
    lua_pushnumber(L, 1);
    return 1;
}

/* -- smtp.message: a mail message as a native source */

/* A Lua LTN12 source kept in a message stage's keep table at index idx, read whenever
 * the message is pulled (through the state's context). */
typedef struct {
    lt_stage *st;
    int idx;
} keptfn;

static int keptfn_source(void *ud, sockit_buffer *chunk, bool *end)
{
    keptfn *k = (keptfn *)ud;
    lt_ctx *c = k->st->ctx;
    lua_State *L = c->L;
    int top;
    if (L == NULL || c->raise_ref != LUA_NOREF || !lua_checkstack(L, 8)) {
        sockit_callback_error("sockit: message source pulled outside a native call");
        return SOCKIT_ABORTED;
    }
    top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, k->st->keep);
    lua_rawgeti(L, -1, k->idx);
    if (lua_pcall(L, 0, 2, 0) != 0) {
        const char *m = lua_tostring(L, -1);
        sockit_callback_error(m ? m : "error in a Lua source");
        c->raise_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_settop(L, top);
        return SOCKIT_ABORTED;
    }
    if (lua_isnil(L, -2)) {
        if (lua_isnil(L, -1)) {
            *end = true;
            lua_settop(L, top);
            return SOCKIT_OK;
        } else {
            const char *m = lua_tostring(L, -1);
            sockit_callback_error(m ? m : "error in a Lua source");
            if (c->err_ref != LUA_NOREF)
                luaL_unref(L, LUA_REGISTRYINDEX, c->err_ref);
            c->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            lua_settop(L, top);
            return SOCKIT_ABORTED;
        }
    }
    {
        size_t len;
        const char *p = lua_tolstring(L, -2, &len);
        sockit_status st = p ? sockit_buffer_append(chunk, (const uint8_t *)p, len)
                             : SOCKIT_INVALID;
        if (p == NULL)
            sockit_callback_error("source returned a chunk that is not a string");
        lua_settop(L, top);
        return st;
    }
}

static void keptfn_free(void *ud)
{
    free(ud);
}

/* Builds a part from the message table at index m (headers already complete: the Lua
 * side adds LuaSocket's defaults). Lua sources are appended to the keep table at index
 * keep of stage st. */
static sockit_status build_part(lua_State *L, int m, lt_stage *st, int keep, sockit_mail_part **out)
{
    sockit_mail_part *part = NULL;
    sockit_status s = sockit_mail_part_new(&part);
    int body;
    if (s != SOCKIT_OK)
        return s;
    lua_getfield(L, m, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (s == SOCKIT_OK && lua_next(L, -2) != 0) {
            const char *name, *value;
            lua_pushvalue(L, -2);
            name = lua_tostring(L, -1);
            value = lua_tostring(L, -2);
            if (name && value)
                s = sockit_mail_part_add_header(part, name, value);
            lua_pop(L, 2);
        }
        if (s != SOCKIT_OK)
            lua_pop(L, 1); /* the key lua_next did not get to remove */
    }
    lua_pop(L, 1);
    lua_getfield(L, m, "body");
    body = lua_gettop(L);
    if (s != SOCKIT_OK) {
    } else if (lua_istable(L, body)) {
        size_t i, n = lua_objlen(L, body);
        const char *pre = optfield(L, body, "preamble");
        const char *epi = optfield(L, body, "epilogue");
        if (pre)
            s = sockit_mail_part_set_text(part, 0, pre);
        if (s == SOCKIT_OK && epi)
            s = sockit_mail_part_set_text(part, 1, epi);
        for (i = 1; s == SOCKIT_OK && i <= n; i++) {
            sockit_mail_part *child = NULL;
            lua_rawgeti(L, body, (int)i);
            if (lua_istable(L, -1))
                s = build_part(L, lua_gettop(L), st, keep, &child);
            lua_pop(L, 1);
            if (s == SOCKIT_OK && child)
                s = sockit_mail_part_add_part(part, child);
        }
    } else if (lua_isstring(L, body)) {
        size_t n;
        const char *p = lua_tolstring(L, body, &n);
        s = sockit_mail_part_set_body(part, (const uint8_t *)p, n);
    } else if (!lua_isnil(L, body)) {
        lt_stage *native = lt_test(L, body, LT_SOURCE);
        sockit_source *src = NULL;
        int idx = (int)lua_objlen(L, keep) + 1;
        lua_pushvalue(L, body);
        lua_rawseti(L, keep, idx); /* kept alive by the message */
        if (native && native->h) {
            src = lt_borrow_source(native);
        } else {
            keptfn *k = (keptfn *)malloc(sizeof *k);
            if (k == NULL) {
                s = SOCKIT_NOMEM;
            } else {
                k->st = st;
                k->idx = idx;
                s = sockit_source_callback(keptfn_source, k, keptfn_free, &src);
            }
        }
        if (s == SOCKIT_OK)
            s = sockit_mail_part_set_body_source(part, src);
    }
    lua_pop(L, 1);
    if (s != SOCKIT_OK) {
        sockit_mail_part_free(part);
        return s;
    }
    *out = part;
    return SOCKIT_OK;
}

/* smtp_message(mesgt): the message as a native LTN12 source. */
static int smtp_message(lua_State *L)
{
    lt_stage *st;
    sockit_mail_part *part = NULL;
    sockit_source *h = NULL;
    sockit_status s;
    int keep;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    st = lt_new(L, LT_SOURCE, LT_F_PLAIN); /* 2 */
    lua_newtable(L);                       /* 3: what the message keeps alive */
    keep = 3;
    lt_setkeep(L, st, keep);
    s = build_part(L, 1, st, keep, &part);
    if (s == SOCKIT_OK)
        s = sockit_mail_message(part, &h);
    if (s != SOCKIT_OK)
        return luaL_error(L, "%s", lt_errmsg(s));
    st->h = h;
    lua_pushvalue(L, 2);
    return 1;
}

/* ---------------------------------------------------------------- the module */

static const luaL_Reg proto_funcs[] = {
    {"url_parse", url_parse},
    {"url_absolute", url_absolute},
    {"url_escape", url_escape},
    {"url_unescape", url_unescape},
    {"url_protect_segment", url_protect_segment},
    {"headers_canonic", headers_canonic},
    {"http_request", http_request},
    {"ftp_open", ftp_open},
    {"smtp_send", smtp_send},
    {"smtp_message", smtp_message},
    {NULL, NULL},
};

__attribute__((visibility("default"))) int luaopen_socket_proto(lua_State *L)
{
    lt_open(L);
    if (luaL_newmetatable(L, CLS_FTP)) {
        lua_newtable(L);
        luaL_register(L, NULL, ftp_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, ftp_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    luaL_register(L, NULL, proto_funcs);
    return 1;
}
