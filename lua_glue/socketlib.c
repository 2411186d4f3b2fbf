/*
 * socketlib.c: lua_socketlibopen, LuaSocket 1.3b's global API for Lua 4.0 and Lua 5.1
 * embedders, on top of sockit's C API. One source for both interpreters; the
 * differences are in compat.h. No networking happens here: every operation is one
 * sockit call, and this file only converts between Lua values and the C API.
 *
 * Objects. A socket is a Lua table (as in LuaSocket 1.3b) of class client, server or
 * udp; its methods come from the class (metatable __index in Lua 5.1, an "index" tag
 * method in Lua 4.0), so scripts may keep their own fields in it. The sockit handle
 * lives in a userdata stored in the table under HANDLE_KEY; that userdata's finaliser
 * (__gc / "gc" tag method) frees the handle, so a socket nobody references is closed
 * by the garbage collector.
 *
 * Globals registered: connect, bind, select, toip, tohostname, udpsocket, _sleep, _time,
 * the socket methods as functions (accept, close, getpeername, getsockname, receive,
 * send, timeout, receivefrom, sendto, setpeername, setsockname), and the option names
 * SO_KEEPALIVE, SO_DONTROUTE, SO_BROADCAST, SO_LINGER. Under Lua 5.1 the global select
 * keeps working as Lua's select('#', ...) when its first argument is a number or "#".
 *
 * SOCKIT_LUA_DEBUG (DEBUG=1 builds): every send and receive returns the seconds the call
 * took as an extra last value, as LuaSocket's debug builds do.
 */
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "compat.h"
#include "sockit.h"
#include "socketlib.h"

#define HANDLE_KEY "_sockit"
#define CLS_CLIENT "sockit13.client"
#define CLS_SERVER "sockit13.server"
#define CLS_UDP "sockit13.udp"
#define CLS_HANDLE "sockit13.handle"
#define CLS_STATE "sockit13.state"
#define REG_STATE "sockit13.statedata"
#define REG_LUASELECT "sockit13.luaselect"

/* The largest UDP datagram: the size receive uses when none is given (1.3b). */
#define UDP_MAX 65536

enum { K_CLIENT, K_SERVER, K_UDP };

typedef struct {
    int kind;
    sockit_socket *tcp; /* K_CLIENT, K_SERVER */
    sockit_udp *udp;    /* K_UDP */
} handle13;

/* Per Lua state: one receive buffer, two text buffers and a poll set, reused by every
 * call (a Lua state runs one call at a time). */
typedef struct {
    sockit_buffer *data;
    sockit_buffer *text;
    sockit_pollset *pollset;
} state13;

#ifdef SOCKIT_LUA_DEBUG
#define DEBUG_START double debug_t0 = sockit_gettime()
#define DEBUG_PUSH(n) (lua_pushnumber(L, sockit_gettime() - debug_t0), (n) + 1)
#else
#define DEBUG_START
#define DEBUG_PUSH(n) (n)
#endif

/* ---------------------------------------------------------------- helpers */

