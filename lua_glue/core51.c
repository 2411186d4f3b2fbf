/*
 * core51.c: luaopen_socket_core, sockit's "socket.core" for Lua 5.1 / LuaJIT (the C
 * half of LuaSocket 2/3's socket namespace): tcp, tcp4, tcp6, udp, udp4, udp6, connect,
 * bind, select, dns, gettime, sleep, skip, protect, newtry, and the constants _VERSION,
 * _SETSIZE, _SOCKETINVALID, _DATAGRAMSIZE, _DEBUG (DEBUG=1 builds only).
 *
 * Argument errors raise Lua errors with LuaSocket's messages; runtime failures return
 * nil and a message.
 */
#include <stdio.h>
#include <string.h>

#include "sk51.h"

#define SCRATCH "sockit.core.scratch"
#define EXCEPTION_MT "sockit.exception"

/* The largest number of sockets select is asked about at once: sockit's select uses
 * poll(2), so this is only what scripts that check it read. */
#define SETSIZE 65536

SK_HIDDEN void sk51_udp_open(lua_State *L);
SK_HIDDEN int sk51_udp_new(lua_State *L, int family);

static const sk_stream_classes tcp_classes = {
    "tcp{master}", "tcp{client}", "tcp{server}", "tcp{any}", SCRATCH,
};

/* ---------------------------------------------------------------- constructors */

static int tcp_new(lua_State *L, int family)
{
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_new(family, &s);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    sk51_stream_push(L, &tcp_classes, s, family);
    return 1;
}

static int l_tcp(lua_State *L)
{
    return tcp_new(L, SOCKIT_FAMILY_ANY);
}

static int l_tcp4(lua_State *L)
{
    return tcp_new(L, SOCKIT_FAMILY_INET);
}

static int l_tcp6(lua_State *L)
{
    return tcp_new(L, SOCKIT_FAMILY_INET6);
}

static int l_udp(lua_State *L)
{
    return sk51_udp_new(L, SOCKIT_FAMILY_ANY);
}

static int l_udp4(lua_State *L)
{
    return sk51_udp_new(L, SOCKIT_FAMILY_INET);
}

static int l_udp6(lua_State *L)
{
    return sk51_udp_new(L, SOCKIT_FAMILY_INET6);
}

static int stream_family(sockit_socket *s)
{
    sockit_family f = SOCKIT_FAMILY_ANY;
    sockit_socket_family(s, &f);
    return f;
}

/* connect(address, port [, locaddr] [, locport] [, family]) */
static int l_connect(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = sk51_checkport(L, 2);
    const char *lhost = luaL_optstring(L, 3, NULL);
    int lport = lua_isnoneornil(L, 4) ? 0 : sk51_checkport(L, 4);
    int family = sk51_optfamily(L, 5);
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_connect(host, port, lhost, lport, family, -1, &s);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    sk51_stream_push(L, &tcp_classes, s, stream_family(s));
    return 1;
}

/* bind(address, port [, backlog]) */
static int l_bind(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = sk51_checkport(L, 2);
    int backlog = (int)luaL_optnumber(L, 3, 32);
    sockit_socket *s = NULL;
    sockit_status st = sockit_tcp_bind(host, port, backlog, &s);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    sk51_stream_push(L, &tcp_classes, s, stream_family(s));
    return 1;
}

/* ---------------------------------------------------------------- select */

/*
 * Adds the array at index t to the poll set (events), appending each object that was
 * added to the candidate list at index list. Objects that are not sockit's are asked for
 * getfd() (and, when reading, dirty()); dirty ones are recorded in the table at index
 * dirty. Returns the number of entries added.
 */
