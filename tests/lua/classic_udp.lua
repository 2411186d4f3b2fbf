-- LuaSocket 1.3b UDP API: udpsocket with options, setsockname, sendto, receivefrom,
-- setpeername, send, receive (size, truncation), timeouts, "refused".
-- Lua 4.0 / 5.1 common subset: runs under sockit-lua4 and sockit-lua51.
dofile("tests/lua/testlib.lua")

u1, err = udpsocket()
check("udpsocket", u1 ~= nil, err)
eq("setsockname", u1:setsockname("127.0.0.1", 0), nil)
ip1, port1 = u1:getsockname()
eq("getsockname ip", ip1, "127.0.0.1")
check("getsockname port", type(port1) == "number" and port1 > 0, port1)
u1:timeout(5)

u2 = udpsocket({SO_BROADCAST = 1, SO_DONTROUTE = 0})
check("udpsocket with options", u2 ~= nil)
eq("sendto", u2:sendto("hello", "127.0.0.1", port1), nil)
d, ip, port = u1:receivefrom()
eq("receivefrom data", d, "hello")
eq("receivefrom ip", ip, "127.0.0.1")
ip2, port2 = u2:getsockname()
eq("receivefrom port is the sender's", port, port2)

eq("setpeername", u2:setpeername("127.0.0.1", port1), nil)
pip, pport = u2:getpeername()
eq("getpeername", pip .. ":" .. pport, "127.0.0.1:" .. port1)
eq("send to the peer", u2:send("abcdef"), nil)
eq("receive with a size truncates", u1:receive(2), "ab")
u2:send("")
eq("empty datagram; the rest of the last one was discarded", u1:receive(), "")
eq("global sendto", sendto(u1, "back", "127.0.0.1", port2), nil)
u2:timeout(5)
eq("global receive on udp", receive(u2), "back")

u1:timeout(0.1)
t0 = _time()
d, err = u1:receive()
dt = _time() - t0
eq("receive timeout: nil", d, nil)
eq("receive timeout: error", err, "timeout")
check("receive timeout honoured", dt >= 0.08 and dt < 3, dt)

-- a datagram to a port nobody listens on: the ICMP error comes back as "refused"
probe = udpsocket()
probe:setsockname("127.0.0.1", 0)
pip, dead_port = probe:getsockname()
probe:close()
u3 = udpsocket()
u3:setpeername("127.0.0.1", dead_port)
u3:timeout(2)
u3:send("anyone?")
d, err = u3:receive()
eq("refused: nil", d, nil)
eq("refused: error", err, "refused")

-- select with udp sockets
u2:send("sel")
r, w, err = select({u1}, {u2}, 2)
eq("select: udp readable", r[1], u1)
eq("select: udp writable", w[1], u2)
eq("after select", u1:receive(), "sel")

-- bad options and closed sockets
s, err = udpsocket({NO_SUCH_OPTION = 1})
eq("unknown option: nil", s, nil)
check("unknown option: message", type(err) == "string", err)
u1:close()
d, err = u1:receive()
eq("receive on a closed socket: nil", d, nil)
check("receive on a closed socket: error", err ~= nil, err)
u1:close()
u2:close()
u3:close()
done()