static state13 *get_state(lua_State *L)
{
    state13 *st;
    sk_getreg(L, REG_STATE);
    st = (state13 *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return st;
}

/* A message for a failed setup call: LuaSocket's short strings where sockit has one,
 * the detailed message for system errors (it carries strerror's text). */
static const char *errstr(sockit_status s)
{
    if (s == SOCKIT_SYSTEM || s == SOCKIT_INTERNAL) {
        const char *m = sockit_last_error();
        if (m && *m)
            return m;
    }
    return sockit_status_str(s);
}

/* 1.3b's TCP I/O errors: "timeout" or "closed". */
static const char *tcp_ioerr(sockit_status s)
{
    return s == SOCKIT_TIMEOUT ? "timeout" : "closed";
}

/* 1.3b's UDP I/O errors: "timeout" or "refused". */
static const char *udp_ioerr(sockit_status s)
{
    return s == SOCKIT_TIMEOUT ? "timeout" : "refused";
}

static void push_buffer(lua_State *L, sockit_buffer *b)
{
    lua_pushlstring(L, (const char *)sockit_buffer_data(b), sockit_buffer_len(b));
}

/* The handle of the socket table at index i, or NULL when it is not one of ours. */
static handle13 *to_handle(lua_State *L, int i)
{
    handle13 *h;
    if (i < 0)
        i = lua_gettop(L) + i + 1;
    if (!lua_istable(L, i))
        return NULL;
    if (!sk_isclass(L, i, CLS_CLIENT) && !sk_isclass(L, i, CLS_SERVER) && !sk_isclass(L, i, CLS_UDP))
        return NULL;
    lua_pushstring(L, HANDLE_KEY);
    lua_rawget(L, i);
    h = sk_isclass(L, -1, CLS_HANDLE) ? (handle13 *)lua_touserdata(L, -1) : NULL;
    lua_pop(L, 1);
    return h;
}

static handle13 *check_handle(lua_State *L, int i)
{
    handle13 *h = to_handle(L, i);
    if (h == NULL)
        sk_argerror(L, i, "socket expected");
    return h;
}

static handle13 *check_kind(lua_State *L, int i, int kind)
{
    static const char *const what[] = {"client socket expected", "server socket expected",
                                        "udp socket expected"};
    handle13 *h = check_handle(L, i);
    if (h->kind != kind)
        sk_argerror(L, i, what[kind]);
    return h;
}

/* Pushes a new socket table of the given kind owning the handle. */
static void push_socket(lua_State *L, int kind, sockit_socket *tcp, sockit_udp *udp)
{
    static const char *const cls[] = {CLS_CLIENT, CLS_SERVER, CLS_UDP};
    handle13 *h;
    lua_newtable(L);
    lua_pushstring(L, HANDLE_KEY);
    h = (handle13 *)lua_newuserdata(L, sizeof(handle13));
    h->kind = kind;
    h->tcp = tcp;
    h->udp = udp;
    sk_setclass(L, CLS_HANDLE);
    lua_rawset(L, -3);
    sk_setclass(L, cls[kind]);
}

/* Finaliser of a handle userdata: frees (and so closes) the socket. */
static int handle_gc(lua_State *L)
{
    handle13 *h = (handle13 *)lua_touserdata(L, 1);
    if (h) {
        sockit_socket_free(h->tcp);
        sockit_udp_free(h->udp);
        h->tcp = NULL;
        h->udp = NULL;
    }
    return 0;
}

static int state_gc(lua_State *L)
{
    state13 *st = (state13 *)lua_touserdata(L, 1);
    if (st) {
        sockit_buffer_free(st->data);
        sockit_buffer_free(st->text);
        sockit_pollset_free(st->pollset);
        st->data = st->text = NULL;
        st->pollset = NULL;
    }
    return 0;
}

/* A timeout argument: nil or negative means no limit (-1). */
static double opt_timeout(lua_State *L, int i)
{
    double t;
    if (lua_isnil(L, i) || lua_type(L, i) == LUA_TNONE)
        return -1;
    t = sk_checknumber(L, i);
    return t < 0 ? -1 : t;
}

static int check_port(lua_State *L, int i)
{
    double p = sk_checknumber(L, i);
    if (p < 0 || p > 65535 || p != (double)(int)p)
        sk_argerror(L, i, "invalid port");
    return (int)p;
}

/* Pushes ip, port of a name call's result, or nil, error. */
static int push_name(lua_State *L, sockit_status s, sockit_buffer *addr, uint16_t port)
{
    if (s != SOCKIT_OK)
        return sk_pushfail(L, errstr(s));
    lua_pushstring(L, sockit_buffer_cstr(addr));
    lua_pushnumber(L, port);
    return 2;
}

/* ---------------------------------------------------------------- TCP */

static int l_connect(lua_State *L)
{
    const char *host = sk_checklstring(L, 1, NULL);
    int port = check_port(L, 2);
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_connect(host, port, NULL, 0, SOCKIT_FAMILY_INET, -1, &s);
    if (st != SOCKIT_OK)
        return sk_pushfail(L, errstr(st));
    push_socket(L, K_CLIENT, s, NULL);
    return 1;
}

static int l_bind(lua_State *L)
{
    const char *host = sk_checklstring(L, 1, NULL);
    int port = check_port(L, 2);
    int backlog = (int)sk_optnumber(L, 3, 1);
    sockit_socket *s = NULL;
    state13 *S = get_state(L);
    uint16_t bound = 0;
    sockit_status st = sockit_tcp_new(SOCKIT_FAMILY_INET, &s);
    if (st == SOCKIT_OK)
        st = sockit_socket_setoption_int(s, "reuseaddr", 1);
    if (st == SOCKIT_OK)
        st = sockit_socket_bind(s, host, port);
    if (st == SOCKIT_OK)
        st = sockit_socket_listen(s, backlog < 0 ? 1 : backlog);
    if (st == SOCKIT_OK)
        st = sockit_socket_getsockname(s, S->text, &bound, NULL);
    if (st != SOCKIT_OK) {
        const char *msg = errstr(st);
        lua_pushnil(L);
        lua_pushstring(L, msg);
        sockit_socket_free(s);
        return 2;
    }
    push_socket(L, K_SERVER, s, NULL);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    lua_pushnumber(L, bound);
    return 3;
}

static int l_accept(lua_State *L)
{
    handle13 *h = check_kind(L, 1, K_SERVER);
    sockit_socket *c = NULL;
    sockit_status st = sockit_socket_accept(h->tcp, &c);
    if (st != SOCKIT_OK)
        return sk_pushfail(L, st == SOCKIT_TIMEOUT ? "timeout" : errstr(st));
    push_socket(L, K_CLIENT, c, NULL);
    return 1;
}

/* Reads one receive pattern argument. */
static sockit_pattern pattern_arg(lua_State *L, int i, size_t *count)
{
    *count = 0;
    if (lua_type(L, i) == LUA_TNUMBER) {
        double n = lua_tonumber(L, i);
        if (n < 0)
            sk_argerror(L, i, "invalid receive pattern");
        *count = (size_t)n;
        return SOCKIT_PATTERN_COUNT;
    }
    if (lua_type(L, i) == LUA_TSTRING) {
        const char *p = lua_tostring(L, i);
        if (strcmp(p, "*l") == 0)
            return SOCKIT_PATTERN_LINE_CRLF13;
        if (strcmp(p, "*lu") == 0)
            return SOCKIT_PATTERN_LINE_RAW;
        if (strcmp(p, "*a") == 0)
            return SOCKIT_PATTERN_ALL;
        if (strcmp(p, "*w") == 0)
            return SOCKIT_PATTERN_WORD;
    }
    sk_argerror(L, i, "invalid receive pattern");
    return SOCKIT_PATTERN_LINE_CRLF13;
}

static int tcp_receive(lua_State *L, handle13 *h)
{
    state13 *S = get_state(L);
    int top = lua_gettop(L);
    int npat = top > 1 ? top - 1 : 1;
    int i;
    sockit_status err = SOCKIT_OK;
    DEBUG_START;
    /* Check every pattern before reading anything. */
    for (i = 2; i <= top; i++) {
        size_t c;
        pattern_arg(L, i, &c);
    }
    sk_checkstack(L, npat + 3);
    for (i = 0; i < npat; i++) {
        size_t count = 0;
        sockit_pattern p = top > 1 ? pattern_arg(L, i + 2, &count) : SOCKIT_PATTERN_LINE_CRLF13;
        if (err != SOCKIT_OK) {
            lua_pushnil(L);
            continue;
        }
        err = sockit_socket_receive(h->tcp, p, count, NULL, 0, S->data);
        push_buffer(L, S->data);
    }
    if (err == SOCKIT_OK)
        lua_pushnil(L);
    else
        lua_pushstring(L, tcp_ioerr(err));
    return DEBUG_PUSH(npat + 1);
}

static int tcp_send(lua_State *L, handle13 *h)
{
    int top = lua_gettop(L);
    int i;
    double total = 0;
    sockit_status err = SOCKIT_OK;
    DEBUG_START;
    for (i = 2; i <= top; i++)
        sk_checklstring(L, i, NULL);
    for (i = 2; i <= top && err == SOCKIT_OK; i++) {
        size_t len, sent = 0;
        const char *data = sk_checklstring(L, i, &len);
        err = sockit_socket_send(h->tcp, (const uint8_t *)data, len, &sent);
        total += (double)sent;
    }
    if (err == SOCKIT_OK)
        lua_pushnil(L);
    else
        lua_pushstring(L, tcp_ioerr(err));
    lua_pushnumber(L, total);
    return DEBUG_PUSH(2);
}

/* ---------------------------------------------------------------- UDP */

static int set_udp_option(lua_State *L, sockit_udp *u, const char *name, int vi)
{
    int64_t v;
    const char *sockit_name;
    if (strcmp(name, "SO_LINGER") == 0) {
        double onoff = 0, secs = 0;
        if (!lua_istable(L, vi))
            return sk_pushfail(L, "SO_LINGER expects a table {l_onoff, l_linger}");
        lua_pushstring(L, "l_onoff");
        lua_gettable(L, vi);
        onoff = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : sk_toboolean(L, -1);
        lua_pop(L, 1);
        lua_pushstring(L, "l_linger");
        lua_gettable(L, vi);
        secs = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
        lua_pop(L, 1);
        v = onoff != 0 ? (int64_t)secs : -1;
        sockit_name = "linger";
    } else {
        if (strcmp(name, "SO_KEEPALIVE") == 0)
            sockit_name = "keepalive";
        else if (strcmp(name, "SO_DONTROUTE") == 0)
            sockit_name = "dontroute";
        else if (strcmp(name, "SO_BROADCAST") == 0)
            sockit_name = "broadcast";
        else {
            lua_pushnil(L);
            lua_pushstring(L, "invalid option name: ");
            lua_pushstring(L, name);
            lua_concat(L, 2);
            return 2;
        }
        if (lua_isnumber(L, vi))
            v = lua_tonumber(L, vi) != 0;
        else
            v = sk_toboolean(L, vi);
    }
    {
        sockit_status st = sockit_udp_setoption_int(u, sockit_name, v);
        if (st != SOCKIT_OK)
            return sk_pushfail(L, errstr(st));
    }
    return 0;
}

static int l_udpsocket(lua_State *L)
{
    sockit_udp *u = NULL;
    sockit_status st;
    if (!lua_isnil(L, 1) && lua_type(L, 1) != LUA_TNONE && !lua_istable(L, 1))
        sk_argerror(L, 1, "table expected");
    st = sockit_udp_new(SOCKIT_FAMILY_INET, &u);
    if (st != SOCKIT_OK)
        return sk_pushfail(L, errstr(st));
    if (lua_istable(L, 1)) {
        lua_pushnil(L);
        while (lua_next(L, 1) != 0) {
            int n;
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 1);
                continue;
            }
            n = set_udp_option(L, u, lua_tostring(L, -2), lua_gettop(L));
            if (n) {
                sockit_udp_free(u);
                return n;
            }
            lua_pop(L, 1);
        }
    }
    push_socket(L, K_UDP, NULL, u);
    return 1;
}