static int select_collect(lua_State *L, sockit_pollset *set, int t, int events, int list,
                          int dirty)
{
    int i, n = 0;
    if (lua_isnoneornil(L, t))
        return 0;
    luaL_checktype(L, t, LUA_TTABLE);
    for (i = 1;; i++) {
        sk_obj *o;
        sockit_status st = SOCKIT_INVALID;
        lua_rawgeti(L, t, i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        o = sk51_toobj(L, -1);
        if (o != NULL && o->type == SK_STREAM && o->s) {
            sk51_settle(o);
            st = sockit_pollset_add_socket(set, o->s, events, NULL);
        } else if (o != NULL && o->type == SK_UDP && o->u) {
            st = sockit_pollset_add_udp(set, o->u, events, NULL);
        } else {
            /* Any object with getfd (and dirty) can be selected. */
            lua_getfield(L, -1, "getfd");
            if (lua_isfunction(L, -1)) {
                lua_pushvalue(L, -2);
                lua_call(L, 1, 1);
                if (lua_isnumber(L, -1) && lua_tonumber(L, -1) >= 0)
                    st = sockit_pollset_add_fd(set, (int)lua_tonumber(L, -1), events, NULL);
            }
            lua_pop(L, 1);
            if (st == SOCKIT_OK && dirty) {
                lua_getfield(L, -1, "dirty");
                if (lua_isfunction(L, -1)) {
                    lua_pushvalue(L, -2);
                    lua_call(L, 1, 1);
                    if (lua_toboolean(L, -1)) {
                        lua_pushboolean(L, 1);
                        lua_rawseti(L, dirty, n + 1);
                    }
                }
                lua_pop(L, 1);
            }
        }
        if (st == SOCKIT_OK)
            lua_rawseti(L, list, ++n);
        else
            lua_pop(L, 1);
    }
    return n;
}

/* Appends candidate k of list to the doubly keyed result at index out (once: an object
 * given twice is reported once, as LuaSocket does). */
static void select_ready(lua_State *L, int list, int k, int out, int *count)
{
    lua_rawgeti(L, list, k);
    lua_pushvalue(L, -1);
    lua_rawget(L, out);
    if (!lua_isnil(L, -1)) {
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, out, ++*count);
    lua_pushnumber(L, *count);
    lua_rawset(L, out);
}

static int l_select(lua_State *L)
{
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    lua_Number timeout = luaL_optnumber(L, 3, -1);
    int nr, nw, i, rc = 0, wc = 0, dirty_count = 0;
    sockit_status st;
    lua_settop(L, 3);
    lua_newtable(L); /* 4: read candidates */
    lua_newtable(L); /* 5: write candidates */
    lua_newtable(L); /* 6: dirty marks of foreign read candidates */
    sockit_pollset_clear(S->pollset);
    nr = select_collect(L, S->pollset, 1, SOCKIT_POLL_IN, 4, 6);
    nw = select_collect(L, S->pollset, 2, SOCKIT_POLL_OUT, 5, 0);
    lua_pushnil(L);
    while (lua_next(L, 6) != 0) {
        dirty_count++;
        lua_pop(L, 1);
    }
    if (dirty_count > 0)
        timeout = 0;
    st = sockit_pollset_wait(S->pollset, timeout < 0 ? -1 : timeout, NULL);
    lua_newtable(L); /* 7: readable */
    lua_newtable(L); /* 8: writable */
    if (st == SOCKIT_OK || st == SOCKIT_TIMEOUT) {
        for (i = 0; i < nr; i++) {
            int ev = 0;
            sockit_pollset_revents(S->pollset, (size_t)i, &ev);
            lua_rawgeti(L, 6, i + 1);
            if (ev || lua_toboolean(L, -1))
                select_ready(L, 4, i + 1, 7, &rc);
            lua_pop(L, 1);
        }
        for (i = 0; i < nw; i++) {
            int ev = 0;
            sockit_pollset_revents(S->pollset, (size_t)(nr + i), &ev);
            if (ev)
                select_ready(L, 5, i + 1, 8, &wc);
        }
    }
    sockit_pollset_clear(S->pollset);
    if (rc + wc > 0)
        lua_pushnil(L);
    else if (st == SOCKIT_OK || st == SOCKIT_TIMEOUT)
        lua_pushstring(L, "timeout");
    else
        lua_pushstring(L, sk51_errstr(st));
    return 3;
}

/* ---------------------------------------------------------------- time */

static int l_gettime(lua_State *L)
{
    lua_pushnumber(L, sockit_gettime());
    return 1;
}

static int l_sleep(lua_State *L)
{
    sockit_sleep(luaL_checknumber(L, 1));
    return 0;
}

/* ---------------------------------------------------------------- skip, protect, newtry */

static int l_skip(lua_State *L)
{
    int amount = luaL_checkint(L, 1);
    int ret = lua_gettop(L) - amount - 1;
    return ret < 0 ? 0 : ret;
}

/* The function newtry returns: on a nil / false first value, runs the finaliser, then
 * throws {err} marked as an exception that protect turns back into nil, err. */
static int try_call(lua_State *L)
{
    if (lua_toboolean(L, 1))
        return lua_gettop(L);
    lua_settop(L, 2);
    if (lua_isfunction(L, lua_upvalueindex(1))) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_call(L, 0, 0);
    }
    lua_newtable(L);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    luaL_getmetatable(L, EXCEPTION_MT);
    lua_setmetatable(L, -2);
    return lua_error(L);
}

