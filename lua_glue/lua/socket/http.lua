-----------------------------------------------------------------------------
-- socket/http.lua: HTTP/1.1 client with LuaSocket 3's API (socket.http).
--
-- http.request(url [, body]) and http.request{...} take and return what LuaSocket 3's
-- do: the request table's url (or scheme, host, port, path, params, query, user,
-- password, uri), method, headers, source, sink, step, redirect, maxredirects, proxy,
-- create; the module's TIMEOUT, USERAGENT and PROXY. Two ways to run a request:
-- - the native path (no create, scheme http, the default step): sockit's HTTP client
--   does the exchange, with LuaSocket's redirect rules; bodies move between the LTN12
--   source and sink without Lua (native stages) or through callbacks (Lua functions);
-- - the Lua path (a create function, a step of one's own, or https): the exchange runs
--   here, over the object create returns, calling only the methods LuaSocket calls on it
--   (settimeout, connect, send, receive, close; getfd and dirty through select). That is
--   how LuaSec's ssl.https runs HTTPS over this module, and how proxies and mocks plug
--   in. http.open(host, port, create) gives that connection object.
-----------------------------------------------------------------------------
local base = _G
local string = require("string")
local table = require("table")
local socket = require("socket")
local url = require("socket.url")
local ltn12 = require("ltn12")
local mime = require("mime")
local headers = require("socket.headers")
local proto = require("socket.proto")

local _M = {}
socket.http = _M

_M.TIMEOUT = 60
_M.USERAGENT = socket._VERSION or "sockit"

-- The schemes a request may name, with their default ports and the create function used
-- when the request has none (https through LuaSec, as LuaSocket does).
local SCHEMES = {
    http = { port = 80, create = function() return socket.tcp end },
    https = {
        port = 443,
        create = function(reqt)
            local ok, https = base.pcall(base.require, "ssl.https")
            socket.try(ok and https, "LuaSocket: LuaSec not found")
            socket.try(https.tcp, "LuaSocket: Function tcp() not available from LuaSec")
            return https.tcp(reqt)
        end,
    },
}
_M.schemes = SCHEMES

-- Text that goes on the wire as it is: a CR, LF or NUL in it would inject a request line
-- or header of its own, so it is refused (LuaSocket sends it).
local function wire(text, what)
    text = base.tostring(text)
    if string.find(text, "[\r\n%z]") then
        socket.try(nil, what .. " contains CR, LF or NUL")
    end
    return text
end

-----------------------------------------------------------------------------
-- The connection object (LuaSocket's http.open)
-----------------------------------------------------------------------------
local metat = { __index = {} }
local conn = metat.__index

function _M.open(host, port, create)
    local c = socket.try((create or socket.tcp)())
    local h = base.setmetatable({ c = c }, metat)
    h.try = socket.newtry(function() h:close() end)
    h.try(c:settimeout(_M.TIMEOUT))
    h.try(c:connect(host, port))
    return h
end

function conn:sendrequestline(method, uri)
    local line = wire(method or "GET", "method") .. " " .. wire(uri, "uri") .. " HTTP/1.1\r\n"
    return self.try(self.c:send(line))
end

function conn:sendheaders(tosend)
    local lines = {}
    for name, value in base.pairs(tosend) do
        name = wire(name, "header name")
        lines[#lines + 1] = (headers.canonic[name] or name) .. ": " .. wire(value, "header " .. name) .. "\r\n"
    end
    lines[#lines + 1] = "\r\n"
    self.try(self.c:send(table.concat(lines)))
    return 1
end

function conn:sendbody(reqheaders, source, step)
    local mode = reqheaders["content-length"] and "keep-open" or "http-chunked"
    return self.try(ltn12.pump.all(source or ltn12.source.empty(), socket.sink(mode, self.c),
        step or ltn12.pump.step))
end

-- The status code and line; nil and the first bytes when the reply is not HTTP/1.x (an
-- HTTP/0.9 body).
function conn:receivestatusline()
    local start = self.try(self.c:receive(5))
    if start ~= "HTTP/" then return nil, start end
    local line = self.try(self.c:receive("*l", start))
    local code = string.match(line, "HTTP/%d*%.%d* (%d%d%d)")
    return self.try(base.tonumber(code), line)
end

function conn:receiveheaders()
    return self.try(socket._receiveheaders(self.c))
end

function conn:receivebody(resheaders, sink, step)
    local length = base.tonumber(resheaders["content-length"])
    local coding = resheaders["transfer-encoding"]
    local mode = "default"
    if coding and coding ~= "identity" then
        mode = "http-chunked"
    elseif length then
        mode = "by-length"
    end
    return self.try(ltn12.pump.all(socket.source(mode, self.c, length), sink or ltn12.sink.null(),
        step or ltn12.pump.step))
end

function conn:receive09body(status, sink, step)
    local source = ltn12.source.rewind(socket.source("until-closed", self.c))
    source(status)
    return self.try(ltn12.pump.all(source, sink or ltn12.sink.null(), step or ltn12.pump.step))
end

function conn:close()
    return self.c:close()
end

-----------------------------------------------------------------------------
-- Requests
-----------------------------------------------------------------------------
local defaults = { path = "/", scheme = "http" }

-- The request table with the URL's parts filled in (the request's own fields win) and
-- LuaSocket's defaults: port, method, the headers it sends.
local function adjust(reqt)
    local nreqt = reqt.url and url.parse(reqt.url, defaults) or {}
    for k, v in base.pairs(reqt) do nreqt[k] = v end
    local scheme = SCHEMES[nreqt.scheme]
    if not scheme then socket.try(nil, "unsupported scheme '" .. base.tostring(nreqt.scheme) .. "'") end
    if not (nreqt.port and nreqt.port ~= "") then nreqt.port = scheme.port end
    if not (nreqt.method and nreqt.method ~= "") then nreqt.method = "GET" end
    if not (nreqt.host and nreqt.host ~= "") then
        socket.try(nil, "invalid host '" .. base.tostring(nreqt.host) .. "'")
    end
    local proxy = reqt.proxy or _M.PROXY
    -- The request target: the path (origin form), or the whole URL for a proxy.
    if not nreqt.uri then
        if proxy then
            nreqt.uri = url.build(nreqt)
        else
            nreqt.uri = url.build({ path = socket.try(nreqt.path, "invalid path 'nil'"),
                params = nreqt.params, query = nreqt.query, fragment = nreqt.fragment })
        end
    end
    local host = nreqt.host
    if base.tostring(nreqt.port) ~= base.tostring(scheme.port) then
        host = host .. ":" .. base.tostring(nreqt.port)
    end
    local h = {
        ["user-agent"] = _M.USERAGENT,
        ["host"] = host,
        ["connection"] = "close, TE",
        ["te"] = "trailers",
    }
    if nreqt.user and nreqt.password then
        h["authorization"] = "Basic " .. mime.b64(nreqt.user .. ":" .. url.unescape(nreqt.password))
    end
    if proxy then
        local p = url.parse(proxy)
        if p.user and p.password then
            h["proxy-authorization"] = "Basic " .. mime.b64(p.user .. ":" .. p.password)
        end
        nreqt.connect_host, nreqt.connect_port = p.host, p.port or 3128
    else
        nreqt.connect_host, nreqt.connect_port = nreqt.host, nreqt.port
    end
    for k, v in base.pairs(reqt.headers or {}) do h[string.lower(k)] = v end
    if nreqt.source and not h["content-length"] and not h["transfer-encoding"] then
        h["transfer-encoding"] = "chunked"
    end
    nreqt.headers = h
    return nreqt
end

-- LuaSocket's decision: follow this response's Location?
local function should_redirect(nreqt, code, resheaders)
    local location = resheaders.location
    if not location then return false end
    location = string.gsub(location, "%s", "")
    if location == "" then return false end
    local scheme = url.parse(location).scheme
    if scheme and not SCHEMES[scheme] then return false end
    -- no way down from https
    if nreqt.scheme == "https" and scheme ~= "https" then return false end
    return nreqt.redirect ~= false
        and (code == 301 or code == 302 or code == 303 or code == 307)
        and (not nreqt.method or nreqt.method == "GET" or nreqt.method == "HEAD")
        and (nreqt.maxredirects == false or (nreqt.nredirects or 0) < (nreqt.maxredirects or 5))
end

local function should_receive_body(nreqt, code)
    if nreqt.method == "HEAD" then return nil end
    if code == 204 or code == 304 then return nil end
    if code >= 100 and code < 200 then return nil end
    return 1
end

local trequest

-- The next request of a redirect: a GET of the new URL with the same body stages and
-- headers. As in LuaSocket, the create function goes unless the request table itself
-- names the new URL's scheme (so a request given by url starts afresh).
-- Credentials in the request's headers do not go to another origin (LuaSocket sends
-- them there too).
local function headers_for(reqt, newurl)
    local from, to = url.parse(reqt.url or "", defaults) or {}, url.parse(newurl, defaults) or {}
    local function origin(u)
        local port = u.port or (SCHEMES[u.scheme or ""] or {}).port
        return string.lower(base.tostring(u.scheme)) .. "://" .. string.lower(base.tostring(u.host))
            .. ":" .. base.tostring(port)
    end
    if not reqt.headers or origin(from) == origin(to) then return reqt.headers end
    local kept = {}
    for k, v in base.pairs(reqt.headers) do
        local name = string.lower(base.tostring(k))
        if name ~= "authorization" and name ~= "cookie" and name ~= "proxy-authorization" then kept[k] = v end
    end
    return kept
end

local function redirect(reqt, location)
    local newurl = url.absolute(reqt.url, location)
    local create = reqt.create
    if url.parse(newurl).scheme ~= reqt.scheme then create = nil end
    local r, code, resheaders, status = trequest({
        url = newurl,
        source = reqt.source,
        sink = reqt.sink,
        headers = headers_for(reqt, newurl),
        proxy = reqt.proxy,
        maxredirects = reqt.maxredirects,
        nredirects = (reqt.nredirects or 0) + 1,
        create = create,
        step = reqt.step,
    })
    resheaders = resheaders or {}
    resheaders.location = resheaders.location or location
    return r, code, resheaders, status
end

-- The Lua path: the whole exchange over the object the create function returns.
local function lua_request(reqt)
    local nreqt = adjust(reqt)
    local create = nreqt.create or SCHEMES[nreqt.scheme].create(nreqt)
    local h = _M.open(nreqt.connect_host, nreqt.connect_port, create)
    h:sendrequestline(nreqt.method, nreqt.uri)
    h:sendheaders(nreqt.headers)
    if nreqt.source then h:sendbody(nreqt.headers, nreqt.source, nreqt.step) end
    local code, status = h:receivestatusline()
    if not code then
        h:receive09body(status, nreqt.sink, nreqt.step)
        return 1, 200
    end
    local resheaders
    while code == 100 do
        h:receiveheaders()
        code, status = h:receivestatusline()
    end
    resheaders = h:receiveheaders()
    if should_redirect(nreqt, code, resheaders) and not nreqt.source then
        h:close()
        return redirect(reqt, resheaders.location)
    end
    if should_receive_body(nreqt, code) then h:receivebody(resheaders, nreqt.sink, nreqt.step) end
    h:close()
    return 1, code, resheaders, status
end

-- The native path: sockit's client does the exchange (and follows redirects by
-- LuaSocket's rules).
local function native_request(reqt)
    local nreqt = adjust(reqt)
    local target = nreqt.uri
    if not string.find(target, "^%a[%w+.-]*://") then
        local host = nreqt.host
        if string.find(host, ":") and not string.find(host, "^%[") then host = "[" .. host .. "]" end
        target = nreqt.scheme .. "://" .. host .. ":" .. base.tostring(nreqt.port) .. target
    end
    local user, password
    if nreqt.user and nreqt.password then
        user, password = nreqt.user, url.unescape(nreqt.password)
    end
    local maxredirects = nreqt.maxredirects
    if maxredirects == false then maxredirects = 1000000 end
    local used = (nreqt.nredirects or 0)
    local code, resheaders, status, _, redirects, _, location = proto.http_request {
        method = nreqt.method,
        url = target,
        headers = nreqt.headers,
        source = nreqt.source,
        sink = nreqt.sink,
        redirect = nreqt.redirect ~= false,
        maxredirects = math.max((maxredirects or 5) - used, 0),
        proxy = nreqt.proxy or _M.PROXY,
        timeout = _M.TIMEOUT,
        user = user,
        password = password,
    }
    if not code then socket.try(nil, resheaders) end
    if redirects > 0 and not resheaders.location then resheaders.location = location end
    return 1, code, resheaders, status
end

-- Which path a request takes: the native one unless it needs the Lua one.
trequest = function(reqt)
    local scheme = reqt.scheme
    if reqt.url and not scheme then scheme = (url.parse(reqt.url, defaults) or defaults).scheme end
    if reqt.create or (reqt.step and reqt.step ~= ltn12.pump.step) or (scheme or "http") ~= "http" then
        return lua_request(reqt)
    end
    return native_request(reqt)
end

local function genericform(u, b)
    local t = {}
    local reqt = {
        url = u,
        sink = ltn12.sink.table(t),
        target = t,
    }
    if b then
        reqt.source = ltn12.source.string(b)
        reqt.headers = {
            ["content-length"] = string.len(b),
            ["content-type"] = "application/x-www-form-urlencoded",
        }
        reqt.method = "POST"
    end
    return reqt
end

_M.genericform = genericform

local function srequest(u, b)
    local reqt = genericform(u, b)
    local _, code, resheaders, status = trequest(reqt)
    return table.concat(reqt.target), code, resheaders, status
end

_M.request = socket.protect(function(reqt, body)
    if base.type(reqt) == "string" then return srequest(reqt, body) end
    return trequest(reqt)
end)

return _M
