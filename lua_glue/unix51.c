/*
 * unix51.c: luaopen_socket_unix, LuaSocket 3's "socket.unix" for Lua 5.1 / LuaJIT over
 * sockit's Unix-domain stream sockets: unix.stream() (also unix.tcp() and unix() itself)
 * gives a unixstream{master} that binds / connects to a path and then works like a TCP
 * object (unixstream{client}, unixstream{server}); unix.dgram() (also unix.udp()) gives a
 * LuaSocket 3.1 unixdgram{unconnected} / unixdgram{connected} over sockit_unixdgram.
 */
#include <string.h>

#include "sk51.h"

static const sk_stream_classes unix_classes = {
    "unixstream{master}", "unixstream{client}", "unixstream{server}", "unixstream{any}",
    "sockit.unix.scratch",
};

static int l_stream(lua_State *L)
{
    sockit_socket *s = NULL;
    sockit_status st = sockit_unix_new(&s);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    sk51_stream_push(L, &unix_classes, s, SOCKIT_FAMILY_UNIX);
    return 1;
}

/* ---- Unix datagram sockets: unixdgram{unconnected}, unixdgram{connected} ---- */

#define DG_UNCONNECTED "unixdgram{unconnected}"
#define DG_CONNECTED "unixdgram{connected}"
#define DG_ANY "unixdgram{any}"
#define DG_DEFAULT_SIZE 8192
/* Not a stream or a udp object: socket.select reaches it through getfd and dirty. */
#define SK_UNIXDGRAM 3

static const char *dg_scratch_key = "sockit.unixdgram.scratch";

typedef struct {
    sk_obj base;
    sockit_unixdgram *d;
} dg_obj;

static dg_obj *dg_check(lua_State *L, int i)
{
    return (dg_obj *)sk51_checkgroup(L, i, DG_ANY);
}

static void dg_sync_class(lua_State *L, int i, dg_obj *o)
{
    bool connected = false;
    const char *cls;
    if (sockit_unixdgram_isconnected(o->d, &connected) != SOCKIT_OK)
        return;
    cls = connected ? DG_CONNECTED : DG_UNCONNECTED;
    if (!sk51_testclass(L, i, cls)) {
        lua_pushvalue(L, i);
        sk51_setclass(L, cls);
        lua_pop(L, 1);
    }
}

static int dg_sent(lua_State *L, sockit_status st, const size_t *sent)
{
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushnumber(L, (lua_Number)*sent);
    return 1;
}

/* DEBUG builds add the elapsed seconds to send, sendto, receive and receivefrom, as
 * LuaSocket's do. */

static int dg_send(lua_State *L)
{
    dg_obj *o = (dg_obj *)sk51_checkclass(L, 1, DG_CONNECTED);
    size_t len, sent = 0;
    const char *data = luaL_checklstring(L, 2, &len);
    sockit_status st;
    SK_DEBUG_START;
    st = sockit_unixdgram_send(o->d, (const uint8_t *)data, len, &sent);
    SK_DEBUG_RETURN(L, dg_sent(L, st, &sent));
}

static int dg_sendto(lua_State *L)
{
    dg_obj *o = (dg_obj *)sk51_checkclass(L, 1, DG_UNCONNECTED);
    size_t len, sent = 0;
    const char *data = luaL_checklstring(L, 2, &len);
    const char *path = luaL_checkstring(L, 3);
    sockit_status st;
    SK_DEBUG_START;
    st = sockit_unixdgram_sendto(o->d, (const uint8_t *)data, len, path, &sent);
    SK_DEBUG_RETURN(L, dg_sent(L, st, &sent));
}

static int dg_recv(lua_State *L, dg_obj *o, int from)
{
    lua_Number n = luaL_optnumber(L, 2, DG_DEFAULT_SIZE);
    sk_scratch *S = sk51_scratch(L, dg_scratch_key);
    sockit_status st;
    SK_DEBUG_START;
    if (n < 0)
        luaL_argerror(L, 2, "invalid size");
    st = from ? sockit_unixdgram_receivefrom(o->d, (size_t)n, S->data, S->text)
              : sockit_unixdgram_receive(o->d, (size_t)n, S->data);
    if (st != SOCKIT_OK) {
        sk51_fail(L, st);
        SK_DEBUG_RETURN(L, 2);
    }
    sk51_pushbuffer(L, S->data);
    if (!from)
        SK_DEBUG_RETURN(L, 1);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    SK_DEBUG_RETURN(L, 2);
}

static int dg_receive(lua_State *L)
{
    return dg_recv(L, dg_check(L, 1), 0);
}

static int dg_receivefrom(lua_State *L)
{
    return dg_recv(L, (dg_obj *)sk51_checkclass(L, 1, DG_UNCONNECTED), 1);
}

static int dg_bind(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    const char *path = luaL_checkstring(L, 2);
    return sk51_okfail(L, sockit_unixdgram_bind(o->d, path));
}