static int l_newtry(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushcclosure(L, try_call, 1);
    return 1;
}

static int protected_call(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (lua_pcall(L, n, LUA_MULTRET, 0) != 0) {
        if (lua_istable(L, -1) && lua_getmetatable(L, -1)) {
            int is_exception;
            luaL_getmetatable(L, EXCEPTION_MT);
            is_exception = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
            if (is_exception) {
                lua_pushnil(L);
                lua_rawgeti(L, -2, 1);
                return 2;
            }
        }
        return lua_error(L);
    }
    return lua_gettop(L);
}

static int l_protect(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushcclosure(L, protected_call, 1);
    return 1;
}

/* ---------------------------------------------------------------- dns */

static int resolve(lua_State *L, int reverse)
{
    const char *name = luaL_checkstring(L, 1);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_hostinfo *info = NULL;
    sockit_status st = reverse ? sockit_dns_tohostname(name, S->text, &info)
                               : sockit_dns_toip(name, S->text, &info);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    sk51_pushhostinfo(L, info);
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

static int l_gethostname(lua_State *L)
{
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st = sockit_dns_gethostname(S->text);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    return 1;
}

static int l_getaddrinfo(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    sockit_hostinfo *info = NULL;
    size_t i, n;
    sockit_status st = sockit_dns_getaddrinfo(host, &info);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_newtable(L);
    n = sockit_hostinfo_address_count(info);
    for (i = 0; i < n; i++) {
        sockit_family fam = SOCKIT_FAMILY_ANY;
        const char *addr = sockit_hostinfo_address(info, i, &fam);
        lua_newtable(L);
        lua_pushstring(L, sk51_familyname(fam));
        lua_setfield(L, -2, "family");
        lua_pushstring(L, addr);
        lua_setfield(L, -2, "addr");
        lua_rawseti(L, -2, (int)i + 1);
    }
    sockit_hostinfo_free(info);
    return 1;
}

static int l_getnameinfo(lua_State *L)
{
    const char *host = luaL_optstring(L, 1, NULL);
    const char *serv = luaL_optstring(L, 2, NULL);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_hostinfo *names = NULL;
    size_t i, n;
    sockit_status st;
    if (host == NULL && serv == NULL)
        return luaL_argerror(L, 1, "host or service expected");
    st = sockit_dns_getnameinfo(host, serv, &names, S->text);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_newtable(L);
    n = sockit_hostinfo_alias_count(names);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, sockit_hostinfo_alias(names, i));
        lua_rawseti(L, -2, (int)i + 1);
    }
    sockit_hostinfo_free(names);
    if (serv == NULL)
        return 1;
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    return 2;
}

static const luaL_Reg dns_funcs[] = {
    {"toip", l_toip},
    {"tohostname", l_tohostname},
    {"gethostname", l_gethostname},
    {"getaddrinfo", l_getaddrinfo},
    {"getnameinfo", l_getnameinfo},
    {NULL, NULL},
};

/* ---------------------------------------------------------------- module */

static const luaL_Reg funcs[] = {
    {"tcp", l_tcp},         {"tcp4", l_tcp4},         {"tcp6", l_tcp6},
    {"udp", l_udp},         {"udp4", l_udp4},         {"udp6", l_udp6},
    {"connect", l_connect}, {"bind", l_bind},         {"select", l_select},
    {"gettime", l_gettime}, {"sleep", l_sleep},       {"skip", l_skip},
    {"protect", l_protect}, {"newtry", l_newtry},     {NULL, NULL},
};

SK_EXPORT int luaopen_socket_core(lua_State *L)
{
    char version[64];
    sk51_stream_open(L, &tcp_classes);
    sk51_udp_open(L);
    luaL_newmetatable(L, EXCEPTION_MT);
    lua_pop(L, 1);

    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    lua_newtable(L);
    luaL_register(L, NULL, dns_funcs);
    lua_setfield(L, -2, "dns");
    snprintf(version, sizeof version, "LuaSocket 3.0.0 (sockit %s)", sockit_version());
    lua_pushstring(L, version);
    lua_setfield(L, -2, "_VERSION");
    lua_pushnumber(L, SETSIZE);
    lua_setfield(L, -2, "_SETSIZE");
    lua_pushnumber(L, -1);
    lua_setfield(L, -2, "_SOCKETINVALID");
    lua_pushnumber(L, 8192);
    lua_setfield(L, -2, "_DATAGRAMSIZE");
#ifdef SOCKIT_LUA_DEBUG
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "_DEBUG");
#endif
    return 1;
}
