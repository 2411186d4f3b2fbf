/*
 * sk51.h: what the Lua 5.1 / LuaJIT modules (socket.core, socket.unix,
 * moonbridge_io.core) share: the object layout every sockit-backed userdata starts with,
 * class helpers, and the conversions between Lua values and sockit's C API.
 *
 * Each module is its own shared object and gets its own copy of these helpers (they
 * are hidden, not exported); the objects still interoperate, because classes live in
 * the Lua registry by name and every object starts with the same header, marked by a
 * "__sockit" field in its metatable.
 */
#ifndef SOCKIT_LUA_SK51_H
#define SOCKIT_LUA_SK51_H

#include <stddef.h>
#include <stdint.h>

#include "lua.h"
#include "lauxlib.h"

#include "sockit.h"

#if defined(__GNUC__)
#define SK_HIDDEN __attribute__((visibility("hidden")))
#define SK_EXPORT __attribute__((visibility("default")))
#define SK_NOINLINE __attribute__((noinline))
#define SK_INLINE __attribute__((always_inline)) inline
#else
#define SK_HIDDEN
#define SK_EXPORT
#define SK_NOINLINE
#define SK_INLINE inline
#endif

/* What an object wraps. */
enum {
    SK_STREAM = 1, /* sockit_socket: TCP or Unix stream (LuaSocket or Moonbridge style) */
    SK_UDP = 2,    /* sockit_udp */
};

/*
 * Lines a stream object's "*l" receive has looked at ahead with sockit_socket_peek_lines
 * (line k: data[k], len[k], occupying bytes[k] of input): lines next..count-1 are still
 * to be returned; `owed` counts the bytes of those already returned, which are consumed
 * from the socket (sk51_settle) before anything else uses it. The views stay valid
 * because nothing else touches the socket meanwhile: every
 * method settles first, and an object whose handle is lent out (sk51_lend) never looks
 * ahead again. The record is made when a receive first finds lines behind its own, with
 * room for SK_AHEAD_MIN; it doubles (up to SK_AHEAD_MAX) each time a look fills it, so
 * only a socket that keeps receiving many short lines gets a large one.
 */
#define SK_AHEAD_MIN 32
#define SK_AHEAD_MAX 1024
typedef struct {
    unsigned next, count, size;
    size_t owed;
    const uint8_t **data; /* `size` entries each, in the record's own allocation */
    size_t *len, *bytes;
} sk_ahead;

/* Every sockit-backed userdata starts with this. */
typedef struct {
    int type;           /* SK_STREAM or SK_UDP */
    sockit_socket *s;   /* SK_STREAM */
    sockit_udp *u;      /* SK_UDP */
    int family;         /* "tcp" objects: SOCKIT_FAMILY_*; SOCKIT_FAMILY_UNIX for Unix */
    int closed_by_user; /* Moonbridge: close/reset was called */
    sk_ahead *ahead;    /* LuaSocket stream objects: see sk_ahead (NULL until used) */
    int lent;           /* the handle is held outside the object: no looking ahead */
} sk_obj;

/* Consumes the lines an object's receive returned from its look-ahead and forgets the
 * rest (they stay buffered in the socket). Call before any other use of o->s. */
SK_HIDDEN void sk51_settle(sk_obj *o);
/* The object's stream handle for a holder that keeps it beyond this call (a socket
 * source or sink): settles and turns looking ahead off for good. */
SK_HIDDEN sockit_socket *sk51_lend(sk_obj *o);
/* Frees the look-ahead record (from __gc). */
SK_HIDDEN void sk51_ahead_free(sk_obj *o);

/* The field every sockit metatable carries, so other modules recognise the objects. */
#define SK_MARK "__sockit"

/* Per-state scratch buffers of one module (a Lua state runs one call at a time). */
typedef struct {
    sockit_buffer *data;
    sockit_buffer *text;
    sockit_pollset *pollset;
} sk_scratch;

/* Creates the module's scratch record under registry key `key` (once per state). */
SK_HIDDEN void sk51_scratch_open(lua_State *L, const char *key);
/* The module's scratch record. */
SK_HIDDEN sk_scratch *sk51_scratch(lua_State *L, const char *key);

