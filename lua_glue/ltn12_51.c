/*
 * ltn12_51.c: native LTN12 stages for Lua 5.1 / LuaJIT (see ltn12_51.h), and the
 * ltn12.core module that ltn12.lua builds on.
 *
 * Every module that hands stages to sockit links its own hidden copy of this file; the
 * stage class, the per-state context and the table of mime functions are found in the
 * registry by name, so stages made by one module work in every other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltn12_51.h"
#include "sk51.h"

#define LT_DEFAULT_BLOCKSIZE 2048
#define LT_MAX_BLOCKSIZE (64u * 1024u * 1024u)

/* ---------------------------------------------------------------- context */

static int ctx_gc(lua_State *L)
{
    lt_ctx *c = (lt_ctx *)lua_touserdata(L, 1);
    int i;
    for (i = 0; i < 4; i++) {
        sockit_buffer_free(c->scratch[i]);
        c->scratch[i] = NULL;
    }
    return 0;
}

lt_ctx *lt_getctx(lua_State *L)
{
    lt_ctx *c;
    lua_getfield(L, LUA_REGISTRYINDEX, LT_CTX_KEY);
    c = (lt_ctx *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (c)
        return c;
    c = (lt_ctx *)lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    c->raise_ref = LUA_NOREF;
    c->err_ref = LUA_NOREF;
    lua_newtable(L);
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, LT_CTX_KEY);
    return c;
}

sockit_buffer *lt_scratch(lua_State *L, int n)
{
    lt_ctx *c = lt_getctx(L);
    if (c->scratch[n] == NULL)
        c->scratch[n] = sockit_buffer_new();
    sockit_buffer_clear(c->scratch[n]);
    return c->scratch[n];
}

static void unref(lua_State *L, int *ref)
{
    if (*ref != LUA_NOREF && *ref != LUA_REFNIL)
        luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
}

void lt_enter(lua_State *L, lt_guard *g)
{
    g->ctx = lt_getctx(L);
    g->saved = g->ctx->L;
    g->ctx->L = L;
    /* Leftovers of an earlier call that nobody picked up. */
    unref(L, &g->ctx->raise_ref);
    unref(L, &g->ctx->err_ref);
}

void lt_leave(lua_State *L, lt_guard *g)
{
    lt_ctx *c = g->ctx;
    c->L = g->saved;
    if (c->raise_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->raise_ref);
        unref(L, &c->raise_ref);
        unref(L, &c->err_ref);
        lua_error(L);
    }
}

const char *lt_errmsg(sockit_status st)
{
    const char *m;
    /* Network failures: LuaSocket's strings ("timeout", "closed", "connection refused",
     * "host not found", ...); the rest with sockit's detail. */
    if (st >= SOCKIT_TIMEOUT && st <= SOCKIT_SERVICE)
        return sockit_status_str(st);
    m = sockit_last_error();
    return (m && *m) ? m : sockit_status_str(st);
}

int lt_pusherror(lua_State *L, lt_ctx *c, sockit_status st)
{
    if (c->err_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->err_ref);
        unref(L, &c->err_ref);
    } else {
        lua_pushstring(L, lt_errmsg(st));
    }
    return 1;
}

/* Inside a callback: the error on top of L (raised by Lua code) is kept to be raised
 * again by lt_leave; the sockit call is failed. Pops it. */
static int cb_raised(lt_ctx *c, lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    sockit_callback_error(msg ? msg : "error in a Lua stage");
    unref(L, &c->raise_ref);
    c->raise_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return SOCKIT_ABORTED;
}

/* Inside a callback: the error value on top of L (returned by a Lua stage) becomes the
 * operation's error. Pops it. */
static int cb_failed(lt_ctx *c, lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    sockit_callback_error(msg ? msg : "error in a Lua stage");
    unref(L, &c->err_ref);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushstring(L, "aborted");
    }
    c->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return SOCKIT_ABORTED;
}

/* The thread a callback may use, or NULL when callbacks must not touch Lua (no native
 * call in progress, or a Lua error is already on its way out). */
static lua_State *cb_state(lt_ctx *c)
{
    if (c->L == NULL) {
        sockit_callback_error("sockit: Lua stage called outside a native call");
        return NULL;
    }
    if (c->raise_ref != LUA_NOREF) {
        sockit_callback_error("aborted by a Lua error");
        return NULL;
    }
    if (!lua_checkstack(c->L, 8)) {
        sockit_callback_error("sockit: Lua stack overflow");
        return NULL;
    }
    return c->L;
}

void lt_pushbuffer(lua_State *L, sockit_buffer *b)
{
    lua_pushlstring(L, (const char *)sockit_buffer_data(b), sockit_buffer_len(b));
}

/* ---------------------------------------------------------------- mime cycles */

static int is_string_fn(int fn)
{
    return fn == LT_M_B64 || fn == LT_M_UNB64 || fn == LT_M_QP || fn == LT_M_UNQP;
}

int lt_mime_init(lua_State *L, lt_mime *m, int fn, int ictx, int iextra)
{
    int tctx = ictx ? lua_type(L, ictx) : LUA_TNIL;
    int textra = iextra ? lua_type(L, iextra) : LUA_TNIL;
    memset(m, 0, sizeof *m);
    m->fn = fn;
    m->s_nil = 1;
    m->marker_nil = 1;
    m->length = 76;
    if (is_string_fn(fn)) {
        if (tctx == LUA_TSTRING || tctx == LUA_TNUMBER) {
            size_t n;
            const char *s = lua_tolstring(L, ictx, &n);
            m->s = sockit_buffer_new();
            sockit_buffer_append(m->s, (const uint8_t *)s, n);
            m->s_nil = 0;
        } else if (tctx != LUA_TNIL) {
            return 0;
        }
        if (m->s == NULL)
            m->s = sockit_buffer_new();
        m->s2 = sockit_buffer_new();
    } else {
        if (!ictx || !lua_isnumber(L, ictx))
            return 0;
        m->n = (int64_t)lua_tonumber(L, ictx);
    }
    switch (fn) {
    case LT_M_QP:
    case LT_M_EOL:
        if (textra == LUA_TSTRING || textra == LUA_TNUMBER) {
            size_t n;
            const char *s = lua_tolstring(L, iextra, &n);
            m->marker = sockit_buffer_new();
            sockit_buffer_append(m->marker, (const uint8_t *)s, n);
            m->marker_nil = 0;
        } else if (textra != LUA_TNIL) {
            return 0;
        }
        break;
    case LT_M_WRP:
    case LT_M_QPWRP:
        if (textra == LUA_TNIL)
            m->length = 76;
        else if (lua_isnumber(L, iextra))
            m->length = (int64_t)lua_tonumber(L, iextra);
        else
            return 0;
        break;
    default:
        break;
    }
    return 1;
}

