/*
 * mbserver51.c: Moonbridge's `listen{...}` and `timeout(...)` globals for Lua 5.1 /
 * LuaJIT, as glue over sockit's prefork server (see mbserver51.h).
 *
 * listen{...} takes listener entries ({proto = "tcp", host = ..., port = ...},
 * {proto = "local", path = ...}, {proto = "interval", name = ..., delay = ...,
 * strict = ...}), the pool parameters by their Moonbridge names, and the handlers
 * prepare(), connect(socket), finish(). Each call makes one pool: its socket listeners
 * are bound at once, so a port in use is a Lua error right there. Calling it from a
 * handler is an error.
 *
 * In a worker, the handlers run through lua_pcall: an error is logged and ends the
 * worker (exit status 1), as in Moonbridge. The connect handler gets a moonbridge_io
 * socket (or, for an interval, a table whose `interval` field is the name); the worker
 * goes on with the next connection only when the handler returns true. After the
 * handler the server closes the connection; the socket object then reads as closed.
 */
#include <stdlib.h>
#include <string.h>

#include "mbserver51.h"
#include "sk51.h"

#define CLS_SOCKET "moonbridge_io socket"
#define POOL_HOLDER "sockit.mbserver.poolholder"

/* ---------------------------------------------------------------- the allocator */

static size_t mem_used = 0;
static size_t mem_limit = 0; /* 0: none; set in a worker from its pool's memory_limit */

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    if (nsize == 0) {
        if (ptr) {
            mem_used -= osize;
            free(ptr);
        }
        return NULL;
    }
    if (ptr == NULL)
        osize = 0;
    if (mem_limit && nsize > osize && mem_used + (nsize - osize) > mem_limit)
        return NULL; /* Lua raises "not enough memory" */
    ptr = realloc(ptr, nsize);
    if (ptr)
        mem_used += nsize - osize;
    return ptr;
}

static int panic_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "uncaught Lua error: %s\n", msg ? msg : "(not a string)");
    fflush(stderr);
    exit(1);
    return 0;
}

lua_State *mbserver51_newstate(void)
{
    lua_State *L = lua_newstate(counting_alloc, NULL);
    if (L)
        lua_atpanic(L, panic_handler);
    return L;
}

size_t mbserver51_memory_in_use(void)
{
    return mem_used;
}

/* ---------------------------------------------------------------- handlers */

typedef struct {
    lua_State *L;
    int prepare, connect, finish; /* registry references, LUA_NOREF when not given */
    size_t memory_limit;
} pool_handlers;

static int in_handler = 0;
static void (*worker_init_hook)(void) = NULL;

/* Message handler: the error with a traceback. */
static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_isstring(L, -1))
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    lua_getfield(L, LUA_GLOBALSINDEX, "debug");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "traceback");
        if (lua_isfunction(L, -1)) {
            lua_pushstring(L, msg);
            lua_pushinteger(L, 2);
            lua_call(L, 2, 1);
            return 1;
        }
    }
    lua_pushstring(L, msg);
    return 1;
}

/* Calls the function below its nargs arguments with traceback; on error gives the
 * message to sockit_callback_error. Returns the lua_pcall status. */
static int call_handler(lua_State *L, const char *what, int nargs, int nres)
{
    int base = lua_gettop(L) - nargs, status;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    in_handler = 1;
    status = lua_pcall(L, nargs, nres, base);
    in_handler = 0;
    lua_remove(L, base);
    if (status != 0) {
        const char *msg = lua_tostring(L, -1);
        lua_pushfstring(L, "error in %s handler: %s", what, msg ? msg : "?");
        sockit_callback_error(lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    return status;
}

static int cb_prepare(void *ud)
{
    pool_handlers *h = (pool_handlers *)ud;
    lua_State *L = h->L;
    int top = lua_gettop(L), st = 0;
    if (worker_init_hook)
        worker_init_hook();
    mem_limit = h->memory_limit;
    if (h->prepare != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->prepare);
        st = call_handler(L, "prepare", 0, 0);
    }
    lua_settop(L, top);
    return st ? 1 : 0;
}

static int cb_connect(void *ud, sockit_socket *s, const char *interval)
{
    pool_handlers *h = (pool_handlers *)ud;
    lua_State *L = h->L;
    int top = lua_gettop(L), ret;
    sk_obj *o = NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->connect);
    if (s) {
        sockit_family fam = SOCKIT_FAMILY_ANY;
        sockit_socket_family(s, &fam);
        o = sk51_newobj(L, CLS_SOCKET, sizeof *o);
        o->type = SK_STREAM;
        o->s = s;
        o->family = fam;
    } else {
        lua_newtable(L);
        lua_pushstring(L, interval ? interval : "");
        lua_setfield(L, -2, "interval");
    }
    if (call_handler(L, "connect", 1, 1) != 0) {
        ret = -1;
    } else {
        /* As Moonbridge: only true serves another connection. */
        ret = lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) ? 1 : 0;
    }
    if (o) {
        /* The server closes and frees the handle now; the object reads as closed. */
        o->s = NULL;
        o->closed_by_user = 1;
    }
    lua_settop(L, top);
    return ret;
}

