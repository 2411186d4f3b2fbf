-- diff_ltn12.lua: differential test of require "ltn12": sources, sinks, filters and
-- pumps, native and Lua stages mixed. scripts/test-lua.sh runs it under LuaSocket 3 and
-- under sockit; the outputs must be identical.

local ltn12 = require("ltn12")
local mime = require("mime")

local function show(...)
    local out = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) == "string" then
            out[#out + 1] = string.format("%q", v)
        elseif type(v) == "table" then
            local parts = {}
            for k = 1, #v do parts[k] = string.format("%q", v[k]) end
            out[#out + 1] = "{" .. table.concat(parts, ",") .. "}"
        else
            out[#out + 1] = tostring(v)
        end
    end
    return table.concat(out, ", ")
end

local function line(label, ...)
    print(label .. ": " .. show(...))
end

-- Every result of pulling a source until it ends (bounded).
local function drain(src, max)
    local got = {}
    for i = 1, max or 50 do
        local chunk, err = src()
        got[#got + 1] = show(chunk, err)
        if not chunk then break end
    end
    return table.concat(got, " | ")
end

local function pumpall(src, snk, step)
    return ltn12.pump.all(src, snk, step)
end

print("version " .. ltn12._VERSION .. " blocksize " .. ltn12.BLOCKSIZE)

local data = {}
for i = 1, 700 do data[i] = string.format("%04d,", i) end
data = table.concat(data) -- 3500 bytes

-- Sources
line("string", drain(ltn12.source.string("hello")))
line("string empty", drain(ltn12.source.string("")))
line("string nil", drain(ltn12.source.string(nil)))
line("string long", drain(ltn12.source.string(data)))
line("empty", drain(ltn12.source.empty()))
line("error", drain(ltn12.source.error("boom"), 3))
line("table", drain(ltn12.source.table({ "a", "b", "c" })))
line("cat", drain(ltn12.source.cat(ltn12.source.string("ab"), ltn12.source.empty(),
    ltn12.source.string("cd"))))
line("cat error", drain(ltn12.source.cat(ltn12.source.string("ab"), ltn12.source.error("bad"),
    ltn12.source.string("cd")), 5))
line("cat mixed", drain(ltn12.source.cat(ltn12.source.table({ "x", "y" }), ltn12.source.string("z"))))
line("cat none", drain(ltn12.source.cat()))

local r = ltn12.source.rewind(ltn12.source.string("abc"))
local first = r()
r(first)
r("zz")
line("rewind", drain(r))
r = ltn12.source.rewind(ltn12.source.table({ "p", "q" }))
local p = r()
r(p)
line("rewind lua", drain(r))

local fancy_calls = 0
local function fancy()
    fancy_calls = fancy_calls + 1
    if fancy_calls == 1 then return "one", nil end
    return nil, ltn12.source.string("two")
end
line("simplify", (drain(ltn12.source.simplify(fancy), 4):gsub("0x%x+", "ADDR"):gsub("ltn12 source", "function")))
line("simplify native", drain(ltn12.source.simplify(ltn12.source.string("nat"))))

-- Chained sources
local function upper(chunk)
    if chunk then return string.upper(chunk) end
    return nil
end
local function double(chunk)
    if chunk then return chunk .. chunk end
    return nil
end
line("chain lua filter", drain(ltn12.source.chain(ltn12.source.string("abc"), upper)))
line("chain two", drain(ltn12.source.chain(ltn12.source.string("abc"), upper, double)))
line("chain native", drain(ltn12.source.chain(ltn12.source.string("hello world"), mime.encode("base64"))))
line("chain natives", drain(ltn12.source.chain(ltn12.source.string(data), mime.encode("base64"),
    mime.wrap("base64"))))
line("chain lua source", drain(ltn12.source.chain(ltn12.source.table({ "ab", "c", "def" }),
    mime.encode("base64"))))
line("chain error", drain(ltn12.source.chain(ltn12.source.error("fail"), mime.encode("base64")), 3))

-- Sinks
local t = {}
local snk = ltn12.sink.table(t)
line("table sink", snk("a"), snk(""), snk("b"), snk(nil, "err"), snk(nil), t)
local t2
snk, t2 = ltn12.sink.table()
line("table sink new", type(t2), snk("x"), t2)
local nsnk = ltn12.sink.null()
line("null", nsnk("x"), nsnk(nil), nsnk(nil, "e"))
local esnk = ltn12.sink.error("no way")
line("error sink", esnk("x"), esnk(nil))

local calls = {}
local function recorder(chunk, err)
    calls[#calls + 1] = show(chunk, err)
    return 1
end
local csnk = ltn12.sink.chain(mime.encode("base64"), recorder)
csnk("abcd")
csnk("e")
csnk(nil)
line("sink chain", table.concat(calls, " | "))
t = {}
csnk = ltn12.sink.chain(upper, (ltn12.sink.table(t)))
line("sink chain lua filter", csnk("ab"), csnk("cd"), csnk(nil), t)
t = {}
csnk = ltn12.sink.chain(mime.encode("base64"), mime.wrap("text", 8), (ltn12.sink.table(t)))
line("sink chain natives", csnk(data:sub(1, 30)), csnk(nil), table.concat(t))

local count = 0
local function fancysink(chunk, err)
    count = count + 1
    return 1, function(c, e) count = count + 100 return 1 end
end
local ssnk = ltn12.sink.simplify(fancysink)
ssnk("a")
ssnk("b")
line("sink simplify", count)

-- Pumps
t = {}
line("pump all", pumpall(ltn12.source.string(data), (ltn12.sink.table(t))), #table.concat(t), #t)
t = {}
line("pump all lua source", pumpall(ltn12.source.table({ "a", "b" }), (ltn12.sink.table(t))), t)
calls = {}
line("pump all lua sink", pumpall(ltn12.source.string("xyz"), recorder), table.concat(calls, " | "))
t = {}
line("pump all error", pumpall(ltn12.source.error("src failed"), (ltn12.sink.table(t))), t)
line("pump all sink error", pumpall(ltn12.source.string("abc"), ltn12.sink.error("sink failed")))
local function failing(chunk, err)
    if chunk == nil then return 1 end
    return nil, "refused " .. chunk
end
line("pump all lua sink error", pumpall(ltn12.source.string("abc"), failing))
t = {}
local src = ltn12.source.string("abcdef")
snk = ltn12.sink.table(t)
line("pump step", ltn12.pump.step(src, snk), t)
line("pump step end", ltn12.pump.step(src, snk), ltn12.pump.step(src, snk), t)
local s1, s2 = ltn12.source.string("ab"), ltn12.sink.null()
line("pump step results", ltn12.pump.step(s1, s2), ltn12.pump.step(s1, s2))
line("pump step lua results", ltn12.pump.step(ltn12.source.table({}), ltn12.sink.null()))
t = {}
line("pump all step", pumpall(ltn12.source.string(data), ltn12.sink.table(t), ltn12.pump.step), #t)
local steps = 0
local function mystep(s, k)
    steps = steps + 1
    return ltn12.pump.step(s, k)
end
t = {}
line("pump all custom step", pumpall(ltn12.source.string(data), ltn12.sink.table(t), mystep), steps,
    #table.concat(t))
local errv = { code = 42 }
line("pump error value", select(2, pumpall(function() return nil, errv end, ltn12.sink.null())) == errv)

-- The block size matters to string sources and pumps.
ltn12.BLOCKSIZE = 1000
t = {}
line("blocksize 1000", pumpall(ltn12.source.string(data), (ltn12.sink.table(t))), #t, #t[1])
ltn12.BLOCKSIZE = 2048

-- Filters
local fc = ltn12.filter.chain(upper, double)
line("filter chain lua", fc("ab"), fc(""), fc("c"), fc(nil))
fc = ltn12.filter.chain(mime.encode("base64"), mime.wrap("text", 6))
line("filter chain native", fc("hello"), fc(""), fc(" world"), fc(""), fc(nil), fc(nil))
local cyc = ltn12.filter.cycle(function(ctx, chunk, extra)
    if not chunk then return nil, ctx end
    return chunk .. extra .. ctx, ctx + 1
end, 1, ":")
line("cycle lua", cyc("a"), cyc("b"), cyc(nil))

-- Files
local name = os.tmpname()
local fh = io.open(name, "wb")
line("file sink", pumpall(ltn12.source.string(data), ltn12.sink.file(fh)), io.type(fh))
fh = io.open(name, "rb")
t = {}
line("file source", pumpall(ltn12.source.file(fh), (ltn12.sink.table(t))), #t, table.concat(t) == data,
    io.type(fh))
line("file source nil", drain(ltn12.source.file(nil, "cannot open"), 2))
line("file source nil default", drain(ltn12.source.file(nil), 2))
line("file sink nil", ltn12.sink.file(nil, "nope")("x"))
fh = io.open(name, "rb")
local fsrc = ltn12.source.file(fh)
line("file source by hand", #fsrc(), #fsrc(), fsrc(), io.type(fh))
fh = io.open(name, "wb")
local fsnk = ltn12.sink.file(fh)
line("file sink by hand", fsnk("one "), fsnk("two"), fsnk(nil), io.type(fh))
fh = io.open(name, "rb")
line("file contents", fh:read("*a"))
fh:close()
fh = io.open(name, "wb")
t = {}
line("file chain", pumpall(ltn12.source.chain(ltn12.source.string(data), mime.encode("base64")),
    ltn12.sink.chain(mime.wrap("base64"), ltn12.sink.file(fh))), io.type(fh))
fh = io.open(name, "rb")
local encoded = fh:read("*a")
fh:close()
line("file chain contents", #encoded, encoded:sub(1, 90))
os.remove(name)

-- Errors raised inside stages propagate.
line("raise in source", pcall(pumpall, function() error("src raised", 0) end, ltn12.sink.null()))
line("raise in sink", pcall(pumpall, ltn12.source.string("x"), function(c) if c then error("snk raised", 0) end return 1 end))
line("raise in filter", pcall(pumpall, ltn12.source.chain(ltn12.source.string("x"), function(c)
    if c then error("flt raised", 0) end
end), ltn12.sink.null()))

-- Random chunkings: 300 generated texts, each cut into chunks of random sizes by a Lua
-- source, pumped through chains of filters (mime's and Lua ones, native and not) into
-- table sinks, with the result and the number of chunks printed. The generator is the
-- script's own, so both runs see the same inputs.
do
    local seed = 4242
    local function rnd(n)
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed % n + 1
    end
    local alphabet = "ab \t\r\n.=-_0123456789\0\255xyz"
    local function text()
        local t = {}
        for i = 1, rnd(400) - 1 do
            local k = rnd(#alphabet)
            t[i] = string.sub(alphabet, k, k)
        end
        return table.concat(t)
    end
    local function pieces(s)
        local i = 1
        return function()
            if i > #s then return nil end
            local n = rnd(17) - 1 -- empty chunks too
            local c = string.sub(s, i, i + n - 1)
            i = i + n
            return c
        end
    end
    local function lua_upper(c) if c then return string.upper(c) end return c end
    local chains = {
        function() return mime.encode("base64") end,
        function() return ltn12.filter.chain(mime.encode("base64"), mime.wrap("base64")) end,
        function() return ltn12.filter.chain(mime.encode("quoted-printable"), mime.wrap("quoted-printable")) end,
        function() return ltn12.filter.chain(mime.normalize(), mime.stuff()) end,
        function() return ltn12.filter.chain(lua_upper, mime.encode("base64"), mime.decode("base64")) end,
        function() return ltn12.filter.chain(mime.encode("quoted-printable"), mime.decode("quoted-printable")) end,
        function() return ltn12.filter.chain(mime.wrap("text", 20), lua_upper) end,
    }
    for case = 1, 300 do
        local s = text()
        local which = rnd(#chains)
        local t = {}
        local src = ltn12.source.chain(pieces(s), chains[which]())
        local r, e = ltn12.pump.all(src, (ltn12.sink.table(t)))
        line("random " .. case .. " chain " .. which, r, e, #t, table.concat(t))
    end
end
