/*
 * ltn12_51.c: native LTN12 stages for Lua 5.1 / LuaJIT over sockit's sources, sinks and
 * filters, and luaopen_ltn12_core (the C half of ltn12.lua).
 *
 * A native stage is a userdata of class "ltn12.source", "ltn12.sink" or "ltn12.filter"
 * holding a sockit handle. It is callable like any LTN12 stage (source() -> chunk;
 * sink(chunk, err); filter(chunk)), so Lua code can use it anywhere; and when every stage
 * of a pipeline is native, ltn12.lua composes them with sockit's chain / cat / rewind and
 * pumps with sockit_pump_all, so chunks never pass through Lua.
 *
 * Composing TAKES the handles of the parts (sockit's rule): the part objects are emptied
 * and kept alive by the composite (its environment table anchors them, and the strings
 * borrowed by string sources), and using an emptied part raises an error.
 */
#include <string.h>

#include "sk51.h"
#include "ltn12_51.h"

#define CLS_SOURCE "ltn12.source"
#define CLS_SINK "ltn12.sink"
#define CLS_FILTER "ltn12.filter"
#define SCRATCH "sockit.ltn12.scratch"
#define BLOCKSIZE 2048

static const char *const class_of[] = {NULL, CLS_SOURCE, CLS_SINK, CLS_FILTER};

/* ---------------------------------------------------------------- objects */

static void free_handle(sk_stage *st)
{
    switch (st->kind) {
    case SK_SOURCE:
        sockit_source_free((sockit_source *)st->h);
        break;
    case SK_SINK:
        sockit_sink_free((sockit_sink *)st->h);
        break;
    case SK_FILTER:
        sockit_filter_free((sockit_filter *)st->h);
        break;
    }
    st->h = NULL;
}

static int stage_gc(lua_State *L)
{
    sk_stage *st = (sk_stage *)lua_touserdata(L, 1);
    if (st && st->h)
        free_handle(st);
    return 0;
}

sk_stage *sk51_stage_test(lua_State *L, int i, int kind)
{
    sk_stage *st = (sk_stage *)lua_touserdata(L, i);
    int same;
    if (st == NULL || lua_type(L, i) != LUA_TUSERDATA || !lua_getmetatable(L, i))
        return NULL;
    luaL_getmetatable(L, class_of[kind]);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same && st->h ? st : NULL;
}

static sk_stage *check_stage(lua_State *L, int i, int kind)
{
    sk_stage *st = (sk_stage *)lua_touserdata(L, i);
    if (st == NULL || !lua_getmetatable(L, i)) {
        luaL_argerror(L, i, lua_pushfstring(L, "%s expected", class_of[kind]));
        return NULL;
    }
    luaL_getmetatable(L, class_of[kind]);
    if (!lua_rawequal(L, -1, -2))
        luaL_argerror(L, i, lua_pushfstring(L, "%s expected", class_of[kind]));
    lua_pop(L, 2);
    if (st->h == NULL)
        luaL_error(L, "this %s was consumed by a pipeline (or freed)", class_of[kind]);
    return st;
}

void *sk51_stage_take(lua_State *L, int i, int kind)
{
    sk_stage *st = check_stage(L, i, kind);
    void *h = st->h;
    st->h = NULL;
    return h;
}

