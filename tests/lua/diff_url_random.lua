-- diff_url_random.lua: differential test of socket.url over generated inputs. The same
-- generator (its own congruential generator, so the inputs do not depend on the Lua
-- interpreter's math.random) makes 20,000 printable-ASCII strings, half of them built
-- from URL pieces so that every rule is reached often; each is parsed, rebuilt and used
-- as base and as reference of absolute, and random tables are built. The output under
-- LuaSocket 3 and under sockit must be identical (scripts/test-lua.sh compares them).

local url = require("socket.url")

local seed = 20240601
local function rnd(n) -- 1..n
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n + 1
end

local pieces = { "http:", "ftp:", "a+b.c-d:", "1:", "//", "/", "/", "/", "./", "../", ".", "..",
    "?", "#", ";", "@", ":", "[", "]", "%", "%41", "%zz", "host", "u", "p", "80", "x", "::1",
    "=", "&", "+", " ", "\\", "~", "$", "!", "*", "'", "(", ")", ",", "-", "_", "\"", "<", ">",
    "{", "}", "|", "^", "`" }

local function printable(n)
    local t = {}
    for i = 1, n do t[i] = string.char(31 + rnd(95)) end
    return table.concat(t)
end

local function urlish()
    local t = {}
    for i = 1, rnd(9) - 1 do t[i] = pieces[rnd(#pieces)] end
    return table.concat(t)
end

local function input()
    if rnd(2) == 1 then return printable(rnd(24) - 1) end
    return urlish()
end

local fields = { "scheme", "authority", "userinfo", "user", "password", "host", "port",
    "path", "params", "query", "fragment" }

local function show(t)
    if type(t) ~= "table" then return tostring(t) end
    local out = {}
    for _, f in ipairs(fields) do
        if t[f] ~= nil then out[#out + 1] = f .. "=" .. string.format("%q", t[f]) end
    end
    return "{" .. table.concat(out, " ") .. "}"
end

local N = 20000
local inputs = {}
for i = 1, N do inputs[i] = input() end
for i = 1, N do
    local s = inputs[i]
    local p, err = url.parse(s)
    print(string.format("%q", s), show(p), tostring(err))
    if p then print("  build", string.format("%q", url.build(p))) end
    local other = inputs[(i * 7919) % N + 1]
    print("  absolute", string.format("%q", url.absolute(s, other)),
        string.format("%q", url.absolute(other, s)))
    if p and i % 10 == 0 then
        print("  absolute table", string.format("%q", url.absolute(p, other)))
    end
    if i % 20 == 0 then
        local t = {}
        for _, f in ipairs(fields) do
            if rnd(3) == 1 then t[f] = inputs[rnd(N)] end
        end
        print("  build table", string.format("%q", url.build(t)))
        local pp = url.parse_path(s)
        print("  path", #pp, tostring(pp.is_absolute), tostring(pp.is_directory),
            string.format("%q", url.build_path(pp)), string.format("%q", url.build_path(pp, 1)))
        print("  escape", string.format("%q", url.escape(s)), string.format("%q", url.unescape(s)))
    end
end
print("parse defaults", show(url.parse("//h", { scheme = "x", path = "/d" })))
print("inputs", N)
