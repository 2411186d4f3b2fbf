-----------------------------------------------------------------------------
-- socket/ftp.lua: FTP client with LuaSocket 3's API (socket.ftp), over sockit's FTP
-- client.
--
-- ftp.get / ftp.put (simple and generic forms) and ftp.command take and return what
-- LuaSocket 3's do; ftp.open gives a session object with LuaSocket's methods (greet,
-- login, pasv, epsv, port, eprt, cwd, type, send, receive, quit, close). Transfers go
-- through sockit's data connections: passive (EPSV, then PASV) unless the session was
-- switched to active mode with port() / eprt() (or a request has passive = false);
-- bodies move between LTN12 sources and sinks, native stages directly. Data is passed
-- as it comes (no line-end conversion), as LuaSocket does. Not supported: create
-- functions; step is accepted and not used.
-----------------------------------------------------------------------------
local base = _G
local string = require("string")
local table = require("table")
local url = require("socket.url")
local ltn12 = require("ltn12")
local proto = require("socket.proto")

local ok, socket = base.pcall(base.require, "socket")
if not ok or base.type(socket) ~= "table" then socket = {} end

local _M = {}
socket.ftp = _M

_M.TIMEOUT = 60
local PORT = 21
_M.USER = "ftp"
_M.PASSWORD = "anonymous@anonymous.org"

-- An error that unwinds to the function that opened the session (LuaSocket's try).
local function raise(err)
    base.error({ sockit_ftp_error = err }, 0)
end

local function try(r, err, ...)
    if not r then raise(err) end
    return r, err, ...
end

-- Runs f(...) and turns a raise() into nil, err (LuaSocket's protect).
local function protect(f)
    return function(...)
        local res = { base.pcall(f, ...) }
        if res[1] then return base.select(2, base.unpack(res)) end
        local e = res[2]
        if base.type(e) == "table" and e.sockit_ftp_error ~= nil then return nil, e.sockit_ftp_error end
        base.error(e, 0)
    end
end

-----------------------------------------------------------------------------
-- Sessions (LuaSocket's low-level API)
-----------------------------------------------------------------------------
local metat = { __index = {} }

function _M.open(server, port, create)
    if create then raise("socket.ftp: create functions are not supported by sockit") end
    local s, greeting = proto.ftp_open(server, port or PORT, _M.TIMEOUT)
    try(s, greeting)
    local f = base.setmetatable({ session = s, greeting = greeting, active = false }, metat)
    f.try = try
    return f
end

-- The greeting was read by open; accepted here for LuaSocket's call sequence.
function metat.__index:greet()
    return 1
end

function metat.__index:login(user, password)
    return try(self.session:login(user or _M.USER, password or _M.PASSWORD))
end

local function mode(self, active)
    self.active = active
    return try(self.session:options(active, _M.TIMEOUT))
end

function metat.__index:pasv() return mode(self, false) end
function metat.__index:epsv() return mode(self, false) end
function metat.__index:port() return mode(self, true) end
function metat.__index:eprt() return mode(self, true) end

function metat.__index:cwd(dir)
    return try(self.session:cwd(dir))
end

function metat.__index:type(t)
    return try(self.session:type(t))
end

local function argument_of(t)
    local argument = t.argument or url.unescape(string.gsub(t.path or "", "^[/\\]", ""))
    if argument == "" then argument = nil end
    return argument
end

-- Sends sendt.source with sendt.command (default STOR); returns the bytes sent.
function metat.__index:send(sendt)
    local sent, err = self.session:store(string.upper(sendt.command or "stor"), argument_of(sendt),
        false, sendt.source or ltn12.source.empty())
    return try(sent, err)
end

-- Receives into recvt.sink with recvt.command (default RETR).
function metat.__index:receive(recvt)
    local r, err = self.session:retrieve(string.upper(recvt.command or "retr"), argument_of(recvt),
        false, recvt.sink or ltn12.sink.null())
    return try(r, err)
end

-- Any command: the reply's code and text (checked with check when given: a pattern,
-- a table of patterns, a number or a function, as LuaSocket's tp.check).
function metat.__index:command(cmd, arg, check)
    local code, reply = self.session:command(string.upper(cmd), arg)
    try(code, reply)
    if check == nil then return code, reply end
    if base.type(check) == "function" then return check(code, reply) end
    if base.type(check) ~= "table" then check = { check } end
    for _, pattern in base.ipairs(check) do
        if string.find(base.tostring(code), pattern) then return code, reply end
    end
    raise(reply)
end

function metat.__index:quit()
    return try(self.session:quit())
end

function metat.__index:close()
    return self.session:close()
end

-----------------------------------------------------------------------------
-- High level API
-----------------------------------------------------------------------------
local function override(t)
    if t.url then
        local u = try(url.parse(t.url))
        for k, v in base.pairs(t) do u[k] = v end
        return u
    end
    return t
end

-- Opens, greets, logs in, sets the type and the data connection mode.
local function session_for(t)
    try(t.host, "missing hostname")
    local f = _M.open(t.host, t.port, t.create)
    local okf, err = base.pcall(function()
        f:greet()
        f:login(t.user, t.password)
        if t.type then f:type(t.type) end
        if t.passive == false then f:port() else f:epsv() end
    end)
    if not okf then
        f:close()
        base.error(err, 0)
    end
    return f
end

local function with_session(t, action)
    local f = session_for(t)
    local res = { base.pcall(action, f) }
    if not res[1] then
        f:close()
        base.error(res[2], 0)
    end
    f:quit()
    f:close()
    return base.select(2, base.unpack(res))
end

local function tput(putt)
    putt = override(putt)
    return with_session(putt, function(f) return f:send(putt) end)
end

local function tget(gett)
    gett = override(gett)
    with_session(gett, function(f) return f:receive(gett) end)
    return 1
end

local default = { path = "/", scheme = "ftp" }

local function genericform(u)
    local t = try(url.parse(u, default))
    try(t.scheme == "ftp", "wrong scheme '" .. base.tostring(t.scheme) .. "'")
    try(t.host, "missing hostname")
    if t.params then
        t.type = string.match(t.params, "^type=(.)$")
        try(t.type == "a" or t.type == "i", "invalid type '" .. base.tostring(t.type) .. "'")
    end
    return t
end

_M.genericform = genericform

local function sput(u, body)
    local putt = genericform(u)
    putt.source = ltn12.source.string(body)
    return tput(putt)
end

local function sget(u)
    local gett = genericform(u)
    local t = {}
    gett.sink = ltn12.sink.table(t)
    tget(gett)
    return table.concat(t)
end

_M.put = protect(function(putt, body)
    if base.type(putt) == "string" then return sput(putt, body) end
    return tput(putt)
end)

_M.get = protect(function(gett)
    if base.type(gett) == "string" then return sget(gett) end
    return tget(gett)
end)

_M.command = protect(function(cmdt)
    cmdt = override(cmdt)
    try(cmdt.host, "missing hostname")
    try(cmdt.command, "missing command")
    local f = _M.open(cmdt.host, cmdt.port, cmdt.create)
    local res = { base.pcall(function()
        f:greet()
        f:login(cmdt.user, cmdt.password)
        if base.type(cmdt.command) == "table" then
            local argument = cmdt.argument or {}
            local check = cmdt.check or {}
            for i, cmd in base.ipairs(cmdt.command) do
                f:command(cmd, argument[i], check[i])
            end
        else
            f:command(cmdt.command, cmdt.argument, cmdt.check)
        end
        f:quit()
    end) }
    f:close()
    if not res[1] then base.error(res[2], 0) end
    return 1
end)

return _M