static void mime_free(lt_mime *m)
{
    sockit_buffer_free(m->s);
    sockit_buffer_free(m->s2);
    sockit_buffer_free(m->marker);
    m->s = m->s2 = m->marker = NULL;
}

sockit_status lt_mime_step(lt_mime *m, const uint8_t *d, size_t len, sockit_buffer *a,
                           int *a_nil)
{
    sockit_status st;
    const uint8_t *mk = m->marker_nil ? NULL : sockit_buffer_data(m->marker);
    size_t mklen = m->marker_nil ? 0 : sockit_buffer_len(m->marker);
    int64_t out = 0;
    if (is_string_fn(m->fn)) {
        const uint8_t *c = m->s_nil ? NULL : sockit_buffer_data(m->s);
        size_t clen = m->s_nil ? 0 : sockit_buffer_len(m->s);
        sockit_buffer *t;
        switch (m->fn) {
        case LT_M_B64:
            st = sockit_mime_b64(c, clen, d, len, a, m->s2);
            break;
        case LT_M_UNB64:
            st = sockit_mime_unb64(c, clen, d, len, a, m->s2);
            break;
        case LT_M_QP:
            st = sockit_mime_qp(c, clen, d, len, mk, mklen, a, m->s2);
            break;
        default:
            st = sockit_mime_unqp(c, clen, d, len, a, m->s2);
            break;
        }
        if (st != SOCKIT_OK)
            return st;
        *a_nil = c == NULL || (d == NULL && sockit_buffer_len(a) == 0);
        m->s_nil = c == NULL || d == NULL;
        t = m->s;
        m->s = m->s2;
        m->s2 = t;
        return SOCKIT_OK;
    }
    switch (m->fn) {
    case LT_M_WRP:
        st = sockit_mime_wrp(m->n, d, len, m->length, a, &out);
        break;
    case LT_M_QPWRP:
        st = sockit_mime_qpwrp(m->n, d, len, m->length, a, &out);
        break;
    case LT_M_EOL:
        st = sockit_mime_eol(m->n, d, len, mk, mklen, a, &out);
        break;
    default:
        st = sockit_mime_dot(m->n, d, len, a, &out);
        break;
    }
    if (st != SOCKIT_OK)
        return st;
    *a_nil = d == NULL && sockit_buffer_len(a) == 0;
    m->n = out;
    return SOCKIT_OK;
}

/* ---------------------------------------------------------------- chains
 *
 * filter.chain, source.chain and sink.chain of native stages follow LuaSocket's
 * algorithms step for step, so that they hand out the same chunks (empty ones included)
 * at the same calls; the stages they chain are called directly, never through Lua.
 */

static const uint8_t EMPTY[1] = {0};

/* A message for a failure the chain algorithms detect themselves. */
static __thread const char *algo_error;

static sockit_status algo_fail(const char *msg)
{
    algo_error = msg;
    return SOCKIT_INVALID;
}

/* Inside a callback: passes the message of a failure on (see algo_error). */
static int cb_pass(sockit_status s)
{
    if (algo_error) {
        sockit_callback_error(algo_error);
        algo_error = NULL;
    } else {
        sockit_callback_error(sockit_last_error());
    }
    return s;
}

typedef struct {
    int n;
    lt_stage **f;
    sockit_buffer **buf; /* buf[i]: the last output of filter i */
    int top, index;      /* the first filter still fed real input; the one to call next */
    int again_nil;       /* the input has ended: a filter answering "" is asked with nil */
} fchain;

typedef struct {
    lt_stage *src, *f;
    sockit_buffer *in;
    int in_nil;
    int eating;
} schain;

typedef struct {
    lt_stage *f, *snk;
    sockit_buffer *buf;
} kchain;

static void copy_out(sockit_buffer *out, sockit_buffer *b)
{
    sockit_buffer_clear(out);
    sockit_buffer_append(out, sockit_buffer_data(b), sockit_buffer_len(b));
}

static sockit_status fchain_call(fchain *ch, const uint8_t *cur, size_t curlen,
                                 sockit_buffer *out, int *out_nil)
{
    sockit_status s;
    int onil = 0, guard;
    if (cur == NULL)
        ch->again_nil = 1;
    for (guard = 0; guard < 100000000; guard++) {
        int i = ch->index;
        sockit_buffer *b = ch->buf[i];
        if (i == ch->top) {
            s = lt_filter_call(ch->f[i], cur, curlen, b, &onil);
            if (s != SOCKIT_OK)
                return s;
            if ((!onil && sockit_buffer_len(b) == 0) || ch->top == ch->n - 1) {
                copy_out(out, b);
                *out_nil = onil;
                return SOCKIT_OK;
            }
            if (!onil) {
                ch->index++;
                cur = sockit_buffer_data(b);
                curlen = sockit_buffer_len(b);
            } else {
                ch->top++;
                ch->index = ch->top;
                cur = NULL;
                curlen = 0;
            }
        } else {
            if (cur == NULL) {
                cur = EMPTY;
                curlen = 0;
            }
            s = lt_filter_call(ch->f[i], cur, curlen, b, &onil);
            if (s != SOCKIT_OK)
                return s;
            if (onil)
                return algo_fail("filter returned inappropriate nil");
            if (sockit_buffer_len(b) == 0) {
                ch->index--;
                cur = ch->again_nil ? NULL : EMPTY;
                curlen = 0;
            } else if (i == ch->n - 1) {
                copy_out(out, b);
                *out_nil = 0;
                return SOCKIT_OK;
            } else {
                ch->index++;
                cur = sockit_buffer_data(b);
                curlen = sockit_buffer_len(b);
            }
        }
    }
    return algo_fail("filter chain does not end");
}

sockit_status lt_filter_call(lt_stage *st, const uint8_t *chunk, size_t len,
                             sockit_buffer *out, int *out_nil)
{
    sockit_status s;
    *out_nil = 0;
    if (st->flavor == LT_F_CYCLE)
        return lt_mime_step(&st->m, chunk, len, out, out_nil);
    if (st->flavor == LT_F_CHAIN)
        return fchain_call((fchain *)st->chain, chunk, len, out, out_nil);
    /* a plain sockit filter: the end once, nil afterwards */
    if (chunk != NULL)
        return sockit_filter_put((sockit_filter *)st->h, chunk, len, out);
    if (st->ended) {
        sockit_buffer_clear(out);
        *out_nil = 1;
        return SOCKIT_OK;
    }
    st->ended = 1;
    s = sockit_filter_end((sockit_filter *)st->h, out);
    if (s == SOCKIT_OK && sockit_buffer_len(out) == 0)
        *out_nil = 1;
    return s;
}

/* The sockit filter of a native filter stage: each chunk, then "" until the stage
 * answers ""; at the end nil until it answers nil (LTN12's way of draining a filter). */
