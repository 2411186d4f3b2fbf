/*
 * mbio51.c: luaopen_moonbridge_io_core, the C half of sockit's Moonbridge I/O library
 * for Lua 5.1 / LuaJIT (moonbridge_io.lua adds the _call and _yield variants in Lua).
 *
 * Functions: localconnect, localconnect_nb, locallisten, tcpconnect, tcpconnect_nb,
 * tcplisten, poll. Socket methods: read, read_nb, drain, drain_nb, write, write_nb,
 * flush, flush_nb, finish, close, reset (plus getfd and dirty, so that LuaSocket's
 * select accepts them); fields local_ip4, local_ip6, local_tcpport, remote_ip4,
 * remote_ip6, remote_tcpport, interval. Listeners: accept, accept_nb, close.
 *
 * As in Moonbridge, I/O errors return nil and a message, while using a socket after
 * close or reset raises an error.
 */
#include <stdint.h>
#include <string.h>

#include "sk51.h"

#define CLS_SOCKET "moonbridge_io socket"
#define CLS_LISTENER "moonbridge_io listener"
#define SCRATCH "sockit.mbio.scratch"
#define METHODS_KEY "sockit.mbio.methods"

/* ---------------------------------------------------------------- objects */

static sk_obj *check_socket(lua_State *L, int i)
{
    sk_obj *o = sk51_checkclass(L, i, CLS_SOCKET);
    if (o->closed_by_user || o->s == NULL)
        luaL_error(L, "attempt to use a closed socket");
    return o;
}

static sk_obj *check_listener(lua_State *L, int i)
{
    sk_obj *o = sk51_checkclass(L, i, CLS_LISTENER);
    if (o->closed_by_user || o->s == NULL)
        luaL_error(L, "attempt to use a closed listener");
    return o;
}

static void push_object(lua_State *L, const char *cls, sockit_socket *s)
{
    sk_obj *o = sk51_newobj(L, cls, sizeof *o);
    sockit_family fam = SOCKIT_FAMILY_ANY;
    sockit_socket_family(s, &fam);
    o->type = SK_STREAM;
    o->s = s;
    o->family = fam;
}

static int obj_gc(lua_State *L)
{
    sk_obj *o = (sk_obj *)lua_touserdata(L, 1);
    if (o && o->s) {
        sockit_socket_free(o->s);
        o->s = NULL;
    }
    return 0;
}

/* A maxlen argument: nil = no limit. */
static size_t maxlen_arg(lua_State *L, int i)
{
    lua_Number n;
    if (lua_isnoneornil(L, i))
        return SIZE_MAX;
    n = luaL_checknumber(L, i);
    if (n < 0)
        luaL_argerror(L, i, "maxlen must not be negative");
    return (size_t)n;
}

/* A terminator argument: nil = none, else a one-byte string. */
static int terminator_arg(lua_State *L, int i)
{
    size_t len;
    const char *t;
    if (lua_isnoneornil(L, i))
        return -1;
    t = luaL_checklstring(L, i, &len);
    if (len != 1)
        luaL_argerror(L, i, "terminator must be a single byte");
    return (unsigned char)t[0];
}

static const char *end_name(sockit_read_end e)
{
    switch (e) {
    case SOCKIT_READ_TERM:
        return "term";
    case SOCKIT_READ_MAXLEN:
        return "maxlen";
    case SOCKIT_READ_EOF:
        return "eof";
    default:
        return "block";
    }
}

/* ---------------------------------------------------------------- reading */

static int do_read(lua_State *L, int nonblocking)
{
    sk_obj *o = check_socket(L, 1);
    size_t maxlen = maxlen_arg(L, 2);
    int term = terminator_arg(L, 3);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_read_end end = SOCKIT_READ_EOF;
    sockit_status st;
    SK_DEBUG_START;
    st = nonblocking ? sockit_socket_read_nb(o->s, maxlen, term, S->data, &end)
                     : sockit_socket_read(o->s, maxlen, term, S->data, &end);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    sk51_pushbuffer(L, S->data);
    lua_pushstring(L, end_name(end));
    SK_DEBUG_RETURN(L, 2);
}

