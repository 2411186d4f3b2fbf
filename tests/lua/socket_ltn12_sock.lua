-- socket_ltn12_sock.lua: native LTN12 socket stages (ltn12.core.socket_source /
-- socket_sink over sockit's socket sources and sinks) in native pipelines over loopback.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")

local socket = require("socket")
local ltn12 = require("ltn12")
local mime = require("mime")
local core = require("ltn12.core")

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()

local function pair()
    local c = assert(socket.connect("127.0.0.1", port))
    local a = assert(server:accept())
    c:settimeout(5)
    a:settimeout(5)
    return c, a
end

local function lua_calls(f, ...)
    local n = 0
    debug.sethook(function()
        local info = debug.getinfo(2, "S")
        if info and info.what == "Lua" then n = n + 1 end
    end, "c")
    local r = { pcall(f, ...) }
    debug.sethook()
    return n, unpack(r)
end

local data = {}
for i = 1, 20000 do data[i] = string.format("%05d\n", i) end
data = table.concat(data) -- 120000 bytes

-- until-closed / close-when-done, every stage native
local c, a = pair()
eq("socket sink is native", core.kind(core.socket_sink("close-when-done", c)), "sink")
local n, ok, ret = lua_calls(ltn12.pump.all, ltn12.source.chain(ltn12.source.string(data),
    mime.encode("base64")), core.socket_sink("close-when-done", c))
check("pump into a socket sink", ok and ret == 1, ret)
eq("no Lua called while sending", n, 1)
local t = {}
n, ok, ret = lua_calls(ltn12.pump.all, ltn12.source.chain(core.socket_source("until-closed", a),
    mime.decode("base64")), (ltn12.sink.table(t)))
check("pump from an until-closed socket source", ok and ret == 1, ret)
eq("no Lua called while receiving", n, 1)
check("data through both sockets", table.concat(t) == data, #table.concat(t))
eq("close-when-done closed the sender", select(2, c:send("x")), "closed")

-- by-length, keep-open; the socket stays usable
c, a = pair()
local snk = core.socket_sink("keep-open", c)
eq("keep-open sink returns the length", snk("hello world"), 11)
eq("keep-open end", snk(nil), 1)
c:send("rest\n")
local src = core.socket_source("by-length", a, 5)
eq("by-length chunk", src(), "hello")
eq("by-length end", src(), nil)
eq("socket still usable after by-length", a:receive("*l"), " worldrest")
c:close()
a:close()

-- http-chunked both ways, trailers into the headers table
c, a = pair()
check("chunked sink pump", ltn12.pump.all(ltn12.source.string(data), core.socket_sink("http-chunked", c)) == 1)
c:send("x") -- the next message's first byte
local headers = {}
t = {}
check("chunked source pump", ltn12.pump.all(core.socket_source("http-chunked", a, headers),
    (ltn12.sink.table(t))) == 1)
check("chunked data", table.concat(t) == data)
eq("nothing read past the body", a:receive(1), "x")
c:send("5\r\nabcde\r\n0\r\nX-Sum: 42\r\nX-Sum: 43\r\n\r\n")
headers = {}
src = core.socket_source("http-chunked", a, headers)
eq("chunked by hand", src(), "abcde")
eq("chunked end", src(), nil)
eq("trailers", headers["x-sum"], "42, 43")

-- errors: timeout and peer gone deliver what came first
c, a = pair()
a:settimeout(0.2)
c:send("partial")
src = core.socket_source("by-length", a, 100)
local chunk, err = src()
eq("partial data before the timeout", chunk, "partial")
chunk, err = src()
eq("then the timeout", err, "timeout")
c:close()
chunk, err = core.socket_source("by-length", a, 100)()
eq("a new source then sees the close", err, "closed")
a:close()

-- select accepts socket stages (getfd / dirty)
c, a = pair()
src = core.socket_source("until-closed", a)
check("getfd of a socket stage", type(src:getfd()) == "number" and src:getfd() >= 0)
c:send("z")
local r = socket.select({ src }, nil, 2)
eq("select on a socket stage", r[1], src)
c:close()
a:close()

-- bad arguments
check("unknown mode", not pcall(core.socket_source, "sideways", a))
check("not a socket", not pcall(core.socket_sink, "keep-open", {}))
server:close()
done()