static int drain_cb(void *ud, const uint8_t *chunk, size_t len, sockit_buffer *out)
{
    lt_stage *st = (lt_stage *)ud;
    sockit_buffer *tmp = sockit_buffer_new();
    sockit_status s;
    int onil = 0, i;
    s = lt_filter_call(st, chunk, len, tmp, &onil);
    for (i = 0; s == SOCKIT_OK; i++) {
        sockit_buffer_append(out, sockit_buffer_data(tmp), sockit_buffer_len(tmp));
        if (onil || (chunk != NULL && sockit_buffer_len(tmp) == 0))
            break;
        if (i > 10000000) {
            s = algo_fail("filter does not end");
            break;
        }
        s = lt_filter_call(st, chunk ? EMPTY : NULL, 0, tmp, &onil);
    }
    sockit_buffer_free(tmp);
    return s == SOCKIT_OK ? SOCKIT_OK : cb_pass(s);
}

/* source.chain: "feeding" pulls the source and gives the chunk to the filter; after an
 * output, "eating" asks the filter again ("" or nil at the end) until it answers "". */
static int schain_cb(void *ud, sockit_buffer *chunk, bool *end)
{
    lt_stage *st = (lt_stage *)ud;
    schain *c = (schain *)st->chain;
    sockit_status s;
    int onil = 0, guard;
    for (guard = 0; guard < 100000000; guard++) {
        const uint8_t *in;
        if (!c->eating) {
            bool e = false;
            s = sockit_source_pull((sockit_source *)c->src->h, st->blocksize, c->in, &e);
            if (s != SOCKIT_OK)
                return cb_pass(s);
            if (e && c->src->flavor == LT_F_CHUNKED && st->ctx->L)
                lt_harvest(st->ctx->L, c->src);
            c->in_nil = e;
            in = e ? NULL : sockit_buffer_data(c->in);
            s = lt_filter_call(c->f, in, sockit_buffer_len(c->in), chunk, &onil);
            if (s != SOCKIT_OK)
                return cb_pass(s);
            if (onil) {
                if (!c->in_nil)
                    return cb_pass(algo_fail("filter returned inappropriate nil"));
                *end = true;
                return SOCKIT_OK;
            }
            if (sockit_buffer_len(chunk) > 0) {
                c->eating = 1;
                if (!c->in_nil)
                    sockit_buffer_clear(c->in);
                return SOCKIT_OK;
            }
        } else {
            in = c->in_nil ? NULL : sockit_buffer_data(c->in);
            s = lt_filter_call(c->f, in, sockit_buffer_len(c->in), chunk, &onil);
            if (s != SOCKIT_OK)
                return cb_pass(s);
            if (onil) {
                if (!c->in_nil)
                    return cb_pass(algo_fail("filter returned inappropriate nil"));
                *end = true;
                return SOCKIT_OK;
            }
            if (sockit_buffer_len(chunk) > 0)
                return SOCKIT_OK;
            if (c->in_nil || sockit_buffer_len(c->in) > 0)
                return cb_pass(algo_fail("filter returned \"\""));
            c->eating = 0;
        }
    }
    return cb_pass(algo_fail("source chain does not end"));
}

/* sink.chain: each chunk through the filter into the sink, then "" (nil at the end)
 * until the filter answers "" (nil); every output, empty ones included, goes to the
 * sink. An empty chunk is ignored. */
static int kchain_cb(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    lt_stage *st = (lt_stage *)ud;
    kchain *c = (kchain *)st->chain;
    sockit_sink *snk = (sockit_sink *)c->snk->h;
    sockit_status s;
    int onil = 0, guard;
    if (chunk != NULL && len == 0)
        return SOCKIT_OK;
    s = lt_filter_call(c->f, chunk, len, c->buf, &onil);
    for (guard = 0; guard < 100000000; guard++) {
        if (s != SOCKIT_OK)
            return cb_pass(s);
        if (!onil)
            s = sockit_sink_put(snk, sockit_buffer_data(c->buf), sockit_buffer_len(c->buf));
        else if (error)
            s = sockit_sink_fail(snk, error);
        else
            s = sockit_sink_end(snk);
        if (s != SOCKIT_OK)
            return cb_pass(s);
        if (chunk ? (!onil && sockit_buffer_len(c->buf) == 0) : onil)
            return SOCKIT_OK;
        s = lt_filter_call(c->f, chunk ? EMPTY : NULL, 0, c->buf, &onil);
    }
    return cb_pass(algo_fail("sink chain does not end"));
}

static void chain_free(lt_stage *st)
{
    int i;
    if (st->chain == NULL)
        return;
    switch (st->kind) {
    case LT_FILTER: {
        fchain *c = (fchain *)st->chain;
        for (i = 0; i < c->n; i++)
            sockit_buffer_free(c->buf[i]);
        free(c->buf);
        free(c->f);
        break;
    }
    case LT_SOURCE:
        sockit_buffer_free(((schain *)st->chain)->in);
        break;
    default:
        sockit_buffer_free(((kchain *)st->chain)->buf);
        break;
    }
    free(st->chain);
    st->chain = NULL;
}

/* ---------------------------------------------------------------- the class */

static const char *kind_name(int kind)
{
    switch (kind) {
    case LT_SOURCE:
        return "source";
    case LT_SINK:
        return "sink";
    default:
        return "filter";
    }
}

lt_stage *lt_test(lua_State *L, int i, int kind)
{
    lt_stage *st = (lt_stage *)lua_touserdata(L, i);
    int same;
    if (st == NULL || lua_type(L, i) != LUA_TUSERDATA || !lua_getmetatable(L, i))
        return NULL;
    lua_getfield(L, LUA_REGISTRYINDEX, LT_CLASS);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!same || (kind && st->kind != kind))
        return NULL;
    return st;
}

lt_stage *lt_check(lua_State *L, int i, int kind)
{
    lt_stage *st = lt_test(L, i, kind);
    if (st == NULL) {
        char msg[64];
        snprintf(msg, sizeof msg, "native ltn12 %s expected", kind ? kind_name(kind) : "stage");
        luaL_argerror(L, i, msg);
    }
    if (st->h == NULL)
        luaL_argerror(L, i, "ltn12 stage already released");
    return st;
}