static int m_read(lua_State *L)
{
    return do_read(L, 0);
}

static int m_read_nb(lua_State *L)
{
    return do_read(L, 1);
}

static int do_drain(lua_State *L, int nonblocking)
{
    sk_obj *o = check_socket(L, 1);
    size_t maxlen = maxlen_arg(L, 2);
    int term = terminator_arg(L, 3);
    size_t count = 0;
    sockit_read_end end = SOCKIT_READ_EOF;
    sockit_status st = nonblocking ? sockit_socket_drain_nb(o->s, maxlen, term, &count, &end)
                                   : sockit_socket_drain(o->s, maxlen, term, &count, &end);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushnumber(L, (lua_Number)count);
    lua_pushstring(L, end_name(end));
    return 2;
}

static int m_drain(lua_State *L)
{
    return do_drain(L, 0);
}

static int m_drain_nb(lua_State *L)
{
    return do_drain(L, 1);
}

/* ---------------------------------------------------------------- writing */

/* Writes arguments 2..top; blocking or not. *pending gets the bytes still buffered. */
static sockit_status write_args(lua_State *L, sk_obj *o, int nonblocking, size_t *pending)
{
    int i, top = lua_gettop(L);
    sockit_status st = SOCKIT_OK;
    *pending = 0;
    for (i = 2; i <= top; i++)
        luaL_checkstring(L, i);
    for (i = 2; i <= top && st == SOCKIT_OK; i++) {
        size_t len;
        const char *data = lua_tolstring(L, i, &len);
        st = nonblocking ? sockit_socket_write_nb(o->s, (const uint8_t *)data, len, pending)
                         : sockit_socket_write(o->s, (const uint8_t *)data, len);
    }
    if (nonblocking && top < 2 && st == SOCKIT_OK)
        st = sockit_socket_write_nb(o->s, NULL, 0, pending);
    return st;
}

static int m_write(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    size_t pending;
    sockit_status st;
    SK_DEBUG_START;
    st = write_args(L, o, 0, &pending);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    lua_settop(L, 1);
    SK_DEBUG_RETURN(L, 1);
}

static int m_write_nb(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    size_t pending = 0;
    sockit_status st;
    SK_DEBUG_START;
    st = write_args(L, o, 1, &pending);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    lua_pushnumber(L, (lua_Number)pending);
    SK_DEBUG_RETURN(L, 1);
}

static int m_flush(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    size_t pending;
    sockit_status st;
    SK_DEBUG_START;
    st = write_args(L, o, 0, &pending);
    if (st == SOCKIT_OK)
        st = sockit_socket_flush(o->s);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    lua_settop(L, 1);
    SK_DEBUG_RETURN(L, 1);
}

static int m_flush_nb(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    size_t pending = 0;
    sockit_status st;
    SK_DEBUG_START;
    st = write_args(L, o, 1, &pending);
    if (st == SOCKIT_OK)
        st = sockit_socket_flush_nb(o->s, &pending);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    lua_pushnumber(L, (lua_Number)pending);
    SK_DEBUG_RETURN(L, 1);
}

