/*
 * stream51.c: LuaSocket 3's stream socket objects for Lua 5.1 / LuaJIT, over
 * sockit_socket: tcp{master}, tcp{client}, tcp{server} (socket.core) and
 * unixstream{master|client|server} (socket.unix). One method table serves both
 * families; each method checks the object's state class as LuaSocket does
 * ("bad argument #1 to 'receive' (tcp{client} expected)").
 *
 * The class of an object follows the socket's state after every call that can change
 * it (connect, listen), so it always says what the object can do.
 */
#include <stdlib.h>
#include <string.h>

#include "sk51.h"

#define STREAM_MARK "sockit{stream}"

/* Its address marks the userdata this module makes as stream_obj (see test_stream). */
static const char stream_magic = 's';

typedef struct {
    sk_obj base;
    const sk_stream_classes *c;
    const char *magic; /* &stream_magic */
    int cls;           /* NEED_MASTER, NEED_CLIENT or NEED_SERVER: the class it has now */
} stream_obj;

/* ---------------------------------------------------------------- checks */

enum { NEED_ANY, NEED_MASTER, NEED_CLIENT, NEED_SERVER };

/*
 * Every method is a C closure with these upvalues (so that nothing needs a registry
 * lookup by name): 1 the module's scratch buffers, 2 the family's class names (light
 * userdata), 3 the string "*l".
 */
#define UP_SCRATCH 1
#define UP_CLASSES 2
#define UP_LINE 3
#define NUPVALUES 3

static sk_scratch *scratch(lua_State *L)
{
    return (sk_scratch *)lua_touserdata(L, lua_upvalueindex(UP_SCRATCH));
}

/*
 * The object at i, of the class `need`, or a Lua error (LuaSocket's message).
 *
 * A userdata is one of this module's stream objects when it has exactly their size and
 * carries the address of stream_magic (which no other userdata can: Lua code cannot
 * write into a userdata, and C code of another module has no reason to store this
 * module's private address). That takes two calls into Lua where comparing metatables
 * takes four, which matters on the path of a "*l" receive. The class is the object's
 * `cls`, kept equal to its metatable's by sync_class.
 */
static SK_INLINE int is_stream(lua_State *L, int i, const stream_obj *o, int need)
{
    return o != NULL && lua_objlen(L, i) == sizeof *o && o->magic == &stream_magic &&
           (need == NEED_ANY || o->cls == need);
}

static stream_obj *test_stream(lua_State *L, int i, int need)
{
    stream_obj *o = (stream_obj *)lua_touserdata(L, i);
    const sk_stream_classes *c;
    const char *want;
    if (is_stream(L, i, o, need))
        return o;
    c = (const sk_stream_classes *)lua_touserdata(L, lua_upvalueindex(UP_CLASSES));
    want = need == NEED_MASTER   ? c->master
           : need == NEED_CLIENT ? c->client
           : need == NEED_SERVER ? c->server
                                 : c->any;
    luaL_argerror(L, i, lua_pushfstring(L, "%s expected", want));
    return NULL;
}

/* As test_stream, for a method that uses the socket: settles the object's look-ahead
 * first (see sk_ahead), so that the socket holds exactly what Lua has not received. */
static stream_obj *check_stream(lua_State *L, int i, int need)
{
    stream_obj *o = test_stream(L, i, need);
    sk51_settle(&o->base);
    return o;
}

/* Sets the object's class from its socket's state (a closed socket keeps its class). */
static void sync_class(lua_State *L, int i, stream_obj *o)
{
    sockit_state st;
    const char *cls = NULL;
    if (sockit_socket_state(o->base.s, &st) != SOCKIT_OK)
        return;
    switch (st) {
    case SOCKIT_STATE_MASTER:
        cls = o->c->master;
        o->cls = NEED_MASTER;
        break;
    case SOCKIT_STATE_CLIENT:
    case SOCKIT_STATE_CONNECTING: /* LuaSocket: a client while its connect goes on */
        cls = o->c->client;
        o->cls = NEED_CLIENT;
        break;
    case SOCKIT_STATE_SERVER:
        cls = o->c->server;
        o->cls = NEED_SERVER;
        break;
    default:
        return;
    }
    if (!sk51_testclass(L, i, cls)) {
        lua_pushvalue(L, i);
        sk51_setclass(L, cls);
        lua_pop(L, 1);
    }
}

