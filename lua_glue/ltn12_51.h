/*
 * ltn12_51.h: LTN12 stages for Lua 5.1 / LuaJIT backed by sockit's native pipelines.
 *
 * A native stage is a userdata of class LT_CLASS that owns one sockit handle (a source,
 * a sink or a filter). It is callable like the Lua function LTN12 expects (src(),
 * snk(chunk, err), f(chunk)), so it works anywhere a Lua stage does; and when every
 * stage of a pump is native, ltn12.pump.all hands the whole pipeline to sockit_pump_all
 * and no chunk passes through Lua.
 *
 * The modules that use this (ltn12.core, mime.core, socket.proto) are separate shared
 * objects, each with its own hidden copy of ltn12_51.c. They agree because the class
 * and the per-state context live in the Lua registry under fixed names, and the
 * structures below are the same in every copy.
 *
 * Callbacks from sockit into Lua (Lua functions used as stages by the protocol clients,
 * the table sink, the file source and sink) need the lua_State of the running call:
 * every call into sockit that may run callbacks goes between lt_enter and lt_leave,
 * which record the running thread in the state's lt_ctx. A Lua error raised inside a
 * callback is caught there, the sockit call is failed, and lt_leave raises it again
 * once the call has returned; a Lua stage that returns nil plus an error value has that
 * value (of any type) handed back as the error of the operation.
 */
#ifndef SOCKIT_LUA_LTN12_51_H
#define SOCKIT_LUA_LTN12_51_H

#include <stddef.h>
#include <stdint.h>

#include "lua.h"
#include "lauxlib.h"

#include "sockit.h"

#if defined(__GNUC__)
#define LT_HIDDEN __attribute__((visibility("hidden")))
#else
#define LT_HIDDEN
#endif

/* Registry names shared by every module. */
#define LT_CLASS "sockit.ltn12.stage"  /* metatable of native stages */
#define LT_CTX_KEY "sockit.ltn12.ctx"  /* the state's lt_ctx userdata */
#define LT_LOWFUNCS "sockit.mime.low"  /* table: mime.core function -> LT_M_* */

/* What a stage is. */
enum { LT_SOURCE = 1, LT_SINK = 2, LT_FILTER = 3 };

/* How a stage behaves when called from Lua, beyond its kind. */
enum {
    LT_F_PLAIN = 0, /* the handle does it all */
    LT_F_CYCLE,     /* filter: a cycle of a mime.core function (state below) */
    LT_F_REWIND,    /* source: src(chunk) pushes chunk back */
    LT_F_SOCKET,    /* source or sink over a socket object (getfd, dirty) */
    LT_F_CHUNKED,   /* source: http-chunked socket source filling a headers table */
    LT_F_CHAIN,     /* filter.chain, source.chain or sink.chain of native stages */
};

/* What a sink called from Lua returns after taking a chunk: 1 (LTN12's sinks), true
 * (file:write in Lua 5.1), or the chunk's length (socket:send). */
enum { LT_RET_ONE = 0, LT_RET_TRUE, LT_RET_LEN };

/* The mime.core functions a cycle can run natively. */
enum { LT_M_B64 = 1, LT_M_UNB64, LT_M_QP, LT_M_UNQP, LT_M_WRP, LT_M_QPWRP, LT_M_EOL, LT_M_DOT };

/* Per-Lua-state context of native calls (one userdata in the registry). */
typedef struct {
    lua_State *L;  /* the thread running the current native call; NULL outside */
    int raise_ref; /* a Lua error raised by a callback, to raise again (LUA_NOREF) */
    int err_ref;   /* an error value a Lua stage returned (LUA_NOREF) */
    sockit_buffer *scratch[4]; /* see lt_scratch */
} lt_ctx;

/* State of a mime cycle: ctx and extra of ltn12.filter.cycle(low, ctx, extra). */
typedef struct {
    int fn;                    /* LT_M_* */
    sockit_buffer *s, *s2;     /* string context (b64, unb64, qp, unqp) and scratch */
    int s_nil;                 /* the string context is nil */
    int64_t n;                 /* numeric context (wrp, qpwrp, eol, dot) */
    int64_t length;            /* wrp, qpwrp: line length */
    sockit_buffer *marker;     /* qp, eol: line-break marker */
    int marker_nil;            /* no marker: the default CRLF */
} lt_mime;

/* A native stage (userdata of class LT_CLASS). */
typedef struct {
    int kind;      /* LT_SOURCE, LT_SINK, LT_FILTER */
    int flavor;    /* LT_F_* */
    void *h;       /* sockit_source / sockit_sink / sockit_filter; NULL once freed */
    lt_ctx *ctx;   /* the state's context */
    int keep;      /* registry ref to what the handle borrows (kept alive), or LUA_NOREF */
    int aux;       /* registry ref to what callbacks use (table, file, function, headers) */
    int ended;     /* Lua calls: a source reported its end; a filter was ended */
    int harvested; /* LT_F_CHUNKED: trailers copied into the headers table */
    int putret;    /* sinks called from Lua with a chunk return LT_RET_* */
    size_t blocksize;
    sockit_buffer *out; /* output of Lua calls (made on first use) */
    lt_mime m;     /* LT_F_CYCLE */
    void *chain;   /* LT_F_CHAIN: the chain's state (ltn12_51.c) */
} lt_stage;

