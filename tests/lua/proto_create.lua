-- proto_create.lua: the create and step fields of socket.http, socket.ftp, socket.smtp
-- and socket.tp against the real test servers (httpbin, pyftpdlib, aiosmtpd). The create
-- function returns a wrapper around a sockit TCP socket that offers only the methods
-- LuaSocket calls and records every call, so the checks see that all the request's I/O
-- went through it. Run by scripts/test-lua-proto.sh under lua5.1 and luajit.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")
expect_sockit()

local hport = os.getenv("SOCKIT_HTTPBIN_PORT")
local fport = os.getenv("SOCKIT_FTP_PORT")
local sport = os.getenv("SOCKIT_SMTP_PORT")
if not (hport and fport and sport) then
    print("# the test servers' ports are not set: run scripts/test-lua-proto.sh")
    os.exit(1)
end
local fuser, fpass, froot = os.getenv("SOCKIT_FTP_USER"), os.getenv("SOCKIT_FTP_PASS"), os.getenv("SOCKIT_FTP_ROOT")
local spool = os.getenv("SOCKIT_SMTP_SPOOL")

local socket = require("socket")
local http = require("socket.http")
local ftp = require("socket.ftp")
local smtp = require("socket.smtp")
local tp = require("socket.tp")
local ltn12 = require("ltn12")

-- A create function whose objects pass LuaSocket's calls to a sockit socket and count
-- them by name in `calls`; `made` counts the objects.
local function recorder()
    local rec = { calls = {}, made = 0, bytes_in = 0, bytes_out = 0 }
    local allowed = { "settimeout", "connect", "send", "receive", "close", "getfd", "dirty",
        "getpeername", "getsockname" }
    rec.create = function()
        local sock, err = socket.tcp()
        if not sock then return nil, err end
        rec.made = rec.made + 1
        local w = {}
        for _, name in ipairs(allowed) do
            w[name] = function(_, ...)
                rec.calls[name] = (rec.calls[name] or 0) + 1
                local r = { sock[name](sock, ...) }
                if name == "receive" and r[1] then rec.bytes_in = rec.bytes_in + #r[1] end
                if name == "send" and r[1] then rec.bytes_out = rec.bytes_out + r[1] end
                return unpack(r, 1, table.maxn(r))
            end
        end
        return w
    end
    return rec
end

local hbase = "http://127.0.0.1:" .. hport
local function jfield(body, name)
    return body and body:match('"' .. name .. '": "([^"]*)"')
end

-- http: GET through the object
local rec = recorder()
local t = {}
local r, code, headers = http.request { url = hbase .. "/get?via=create", create = rec.create,
    sink = ltn12.sink.table(t) }
eq("http create: code", code, 200)
eq("http create: one object", rec.made, 1)
check("http create: connect, send, receive and close went through it",
    rec.calls.connect == 1 and rec.calls.send and rec.calls.receive and rec.calls.close, rec.calls)
