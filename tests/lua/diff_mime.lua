-- diff_mime.lua: differential test of require "mime" (mime.core's low-level functions and
-- mime.lua's filters). scripts/test-lua.sh runs it under LuaSocket 3 and under sockit;
-- the two outputs must be identical, line for line.

local mime = require("mime")
local ltn12 = require("ltn12")

local difflib = dofile("tests/lua/difflib.lua")
local function show(...)
    return difflib.fmt(", ", ...)
end

local function line(label, ...)
    print(label .. ": " .. show(...))
end

-- Deterministic bytes (a linear congruential generator).
local seed = 12345
local function rnd(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
end
local function bytes(n, alphabet)
    local t = {}
    for i = 1, n do
        if alphabet then
            local k = rnd(#alphabet) + 1
            t[i] = alphabet:sub(k, k)
        else
            t[i] = string.char(rnd(256))
        end
    end
    return table.concat(t)
end

print("version " .. tostring(mime._VERSION))

-- Low-level functions with every nil combination.
local inputs = { "", "a", "ab", "abc", "abcd", "hello world", "\0\1\2\255\254", "=\r\n" }
for _, c in ipairs(inputs) do
    for _, d in ipairs({ "", "x", "xy", "xyz", "\r\n.", false }) do
        if d == false then d = nil end
        line("b64 " .. show(c, d), mime.b64(c, d))
        line("unb64 " .. show(c, d), mime.unb64(c, d))
        line("qp " .. show(c, d), mime.qp(c, d))
        line("qp binary " .. show(c, d), mime.qp(c, d, "=0D=0A"))
        line("unqp " .. show(c, d), mime.unqp(c, d))
    end
end
line("b64 nil", mime.b64(nil))
line("b64 nil x", mime.b64(nil, "x"))
line("unb64 nil", mime.unb64(nil, nil))
line("qp nil", mime.qp(nil))
line("unqp nil", mime.unqp(nil))
line("b64 one", mime.b64("hello"))
line("unb64 garbage", mime.unb64("aGV*sb G8=\r\n", nil))
line("unb64 partial", mime.unb64("aGVsbG", ""))

local qp_inputs = {
    "plain text", "trailing space \r\nnext", "tab\t\r\n", "caf\233", "=", "a=b",
    "line\r\n", "x\rl", "x\nl", "soft=\r\nbreak", "=4", "=41=42", "=ZZ", "end =",
    string.rep("a", 100), " \r\n", "\t", "a \t\r\n",
}
for _, s in ipairs(qp_inputs) do
    line("qp " .. show(s), mime.qp(s))
    line("qp+ " .. show(s), mime.qp(s, ""))
    line("unqp " .. show(s), mime.unqp(s))
    line("unqp+ " .. show(s), mime.unqp(s, ""))
end

for _, n in ipairs({ 0, 1, 5, 76 }) do
    for _, s in ipairs({ "", "short", "a\r\nb", "a\nb", string.rep("x", 80), "=3D=3D=3D" }) do
        line("wrp " .. show(n, s), mime.wrp(n, s, 10))
        line("qpwrp " .. show(n, s), mime.qpwrp(n, s, 10))
        line("wrp76 " .. show(n, s), mime.wrp(n, s))
    end
    line("wrp end " .. n, mime.wrp(n, nil, 76))
    line("qpwrp end " .. n, mime.qpwrp(n, nil, 76))
end

for _, ctx in ipairs({ 0, 10, 13 }) do
    for _, s in ipairs({ "", "a\rb", "a\nb", "a\r\nb", "a\n\rb", "\r", "\n", "\r\r\n\n" }) do
        line("eol " .. show(ctx, s), mime.eol(ctx, s))
        line("eol lf " .. show(ctx, s), mime.eol(ctx, s, "\n"))
    end
    line("eol end " .. ctx, mime.eol(ctx, nil))
end

for _, m in ipairs({ 0, 1, 2 }) do
    for _, s in ipairs({ "", ".", "..", "a\r\n.b", "\r\n.\r\n", "x\r", "\n.", ".\r\n" }) do
        line("dot " .. show(m, s), mime.dot(m, s))
    end
    line("dot end " .. m, mime.dot(m, nil))
end

-- Filters called chunk by chunk, as a Lua program would.
local function run(f, chunks)
    local out = {}
    for _, c in ipairs(chunks) do
        out[#out + 1] = show(f(c))
    end
    out[#out + 1] = show(f(nil))
    out[#out + 1] = show(f(nil))
    return table.concat(out, " | ")
end

local function splits(s)
    local res = { { s } }
    local parts = {}
    local i = 1
    while i <= #s do
        local n = rnd(7) + 1
        parts[#parts + 1] = s:sub(i, i + n - 1)
        i = i + n
    end
    res[#res + 1] = parts
    local ones = {}
    for k = 1, #s do ones[k] = s:sub(k, k) end
    res[#res + 1] = ones
    return res
end

local texts = {
    "hello world",
    "line one\r\nline two\nline three\rline four\n\r",
    ".starts with dot\r\n.\r\nmiddle\r\n..\r\n",
    bytes(50),
    bytes(70, "ab =\t\r\n.=") .. " ",
    string.rep("0123456789", 20),
}
local makers = {
    { "encode base64", function() return mime.encode("base64") end },
    { "decode base64", function() return mime.decode("base64") end },
    { "encode qp", function() return mime.encode("quoted-printable") end },
    { "encode qp binary", function() return mime.encode("quoted-printable", "binary") end },
    { "decode qp", function() return mime.decode("quoted-printable") end },
    { "wrap", function() return mime.wrap() end },
    { "wrap text 10", function() return mime.wrap("text", 10) end },
    { "wrap base64", function() return mime.wrap("base64") end },
    { "wrap qp", function() return mime.wrap("quoted-printable") end },
    { "normalize", function() return mime.normalize() end },
    { "normalize lf", function() return mime.normalize("\n") end },
    { "stuff", function() return mime.stuff() end },
}
for ti, text in ipairs(texts) do
    for _, mk in ipairs(makers) do
        for si, chunks in ipairs(splits(text)) do
            print(string.format("filter %s text %d split %d: %s", mk[1], ti, si, run(mk[2](), chunks)))
        end
    end
end

-- Filters after their end, and fed again.
local f = mime.encode("base64")
line("after end", f("ab"), f(nil), f(nil), f("cd"), f(nil))
f = mime.wrap("text", 4)
line("wrap again", f("abcdef"), f(nil), f("gh"), f(nil), f(nil))
f = mime.normalize()
line("normalize again", f("a\r"), f(nil), f("\nb"), f(nil))
f = mime.stuff()
line("stuff again", f("x\r\n"), f(nil), f(".y"), f(nil))

-- Pipelines pumped whole: encode, wrap, decode round trips.
local big = bytes(20000)
local function pumped(src, ...)
    local t = {}
    local snk = ltn12.sink.table(t)
    local ok, err = ltn12.pump.all(ltn12.source.chain(src, ...), snk)
    return table.concat(t), ok, err
end
local enc = pumped(ltn12.source.string(big), mime.encode("base64"), mime.wrap("base64"))
print("pipeline b64 length " .. #enc .. " head " .. string.format("%q", enc:sub(1, 100)))
local dec = pumped(ltn12.source.string(enc), mime.decode("base64"))
print("pipeline b64 round trip " .. tostring(dec == big))
local qpenc = pumped(ltn12.source.string(big), mime.normalize(), mime.encode("quoted-printable"),
    mime.wrap("quoted-printable"))
print("pipeline qp length " .. #qpenc .. " head " .. string.format("%q", qpenc:sub(1, 120)))
local qpdec = pumped(ltn12.source.string(qpenc), mime.decode("quoted-printable"))
print("pipeline qp decoded length " .. #qpdec)
local stuffed = pumped(ltn12.source.string(texts[3] .. texts[2]), mime.normalize(), mime.stuff())
line("pipeline stuff", stuffed)

-- The same filters in Lua-driven chains (a Lua filter in the middle).
local function upper(chunk)
    if chunk then return string.upper(chunk) end
    return nil
end
local mixed = pumped(ltn12.source.string("mixed pipeline\n" .. texts[2]), mime.normalize(), upper,
    mime.encode("base64"), mime.wrap("text", 20))
line("mixed pipeline", mixed)
local chained = ltn12.filter.chain(mime.encode("base64"), upper, mime.wrap("text", 8))
line("filter.chain mixed", run(chained, { "abc", "defg", "", "h" }))
chained = ltn12.filter.chain(mime.normalize(), mime.encode("quoted-printable"), mime.wrap("quoted-printable"))
line("filter.chain native", run(chained, { "a=b\n", "c\r\nd", string.rep("z", 90) }))

-- filter.cycle of the low-level functions, directly.
f = ltn12.filter.cycle(mime.b64, "")
line("cycle b64", run(f, { "a", "bcd", "ef" }))
f = ltn12.filter.cycle(mime.b64, "x")
line("cycle b64 ctx", run(f, { "a", "bcd" }))
f = ltn12.filter.cycle(mime.wrp, 3, 5)
line("cycle wrp", run(f, { "abcdefgh", "ij\r\nk" }))
f = ltn12.filter.cycle(mime.eol, 0, "|")
line("cycle eol", run(f, { "a\r", "\nb\n", "\rc" }))
f = ltn12.filter.cycle(mime.dot, 0)
line("cycle dot", run(f, { ".a", "\r\n.", "b" }))
f = ltn12.filter.cycle(mime.qp, "", "=0D=0A")
line("cycle qp", run(f, { "a \r", "\nb" }))

-- Errors of the choosers.
line("unknown", pcall(mime.encode, "rot13"))
line("unknown decode", pcall(mime.decode, "rot13"))
