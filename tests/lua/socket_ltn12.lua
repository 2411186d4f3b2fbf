-- socket_ltn12.lua: sockit's native LTN12 stages under Lua 5.1 / LuaJIT: pipelines of
-- native stages run without calling Lua, Lua stages mix in anywhere, composites keep
-- their parts alive, errors keep their values, large data comes through intact.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")

local ltn12 = require("ltn12")
local mime = require("mime")
local core = ltn12._sockit

check("ltn12 is sockit's", core ~= nil)

-- Counts calls of Lua functions while f runs.
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

local function lcg(n)
    local seed, t = 7, {}
    for i = 1, n do
        seed = (seed * 1103515245 + 12345) % 2147483648
        t[i] = string.char(seed % 256)
    end
    return table.concat(t)
end

local data = lcg(300000)

-- What is native.
eq("string source is native", core.kind(ltn12.source.string("x")), "source")
eq("table sink is native", core.kind((ltn12.sink.table())), "sink")
eq("null sink is native", core.kind(ltn12.sink.null()), "sink")
eq("base64 filter is native", core.kind(mime.encode("base64")), "filter")
eq("qp filter is native", core.kind(mime.encode("quoted-printable")), "filter")
eq("wrap filter is native", core.kind(mime.wrap()), "filter")
eq("normalize filter is native", core.kind(mime.normalize()), "filter")
eq("stuff filter is native", core.kind(mime.stuff()), "filter")
eq("native chain is native", core.kind(ltn12.filter.chain(mime.encode("base64"), mime.wrap())), "filter")
eq("chained source is native", core.kind(ltn12.source.chain(ltn12.source.string("x"),
    mime.encode("base64"))), "source")
eq("chained sink is native", core.kind(ltn12.sink.chain(mime.encode("base64"), ltn12.sink.null())),
    "sink")
eq("cat is native", core.kind(ltn12.source.cat(ltn12.source.string("a"), ltn12.source.empty())),
    "source")
eq("rewind is native", core.kind(ltn12.source.rewind(ltn12.source.string("a"))), "source")
eq("lua filter makes a Lua chain", core.kind(ltn12.filter.chain(mime.encode("base64"),
    function(c) return c end)), nil)
eq("cycle of a Lua function is Lua", core.kind(ltn12.filter.cycle(function() end, 0)), nil)

-- A native pipeline runs without calling Lua.
local t = {}
local src = ltn12.source.chain(ltn12.source.string(data), mime.encode("base64"), mime.wrap("base64"))
local snk = ltn12.sink.table(t)
local n, ok, ret = lua_calls(ltn12.pump.all, src, snk)
check("native pump ran", ok and ret == 1, tostring(ret))
eq("native pump called no Lua function", n, 1) -- pump.all itself
local encoded = table.concat(t)
local back = {}
ltn12.pump.all(ltn12.source.chain(ltn12.source.string(encoded), mime.decode("base64")),
    (ltn12.sink.table(back)))
check("base64 round trip of 300000 bytes", table.concat(back) == data)

-- The same with a Lua filter in the middle calls Lua for each chunk and gives the same.
local t2 = {}
local function same(c) return c end
n = lua_calls(ltn12.pump.all, ltn12.source.chain(ltn12.source.string(data), mime.encode("base64"),
    same, mime.wrap("base64")), (ltn12.sink.table(t2)))
check("mixed pipeline calls Lua", n > 100, n)
check("mixed pipeline gives the same", table.concat(t2) == encoded)

-- Lua sources and sinks with native filters.
local parts, k = {}, 0
local function luasrc()
    k = k + 1
    if k <= 30 then return data:sub((k - 1) * 10000 + 1, k * 10000) end
