/*
 * classic_proto.c: LuaSocket 1.3b's HTTP, FTP and SMTP globals over sockit's protocol
 * clients, for Lua 4.0 and Lua 5.1 embedders (one source for both; compat.h bridges
 * the differences). Registered by lua_socketlibopen.
 *
 *   body, headers, status, err = http_request(method, url [, req_hdrs, req_body, stay])
 *   body, headers, status, err = http_get(url [, req_hdrs, stay])
 *   body, headers, status, err = http_post(url, req_body [, req_hdrs, stay])
 *   headers, status, err = http_requestindirect(method, url, resp_body_cb
 *                                               [, req_hdrs, req_body_cb, stay])
 *   headers, status, err = http_getindirect(url, resp_body_cb [, req_hdrs, stay])
 *   headers, status, err = http_postindirect(url, resp_body_cb, req_body_cb
 *                                            [, req_hdrs, stay])
 *   data, err = ftp_get(url [, type])          err = ftp_put(url, data [, type])
 *   err = ftp_getindirect(url, receive_cb [, type])
 *   err = ftp_putindirect(url, send_cb [, type])
 *   err = smtp_mail(from, rcpt, headers, body, server)
 *   err = mail{to, from, subject, message, cc, bcc, mailserver}
 *
 * Response headers come with lower-case names; status is the status line as received.
 * On failure every result that was not obtained is nil and err says why (a network
 * error string such as "connection refused" or "timeout", or the server's reply). A
 * URL's user and password authenticate (HTTP Basic, FTP login; FTP is anonymous
 * without). stay (anything but nil) keeps HTTP from following 301/302 redirects. FTP
 * types: "a" (ASCII, the default: line ends LF when receiving, CRLF when sending), "b"
 * or "i" (binary). The mail server may be given as "host:port" (port 25 otherwise).
 *
 * Callbacks follow LuaSocket 1.3b: receive_cb(chunk, err) gets the chunks, then "" at
 * the end, or nil and the error; it returns nil (and a message) to abort. send_cb()
 * returns the next chunk and the total size, or nil (and a message) to abort. A Lua
 * error inside a callback aborts the transfer with the error's message.
 */
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "compat.h"
#include "sockit.h"
#include "classic_proto.h"

#define HTTP_TIMEOUT 60.0
#define FTP_TIMEOUT 60.0
#define SMTP_TIMEOUT 60.0
#define USER_AGENT "LuaSocket 1.3b"

/* The message for a failed status: LuaSocket's strings for network errors, else
 * sockit's message (which for server refusals is the server's reply). */
static const char *errmsg(sockit_status st)
{
    const char *m;
    if (st >= SOCKIT_TIMEOUT && st <= SOCKIT_SERVICE)
        return sockit_status_str(st);
    m = sockit_last_error();
    return (m && *m) ? m : sockit_status_str(st);
}

/* The string at i, or NULL for nil / none. */
static const char *optstr(lua_State *L, int i)
{
    if (lua_gettop(L) < i || lua_isnil(L, i) || !lua_isstring(L, i))
        return NULL;
    return lua_tostring(L, i);
}

static int present(lua_State *L, int i)
{
    return lua_gettop(L) >= i && !lua_isnil(L, i);
}

/* ---------------------------------------------------------------- callbacks */

/* A Lua function at stack index idx of L, called during one C function call. */
typedef struct {
    lua_State *L;
    int idx;
} luacb;

static int call_failed(lua_State *L, int top, const char *what)
{
    lua_settop(L, top);
    sockit_callback_error(what);
    return SOCKIT_ABORTED;
}

