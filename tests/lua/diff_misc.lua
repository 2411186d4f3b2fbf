-- Differential test: protect / try / newtry / skip / choose, DNS on loopback names,
-- UDP objects, socket sources and sinks, argument errors.
-- Run under LuaSocket 3 and under sockit by scripts/test-lua.sh; outputs must match.
local socket = require("socket")

local function show(...)
    local out = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) == "string" then
            out[#out + 1] = string.format("%q", v)
        elseif type(v) == "table" or type(v) == "userdata" or type(v) == "function" then
            out[#out + 1] = type(v)
        else
            out[#out + 1] = tostring(v)
        end
    end
    print(table.concat(out, " "))
end

print("-- skip")
show(socket.skip(1, "a", "b", "c"))
show(socket.skip(0, "a"))
show(socket.skip(3, "a"))
show(select("#", socket.skip(1, 1, nil, nil)))
show(pcall(socket.skip))

print("-- protect, try, newtry")
local f = socket.protect(function(x, y) return socket.try(x, y) end)
show(f(1, 2))
show(f(nil, "failed"))
show(f(false, "false too"))
show(f())
show(socket.protect(function() return 1, nil, 3 end)())
local ok, e = pcall(socket.protect(function() error("plain error", 0) end))
show(ok, e)
ok, e = pcall(socket.protect(function() error({"table error"}) end))
show(ok, type(e), e[1])
local log = {}
local try = socket.newtry(function() log[#log + 1] = "finalized" end)
show(socket.protect(function() return try(nil, "with finalizer") end)())
show(#log, log[1])
show(socket.protect(function() return try(1, 2, 3) end)())
show(#log)
ok, e = pcall(socket.try, nil, "uncaught")
show(ok, type(e), e[1])

print("-- choose")
local c = socket.choose({
    a = function(x, y) return "a", x, y end,
    default = function(x, y) return "default", x, y end,
})
show(c("a", 1, 2))
show(c(1, 2))
show(pcall(c, "zz"))

print("-- dns")
show(socket.dns.toip("localhost"))
local ip, info = socket.dns.toip("127.0.0.1")
show(ip, info.ip[1])
local ai = socket.dns.getaddrinfo("127.0.0.1")
show(#ai, ai[1].family, ai[1].addr)
local names, serv = socket.dns.getnameinfo(nil, 80)
show(#names, serv)
show(type(socket.dns.gethostname()))

print("-- udp")
local u = assert(socket.udp())
show(tostring(u):match("^[^:]*"))
show(u:setsockname("127.0.0.1", 0))
local uip, uport, ufam = u:getsockname()
show(uip, type(uport), ufam)
u:settimeout(2)
local v = assert(socket.udp4())
show(v:sendto("datagram", uip, uport))
local data, fip, fport = u:receivefrom()
show(data, fip, type(fport))
show(v:setpeername(uip, uport))
show(tostring(v):match("^[^:]*"))
show(v:send("abcdef"))
show(u:receive(3))
show(v:send(""))
show(u:receive())
show(pcall(v.sendto, v, "x", uip, uport))
show(pcall(u.getpeername, u))
local pip, pport, pfam = v:getpeername()
show(pip, type(pport), pfam)
show(v:setpeername("*"))
show(tostring(v):match("^[^:]*"))
u:settimeout(0)
show(u:receive())
show(u:setoption("broadcast", true))
show(u:getoption("broadcast"))
show(pcall(u.setoption, u, "no-such-option", 1))
show(pcall(u.receive, u, "x"))
show(u:close())
show(v:close())

print("-- sources and sinks")
local server = assert(socket.bind("127.0.0.1", 0))
local sip, sport = server:getsockname()
server:settimeout(5)
local cl = assert(socket.connect(sip, sport))
local sv = assert(server:accept())
sv:settimeout(5)
local sink = socket.sink("keep-open", cl)
show(sink("chunk one "))
show(sink("chunk two"))
show(sink(nil))
local src = socket.source("by-length", sv, 12)
show(src())
show(src())
local close_sink = socket.sink("close-when-done", cl)
close_sink(" and the rest")
show(close_sink(nil))
local all = socket.source("until-closed", sv)
show(all())
show(all())
show(pcall(socket.sink, "no-such-mode", cl))
server:close()

print("-- argument errors")
show(pcall(socket.connect))
show(pcall(socket.tcp().settimeout, socket.tcp(), "x"))
show(pcall(socket.select, 1))
show(pcall(socket.sleep))
show(pcall(socket.dns.toip))

print("-- socket.headers")
local headers = require("socket.headers")
show(socket.headers == headers)
for _, name in ipairs({"content-type", "content-length", "www-authenticate", "etag", "te",
    "content-md5", "message-id", "mime-version", "user-agent", "x-mailer", "cc", "reply-to",
    "content-transfer-encoding", "if-modified-since"}) do
    show(name, headers.canonic[name])
end