static int cb_finish(void *ud)
{
    pool_handlers *h = (pool_handlers *)ud;
    lua_State *L = h->L;
    int st = 0;
    if (h->finish != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->finish);
        st = call_handler(L, "finish", 0, 0);
    }
    if (st == 0)
        lua_close(L); /* the worker exits next: __gc metamethods run, as in Moonbridge */
    return st ? 1 : 0;
}

/* In the master, when the pool (or server) is freed. */
static void free_handlers(void *ud)
{
    pool_handlers *h = (pool_handlers *)ud;
    free(h);
}

/* ---------------------------------------------------------------- listen */

static sockit_server *the_server = NULL;

/* A userdata holding a pool until it is added, so that a Lua error on the way frees it
 * (and closes the listeners bound so far). */
static int holder_gc(lua_State *L)
{
    sockit_server_pool **p = (sockit_server_pool **)lua_touserdata(L, 1);
    if (p && *p) {
        sockit_server_pool_free(*p);
        *p = NULL;
    }
    return 0;
}

static void fail_sockit(lua_State *L, const char *what)
{
    luaL_error(L, "%s: %s", what, sockit_last_error());
}

static const char *field_string(lua_State *L, int t, const char *k)
{
    const char *s;
    lua_getfield(L, t, k);
    s = lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
    lua_pop(L, 1);
    return s;
}

static void add_listener(lua_State *L, sockit_server_pool *pool, int entry, int index)
{
    const char *proto;
    char what[64];
    snprintf(what, sizeof what, "listener #%d", index);
    if (!lua_istable(L, entry))
        luaL_error(L, "%s is not a table; use listen{{proto=..., ...}, ...}", what);
    proto = field_string(L, entry, "proto");
    if (proto == NULL)
        luaL_error(L, "No valid protocol specified for %s; use listen{{proto=..., ...}, ...}",
                   what);
    if (strcmp(proto, "tcp") == 0) {
        const char *host = field_string(L, entry, "host");
        int port, bound = 0;
        lua_getfield(L, entry, "port");
        if (!lua_isnumber(L, -1))
            luaL_error(L, "No port specified for %s; use listen{{proto=\"tcp\", port=...}, ...}",
                       what);
        port = sk51_checkport(L, lua_gettop(L));
        lua_pop(L, 1);
        lua_getfield(L, entry, "tls");
        if (!lua_isnil(L, -1))
            luaL_error(L, "%s: tls is not available in this build", what);
        lua_pop(L, 1);
        if (sockit_server_pool_listen_tcp(pool, host ? host : "::", port, &bound) != SOCKIT_OK)
            fail_sockit(L, what);
    } else if (strcmp(proto, "local") == 0) {
        const char *path = field_string(L, entry, "path");
        if (path == NULL)
            luaL_error(L, "No valid path specified for local socket; use "
                          "listen{{proto=\"local\", path=...}, ...}");
        if (sockit_server_pool_listen_local(pool, path) != SOCKIT_OK)
            fail_sockit(L, what);
    } else if (strcmp(proto, "interval") == 0) {
        const char *name = field_string(L, entry, "name");
        lua_Number delay;
        int strict = 0;
        lua_getfield(L, entry, "delay");
        delay = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
        lua_pop(L, 1);
        if (!(delay > 0))
            luaL_error(L, "No valid interval delay specified; use listen{{proto=\"interval\", "
                          "delay=...}, ...}");
        lua_getfield(L, entry, "strict");
        if (!lua_isnil(L, -1)) {
            if (!lua_isboolean(L, -1))
                luaL_error(L, "Option \"strict\" must be a boolean if set; use "
                              "listen{{proto=\"interval\", strict=true, ...}, ...}");
            strict = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
        if (sockit_server_pool_listen_interval(pool, name ? name : "", delay, strict != 0) !=
            SOCKIT_OK)
            fail_sockit(L, what);
    } else {
        luaL_error(L, "Unknown protocol \"%s\" for %s", proto, what);
    }
}

static const char *const pool_params[] = {"pre_fork",   "min_fork",         "max_fork",
                                          "fork_delay", "fork_error_delay", "exit_delay",
                                          "idle_timeout", "idle_time",      "memory_limit",
                                          NULL};

static int handler_ref(lua_State *L, int t, const char *name, int required)
{
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1) && !required) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    if (!lua_isfunction(L, -1)) {
        if (required)
            luaL_error(L, "Option \"%s\" must be a function; use listen{{...}, %s=function(socket) "
                          "... end, ...}",
                       name, name);
        luaL_error(L, "Option \"%s\" must be nil or a function", name);
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int l_listen(lua_State *L)
{
    sockit_server_pool **holder;
    sockit_server_pool *pool = NULL;
    pool_handlers *h;
    size_t memory_limit = 0;
    int i, n;
    if (in_handler)
        luaL_error(L, "listen{...} cannot be called from a prepare, connect or finish handler");
    luaL_checktype(L, 1, LUA_TTABLE);
    n = (int)lua_objlen(L, 1);
    if (n == 0)
        luaL_error(L, "No listen ports specified; use listen{{proto=..., port=...}, ...}");
    holder = (sockit_server_pool **)lua_newuserdata(L, sizeof *holder);
    *holder = NULL;
    luaL_getmetatable(L, POOL_HOLDER);
    lua_setmetatable(L, -2);
    if (sockit_server_pool_new(holder) != SOCKIT_OK)
        fail_sockit(L, "listen");
    pool = *holder;
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        add_listener(L, pool, lua_gettop(L), i);
        lua_pop(L, 1);
    }
    for (i = 0; pool_params[i]; i++) {
        lua_getfield(L, 1, pool_params[i]);
        if (!lua_isnil(L, -1)) {
            lua_Number v = 0;
            if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
                v = 0; /* false: none, as in Moonbridge */
            else if (lua_isnumber(L, -1))
                v = lua_tonumber(L, -1);
            else
                luaL_error(L, "Option \"%s\" is expected to be a non-negative number",
                           pool_params[i]);
            if (sockit_server_pool_set(pool, pool_params[i], v) != SOCKIT_OK)
                fail_sockit(L, "listen");
            if (strcmp(pool_params[i], "memory_limit") == 0)
                memory_limit = (size_t)v;
        }
        lua_pop(L, 1);
    }
    h = (pool_handlers *)malloc(sizeof *h);
    if (h == NULL)
        luaL_error(L, "listen: out of memory");
    h->L = L;
    h->memory_limit = memory_limit;
    h->prepare = h->connect = h->finish = LUA_NOREF;
    if (sockit_server_pool_set_handlers(pool, cb_prepare, cb_connect, cb_finish, h,
                                        free_handlers) != SOCKIT_OK)
        fail_sockit(L, "listen");
    /* The pool owns h now; references taken after this point stay in the registry for
     * the life of the state (the pool lives as long). */
    h->connect = handler_ref(L, 1, "connect", 1);
    h->prepare = handler_ref(L, 1, "prepare", 0);
    h->finish = handler_ref(L, 1, "finish", 0);
    *holder = NULL; /* taken over by the server, even when adding fails */
    if (sockit_server_add_pool(the_server, pool) != SOCKIT_OK)
        fail_sockit(L, "listen");
    return 0;
}

