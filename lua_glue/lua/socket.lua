-----------------------------------------------------------------------------
-- socket.lua: the Lua half of sockit's LuaSocket 2/3 compatible "socket" module.
-- The C half (socket.core, built from lua_glue/core51.c and friends over sockit's C
-- API) does the networking; this file adds the conveniences LuaSocket keeps in Lua:
-- connect4/connect6, choose, socket sources and sinks, BLOCKSIZE.
-----------------------------------------------------------------------------
local core = require("socket.core")

local socket = core

socket.BLOCKSIZE = 2048
socket.try = socket.try or socket.newtry()

-----------------------------------------------------------------------------
-- TCP shortcuts restricted to one family
-----------------------------------------------------------------------------
function socket.connect4(address, port, laddress, lport)
    return socket.connect(address, port, laddress, lport, "inet")
end

function socket.connect6(address, port, laddress, lport)
    return socket.connect(address, port, laddress, lport, "inet6")
end

-----------------------------------------------------------------------------
-- choose: a function that dispatches on its first argument
-----------------------------------------------------------------------------
function socket.choose(handlers)
    return function(name, opt1, opt2)
        if type(name) ~= "string" then
            name, opt1, opt2 = "default", name, opt1
        end
        local f = handlers[name or "nil"]
        if not f then
            error("unknown key (" .. tostring(name) .. ")", 3)
        end
        return f(opt1, opt2)
    end
end

-----------------------------------------------------------------------------
-- Socket sinks and sources (LTN12): native stages of ltn12.core, so a pipeline from or
-- to a socket is pumped by sockit without calling Lua per chunk. They answer getfd and
-- dirty, so select accepts them as LuaSocket's do.
-----------------------------------------------------------------------------
local ltn12core = require("ltn12.core")
local sinkt = {}
local sourcet = {}
socket.sinkt = sinkt
socket.sourcet = sourcet

for _, mode in ipairs({"close-when-done", "keep-open", "http-chunked"}) do
    sinkt[mode] = function(sock)
        return ltn12core.socket_sink(mode, sock)
    end
end
sinkt["default"] = sinkt["keep-open"]

socket.sink = socket.choose(sinkt)

sourcet["by-length"] = function(sock, length)
    return ltn12core.socket_source("by-length", sock, length)
end
sourcet["until-closed"] = function(sock)
    return ltn12core.socket_source("until-closed", sock)
end
sourcet["http-chunked"] = function(sock, headers)
    return ltn12core.socket_source("http-chunked", sock, headers)
end
sourcet["default"] = sourcet["until-closed"]

socket.source = socket.choose(sourcet)

return socket
