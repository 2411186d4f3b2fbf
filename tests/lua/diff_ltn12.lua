-- Differential test: ltn12 sources, sinks, filters and pumps, native and Lua stages
-- mixed, chunk boundaries, errors, files.
-- Run under LuaSocket 3 and under sockit by scripts/test-lua.sh; outputs must match.
local ltn12 = require("ltn12")
local mime = require("mime")

local function show(...)
    local out = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) == "string" then
            out[#out + 1] = string.format("%q", v)
        elseif type(v) == "table" or type(v) == "function" or type(v) == "userdata" then
            out[#out + 1] = "<stage>"
        else
            out[#out + 1] = tostring(v)
        end
    end
    print(table.concat(out, " "))
end

-- every chunk a source gives, with its size
local function chunks(src)
    local sizes, all = {}, {}
    for _ = 1, 10000 do
        local chunk, err = src()
        if not chunk then
            local joined = table.concat(all)
            return #sizes, table.concat(sizes, ","), #joined, string.sub(joined, 1, 40), err
        end
        sizes[#sizes + 1] = #chunk
        all[#all + 1] = chunk
    end
    return "too many chunks"
end

local data = string.rep("0123456789abcdef", 300) -- 4800 bytes

print("-- sources")
show(ltn12.BLOCKSIZE)
show(chunks(ltn12.source.string(data)))
show(chunks(ltn12.source.string("")))
show(chunks(ltn12.source.string(nil)))
show(chunks(ltn12.source.empty()))
show(chunks(ltn12.source.error("broken source")))
show(chunks(ltn12.source.table({"a", "bc", "def"})))
show(chunks(ltn12.source.cat(ltn12.source.string("one "), ltn12.source.string("two "),
    ltn12.source.table({"three"}))))
show(chunks(ltn12.source.cat(ltn12.source.string("ok"), ltn12.source.error("cat error"),
    ltn12.source.string("never"))))
local r = ltn12.source.rewind(ltn12.source.string("abc"))
local first = r()
r("back")
r(first)
show(chunks(r))
local lr = ltn12.source.rewind(ltn12.source.table({"x", "y"}))
local x = lr()
lr(x)
show(chunks(lr))
local fancy_calls = 0
local fancy
fancy = function()
    fancy_calls = fancy_calls + 1
    if fancy_calls == 1 then return "first", ltn12.source.string("second") end
    return nil
end
show(chunks(ltn12.source.simplify(fancy)))

print("-- filters and chains")
local lua_upper = function(chunk) return chunk and string.upper(chunk) end
local lua_double = function(chunk) return chunk and (chunk .. chunk) end
local lua_count = function()
    local n = 0
    return function(chunk)
        if chunk then n = n + #chunk return "" end
        if n >= 0 then local out = "[" .. n .. "]" n = -1 return out end
        return nil
    end
end
show(chunks(ltn12.source.chain(ltn12.source.string("abc"), lua_upper)))
show(chunks(ltn12.source.chain(ltn12.source.string(data), lua_upper, lua_double)))
show(chunks(ltn12.source.chain(ltn12.source.string(data), lua_count())))
show(chunks(ltn12.source.chain(ltn12.source.string(data), mime.encode("base64"), mime.wrap("text", 64))))
show(chunks(ltn12.source.chain(ltn12.source.string(data), lua_upper, mime.encode("base64"))))
show(chunks(ltn12.source.chain(ltn12.source.string(data), mime.encode("base64"), lua_count())))
local chained = ltn12.filter.chain(lua_double, mime.encode("base64"), lua_upper)
show(chained("ab"), chained(""), chained("c"), chained(nil), chained(nil))
local cycled = ltn12.filter.cycle(function(ctx, chunk, extra)
    if not chunk then return nil, ctx end
    return ctx .. chunk .. extra, ctx .. "+"
end, "", "|")
show(cycled("a"), cycled("b"), cycled(nil))
show(chunks(ltn12.source.chain(ltn12.source.error("src failed"), mime.encode("base64"))))

print("-- sinks and pumps")
local function pumped(src, snk, step)
    return ltn12.pump.all(src, snk, step)
end
local t = {}
show(pumped(ltn12.source.string(data), (ltn12.sink.table(t))))
show(#t, #table.concat(t))
t = {}
show(pumped(ltn12.source.string(data), ltn12.sink.chain(mime.encode("base64"), (ltn12.sink.table(t)))))
show(#table.concat(t), string.sub(table.concat(t), 1, 40))
t = {}
show(pumped(ltn12.source.string("x y z"), ltn12.sink.chain(lua_upper, mime.encode("base64"), (ltn12.sink.table(t)))))
show(table.concat(t))
show(pumped(ltn12.source.string(data), ltn12.sink.null()))
show(pumped(ltn12.source.error("pump source error"), ltn12.sink.null()))
show(pumped(ltn12.source.string(data), ltn12.sink.error("pump sink error")))
show(pumped(ltn12.source.string(data), ltn12.sink.chain(mime.encode("base64"), ltn12.sink.error("chained sink error"))))
local steps = 0
local counting_step = function(src, snk)
    steps = steps + 1
    return ltn12.pump.step(src, snk)
end
show(pumped(ltn12.source.string(data), ltn12.sink.null(), counting_step), steps)
local s1, s2 = ltn12.source.string("ab"), ltn12.sink.null()
show(ltn12.pump.step(s1, s2), ltn12.pump.step(s1, s2))
local fancy_sink_calls = {}
local fancy_sink
fancy_sink = function(chunk, err)
    fancy_sink_calls[#fancy_sink_calls + 1] = tostring(chunk)
    return 1, fancy_sink
end
show(pumped(ltn12.source.table({"p", "q"}), ltn12.sink.simplify(fancy_sink)))
show(table.concat(fancy_sink_calls, ","))

print("-- files")
local name = os.tmpname()
show(pumped(ltn12.source.string(data), ltn12.sink.file(io.open(name, "wb"))))
show(chunks(ltn12.source.file(io.open(name, "rb"))))
show(pumped(ltn12.source.file(io.open(name, "rb")), ltn12.sink.chain(mime.encode("base64"), ltn12.sink.file(io.open(name .. ".b64", "wb")))))
local f = io.open(name .. ".b64", "rb")
show(#f:read("*a"))
f:close()
os.remove(name)
os.remove(name .. ".b64")
show(chunks(ltn12.source.file(nil, "no file here")))
show(chunks(ltn12.source.file(nil)))
show(pumped(ltn12.source.string("x"), ltn12.sink.file(nil, "cannot write")))
