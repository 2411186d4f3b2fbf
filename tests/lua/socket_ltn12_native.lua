-- ltn12 / mime native pipelines: stages made by sockit compose into sockit pipelines,
-- pumping them calls no Lua function, composed parts are consumed, borrowed strings stay
-- alive, and big transfers come out right.
dofile("tests/lua/testlib.lua")
local ltn12 = require("ltn12")
local mime = require("mime")
local kind = require("ltn12.core").kind

eq("string source is native", kind(ltn12.source.string("x")), "source")
eq("mime filter is native", kind(mime.encode("base64")), "filter")
eq("null sink is native", kind(ltn12.sink.null()), "sink")
eq("chain of native filters is native", kind(ltn12.filter.chain(mime.normalize(), mime.encode("base64"), mime.wrap())), "filter")
eq("chained source is native", kind(ltn12.source.chain(ltn12.source.string("x"), mime.encode("base64"))), "source")
eq("cat of native sources is native", kind(ltn12.source.cat(ltn12.source.string("a"), ltn12.source.empty())), "source")
eq("chained sink is native", kind(ltn12.sink.chain(mime.encode("base64"), ltn12.sink.null())), "sink")
eq("a Lua filter makes the chain Lua", kind(ltn12.filter.chain(mime.encode("base64"), function(c) return c end)), nil)

-- pumping native stages runs no Lua function
local big = string.rep("sockit native pipeline ", 400000) -- 9.2 MB
local src = ltn12.source.chain(ltn12.source.string(big),
    ltn12.filter.chain(mime.encode("base64"), mime.wrap("base64"), mime.decode("base64")))
local calls = 0
debug.sethook(function() calls = calls + 1 end, "c")
local ok, err = ltn12.pump.all(src, ltn12.sink.null())
debug.sethook()
eq("native pump.all", ok, 1)
-- (a handful of calls to set the pump up; a Lua pump would make thousands: one per chunk)
check("no function called per chunk while pumping 9 MB", calls < 20, calls)

-- the same round trip, collected through a Lua table sink
local t = {}
ok = ltn12.pump.all(ltn12.source.chain(ltn12.source.string(big),
    ltn12.filter.chain(mime.encode("base64"), mime.wrap(), mime.decode("base64"))), (ltn12.sink.table(t)))
eq("pump into a table sink", ok, 1)
check("base64 round trip of 9 MB", table.concat(t) == big, #table.concat(t))

-- composed parts stay usable and share their state with the composite, as LuaSocket's
-- closures do
local f = mime.encode("base64")
local s = ltn12.source.chain(ltn12.source.string("abc"), f)
check("a chained filter can still be called", pcall(f, "x"))
eq("the composite continues the filter's state", s(), "eGFi")
eq("then gives the rest", s(), "Yw==")

-- a string source keeps its string alive after every reference is dropped
local src2 = ltn12.source.chain(ltn12.source.string(string.rep("z", 100000) .. "end"), mime.encode("base64"))
collectgarbage("collect")
collectgarbage("collect")
local t2 = {}
ltn12.pump.all(src2, (ltn12.sink.table(t2)))
eq("borrowed string survived a collection", (mime.unb64(table.concat(t2))), string.rep("z", 100000) .. "end")

-- errors from native stages
ok, err = ltn12.pump.all(ltn12.source.error("native source failed"), ltn12.sink.null())
eq("source error", err, "native source failed")
ok, err = ltn12.pump.all(ltn12.source.string("x"), ltn12.sink.chain(mime.encode("base64"), ltn12.sink.error("native sink failed")))
eq("sink error through a chain", err, "native sink failed")
local r = ltn12.source.rewind(ltn12.source.string("abc"))
eq("rewind is native", kind(r), "source")
local c = r()
r("X")
eq("rewind gives the chunk back first", r(), "X")
eq("a non-rewindable source ignores an argument (as LuaSocket's)", ltn12.source.string("q")("back"), "q")
done()
