-----------------------------------------------------------------------------
-- socket/http.lua: HTTP/1.1 client with LuaSocket 3's API (socket.http), over sockit's
-- HTTP client.
--
-- http.request(url [, body]) and http.request{...} take and return what LuaSocket 3's
-- do: the request table's url (or scheme, host, port, path, params, query, user,
-- password, uri), method, headers, source, sink, redirect, maxredirects, proxy; the
-- module's TIMEOUT, USERAGENT and PROXY. The exchange itself is sockit's: the body moves
-- between the LTN12 source and sink (native stages are used directly, Lua functions
-- through callbacks), redirects, Basic authentication, proxies, chunked coding and
-- timeouts are handled by sockit. Not supported: https (or any scheme but http), and a
-- request's create function; step is accepted and not used.
-----------------------------------------------------------------------------
local base = _G
local string = require("string")
local table = require("table")
local url = require("socket.url")
local ltn12 = require("ltn12")
local proto = require("socket.proto")
local lcore = require("ltn12.core")

local ok, socket = base.pcall(base.require, "socket")
if not ok or base.type(socket) ~= "table" then socket = {} end

local _M = {}
socket.http = _M

_M.TIMEOUT = 60
_M.USERAGENT = socket._VERSION or "sockit"

-- The schemes sockit can request, with their default ports.
local SCHEMES = { http = { port = 80 } }
_M.schemes = SCHEMES

-- LuaSocket's http module adds the chunked stages to socket.source / socket.sink.
if base.type(socket.sourcet) == "table" then
    socket.sourcet["http-chunked"] = function(sock, headers)
        return lcore.socket_source("http-chunked", sock, headers)
    end
end
if base.type(socket.sinkt) == "table" then
    socket.sinkt["http-chunked"] = function(sock)
        return lcore.socket_sink("http-chunked", sock)
    end
end

-- A LuaSocket-style failure: nil and the message.
local function fail(err)
    return nil, err
end

-- The request table with the URL's parts filled in and LuaSocket's defaults.
local function adjust(reqt)
    local nreqt = {}
    if reqt.url then
        local parsed, err = url.parse(reqt.url, { path = "/", scheme = "http" })
        if not parsed then return nil, err end
        nreqt = parsed
    else
        nreqt = { path = "/", scheme = "http" }
    end
    for k, v in base.pairs(reqt) do nreqt[k] = v end
    if reqt.create then
        return nil, "socket.http: create functions are not supported by sockit"
    end
    local scheme = SCHEMES[nreqt.scheme]
    if not scheme then
        return nil, "unsupported scheme '" .. base.tostring(nreqt.scheme) .. "'"
    end
    if not (nreqt.port and nreqt.port ~= "") then nreqt.port = scheme.port end
    if not (nreqt.method and nreqt.method ~= "") then nreqt.method = "GET" end
    if not (nreqt.host and nreqt.host ~= "") then
        return nil, "invalid host '" .. base.tostring(nreqt.host) .. "'"
    end
    return nreqt
end

-- The headers LuaSocket sends, overridden by the request's.
local function headers_of(nreqt)
    local h = {
        ["user-agent"] = _M.USERAGENT,
        ["connection"] = "close, TE",
        ["te"] = "trailers",
    }
    for k, v in base.pairs(nreqt.headers or {}) do
        h[string.lower(base.tostring(k))] = base.tostring(v)
    end
    if nreqt.source and not h["content-length"] and not h["transfer-encoding"] then
        h["transfer-encoding"] = "chunked"
    end
    return h
end

-- Absolute URL of the request (without credentials: they travel separately).
local function target(nreqt)
    local path = nreqt.uri
    if not path then
        if not nreqt.path then return nil, "invalid path 'nil'" end
        path = url.build({ path = nreqt.path, params = nreqt.params, query = nreqt.query })
    end
    local host = nreqt.host
    if string.find(host, ":") and not string.find(host, "^%[") then host = "[" .. host .. "]" end
    return nreqt.scheme .. "://" .. host .. ":" .. base.tostring(nreqt.port) .. path
end

local function trequest(reqt)
    local nreqt, err = adjust(reqt)
    if not nreqt then return fail(err) end
    local where
    where, err = target(nreqt)
    if not where then return fail(err) end
    local user, password
    if nreqt.user and nreqt.password then
        user, password = nreqt.user, url.unescape(nreqt.password)
    end
    local maxredirects = nreqt.maxredirects
    if maxredirects == false then maxredirects = 1000000 end
    local code, headers, status, final, redirects = proto.http_request {
        method = nreqt.method,
        url = where,
        headers = headers_of(nreqt),
        source = nreqt.source,
        sink = nreqt.sink,
        redirect = nreqt.redirect ~= false,
        maxredirects = maxredirects or 5,
        proxy = nreqt.proxy or _M.PROXY,
        timeout = _M.TIMEOUT,
        user = user,
        password = password,
    }
    if not code then return fail(headers) end
    if redirects > 0 and not headers.location then headers.location = final end
    return 1, code, headers, status
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
    local r, code, headers, status = trequest(reqt)
    if not r then return nil, code end
    return table.concat(reqt.target), code, headers, status
end

function _M.request(reqt, body)
    if base.type(reqt) == "string" then return srequest(reqt, body) end
    return trequest(reqt)
end

return _M