/* The state's context (created on first use). */
LT_HIDDEN lt_ctx *lt_getctx(lua_State *L);

/* Brackets a sockit call that may run callbacks. lt_leave raises a Lua error a callback
 * raised; call it after freeing temporaries. */
typedef struct {
    lt_ctx *ctx;
    lua_State *saved;
} lt_guard;
LT_HIDDEN void lt_enter(lua_State *L, lt_guard *g);
LT_HIDDEN void lt_leave(lua_State *L, lt_guard *g);

/* After a failed sockit call made under lt_enter: pushes the error value (the value a
 * Lua stage returned, or the message for st). Returns 1. */
LT_HIDDEN int lt_pusherror(lua_State *L, lt_ctx *c, sockit_status st);
/* The message for a failed status: LuaSocket's short strings for network errors, else
 * sockit's detailed message. */
LT_HIDDEN const char *lt_errmsg(sockit_status st);

/* Registers the class (idempotent). */
LT_HIDDEN void lt_open(lua_State *L);
/* A new stage of kind/flavor on top of the stack; h may be set later. */
LT_HIDDEN lt_stage *lt_new(lua_State *L, int kind, int flavor);
/* The stage at index i if it is one (of kind, or any kind when kind is 0), else NULL. */
LT_HIDDEN lt_stage *lt_test(lua_State *L, int i, int kind);
/* As lt_test, or a Lua error. */
LT_HIDDEN lt_stage *lt_check(lua_State *L, int i, int kind);
/* Stores the value at index i as the stage's keep (or aux) reference. */
LT_HIDDEN void lt_setkeep(lua_State *L, lt_stage *st, int i);
LT_HIDDEN void lt_setaux(lua_State *L, lt_stage *st, int i);

/*
 * Handles that borrow a native stage's handle, for composites and protocol clients
 * (the stage must stay alive while they are used: keep a reference to it). The caller
 * owns the returned handle. NULL when out of memory.
 */
LT_HIDDEN sockit_source *lt_borrow_source(lt_stage *st);
LT_HIDDEN sockit_sink *lt_borrow_sink(lt_stage *st);
LT_HIDDEN sockit_filter *lt_borrow_filter(lt_stage *st);

/*
 * A source / sink for any LTN12 stage at index i: a borrowing handle for a native stage,
 * else a callback handle calling the Lua function (or callable) there. The caller owns
 * the handle and must keep the value at i alive while it is used, and drive it between
 * lt_enter and lt_leave. NULL (with a Lua error raised) when i holds neither.
 */
LT_HIDDEN sockit_source *lt_tosource(lua_State *L, int i);
/* Whether lt_tosource (kind LT_SOURCE) / lt_tosink (LT_SINK) accepts the value at i. */
LT_HIDDEN int lt_accepts(lua_State *L, int i, int kind);
LT_HIDDEN sockit_sink *lt_tosink(lua_State *L, int i);

/* Calls filter stage st as LTN12 calls a filter: chunk (NULL = nil) in, the output into
 * out (*out_nil when it is nil). */
LT_HIDDEN sockit_status lt_filter_call(lt_stage *st, const uint8_t *chunk, size_t len,
                                       sockit_buffer *out, int *out_nil);

/* After a native call that may have ended an http-chunked socket source: copies its
 * trailers into its headers table. */
LT_HIDDEN void lt_harvest(lua_State *L, lt_stage *st);

/* mime cycles: initialises m for fn with ctx at index ictx and extra at index iextra
 * (0 = nil). Returns 0 when the values do not suit fn (the caller falls back to Lua). */
LT_HIDDEN int lt_mime_init(lua_State *L, lt_mime *m, int fn, int ictx, int iextra);
/* One step: chunk (NULL = nil) in, A out into a (*a_nil when A is nil). */
LT_HIDDEN sockit_status lt_mime_step(lt_mime *m, const uint8_t *chunk, size_t len,
                                     sockit_buffer *a, int *a_nil);
/* Pushes a new native filter cycling mime function fn (see lt_mime_init); returns 0
 * and pushes nothing when the values do not suit. */
LT_HIDDEN int lt_push_cycle(lua_State *L, int fn, int ictx, int iextra);

/* Pushes the bytes of a buffer as a Lua string. */
LT_HIDDEN void lt_pushbuffer(lua_State *L, sockit_buffer *b);
/* A per-state scratch buffer (n = 0..3), cleared. */
LT_HIDDEN sockit_buffer *lt_scratch(lua_State *L, int n);

#endif