static int udp_send(lua_State *L, handle13 *h)
{
    size_t len;
    const char *data = sk_checklstring(L, 2, &len);
    sockit_status st;
    DEBUG_START;
    st = sockit_udp_send(h->udp, (const uint8_t *)data, len, NULL);
    if (st == SOCKIT_OK)
        lua_pushnil(L);
    else
        lua_pushstring(L, udp_ioerr(st));
    return DEBUG_PUSH(1);
}

static int l_sendto(lua_State *L)
{
    handle13 *h = check_kind(L, 1, K_UDP);
    size_t len;
    const char *data = sk_checklstring(L, 2, &len);
    const char *ip = sk_checklstring(L, 3, NULL);
    int port = check_port(L, 4);
    sockit_status st;
    DEBUG_START;
    st = sockit_udp_sendto(h->udp, (const uint8_t *)data, len, ip, port, NULL);
    if (st == SOCKIT_OK)
        lua_pushnil(L);
    else
        lua_pushstring(L, udp_ioerr(st));
    return DEBUG_PUSH(1);
}

static size_t udp_size(lua_State *L, int i)
{
    double n;
    if (lua_isnil(L, i) || lua_type(L, i) == LUA_TNONE)
        return UDP_MAX;
    n = sk_checknumber(L, i);
    if (n < 0)
        sk_argerror(L, i, "invalid size");
    return (size_t)n;
}