/* 1.3b receive callback: chunks, "" at the end, nil + error on failure. */
static int receive_cb(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    luacb *c = (luacb *)ud;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    sk_checkstack(L, 4);
    lua_pushvalue(L, c->idx);
    if (chunk)
        lua_pushlstring(L, (const char *)chunk, len);
    else
        lua_pushnil(L);
    if (chunk || error == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, error);
    if (sk_pcall(L, 2, 2) != 0)
        return call_failed(L, top, "error in receive callback");
    /* nil (or false) aborts; only a chunk's answer counts (the end's is ignored) */
    if (chunk && len > 0 && (lua_isnil(L, -2) || (lua_type(L, -2) == SK_TBOOLEAN && !sk_toboolean(L, -2)))) {
        const char *m = lua_isstring(L, -1) ? lua_tostring(L, -1) : "aborted by receive callback";
        sockit_callback_error(m);
        lua_settop(L, top);
        return SOCKIT_ABORTED;
    }
    lua_settop(L, top);
    return SOCKIT_OK;
}

/* 1.3b send callback: chunk, total size; nil + message aborts. */
static int send_cb(void *ud, sockit_buffer *chunk, uint64_t *total)
{
    luacb *c = (luacb *)ud;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    sockit_status st;
    sk_checkstack(L, 4);
    lua_pushvalue(L, c->idx);
    if (sk_pcall(L, 0, 2) != 0)
        return call_failed(L, top, "error in send callback");
    if (!lua_isstring(L, -2)) {
        const char *m = lua_isstring(L, -1) ? lua_tostring(L, -1) : "aborted by send callback";
        sockit_callback_error(m);
        lua_settop(L, top);
        return SOCKIT_ABORTED;
    }
    if (!lua_isnumber(L, -1)) {
        sockit_callback_error("send callback returned no total size");
        lua_settop(L, top);
        return SOCKIT_ABORTED;
    }
    *total = (uint64_t)lua_tonumber(L, -1);
    st = sockit_buffer_append(chunk, (const uint8_t *)lua_tostring(L, -2), lua_strlen(L, -2));
    lua_settop(L, top);
    return st;
}

static void nofree(void *ud)
{
    (void)ud;
}

/* ---------------------------------------------------------------- HTTP */

/* Pushes the response's header fields: lower-case names, repeats joined with ", ". */
static void push_headers(lua_State *L, sockit_http_response *resp, sockit_buffer *name,
                         sockit_buffer *value)
{
    size_t i, n = 0;
    int t;
    lua_newtable(L);
    t = lua_gettop(L);
    sockit_http_response_field_count(resp, 0, &n);
    for (i = 0; i < n; i++) {
        if (sockit_http_response_field_at(resp, 0, i, name, value) != SOCKIT_OK)
            continue;
        lua_pushlstring(L, (const char *)sockit_buffer_data(name), sockit_buffer_len(name));
        lua_pushvalue(L, -1);
        lua_rawget(L, t);
        if (lua_isstring(L, -1)) {
            lua_pushstring(L, ", ");
            lua_pushlstring(L, (const char *)sockit_buffer_data(value), sockit_buffer_len(value));
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushlstring(L, (const char *)sockit_buffer_data(value), sockit_buffer_len(value));
        }
        lua_rawset(L, t);
    }
}

