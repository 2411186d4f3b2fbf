-- moonbridge_io: tcplisten / tcpconnect(_nb), locallisten / localconnect(_nb), poll,
-- read / read_nb / drain / write / write_nb / flush / finish / close / reset, the address
-- fields, and the coroutine _yield and _call variants (Lua loops over the _nb calls).
dofile("tests/lua/testlib.lua")
local mb = require("moonbridge_io")
local socket = require("socket")

-- a free port for tcplisten (Moonbridge listeners do not say which port they got)
local function free_port()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    return tonumber(port)
end

local port = free_port()
local listener = assert(mb.tcplisten("127.0.0.1", port))
local none, notice = listener:accept_nb()
eq("accept_nb without a connection: false", none, false)
check("accept_nb notice", type(notice) == "string", notice)

local client = assert(mb.tcpconnect("127.0.0.1", port))
local ok = mb.poll({[listener] = true}, nil, 2)
eq("poll: listener readable", ok, true)
local server = assert(listener:accept())

-- address fields
eq("remote_tcpport", client.remote_tcpport, port)
eq("local_tcpport of the server side", server.local_tcpport, port)
eq("remote_ip4", client.remote_ip4, "\127\0\0\1")
eq("local_ip4", server.local_ip4, "\127\0\0\1")
eq("no ip6 fields on IPv4", client.remote_ip6, nil)
eq("server sees the client's port", server.remote_tcpport, client.local_tcpport)
eq("interval is nil", client.interval, nil)

-- write is buffered until flush
eq("write returns the socket", client:write("line one\n", "line two\n"), client)
local data, status = server:read_nb()
eq("nothing before flush", data, "")
eq("read_nb says block", status, "block")
eq("flush returns the socket", client:flush("tail"), client)
data, status = server:read(nil, "\n")
eq("read up to the terminator", data, "line one\n")
eq("status term", status, "term")
data, status = server:read(4)
eq("read maxlen", data, "line")
eq("status maxlen", status, "maxlen")
local n
n, status = server:drain(nil, "\n")
eq("drain counts", n, 5)
eq("drain status", status, "term")
data, status = server:read_nb(100)
eq("read_nb what is there", data, "tail")
eq("read_nb then blocks", status, "block")

-- write_nb and flush_nb report what is still buffered
n = client:write_nb("abc")
check("write_nb returns a count", type(n) == "number", n)
eq("flush_nb flushes everything", client:flush_nb(), 0)
data = server:read(3)
eq("data from write_nb", data, "abc")

-- finish: the peer reads eof, and can still answer
eq("finish", client:finish(), true)
data, status = server:read()
eq("read to eof", data, "")
eq("eof status", status, "eof")
server:flush("answer")
data, status = client:read(6)
eq("reading after finish", data, "answer")
server:close()
data, status = client:read()
eq("eof after the peer closes", status, "eof")
eq("close", client:close(), true)
check("using a closed socket raises", not pcall(client.read, client))
check("closing twice raises", not pcall(client.close, client))

-- _yield variants in coroutines: a writer and a reader take turns through poll
client = assert(mb.tcpconnect("127.0.0.1", port))
server = assert(listener:accept())
local big = string.rep("0123456789", 1600000) -- 16 MB: more than the kernel buffers hold
local waits = {r = 0, w = 0}
local writer = coroutine.create(function()
    assert(client:write_yield(big))
    assert(client:flush_yield())
    assert(client:finish())
    return "written"
end)
local reader = coroutine.create(function()
    local got = server:read_yield(#big + 10)
    local rest, st = server:read_yield()
    return got, st
end)
local results = {}
local rounds = 0
while (coroutine.status(writer) ~= "dead" or coroutine.status(reader) ~= "dead") and rounds < 100000 do
    rounds = rounds + 1
    local r, w = {}, {}
    for _, co in ipairs({reader, writer}) do
        if coroutine.status(co) ~= "dead" then
            local okc, a, b = coroutine.resume(co)
            assert(okc, a)
            if coroutine.status(co) == "dead" then
                results[co] = {a, b}
            elseif b == "r" then
                waits.r = waits.r + 1
                r[a] = true
            elseif b == "w" then
                waits.w = waits.w + 1
                w[a] = true
            end
        end
    end
    if next(r) or next(w) then mb.poll(r, w, 1) end
end
eq("writer finished", results[writer] and results[writer][1], "written")
check("reader got all the data", results[reader] and results[reader][1] == big,
      results[reader] and #results[reader][1])
eq("reader saw eof", results[reader] and results[reader][2], "eof")
check("the reader yielded waiting to read", waits.r > 0, waits.r)
check("the writer yielded waiting to write", waits.w > 0, waits.w)
client:close()
server:close()

-- read_call with a plain wait function
client = assert(mb.tcpconnect("127.0.0.1", port))
server = assert(listener:accept())
local calls = 0
local fed = false
data, status = server:read_call(function(sock, what)
    calls = calls + 1
    if not fed then client:flush("fed\n") fed = true end
    mb.poll({[sock] = true}, nil, 1)
end, nil, "\n")
eq("read_call", data, "fed\n")
eq("read_call status", status, "term")
check("read_call called the wait function", calls > 0, calls)
n, status = client:drain_call(function() client:close() error("not reached") end, 0)
eq("drain_call with maxlen 0", status, "maxlen")

-- reset: the peer sees an error or eof, never hangs
client:write("lost")
eq("reset", client:reset(), true)
data, status = server:read()
check("after reset the peer reads eof or an error", status == "eof" or data == nil, status)
server:close()

-- tcpconnect_nb: a refused connection shows on first use
local dead = free_port()
local c2 = mb.tcpconnect_nb("127.0.0.1", dead)
if c2 then
    mb.poll(nil, {[c2] = true}, 2)
    data, status = c2:read()
    eq("tcpconnect_nb refused on read", data, nil)
    check("refused message", type(status) == "string", status)
    c2:close()
else
    check("tcpconnect_nb refused at once", true)
end
c2 = mb.tcpconnect("127.0.0.1", dead)
eq("tcpconnect refused", c2, nil)
listener:close()
check("closed listener raises", not pcall(listener.accept, listener))

-- local sockets
local dir = os.tmpname()
os.remove(dir)
local path = dir .. ".sock"
local ll = assert(mb.locallisten(path))
local lc = assert(mb.localconnect(path))
local ls = assert(ll:accept())
lc:flush("over unix\n")
eq("local socket read", ls:read(nil, "\n"), "over unix\n")
eq("no tcp fields on local sockets", ls.local_tcpport, nil)
lc:close()
ls:close()
ll:close()
ll = assert(mb.locallisten(path)) -- a stale socket file is replaced
lc = assert(mb.localconnect_nb(path))
ls = assert(ll:accept())
lc:flush("nb")
eq("localconnect_nb", ls:read(2), "nb")
lc:close()
ls:close()
ll:close()
os.remove(path)
eq("localconnect to nothing", mb.localconnect(path), nil)

-- LuaSocket's select accepts moonbridge sockets (getfd / dirty)
port = free_port()
listener = assert(mb.tcplisten("127.0.0.1", port))
client = assert(mb.tcpconnect("127.0.0.1", port))
server = assert(listener:accept())
client:flush("x\ny\n")
local r = socket.select({server}, nil, 2)
eq("socket.select with a moonbridge socket", r[1], server)
server:read(nil, "\n")
r = socket.select({server}, nil, 0)
eq("buffered input counts as readable", r[1], server)
client:close()
server:close()
listener:close()
done()