static int udp_receive(lua_State *L, handle13 *h, int from)
{
    state13 *S = get_state(L);
    size_t size = udp_size(L, 2);
    uint16_t port = 0;
    sockit_status st;
    DEBUG_START;
    if (from)
        st = sockit_udp_receivefrom(h->udp, size, S->data, S->text, &port);
    else
        st = sockit_udp_receive(h->udp, size, S->data);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, udp_ioerr(st));
        return DEBUG_PUSH(2);
    }
    push_buffer(L, S->data);
    if (!from)
        return DEBUG_PUSH(1);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    lua_pushnumber(L, port);
    return DEBUG_PUSH(3);
}

static int l_receivefrom(lua_State *L)
{
    return udp_receive(L, check_kind(L, 1, K_UDP), 1);
}

static int l_setpeername(lua_State *L)
{
    handle13 *h = check_kind(L, 1, K_UDP);
    const char *host = sk_checklstring(L, 2, NULL);
    int port = check_port(L, 3);
    sockit_status st = sockit_udp_setpeername(h->udp, host, port);
    if (st != SOCKIT_OK) {
        lua_pushstring(L, errstr(st));
        return 1;
    }
    return 0;
}

static int l_setsockname(lua_State *L)
{
    handle13 *h = check_kind(L, 1, K_UDP);
    const char *host = sk_checklstring(L, 2, NULL);
    int port = check_port(L, 3);
    sockit_status st = sockit_udp_setsockname(h->udp, host, port);
    if (st != SOCKIT_OK) {
        lua_pushstring(L, errstr(st));
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- methods of any kind */

static int l_receive(lua_State *L)
{
    handle13 *h = check_handle(L, 1);
    if (h->kind == K_UDP)
        return udp_receive(L, h, 0);
    if (h->kind != K_CLIENT)
        sk_argerror(L, 1, "client socket expected");
    return tcp_receive(L, h);
}

static int l_send(lua_State *L)
{
    handle13 *h = check_handle(L, 1);
    if (h->kind == K_UDP)
        return udp_send(L, h);
    if (h->kind != K_CLIENT)
        sk_argerror(L, 1, "client socket expected");
    return tcp_send(L, h);
}

static int l_close(lua_State *L)
{
    handle13 *h = check_handle(L, 1);
    if (h->kind == K_UDP)
        sockit_udp_close(h->udp);
    else
        sockit_socket_close(h->tcp);
    return 0;
}

static int l_timeout(lua_State *L)
{
    handle13 *h = check_handle(L, 1);
    double t = opt_timeout(L, 2);
    const char *mode = sk_optlstring(L, 3, "b", NULL);
    sockit_status st;
    if (mode[0] != 'b' && mode[0] != 'r')
        sk_argerror(L, 3, "invalid timeout mode");
    if (h->kind == K_UDP)
        st = sockit_udp_settimeout(h->udp, t, mode);
    else
        st = sockit_socket_settimeout(h->tcp, t, mode);
    if (st != SOCKIT_OK)
        sk_argerror(L, 3, "invalid timeout mode");
    return 0;
}

static int l_getsockname(lua_State *L)
{
    handle13 *h = check_handle(L, 1);
    state13 *S = get_state(L);
    uint16_t port = 0;
    sockit_status st = h->kind == K_UDP ? sockit_udp_getsockname(h->udp, S->text, &port, NULL)
                                        : sockit_socket_getsockname(h->tcp, S->text, &port, NULL);
    return push_name(L, st, S->text, port);
}

static int l_getpeername(lua_State *L)
{
    handle13 *h = check_handle(L, 1);
    state13 *S = get_state(L);
    uint16_t port = 0;
    sockit_status st = h->kind == K_UDP ? sockit_udp_getpeername(h->udp, S->text, &port, NULL)
                                        : sockit_socket_getpeername(h->tcp, S->text, &port, NULL);
    return push_name(L, st, S->text, port);
}

/* ---------------------------------------------------------------- select */

/* Adds every socket value of the table at index t to the poll set with events, and
 * appends it to the list at index list. Returns how many were added. */
static int select_collect(lua_State *L, sockit_pollset *set, int t, int events, int list)
{
    int n = 0;
    if (lua_isnil(L, t) || lua_type(L, t) == LUA_TNONE)
        return 0;
    if (!lua_istable(L, t))
        sk_argerror(L, t, "table expected");
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        handle13 *h = to_handle(L, -1);
        if (h != NULL) {
            sockit_status st = h->kind == K_UDP
                                   ? sockit_pollset_add_udp(set, h->udp, events, NULL)
                                   : sockit_pollset_add_socket(set, h->tcp, events, NULL);
            if (st == SOCKIT_OK) {
                lua_pushvalue(L, -1);
                lua_rawseti(L, list, ++n);
            }
        }
        lua_pop(L, 1);
    }
    return n;
}

static int l_select(lua_State *L)
{
    state13 *S;
    int nr, nw, i, out, base;
    double timeout;
    sockit_status st;
#if !SK_LUA4
    /* Lua 5.1's own select('#', ...) / select(n, ...) keeps working. */
    if (lua_type(L, 1) == LUA_TNUMBER ||
        (lua_type(L, 1) == LUA_TSTRING && strcmp(lua_tostring(L, 1), "#") == 0)) {
        int n = lua_gettop(L);
        sk_getreg(L, REG_LUASELECT);
        lua_insert(L, 1);
        lua_call(L, n, LUA_MULTRET);
        return lua_gettop(L);
    }
#endif
    S = get_state(L);
    timeout = opt_timeout(L, 3);
    lua_settop(L, 3);
    base = lua_gettop(L);
    lua_newtable(L); /* base+1: readable candidates */
    lua_newtable(L); /* base+2: writable candidates */
    sockit_pollset_clear(S->pollset);
    nr = select_collect(L, S->pollset, 1, SOCKIT_POLL_IN, base + 1);
    nw = select_collect(L, S->pollset, 2, SOCKIT_POLL_OUT, base + 2);
    st = sockit_pollset_wait(S->pollset, timeout, NULL);
    lua_newtable(L); /* base+3: readable */
    lua_newtable(L); /* base+4: writable */
    if (st == SOCKIT_OK) {
        for (out = 0, i = 0; i < nr; i++) {
            int ev = 0;
            sockit_pollset_revents(S->pollset, (size_t)i, &ev);
            if (ev) {
                lua_rawgeti(L, base + 1, i + 1);
                lua_rawseti(L, base + 3, ++out);
            }
        }
        for (out = 0, i = 0; i < nw; i++) {
            int ev = 0;
            sockit_pollset_revents(S->pollset, (size_t)(nr + i), &ev);
            if (ev) {
                lua_rawgeti(L, base + 2, i + 1);
                lua_rawseti(L, base + 4, ++out);
            }
        }
    }
    sockit_pollset_clear(S->pollset);
    if (st == SOCKIT_OK)
        lua_pushnil(L);
    else
        lua_pushstring(L, st == SOCKIT_TIMEOUT ? "timeout" : errstr(st));
    return 3;
}

/* ---------------------------------------------------------------- DNS */

/* Pushes LuaSocket's resolver table {name = ..., alias = {...}, ip = {...}}. */
static void push_hostinfo(lua_State *L, const sockit_hostinfo *info)
{
    size_t i, n;
    int t;
    lua_newtable(L);
    t = lua_gettop(L);
    sk_setstring(L, t, "name", sockit_hostinfo_name(info));
    lua_pushstring(L, "alias");
    lua_newtable(L);
    n = sockit_hostinfo_alias_count(info);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, sockit_hostinfo_alias(info, i));
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_settable(L, t);
    lua_pushstring(L, "ip");
    lua_newtable(L);
    n = sockit_hostinfo_address_count(info);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, sockit_hostinfo_address(info, i, NULL));
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_settable(L, t);
}

