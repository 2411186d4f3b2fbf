-- Differential test: mime's low-level calls and filters on fixed inputs, split at
-- every size, and through ltn12 pipelines.
-- Run under LuaSocket 3 and under sockit by scripts/test-lua.sh; outputs must match.
local mime = require("mime")
local ltn12 = require("ltn12")

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

-- deterministic binary data
local function bytes(n, seed)
    local t = {}
    local x = seed
    for i = 1, n do
        x = (x * 1103515245 + 12345) % 2147483648
        t[i] = string.char(math.floor(x / 65536) % 256)
    end
    return table.concat(t)
end

local text = "Hello, world!\r\nThis is a line with trailing spaces   \r\n" ..
    "=equals= and tabs\t\r\n" .. string.rep("long line ", 12) .. "\r\n.dot line\r\n" ..
    "bare LF\nbare CR\rmixed\n\r" .. "caf\195\169 \226\130\172\r\n"
local binary = bytes(1000, 7)

print("-- low level")
show(mime.b64(""))
show(mime.b64("a"))
show(mime.b64("ab", "c"))
show(mime.b64("abcd", "e"))
show(mime.b64(nil, "x"))
show(mime.unb64("YWJj"))
show(mime.unb64("YWJ", "j"))
show(mime.unb64("YW=J#j!", nil))
show(mime.unb64("Y", nil))
show(mime.qp("a b\t\r\nc"))
show(mime.qp("a b", "\t\r\n"))
show(mime.qp("x=y\r\n", "z", "=0D=0A"))
show(mime.unqp("a=3Db=\r\nc"))
show(mime.unqp("a=3", "D"))
show(mime.unqp("abc=", nil))
show(mime.wrp(76, "hello", 76))
show(mime.wrp(3, "hello\nworld", 5))
show(mime.wrp(5, nil, 5))
show(mime.wrp(0, nil, 5))
show(mime.qpwrp(5, "ab=3Dcd=3Def", 5))
show(mime.qpwrp(2, nil, 5))
show(mime.eol(0, "a\rb\nc\r\nd\n\re", "\n"))
show(mime.eol(13, "\nx"))
show(mime.eol(0, nil))
show(mime.dot(2, ".a\r\n.b"))
show(mime.dot(0, "\r\n."))
show(mime.dot(1, nil))

-- runs a filter over data cut into pieces of `size` bytes
local function run(f, data, size)
    local out = {}
    local i = 1
    while i <= #data do
        out[#out + 1] = f(string.sub(data, i, i + size - 1))
        i = i + size
    end
    out[#out + 1] = f(nil) or ""
    return table.concat(out)
end

local filters = {
    {"encode base64", function() return mime.encode("base64") end, binary},
    {"decode base64", function() return mime.decode("base64") end, (mime.b64(binary))},
    {"encode qp", function() return mime.encode("quoted-printable") end, text},
    {"encode qp binary", function() return mime.encode("quoted-printable", "binary") end, text},
    {"decode qp", function() return mime.decode("quoted-printable") end, (mime.qp(text))},
    {"wrap text", function() return mime.wrap("text", 20) end, text},
    {"wrap base64", function() return mime.wrap("base64") end, (mime.b64(binary))},
    {"wrap qp", function() return mime.wrap("quoted-printable") end, (mime.qp(text))},
    {"normalize", function() return mime.normalize() end, text},
    {"normalize LF", function() return mime.normalize("\n") end, text},
    {"stuff", function() return mime.stuff() end, text},
}
print("-- filters, every split size gives the same output")
for _, case in ipairs(filters) do
    local name, make, data = case[1], case[2], case[3]
    local whole = run(make(), data, #data + 1)
    local same = true
    for size = 1, 70 do
        if run(make(), data, size) ~= whole then same = false end
    end
    show(name, #whole, same, string.sub(whole, 1, 60))
end

print("-- pipelines")
local function pipeline(src, ...)
    local t = {}
    local ok, err = ltn12.pump.all(ltn12.source.chain(src, ...), (ltn12.sink.table(t)))
    return table.concat(t), ok, err
end
local encoded = pipeline(ltn12.source.string(binary), ltn12.filter.chain(mime.encode("base64"), mime.wrap()))
show(#encoded, string.sub(encoded, 1, 80))
local decoded = pipeline(ltn12.source.string(encoded), mime.decode("base64"))
show(decoded == binary)
local qp = pipeline(ltn12.source.string(text), mime.normalize(), mime.encode("quoted-printable"), mime.wrap("quoted-printable"))
show(qp)
show(pipeline(ltn12.source.string(qp), mime.decode("quoted-printable")))
-- Lua stages mixed with mime's
local upper = function(chunk) return chunk and string.upper(chunk) end
show(pipeline(ltn12.source.string("some text to shout"), upper, mime.encode("base64")))
show(pipeline(ltn12.source.string("c29tZSB0ZXh0"), mime.decode("base64"), upper))
show(pcall(mime.wrap, "no-such-wrap"))