/*
 * Creates (or reuses) the metatable named cls, with __index = methods (shared by the
 * classes of one family: pass the same table), __gc = gc and __tostring printing
 * "cls: 0x...", plus the SK_MARK field and, for each name in groups, a field
 * marking the class as a member of that group ("tcp{any}", ...).
 * The methods table is at index `methods`.
 */
SK_HIDDEN void sk51_newclass(lua_State *L, const char *cls, int methods, lua_CFunction gc,
                             const char *const *groups);
/* Sets the metatable of the userdata on top of the stack to class cls. */
SK_HIDDEN void sk51_setclass(lua_State *L, const char *cls);
/* The object at index i if its class is cls, else NULL. */
SK_HIDDEN sk_obj *sk51_testclass(lua_State *L, int i, const char *cls);
/* The object at index i if its class belongs to group, else NULL. */
SK_HIDDEN sk_obj *sk51_testgroup(lua_State *L, int i, const char *group);
/* The object at index i, or a Lua error "bad argument #i (<cls> expected)". */
SK_HIDDEN sk_obj *sk51_checkclass(lua_State *L, int i, const char *cls);
SK_HIDDEN sk_obj *sk51_checkgroup(lua_State *L, int i, const char *group);
/* Any sockit object (of any module) at index i, or NULL. */
SK_HIDDEN sk_obj *sk51_toobj(lua_State *L, int i);
/* A new userdata object of class cls on top of the stack (fields zeroed). */
SK_HIDDEN sk_obj *sk51_newobj(lua_State *L, const char *cls, size_t size);

/* Pushes the bytes of a buffer as a string. */
SK_HIDDEN void sk51_pushbuffer(lua_State *L, sockit_buffer *b);
/* Pushes nil and the message for a failed status; returns 2. */
SK_HIDDEN int sk51_fail(lua_State *L, sockit_status st);
/* LuaSocket's message for a status: the short strings, strerror text for system errors. */
SK_HIDDEN const char *sk51_errstr(sockit_status st);
/* Pushes 1 (LuaSocket's success value) on OK, else nil + message. */
SK_HIDDEN int sk51_okfail(lua_State *L, sockit_status st);
/* A port argument (number or numeric string) 0..65535, or a Lua error. */
SK_HIDDEN int sk51_checkport(lua_State *L, int i);
/* setfd's argument as LuaSocket takes it: a number below 2^31, fractions truncated, any
 * negative number meaning "no descriptor" (-1); else a Lua error. */
SK_HIDDEN int sk51_checkfd(lua_State *L, int i);
/* settimeout's arguments: the seconds (nil or negative = no limit, stored as -1) and
 * the mode ("b", "t", "r" by first letter; default "b"); else a Lua error. */
SK_HIDDEN double sk51_timeout_args(lua_State *L, int i, const char **mode);
/* A family name: nil -> SOCKIT_FAMILY_ANY, "inet", "inet6"; else a Lua error. */
SK_HIDDEN int sk51_optfamily(lua_State *L, int i);
/* LuaSocket's family name: "inet", "inet6", "unix". */
SK_HIDDEN const char *sk51_familyname(int family);
/* Pushes LuaSocket's resolver table {name, alias = {...}, ip = {...}}. */
SK_HIDDEN void sk51_pushhostinfo(lua_State *L, const sockit_hostinfo *info);
/* The current time, for DEBUG builds. */
SK_HIDDEN double sk51_now(void);

/* Stream sockets, LuaSocket style (stream51.c): the methods of tcp and unix objects. */
typedef struct {
    const char *master, *client, *server; /* class names: "tcp{master}", ... */
    const char *any;                      /* group name: "tcp{any}" */
    const char *scratch;                  /* scratch registry key of the module */
} sk_stream_classes;

/* Registers the three classes of a stream family with LuaSocket 3's method table. */
SK_HIDDEN void sk51_stream_open(lua_State *L, const sk_stream_classes *c);
/* Pushes a new object of the family's class for state st owning s. */
SK_HIDDEN void sk51_stream_push(lua_State *L, const sk_stream_classes *c, sockit_socket *s,
                                int family);

#ifdef SOCKIT_LUA_DEBUG
#define SK_DEBUG_START double sk_debug_t0 = sk51_now()
#define SK_DEBUG_RETURN(L, n) return (lua_pushnumber((L), sk51_now() - sk_debug_t0), (n) + 1)
#else
#define SK_DEBUG_START
#define SK_DEBUG_RETURN(L, n) return (n)
#endif

#endif