static int resolve(lua_State *L, int reverse)
{
    const char *name = sk_checklstring(L, 1, NULL);
    state13 *S = get_state(L);
    sockit_hostinfo *info = NULL;
    sockit_status st = reverse ? sockit_dns_tohostname(name, S->text, &info)
                               : sockit_dns_toip(name, S->text, &info);
    if (st != SOCKIT_OK)
        return sk_pushfail(L, errstr(st));
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    push_hostinfo(L, info);
    sockit_hostinfo_free(info);
    return 2;
}

static int l_toip(lua_State *L)
{
    return resolve(L, 0);
}

static int l_tohostname(lua_State *L)
{
    return resolve(L, 1);
}

/* ---------------------------------------------------------------- time */

static int l_time(lua_State *L)
{
    lua_pushnumber(L, sockit_gettime());
    return 1;
}

static int l_sleep(lua_State *L)
{
    sockit_sleep(sk_checknumber(L, 1));
    return 0;
}

/* ---------------------------------------------------------------- registration */

typedef struct {
    const char *name;
    lua_CFunction func;
} reg13;

static const reg13 client_methods[] = {
    {"close", l_close},     {"getsockname", l_getsockname}, {"getpeername", l_getpeername},
    {"receive", l_receive}, {"send", l_send},               {"timeout", l_timeout},
    {NULL, NULL},
};

