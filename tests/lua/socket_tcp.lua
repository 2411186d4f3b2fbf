-- socket.core TCP objects beyond the differential scripts: families, local addresses,
-- timeouts (block and total), options, shutdown, large sends with partial results,
-- non-blocking connect, stats, descriptors.
dofile("tests/lua/testlib.lua")
local socket = require("socket")

local server = assert(socket.bind("127.0.0.1", 0, 64))
local ip, port = server:getsockname()
port = tonumber(port)
server:settimeout(5)
eq("bind sets reuseaddr", server:getoption("reuseaddr"), true)
check("server getfd", type(server:getfd()) == "number" and server:getfd() >= 0, server:getfd())

-- connect with a local address, and with a family
local c = assert(socket.connect("127.0.0.1", port, "127.0.0.1", 0))
local a = assert(server:accept())
local lip, lport = c:getsockname()
eq("local address used", lip, "127.0.0.1")
local pip, pport = a:getpeername()
eq("peer sees the local port", pport, tonumber(lport))
c:close() a:close()
local c4 = socket.connect4("127.0.0.1", port)
check("connect4", c4 ~= nil)
server:accept():close()
c4:close()
local c6, err6 = socket.connect6("127.0.0.1", port)
eq("connect6 to an IPv4 address fails", c6, nil)
check("with a message", type(err6) == "string", err6)
check("bad family raises", not pcall(socket.connect, "127.0.0.1", port, nil, nil, "inet5"))

-- IPv6 loopback, when the machine has it
local s6 = socket.tcp6()
if s6 and s6:bind("::1", 0) then
    s6:listen()
    local _, p6 = s6:getsockname()
    local cc = socket.connect("::1", p6)
    check("IPv6 connect", cc ~= nil)
    local _, _, fam = cc:getpeername()
    eq("IPv6 family", fam, "inet6")
    eq("IPv6 getfamily", cc:getfamily(), "inet6")
    cc:close()
else
    check("IPv6 loopback not available (skipped)", true)
end
if s6 then s6:close() end

-- master -> client and master -> server transitions
local m = assert(socket.tcp())
check("new master", tostring(m):match("^tcp{master}") ~= nil)
eq("settimeout returns 1", m:settimeout(2), 1)
eq("connect a master", m:connect("127.0.0.1", port), 1)
check("the master became a client", tostring(m):match("^tcp{client}") ~= nil, tostring(m))
a = assert(server:accept())
local b, t = m:gettimeout()
eq("gettimeout block", b, 2)
eq("gettimeout total", t, -1)
m:settimeout(0.3, "t")
b, t = m:gettimeout()
eq("total timeout set", t, 0.3)
local t0 = socket.gettime()
local data, err, partial = m:receive("*a")
local dt = socket.gettime() - t0
eq("total timeout", err, "timeout")
check("total timeout honoured", dt >= 0.25 and dt < 2, dt)
m:settimeout(-1, "t")

-- options
eq("tcp-nodelay on", m:setoption("tcp-nodelay", true), 1)
eq("tcp-nodelay read back", m:getoption("tcp-nodelay"), true)
eq("keepalive on", m:setoption("keepalive", true), 1)
eq("keepalive read back", m:getoption("keepalive"), true)
eq("linger", m:setoption("linger", {on = true, timeout = 5}), 1)
local lg = m:getoption("linger")
check("linger read back", lg.on == true and lg.timeout == 5, lg.timeout)
check("sndbuf is a number", type(m:getoption("sndbuf")) == "number")
check("unknown option raises", not pcall(m.setoption, m, "no-such-option", 1))

-- a send larger than the socket buffers, with a total timeout: partial count
a:settimeout(5)
m:settimeout(0.2)
local huge = string.rep("z", 32 * 1024 * 1024)
local sent, serr, last = m:send(huge)
eq("big send times out", serr, "timeout")
check("and says how much went", type(last) == "number" and last > 0 and last < #huge, last)
local got = 0
a:settimeout(0.5)
while true do
    local d, e, p = a:receive(1024 * 1024)
    got = got + #(d or p)
    if not d then break end
end
eq("the peer got exactly what send reported", got, last)

-- shutdown
local c2 = assert(socket.connect("127.0.0.1", port))
local a2 = assert(server:accept())
a2:settimeout(5)
c2:send("before")
eq("shutdown send", c2:shutdown("send"), 1)
eq("the peer reads to the end", a2:receive("*a"), "before")
a2:send("reply")
c2:settimeout(5)
eq("reading after shutdown send", c2:receive(5), "reply")
check("bad shutdown mode raises", not pcall(c2.shutdown, c2, "sideways"))

-- stats
local r, s, age = c2:getstats()
eq("bytes received", r, 5)
eq("bytes sent", s, 6)
check("age", age >= 0 and age < 60, age)
eq("setstats", c2:setstats(10, 20, 0), 1)
r, s = c2:getstats()
eq("stats after setstats", r + s, 30)
c2:close() a2:close()

-- non-blocking connect: timeout at once, then select for writing
local nb = socket.tcp()
nb:settimeout(0)
local ok, nerr = nb:connect("127.0.0.1", port)
check("non-blocking connect returns 1 or timeout", ok == 1 or nerr == "timeout", nerr)
local _, w = socket.select(nil, {nb}, 2)
eq("writable when connected", w[1], nb)
local an = assert(server:accept())
an:settimeout(2)
nb:settimeout(2)
nb:send("nb\n")
eq("data over the non-blocking connection", an:receive(), "nb")
nb:close() an:close()

-- dirty and closed objects
local c3 = assert(socket.connect("127.0.0.1", port))
local a3 = assert(server:accept())
a3:settimeout(2)
c3:send("1\n2\n")
eq("first line", a3:receive(), "1")
eq("dirty with a line buffered", a3:dirty(), true)
eq("second line", a3:receive(), "2")
eq("not dirty when drained", a3:dirty(), false)
c3:close()
eq("closed socket getfd is -1", c3:getfd(), -1)
local d3, e3 = c3:receive()
eq("receive on a closed socket", e3, "closed")
a3:close() a:close() m:close()

-- accept timeout and refused connect
server:settimeout(0.1)
local none, aerr = server:accept()
eq("accept timeout", aerr, "timeout")
server:close()
local refused, rerr = socket.connect("127.0.0.1", port)
eq("connect to a closed port", rerr, "connection refused")
local nf, nferr = socket.connect("nonexistent.invalid", 80)
eq("unknown host", nf, nil)
check("unknown host message", type(nferr) == "string", nferr)
local inuse = assert(socket.bind("127.0.0.1", 0))
local _, busy = inuse:getsockname()
local b2, berr = socket.bind("127.0.0.1", busy)
eq("bind to a busy port", berr, "address already in use")
inuse:close()
done()