static void set_ref(lua_State *L, int *ref, int i)
{
    lua_pushvalue(L, i);
    unref(L, ref);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

void lt_setkeep(lua_State *L, lt_stage *st, int i)
{
    set_ref(L, &st->keep, i);
}

void lt_setaux(lua_State *L, lt_stage *st, int i)
{
    set_ref(L, &st->aux, i);
}

static sockit_buffer *stage_out(lt_stage *st)
{
    if (st->out == NULL)
        st->out = sockit_buffer_new();
    return st->out;
}

static int stage_gc(lua_State *L)
{
    lt_stage *st = lt_test(L, 1, 0);
    if (st == NULL)
        return 0;
    if (st->h) {
        switch (st->kind) {
        case LT_SOURCE:
            sockit_source_free((sockit_source *)st->h);
            break;
        case LT_SINK:
            sockit_sink_free((sockit_sink *)st->h);
            break;
        default:
            sockit_filter_free((sockit_filter *)st->h);
            break;
        }
        st->h = NULL;
    }
    if (st->flavor == LT_F_CYCLE)
        mime_free(&st->m);
    chain_free(st);
    sockit_buffer_free(st->out);
    st->out = NULL;
    unref(L, &st->keep);
    unref(L, &st->aux);
    return 0;
}

static int stage_tostring(lua_State *L)
{
    lt_stage *st = lt_test(L, 1, 0);
    lua_pushfstring(L, "ltn12 %s: %p", st ? kind_name(st->kind) : "stage", (void *)st);
    return 1;
}

static int source_call(lua_State *L, lt_stage *st)
{
    lt_guard g;
    sockit_status s;
    bool end = false;
    sockit_buffer *out = stage_out(st);
    if (st->flavor == LT_F_REWIND && !lua_isnoneornil(L, 2)) {
        size_t n;
        const char *chunk = luaL_checklstring(L, 2, &n);
        s = sockit_source_unget((sockit_source *)st->h, (const uint8_t *)chunk, n);
        if (s != SOCKIT_OK)
            luaL_error(L, "%s", lt_errmsg(s));
        return 0;
    }
    if (st->ended && st->flavor != LT_F_REWIND) {
        lua_pushnil(L);
        return 1;
    }
    lt_enter(L, &g);
    s = sockit_source_pull((sockit_source *)st->h, st->blocksize, out, &end);
    if (s == SOCKIT_OK && end && st->flavor == LT_F_CHUNKED)
        lt_harvest(L, st);
    lt_leave(L, &g);
    if (s != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, s);
        return 2;
    }
    if (end) {
        if (st->flavor != LT_F_REWIND)
            st->ended = 1;
        lua_pushnil(L);
        return 1;
    }
    lt_pushbuffer(L, out);
    return 1;
}

static int sink_call(lua_State *L, lt_stage *st)
{
    lt_guard g;
    sockit_status s;
    lt_enter(L, &g);
    if (!lua_isnoneornil(L, 2)) {
        size_t n;
        const char *chunk = lua_tolstring(L, 2, &n);
        if (chunk == NULL) {
            lt_leave(L, &g);
            return luaL_argerror(L, 1, "string expected");
        }
        s = sockit_sink_put((sockit_sink *)st->h, (const uint8_t *)chunk, n);
    } else if (lua_isnoneornil(L, 3)) {
        s = sockit_sink_end((sockit_sink *)st->h);
    } else {
        const char *err = lua_tostring(L, 3);
        /* The error travels on as a value; a Lua sink inside sees the same value. */
        lua_pushvalue(L, 3);
        g.ctx->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        s = sockit_sink_fail((sockit_sink *)st->h, err ? err : "error");
        unref(L, &g.ctx->err_ref);
    }
    lt_leave(L, &g);
    if (s != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, s);
        return 2;
    }
    if (!lua_isnoneornil(L, 2) && st->putret == LT_RET_TRUE)
        lua_pushboolean(L, 1);
    else if (!lua_isnoneornil(L, 2) && st->putret == LT_RET_LEN) {
        /* A socket sink answers as the socket's send does: bytes, nil, nil. */
        lua_pushnumber(L, (lua_Number)lua_objlen(L, 2));
        if (st->flavor == LT_F_SOCKET) {
            lua_pushnil(L);
            lua_pushnil(L);
            return 3;
        }
    } else
        lua_pushnumber(L, 1);
    return 1;
}

static int filter_call(lua_State *L, lt_stage *st)
{
    sockit_buffer *out = stage_out(st);
    sockit_status s;
    lt_guard g;
    int onil = 0;
    size_t n = 0;
    const char *chunk = luaL_optlstring(L, 2, NULL, &n);
    lt_enter(L, &g);
    algo_error = NULL;
    s = lt_filter_call(st, (const uint8_t *)chunk, n, out, &onil);
    lt_leave(L, &g);
    if (s != SOCKIT_OK) {
        if (algo_error) {
            const char *m = algo_error;
            algo_error = NULL;
            return luaL_error(L, "%s", m);
        }
        lt_pusherror(L, g.ctx, s);
        return lua_error(L);
    }
    if (onil)
        lua_pushnil(L);
    else
        lt_pushbuffer(L, out);
    return 1;
}

static int stage_call(lua_State *L)
{
    lt_stage *st = lt_check(L, 1, 0);
    switch (st->kind) {
    case LT_SOURCE:
        return source_call(L, st);
    case LT_SINK:
        return sink_call(L, st);
    default:
        return filter_call(L, st);
    }
}

/* getfd and dirty of socket stages (socket.select accepts them): the socket's own. */
static int stage_sockmethod(lua_State *L, const char *name)
{
    lt_stage *st = lt_check(L, 1, 0);
    if (st->flavor != LT_F_SOCKET && st->flavor != LT_F_CHUNKED) {
        lua_pushnil(L);
        return 1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->keep);
    lua_getfield(L, -1, name);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    return 1;
}

static int stage_getfd(lua_State *L)
{
    return stage_sockmethod(L, "getfd");
}

static int stage_dirty(lua_State *L)
{
    return stage_sockmethod(L, "dirty");
}

