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
-- Socket sinks and sources (LTN12). For sockit's own sockets they are native stages of
-- ltn12.core, so a pipeline from or to a socket is pumped by sockit without calling Lua
-- per chunk. Any other object with LuaSocket's methods (a LuaSec connection, a wrapper
-- a create function returned) gets stages written in Lua that call its send and
-- receive. Both answer getfd and dirty, so select accepts them as LuaSocket's do.
-----------------------------------------------------------------------------
local ltn12core = require("ltn12.core")
local sinkt = {}
local sourcet = {}
socket.sinkt = sinkt
socket.sourcet = sourcet

-- True for the sockets of sockit's modules (their metatables carry the "__sockit" mark).
local function native(sock)
    local mt = getmetatable(sock)
    return type(mt) == "table" and mt.__sockit ~= nil
end
socket._native = native

-- A stage over a foreign object: callable, with getfd and dirty passed on to it.
local function stage(sock, call)
    return setmetatable({
        getfd = function() return sock:getfd() end,
        dirty = function() return sock:dirty() end,
    }, { __call = call })
end

local lua_sinks = {
    ["keep-open"] = function(sock)
        return stage(sock, function(_, chunk)
            if chunk then return sock:send(chunk) end
            return 1
        end)
    end,
    ["close-when-done"] = function(sock)
        return stage(sock, function(_, chunk)
            if chunk then return sock:send(chunk) end
            sock:close()
            return 1
        end)
    end,
    ["http-chunked"] = function(sock)
        return stage(sock, function(_, chunk)
            if not chunk then return sock:send("0\r\n\r\n") end
            return sock:send(string.format("%X\r\n", #chunk) .. chunk .. "\r\n")
        end)
    end,
}

for _, mode in ipairs({"close-when-done", "keep-open", "http-chunked"}) do
    sinkt[mode] = function(sock)
        if native(sock) then return ltn12core.socket_sink(mode, sock) end
        return lua_sinks[mode](sock)
    end
end
sinkt["default"] = sinkt["keep-open"]

socket.sink = socket.choose(sinkt)

-- Header lines up to the empty line into t (names lower-cased, repeats joined with ", ",
-- continuation lines appended), as socket.http reads them; t, or nil and the error.
function socket._receiveheaders(sock, t)
    t = t or {}
    local line, err = sock:receive()
    if err then return nil, err end
    while line ~= "" do
        local name, value = string.match(line, "^(.-):%s*(.*)")
        if not (name and value) then return nil, "malformed reponse headers" end
        name = string.lower(name)
        line, err = sock:receive()
        if err then return nil, err end
        while string.find(line, "^%s") do
            value = value .. line
            line, err = sock:receive()
            if err then return nil, err end
        end
        if t[name] then t[name] = t[name] .. ", " .. value else t[name] = value end
    end
    return t
end

local lua_sources = {
    ["by-length"] = function(sock, length)
        return stage(sock, function()
            if length <= 0 then return nil end
            local chunk, err = sock:receive(math.min(socket.BLOCKSIZE, length))
            if err then return nil, err end
            length = length - #chunk
            return chunk
        end)
    end,
    ["until-closed"] = function(sock)
        local finished = false
        return stage(sock, function()
            if finished then return nil end
            local chunk, err, partial = sock:receive(socket.BLOCKSIZE)
            if not err then return chunk end
            if err ~= "closed" then return nil, err end
            sock:close()
            finished = true
            return partial
        end)
    end,
    ["http-chunked"] = function(sock, headers)
        return stage(sock, function()
            local line, err = sock:receive()
            if err then return nil, err end
            local size = tonumber((string.gsub(line, ";.*", "")), 16)
            if not size then return nil, "invalid chunk size" end
            if size > 0 then
                local chunk, cerr = sock:receive(size)
                if chunk then sock:receive() end
                return chunk, cerr
            end
            local t, terr = socket._receiveheaders(sock, headers)
            if not t then return nil, terr end
        end)
    end,
}

for _, mode in ipairs({"by-length", "until-closed", "http-chunked"}) do
    sourcet[mode] = function(sock, arg)
        if native(sock) then return ltn12core.socket_source(mode, sock, arg) end
        return lua_sources[mode](sock, arg)
    end
end
sourcet["default"] = sourcet["until-closed"]

socket.source = socket.choose(sourcet)

return socket