static int is_unix(const stream_obj *o)
{
    return o->base.family == SOCKIT_FAMILY_UNIX;
}

/* ---------------------------------------------------------------- methods */

static int m_bind(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_MASTER);
    sockit_status st;
    if (is_unix(o)) {
        st = sockit_socket_bind_path(o->base.s, luaL_checkstring(L, 2));
    } else {
        const char *host = luaL_checkstring(L, 2);
        int port = sk51_checkport(L, 3);
        st = sockit_socket_bind(o->base.s, host, port);
    }
    return sk51_okfail(L, st);
}

/* LuaSocket 3 connects a closed tcp object again, on a new descriptor: the object gets a
 * fresh master socket with its timeouts (unless its handle is held by a source or sink). */
static void reopen_closed(stream_obj *o)
{
    sockit_state state;
    sockit_socket *fresh = NULL;
    double block = -1, total = -1;
    if (o->base.lent || sockit_socket_state(o->base.s, &state) != SOCKIT_OK ||
        state != SOCKIT_STATE_CLOSED || sockit_tcp_new(o->base.family, &fresh) != SOCKIT_OK)
        return;
    sockit_socket_gettimeout(o->base.s, &block, &total);
    sockit_socket_settimeout(fresh, block, "b");
    sockit_socket_settimeout(fresh, total, "t");
    sockit_socket_free(o->base.s);
    o->base.s = fresh;
}

static int m_connect(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    sockit_status st;
    if (!is_unix(o))
        reopen_closed(o);
    if (is_unix(o)) {
        st = sockit_socket_connect_path(o->base.s, luaL_checkstring(L, 2));
    } else {
        const char *host = luaL_checkstring(L, 2);
        int port = sk51_checkport(L, 3);
        st = sockit_socket_connect(o->base.s, host, port);
    }
    sync_class(L, 1, o);
    return sk51_okfail(L, st);
}

static int m_listen(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_MASTER);
    int backlog = (int)luaL_optnumber(L, 2, 32);
    sockit_status st = sockit_socket_listen(o->base.s, backlog);
    sync_class(L, 1, o);
    return sk51_okfail(L, st);
}

static int m_accept(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_SERVER);
    sockit_socket *c = NULL;
    sockit_status st = sockit_socket_accept(o->base.s, &c);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    sk51_stream_push(L, o->c, c, o->base.family);
    return 1;
}

static int m_send(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_CLIENT);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    long i = (long)luaL_optnumber(L, 3, 1);
    long j = (long)luaL_optnumber(L, 4, -1);
    long last = 0;
    sockit_status st;
    SK_DEBUG_START;
    st = sockit_socket_send_range(o->base.s, (const uint8_t *)data, len, i, j, &last);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sk51_errstr(st));
        lua_pushnumber(L, (lua_Number)last);
        SK_DEBUG_RETURN(L, 3);
    }
    /* LuaSocket 3 returns three values on success too. */
    lua_pushnumber(L, (lua_Number)last);
    lua_pushnil(L);
    lua_pushnil(L);
    SK_DEBUG_RETURN(L, 3);
}

/* True when receive's arguments ask for a plain line: no pattern, or a string starting
 * with "*l", and no prefix. (Strings are interned, so "*l" itself is one comparison.) */
static SK_INLINE int plain_line(lua_State *L, int top)
{
    int t;
    if (top == 1 || (top == 2 && lua_rawequal(L, 2, lua_upvalueindex(UP_LINE))))
        return 1;
    t = lua_type(L, 2);
    if (t == LUA_TSTRING) {
        const char *p = lua_tostring(L, 2);
        if (p[0] != '*' || p[1] != 'l')
            return 0;
    } else if (t != LUA_TNONE && t != LUA_TNIL) {
        return 0;
    }
    return lua_isnoneornil(L, 3);
}

