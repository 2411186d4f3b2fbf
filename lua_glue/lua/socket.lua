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
-- Socket sinks and sources (LTN12). Stages built natively by socket.core when it
-- can (socket.core._native_sink / _native_source) move data without Lua.
-----------------------------------------------------------------------------
local sinkt = {}
local sourcet = {}
socket.sinkt = sinkt
socket.sourcet = sourcet

sinkt["close-when-done"] = function(sock)
    return setmetatable({
        getfd = function() return sock:getfd() end,
        dirty = function() return sock:dirty() end,
    }, {
        __call = function(self, chunk, err)
            if not chunk then
                sock:close()
                return 1
            end
            return sock:send(chunk)
        end,
    })
end

sinkt["keep-open"] = function(sock)
    return setmetatable({
        getfd = function() return sock:getfd() end,
        dirty = function() return sock:dirty() end,
    }, {
        __call = function(self, chunk, err)
            if chunk then
                return sock:send(chunk)
            end
            return 1
        end,
    })
end

sinkt["default"] = sinkt["keep-open"]

socket.sink = socket.choose(sinkt)

sourcet["by-length"] = function(sock, length)
    return setmetatable({
        getfd = function() return sock:getfd() end,
        dirty = function() return sock:dirty() end,
    }, {
        __call = function()
            if length <= 0 then
                return nil
            end
            local size = math.min(socket.BLOCKSIZE, length)
            local chunk, err = sock:receive(size)
            if err then
                return nil, err
            end
            length = length - string.len(chunk)
            return chunk
        end,
    })
end

sourcet["until-closed"] = function(sock)
    local done
    return setmetatable({
        getfd = function() return sock:getfd() end,
        dirty = function() return sock:dirty() end,
    }, {
        __call = function()
            if done then
                return nil
            end
            local chunk, err, partial = sock:receive(socket.BLOCKSIZE)
            if not err then
                return chunk
            elseif err == "closed" then
                sock:close()
                done = 1
                return partial
            else
                return nil, err
            end
        end,
    })
end

sourcet["default"] = sourcet["until-closed"]

socket.source = socket.choose(sourcet)

return socket
