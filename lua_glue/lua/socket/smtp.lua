-----------------------------------------------------------------------------
-- socket/smtp.lua: SMTP client with LuaSocket 3's API (socket.smtp), over sockit's SMTP
-- client and mail composer.
--
-- smtp.send{from, rcpt, source, server, port, user, password, domain} sends through
-- sockit (EHLO or HELO, AUTH PLAIN or LOGIN when credentials are given, MAIL, RCPT,
-- DATA with dot-stuffing); smtp.message{headers, body} makes the message source with
-- sockit's composer (a string, an LTN12 source, or a multipart table with preamble and
-- epilogue), with LuaSocket's default headers. smtp.open gives LuaSocket's low-level
-- session over socket.tp. A send whose table has a create function (or a step of its
-- own) runs that session in Lua instead, over the object create returns, with only
-- the methods LuaSocket calls on it.
-----------------------------------------------------------------------------
local base = _G
local string = require("string")
local os = require("os")
local mime = require("mime")
local ltn12 = require("ltn12")
local proto = require("socket.proto")

local ok, socket = base.pcall(base.require, "socket")
if not ok or base.type(socket) ~= "table" then socket = {} end

local _M = {}
socket.smtp = _M

_M.TIMEOUT = 60
_M.SERVER = "localhost"
_M.PORT = 25
_M.DOMAIN = os.getenv("SERVER_NAME") or "localhost"
_M.ZONE = "-0000"

-----------------------------------------------------------------------------
-- High level API
-----------------------------------------------------------------------------
local lua_send

function _M.send(mailt)
    if mailt.create or (mailt.step and mailt.step ~= ltn12.pump.step) then return lua_send(mailt) end
    if not mailt.from then return nil, "missing sender" end
    return proto.smtp_send {
        from = mailt.from,
        rcpt = mailt.rcpt,
        source = mailt.source or ltn12.source.empty(),
        server = mailt.server or _M.SERVER,
        port = mailt.port or _M.PORT,
        domain = mailt.domain or _M.DOMAIN,
        user = mailt.user,
        password = mailt.password,
        timeout = _M.TIMEOUT,
    }
end

local function lower_headers(headers)
    local lower = {}
    for k, v in base.pairs(headers or lower) do lower[string.lower(k)] = v end
    return lower
end

-- The message table with LuaSocket's default headers in every part.
local function adjust_part(mesgt)
    local part = { headers = lower_headers(mesgt.headers) }
    local body = mesgt.body
    if base.type(body) == "table" then
        local parts = { preamble = body.preamble, epilogue = body.epilogue }
        for i, sub in base.ipairs(body) do parts[i] = adjust_part(sub) end
        part.body = parts
    else
        part.headers["content-type"] = part.headers["content-type"] or
            'text/plain; charset="iso-8859-1"'
        part.body = body
    end
    return part
end

function _M.message(mesgt)
    local top = adjust_part(mesgt)
    local h = top.headers
    h["date"] = h["date"] or os.date("!%a, %d %b %Y %H:%M:%S ") .. (mesgt.zone or _M.ZONE)
    h["x-mailer"] = h["x-mailer"] or socket._VERSION
    h["mime-version"] = "1.0"
    mesgt.headers = h
    return proto.smtp_message(top)
end

-----------------------------------------------------------------------------
-- Low level API (LuaSocket's session over socket.tp)
-----------------------------------------------------------------------------
local metat = { __index = {} }
local methods = metat.__index

local function fail(err)
    base.error({ sockit_smtp_error = err }, 0)
end

local function try(r, err, ...)
    if not r then fail(err) end
    return r, err, ...
end

function methods:greet(domain)
    try(self.tp:check("2.."))
    try(self.tp:command("EHLO", domain or _M.DOMAIN))
    return base.select(2, try(self.tp:check("2..")))
end

function methods:mail(from)
    try(self.tp:command("MAIL", "FROM:" .. from))
    return try(self.tp:check("2.."))
end

function methods:rcpt(to)
    try(self.tp:command("RCPT", "TO:" .. to))
    return try(self.tp:check("2.."))
end

function methods:data(src, step)
    try(self.tp:command("DATA"))
    try(self.tp:check("3.."))
    try(self.tp:source(src, step))
    try(self.tp:send("\r\n.\r\n"))
    return try(self.tp:check("2.."))
end

function methods:quit()
    try(self.tp:command("QUIT"))
    return try(self.tp:check("2.."))
end

function methods:close()
    return self.tp:close()
end

function methods:login(user, password)
    try(self.tp:command("AUTH", "LOGIN"))
    try(self.tp:check("3.."))
    try(self.tp:send(mime.b64(user) .. "\r\n"))
    try(self.tp:check("3.."))
    try(self.tp:send(mime.b64(password) .. "\r\n"))
    return try(self.tp:check("2.."))
end

function methods:plain(user, password)
    try(self.tp:command("AUTH", "PLAIN " .. mime.b64("\0" .. user .. "\0" .. password)))
    return try(self.tp:check("2.."))
end

function methods:auth(user, password, ext)
    if not user or not password then return 1 end
    if string.find(ext, "AUTH[^\n]+LOGIN") then return self:login(user, password) end
    if string.find(ext, "AUTH[^\n]+PLAIN") then return self:plain(user, password) end
    fail("authentication not supported")
end

function methods:send(mailt)
    self:mail(mailt.from)
    if base.type(mailt.rcpt) == "table" then
        for _, to in base.ipairs(mailt.rcpt) do self:rcpt(to) end
    else
        self:rcpt(mailt.rcpt)
    end
    self:data(ltn12.source.chain(mailt.source, mime.stuff()), mailt.step)
end

function _M.open(server, port, create)
    local tp = require("socket.tp")
    local t = try(tp.connect(server or _M.SERVER, port or _M.PORT, _M.TIMEOUT, create))
    return base.setmetatable({ tp = t, try = try }, metat)
end

-- send over a session of this module (LuaSocket's sequence): greet, authenticate when
-- credentials are given, MAIL, RCPT, DATA, QUIT; errors come back as nil, err.
lua_send = function(mailt)
    local s
    local res = { base.pcall(function()
        s = _M.open(mailt.server, mailt.port, mailt.create)
        local ext = s:greet(mailt.domain)
        s:auth(mailt.user, mailt.password, ext)
        s:send(mailt)
        s:quit()
    end) }
    if s then s:close() end
    if res[1] then return 1 end
    local e = res[2]
    if base.type(e) == "table" and e.sockit_smtp_error ~= nil then return nil, e.sockit_smtp_error end
    base.error(e, 0)
end

return _M