/*
 * Hands out the next line looked at ahead (see sk_ahead); false when there is none.
 * After a "*l" receive that got its line, the lines already buffered behind it are
 * looked at with one sockit_socket_peek_lines call, so that a loop reading many short
 * lines takes the socket's lock and copies once per buffer rather than once per line.
 */
static SK_INLINE int next_ahead(lua_State *L, stream_obj *o, int top)
{
    sk_ahead *a = o->base.ahead;
    unsigned k;
    if (a == NULL || a->next >= a->count)
        return 0;
    k = a->next++;
    a->owed += a->bytes[k];
    lua_pushlstring(L, (const char *)a->data[k], a->len[k]);
    /* then two nils: LuaSocket 3 returns three values */
    lua_settop(L, top + 3);
    return 1;
}

/* A look-ahead record with room for `size` lines (or NULL without memory). */
static sk_ahead *ahead_alloc(sk_ahead *old, unsigned size)
{
    sk_ahead *a = (sk_ahead *)realloc(
        old, sizeof *a + size * (sizeof(const uint8_t *) + 2 * sizeof(size_t)));
    if (a != NULL) {
        a->size = size;
        a->data = (const uint8_t **)(a + 1);
        a->len = (size_t *)(a->data + size);
        a->bytes = a->len + size;
    }
    return a;
}

/* Peeks at up to a->size lines into the record; the count (0 on failure). */
static size_t peek(stream_obj *o, sk_ahead *a)
{
    size_t n = 0;
    if (sockit_socket_peek_lines(o->base.s, SOCKIT_PATTERN_LINE, a->data, a->len, a->bytes,
                                 a->size, &n) != SOCKIT_OK)
        n = 0;
    return n;
}

/* Looks ahead after a line was received (see next_ahead). */
static void look_ahead(stream_obj *o)
{
    sk_ahead *a = o->base.ahead;
    size_t n;
    if (o->base.lent)
        return;
    if (a == NULL) {
        /* Most sockets never have a line waiting behind the one just received; they
         * get no record. */
        const uint8_t *d[1];
        size_t l[1], b[1];
        if (sockit_socket_peek_lines(o->base.s, SOCKIT_PATTERN_LINE, d, l, b, 1, &n) !=
                SOCKIT_OK ||
            n == 0)
            return;
        a = o->base.ahead = ahead_alloc(NULL, SK_AHEAD_MIN);
        if (a == NULL)
            return;
    }
    for (;;) {
        sk_ahead *b;
        n = peek(o, a);
        if (n < a->size || a->size >= SK_AHEAD_MAX || (b = ahead_alloc(a, a->size * 2)) == NULL)
            break;
        a = o->base.ahead = b; /* it was full: look again with twice the room */
    }
    a->next = 0;
    a->count = (unsigned)n;
    a->owed = 0;
}

