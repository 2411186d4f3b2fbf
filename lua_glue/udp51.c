/*
 * udp51.c: LuaSocket 3's UDP objects for Lua 5.1 / LuaJIT over sockit_udp:
 * udp{unconnected} and udp{connected} (the class follows setpeername).
 */
#include <string.h>

#include "sk51.h"

#define CLS_UNCONNECTED "udp{unconnected}"
#define CLS_CONNECTED "udp{connected}"
#define GROUP_ANY "udp{any}"
#define UDP_DEFAULT_SIZE 8192

static const char *scratch_key = "sockit.udp.scratch";


static sk_obj *check_udp(lua_State *L, int i)
{
    return sk51_checkgroup(L, i, GROUP_ANY);
}

static void sync_class(lua_State *L, int i, sk_obj *o)
{
    bool connected = false;
    const char *cls;
    if (sockit_udp_isconnected(o->u, &connected) != SOCKIT_OK)
        return;
    cls = connected ? CLS_CONNECTED : CLS_UNCONNECTED;
    if (!sk51_testclass(L, i, cls)) {
        lua_pushvalue(L, i);
        sk51_setclass(L, cls);
        lua_pop(L, 1);
    }
}

static int m_send(lua_State *L)
{
    sk_obj *o = sk51_checkclass(L, 1, CLS_CONNECTED);
    size_t len, sent = 0;
    const char *data = luaL_checklstring(L, 2, &len);
    sockit_status st;
    SK_DEBUG_START;
    st = sockit_udp_send(o->u, (const uint8_t *)data, len, &sent);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    lua_pushnumber(L, (lua_Number)sent);
    SK_DEBUG_RETURN(L, 1);
}

static int m_sendto(lua_State *L)
{
    sk_obj *o = sk51_checkclass(L, 1, CLS_UNCONNECTED);
    size_t len, sent = 0;
    const char *data = luaL_checklstring(L, 2, &len);
    const char *host = luaL_checkstring(L, 3);
    int port = sk51_checkport(L, 4);
    sockit_status st;
    SK_DEBUG_START;
    st = sockit_udp_sendto(o->u, (const uint8_t *)data, len, host, port, &sent);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    lua_pushnumber(L, (lua_Number)sent);
    SK_DEBUG_RETURN(L, 1);
}

static size_t size_arg(lua_State *L, int i)
{
    lua_Number n = luaL_optnumber(L, i, UDP_DEFAULT_SIZE);
    if (n < 0)
        luaL_argerror(L, i, "invalid size");
    return (size_t)n;
}

static int receive(lua_State *L, int from)
{
    sk_obj *o = check_udp(L, 1);
    size_t size = size_arg(L, 2);
    sk_scratch *S = sk51_scratch(L, scratch_key);
    uint16_t port = 0;
    sockit_status st;
    SK_DEBUG_START;
    st = from ? sockit_udp_receivefrom(o->u, size, S->data, S->text, &port)
              : sockit_udp_receive(o->u, size, S->data);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    sk51_pushbuffer(L, S->data);
    if (!from)
        SK_DEBUG_RETURN(L, 1);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    lua_pushnumber(L, port);
    SK_DEBUG_RETURN(L, 3);
}

static int m_receive(lua_State *L)
{
    return receive(L, 0);
}

static int m_receivefrom(lua_State *L)
{
    sk51_checkclass(L, 1, CLS_UNCONNECTED);
    return receive(L, 1);
}

static int m_setpeername(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    const char *host = luaL_checkstring(L, 2);
    int port = 0;
    sockit_status st;
    if (strcmp(host, "*") != 0)
        port = sk51_checkport(L, 3);
    st = sockit_udp_setpeername(o->u, host, port);
    sync_class(L, 1, o);
    return sk51_okfail(L, st);
}

static int m_setsockname(lua_State *L)
{
    sk_obj *o = sk51_checkclass(L, 1, CLS_UNCONNECTED);
    const char *host = luaL_checkstring(L, 2);
    int port = sk51_checkport(L, 3);
    return sk51_okfail(L, sockit_udp_setsockname(o->u, host, port));
}

static int push_name(lua_State *L, sk_obj *o, int peer)
{
    sk_scratch *S = sk51_scratch(L, scratch_key);
    uint16_t port = 0;
    sockit_family fam = SOCKIT_FAMILY_ANY;
    sockit_status st = peer ? sockit_udp_getpeername(o->u, S->text, &port, &fam)
                            : sockit_udp_getsockname(o->u, S->text, &port, &fam);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    /* LuaSocket 3 gives the local port as a string and the peer's as a number. */
    if (peer)
        lua_pushnumber(L, port);
    else
        lua_pushfstring(L, "%d", (int)port);
    lua_pushstring(L, sk51_familyname(fam));
    return 3;
}

static int m_getsockname(lua_State *L)
{
    return push_name(L, check_udp(L, 1), 0);
}

static int m_getpeername(lua_State *L)
{
    return push_name(L, sk51_checkclass(L, 1, CLS_CONNECTED), 1);
}