/* Request headers from the table at index t (name -> value). */
static sockit_status set_headers(lua_State *L, int t, sockit_http_request *req)
{
    sockit_status st = SOCKIT_OK;
    if (!present(L, t) || !lua_istable(L, t))
        return SOCKIT_OK;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        if (st == SOCKIT_OK && lua_isstring(L, -2) && lua_isstring(L, -1)) {
            /* copies: lua_tostring on the key would change what lua_next iterates */
            lua_pushvalue(L, -2);
            st = sockit_http_request_set_header(req, lua_tostring(L, -1), lua_tostring(L, -2));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return st;
}

/*
 * The common part of every HTTP global. body_idx: a string body (0 = none); send_idx: a
 * send callback (0 = none); recv_idx: a receive callback (0: the body is collected and
 * pushed first). Pushes [body,] headers, status, err.
 */
static int http_do(lua_State *L, const char *method, const char *url, int hdr_idx, int body_idx,
                   int send_idx, int recv_idx, int stay)
{
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_sink *sink = NULL;
    sockit_source *src = NULL;
    sockit_buffer *body = NULL, *a = NULL, *b = NULL;
    sockit_status st, perf = SOCKIT_OK;
    luacb scb, rcb;
    int performed = 0, have_ua = 0, nres = 0;

    st = sockit_http_request_new(method, url, &req);
    if (st == SOCKIT_OK)
        st = set_headers(L, hdr_idx, req);
    if (st == SOCKIT_OK && hdr_idx && present(L, hdr_idx) && lua_istable(L, hdr_idx)) {
        lua_pushstring(L, "user-agent");
        lua_gettable(L, hdr_idx);
        have_ua = !lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    if (st == SOCKIT_OK && !have_ua)
        st = sockit_http_request_set_header(req, "User-Agent", USER_AGENT);
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_redirect(req, stay ? 0 : 1, stay ? 0 : 10);
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_timeout(req, HTTP_TIMEOUT, -1);
    if (st == SOCKIT_OK)
        st = sockit_http_request_set_keep_alive(req, 0);
    if (st == SOCKIT_OK && body_idx && present(L, body_idx)) {
        size_t n;
        const char *p = sk_tolstring(L, body_idx, &n);
        if (p)
            st = sockit_http_request_set_body(req, (const uint8_t *)p, n);
    }
    if (st == SOCKIT_OK && send_idx && present(L, send_idx)) {
        scb.L = L;
        scb.idx = send_idx;
        st = sockit_source_send_cb(send_cb, &scb, nofree, &src);
        if (st == SOCKIT_OK)
            st = sockit_http_request_set_body_source(req, src, -1);
    }
    if (st == SOCKIT_OK)
        st = sockit_http_response_new(&resp);
    if (st == SOCKIT_OK) {
        if (recv_idx) {
            rcb.L = L;
            rcb.idx = recv_idx;
            st = sockit_sink_receive_cb(receive_cb, &rcb, nofree, &sink);
        } else {
            body = sockit_buffer_new();
            st = sockit_sink_buffer(body, &sink);
        }
    }
    if (st == SOCKIT_OK) {
        perf = sockit_http_perform(NULL, req, sink, resp);
        performed = 1;
    }
    sockit_http_request_free(req);
    sockit_sink_free(sink);

    /* [body,] headers, status, err: what did not arrive is nil */
    if (!recv_idx) {
        if (performed && (perf == SOCKIT_OK || sockit_buffer_len(body) > 0))
            lua_pushlstring(L, (const char *)sockit_buffer_data(body), sockit_buffer_len(body));
        else
            lua_pushnil(L);
        nres++;
    }
    if (performed && sockit_http_response_code(resp) > 0) {
        a = sockit_buffer_new();
        b = sockit_buffer_new();
        push_headers(L, resp, a, b);
        sockit_http_response_status(resp, a, NULL);
        lua_pushlstring(L, (const char *)sockit_buffer_data(a), sockit_buffer_len(a));
        sockit_buffer_free(a);
        sockit_buffer_free(b);
    } else {
        lua_pushnil(L);
        lua_pushnil(L);
    }
    nres += 2;
    if (st != SOCKIT_OK)
        lua_pushstring(L, errmsg(st));
    else if (perf != SOCKIT_OK)
        lua_pushstring(L, errmsg(perf));
    else
        lua_pushnil(L);
    nres++;
    sockit_http_response_free(resp);
    sockit_buffer_free(body);
    return nres;
}

static int l_http_request(lua_State *L)
{
    const char *method = sk_checklstring(L, 1, NULL);
    const char *url = sk_checklstring(L, 2, NULL);
    return http_do(L, method, url, 3, 4, 0, 0, present(L, 5));
}

static int l_http_get(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    return http_do(L, "GET", url, 2, 0, 0, 0, present(L, 3));
}

static int l_http_post(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    sk_checklstring(L, 2, NULL);
    return http_do(L, "POST", url, 3, 2, 0, 0, present(L, 4));
}

static int l_http_requestindirect(lua_State *L)
{
    const char *method = sk_checklstring(L, 1, NULL);
    const char *url = sk_checklstring(L, 2, NULL);
    sk_checkany(L, 3);
    return http_do(L, method, url, 4, 0, 5, 3, present(L, 6));
}

static int l_http_getindirect(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    sk_checkany(L, 2);
    return http_do(L, "GET", url, 3, 0, 0, 2, present(L, 4));
}

static int l_http_postindirect(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    sk_checkany(L, 2);
    sk_checkany(L, 3);
    return http_do(L, "POST", url, 4, 0, 3, 2, present(L, 5));
}

/* ---------------------------------------------------------------- FTP */

static int l_ftp_get(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    const char *type = optstr(L, 2);
    sockit_buffer *out = sockit_buffer_new();
    sockit_status st = sockit_ftp_get(url, type, 0, FTP_TIMEOUT, NULL, out, NULL);
    if (st == SOCKIT_OK) {
        lua_pushlstring(L, (const char *)sockit_buffer_data(out), sockit_buffer_len(out));
        lua_pushnil(L);
    } else {
        lua_pushnil(L);
        lua_pushstring(L, errmsg(st));
    }
    sockit_buffer_free(out);
    return 2;
}

static int push_err(lua_State *L, sockit_status st)
{
    if (st == SOCKIT_OK)
        lua_pushnil(L);
    else
        lua_pushstring(L, errmsg(st));
    return 1;
}

static int l_ftp_put(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    size_t n;
    const char *data = sk_checklstring(L, 2, &n);
    return push_err(L, sockit_ftp_put(url, optstr(L, 3), 0, FTP_TIMEOUT, (const uint8_t *)data, n));
}

static int l_ftp_getindirect(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    sockit_sink *sink = NULL;
    sockit_status st;
    luacb c;
    sk_checkany(L, 2);
    c.L = L;
    c.idx = 2;
    st = sockit_sink_receive_cb(receive_cb, &c, nofree, &sink);
    if (st == SOCKIT_OK)
        st = sockit_ftp_get(url, optstr(L, 3), 0, FTP_TIMEOUT, sink, NULL, NULL);
    sockit_sink_free(sink);
    return push_err(L, st);
}

static int l_ftp_putindirect(lua_State *L)
{
    const char *url = sk_checklstring(L, 1, NULL);
    sockit_source *src = NULL;
    sockit_status st;
    luacb c;
    sk_checkany(L, 2);
    c.L = L;
    c.idx = 2;
    st = sockit_source_send_cb(send_cb, &c, nofree, &src);
    if (st == SOCKIT_OK)
        st = sockit_ftp_put_source(url, optstr(L, 3), 0, FTP_TIMEOUT, src, NULL);
    return push_err(L, st);
}

/* ---------------------------------------------------------------- SMTP */

/* Settings for "host" or "host:port". */
static sockit_status smtp_for(const char *server, sockit_smtp **out)
{
    char host[256];
    const char *colon = strrchr(server, ':');
    int port = 25;
    sockit_status st;
    if (colon && strchr(server, ':') == colon && colon[1] && strlen(server) < sizeof host) {
        size_t n = (size_t)(colon - server);
        memcpy(host, server, n);
        host[n] = '\0';
        port = atoi(colon + 1);
        st = sockit_smtp_new(host, port, out);
    } else {
        st = sockit_smtp_new(server, port, out);
    }
    if (st == SOCKIT_OK)
        st = sockit_smtp_set_timeout(*out, SMTP_TIMEOUT, -1);
    return st;
}

/* smtp_mail(from, rcpt, headers, body, server) -> nil or error */
static int l_smtp_mail(lua_State *L)
{
    const char *from = sk_checklstring(L, 1, NULL);
    const char *server = sk_checklstring(L, 5, NULL);
    const char **rcpt = NULL, **names = NULL, **values = NULL;
    size_t nrcpt = 0, nh = 0, blen = 0;
    const char *body = NULL;
    sockit_smtp *smtp = NULL;
    sockit_status st;
    int i, n;

    if (!lua_istable(L, 2))
        sk_argerror(L, 2, "table expected");
    n = sk_getn(L, 2);
    rcpt = (const char **)malloc(sizeof *rcpt * (size_t)(n > 0 ? n : 1));
    for (i = 1; rcpt && i <= n; i++) {
        lua_rawgeti(L, 2, i);
        if (lua_isstring(L, -1))
            rcpt[nrcpt++] = lua_tostring(L, -1); /* the table keeps it alive */
        lua_pop(L, 1);
    }
    if (present(L, 3) && lua_istable(L, 3)) {
        size_t cap = 0;
        lua_pushnil(L);
        while (lua_next(L, 3) != 0)
            cap++, lua_pop(L, 1);
        names = (const char **)malloc(sizeof *names * (cap ? cap : 1));
        values = (const char **)malloc(sizeof *values * (cap ? cap : 1));
        lua_pushnil(L);
        while (names && values && lua_next(L, 3) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1) && nh < cap) {
                /* a number value becomes a string in place: the table keeps it */
                names[nh] = lua_tostring(L, -2);
                values[nh] = lua_tostring(L, -1);
                if (lua_type(L, -1) != LUA_TSTRING) {
                    lua_pushvalue(L, -2);
                    lua_pushvalue(L, -2);
                    lua_settable(L, 3);
                }
                nh++;
            }
            lua_pop(L, 1);
        }
    }
    if (present(L, 4))
        body = sk_tolstring(L, 4, &blen);
    if (rcpt == NULL || (present(L, 3) && lua_istable(L, 3) && (names == NULL || values == NULL))) {
        st = SOCKIT_NOMEM;
    } else {
        st = smtp_for(server, &smtp);
        if (st == SOCKIT_OK)
            st = sockit_smtp_mail(smtp, from, rcpt, nrcpt, names, values, nh,
                                  (const uint8_t *)(body ? body : ""), body ? blen : 0);
    }
    sockit_smtp_free(smtp);
    free((void *)rcpt);
    free((void *)names);
    free((void *)values);
    return push_err(L, st);
}