static const reg13 server_methods[] = {
    {"accept", l_accept},
    {"close", l_close},
    {"getsockname", l_getsockname},
    {"timeout", l_timeout},
    {NULL, NULL},
};

static const reg13 udp_methods[] = {
    {"close", l_close},
    {"getpeername", l_getpeername},
    {"getsockname", l_getsockname},
    {"receive", l_receive},
    {"receivefrom", l_receivefrom},
    {"send", l_send},
    {"sendto", l_sendto},
    {"setpeername", l_setpeername},
    {"setsockname", l_setsockname},
    {"timeout", l_timeout},
    {NULL, NULL},
};

static const reg13 globals[] = {
    {"connect", l_connect},
    {"bind", l_bind},
    {"select", l_select},
    {"toip", l_toip},
    {"tohostname", l_tohostname},
    {"udpsocket", l_udpsocket},
    {"_sleep", l_sleep},
    {"_time", l_time},
    {"accept", l_accept},
    {"close", l_close},
    {"getpeername", l_getpeername},
    {"getsockname", l_getsockname},
    {"receive", l_receive},
    {"send", l_send},
    {"timeout", l_timeout},
    {"receivefrom", l_receivefrom},
    {"sendto", l_sendto},
    {"setpeername", l_setpeername},
    {"setsockname", l_setsockname},
    {NULL, NULL},
};

