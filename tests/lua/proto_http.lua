-- proto_http.lua: require "socket.http" (LuaSocket 3's API over sockit's client) against
-- httpbin (tests/servers). Run by scripts/test-lua-proto.sh under lua5.1 and luajit.
dofile("tests/lua/testlib.lua")

local port = os.getenv("SOCKIT_HTTPBIN_PORT")
if not port then
    print("# SOCKIT_HTTPBIN_PORT is not set: run scripts/test-lua-proto.sh")
    os.exit(1)
end

local http = require("socket.http")
local ltn12 = require("ltn12")
local mime = require("mime")
local socket = require("socket")
local base = "http://127.0.0.1:" .. port

-- a value of a flat JSON object (httpbin's echoes): "name": "value"
local function jfield(body, name)
    return body and body:match('"' .. name .. '": "([^"]*)"')
end

eq("socket.http is the module", socket.http, http)
check("http-chunked source registered", type(socket.sourcet["http-chunked"]) == "function")
eq("TIMEOUT", http.TIMEOUT, 60)
check("USERAGENT", type(http.USERAGENT) == "string" and #http.USERAGENT > 0)

-- simple form
local body, code, headers, status = http.request(base .. "/get?x=1&y=two")
eq("GET code", code, 200)
eq("GET status line", status, "HTTP/1.1 200 OK")
eq("GET content-type", headers and headers["content-type"], "application/json")
eq("GET echoes the query", jfield(body, "y"), "two")
eq("GET sends LuaSocket's user agent", jfield(body, "User%-Agent"), http.USERAGENT)
eq("GET sends Connection like LuaSocket", jfield(body, "Connection"), "close, TE")
eq("GET sends the host", jfield(body, "Host"), "127.0.0.1:" .. port)

body, code = http.request(base .. "/post", "name=sockit&n=3")
eq("POST code", code, 200)
eq("POST form field", jfield(body, "name"), "sockit")
eq("POST content type", jfield(body, "Content%-Type"), "application/x-www-form-urlencoded")

-- generic form
local t = {}
local r
r, code, headers, status = http.request {
    url = base .. "/headers",
    headers = { ["X-Sockit-Test"] = "yes", ["user-agent"] = "custom/1" },
    sink = ltn12.sink.table(t),
}
eq("generic returns 1", r, 1)
eq("generic code", code, 200)
body = table.concat(t)
eq("request header sent", jfield(body, "X%-Sockit%-Test"), "yes")
eq("user agent overridden", jfield(body, "User%-Agent"), "custom/1")

-- bodies from Lua sources and native sources, with and without a length
local data = string.rep("0123456789", 3000)
t = {}
local pieces = { data:sub(1, 10000), data:sub(10001, 20000), data:sub(20001) }
local i = 0
r, code = http.request {
    url = base .. "/post",
    method = "POST",
    headers = { ["content-length"] = #data, ["content-type"] = "text/plain" },
    source = function()
        i = i + 1
        return pieces[i]
    end,
    sink = ltn12.sink.table(t),
}
eq("POST from a Lua source", code, 200)
eq("server got the Lua source's body", jfield(table.concat(t), "data"), data)
t = {}
r, code = http.request {
    url = base .. "/put",
    method = "PUT",
    headers = { ["content-type"] = "text/plain" },
    source = ltn12.source.chain(ltn12.source.string("chunked body"), mime.encode("base64")),
    sink = ltn12.sink.table(t),
}
eq("PUT chunked from a native source", code, 200)
eq("server got the chunked body", jfield(table.concat(t), "data"), mime.b64("chunked body"))
eq("it was sent chunked", jfield(table.concat(t), "Transfer%-Encoding"), "chunked")

-- redirects
body, code, headers = http.request(base .. "/redirect/3")
eq("redirects followed", code, 200)
-- (LuaSocket passes the last Location on as it came: httpbin sends a relative one)
eq("redirect hint in location", headers and headers.location, "/get")
r, code, headers = http.request { url = base .. "/redirect/2", redirect = false }
eq("redirect = false", code, 302)
check("location given", headers and headers.location ~= nil)
r, code = http.request { url = base .. "/redirect/7", sink = ltn12.sink.null() }
eq("more than 5 redirects: the 3xx stands", code, 302)
r, code = http.request { url = base .. "/redirect/7", maxredirects = 8, sink = ltn12.sink.null() }
eq("maxredirects raised", code, 200)
r, code = http.request { url = base .. "/redirect-to?url=/get&status_code=307", sink = ltn12.sink.null() }
eq("307 followed for GET", code, 200)
r, code = http.request { url = base .. "/redirect-to?url=/get&status_code=302", method = "POST",
    source = ltn12.source.string("x"), headers = { ["content-length"] = 1 }, sink = ltn12.sink.null() }
eq("302 after a POST with a body is not followed", code, 302)

-- authentication
body, code = http.request("http://user:pass@127.0.0.1:" .. port .. "/basic-auth/user/pass")
eq("basic auth from the URL", code, 200)
eq("authenticated", body and body:match('"authenticated": (%a+)'), "true")
body, code = http.request("http://user:wrong@127.0.0.1:" .. port .. "/basic-auth/user/pass")
eq("wrong password", code, 401)
r, code = http.request { url = base .. "/basic-auth/u/p", user = "u", password = "p" }
eq("user and password fields", code, 200)
r, code = http.request { url = base .. "/basic-auth/u/p",
    headers = { authorization = "Basic " .. mime.b64("u:p") } }
eq("authorization header", code, 200)
r, code = http.request { url = base .. "/basic-auth/a%40b/p%20q", user = "a%40b", password = "p%20q" }
eq("password unescaped, user as given (LuaSocket)", code, 401)

-- status codes and bodiless responses
for _, c in ipairs({ 201, 204, 304, 404, 418, 500, 503 }) do
    body, code, headers, status = http.request(base .. "/status/" .. c)
    eq("status " .. c, code, c)
    check("status line " .. c, status and status:find("^HTTP/1%.1 " .. c) ~= nil, status)
end
body, code = http.request(base .. "/status/204")
eq("204 has an empty body", body, "")
t = {}
r, code, headers = http.request { url = base .. "/get", method = "HEAD", sink = ltn12.sink.table(t) }
eq("HEAD code", code, 200)
eq("HEAD has no body", table.concat(t), "")
check("HEAD has the length header", headers and tonumber(headers["content-length"]) ~= nil)

-- chunked responses, native and Lua sinks
t = {}
r, code, headers = http.request { url = base .. "/stream-bytes/90000?chunk_size=700&seed=7",
    sink = ltn12.sink.table(t) }
eq("chunked response code", code, 200)
eq("chunked response framing", headers and headers["transfer-encoding"], "chunked")
local streamed = table.concat(t)
eq("chunked response length", #streamed, 90000)
local calls, got = 0, {}
r, code = http.request { url = base .. "/stream-bytes/90000?chunk_size=700&seed=7",
    sink = function(chunk, err)
        calls = calls + 1
        if chunk then got[#got + 1] = chunk end
        return 1
    end }
check("Lua sink gets the same bytes", table.concat(got) == streamed)
check("Lua sink called per chunk and at the end", calls > 2, calls)
t = {}
r, code = http.request { url = base .. "/stream/4", sink = ltn12.sink.chain(mime.normalize("|"),
    (ltn12.sink.table(t))) }
local lines = 0
for _ in table.concat(t):gmatch("|") do lines = lines + 1 end
eq("native filter on the sink side", lines, 4)
t = {}
r, code = http.request { url = base .. "/bytes/65536?seed=3", sink = ltn12.sink.table(t) }
eq("binary body length", #table.concat(t), 65536)
local name = os.tmpname()
local fh = io.open(name, "wb")
r, code = http.request { url = base .. "/bytes/65536?seed=3", sink = ltn12.sink.file(fh) }
eq("file sink download", code, 200)
eq("file sink closed its file", io.type(fh), "closed file")
fh = io.open(name, "rb")
check("file sink bytes", fh:read("*a") == table.concat(t))
fh:close()
os.remove(name)

-- proxies: the request goes to the proxy in absolute form
r, code, headers = http.request { url = "http://sockit.invalid/headers", proxy = base,
    sink = ltn12.sink.table(t) }
t = {}
r, code = http.request { url = "http://sockit.invalid/headers", proxy = base, sink = ltn12.sink.table(t) }
eq("through a proxy", code, 200)
eq("proxied request keeps its host", jfield(table.concat(t), "Host"), "sockit.invalid")
http.PROXY = base
body, code = http.request("http://sockit.invalid/get")
eq("http.PROXY", code, 200)
http.PROXY = nil

-- failures
local res, err = http.request("http://127.0.0.1:1/")
eq("connection refused", res, nil)
eq("connection refused message", err, "connection refused")
-- https goes through LuaSec (as in LuaSocket): to a plain HTTP server it fails, with
-- LuaSec's TLS error, or without LuaSec with LuaSocket's message
res, err = http.request("https://127.0.0.1:" .. port .. "/get")
eq("https to a plain server fails", res, nil)
check("https message", err and (err:find("LuaSec not found") or err:find("version")) ~= nil, err)
res, err = http.request("gopher://127.0.0.1:" .. port .. "/get")
eq("another scheme is refused", res, nil)
check("another scheme's message", err and err:find("scheme") ~= nil, err)
res, err = http.request { url = "http:///nohost" }
eq("no host", res, nil)
check("no host message", err and err:find("host") ~= nil, err)
local hsink = {}
res, err = http.request { url = base .. "/get", headers = { ["bad\nname"] = "x", a = "1", b = "2" },
    source = ltn12.source.string("x"), sink = ltn12.sink.table(hsink) }
eq("header with a line break refused", res, nil)
res, err = http.request { url = base .. "/get", headers = { ok = "1", ["x-value"] = "a\r\nInjected: yes" } }
eq("value with a line break refused", res, nil)
check("sink not a stage raises", not pcall(http.request, { url = base .. "/get", sink = 42 }))
check("source not a stage raises", not pcall(http.request, { url = base .. "/post", source = {} }))
res, err = http.request { url = base .. "/stream-bytes/50000", sink = function(chunk)
    if chunk then return nil, "sink says stop" end
    return 1
end }
eq("sink error aborts", res, nil)
eq("sink error value", err, "sink says stop")
local errv = { "table error" }
res, err = http.request { url = base .. "/post", method = "POST",
    source = function() return nil, errv end, sink = ltn12.sink.null() }
eq("source error value comes back", err, errv)
local okc, msg = pcall(http.request, { url = base .. "/get", sink = function(chunk)
    if chunk then error("raised in sink") end
    return 1
end })
check("error raised in a sink propagates", not okc and tostring(msg):find("raised in sink") ~= nil, msg)
http.TIMEOUT = 1
local t0 = socket.gettime()
res, err = http.request(base .. "/delay/3")
local dt = socket.gettime() - t0
http.TIMEOUT = 60
eq("timeout", err, "timeout")
check("timeout after about a second", dt > 0.8 and dt < 2.5, dt)

-- many requests in a row, nothing leaks
for k = 1, 50 do
    body, code = http.request(base .. "/get?k=" .. k)
    if code ~= 200 then break end
end
eq("50 requests in a row", code, 200)
done()