void lt_open(lua_State *L)
{
    lt_getctx(L);
    if (!luaL_newmetatable(L, LT_CLASS)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushcfunction(L, stage_call);
    lua_setfield(L, -2, "__call");
    lua_pushcfunction(L, stage_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, stage_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    lua_pushcfunction(L, stage_getfd);
    lua_setfield(L, -2, "getfd");
    lua_pushcfunction(L, stage_dirty);
    lua_setfield(L, -2, "dirty");
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

lt_stage *lt_new(lua_State *L, int kind, int flavor)
{
    lt_stage *st = (lt_stage *)lua_newuserdata(L, sizeof *st);
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->flavor = flavor;
    st->keep = LUA_NOREF;
    st->aux = LUA_NOREF;
    st->blocksize = LT_DEFAULT_BLOCKSIZE;
    st->ctx = lt_getctx(L);
    lt_open(L);
    luaL_getmetatable(L, LT_CLASS);
    lua_setmetatable(L, -2);
    return st;
}

int lt_push_cycle(lua_State *L, int fn, int ictx, int iextra)
{
    lt_mime m;
    lt_stage *st;
    sockit_filter *f = NULL;
    if (!lt_mime_init(L, &m, fn, ictx, iextra)) {
        mime_free(&m);
        return 0;
    }
    st = lt_new(L, LT_FILTER, LT_F_CYCLE);
    st->m = m;
    if (sockit_filter_callback(drain_cb, st, NULL, &f) != SOCKIT_OK)
        luaL_error(L, "%s", lt_errmsg(SOCKIT_NOMEM));
    st->h = f;
    return 1;
}

/* ---------------------------------------------------------------- borrowing handles */

static int src_adapter(void *ud, sockit_buffer *chunk, bool *end)
{
    lt_stage *st = (lt_stage *)ud;
    sockit_status s;
    if (st->h == NULL) {
        sockit_callback_error("ltn12 stage already released");
        return SOCKIT_INVALID;
    }
    s = sockit_source_pull((sockit_source *)st->h, st->blocksize, chunk, end);
    if (s != SOCKIT_OK)
        sockit_callback_error(sockit_last_error());
    else if (*end && st->flavor == LT_F_CHUNKED && st->ctx->L)
        lt_harvest(st->ctx->L, st);
    return s;
}

static int snk_adapter(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    lt_stage *st = (lt_stage *)ud;
    sockit_status s;
    if (st->h == NULL) {
        sockit_callback_error("ltn12 stage already released");
        return SOCKIT_INVALID;
    }
    if (chunk)
        s = sockit_sink_put((sockit_sink *)st->h, chunk, len);
    else if (error == NULL)
        s = sockit_sink_end((sockit_sink *)st->h);
    else
        s = sockit_sink_fail((sockit_sink *)st->h, error);
    if (s != SOCKIT_OK)
        sockit_callback_error(sockit_last_error());
    return s;
}

sockit_source *lt_borrow_source(lt_stage *st)
{
    sockit_source *h = NULL;
    sockit_source_callback(src_adapter, st, NULL, &h);
    return h;
}

sockit_sink *lt_borrow_sink(lt_stage *st)
{
    sockit_sink *h = NULL;
    sockit_sink_callback(snk_adapter, st, NULL, &h);
    return h;
}

sockit_filter *lt_borrow_filter(lt_stage *st)
{
    sockit_filter *h = NULL;
    sockit_filter_callback(drain_cb, st, NULL, &h);
    return h;
}

/* ---------------------------------------------------------------- Lua functions as stages */

/* A Lua value at a stack index of the thread that made the handle. The handle lives
 * only during one C call of that thread, which keeps the value alive. */
typedef struct {
    lt_ctx *ctx;
    lua_State *L;
    int idx;
} luafn;

static void luafn_free(void *ud)
{
    free(ud);
}

static luafn *luafn_new(lua_State *L, int i)
{
    luafn *f = (luafn *)malloc(sizeof *f);
    if (f == NULL)
        return NULL;
    f->ctx = lt_getctx(L);
    f->L = L;
    f->idx = i < 0 ? lua_gettop(L) + i + 1 : i;
    return f;
}

static int luafn_source(void *ud, sockit_buffer *chunk, bool *end)
{
    luafn *f = (luafn *)ud;
    lua_State *L = cb_state(f->ctx);
    int top;
    if (L == NULL)
        return SOCKIT_ABORTED;
    top = lua_gettop(L);
    lua_pushvalue(f->L, f->idx);
    if (L != f->L)
        lua_xmove(f->L, L, 1);
    if (lua_pcall(L, 0, 2, 0) != 0)
        return cb_raised(f->ctx, L);
    if (lua_isnil(L, -2)) {
        if (lua_isnil(L, -1)) {
            *end = true;
            lua_settop(L, top);
            return SOCKIT_OK;
        }
        {
            int r = cb_failed(f->ctx, L);
            lua_settop(L, top);
            return r;
        }
    }
    if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER) {
        lua_settop(L, top);
        sockit_callback_error("source returned a chunk that is not a string");
        return SOCKIT_INVALID;
    }
    {
        size_t n;
        const char *s = lua_tolstring(L, -2, &n);
        sockit_status st = sockit_buffer_append(chunk, (const uint8_t *)s, n);
        lua_settop(L, top);
        return st;
    }
}

static int luafn_sink(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    luafn *f = (luafn *)ud;
    lua_State *L = cb_state(f->ctx);
    int top, r = SOCKIT_OK;
    if (L == NULL)
        return SOCKIT_ABORTED;
    top = lua_gettop(L);
    lua_pushvalue(f->L, f->idx);
    if (L != f->L)
        lua_xmove(f->L, L, 1);
    if (chunk)
        lua_pushlstring(L, (const char *)chunk, len);
    else
        lua_pushnil(L);
    if (chunk || error == NULL)
        lua_pushnil(L);
    else if (f->ctx->err_ref != LUA_NOREF)
        lua_rawgeti(L, LUA_REGISTRYINDEX, f->ctx->err_ref);
    else
        lua_pushstring(L, error);
    if (lua_pcall(L, 2, 2, 0) != 0)
        return cb_raised(f->ctx, L);
    if (!lua_toboolean(L, -2) && chunk) {
        lua_pushvalue(L, -1);
        r = cb_failed(f->ctx, L);
    } else if (!lua_toboolean(L, -2) && error == NULL) {
        lua_pushvalue(L, -1);
        r = cb_failed(f->ctx, L);
    }
    lua_settop(L, top);
    return r;
}

static int callable(lua_State *L, int i)
{
    if (lua_isfunction(L, i))
        return 1;
    if (lua_getmetatable(L, i)) {
        int yes;
        lua_getfield(L, -1, "__call");
        yes = !lua_isnil(L, -1);
        lua_pop(L, 2);
        return yes;
    }
    return 0;
}

int lt_accepts(lua_State *L, int i, int kind)
{
    lt_stage *st = lt_test(L, i, kind);
    return (st && st->h) || callable(L, i);
}

sockit_source *lt_tosource(lua_State *L, int i)
{
    lt_stage *st = lt_test(L, i, LT_SOURCE);
    sockit_source *h = NULL;
    luafn *f;
    if (st && st->h)
        return lt_borrow_source(st);
    if (!callable(L, i)) {
        luaL_argerror(L, i, "ltn12 source expected");
        return NULL;
    }
    f = luafn_new(L, i);
    if (f == NULL || sockit_source_callback(luafn_source, f, luafn_free, &h) != SOCKIT_OK)
        luaL_error(L, "not enough memory");
    return h;
}

sockit_sink *lt_tosink(lua_State *L, int i)
{
    lt_stage *st = lt_test(L, i, LT_SINK);
    sockit_sink *h = NULL;
    luafn *f;
    if (st && st->h)
        return lt_borrow_sink(st);
    if (!callable(L, i)) {
        luaL_argerror(L, i, "ltn12 sink expected");
        return NULL;
    }
    f = luafn_new(L, i);
    if (f == NULL || sockit_sink_callback(luafn_sink, f, luafn_free, &h) != SOCKIT_OK)
        luaL_error(L, "not enough memory");
    return h;
}

/* ---------------------------------------------------------------- trailers */

typedef struct {
    lt_stage *st;
    const char *text;
} harvest_args;

/* Adds "name: value\r\n" lines to the table on top (names lower-cased, repeats joined
 * with ", "). */
static void add_fields(lua_State *L, const char *p)
{
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        const char *colon, *v, *e;
        size_t nlen, i;
        char name[256];
        if (eol == NULL)
            eol = p + strlen(p);
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && (size_t)(colon - p) < sizeof name) {
            nlen = (size_t)(colon - p);
            for (i = 0; i < nlen; i++) {
                char ch = p[i];
                name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
            }
            v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            e = eol;
            lua_pushlstring(L, name, nlen);
            lua_pushlstring(L, name, nlen);
            lua_rawget(L, -3);
            if (lua_isstring(L, -1)) {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(e - v));
                lua_concat(L, 3);
            } else {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(e - v));
            }
            lua_rawset(L, -3);
        }
        p = *eol ? eol + 2 : eol;
    }
}

