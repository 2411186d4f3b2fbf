/*
 * ltn12_51.h: native LTN12 stage objects shared by the Lua 5.1 modules that make them
 * (ltn12.core, mime.core). See ltn12_51.c.
 */
#ifndef SOCKIT_LUA_LTN12_51_H
#define SOCKIT_LUA_LTN12_51_H

#include "sk51.h"

enum { SK_SOURCE = 1, SK_SINK = 2, SK_FILTER = 3 };

typedef struct {
    int kind;   /* SK_SOURCE, SK_SINK, SK_FILTER */
    void *h;    /* sockit_source / sockit_sink / sockit_filter; NULL once taken */
    int ended;  /* the stage reported (or was told) its end */
} sk_stage;

/* Registers the stage classes in this state (idempotent). */
SK_HIDDEN void sk51_ltn12_open(lua_State *L);
/* Pushes a new stage owning h; the values at the anchors indices are kept alive by it. */
SK_HIDDEN void sk51_stage_push(lua_State *L, int kind, void *h, int nanchors, const int *anchors);
/* Pushes the stage made by a constructor, or nil + message when s is a failure. */
SK_HIDDEN int sk51_stage_result(lua_State *L, sockit_status s, int kind, void *h, int nanchors,
                                const int *anchors);
/* The live native stage of that kind at index i, or NULL. */
SK_HIDDEN sk_stage *sk51_stage_test(lua_State *L, int i, int kind);
/* Takes the handle out of the stage at index i (a Lua error if it is not one). */
SK_HIDDEN void *sk51_stage_take(lua_State *L, int i, int kind);

#endif
