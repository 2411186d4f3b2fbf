-- diff_connect.lua: differential test of non-blocking connect as schedulers (copas and
-- the like) drive it: connect with a zero timeout, select for writing, connect again to
-- complete the same attempt, then "already connected"; the same to a closed port, and
-- reads and writes on a socket whose connect failed. Run under LuaSocket 3 and sockit;
-- the output must be identical. (Where sockit deliberately differs, a second connect
-- while the attempt is still in progress, see the README; nothing here depends on it.)
package.path = "tests/lua/?.lua;" .. package.path
local socket = require("socket")
local difflib = require("difflib")
local show = difflib.show

local function class(s)
    return (string.match(tostring(s), "^[^:]*"))
end

-- A port nobody listens on.
local function closed_port()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    return port
end

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
server:settimeout(5)

for round = 1, 3 do
    local c = socket.tcp()
    c:settimeout(0)
    local r, err = c:connect("127.0.0.1", port)
    show("connect", round, r or err == "timeout", class(c))
    local _, w = socket.select(nil, { c }, 5)
    show("writable", #w, w[1] == c)
    if not r then show("again", c:connect("127.0.0.1", port)) end
    show("then", c:connect("127.0.0.1", port))
    show("class", class(c), c:getpeername() == "127.0.0.1")
    local a = assert(server:accept())
    a:settimeout(5)
    c:settimeout(5)
    show("send", c:send("ping " .. round .. "\n"))
    show("received", a:receive())
    a:close()
    c:close()
end

-- A closed port: the error comes with the next connect, the one after starts over.
local nobody = closed_port()
local c = socket.tcp()
c:settimeout(0)
local r, err = c:connect("127.0.0.1", nobody)
show("refused first", r, err == "timeout" or err)
socket.select(nil, { c }, 5)
show("refused second", c:connect("127.0.0.1", nobody))
r, err = c:connect("127.0.0.1", nobody)
show("refused third starts over", r, err == "timeout" or err)
c:close()

-- Reads and writes on a socket whose connect failed in the background.
c = socket.tcp()
c:settimeout(0)
c:connect("127.0.0.1", nobody)
socket.select(nil, { c }, 5)
show("send after refusal", c:send("x"))
show("send again", c:send("x"))
show("receive", c:receive(1))
c:close()

-- A blocking connect: the error strings.
c = socket.tcp()
c:settimeout(5)
show("blocking refused", c:connect("127.0.0.1", nobody))
show("blocking then ok", c:connect("127.0.0.1", port))
server:accept():close()
show("socket.connect refused", socket.connect("127.0.0.1", nobody))
c:close()
show("closed connect", pcall(c.connect, c, "127.0.0.1", port))
server:close()

-- The byte counts of a closed socket stay readable (FTP's put reports them so).
do
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, p = srv:getsockname()
    local cl = assert(socket.connect("127.0.0.1", p))
    local peer = assert(srv:accept())
    cl:send("twelve bytes")
    show("peer got", peer:receive(12))
    cl:close()
    local received, sent = cl:getstats()
    show("stats after close", received, sent)
    peer:close()
    srv:close()
end