static int harvest_protected(lua_State *L)
{
    harvest_args *a = (harvest_args *)lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->st->aux);
    if (lua_istable(L, -1))
        add_fields(L, a->text);
    return 0;
}

void lt_harvest(lua_State *L, lt_stage *st)
{
    sockit_buffer *b;
    harvest_args a;
    if (st->flavor != LT_F_CHUNKED || st->harvested || st->aux == LUA_NOREF || st->h == NULL)
        return;
    st->harvested = 1;
    b = sockit_buffer_new();
    if (sockit_source_trailers((sockit_source *)st->h, b) == SOCKIT_OK) {
        a.st = st;
        a.text = sockit_buffer_cstr(b);
        if (a.text && lua_cpcall(L, harvest_protected, &a) != 0)
            lua_pop(L, 1);
    }
    sockit_buffer_free(b);
}

/* ---------------------------------------------------------------- the ltn12.core module */

static size_t opt_blocksize(lua_State *L, int i)
{
    lua_Number n = luaL_optnumber(L, i, LT_DEFAULT_BLOCKSIZE);
    if (n < 1)
        n = 1;
    if (n > LT_MAX_BLOCKSIZE)
        n = LT_MAX_BLOCKSIZE;
    return (size_t)n;
}

static void check_status(lua_State *L, sockit_status s)
{
    if (s != SOCKIT_OK)
        luaL_error(L, "%s", lt_errmsg(s));
}

/* source_string(s [, blocksize]): the bytes of s, borrowed (s is kept alive). */
static int core_source_string(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t bs = opt_blocksize(L, 2);
    lt_stage *st = lt_new(L, LT_SOURCE, LT_F_PLAIN);
    sockit_source *h = NULL;
    st->blocksize = bs;
    lt_setkeep(L, st, 1);
    check_status(L, sockit_source_bytes((const uint8_t *)s, n, &h));
    st->h = h;
    return 1;
}

static int core_source_empty(lua_State *L)
{
    lt_stage *st = lt_new(L, LT_SOURCE, LT_F_PLAIN);
    sockit_source *h = NULL;
    check_status(L, sockit_source_empty(&h));
    st->h = h;
    return 1;
}

static int core_source_error(lua_State *L)
{
    const char *msg = luaL_checkstring(L, 1);
    lt_stage *st = lt_new(L, LT_SOURCE, LT_F_PLAIN);
    sockit_source *h = NULL;
    check_status(L, sockit_source_error(SOCKIT_ABORTED, msg, &h));
    st->h = h;
    return 1;
}

static int core_sink_null(lua_State *L)
{
    lt_stage *st = lt_new(L, LT_SINK, LT_F_PLAIN);
    sockit_sink *h = NULL;
    check_status(L, sockit_sink_null(&h));
    st->h = h;
    return 1;
}

static int core_sink_error(lua_State *L)
{
    const char *msg = luaL_checkstring(L, 1);
    lt_stage *st = lt_new(L, LT_SINK, LT_F_PLAIN);
    sockit_sink *h = NULL;
    check_status(L, sockit_sink_error(SOCKIT_ABORTED, msg, &h));
    st->h = h;
    return 1;
}

/* -- the table sink: each chunk appended to a Lua table (table.insert) */

typedef struct {
    lt_stage *st;
    const uint8_t *p;
    size_t n;
} put_args;

static int table_put_protected(lua_State *L)
{
    put_args *a = (put_args *)lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->st->aux);
    lua_pushlstring(L, (const char *)a->p, a->n);
    lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
    return 0;
}

static int table_sink_cb(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    lt_stage *st = (lt_stage *)ud;
    lua_State *L;
    put_args a;
    if (chunk == NULL)
        return SOCKIT_OK;
    L = cb_state(st->ctx);
    if (L == NULL)
        return SOCKIT_ABORTED;
    a.st = st;
    a.p = chunk;
    a.n = len;
    if (lua_cpcall(L, table_put_protected, &a) != 0)
        return cb_raised(st->ctx, L);
    return SOCKIT_OK;
}

/* sink_table(t) */
static int core_sink_table(lua_State *L)
{
    lt_stage *st;
    sockit_sink *h = NULL;
    luaL_checktype(L, 1, LUA_TTABLE);
    st = lt_new(L, LT_SINK, LT_F_PLAIN);
    lt_setaux(L, st, 1);
    check_status(L, sockit_sink_callback(table_sink_cb, st, NULL, &h));
    st->h = h;
    return 1;
}

/* -- file sources and sinks over Lua io handles (stdio, as io's own methods) */

static FILE *aux_file(lua_State *L, lt_stage *st)
{
    FILE **p;
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->aux);
    p = (FILE **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return p ? *p : NULL;
}

static int is_file(lua_State *L, int i)
{
    int same;
    if (lua_type(L, i) != LUA_TUSERDATA || !lua_getmetatable(L, i))
        return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, "FILE*");
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

static int close_protected(lua_State *L)
{
    lt_stage *st = (lt_stage *)lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->aux);
    lua_getfield(L, -1, "close");
    lua_insert(L, -2);
    lua_call(L, 1, 0);
    return 0;
}

/* handle:close(), as LTN12's file stages do at the end; its result is ignored. */
static int close_file(lt_stage *st, lua_State *L)
{
    if (aux_file(L, st) == NULL)
        return SOCKIT_OK;
    if (lua_cpcall(L, close_protected, st) != 0)
        lua_pop(L, 1);
    return SOCKIT_OK;
}

static int file_source_cb(void *ud, sockit_buffer *chunk, bool *end)
{
    lt_stage *st = (lt_stage *)ud;
    lua_State *L = cb_state(st->ctx);
    FILE *fp;
    size_t total = 0;
    char tmp[8192];
    if (L == NULL)
        return SOCKIT_ABORTED;
    fp = aux_file(L, st);
    if (fp == NULL) {
        sockit_callback_error("attempt to use a closed file");
        return SOCKIT_CLOSED;
    }
    clearerr(fp);
    while (total < st->blocksize) {
        size_t want = st->blocksize - total, got;
        if (want > sizeof tmp)
            want = sizeof tmp;
        got = fread(tmp, 1, want, fp);
        if (got)
            sockit_buffer_append(chunk, (const uint8_t *)tmp, got);
        total += got;
        if (got < want)
            break;
    }
    if (total == 0) {
        /* End of file, or a read error: LTN12 closes the handle and ends. */
        close_file(st, L);
        *end = true;
    }
    return SOCKIT_OK;
}