eq("http create: body arrived", jfield(table.concat(t), "via"), "create")
check("http create: every body byte came through receive", rec.bytes_in >= #table.concat(t))
eq("http create: content-type", headers and headers["content-type"], "application/json")

-- POST body, chunked upload
rec = recorder()
t = {}
local payload = string.rep("0123456789", 1000)
r, code = http.request { url = hbase .. "/post", method = "POST", create = rec.create,
    source = ltn12.source.string(payload), headers = { ["content-length"] = #payload },
    sink = ltn12.sink.table(t) }
eq("http create POST: code", code, 200)
check("http create POST: the server got the body", table.concat(t):find(payload, 1, true) ~= nil)
check("http create POST: sent through the object", rec.bytes_out > #payload)
rec = recorder()
t = {}
r, code = http.request { url = hbase .. "/anything", method = "PUT", create = rec.create,
    source = ltn12.source.string("chunked upload"), sink = ltn12.sink.table(t) }
eq("http create chunked upload: code", code, 200)
eq("http create chunked upload: data", jfield(table.concat(t), "data"), "chunked upload")

-- a chunked response, 1 MiB by length, 404
rec = recorder()
t = {}
r, code, headers = http.request { url = hbase .. "/stream/5", create = rec.create, sink = ltn12.sink.table(t) }
eq("http create chunked response: code", code, 200)
eq("http create chunked response: transfer-encoding", headers and headers["transfer-encoding"], "chunked")
local lines = 0
for _ in table.concat(t):gmatch("\n") do lines = lines + 1 end
eq("http create chunked response: 5 lines", lines, 5)
rec = recorder()
t = {}
local mib = string.rep("abcdefgh", 131072)
r, code = http.request { url = hbase .. "/anything", method = "POST", create = rec.create,
    source = ltn12.source.string(mib), headers = { ["content-length"] = #mib }, sink = ltn12.sink.table(t) }
eq("http create 1 MiB each way: code", code, 200)
check("http create 1 MiB each way: echoed", #table.concat(t) > #mib and table.concat(t):find(mib, 1, true) ~= nil)
r, code = http.request { url = hbase .. "/status/404", create = recorder().create }
eq("http create 404", code, 404)

-- redirects: the create function goes with a request that names its scheme
rec = recorder()
r, code, headers = http.request { url = hbase .. "/redirect/2", scheme = "http", create = rec.create,
    sink = ltn12.sink.null() }
eq("http create redirects: code", code, 200)
-- (as in LuaSocket, the second redirect's request no longer names the scheme, so it
-- goes without the create function)
eq("http create redirects: the object made for the first two requests", rec.made, 2)
eq("http create redirects: location hint", headers and headers.location, "/get")

-- step is called for every chunk, on the native path's requests too
local steps = 0
local function step(src, snk)
    steps = steps + 1
    return ltn12.pump.step(src, snk)
end
t = {}
r, code = http.request { url = hbase .. "/bytes/10000", step = step, sink = ltn12.sink.table(t) }
eq("http step: code", code, 200)
eq("http step: body", #table.concat(t), 10000)
check("http step: called per chunk", steps >= 5, steps)

-- http.open, by hand
local h = http.open("127.0.0.1", tonumber(hport))
h:sendrequestline("GET", "/headers")
h:sendheaders({ host = "127.0.0.1:" .. hport, ["x-by-hand"] = "yes", connection = "close" })
local c2, status = h:receivestatusline()
eq("http.open: status code", c2, 200)
eq("http.open: status line", status, "HTTP/1.1 200 OK")
local hh = h:receiveheaders()
t = {}
h:receivebody(hh, (ltn12.sink.table(t)))
h:close()
eq("http.open: the server saw the header", jfield(table.concat(t), "X%-By%-Hand"), "yes")

-- refused connection through create
r, code = http.request { url = "http://127.0.0.1:1/", create = recorder().create }
eq("http create refused", r, nil)
eq("http create refused: message", code, "connection refused")

-- ftp: a session whose control connection is the object
rec = recorder()
local name = "create" .. tostring(os.time()) .. tostring(math.random(100000)) .. ".txt"
local body = string.rep("ftp via create\r\n", 2000)
r, err = ftp.put { host = "127.0.0.1", port = tonumber(fport), user = fuser, password = fpass,
    path = name, type = "i", create = rec.create, source = ltn12.source.string(body) }
eq("ftp create put: sent bytes", r, #body)
check("ftp create put: control connection through the object",
    rec.made == 1 and rec.calls.send and rec.calls.receive and rec.calls.close, rec.calls)
local f = io.open(froot .. "/" .. name, "rb")
local disk = f and f:read("*a")
if f then f:close() end
eq("ftp create put: the file on disk", disk, body)
rec = recorder()
t = {}
steps = 0
r, err = ftp.get { host = "127.0.0.1", port = tonumber(fport), user = fuser, password = fpass,
    path = name, type = "i", create = rec.create, sink = ltn12.sink.table(t), step = step }
eq("ftp create get", r, 1)
eq("ftp create get: the file", table.concat(t), body)
check("ftp create get: step called", steps > 1, steps)
r, err = ftp.get { host = "127.0.0.1", port = tonumber(fport), user = fuser, password = fpass,
    path = "no-such-file-here", create = recorder().create, sink = ltn12.sink.null() }
eq("ftp create missing file", r, nil)
check("ftp create missing file: the server's reply", err and err:find("550") ~= nil, err)
local session = ftp.open("127.0.0.1", tonumber(fport), recorder().create)
session:greet()
session:login(fuser, fpass)
session:pasv()
t = {}
session:receive({ path = name, sink = (ltn12.sink.table(t)) })
eq("ftp.open with create, passive mode", table.concat(t), body)
session:port()
t = {}
session:receive({ path = name, sink = (ltn12.sink.table(t)) })
eq("ftp.open with create, active mode", table.concat(t), body)
session:quit()
session:close()

-- smtp: send over the object
local function count()
    local p = io.popen("ls '" .. spool .. "' | grep -c 'json$'")
    local n = tonumber(p:read("*l"))
    p:close()
    return n or 0
end
rec = recorder()
local before = count()
local msg = "Subject: create\r\n\r\nsent through a create function\r\n.dot line\r\n"
r, err = smtp.send { from = "<a@example.com>", rcpt = { "<b@example.com>", "<c@example.com>" },
    server = "127.0.0.1", port = tonumber(sport), create = rec.create, source = ltn12.source.string(msg) }
eq("smtp create send", r, 1)
check("smtp create: the session went through the object", rec.made == 1 and rec.calls.send and rec.calls.receive, err)
eq("smtp create: stored", count(), before + 1)
local eml = io.open(string.format("%s/%04d.eml", spool, before + 1), "rb")
local text = eml and eml:read("*a")
if eml then eml:close() end
check("smtp create: the body arrived unstuffed", text and text:find("\r\n.dot line", 1, true) ~= nil, text)
r, err = smtp.send { from = "<a@example.com>", rcpt = "<b@example.com>", server = "127.0.0.1", port = 1,
    create = recorder().create, source = ltn12.source.string(msg) }
eq("smtp create refused", r, nil)
eq("smtp create refused: message", err, "connection refused")

-- tp.connect with create
rec = recorder()
local c = tp.connect("127.0.0.1", tonumber(sport), 5, rec.create)
check("tp.connect with create", c ~= nil)
local code3 = c:check("2..")
eq("tp over the object: greeting", code3, 220)
c:command("QUIT")
c:check("2..")
c:close()
check("tp over the object: calls", rec.calls.connect == 1 and rec.calls.receive >= 2 and rec.calls.close == 1, rec.calls)
done()