/* mail{to, from, subject, message, cc, bcc, mailserver} -> nil or error */
static int l_mail(lua_State *L)
{
    const char *f[7];
    static const char *const keys[7] = {"to", "from", "subject", "message", "cc", "bcc", "mailserver"};
    sockit_smtp *smtp = NULL;
    sockit_status st;
    int i;
    if (!lua_istable(L, 1))
        sk_argerror(L, 1, "table expected");
    lua_settop(L, 1);
    for (i = 0; i < 7; i++) {
        lua_pushstring(L, keys[i]);
        lua_gettable(L, 1);
        f[i] = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL; /* stays on the stack */
    }
    if (f[0] == NULL || f[1] == NULL || f[6] == NULL) {
        lua_settop(L, 0);
        lua_pushstring(L, "mail: to, from and mailserver are required");
        return 1;
    }
    st = smtp_for(f[6], &smtp);
    if (st == SOCKIT_OK)
        st = sockit_smtp_mail_cgilua(smtp, f[0], f[1], f[2], f[3], f[4], f[5]);
    sockit_smtp_free(smtp);
    return push_err(L, st);
}

/* ---------------------------------------------------------------- registration */

int sockit_lua_classic_protocols(lua_State *L)
{
    lua_register(L, "http_request", l_http_request);
    lua_register(L, "http_get", l_http_get);
    lua_register(L, "http_post", l_http_post);
    lua_register(L, "http_requestindirect", l_http_requestindirect);
    lua_register(L, "http_getindirect", l_http_getindirect);
    lua_register(L, "http_postindirect", l_http_postindirect);
    lua_register(L, "ftp_get", l_ftp_get);
    lua_register(L, "ftp_put", l_ftp_put);
    lua_register(L, "ftp_getindirect", l_ftp_getindirect);
    lua_register(L, "ftp_putindirect", l_ftp_putindirect);
    lua_register(L, "smtp_mail", l_smtp_mail);
    lua_register(L, "mail", l_mail);
    return 0;
}