/* ---------------------------------------------------------------- timeout */

typedef struct {
    lua_State *L;
    int nargs, status;
} timed_call;

static int run_timed(void *ud)
{
    timed_call *c = (timed_call *)ud;
    c->status = lua_pcall(c->L, c->nargs, LUA_MULTRET, 0);
    return 0;
}

static lua_Number seconds_arg(lua_State *L, int i)
{
    lua_Number n;
    if (!lua_toboolean(L, i))
        return 0; /* nil or false: 0 */
    n = luaL_checknumber(L, i);
    if (!(n >= 0 && n <= 100000000))
        luaL_argerror(L, i, "interval in seconds expected");
    return n;
}

/* timeout() / timeout(n) / timeout(0) / timeout(n, fn, ...) */
static int l_timeout(lua_State *L)
{
    double left = 0;
    if (lua_isnoneornil(L, 1) && lua_isnoneornil(L, 2)) {
        sockit_server_timeout_left(&left);
        lua_pushnumber(L, left);
        return 1;
    }
    if (lua_isnoneornil(L, 2)) {
        double prev = 0;
        if (sockit_server_timeout(seconds_arg(L, 1), &prev) != SOCKIT_OK)
            fail_sockit(L, "timeout");
        lua_pushnumber(L, prev);
        return 1;
    }
    {
        lua_Number secs = seconds_arg(L, 1);
        timed_call c;
        int base;
        luaL_checktype(L, 2, LUA_TFUNCTION);
        base = 2; /* the function and its arguments: 2 .. top */
        c.L = L;
        c.nargs = lua_gettop(L) - base;
        c.status = 0;
        if (sockit_server_timeout_call(secs, run_timed, &c, NULL) != SOCKIT_OK)
            fail_sockit(L, "timeout");
        if (c.status != 0)
            lua_error(L); /* the function's error, after the timers were restored */
        return lua_gettop(L) - 1;
    }
}

/* ---------------------------------------------------------------- open */

int mbserver51_open(lua_State *L, sockit_server *srv, void (*worker_init)(void))
{
    the_server = srv;
    worker_init_hook = worker_init;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "moonbridge_io");
    if (lua_pcall(L, 1, 0, 0) != 0)
        return -1;
    luaL_newmetatable(L, POOL_HOLDER);
    lua_pushcfunction(L, holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_listen);
    lua_setglobal(L, "listen");
    lua_pushcfunction(L, l_timeout);
    lua_setglobal(L, "timeout");
    return 0;
}
