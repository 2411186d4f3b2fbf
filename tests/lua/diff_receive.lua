-- Differential test: receive patterns, prefixes, partial results and send ranges.
-- scripts/test-lua.sh runs this once with LuaSocket 3 and once with sockit; the output
-- must be the same. Output is deterministic: no ports, no addresses that vary, no times.
local socket = require("socket")

local function show(...)
    local out = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) == "string" then
            out[#out + 1] = string.format("%q", v)
        else
            out[#out + 1] = tostring(v)
        end
    end
    print(table.concat(out, " "))
end

local server = assert(socket.bind("127.0.0.1", 0))
local ip, port = server:getsockname()
server:settimeout(5)

local function pair()
    local c = assert(socket.connect(ip, port))
    local a = assert(server:accept())
    c:settimeout(5)
    a:settimeout(5)
    return c, a
end

local c, a = pair()

print("-- lines")
c:send("one\r\ntwo\nth\rree\r\n\nlast")
show(a:receive())
show(a:receive("*l"))
show(a:receive("*l"))
show(a:receive("*l"))
show(a:receive(4))

print("-- counts and prefixes")
c:send("abcdefghij")
show(a:receive(3))
show(a:receive(0))
show(a:receive(2, "pre-"))
show(a:receive(5, ""))
c:send("line\n")
show(a:receive("*l", ">>"))

print("-- partial data on timeout")
a:settimeout(0.05)
c:send("part")
show(a:receive(10))
c:send("ial\n")
a:settimeout(5)
show(a:receive())
a:settimeout(0.05)
c:send("no newline")
show(a:receive("*l"))
a:settimeout(0)
show(a:receive(3))
a:settimeout(5)

print("-- *a and partial data on close")
c:send("all of it\nand more")
c:close()
show(a:receive("*a"))
show(a:receive("*a"))
show(a:receive("*l"))
show(a:receive(1))
a:close()

c, a = pair()
c:send("unfinished")
c:close()
show(a:receive("*l"))
a:close()

c, a = pair()
c:send("12345")
c:close()
show(a:receive(8))
a:close()

print("-- send ranges")
c, a = pair()
show(c:send("hello"))
show(c:send("hello", 2))
show(c:send("hello", 2, 3))
show(c:send("hello", -2))
show(c:send("hello", -3, -2))
show(c:send(""))
show(c:send("hello", 1, 0))
show(a:receive(5 + 4 + 2 + 2 + 2))

print("-- stats")
local r, s = c:getstats()
show(r, s)
r, s = a:getstats()
show(r, s)

print("-- names")
local sip, _, sfam = c:getsockname()
local pip, pport, pfam = c:getpeername()
show(sip, sfam, pip, pport == port, pfam)
show(c:getfamily(), server:getfamily())

print("-- closed objects")
c:close()
show(c:send("x"))
show(c:receive())
show(c:close())
show(tostring(c):match("^[^:]*"))
a:close()
server:close()
show(tostring(server):match("^[^:]*"))

print("-- errors")
local probe = assert(socket.bind("127.0.0.1", 0))
local _, dead = probe:getsockname()
probe:close()
show(socket.connect("127.0.0.1", dead))
show(pcall(function() return a:receive("*x") end))
show(pcall(function() return a:receive({}) end))
show(pcall(function() return socket.tcp():receive() end))
show(pcall(function() return server:send("x") end))