static int m_finish(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    sockit_status st = sockit_socket_finish(o->s);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int m_close(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    sockit_status st = sockit_socket_close(o->s);
    o->closed_by_user = 1;
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int m_reset(lua_State *L)
{
    sk_obj *o = check_socket(L, 1);
    sockit_status st = sockit_socket_reset(o->s);
    o->closed_by_user = 1;
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int m_getfd(lua_State *L)
{
    sk_obj *o = (sk_obj *)lua_touserdata(L, 1);
    int fd = -1;
    if (sk51_toobj(L, 1) && o->s && !o->closed_by_user)
        sockit_socket_getfd(o->s, &fd);
    lua_pushnumber(L, fd);
    return 1;
}

static int m_dirty(lua_State *L)
{
    sk_obj *o = (sk_obj *)lua_touserdata(L, 1);
    bool d = false;
    if (sk51_toobj(L, 1) && o->s && !o->closed_by_user)
        sockit_socket_dirty(o->s, &d);
    lua_pushboolean(L, d);
    return 1;
}

/* ---------------------------------------------------------------- fields */

static int push_ip(lua_State *L, sk_obj *o, int remote, size_t want_len, int port)
{
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    uint16_t p = 0;
    sockit_status st = remote ? sockit_socket_remote_ip_raw(o->s, S->text, &p)
                              : sockit_socket_local_ip_raw(o->s, S->text, &p);
    if (st != SOCKIT_OK)
        return 0;
    if (port)
        lua_pushnumber(L, p);
    else if (sockit_buffer_len(S->text) == want_len)
        sk51_pushbuffer(L, S->text);
    else
        return 0;
    return 1;
}

/* __index: methods first, then the address fields. */
static int socket_index(lua_State *L)
{
    sk_obj *o = (sk_obj *)lua_touserdata(L, 1);
    const char *k;
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1) || lua_type(L, 2) != LUA_TSTRING)
        return 1;
    if (o == NULL || o->s == NULL || o->closed_by_user)
        return 0;
    k = lua_tostring(L, 2);
    if (strcmp(k, "local_ip4") == 0)
        return push_ip(L, o, 0, 4, 0);
    if (strcmp(k, "local_ip6") == 0)
        return push_ip(L, o, 0, 16, 0);
    if (strcmp(k, "local_tcpport") == 0)
        return push_ip(L, o, 0, 0, 1);
    if (strcmp(k, "remote_ip4") == 0)
        return push_ip(L, o, 1, 4, 0);
    if (strcmp(k, "remote_ip6") == 0)
        return push_ip(L, o, 1, 16, 0);
    if (strcmp(k, "remote_tcpport") == 0)
        return push_ip(L, o, 1, 0, 1);
    return 0;
}

/* ---------------------------------------------------------------- listeners */

static int l_accept(lua_State *L)
{
    sk_obj *o = check_listener(L, 1);
    sockit_socket *c = NULL;
    sockit_status st = sockit_socket_accept(o->s, &c);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    push_object(L, CLS_SOCKET, c);
    return 1;
}

static int l_accept_nb(lua_State *L)
{
    sk_obj *o = check_listener(L, 1);
    sockit_socket *c = NULL;
    sockit_status st = sockit_socket_accept_nb(o->s, &c);
    if (st == SOCKIT_WOULDBLOCK) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, "no incoming connection pending");
        return 2;
    }
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    push_object(L, CLS_SOCKET, c);
    return 1;
}

