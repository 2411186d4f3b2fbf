-- setfd on TCP clients, servers and masters and on UDP sockets: the object moves onto
-- another descriptor (I/O goes through it), the one it held stays open (LuaSocket's
-- setfd does not close it), -1 detaches, arguments are checked as LuaSocket does.
dofile("tests/lua/testlib.lua")
local socket = require("socket")

local fds_before = count_fds()
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
server:settimeout(5)
local c1 = assert(socket.connect("127.0.0.1", port))
local a1 = assert(server:accept())
local c2 = assert(socket.connect("127.0.0.1", port))
local a2 = assert(server:accept())
c1:settimeout(5) c2:settimeout(5) a1:settimeout(5) a2:settimeout(5)
local fd1, fd2 = c1:getfd(), c2:getfd()
check("two descriptors", fd1 >= 0 and fd2 >= 0 and fd1 ~= fd2, fd1 .. " " .. fd2)

-- Detach c2: no descriptor, reads as closed, keeps its class.
eq("setfd returns nothing", select("#", c2:setfd(-1)), 0)
eq("detached getfd", c2:getfd(), -1)
local r, err = c2:receive()
eq("detached receive", err, "closed")
check("detached class stays", string.find(tostring(c2), "^tcp{client}") ~= nil, tostring(c2))

-- c1 takes c2's descriptor: data sent by a2 arrives through c1 and back.
c1:setfd(fd2)
eq("getfd gives the new descriptor", c1:getfd(), fd2)
a2:send("moved\n")
eq("received through the new descriptor", c1:receive(), "moved")
c1:send("back\n")
eq("sent through the new descriptor", a2:receive(), "back")

-- The old descriptor is still open: c2 takes it and talks to a1.
c2:setfd(fd1)
eq("c2 getfd", c2:getfd(), fd1)
a1:send("still open\n")
eq("old descriptor still connected", c2:receive(), "still open")

-- Arguments: a number is needed, negatives detach, fractions truncate.
check("string raises", not pcall(c1.setfd, c1, "x"))
check("missing fd raises", not pcall(c1.setfd, c1))
check("non-socket object raises", not pcall(c1.setfd, {}, 3))
check("huge fd raises", not pcall(c1.setfd, c1, 1e12))
eq("huge fd leaves the descriptor", c1:getfd(), fd2)
c1:setfd(-5)
eq("any negative detaches", c1:getfd(), -1)
c1:setfd(fd2 + 0.5)
eq("fractions truncate", c1:getfd(), fd2)
c1:setfd(-1)
c2:close()
check("closed object refuses a descriptor", not pcall(c2.setfd, c2, fd2))
c2:setfd(-1) -- nothing to let go of: fine
c1:setfd(fd2)
eq("detached client reattached", c1:getfd(), fd2)
a2:send("again\n")
eq("reattached client receives", c1:receive(), "again")

-- A server stays a server; a master holds what it is given.
local sfd = server:getfd()
server:setfd(-1)
local m = socket.tcp()
m:setfd(sfd)
eq("master getfd", m:getfd(), sfd)
check("master stays a master", string.find(tostring(m), "^tcp{master}") ~= nil, tostring(m))
m:setfd(-1)
server:setfd(sfd)
local c3 = assert(socket.connect("127.0.0.1", port))
check("server accepts on its descriptor again", server:accept() ~= nil)
c3:close()

-- UDP: a datagram sent to the new descriptor's port arrives.
local u1 = assert(socket.udp())
local u2 = assert(socket.udp())
assert(u1:setsockname("127.0.0.1", 0))
assert(u2:setsockname("127.0.0.1", 0))
local _, p2 = u2:getsockname()
u1:settimeout(5)
local ufd1, ufd2 = u1:getfd(), u2:getfd()
eq("udp setfd returns nothing", select("#", u2:setfd(-1)), 0)
eq("udp detached getfd", u2:getfd(), -1)
local _, uerr = u2:receive()
eq("udp detached receive", uerr, "closed")
u1:setfd(ufd2)
eq("udp getfd gives the new descriptor", u1:getfd(), ufd2)
local sender = assert(socket.udp())
assert(sender:sendto("datagram", "127.0.0.1", p2))
eq("udp datagram through the new descriptor", u1:receive(), "datagram")
check("udp string raises", not pcall(u1.setfd, u1, "x"))
u2:setfd(ufd1) -- the old descriptor goes back to an object that closes it
eq("udp old descriptor kept open", u2:getfd(), ufd1)
check("udp old descriptor usable", u2:getsockname() == "127.0.0.1")

for _, s in ipairs({c1, c2, a1, a2, server, m, u1, u2, sender}) do s:close() end
full_gc()
local fds_after = count_fds()
if fds_before and fds_after then
    eq("no descriptor leaked", fds_after, fds_before)
end
done()
