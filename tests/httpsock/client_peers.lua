-- sockit.http as a client against real servers, whose ports come in the environment
-- (tests/httpsock/peers.py starts them): nginx (SOCKIT_NGINX_PORT), httpbin under
-- gunicorn (SOCKIT_HTTPBIN_PORT) and the misbehaving fault server (SOCKIT_FAULT_PORT).
-- Chunked responses with trailers, HEAD, 204/304, bodies until close, keep-alive reuse,
-- 100-continue, interim responses, broken responses. Prints TAP lines (testlib.lua).
dofile("tests/lua/testlib.lua")
local socket = require("socket")
local http = require("sockit.http")

local lib = dofile("tests/httpsock/clientlib.lua")
local connect, body_of = lib.connect, lib.body_of

-- GET target on s (host h): the response and its body.
local function get(s, h, target, headers, method)
    local req = http.request.new()
    req.method, req.target = method or "GET", target
    req.headers = headers or {}
    req.headers.host = h
    local res = http.response.new()
    local ok, err = s:write_request(req)
    if not ok then
        return nil, err
    end
    ok, err = s:read_response(res)
    if not ok then
        return nil, err
    end
    local body, berr = body_of(s, res)
    return res, body, berr
end

-- ----- nginx ----------------------------------------------------------------------------

