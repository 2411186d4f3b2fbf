-- socket.unix: unix.stream() / unix() masters bound to a path, listen, accept, connect,
-- receive and send as over TCP, select, errors.
dofile("tests/lua/testlib.lua")
local socket = require("socket")
local unix = require("socket.unix")

local path = os.tmpname()
os.remove(path)

local server = assert(unix())
check("unix() makes a master", tostring(server):match("^unixstream{master}") ~= nil, tostring(server))
eq("bind", server:bind(path), 1)
eq("listen", server:listen(), 1)
check("now a server", tostring(server):match("^unixstream{server}") ~= nil, tostring(server))
eq("getsockname is the path", server:getsockname(), path)
server:settimeout(5)

local client = assert(unix.stream())
eq("connect", client:connect(path), 1)
check("now a client", tostring(client):match("^unixstream{client}") ~= nil, tostring(client))
local peer = assert(server:accept())
peer:settimeout(5)
check("accepted a client", tostring(peer):match("^unixstream{client}") ~= nil, tostring(peer))

eq("send", client:send("hello\r\nworld"), 12)
eq("receive a line", peer:receive(), "hello")
peer:settimeout(0.05)
local data, err, partial = peer:receive(10)
eq("partial on timeout: nil", data, nil)
eq("timeout", err, "timeout")
eq("partial data", partial, "world")
local r = socket.select({peer}, nil, 0)
eq("select: nothing", r[1], nil)
client:send("!")
r = socket.select({peer}, nil, 2)
eq("select: unix socket readable", r[1], peer)
peer:settimeout(5)
eq("receive with prefix", peer:receive(6, partial), "world!")

-- Many short lines, with other patterns, dirty and select among them: the lines a "*l"
-- receive looks at ahead are handed out exactly once, in order, and nothing else sees
-- them as unread.
do
    local lines = {}
    for i = 1, 2000 do lines[i] = "line " .. i end
    assert(client:send(table.concat(lines, "\n") .. "\n"))
    local got, bad = 0, 0
    for i = 1, 2000 do
        local l
        if i % 250 == 0 then
            l = peer:receive(#lines[i] + 1):sub(1, -2)
        else
            l = peer:receive()
        end
        if l ~= lines[i] then bad = bad + 1 end
        got = got + 1
        if i == 1000 then
            eq("dirty with lines still to come", peer:dirty(), true)
            local ready = socket.select({peer}, nil, 0)
            eq("select: lines still to come", ready[1], peer)
        end
    end
    eq("2000 lines, each once and in order", got - bad, 2000)
    eq("then not dirty", peer:dirty(), false)
    local ready = socket.select({peer}, nil, 0)
    eq("select: nothing after the last line", ready[1], nil)
end
client:close()
data, err = peer:receive("*a")
eq("*a at close with nothing: closed", err, "closed")

local other = assert(unix.tcp())
local ok, msg = other:bind(path)
eq("binding an existing path fails", ok, nil)
check("with a message", type(msg) == "string", msg)
other:close()
peer:close()
server:close()
os.remove(path)
local c2 = assert(unix())
ok, msg = c2:connect(path)
eq("connect to a missing path fails", ok, nil)
check("connect failure message", type(msg) == "string", msg)
c2:close()
check("bad argument raises", not pcall(unix().bind, unix()))
done()