static const char *const option_names[] = {
    "SO_KEEPALIVE", "SO_DONTROUTE", "SO_BROADCAST", "SO_LINGER", NULL,
};

static void new_class(lua_State *L, const char *cls, const reg13 *methods)
{
    int t;
    lua_newtable(L);
    t = lua_gettop(L);
    for (; methods->name; methods++)
        sk_setfunc(L, t, methods->name, methods->func);
    sk_newclass(L, cls, NULL);
}

/* LuaSocket 1.3b's protocol globals, in classic_proto.c (link it with this file). */
#include "classic_proto.h"

int lua_socketlibopen(lua_State *L)
{
    int i;
    state13 *S;

    sk_getreg(L, REG_STATE);
    if (!lua_isnil(L, -1)) { /* opened before in this state */
        lua_pop(L, 1);
        return 0;
    }
    lua_pop(L, 1);

    new_class(L, CLS_CLIENT, client_methods);
    new_class(L, CLS_SERVER, server_methods);
    new_class(L, CLS_UDP, udp_methods);
    lua_pushnil(L);
    sk_newclass(L, CLS_HANDLE, handle_gc);
    lua_pushnil(L);
    sk_newclass(L, CLS_STATE, state_gc);

    S = (state13 *)lua_newuserdata(L, sizeof(state13));
    S->data = sockit_buffer_new();
    S->text = sockit_buffer_new();
    S->pollset = sockit_pollset_new();
    sk_setclass(L, CLS_STATE);
    sk_setreg(L, REG_STATE);

#if !SK_LUA4
    lua_getglobal(L, "select");
    sk_setreg(L, REG_LUASELECT);
#endif

    for (i = 0; globals[i].name; i++)
        lua_register(L, globals[i].name, globals[i].func);
    for (i = 0; option_names[i]; i++) {
        lua_pushstring(L, option_names[i]);
        lua_setglobal(L, option_names[i]);
    }
    sockit_lua_classic_protocols(L);
    return 0;
}