local nport = tonumber(os.getenv("SOCKIT_NGINX_PORT"))
if nport then
    local c, s = connect(nport)
    local conns, counts = {}, {}
    for i = 1, 5 do
        local res, body = get(s, "localhost", "/small.txt")
        counts[i] = res.headers["x-conn-requests"]
        conns[res.headers["x-conn"]] = true
        if i == 1 then
            eq("nginx: static file", body, "small file\n")
        end
    end
    eq("nginx: five requests on one connection", table.concat(counts, ","), "1,2,3,4,5")
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    eq("nginx: one connection", n, 1)

    local res, body = get(s, "localhost", "/small.txt", nil, "HEAD")
    eq("nginx: HEAD length", res.headers["content-length"], "11")
    eq("nginx: HEAD body", body, "")
    local etag = res.headers.etag
    res, body = get(s, "localhost", "/small.txt", { ["if-none-match"] = etag })
    eq("nginx: 304", res.status, 304)
    eq("nginx: 304 without body", body, "")
    res, body = get(s, "localhost", "/nocontent")
    eq("nginx: 204", res.status, 204)
    eq("nginx: 204 without body", body, "")
    res, body = get(s, "localhost", "/gz/text.txt", { ["accept-encoding"] = "gzip" })
    eq("nginx: chunked (gzip on the fly)", res.headers["transfer-encoding"], "chunked")
    check("nginx: gzip body", body and body:sub(1, 2) == "\31\139", body and #body)
    eq("nginx: trailer", res.trailers["x-trailer"], "done")
    eq("nginx: still one connection", res.headers["x-conn-requests"], "9")

    -- 100-continue through nginx (it reads the body to pass it to httpbin)
    local req = http.request.new()
    req.method, req.target = "POST", "/proxy/post"
    req.headers = { host = "localhost", expect = "100-continue", ["content-length"] = "5",
        ["content-type"] = "text/plain" }
    assert(s:write_request_metadata(req))
    assert(s:read_response(res))
    eq("nginx: 100 Continue", res.status, 100)
    req.body = "hello"
    assert(s:write(req))
    assert(s:write_end_of_message())
    assert(s:read_response(res))
    body = body_of(s, res)
    check("nginx: proxied POST", res.status == 200 and body and body:find('"data": "hello"', 1, true),
        body)
    c:close()

    -- HTTP/1.0 without keep-alive: a gzip body with no length, until close
    c, s = connect(nport)
    req = http.request.new()
    req.target, req.version = "/gz/text.txt", 1.0
    req.headers = { ["accept-encoding"] = "gzip" }
    assert(s:write_request(req))
    res = http.response.new()
    assert(s:read_response(res))
    eq("nginx: HTTP/1.0 response has no length", res.headers["content-length"], nil)
    body = body_of(s, res)
    check("nginx: body until close", body and #body > 10 and body:sub(1, 2) == "\31\139", body and #body)
    eq("nginx: connection done", s.is_open, false)
    c:close()
else
    check("SOCKIT_NGINX_PORT is set", false)
end

-- ----- httpbin under gunicorn --------------------------------------------------------------

local hport = tonumber(os.getenv("SOCKIT_HTTPBIN_PORT"))
if hport then
    local c, s = connect(hport)
    local tag = "httpsock-" .. os.time()
    for _ = 1, 3 do
        local res = get(s, "127.0.0.1", "/get", { ["x-sockit-tag"] = tag })
        eq("httpbin: /get", res and res.status, 200)
    end
    local _, peers = get(s, "127.0.0.1", "/sockit/peers?tag=" .. tag)
    check("httpbin: three requests on one connection", peers and peers:find('"connections": 1', 1, true)
        and peers:find('"requests": 3', 1, true), peers)
    local req = http.request.new()
    req.method, req.target, req.body = "POST", "/post", "field=value"
    req.headers = { host = "127.0.0.1", ["content-type"] = "application/x-www-form-urlencoded" }
    assert(s:write_request(req))
    local res = http.response.new()
    assert(s:read_response(res))
    local body = body_of(s, res)
    check("httpbin: POST form", body and body:find('"field": "value"', 1, true), body)
    res, body = get(s, "127.0.0.1", "/stream/4")
    eq("httpbin: /stream is chunked", res.headers["transfer-encoding"], "chunked")
    local lines = 0
    for _ in (body or ""):gmatch("\n") do lines = lines + 1 end
    eq("httpbin: four JSON lines", lines, 4)
    res, body = get(s, "127.0.0.1", "/status/204")
    eq("httpbin: 204", res.status, 204)
    res, body = get(s, "127.0.0.1", "/get", nil, "HEAD")
    check("httpbin: HEAD", res.status == 200 and body == "" and tonumber(res.headers["content-length"]) > 0)
    -- 100-continue with gunicorn
    req = http.request.new()
    req.method, req.target = "PUT", "/put"
    req.headers = { host = "127.0.0.1", expect = "100-continue", ["content-length"] = "7" }
    assert(s:write_request_metadata(req))
    assert(s:read_response(res))
    eq("gunicorn: 100 Continue", res.status, 100)
    req.body = "content"
    assert(s:write(req))
    assert(s:write_end_of_message())
    assert(s:read_response(res))
    body = body_of(s, res)
    check("gunicorn: the body after 100", body and body:find('"data": "content"', 1, true), body)
    -- a chunked request body
    req = http.request.new()
    req.method, req.target = "POST", "/post"
    req.headers = { host = "127.0.0.1" }
    assert(s:write_request_metadata(req))
    req.body = "chunk-one;"
    assert(s:write(req))
    req.body = "chunk-two"
    assert(s:write(req))
    assert(s:write_end_of_message())
    assert(s:read_response(res))
    body = body_of(s, res)
    check("gunicorn: chunked request body", body and body:find("chunk-one;chunk-two", 1, true), body)
    c:close()
else
    check("SOCKIT_HTTPBIN_PORT is set", false)
end

-- ----- the fault server ---------------------------------------------------------------------

local fport = tonumber(os.getenv("SOCKIT_FAULT_PORT"))
if fport then
    local c, s = connect(fport)
    local res, body = get(s, "x", "/trailers")
    eq("fault: chunked with trailers", body, "hello world")
    eq("fault: trailer one", res.trailers["x-trailer-one"] ~= nil, true)
    local req, r2 = http.request.new(), http.response.new()
    req.target, req.headers = "/interim", { host = "x" }
    assert(s:write_request(req))
    assert(s:read_response(r2))
    eq("fault: first interim", r2.status, 103)
    assert(s:read_response(r2))
    eq("fault: second interim", r2.status, 102)
    assert(s:read_response(r2))
    eq("fault: final after interims", body_of(s, r2), "final")
    c:close()

    c, s = connect(fport)
    res, body = get(s, "x", "/close-delimited")
    check("fault: body until close", res and res.status == 200 and body and #body > 0, body)
    eq("fault: not reusable", s.is_open, false)
    c:close()

    c, s = connect(fport)
    res, body = get(s, "x", "/http10")
    eq("fault: HTTP/1.0 response", res and res.version, 1.0)
    check("fault: its body until close", body and #body > 0)
    c:close()

    c, s = connect(fport)
    local r3, berr
    res, body, berr = get(s, "x", "/bad-chunk")
    check("fault: bad chunk refused", body == nil and berr and berr:find("invalid chunk size"), berr)
    c:close()

    c, s = connect(fport)
    local bad, err = get(s, "x", "/big-headers")
    check("fault: endless head refused by a limit", bad == nil and err and
        (err:find("larger than") or err:find("too many header fields")), err)
    c:close()

    c, s = connect(fport)
    bad, err = get(s, "x", "/many-headers")
    check("fault: 5000 header fields refused", bad == nil and err and err:find("too many header fields"), err)
    c:close()

    c, s = connect(fport)
    bad, err = get(s, "x", "/garbage-status")
    check("fault: garbage status line refused", bad == nil and err and err:find("invalid"), err)
    c:close()

    c, s = connect(fport)
    res, body, berr = get(s, "x", "/truncated")
    check("fault: truncated body: closed, with what came", body == nil and berr == "closed", berr)
    c:close()
    r3 = nil
else
    check("SOCKIT_FAULT_PORT is set", false)
end
done()