static int file_sink_cb(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    lt_stage *st = (lt_stage *)ud;
    lua_State *L = cb_state(st->ctx);
    FILE *fp;
    if (L == NULL)
        return SOCKIT_ABORTED;
    if (chunk == NULL)
        return close_file(st, L);
    fp = aux_file(L, st);
    if (fp == NULL) {
        sockit_callback_error("attempt to use a closed file");
        return SOCKIT_CLOSED;
    }
    if (len && fwrite(chunk, 1, len, fp) != len) {
        sockit_callback_error(strerror(errno));
        return SOCKIT_SYSTEM;
    }
    return SOCKIT_OK;
}

/* source_file(handle [, blocksize]): nil when handle is not an io file. */
static int core_source_file(lua_State *L)
{
    lt_stage *st;
    sockit_source *h = NULL;
    size_t bs = opt_blocksize(L, 2);
    if (!is_file(L, 1))
        return 0;
    st = lt_new(L, LT_SOURCE, LT_F_PLAIN);
    st->blocksize = bs;
    lt_setaux(L, st, 1);
    check_status(L, sockit_source_callback(file_source_cb, st, NULL, &h));
    st->h = h;
    return 1;
}

/* sink_file(handle): nil when handle is not an io file. */
static int core_sink_file(lua_State *L)
{
    lt_stage *st;
    sockit_sink *h = NULL;
    if (!is_file(L, 1))
        return 0;
    st = lt_new(L, LT_SINK, LT_F_PLAIN);
    st->putret = LT_RET_TRUE;
    lt_setaux(L, st, 1);
    check_status(L, sockit_sink_callback(file_sink_cb, st, NULL, &h));
    st->h = h;
    return 1;
}

/* -- composites: they borrow their parts' handles and keep the parts alive */

/* A table {values at first..last} kept by st. */
static void keep_range(lua_State *L, lt_stage *st, int first, int last)
{
    int i;
    lua_createtable(L, last - first + 1, 0);
    for (i = first; i <= last; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i - first + 1);
    }
    lt_setkeep(L, st, -1);
    lua_pop(L, 1);
}

/* All values in first..last native stages of kind? */
static int all_native(lua_State *L, int first, int last, int kind)
{
    int i;
    for (i = first; i <= last; i++) {
        lt_stage *st = lt_test(L, i, kind);
        if (st == NULL || st->h == NULL)
            return 0;
    }
    return 1;
}

/* filter_chain(f1, f2, ...): nil unless every filter is native. */
static int core_filter_chain(lua_State *L)
{
    int n = lua_gettop(L), i;
    lt_stage *st;
    fchain *c;
    sockit_filter *h = NULL;
    if (n < 1 || !all_native(L, 1, n, LT_FILTER))
        return 0;
    st = lt_new(L, LT_FILTER, LT_F_CHAIN);
    keep_range(L, st, 1, n);
    c = (fchain *)calloc(1, sizeof *c);
    if (c == NULL)
        return luaL_error(L, "not enough memory");
    st->chain = c;
    c->f = (lt_stage **)calloc((size_t)n, sizeof *c->f);
    c->buf = (sockit_buffer **)calloc((size_t)n, sizeof *c->buf);
    if (c->f == NULL || c->buf == NULL)
        return luaL_error(L, "not enough memory");
    c->n = n;
    for (i = 0; i < n; i++) {
        c->f[i] = lt_test(L, i + 1, LT_FILTER);
        c->buf[i] = sockit_buffer_new();
    }
    check_status(L, sockit_filter_callback(drain_cb, st, NULL, &h));
    st->h = h;
    return 1;
}

/* source_chain(src, f): nil unless both are native. */
static int core_source_chain(lua_State *L)
{
    lt_stage *st, *src = lt_test(L, 1, LT_SOURCE), *f = lt_test(L, 2, LT_FILTER);
    schain *c;
    sockit_source *h = NULL;
    if (src == NULL || src->h == NULL || f == NULL || f->h == NULL)
        return 0;
    st = lt_new(L, LT_SOURCE, LT_F_CHAIN);
    st->blocksize = src->blocksize;
    keep_range(L, st, 1, 2);
    c = (schain *)calloc(1, sizeof *c);
    if (c == NULL)
        return luaL_error(L, "not enough memory");
    st->chain = c;
    c->src = src;
    c->f = f;
    c->in = sockit_buffer_new();
    check_status(L, sockit_source_callback(schain_cb, st, NULL, &h));
    st->h = h;
    return 1;
}

/* sink_chain(f, snk): nil unless both are native. */
static int core_sink_chain(lua_State *L)
{
    lt_stage *st, *f = lt_test(L, 1, LT_FILTER), *snk = lt_test(L, 2, LT_SINK);
    kchain *c;
    sockit_sink *h = NULL;
    if (f == NULL || f->h == NULL || snk == NULL || snk->h == NULL)
        return 0;
    st = lt_new(L, LT_SINK, LT_F_CHAIN);
    keep_range(L, st, 1, 2);
    c = (kchain *)calloc(1, sizeof *c);
    if (c == NULL)
        return luaL_error(L, "not enough memory");
    st->chain = c;
    c->f = f;
    c->snk = snk;
    c->buf = sockit_buffer_new();
    check_status(L, sockit_sink_callback(kchain_cb, st, NULL, &h));
    st->h = h;
    return 1;
}

/* source_cat(s1, s2, ...): nil unless every source is native. */
static int core_source_cat(lua_State *L)
{
    int n = lua_gettop(L), i;
    lt_stage *st;
    sockit_source *h = NULL;
    sockit_source *parts[64];
    if (n > 64 || !all_native(L, 1, n, LT_SOURCE))
        return 0;
    for (i = 0; i < n; i++)
        parts[i] = lt_borrow_source(lt_test(L, i + 1, LT_SOURCE));
    check_status(L, sockit_source_cat(parts, (size_t)n, &h));
    st = lt_new(L, LT_SOURCE, LT_F_PLAIN);
    st->h = h;
    if (n > 0)
        keep_range(L, st, 1, n);
    return 1;
}

/* source_rewind(src): nil unless src is native. */
static int core_source_rewind(lua_State *L)
{
    lt_stage *st, *src = lt_test(L, 1, LT_SOURCE);
    sockit_source *h = NULL;
    if (src == NULL || src->h == NULL)
        return 0;
    check_status(L, sockit_source_rewind(lt_borrow_source(src), &h));
    st = lt_new(L, LT_SOURCE, LT_F_REWIND);
    st->h = h;
    st->blocksize = src->blocksize;
    lt_setkeep(L, st, 1);
    return 1;
}