void sk51_stage_push(lua_State *L, int kind, void *h, int nanchors, const int *anchors)
{
    sk_stage *st = (sk_stage *)lua_newuserdata(L, sizeof *st);
    int i;
    st->kind = kind;
    st->h = h;
    st->ended = 0;
    luaL_getmetatable(L, class_of[kind]);
    lua_setmetatable(L, -2);
    lua_createtable(L, nanchors, 0);
    for (i = 0; i < nanchors; i++) {
        lua_pushvalue(L, anchors[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfenv(L, -2);
}

/* Pushes nil and the message of the last failure; returns 2. */
static int stage_fail(lua_State *L, sockit_status s)
{
    const char *m = sockit_last_error();
    lua_pushnil(L);
    lua_pushstring(L, m && *m ? m : sockit_status_str(s));
    return 2;
}

/* source() -> chunk | nil [, err]; source(chunk) puts a chunk back (rewindable sources) */
static int source_call(lua_State *L)
{
    sk_stage *st = check_stage(L, 1, SK_SOURCE);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    bool end = false;
    sockit_status s;
    if (!lua_isnoneornil(L, 2)) {
        size_t len;
        const char *chunk = luaL_checklstring(L, 2, &len);
        s = sockit_source_unget((sockit_source *)st->h, (const uint8_t *)chunk, len);
        if (s != SOCKIT_OK)
            return luaL_error(L, "only rewindable sources take chunks back");
        return 0;
    }
    if (st->ended) {
        lua_pushnil(L);
        return 1;
    }
    s = sockit_source_pull((sockit_source *)st->h, BLOCKSIZE, S->data, &end);
    if (s != SOCKIT_OK)
        return stage_fail(L, s);
    if (end) {
        st->ended = 1;
        lua_pushnil(L);
        return 1;
    }
    sk51_pushbuffer(L, S->data);
    return 1;
}

/* sink(chunk [, err]) -> 1 | nil, err */
static int sink_call(lua_State *L)
{
    sk_stage *st = check_stage(L, 1, SK_SINK);
    sockit_status s;
    if (!lua_isnoneornil(L, 2)) {
        size_t len;
        const char *chunk = luaL_checklstring(L, 2, &len);
        s = sockit_sink_put((sockit_sink *)st->h, (const uint8_t *)chunk, len);
    } else if (st->ended) {
        s = SOCKIT_OK;
    } else if (!lua_isnoneornil(L, 3)) {
        st->ended = 1;
        s = sockit_sink_fail((sockit_sink *)st->h, lua_tostring(L, 3));
    } else {
        st->ended = 1;
        s = sockit_sink_end((sockit_sink *)st->h);
    }
    if (s != SOCKIT_OK)
        return stage_fail(L, s);
    lua_pushnumber(L, 1);
    return 1;
}

/* filter(chunk) -> output ("" when nothing yet); filter(nil) -> the rest, then nil */
static int filter_call(lua_State *L)
{
    sk_stage *st = check_stage(L, 1, SK_FILTER);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status s;
    if (!lua_isnoneornil(L, 2)) {
        size_t len;
        const char *chunk = luaL_checklstring(L, 2, &len);
        if (st->ended)
            return luaL_error(L, "filter called with data after its end");
        s = sockit_filter_put((sockit_filter *)st->h, (const uint8_t *)chunk, len, S->data);
        if (s != SOCKIT_OK)
            return stage_fail(L, s);
        sk51_pushbuffer(L, S->data);
        return 1;
    }
    if (st->ended) {
        lua_pushnil(L);
        return 1;
    }
    st->ended = 1;
    s = sockit_filter_end((sockit_filter *)st->h, S->data);
    if (s != SOCKIT_OK)
        return stage_fail(L, s);
    if (sockit_buffer_len(S->data) == 0) {
        lua_pushnil(L);
        return 1;
    }
    sk51_pushbuffer(L, S->data);
    return 1;
}

static int stage_tostring(lua_State *L)
{
    sk_stage *st = (sk_stage *)lua_touserdata(L, 1);
    lua_pushfstring(L, "%s: %p%s", class_of[st->kind], (void *)st,
                    st->h ? "" : " (consumed)");
    return 1;
}

void sk51_ltn12_open(lua_State *L)
{
    static const lua_CFunction calls[] = {NULL, source_call, sink_call, filter_call};
    int kind;
    for (kind = SK_SOURCE; kind <= SK_FILTER; kind++) {
        if (luaL_newmetatable(L, class_of[kind])) {
            lua_pushcfunction(L, calls[kind]);
            lua_setfield(L, -2, "__call");
            lua_pushcfunction(L, stage_gc);
            lua_setfield(L, -2, "__gc");
            lua_pushcfunction(L, stage_tostring);
            lua_setfield(L, -2, "__tostring");
            lua_pushstring(L, class_of[kind]);
            lua_setfield(L, -2, "__class");
        }
        lua_pop(L, 1);
    }
    sk51_scratch_open(L, SCRATCH);
}

int sk51_stage_result(lua_State *L, sockit_status s, int kind, void *h, int nanchors,
                      const int *anchors)
{
    if (s != SOCKIT_OK)
        return stage_fail(L, s);
    sk51_stage_push(L, kind, h, nanchors, anchors);
    return 1;
}

/* ---------------------------------------------------------------- ltn12.core */

/* source_string(s): the bytes are borrowed from the Lua string, which the source keeps. */
static int l_source_string(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sockit_source *src = NULL;
    int anchor = 1;
    sockit_status st = sockit_source_bytes((const uint8_t *)s, len, &src);
    return sk51_stage_result(L, st, SK_SOURCE, src, 1, &anchor);
}

static int l_source_empty(lua_State *L)
{
    sockit_source *src = NULL;
    sockit_status made = sockit_source_empty(&src);
    return sk51_stage_result(L, made, SK_SOURCE, src, 0, NULL);
}

static int l_source_error(lua_State *L)
{
    const char *msg = luaL_optstring(L, 1, NULL);
    sockit_source *src = NULL;
    sockit_status st = sockit_source_error(SOCKIT_ABORTED, msg, &src);
    return sk51_stage_result(L, st, SK_SOURCE, src, 0, NULL);
}

static int l_source_rewind(lua_State *L)
{
    sockit_source *inner = (sockit_source *)sk51_stage_take(L, 1, SK_SOURCE);
    sockit_source *src = NULL;
    int anchor = 1;
    sockit_status st = sockit_source_rewind(inner, &src);
    return sk51_stage_result(L, st, SK_SOURCE, src, 1, &anchor);
}

/* source_chain(src, f1 [, f2, ...]) */
static int l_source_chain(lua_State *L)
{
    int n = lua_gettop(L), i;
    int anchors[64];
    sockit_source *src;
    sockit_status st = SOCKIT_OK;
    if (n > 64)
        return luaL_error(L, "too many filters");
    for (i = 1; i <= n; i++) {
        check_stage(L, i, i == 1 ? SK_SOURCE : SK_FILTER);
        anchors[i - 1] = i;
    }
    src = (sockit_source *)sk51_stage_take(L, 1, SK_SOURCE);
    for (i = 2; i <= n; i++) {
        sockit_filter *f = (sockit_filter *)sk51_stage_take(L, i, SK_FILTER);
        sockit_source *out = NULL;
        if (st != SOCKIT_OK) {
            sockit_filter_free(f);
            continue;
        }
        st = sockit_source_chain(src, f, &out);
        src = out;
    }
    return sk51_stage_result(L, st, SK_SOURCE, src, n, anchors);
}

/* Takes the n stages of one kind at indices 1..n into an array (max 64). */
static void take_all(lua_State *L, int n, int kind, void **out, int *anchors)
{
    int i;
    if (n > 64)
        luaL_error(L, "too many stages");
    for (i = 1; i <= n; i++) {
        check_stage(L, i, kind);
        anchors[i - 1] = i;
    }
    for (i = 1; i <= n; i++)
        out[i - 1] = sk51_stage_take(L, i, kind);
}

static int l_source_cat(lua_State *L)
{
    int n = lua_gettop(L);
    void *parts[64];
    int anchors[64];
    sockit_source *src = NULL;
    sockit_status st;
    take_all(L, n, SK_SOURCE, parts, anchors);
    st = sockit_source_cat((sockit_source *const *)parts, (size_t)n, &src);
    return sk51_stage_result(L, st, SK_SOURCE, src, n, anchors);
}

static int l_filter_chain(lua_State *L)
{
    int n = lua_gettop(L);
    void *parts[64];
    int anchors[64];
    sockit_filter *f = NULL;
    sockit_status st;
    take_all(L, n, SK_FILTER, parts, anchors);
    st = sockit_filter_chain((sockit_filter *const *)parts, (size_t)n, &f);
    return sk51_stage_result(L, st, SK_FILTER, f, n, anchors);
}

static int l_sink_null(lua_State *L)
{
    sockit_sink *snk = NULL;
    sockit_status made = sockit_sink_null(&snk);
    return sk51_stage_result(L, made, SK_SINK, snk, 0, NULL);
}

static int l_sink_error(lua_State *L)
{
    const char *msg = luaL_optstring(L, 1, NULL);
    sockit_sink *snk = NULL;
    sockit_status st = sockit_sink_error(SOCKIT_ABORTED, msg, &snk);
    return sk51_stage_result(L, st, SK_SINK, snk, 0, NULL);
}

/* sink_chain(f, snk) */
static int l_sink_chain(lua_State *L)
{
    int anchors[2] = {1, 2};
    sockit_filter *f;
    sockit_sink *inner, *snk = NULL;
    check_stage(L, 1, SK_FILTER);
    check_stage(L, 2, SK_SINK);
    f = (sockit_filter *)sk51_stage_take(L, 1, SK_FILTER);
    inner = (sockit_sink *)sk51_stage_take(L, 2, SK_SINK);
    sockit_status made = sockit_sink_chain(f, inner, &snk);
    return sk51_stage_result(L, made, SK_SINK, snk, 2, anchors);
}

/* pump_step(src, snk) -> 1 | nil [, err] */
static int l_pump_step(lua_State *L)
{
    sk_stage *src = check_stage(L, 1, SK_SOURCE);
    sk_stage *snk = check_stage(L, 2, SK_SINK);
    bool more = false;
    sockit_status st;
    if (src->ended || snk->ended) {
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    st = sockit_pump_step((sockit_source *)src->h, (sockit_sink *)snk->h, 0, &more);
    if (st != SOCKIT_OK) {
        src->ended = snk->ended = 1;
        return stage_fail(L, st);
    }
    if (!more) {
        src->ended = snk->ended = 1;
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    lua_pushnumber(L, 1);
    return 1;
}

/* pump_all(src, snk) -> 1 | nil, err */
static int l_pump_all(lua_State *L)
{
    sk_stage *src = check_stage(L, 1, SK_SOURCE);
    sk_stage *snk = check_stage(L, 2, SK_SINK);
    sockit_status st;
    if (src->ended || snk->ended) {
        lua_pushnumber(L, 1);
        return 1;
    }
    st = sockit_pump_all((sockit_source *)src->h, (sockit_sink *)snk->h, 0, NULL);
    src->ended = snk->ended = 1;
    if (st != SOCKIT_OK)
        return stage_fail(L, st);
    lua_pushnumber(L, 1);
    return 1;
}

/* kind(x) -> "source" | "sink" | "filter" | nil: is x a live native stage? */
static int l_kind(lua_State *L)
{
    static const char *const names[] = {NULL, "source", "sink", "filter"};
    int kind;
    for (kind = SK_SOURCE; kind <= SK_FILTER; kind++) {
        if (sk51_stage_test(L, 1, kind)) {
            lua_pushstring(L, names[kind]);
            return 1;
        }
    }
    return 0;
}

static const luaL_Reg funcs[] = {
    {"source_string", l_source_string},
    {"source_empty", l_source_empty},
    {"source_error", l_source_error},
    {"source_rewind", l_source_rewind},
    {"source_chain", l_source_chain},
    {"source_cat", l_source_cat},
    {"filter_chain", l_filter_chain},
    {"sink_null", l_sink_null},
    {"sink_error", l_sink_error},
    {"sink_chain", l_sink_chain},
    {"pump_step", l_pump_step},
    {"pump_all", l_pump_all},
    {"kind", l_kind},
    {NULL, NULL},
};

SK_EXPORT int luaopen_ltn12_core(lua_State *L)
{
    sk51_ltn12_open(L);
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    return 1;
}
