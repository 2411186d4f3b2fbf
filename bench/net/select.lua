-- select.lua: LuaSocket 3's socket.select over many idle sockets and one active one,
-- the comparison side of bench_select.c (run under lua5.1 with Debian's lua-socket).
--
--   lua5.1 select.lua PORT [idle [calls [rounds]]]   (defaults: 1000, 5000, 5)
--
-- Connects idle + 1 sockets to the holder at 127.0.0.1:PORT (bench/net/holder.c), makes
-- the last one active (it sends a byte; the holder's echo is never read), then times
-- `calls` calls of socket.select(sockets, nil, 1) per round. Every call must return just
-- the active socket. Prints "RESULT select_lua_best|median <microseconds per call>".
local socket = require "socket"

local port = assert(tonumber(arg[1]), "usage: select.lua PORT [idle [calls [rounds]]]")
local idle = tonumber(arg[2]) or 1000
local calls = tonumber(arg[3]) or 5000
local rounds = tonumber(arg[4]) or 5
local n = idle + 1

local socks = {}
for i = 1, n do
    local s, err = socket.connect("127.0.0.1", port)
    if not s then error("connect " .. i .. ": " .. tostring(err)) end
    socks[i] = s
end
local active = socks[n]
assert(active:send("x"))
local r = socket.select({ active }, nil, 10)
assert(r[1] == active, "no echo from the holder")
print(string.format("  %s, %d sockets (%d idle + 1 active), %d calls per round, %d rounds",
    socket._VERSION, n, idle, calls, rounds))

local select = socket.select
local times = {}
for round = 1, rounds do
    local t0 = socket.gettime()
    for _ = 1, calls do
        local rr, _, err = select(socks, nil, 1)
        if rr[1] ~= active or rr[2] then error("select: " .. tostring(err)) end
    end
    times[round] = (socket.gettime() - t0) / calls * 1e6
    print(string.format("  select round %d: LuaSocket socket.select %.2f us per call",
        round, times[round]))
    io.stdout:flush()
end
table.sort(times)
print(string.format("RESULT select_lua_best %.3f", times[1]))
print(string.format("RESULT select_lua_median %.3f", times[math.floor((rounds + 1) / 2)]))
for i = 1, n do socks[i]:close() end
