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
-- as it comes (no line-end conversion), as LuaSocket does.
--
-- With a create function (ftp.open's third argument, a request table's create) or a
-- request's own step, the session runs in Lua instead: the control connection is the
-- object create returns (through socket.tp, with only the methods LuaSocket calls on
-- it), data connections are sockit sockets, and step is called for every chunk.
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

local lua_open

function _M.open(server, port, create)
    if create then return lua_open(server, port, create) end
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
    local f
    if t.step and t.step ~= ltn12.pump.step then
        f = lua_open(t.host, t.port, t.create)
    else
        f = _M.open(t.host, t.port, t.create)
    end
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

-----------------------------------------------------------------------------
-- The session in Lua (for create functions and steps), over socket.tp
-----------------------------------------------------------------------------
local luat = { __index = {} }
local lsession = luat.__index

lua_open = function(server, port, create)
    local tp = require("socket.tp")
    local socket = require("socket")
    local control = try(tp.connect(server, port or PORT, _M.TIMEOUT, create))
    local f = base.setmetatable({ tp = control, socket = socket }, luat)
    f.try = function(r, err, ...)
        if not r then
            f:close()
            raise(err)
        end
        return r, err, ...
    end
    return f
end

function lsession:greet()
    local code = self.try(self.tp:check({ "1..", "2.." }))
    if string.find(code, "1..") then self.try(self.tp:check("2..")) end
    return 1
end

function lsession:login(user, password)
    self.try(self.tp:command("user", user or _M.USER))
    local code = self.try(self.tp:check({ "2..", 331 }))
    if code == 331 then
        self.try(self.tp:command("pass", password or _M.PASSWORD))
        self.try(self.tp:check("2.."))
    end
    return 1
end

-- Passive mode: the data connection goes to the address in the reply (PASV) or to the
-- control connection's peer (EPSV).
local function passive(self, address, dport)
    self.pasvt = { address = address, port = dport }
    if self.server then
        self.server:close()
        self.server = nil
    end
    return address, dport
end

function lsession:pasv()
    self.try(self.tp:command("pasv"))
    local _, reply = self.try(self.tp:check("2.."))
    local a, b, c, d, p1, p2 = string.match(reply, "(%d+)%D(%d+)%D(%d+)%D(%d+)%D(%d+)%D(%d+)")
    self.try(a and b and c and d and p1 and p2, reply)
    return passive(self, string.format("%d.%d.%d.%d", a, b, c, d), p1 * 256 + p2)
end

function lsession:epsv()
    self.try(self.tp:command("epsv"))
    local _, reply = self.try(self.tp:check("229"))
    local _, _, _, dport = string.match(reply, "%((.)(.-)%1(.-)%1(.-)%1%)")
    self.try(dport, "invalid epsv response")
    return passive(self, self.tp:getpeername(), dport)
end

-- Active mode: a listener on the control connection's local address (unless one is
-- given) that the server connects to.
local function listen(self, address, dport)
    self.pasvt = nil
    if not address then
        address = self.try(self.tp:getsockname())
        self.server = self.try(self.socket.bind(address, 0))
        address, dport = self.try(self.server:getsockname())
        self.try(self.server:settimeout(_M.TIMEOUT))
    end
    return address, dport
end

function lsession:port(address, dport)
    address, dport = listen(self, address, dport)
    local low = dport % 256
    local arg = string.gsub(string.format("%s,%d,%d", address, (dport - low) / 256, low), "%.", ",")
    self.try(self.tp:command("port", arg))
    self.try(self.tp:check("2.."))
    return 1
end

function lsession:eprt(family, address, dport)
    address, dport = listen(self, address, dport)
    self.try(self.tp:command("eprt", string.format("|%s|%s|%d|", family, address, dport)))
    self.try(self.tp:check("2.."))
    return 1
end

local function open_data(self)
    if self.pasvt then
        self.data = self.try(self.socket.tcp())
        self.try(self.data:settimeout(_M.TIMEOUT))
        self.try(self.data:connect(self.pasvt.address, self.pasvt.port))
    end
end

local function accept_data(self)
    if not self.pasvt then
        self.try(self.server:settimeout(_M.TIMEOUT))
        self.data = self.try(self.server:accept())
        self.try(self.data:settimeout(_M.TIMEOUT))
    end
end

function lsession:send(sendt)
    self.try(self.pasvt or self.server, "need port or pasv first")
    open_data(self)
    self.try(self.tp:command(sendt.command or "stor", argument_of(sendt)))
    local code = self.try(self.tp:check({ "2..", "1.." }))
    accept_data(self)
    local step = sendt.step or ltn12.pump.step
    -- a reply that arrives during the upload is read at once
    local checkstep = function(src, snk)
        local ready = self.socket.select({ self.tp }, nil, 0)
        if ready[self.tp] then code = self.try(self.tp:check("2..")) end
        return step(src, snk)
    end
    self.try(ltn12.pump.all(sendt.source or ltn12.source.empty(),
        self.socket.sink("close-when-done", self.data), checkstep))
    if string.find(code, "1..") then self.try(self.tp:check("2..")) end
    self.data:close()
    local _, sent = self.data:getstats()
    self.data = nil
    return sent
end

function lsession:receive(recvt)
    self.try(self.pasvt or self.server, "need port or pasv first")
    open_data(self)
    self.try(self.tp:command(recvt.command or "retr", argument_of(recvt)))
    local code, reply = self.try(self.tp:check({ "1..", "2.." }))
    local sink = recvt.sink or ltn12.sink.null()
    if code >= 200 and code <= 299 then
        sink(reply)
        return 1
    end
    accept_data(self)
    self.try(ltn12.pump.all(self.socket.source("until-closed", self.data), sink,
        recvt.step or ltn12.pump.step))
    if string.find(code, "1..") then self.try(self.tp:check("2..")) end
    self.data:close()
    self.data = nil
    return 1
end

function lsession:cwd(dir)
    self.try(self.tp:command("cwd", dir))
    self.try(self.tp:check(250))
    return 1
end

function lsession:type(t)
    self.try(self.tp:command("type", t))
    self.try(self.tp:check(200))
    return 1
end

function lsession:command(cmd, arg, check)
    self.try(self.tp:command(cmd, arg))
    if check == nil then return self.try(self.tp:check(".*")) end
    return self.try(self.tp:check(check))
end

function lsession:quit()
    self.try(self.tp:command("quit"))
    self.try(self.tp:check("2.."))
    return 1
end

function lsession:close()
    if self.data then self.data:close() end
    if self.server then self.server:close() end
    return self.tp:close()
end

return _M