static int l_listener_close(lua_State *L)
{
    sk_obj *o = check_listener(L, 1);
    sockit_status st = sockit_socket_close(o->s);
    o->closed_by_user = 1;
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---------------------------------------------------------------- module functions */

static int push_result(lua_State *L, sockit_status st, sockit_socket *s, const char *cls)
{
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    push_object(L, cls, s);
    return 1;
}

static int l_localconnect(lua_State *L)
{
    sockit_socket *s = NULL;
    sockit_status st = sockit_unix_connect(luaL_checkstring(L, 1), &s);
    return push_result(L, st, s, CLS_SOCKET);
}

static int l_localconnect_nb(lua_State *L)
{
    sockit_socket *s = NULL;
    sockit_status st = sockit_unix_connect_nb(luaL_checkstring(L, 1), &s);
    return push_result(L, st, s, CLS_SOCKET);
}

static int l_locallisten(lua_State *L)
{
    sockit_socket *s = NULL;
    sockit_status st = sockit_unix_listen(luaL_checkstring(L, 1), -1, &s);
    return push_result(L, st, s, CLS_LISTENER);
}

static int l_tcpconnect(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = sk51_checkport(L, 2);
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_connect(host, port, NULL, 0, SOCKIT_FAMILY_ANY, -1, &s);
    return push_result(L, st, s, CLS_SOCKET);
}

static int l_tcpconnect_nb(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = sk51_checkport(L, 2);
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_connect_nb(host, port, &s);
    return push_result(L, st, s, CLS_SOCKET);
}

static int l_tcplisten(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = sk51_checkport(L, 2);
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_listen(host, port, -1, &s);
    return push_result(L, st, s, CLS_LISTENER);
}

/* Adds the keys of the set at index t (handles or descriptors) to the poll set. */
static void poll_collect(lua_State *L, sockit_pollset *set, int t, int events)
{
    if (lua_isnoneornil(L, t))
        return;
    luaL_checktype(L, t, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        if (lua_toboolean(L, -1)) {
            sk_obj *o = sk51_toobj(L, -2);
            if (o != NULL && o->type == SK_STREAM && o->s && !o->closed_by_user)
                sockit_pollset_add_socket(set, o->s, events, NULL);
            else if (o != NULL && o->type == SK_UDP && o->u)
                sockit_pollset_add_udp(set, o->u, events, NULL);
            else if (lua_type(L, -2) == LUA_TNUMBER)
                sockit_pollset_add_fd(set, (int)lua_tonumber(L, -2), events, NULL);
            else if (o == NULL) {
                /* any object with getfd() */
                lua_getfield(L, -2, "getfd");
                if (!lua_isfunction(L, -1))
                    luaL_error(L, "poll: sets must hold sockets, listeners or descriptors");
                lua_pushvalue(L, -3);
                lua_call(L, 1, 1);
                if (lua_isnumber(L, -1))
                    sockit_pollset_add_fd(set, (int)lua_tonumber(L, -1), events, NULL);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
}

static int l_poll(lua_State *L)
{
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    lua_Number timeout = luaL_optnumber(L, 3, -1);
    size_t nready = 0;
    sockit_status st;
    sockit_pollset_clear(S->pollset);
    poll_collect(L, S->pollset, 1, SOCKIT_POLL_IN);
    poll_collect(L, S->pollset, 2, SOCKIT_POLL_OUT);
    st = sockit_pollset_wait(S->pollset, timeout < 0 ? -1 : timeout, &nready);
    sockit_pollset_clear(S->pollset);
    if (st == SOCKIT_OK && nready > 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, st == SOCKIT_OK || st == SOCKIT_TIMEOUT ? "timeout" : sk51_errstr(st));
    return 2;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg socket_methods[] = {
    {"read", m_read},         {"read_nb", m_read_nb},   {"drain", m_drain},
    {"drain_nb", m_drain_nb}, {"write", m_write},       {"write_nb", m_write_nb},
    {"flush", m_flush},       {"flush_nb", m_flush_nb}, {"finish", m_finish},
    {"close", m_close},       {"reset", m_reset},       {"getfd", m_getfd},
    {"dirty", m_dirty},       {NULL, NULL},
};

static const luaL_Reg listener_methods[] = {
    {"accept", l_accept}, {"accept_nb", l_accept_nb}, {"close", l_listener_close},
    {"getfd", m_getfd},   {"dirty", m_dirty},         {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"localconnect", l_localconnect},
    {"localconnect_nb", l_localconnect_nb},
    {"locallisten", l_locallisten},
    {"tcpconnect", l_tcpconnect},
    {"tcpconnect_nb", l_tcpconnect_nb},
    {"tcplisten", l_tcplisten},
    {"poll", l_poll},
    {NULL, NULL},
};

SK_EXPORT int luaopen_moonbridge_io_core(lua_State *L)
{
    sk51_scratch_open(L, SCRATCH);

    /* Sockets: __index is a function (methods, then address fields). */
    lua_newtable(L);
    luaL_register(L, NULL, socket_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    sk51_newclass(L, CLS_SOCKET, -1, obj_gc, NULL);
    luaL_getmetatable(L, CLS_SOCKET);
    lua_pushcfunction(L, socket_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);

    lua_newtable(L);
    luaL_register(L, NULL, listener_methods);
    sk51_newclass(L, CLS_LISTENER, -1, obj_gc, NULL);
    lua_pop(L, 1);

    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    lua_setfield(L, -2, "_socket_methods");
    return 1;
}
