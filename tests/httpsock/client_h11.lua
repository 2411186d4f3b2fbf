-- sockit.http as a client against the h11 server of tests/httpsock/peers.py (which parses
-- every request strictly and reports what it got):
--   lua5.1 tests/httpsock/client_h11.lua PORT
-- Prints TAP lines (testlib.lua).
dofile("tests/lua/testlib.lua")
local socket = require("socket")
local http = require("sockit.http")
local port = assert(tonumber(arg[1]), "usage: client_h11.lua PORT")

local lib = dofile("tests/httpsock/clientlib.lua")
local body_of = lib.body_of
local function connect()
    return lib.connect(port)
end

local c, s = connect()
local req, res = http.request.new(), http.response.new()
req.headers.host = "127.0.0.1"

req.target = "/len"
assert(s:write_request(req))
assert(s:read_response(res))
eq("length response", res.status, 200)
eq("read_state message_ready", s.read_state, "message_ready")
eq("length body", body_of(s, res), "GET /len 0")
eq("read_state back to empty", s.read_state, "empty")
eq("version of the response", res.version, 1.1)

req.method, req.target, req.body = "POST", "/post", string.rep("x", 100000)
assert(s:write_request(req))
assert(s:read_response(res))
eq("large POST", body_of(s, res), "POST /post 100000")

req.method, req.target, req.body = "PUT", "/stream-up", ""
assert(s:write_request_metadata(req))
eq("write_state metadata_issued", s.write_state, "metadata_issued")
req.body = "abc"
assert(s:write(req))
req.body = "def"
assert(s:write(req))
req.trailers = { ["x-sum"] = "6" }
assert(s:write_trailers(req))
eq("write_state empty after the trailers", s.write_state, "empty")
assert(s:read_response(res))
eq("streamed PUT", body_of(s, res), "PUT /stream-up 6")
req.trailers = {}

req.method, req.target, req.body = "GET", "/chunked", ""
assert(s:write_request(req))
assert(s:read_response(res))
eq("chunked response", res.headers["transfer-encoding"], "chunked")
eq("chunked body", body_of(s, res), "part1,part2")
eq("its trailer", res.trailers["x-trailer"], "t1")

req.method, req.target = "HEAD", "/head"
assert(s:write_request(req))
assert(s:read_response(res))
eq("HEAD: no body to read", s.read_state, "empty")
eq("HEAD: the length it would have", res.headers["content-length"], "12")

for _, code in ipairs({ 204, 304 }) do
    req.method, req.target = "GET", "/status/" .. code
    assert(s:write_request(req))
    assert(s:read_response(res))
    eq(code .. " status", res.status, code)
    eq(code .. ": no body", s.read_state, "empty")
end

-- 100-continue: the head, the interim response, then the body
req.method, req.target = "POST", "/continue"
req.headers = { host = "127.0.0.1", expect = "100-continue", ["content-length"] = "9" }
assert(s:write_request_metadata(req))
assert(s:read_response(res))
eq("100 Continue", res.status, 100)
eq("interim: read_state stays empty", s.read_state, "empty")
req.body = "after 100"
assert(s:write(req))
assert(s:write_end_of_message())
assert(s:read_response(res))
eq("final after 100", body_of(s, res), "POST /continue 9")
req.headers = { host = "127.0.0.1" }
req.body = ""

-- pipelined
req.method = "GET"
for i = 0, 2 do
    req.target = "/pipe" .. i
    assert(s:write_request(req))
end
for i = 0, 2 do
    assert(s:read_response(res))
    eq("pipelined response " .. i, body_of(s, res), "GET /pipe" .. i .. " 0")
end

req.target = "/close"
assert(s:write_request(req))
assert(s:read_response(res))
eq("Connection: close response", body_of(s, res), "closing")
eq("is_open after it", s.is_open, false)
local ok, err = s:write_request(req)
check("no request after Connection: close", ok == nil and err == "closed", err)
c:close()

-- HTTP/1.0: one request, a body until close
c, s = connect()
req.target, req.version, req.headers = "/old", 1.0, {}
assert(s:write_request(req))
assert(s:read_response(res))
eq("HTTP/1.0 body until close", body_of(s, res), "until close: GET /old 0")
eq("HTTP/1.0: the connection is done", s.is_open, false)
c:close()

c, s = connect()
req.target, req.version, req.headers = "/until-close", 1.1, { host = "x" }
assert(s:write_request(req))
assert(s:read_response(res))
eq("body until close", body_of(s, res), "until close: GET /until-close 0")
c:close()
done()
