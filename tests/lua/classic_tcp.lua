-- LuaSocket 1.3b TCP API (lua_socketlibopen): bind, connect, accept, receive patterns,
-- send, timeouts, names, errors, the global function forms.
-- Lua 4.0 / 5.1 common subset: runs under sockit-lua4 and sockit-lua51.
dofile("tests/lua/testlib.lua")

server, ip, port = bind("127.0.0.1", 0)
check("bind returns a server", server ~= nil, ip)
eq("bind returns the address", ip, "127.0.0.1")
check("bind returns the chosen port", type(port) == "number" and port > 0, port)
server:timeout(5)

client, err = connect("127.0.0.1", port)
check("connect", client ~= nil, err)
peer, err = server:accept()
check("accept", peer ~= nil, err)
peer:timeout(5)
client:timeout(5)

-- every receive pattern, one value each, then the error
err, n = client:send("line one\r\n", "in\rside\r\n", "raw\r\n", "  word1\tword2\n", "12345", "tail")
eq("send error is nil", err, nil)
eq("send returns the bytes accepted", n, 47)
a, b, c, d, e, f, g, h = peer:receive("*l", "*l", "*lu", "*w", "*w", "*l", 5)
eq("*l drops the CR before LF", a, "line one")
eq("*l keeps other CRs", b, "in\rside")
eq("*lu keeps the CR", c, "raw\r")
eq("*w skips white space", d, "word1")
eq("*w second word", e, "word2")
eq("*l empty line", f, "")
eq("number pattern", g, "12345")
eq("error after patterns", h, nil)
eq("the rest is still there", peer:receive(4), "tail")

-- default pattern is a line; method and global forms are the same
client:send("first\nsecond\n")
eq("default pattern", peer:receive(), "first")
eq("global receive", receive(peer, "*l"), "second")
err, n = send(client, "x\n")
check("global send", err == nil and n == 2, err)
eq("x line", peer:receive(), "x")

-- *a until the peer closes: no error
client:send("tail data")
client:close()
a, err = peer:receive("*a")
eq("*a returns everything", a, "tail data")
eq("*a at close has no error", err, nil)
a, err = peer:receive("*l")
eq("line after close: partial is empty", a, "")
eq("line after close: closed", err, "closed")
err, n = client:send("x")
eq("send on a closed socket", err, "closed")
eq("send on a closed socket: 0 bytes", n, 0)
client:close() -- closing twice is fine
peer:close()

-- partial data on close and on timeout; remaining patterns are nil
client = connect("127.0.0.1", port)
peer = server:accept()
peer:timeout(5)
client:send("part")
client:close()
a, b, err = peer:receive("*l", "*l")
eq("partial line on close", a, "part")
eq("next pattern nil on error", b, nil)
eq("closed error", err, "closed")
peer:close()

client = connect("127.0.0.1", port)
peer = server:accept()
peer:timeout(0.2)
client:send("xy")
t0 = _time()
a, err = peer:receive(5)
dt = _time() - t0
eq("partial count on timeout", a, "xy")
eq("timeout error", err, "timeout")
check("block timeout honoured", dt >= 0.15 and dt < 3, dt)
client:send("z\n")
eq("data after a timeout is intact", peer:receive(), "z")

-- return ("r") timeout bounds the whole call
peer:timeout(nil)
peer:timeout(0.3, "r")
t0 = _time()
a, err = peer:receive("*l")
dt = _time() - t0
eq("return timeout", err, "timeout")
check("return timeout honoured", dt >= 0.25 and dt < 3, dt)
peer:timeout(-1, "r")
peer:timeout(5)

-- names
pip, pport = client:getpeername()
eq("getpeername ip", pip, "127.0.0.1")
eq("getpeername port", pport, port)
lip, lport = peer:getpeername()
sip, sport = client:getsockname()
eq("peer sees the client's address", lip .. ":" .. lport, sip .. ":" .. sport)
sip, sport = server:getsockname()
eq("server getsockname", sport, port)
sip, sport = getsockname(server)
eq("global getsockname", sport, port)