/* receive, every case; `line` is plain_line's answer when the caller has it, else -1. */
static SK_NOINLINE int receive(lua_State *L, int line)
{
    stream_obj *o = test_stream(L, 1, NEED_CLIENT);
    sk_scratch *S;
    size_t plen = 0, count = 0;
    const char *prefix;
    sockit_pattern pat = SOCKIT_PATTERN_LINE;
    sockit_status st;
    int top = lua_gettop(L);
    SK_DEBUG_START;
    if (line < 0)
        line = plain_line(L, top);
    if (line && next_ahead(L, o, top))
        SK_DEBUG_RETURN(L, 3);
    sk51_settle(&o->base);
    S = scratch(L);
    prefix = luaL_optlstring(L, 3, NULL, &plen);
    /* A number, or a string that reads as one, is a count (lua_isnumber, as LuaSocket). */
    if (lua_isnumber(L, 2)) {
        lua_Number n = lua_tonumber(L, 2);
        if (n < 0)
            luaL_argerror(L, 2, "invalid receive pattern");
        pat = SOCKIT_PATTERN_COUNT;
        count = (size_t)n;
    } else if (!lua_isnoneornil(L, 2)) {
        /* LuaSocket 3: "*l" and "*a" (only their first two characters count). */
        const char *p = luaL_checkstring(L, 2);
        if (p[0] == '*' && p[1] == 'l')
            pat = SOCKIT_PATTERN_LINE;
        else if (p[0] == '*' && p[1] == 'a')
            pat = SOCKIT_PATTERN_ALL;
        else
            luaL_argerror(L, 2, "invalid receive pattern");
    }
    if (pat == SOCKIT_PATTERN_COUNT && plen > 0) {
        /* LuaSocket 3: the count includes the prefix (receive(n, partial) completes a
         * partial result to n bytes); a prefix that long already is the result. */
        if (count <= plen) {
            lua_pushlstring(L, prefix, plen);
            lua_pushnil(L);
            lua_pushnil(L);
            SK_DEBUG_RETURN(L, 3);
        }
        count -= plen;
    }
    st = sockit_socket_receive(o->base.s, pat, count, (const uint8_t *)prefix, plen, S->data);
    /* LuaSocket 3: "*a" that gets nothing before the peer closes reports "closed". */
    if (st == SOCKIT_OK && pat == SOCKIT_PATTERN_ALL && sockit_buffer_len(S->data) == plen)
        st = SOCKIT_CLOSED;
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sk51_errstr(st));
        sk51_pushbuffer(L, S->data);
        SK_DEBUG_RETURN(L, 3);
    }
    sk51_pushbuffer(L, S->data);
    if (line)
        look_ahead(o);
    lua_pushnil(L);
    lua_pushnil(L);
    SK_DEBUG_RETURN(L, 3);
}

/*
 * receive: a "*l" line looked at ahead is handed out here with six calls into Lua and
 * no call into sockit; everything else (and every call in DEBUG builds, which time the
 * call) goes to receive(). A loop reading lines spends most of its time here.
 */
static int m_receive(lua_State *L)
{
#ifndef SOCKIT_LUA_DEBUG
    stream_obj *o = (stream_obj *)lua_touserdata(L, 1);
    int top = lua_gettop(L);
    if (is_stream(L, 1, o, NEED_CLIENT)) {
        int line = plain_line(L, top);
        if (line && next_ahead(L, o, top))
            return 3;
        return receive(L, line);
    }
#endif
    return receive(L, -1);
}

