/*
 * unix51.c: luaopen_socket_unix, LuaSocket 3's "socket.unix" for Lua 5.1 / LuaJIT over
 * sockit's Unix-domain stream sockets: unix.stream() (also unix.tcp() and unix() itself)
 * gives a unixstream{master} that binds / connects to a path and then works like a TCP
 * object (unixstream{client}, unixstream{server}).
 */
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

static int l_call(lua_State *L)
{
    return l_stream(L);
}

SK_EXPORT int luaopen_socket_unix(lua_State *L)
{
    sk51_stream_open(L, &unix_classes);
    lua_newtable(L);
    lua_pushcfunction(L, l_stream);
    lua_setfield(L, -2, "stream");
    lua_pushcfunction(L, l_stream);
    lua_setfield(L, -2, "tcp");
    lua_newtable(L);
    lua_pushcfunction(L, l_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