static int m_getfamily(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    sockit_family fam = (sockit_family)o->family;
    if (fam == SOCKIT_FAMILY_ANY)
        sockit_udp_getsockname(o->u, NULL, NULL, &fam);
    lua_pushstring(L, fam == SOCKIT_FAMILY_INET6 ? "inet6" : "inet4");
    return 1;
}

static int m_settimeout(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    const char *mode;
    double t = sk51_timeout_args(L, 2, &mode);
    sockit_udp_settimeout(o->u, t, mode);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_close(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    sockit_udp_close(o->u);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_getfd(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    int32_t fd = -1;
    sockit_udp_getfd(o->u, &fd);
    lua_pushnumber(L, fd);
    return 1;
}

/* LuaSocket's setfd: the object takes over descriptor fd (closing it later) and lets
 * go of its old one without closing it; returns nothing. Any negative number detaches
 * (LuaSocket stores it as is; every negative is "no descriptor"); fractions truncate as
 * LuaSocket's cast does. A closed object or an fd that is no descriptor raises an error
 * (the fd is then not taken). */
static int m_setfd(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    int fd = sk51_checkfd(L, 2);
    if (sockit_udp_setfd(o->u, fd) != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    return 0;
}

static int m_dirty(lua_State *L)
{
    check_udp(L, 1);
    lua_pushboolean(L, 0);
    return 1;
}

static int bool_option(const char *name)
{
    static const char *const names[] = {
        "broadcast", "dontroute", "reuseaddr", "reuseport", "ip-multicast-loop",
        "ipv6-v6only", "ipv6-multicast-loop", NULL,
    };
    int i;
    for (i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static int option_error(lua_State *L, sockit_status st, const char *name)
{
    if (st == SOCKIT_INVALID || st == SOCKIT_UNSUPPORTED)
        return luaL_argerror(L, 2, lua_pushfstring(L, "unsupported option `%s'", name));
    return sk51_fail(L, st);
}

static int m_setoption(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int64_t v;
    sockit_status st;
    if (lua_type(L, 3) == LUA_TBOOLEAN || lua_isnoneornil(L, 3))
        v = lua_toboolean(L, 3);
    else if (lua_type(L, 3) == LUA_TTABLE)
        return luaL_argerror(L, 3, lua_pushfstring(L, "unsupported option `%s'", name));
    else
        v = (int64_t)luaL_checknumber(L, 3);
    st = sockit_udp_setoption_int(o->u, name, v);
    if (st != SOCKIT_OK)
        return option_error(L, st, name);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_getoption(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int64_t v = 0;
    sockit_status st = sockit_udp_getoption_int(o->u, name, &v);
    if (st != SOCKIT_OK)
        return option_error(L, st, name);
    if (bool_option(name))
        lua_pushboolean(L, v != 0);
    else
        lua_pushnumber(L, (lua_Number)v);
    return 1;
}

static int m_gettimeout(lua_State *L)
{
    sk_obj *o = check_udp(L, 1);
    double block = -1, total = -1;
    sockit_udp_gettimeout(o->u, &block, &total);
    lua_pushnumber(L, block);
    lua_pushnumber(L, total);
    return 2;
}

static int m_gc(lua_State *L)
{
    sk_obj *o = (sk_obj *)lua_touserdata(L, 1);
    if (o && o->u) {
        sockit_udp_free(o->u);
        o->u = NULL;
    }
    return 0;
}

static const luaL_Reg methods[] = {
    {"close", m_close},
    {"dirty", m_dirty},
    {"getfamily", m_getfamily},
    {"getfd", m_getfd},
    {"getoption", m_getoption},
    {"getpeername", m_getpeername},
    {"getsockname", m_getsockname},
    {"gettimeout", m_gettimeout},
    {"receive", m_receive},
    {"receivefrom", m_receivefrom},
    {"send", m_send},
    {"sendto", m_sendto},
    {"setfd", m_setfd},
    {"setoption", m_setoption},
    {"setpeername", m_setpeername},
    {"setsockname", m_setsockname},
    {"settimeout", m_settimeout},
    {NULL, NULL},
};

/* Registers the udp classes (socket.core calls it). */
SK_HIDDEN void sk51_udp_open(lua_State *L)
{
    static const char *const groups[] = {GROUP_ANY, NULL};
    const luaL_Reg *m;
    lua_newtable(L);
    for (m = methods; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    sk51_newclass(L, CLS_UNCONNECTED, -1, m_gc, groups);
    sk51_newclass(L, CLS_CONNECTED, -1, m_gc, groups);
    lua_pop(L, 1);
    sk51_scratch_open(L, scratch_key);
}

/* socket.udp(), udp4(), udp6(): a new unconnected UDP object, or nil, error. */
SK_HIDDEN int sk51_udp_new(lua_State *L, int family)
{
    sockit_udp *u = NULL;
    sk_obj *o;
    sockit_status st = sockit_udp_new(family, &u);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    o = sk51_newobj(L, CLS_UNCONNECTED, sizeof *o);
    o->type = SK_UDP;
    o->u = u;
    o->family = family;
    return 1;
}
