-- lib_luasec.lua: Debian's LuaSec over sockit. ssl.wrap takes a sockit TCP socket (its
-- descriptor, through getfd/setfd) and shakes hands with a local TLS server, blocking and
-- non-blocking with socket.select; ssl.https.request runs HTTPS over socket.http's
-- create path. The server is tests/servers/https_server.py with a self-signed
-- certificate the suite made (SOCKIT_TLS_PORT, SOCKIT_TLS_CERT). Run by
-- scripts/test-lua-libs.sh under lua5.1 and luajit.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")
expect_sockit({ "socket", "socket.http", "socket.url", "ltn12" })

local port = tonumber(os.getenv("SOCKIT_TLS_PORT") or "")
local cert = os.getenv("SOCKIT_TLS_CERT")
if not (port and cert) then
    print("# SOCKIT_TLS_PORT / SOCKIT_TLS_CERT are not set: run scripts/test-lua-libs.sh")
    os.exit(1)
end

local socket = require("socket")
local ssl = require("ssl")
local https = require("ssl.https")
local ltn12 = require("ltn12")

local params = { mode = "client", protocol = "any", verify = "peer", cafile = cert,
    options = { "all", "no_sslv2", "no_sslv3" } }

-- One request over a wrapped connection: the status line and the body of /hello.
local function hello(conn)
    assert(conn:send("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
    local status = conn:receive("*l")
    local length
    repeat
        local line = conn:receive("*l")
        length = length or tonumber(line and string.match(line, "^Content%-Length: (%d+)"))
    until line == "" or line == nil
    return status, length and conn:receive(length)
end

-- blocking
local sock = socket.tcp()
sock:settimeout(5)
eq("connect", sock:connect("127.0.0.1", port), 1)
local fd = sock:getfd()
local conn, err = ssl.wrap(sock, params)
check("ssl.wrap takes the sockit socket", conn ~= nil, err)
eq("the TLS object has the descriptor", conn and conn:getfd(), fd)
eq("the sockit socket gave it up", sock:getfd(), -1)
conn:settimeout(5)
local ok, herr = conn:dohandshake()
check("blocking handshake (certificate verified)", ok, herr)
local status, body = hello(conn)
eq("status over TLS", status, "HTTP/1.1 200 OK")
eq("body over TLS", body, "hello over tls\n")
conn:close()

-- non-blocking: connect, then the handshake, each driven by socket.select
sock = socket.tcp()
sock:settimeout(0)
local r, cerr = sock:connect("127.0.0.1", port)
if not r then
    eq("non-blocking connect says timeout", cerr, "timeout")
    local _, w = socket.select(nil, { sock }, 5)
    eq("select: writable when connected", w[1], sock)
    eq("the second connect completes it", sock:connect("127.0.0.1", port), 1)
end
conn = assert(ssl.wrap(sock, params))
conn:settimeout(0)
local rounds, waits = 0, 0
while rounds < 200 do
    rounds = rounds + 1
    ok, herr = conn:dohandshake()
    if ok then break end
    if herr == "wantread" then
        waits = waits + 1
        socket.select({ conn }, nil, 5)
    elseif herr == "wantwrite" then
        waits = waits + 1
        socket.select(nil, { conn }, 5)
    else
        break
    end
end
check("non-blocking handshake", ok, herr)
-- (LuaSec polls once itself, so with a quick server the handshake may need no select)
check("the handshake came through wantread/wantwrite rounds", rounds >= 1 and rounds < 200, rounds)
conn:settimeout(5)
status, body = hello(conn)
eq("status after a non-blocking handshake", status, "HTTP/1.1 200 OK")
conn:close()

-- an untrusted certificate is refused
sock = socket.tcp()
sock:settimeout(5)
sock:connect("127.0.0.1", port)
conn = ssl.wrap(sock, { mode = "client", protocol = "any", verify = "peer",
    cafile = "/etc/ssl/certs/ca-certificates.crt" })
if conn then
    conn:settimeout(5)
    ok, herr = conn:dohandshake()
    check("an unknown issuer fails the handshake", not ok)
    check("with LuaSec's message", herr and herr:find("certificate") ~= nil, herr)
    conn:close()
else
    check("an unknown issuer fails the handshake", true)
    check("with LuaSec's message", true)
end

-- ssl.https.request: socket.http's create path
local base = "https://127.0.0.1:" .. port
local b, code, headers, st = https.request(base .. "/hello")
eq("https string form: body", b, "hello over tls\n")
eq("https string form: code", code, 200)
eq("https string form: header", headers and headers["content-type"], "text/plain")
eq("https string form: status", st, "HTTP/1.1 200 OK")
local t = {}
r, code = https.request { url = base .. "/bytes/1048576", sink = ltn12.sink.table(t) }
eq("https table form with sink", r, 1)
eq("https 1 MiB body", #table.concat(t), 1048576)
eq("https 1 MiB content", string.sub(table.concat(t), 1048571), "012345")
b, code, headers = https.request(base .. "/echo", "posted=yes&n=1")
eq("https POST", code, 200)
eq("https POST body echoed", b, "posted=yes&n=1")
t = {}
r, code, headers = https.request { url = base .. "/echo", method = "POST", sink = ltn12.sink.table(t),
    source = ltn12.source.string(string.rep("x", 70000)) }
eq("https chunked upload", headers and headers["x-received"], "70000")
t = {}
r, code, headers = https.request { url = base .. "/chunked/40", sink = ltn12.sink.table(t) }
eq("https chunked response: code", code, 200)
eq("https chunked response: coding", headers and headers["transfer-encoding"], "chunked")
local n = 0
for _ in table.concat(t):gmatch("line %d+\n") do n = n + 1 end
eq("https chunked response: every chunk", n, 40)
b, code = https.request(base .. "/missing")
eq("https 404", code, 404)
eq("https 404 body", b, "not found\n")
local s = assert(socket.bind("127.0.0.1", 0))
local _, closed = s:getsockname()
s:close()
b, code = https.request("https://127.0.0.1:" .. closed .. "/")
eq("https refused: nil", b, nil)
eq("https refused: the error", code, "connection refused")
done()