/* cycle(low, ctx, extra): a native filter when low is a mime.core function, else nil. */
static int core_cycle(lua_State *L)
{
    int fn;
    lua_settop(L, 3);
    lua_getfield(L, LUA_REGISTRYINDEX, LT_LOWFUNCS);
    if (!lua_istable(L, -1))
        return 0;
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    fn = (int)lua_tonumber(L, -1);
    lua_pop(L, 2);
    if (fn < LT_M_B64 || fn > LT_M_DOT)
        return 0;
    if (!lt_push_cycle(L, fn, 2, 3))
        return 0;
    return 1;
}

/* pump_all(src, snk [, blocksize]): both native. Returns 1, or nil and the error. */
static int core_pump_all(lua_State *L)
{
    lt_stage *src = lt_check(L, 1, LT_SOURCE);
    lt_stage *snk = lt_check(L, 2, LT_SINK);
    size_t bs = opt_blocksize(L, 3);
    lt_guard g;
    sockit_status s;
    lt_enter(L, &g);
    s = sockit_pump_all((sockit_source *)src->h, (sockit_sink *)snk->h, bs, NULL);
    if (src->flavor == LT_F_CHUNKED)
        lt_harvest(L, src);
    lt_leave(L, &g);
    if (s != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, s);
        return 2;
    }
    if (src->flavor != LT_F_REWIND)
        src->ended = 1;
    lua_pushnumber(L, 1);
    return 1;
}

/* pump_step(src, snk [, blocksize]): both native. 1 when a chunk moved; nil at the end;
 * nil and the error on failure. */
static int core_pump_step(lua_State *L)
{
    lt_stage *src = lt_check(L, 1, LT_SOURCE);
    lt_stage *snk = lt_check(L, 2, LT_SINK);
    size_t bs = opt_blocksize(L, 3);
    lt_guard g;
    sockit_status s;
    bool more = false;
    lt_enter(L, &g);
    s = sockit_pump_step((sockit_source *)src->h, (sockit_sink *)snk->h, bs, &more);
    if (!more && src->flavor == LT_F_CHUNKED)
        lt_harvest(L, src);
    lt_leave(L, &g);
    if (s != SOCKIT_OK) {
        lua_pushnil(L);
        lt_pusherror(L, g.ctx, s);
        return 2;
    }
    if (!more) {
        /* LuaSocket: nil and the (nil) error */
        if (src->flavor != LT_F_REWIND)
            src->ended = 1;
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    lua_pushnumber(L, 1);
    return 1;
}

/* -- socket stages (socket.source / socket.sink over sockit's socket sources and sinks) */

/* The stream socket of a socket.core / socket.unix object at index i, or a Lua error. */
static sockit_socket *check_socket(lua_State *L, int i)
{
    sk_obj *o = sk51_toobj(L, i);
    if (o == NULL || o->type != SK_STREAM || o->s == NULL)
        luaL_argerror(L, i, "stream socket expected");
    return sk51_lend(o);
}

/* socket_source(mode, sock [, length or headers] [, blocksize]): "by-length",
 * "until-closed" (or "default"), "http-chunked" (trailers go into the headers table). */
static int core_socket_source(lua_State *L)
{
    const char *mode = luaL_optstring(L, 1, "default");
    sockit_socket *s = check_socket(L, 2);
    lt_stage *st;
    sockit_source *h = NULL;
    int m, flavor = LT_F_SOCKET;
    uint64_t length = 0;
    size_t bs = opt_blocksize(L, 4);
    if (strcmp(mode, "by-length") == 0) {
        lua_Number n = luaL_checknumber(L, 3);
        m = SOCKIT_SOURCE_BY_LENGTH;
        length = n > 0 ? (uint64_t)n : 0;
    } else if (strcmp(mode, "until-closed") == 0 || strcmp(mode, "default") == 0) {
        m = SOCKIT_SOURCE_UNTIL_CLOSED;
    } else if (strcmp(mode, "http-chunked") == 0) {
        m = SOCKIT_SOURCE_HTTP_CHUNKED;
        flavor = LT_F_CHUNKED;
    } else {
        return luaL_error(L, "unknown key (%s)", mode);
    }
    st = lt_new(L, LT_SOURCE, flavor);
    st->blocksize = bs;
    lt_setkeep(L, st, 2);
    if (flavor == LT_F_CHUNKED && lua_istable(L, 3))
        lt_setaux(L, st, 3);
    check_status(L, sockit_source_socket(s, m, length, &h));
    st->h = h;
    return 1;
}

/* socket_sink(mode, sock): "keep-open" (or "default"), "close-when-done",
 * "http-chunked". */
static int core_socket_sink(lua_State *L)
{
    const char *mode = luaL_optstring(L, 1, "default");
    sockit_socket *s = check_socket(L, 2);
    lt_stage *st;
    sockit_sink *h = NULL;
    int m;
    if (strcmp(mode, "keep-open") == 0 || strcmp(mode, "default") == 0)
        m = SOCKIT_SINK_KEEP_OPEN;
    else if (strcmp(mode, "close-when-done") == 0)
        m = SOCKIT_SINK_CLOSE_WHEN_DONE;
    else if (strcmp(mode, "http-chunked") == 0)
        m = SOCKIT_SINK_HTTP_CHUNKED;
    else
        return luaL_error(L, "unknown key (%s)", mode);
    st = lt_new(L, LT_SINK, LT_F_SOCKET);
    st->putret = LT_RET_LEN;
    lt_setkeep(L, st, 2);
    check_status(L, sockit_sink_socket(s, m, &h));
    st->h = h;
    return 1;
}

/* kind(x): "source", "sink" or "filter" for a native stage, else nil. */
static int core_kind(lua_State *L)
{
    lt_stage *st = lt_test(L, 1, 0);
    if (st == NULL || st->h == NULL)
        return 0;
    lua_pushstring(L, kind_name(st->kind));
    return 1;
}

static const luaL_Reg core_funcs[] = {
    {"source_string", core_source_string},
    {"source_empty", core_source_empty},
    {"source_error", core_source_error},
    {"source_file", core_source_file},
    {"source_chain", core_source_chain},
    {"source_cat", core_source_cat},
    {"source_rewind", core_source_rewind},
    {"sink_table", core_sink_table},
    {"sink_null", core_sink_null},
    {"sink_error", core_sink_error},
    {"sink_file", core_sink_file},
    {"sink_chain", core_sink_chain},
    {"filter_chain", core_filter_chain},
    {"cycle", core_cycle},
    {"pump_all", core_pump_all},
    {"pump_step", core_pump_step},
    {"kind", core_kind},
    {"socket_source", core_socket_source},
    {"socket_sink", core_socket_sink},
    {NULL, NULL},
};

__attribute__((visibility("default"))) int luaopen_ltn12_core(lua_State *L)
{
    lt_open(L);
    lua_newtable(L);
    luaL_register(L, NULL, core_funcs);
    return 1;
}