/* connect(path); connect("") dissolves the association (LuaSocket 3.1 fails there). */
static int dg_connect(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    const char *path = luaL_checkstring(L, 2);
    sockit_status st = sockit_unixdgram_connect(o->d, path);
    dg_sync_class(L, 1, o);
    return sk51_okfail(L, st);
}

static int dg_getsockname(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    sk_scratch *S = sk51_scratch(L, dg_scratch_key);
    sockit_status st = sockit_unixdgram_getsockname(o->d, S->text);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    return 1;
}

static int dg_settimeout(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    const char *mode;
    double t = sk51_timeout_args(L, 2, &mode);
    sockit_unixdgram_settimeout(o->d, t, mode);
    lua_pushnumber(L, 1);
    return 1;
}

static int dg_gettimeout(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    double block = -1, total = -1;
    sockit_unixdgram_gettimeout(o->d, &block, &total);
    lua_pushnumber(L, block);
    lua_pushnumber(L, total);
    return 2;
}

static int dg_close(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    sockit_unixdgram_close(o->d);
    lua_pushnumber(L, 1);
    return 1;
}

static int dg_getfd(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    int32_t fd = -1;
    sockit_unixdgram_getfd(o->d, &fd);
    lua_pushnumber(L, fd);
    return 1;
}

/* As udp's setfd: takes over fd, lets go of the old one unclosed; negative detaches. */
static int dg_setfd(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    int fd = sk51_checkfd(L, 2);
    if (sockit_unixdgram_setfd(o->d, fd) != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    return 0;
}

static int dg_dirty(lua_State *L)
{
    dg_check(L, 1);
    lua_pushboolean(L, 0);
    return 1;
}

static int dg_setoption(lua_State *L)
{
    dg_obj *o = dg_check(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int64_t v;
    sockit_status st;
    if (lua_type(L, 3) == LUA_TBOOLEAN || lua_isnoneornil(L, 3))
        v = lua_toboolean(L, 3);
    else if (lua_type(L, 3) == LUA_TTABLE)
        return luaL_argerror(L, 3, lua_pushfstring(L, "unsupported option `%s'", name));
    else
        v = (int64_t)luaL_checknumber(L, 3);
    st = sockit_unixdgram_setoption_int(o->d, name, v);
    if (st == SOCKIT_INVALID || st == SOCKIT_UNSUPPORTED)
        return luaL_argerror(L, 2, lua_pushfstring(L, "unsupported option `%s'", name));
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushnumber(L, 1);
    return 1;
}

static int dg_gc(lua_State *L)
{
    dg_obj *o = (dg_obj *)lua_touserdata(L, 1);
    if (o && o->d) {
        sockit_unixdgram_free(o->d);
        o->d = NULL;
    }
    return 0;
}

static const luaL_Reg dg_methods[] = {
    {"bind", dg_bind},
    {"close", dg_close},
    {"connect", dg_connect},
    {"dirty", dg_dirty},
    {"getfd", dg_getfd},
    {"getsockname", dg_getsockname},
    {"gettimeout", dg_gettimeout},
    {"receive", dg_receive},
    {"receivefrom", dg_receivefrom},
    {"send", dg_send},
    {"sendto", dg_sendto},
    {"setfd", dg_setfd},
    {"setoption", dg_setoption},
    {"setpeername", dg_connect},
    {"setsockname", dg_bind},
    {"settimeout", dg_settimeout},
    {NULL, NULL},
};

/* Registers both classes (each gets its own copy of the methods and LuaSocket's "class"
 * field from sk51_newclass). */
static void dg_open(lua_State *L)
{
    static const char *const groups[] = {DG_ANY, NULL};
    const luaL_Reg *m;
    lua_newtable(L);
    for (m = dg_methods; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    sk51_newclass(L, DG_UNCONNECTED, -1, dg_gc, groups);
    sk51_newclass(L, DG_CONNECTED, -1, dg_gc, groups);
    lua_pop(L, 1);
    sk51_scratch_open(L, dg_scratch_key);
}

/* unix.dgram() / unix.udp(): a new unconnected socket, or nil, error. */
static int l_dgram(lua_State *L)
{
    sockit_unixdgram *d = NULL;
    dg_obj *o;
    sockit_status st = sockit_unixdgram_new(&d);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    o = (dg_obj *)sk51_newobj(L, DG_UNCONNECTED, sizeof *o);
    o->base.type = SK_UNIXDGRAM;
    o->base.family = SOCKIT_FAMILY_UNIX;
    o->d = d;
    return 1;
}

static int l_call(lua_State *L)
{
    return l_stream(L);
}

SK_EXPORT int luaopen_socket_unix(lua_State *L)
{
    sk51_stream_open(L, &unix_classes);
    dg_open(L);
    lua_newtable(L);
    lua_pushcfunction(L, l_stream);
    lua_setfield(L, -2, "stream");
    lua_pushcfunction(L, l_stream);
    lua_setfield(L, -2, "tcp");
    lua_pushcfunction(L, l_dgram);
    lua_setfield(L, -2, "dgram");
    lua_pushcfunction(L, l_dgram);
    lua_setfield(L, -2, "udp");
    lua_newtable(L);
    lua_pushcfunction(L, l_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