static int m_close(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    sk51_ahead_free(&o->base);
    sockit_socket_close(o->base.s);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_shutdown(lua_State *L)
{
    static const char *const how[] = {"receive", "send", "both", NULL};
    static const sockit_shutdown_how value[] = {SOCKIT_SHUTDOWN_READ, SOCKIT_SHUTDOWN_WRITE,
                                               SOCKIT_SHUTDOWN_BOTH};
    stream_obj *o = check_stream(L, 1, NEED_CLIENT);
    const char *h = luaL_optstring(L, 2, "both");
    int k;
    for (k = 0; how[k]; k++)
        if (strcmp(how[k], h) == 0)
            break;
    if (how[k] == NULL)
        luaL_argerror(L, 2, lua_pushfstring(L, "invalid option '%s'", h));
    sockit_socket_shutdown(o->base.s, value[k]);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_settimeout(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    const char *mode;
    double t = sk51_timeout_args(L, 2, &mode);
    sockit_socket_settimeout(o->base.s, t, mode);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_gettimeout(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    double b = -1, t = -1;
    sockit_socket_gettimeout(o->base.s, &b, &t);
    lua_pushnumber(L, b);
    lua_pushnumber(L, t);
    return 2;
}

static int push_name(lua_State *L, stream_obj *o, int peer)
{
    sk_scratch *S = scratch(L);
    uint16_t port = 0;
    sockit_family fam = SOCKIT_FAMILY_ANY;
    sockit_status st = peer ? sockit_socket_getpeername(o->base.s, S->text, &port, &fam)
                            : sockit_socket_getsockname(o->base.s, S->text, &port, &fam);
    if (st != SOCKIT_OK)
        return sk51_fail(L, st);
    lua_pushstring(L, sockit_buffer_cstr(S->text));
    if (fam == SOCKIT_FAMILY_UNIX)
        return 1;
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
    return push_name(L, check_stream(L, 1, NEED_ANY), 0);
}

static int m_getpeername(lua_State *L)
{
    return push_name(L, check_stream(L, 1, NEED_ANY), 1);
}

static int m_getfamily(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    sockit_family fam = SOCKIT_FAMILY_ANY;
    sockit_socket_family(o->base.s, &fam);
    /* LuaSocket 3 names an IPv4 stream "inet4" here (and "inet" in getsockname). */
    lua_pushstring(L, fam == SOCKIT_FAMILY_INET6 ? "inet6"
                      : fam == SOCKIT_FAMILY_UNIX ? "unix"
                                                   : "inet4");
    return 1;
}

static int m_getstats(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_CLIENT);
    double r = 0, s = 0, a = 0;
    sockit_socket_getstats(o->base.s, &r, &s, &a);
    lua_pushnumber(L, r);
    lua_pushnumber(L, s);
    lua_pushnumber(L, a);
    return 3;
}

static int m_setstats(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_CLIENT);
    lua_Number r = luaL_optnumber(L, 2, 0);
    lua_Number s = luaL_optnumber(L, 3, 0);
    lua_Number a = luaL_optnumber(L, 4, 0);
    return sk51_okfail(L, sockit_socket_setstats(o->base.s, r, s, a));
}

static int m_getfd(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    int fd = -1;
    sockit_socket_getfd(o->base.s, &fd);
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
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    int fd = sk51_checkfd(L, 2);
    if (sockit_socket_setfd(o->base.s, fd) != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    return 0;
}

static int m_dirty(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    bool d = false;
    sockit_socket_dirty(o->base.s, &d);
    lua_pushboolean(L, d);
    return 1;
}

/* Options whose value is a boolean in Lua; the others are numbers (linger is a table). */
static int bool_option(const char *name)
{
    static const char *const names[] = {
        "keepalive",   "reuseaddr",         "reuseport",           "tcp-nodelay",
        "ipv6-v6only", "dontroute",         "broadcast",           "ip-multicast-loop",
        "ipv6-multicast-loop", "tcp-defer-accept", "tcp-fastopen-connect", NULL,
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
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    const char *name = luaL_checkstring(L, 2);
    sockit_status st;
    if (strcmp(name, "linger") == 0) {
        int on;
        lua_Number secs;
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "on");
        on = lua_toboolean(L, -1);
        lua_getfield(L, 3, "timeout");
        secs = luaL_optnumber(L, -1, 0);
        lua_pop(L, 2);
        st = sockit_socket_setoption_linger(o->base.s, on, (int)secs);
    } else {
        int64_t v;
        if (lua_type(L, 3) == LUA_TBOOLEAN)
            v = lua_toboolean(L, 3);
        else if (lua_type(L, 3) == LUA_TNUMBER)
            v = (int64_t)lua_tonumber(L, 3);
        else if (bool_option(name))
            v = lua_toboolean(L, 3);
        else
            v = (int64_t)luaL_checknumber(L, 3);
        st = sockit_socket_setoption_int(o->base.s, name, v);
    }
    if (st != SOCKIT_OK)
        return option_error(L, st, name);
    lua_pushnumber(L, 1);
    return 1;
}

static int m_getoption(lua_State *L)
{
    stream_obj *o = check_stream(L, 1, NEED_ANY);
    const char *name = luaL_checkstring(L, 2);
    sockit_status st;
    if (strcmp(name, "linger") == 0) {
        bool on = false;
        int secs = 0;
        st = sockit_socket_getoption_linger(o->base.s, &on, &secs);
        if (st != SOCKIT_OK)
            return option_error(L, st, name);
        lua_newtable(L);
        lua_pushboolean(L, on);
        lua_setfield(L, -2, "on");
        lua_pushnumber(L, secs);
        lua_setfield(L, -2, "timeout");
        return 1;
    }
    {
        int64_t v = 0;
        st = sockit_socket_getoption_int(o->base.s, name, &v);
        if (st != SOCKIT_OK)
            return option_error(L, st, name);
        if (bool_option(name))
            lua_pushboolean(L, v != 0);
        else
            lua_pushnumber(L, (lua_Number)v);
        return 1;
    }
}

static int m_gc(lua_State *L)
{
    stream_obj *o = (stream_obj *)lua_touserdata(L, 1);
    if (o) {
        sk51_ahead_free(&o->base);
        if (o->base.s) {
            sockit_socket_free(o->base.s);
            o->base.s = NULL;
        }
    }
    return 0;
}

static const luaL_Reg methods[] = {
    {"accept", m_accept},
    {"bind", m_bind},
    {"close", m_close},
    {"connect", m_connect},
    {"dirty", m_dirty},
    {"getfamily", m_getfamily},
    {"getfd", m_getfd},
    {"getoption", m_getoption},
    {"getpeername", m_getpeername},
    {"getsockname", m_getsockname},
    {"getstats", m_getstats},
    {"gettimeout", m_gettimeout},
    {"listen", m_listen},
    {"receive", m_receive},
    {"send", m_send},
    {"setfd", m_setfd},
    {"setoption", m_setoption},
    {"setpeername", m_connect},
    {"setsockname", m_bind},
    {"setstats", m_setstats},
    {"settimeout", m_settimeout},
    {"shutdown", m_shutdown},
    {NULL, NULL},
};

/* Methods a unix stream does not have in LuaSocket. */
static int unix_lacks(const char *name)
{
    return strcmp(name, "getfamily") == 0 || strcmp(name, "getpeername") == 0 ||
           strcmp(name, "getoption") == 0 || strcmp(name, "gettimeout") == 0;
}

void sk51_stream_open(lua_State *L, const sk_stream_classes *c)
{
    const char *groups[] = {c->any, STREAM_MARK, NULL};
    const char *classes[3];
    const luaL_Reg *m;
    int unix_family = strncmp(c->master, "unix", 4) == 0;
    int k;
    classes[0] = c->master;
    classes[1] = c->client;
    classes[2] = c->server;
    luaL_getmetatable(L, c->master);
    k = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!k)
        return; /* opened before in this state */
    sk51_scratch_open(L, c->scratch);
    lua_newtable(L);
    for (k = 0; k < 3; k++)
        sk51_newclass(L, classes[k], -1, m_gc, groups);
    lua_pop(L, 1);
    /* the methods, with their upvalues, into each class's own __index table */
    for (k = 0; k < 3; k++) {
        luaL_getmetatable(L, classes[k]);
        lua_getfield(L, -1, "__index");
        for (m = methods; m->name; m++) {
            if (unix_family && unix_lacks(m->name))
                continue;
            lua_getfield(L, LUA_REGISTRYINDEX, c->scratch);
            lua_pushlightuserdata(L, (void *)c);
            lua_pushliteral(L, "*l");
            lua_pushcclosure(L, m->func, NUPVALUES);
            lua_setfield(L, -2, m->name);
        }
        lua_pop(L, 2);
    }
}

void sk51_stream_push(lua_State *L, const sk_stream_classes *c, sockit_socket *s, int family)
{
    stream_obj *o;
    sockit_state st = SOCKIT_STATE_MASTER;
    const char *cls;
    sockit_socket_state(s, &st);
    cls = st == SOCKIT_STATE_CLIENT ? c->client : st == SOCKIT_STATE_SERVER ? c->server : c->master;
    o = (stream_obj *)sk51_newobj(L, cls, sizeof *o);
    o->base.type = SK_STREAM;
    o->base.s = s;
    o->base.family = family;
    o->c = c;
    o->magic = &stream_magic;
    o->cls = st == SOCKIT_STATE_CLIENT   ? NEED_CLIENT
             : st == SOCKIT_STATE_SERVER ? NEED_SERVER
                                         : NEED_MASTER;
}