end
local got = {}
local function luasnk(chunk)
    if chunk then got[#got + 1] = chunk end
    return 1
end
check("Lua source, native chain, Lua sink", ltn12.pump.all(ltn12.source.chain(luasrc,
    mime.encode("base64"), mime.wrap("base64")), luasnk) == 1)
check("Lua ends give the same", table.concat(got) == encoded)

-- Composites keep their parts alive.
do
    local s = ltn12.source.chain(ltn12.source.string(string.rep("abc", 5000)),
        ltn12.filter.chain(mime.encode("base64"), mime.wrap("text", 50)))
    local sk = ltn12.sink.chain(mime.decode("base64"), (ltn12.sink.table(parts)))
    collectgarbage("collect")
    collectgarbage("collect")
    check("composite after collection", ltn12.pump.all(s, sk) == 1)
    eq("composite output", table.concat(parts), string.rep("abc", 5000))
end

-- Many stages made and dropped.
for i = 1, 2000 do
    local s = ltn12.source.chain(ltn12.source.string("x" .. i), mime.encode("base64"))
    local tt = {}
    ltn12.pump.all(s, (ltn12.sink.table(tt)))
    if i % 500 == 0 then collectgarbage("collect") end
end
collectgarbage("collect")
check("2000 pipelines made and collected", true)

-- Errors: values of any type come back unchanged; raised errors propagate.
local errv = { "mine" }
local r1, r2 = ltn12.pump.all(ltn12.source.chain(function() return nil, errv end,
    mime.encode("base64")), ltn12.sink.null())
check("error value through a native filter", r1 == nil and r2 == errv, tostring(r2))
r1, r2 = ltn12.pump.all(ltn12.source.string("abc"), ltn12.sink.chain(mime.encode("base64"),
    function(c, e) if c then return nil, errv end return 1 end))
check("error value from a Lua sink", r1 == nil and r2 == errv, tostring(r2))
r1, r2 = ltn12.pump.all(ltn12.source.string("abc"), ltn12.sink.error("full"))
check("native sink error", r1 == nil and r2 == "full", tostring(r2))
r1, r2 = ltn12.pump.all(ltn12.source.error("empty"), ltn12.sink.chain(mime.encode("base64"),
    ltn12.sink.null()))
check("native source error", r1 == nil and r2 == "empty", tostring(r2))
local okr, msg = pcall(ltn12.pump.all, ltn12.source.string("abc"), function(c)
    if c then error("sink raised") end
    return 1
end)
check("raised error propagates", not okr and tostring(msg):find("sink raised") ~= nil, msg)

-- A table sink keeps every chunk (the same chunks as LuaSocket).
t = {}
ltn12.pump.all(ltn12.source.string(string.rep("z", 5000)), (ltn12.sink.table(t)))
eq("table sink chunks", #t, 3)
eq("table sink first chunk", #t[1], 2048)

-- File stages: a large file through a native pipeline, and back.
local name = os.tmpname()
local fh = io.open(name, "wb")
check("file sink pump", ltn12.pump.all(ltn12.source.string(data), ltn12.sink.file(fh)) == 1)
eq("file sink closed its file", io.type(fh), "closed file")
fh = io.open(name, "rb")
t = {}
n, ok, ret = lua_calls(ltn12.pump.all, ltn12.source.chain(ltn12.source.file(fh),
    mime.encode("base64")), (ltn12.sink.table(t)))
check("file source pump is native", ok and ret == 1 and n == 1, n)
check("file source data", table.concat(t) == mime.b64(data))
eq("file source closed its file", io.type(fh), "closed file")
-- Lua writes and native writes to one file stay in order.
fh = io.open(name, "wb")
fh:write("head ")
local fs = ltn12.sink.file(fh)
fs("middle ")
fh:write("more ")
fs("tail")
fs(nil)
fh = io.open(name, "rb")
eq("interleaved writes", fh:read("*a"), "head middle more tail")
fh:close()
os.remove(name)

-- Rewind and cat natively.
local rw = ltn12.source.rewind(ltn12.source.string("abcdef"))
local c1 = rw()
rw(c1)
rw("<")
t = {}
ltn12.pump.all(rw, (ltn12.sink.table(t)))
eq("rewind pump", table.concat(t), "<abcdef")
t = {}
ltn12.pump.all(ltn12.source.cat(ltn12.source.string("one "), ltn12.source.chain(
    ltn12.source.string("two"), mime.encode("base64")), ltn12.source.string(" three")),
    (ltn12.sink.table(t)))
eq("cat pump", table.concat(t), "one dHdv three")

-- Steps.
src = ltn12.source.string(string.rep("s", 4100))
t = {}
snk = ltn12.sink.table(t)
local steps = 0
while ltn12.pump.step(src, snk) do steps = steps + 1 end
eq("pump.step count", steps, 3)
eq("pump.step data", #table.concat(t), 4100)

-- Coroutines: a Lua source that yields between native pumps.
local co = coroutine.wrap(function()
    local acc = {}
    for i = 1, 3 do
        local tt = {}
        ltn12.pump.all(ltn12.source.chain(ltn12.source.string("c" .. i), mime.encode("base64")),
            (ltn12.sink.table(tt)))
        acc[#acc + 1] = table.concat(tt)
        coroutine.yield(i)
    end
    return table.concat(acc, ",")
end)
co()
co()
co()
eq("pumps inside a coroutine", co(), "YzE=,YzI=,YzM=")

done()
