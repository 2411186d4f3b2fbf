/*
 * url51.c: luaopen_socket_url_core, the C half of sockit's "socket.url" for Lua 5.1 /
 * LuaJIT: parsing, building and resolving URLs and the escapes, over sockit_url_*.
 * socket/url.lua builds LuaSocket's url API (parse with defaults, build, absolute,
 * parse_path, build_path, escape, unescape) on these.
 */
#include "sk51.h"

#define SCRATCH "sockit.url.scratch"

static const char *const field_names[] = {
    "scheme", "authority", "userinfo", "user", "password", "host",
    "port", "path", "params", "query", "fragment", NULL,
};
static const sockit_url_part field_parts[] = {
    SOCKIT_URL_SCHEME, SOCKIT_URL_AUTHORITY, SOCKIT_URL_USERINFO, SOCKIT_URL_USER,
    SOCKIT_URL_PASSWORD, SOCKIT_URL_HOST, SOCKIT_URL_PORT, SOCKIT_URL_PATH,
    SOCKIT_URL_PARAMS, SOCKIT_URL_QUERY, SOCKIT_URL_FRAGMENT,
};

/* parse(url) -> {field = value, ...} (fields present only) | nil, err */
static int l_parse(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_url *u = NULL;
    sockit_status st = sockit_url_parse(s, &u);
    int i;
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sockit_last_error());
        return 2;
    }
    lua_newtable(L);
    for (i = 0; field_names[i]; i++) {
        bool present = false;
        if (sockit_url_get(u, field_parts[i], S->text, &present) == SOCKIT_OK && present) {
            sk51_pushbuffer(L, S->text);
            lua_setfield(L, -2, field_names[i]);
        }
    }
    sockit_url_free(u);
    return 1;
}

/* build(parsed) -> string */
static int l_build(lua_State *L)
{
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_url *u = NULL;
    sockit_status st;
    int i;
    luaL_checktype(L, 1, LUA_TTABLE);
    st = sockit_url_new(&u);
    for (i = 0; st == SOCKIT_OK && field_names[i]; i++) {
        lua_getfield(L, 1, field_names[i]);
        if (!lua_isnil(L, -1)) {
            const char *v = lua_tostring(L, -1);
            if (v == NULL) {
                sockit_url_free(u);
                return luaL_error(L, "url field %s must be a string", field_names[i]);
            }
            st = sockit_url_set(u, field_parts[i], v);
        }
        lua_pop(L, 1);
    }
    if (st == SOCKIT_OK)
        st = sockit_url_build(u, S->text);
    sockit_url_free(u);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sockit_last_error());
        return 2;
    }
    sk51_pushbuffer(L, S->text);
    return 1;
}

static int l_absolute(lua_State *L)
{
    const char *base = luaL_checkstring(L, 1);
    const char *rel = luaL_checkstring(L, 2);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st = sockit_url_absolute(base, rel, S->text);
    if (st != SOCKIT_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sockit_last_error());
        return 2;
    }
    sk51_pushbuffer(L, S->text);
    return 1;
}

typedef sockit_status (*bytes_fn)(const uint8_t *, size_t, sockit_buffer *);

static int bytes_call(lua_State *L, bytes_fn fn)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sk_scratch *S = sk51_scratch(L, SCRATCH);
    sockit_status st = fn((const uint8_t *)s, len, S->text);
    if (st != SOCKIT_OK)
        return luaL_error(L, "%s", sockit_last_error());
    sk51_pushbuffer(L, S->text);
    return 1;
}

static int l_escape(lua_State *L)
{
    return bytes_call(L, sockit_url_escape);
}

static int l_unescape(lua_State *L)
{
    return bytes_call(L, sockit_url_unescape);
}

static int l_protect_segment(lua_State *L)
{
    return bytes_call(L, sockit_url_protect_segment);
}

static const luaL_Reg funcs[] = {
    {"parse", l_parse},
    {"build", l_build},
    {"absolute", l_absolute},
    {"escape", l_escape},
    {"unescape", l_unescape},
    {"protect_segment", l_protect_segment},
    {NULL, NULL},
};

SK_EXPORT int luaopen_socket_url_core(lua_State *L)
{
    sk51_scratch_open(L, SCRATCH);
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    return 1;
}