-- select
r, w, err = select({peer}, nil, 0)
eq("select nothing readable: timeout", err, "timeout")
eq("select nothing readable: empty", r[1], nil)
client:send("ready\n")
r, w, err = select({peer, "ignored", 42}, {client}, 2)
eq("select readable", r[1], peer)
eq("select writable", w[1], client)
eq("select no error", err, nil)
eq("select: non-sockets ignored", r[2], nil)
eq("data after select", peer:receive(), "ready")
t0 = _time()
r, w, err = select(nil, nil, 0.2)
dt = _time() - t0
check("select with no sockets sleeps", dt >= 0.15 and dt < 3, dt)
eq("select sleep: timeout", err, "timeout")
server:timeout(5)
other = connect("127.0.0.1", port)
r, w, err = select({server}, nil, 2)
eq("select: listening socket readable with a connection waiting", r[1], server)
acc = server:accept()
check("accept after select", acc ~= nil)
acc:close()
other:close()

-- accept timeout
server:timeout(0.1)
c, err = server:accept()
eq("accept timeout: nil", c, nil)
eq("accept timeout: error", err, "timeout")

-- errors
probe, pip, closed_port = bind("127.0.0.1", 0)
probe:close()
c, err = connect("127.0.0.1", closed_port)
eq("connect refused: nil", c, nil)
eq("connect refused: message", err, "connection refused")
c, err = connect("nonexistent.invalid", 80)
eq("connect to an unknown host: nil", c, nil)
check("connect to an unknown host: message", type(err) == "string", err)
s2, err = bind("127.0.0.1", port)
eq("bind to a port in use: nil", s2, nil)
eq("bind to a port in use: message", err, "address already in use")
s3, ip3, port3 = bind("*", 0)
check("bind * binds every interface", s3 ~= nil and ip3 == "0.0.0.0", ip3)
s3:close()

-- argument errors raise Lua errors
function try_call(f, a, b, c)
    if LUA5 then
        return pcall(f, a, b, c)
    end
    local saved = _ERRORMESSAGE
    _ERRORMESSAGE = function(m) end
    local ok = call(f, {a, b, c}, "x", nil)
    _ERRORMESSAGE = saved
    return ok ~= nil
end
check("receive with a bad pattern raises", not try_call(peer.receive, peer, "*x"))
check("connect with a bad port raises", not try_call(connect, "127.0.0.1", 70000))
check("receive on a non-socket raises", not try_call(receive, {}, "*l"))
check("accept on a client raises", not try_call(accept, peer))

-- DNS
ipaddr, info = toip("localhost")
eq("toip localhost", ipaddr, "127.0.0.1")
check("toip resolver table", type(info) == "table" and type(info.ip) == "table" and type(info.alias) == "table"
      and type(info.name) == "string", info)
eq("toip resolver table has the address", info.ip[1], "127.0.0.1")
ipaddr, info = toip("127.0.0.1")
eq("toip of a literal", ipaddr, "127.0.0.1")
name, info = tohostname("127.0.0.1")
check("tohostname gives a name", type(name) == "string" and name ~= "", name)
check("tohostname resolver table", type(info) == "table" and info.ip[1] == "127.0.0.1", info)
ipaddr, err = toip("nonexistent.invalid")
eq("toip failure: nil", ipaddr, nil)
eq("toip failure: message", err, "host not found")

-- sleep and time
t0 = _time()
_sleep(0.1)
dt = _time() - t0
check("_sleep and _time", dt >= 0.09 and dt < 3, dt)

-- option names
eq("SO_KEEPALIVE", SO_KEEPALIVE, "SO_KEEPALIVE")
eq("SO_LINGER", SO_LINGER, "SO_LINGER")

-- sockets are tables: scripts may keep fields in them
peer.name = "peer"
eq("own fields in a socket table", peer.name, "peer")
check("methods still there", type(peer.receive) == "function")

client:close()
peer:close()
server:close()
done()
