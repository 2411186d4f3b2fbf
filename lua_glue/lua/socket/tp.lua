-----------------------------------------------------------------------------
-- socket/tp.lua: command/reply line protocols (LuaSocket 3's socket.tp, the helper
-- under FTP and SMTP clients), over socket.core's TCP objects.
--
-- tp.connect(host, port [, timeout [, create]]) gives an object with LuaSocket's
-- methods: check, command, send, receive, sink, source, getcontrol, getpeername,
-- getsockname, getfd, dirty, close. Replies are read as LuaSocket reads them: a line
-- "ddd text", or lines "ddd-..." up to the line with the same code and a space.
-----------------------------------------------------------------------------
local base = _G
local string = require("string")
local socket = require("socket")
local ltn12 = require("ltn12")

local _M = {}
socket.tp = _M

_M.TIMEOUT = 60

-- One reply: its code (a string) and text (lines joined with "\n"), or nil and the error.
local function read_reply(c)
    local line, err = c:receive()
    if err then return nil, err end
    local code, sep = string.match(line, "^(%d%d%d)(.?)")
    if not code then return nil, "invalid server reply" end
    local reply = line
    if sep == "-" then
        repeat
            line, err = c:receive()
            if err then return nil, err end
            local current, more = string.match(line, "^(%d%d%d)(.?)")
            reply = reply .. "\n" .. line
        until current == code and more == " "
    end
    return code, reply
end

local metat = { __index = {} }
local methods = metat.__index

function methods:getpeername()
    return self.c:getpeername()
end

-- (LuaSocket 3 answers the peer's address here too.)
function methods:getsockname()
    return self.c:getpeername()
end

-- Reads a reply and checks its code against ok: a pattern (or number), a table of
-- them, or a function(code, reply) that decides.
function methods:check(ok)
    local code, reply = read_reply(self.c)
    if not code then return nil, reply end
    if base.type(ok) == "function" then return ok(base.tonumber(code), reply) end
    if base.type(ok) ~= "table" then ok = { ok } end
    for _, pattern in base.ipairs(ok) do
        if string.find(code, pattern) then return base.tonumber(code), reply end
    end
    return nil, reply
end

function methods:command(cmd, arg)
    cmd = string.upper(cmd)
    if arg then return self.c:send(cmd .. " " .. arg .. "\r\n") end
    return self.c:send(cmd .. "\r\n")
end

function methods:sink(snk, pat)
    local chunk, err = self.c:receive(pat)
    return snk(chunk, err)
end

function methods:send(data)
    return self.c:send(data)
end

function methods:receive(pat)
    return self.c:receive(pat)
end

function methods:getfd()
    return self.c:getfd()
end

function methods:dirty()
    return self.c:dirty()
end

function methods:getcontrol()
    return self.c
end

function methods:source(source, step)
    return ltn12.pump.all(source, socket.sink("keep-open", self.c), step or ltn12.pump.step)
end

function methods:close()
    self.c:close()
    return 1
end

function _M.connect(host, port, timeout, create)
    local c, e = (create or socket.tcp)()
    if not c then return nil, e end
    c:settimeout(timeout or _M.TIMEOUT)
    local r
    r, e = c:connect(host, port)
    if not r then
        c:close()
        return nil, e
    end
    return base.setmetatable({ c = c }, metat)
end

return _M
