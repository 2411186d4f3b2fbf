-- Differential test driver: runs cases through LuaSocket's mime, ltn12 and socket.url.
--
-- Reads one case per line from stdin and writes one result line per case to stdout.
-- Tokens are separated by single spaces: "n" is nil, "x<hex>" a string (hex of its
-- bytes, possibly empty: "x"), "i<number>" an integer, "w<word>" a plain word. The first token names the case.
-- A case that raises a Lua error gives the single token "e".

local mime = require("mime")
local ltn12 = require("ltn12")
local url = require("socket.url")

local function unhex(h)
    return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function hex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function decode(tok)
    local kind, rest = tok:sub(1, 1), tok:sub(2)
    if kind == "n" then return nil
    elseif kind == "x" then return unhex(rest)
    elseif kind == "i" then return tonumber(rest)
    elseif kind == "w" then return rest
    end
    error("bad token " .. tok)
end

local function encode(v)
    if v == nil then return "n"
    elseif type(v) == "string" then return "x" .. hex(v)
    elseif type(v) == "number" then return string.format("i%d", v)
    end
    return "x" .. hex(tostring(v))
end

-- Runs chunks through a filter with LTN12 and returns the concatenated output.
local function through(filter, chunks)
    local out = {}
    local ok, err = ltn12.pump.all(ltn12.source.chain(ltn12.source.table(chunks), filter),
        (ltn12.sink.table(out)))
    if not ok then error(err) end
    return table.concat(out)
end

local filters = {
    enc_b64 = function() return mime.encode("base64") end,
    dec_b64 = function() return mime.decode("base64") end,
    enc_qp = function() return mime.encode("quoted-printable") end,
    enc_qpbin = function() return mime.encode("quoted-printable", "binary") end,
    dec_qp = function() return mime.decode("quoted-printable") end,
    wrap_qp = function() return mime.wrap("quoted-printable") end,
    stuff = function() return mime.stuff() end,
    enc_b64_wrap = function() return ltn12.filter.chain(mime.encode("base64"), mime.wrap("base64")) end,
    enc_qp_wrap = function()
        return ltn12.filter.chain(mime.normalize(), mime.encode("quoted-printable"),
            mime.wrap("quoted-printable"))
    end,
}

local fields = { "scheme", "authority", "userinfo", "user", "password", "host", "port",
    "path", "params", "query", "fragment" }

local function pack(...) return { n = select("#", ...), ... } end

local ops = {}

for _, name in ipairs({ "b64", "unb64", "unqp" }) do
    ops[name] = function(a) return pack(mime[name](a[1], a[2])) end
end
ops.qp = function(a) return pack(mime.qp(a[1], a[2], a[3])) end
ops.wrp = function(a) return pack(mime.wrp(a[1], a[2], a[3])) end
ops.qpwrp = function(a) return pack(mime.qpwrp(a[1], a[2], a[3])) end
ops.eol = function(a) return pack(mime.eol(a[1], a[2], a[3])) end
ops.dot = function(a) return pack(mime.dot(a[1], a[2])) end

-- filter <name> <chunk>...  and  wrap_text <length> <chunk>...  and  normalize <marker> <chunk>...
ops.filter = function(a)
    local name = table.remove(a, 1)
    return pack(through(filters[name](), a))
end
ops.wrap_text = function(a)
    local len = table.remove(a, 1)
    return pack(through(mime.wrap("text", len), a))
end
ops.normalize = function(a)
    local marker = table.remove(a, 1)
    return pack(through(mime.normalize(marker), a))
end

ops.url_parse = function(a)
    local p = url.parse(a[1])
    if not p then return pack("invalid") end
    local r = {}
    for i, f in ipairs(fields) do r[i] = p[f] end
    r.n = #fields
    return r
end
ops.url_build = function(a)
    local p = {}
    for i, f in ipairs(fields) do p[f] = a[i] end
    return pack(url.build(p))
end
ops.url_absolute = function(a) return pack(url.absolute(a[1], a[2])) end
ops.url_escape = function(a) return pack(url.escape(a[1])) end
ops.url_unescape = function(a) return pack(url.unescape(a[1])) end
ops.url_parse_path = function(a)
    local p = url.parse_path(a[1])
    local r = { #p, p.is_absolute and 1 or 0, p.is_directory and 1 or 0 }
    for i = 1, #p do r[#r + 1] = p[i] end
    r.n = #r
    return r
end
ops.url_build_path = function(a)
    local p = {}
    local unsafe = a[1] == 1
    if a[2] == 1 then p.is_absolute = 1 end
    if a[3] == 1 then p.is_directory = 1 end
    for i = 4, a.n do p[#p + 1] = a[i] end
    return pack(url.build_path(p, unsafe))
end

for line in io.lines() do
    local toks = {}
    for t in line:gmatch("%S+") do toks[#toks + 1] = t end
    local op = table.remove(toks, 1)
    local args = { n = #toks }
    for i, t in ipairs(toks) do args[i] = decode(t) end
    local ok, res = pcall(ops[op], args)
    if not ok then
        io.write("e\n")
        if os.getenv("DIFF_DEBUG") then io.stderr:write(tostring(res), "\n") end
    else
        local out = {}
        for i = 1, res.n do out[i] = encode(res[i]) end
        io.write(table.concat(out, " "), "\n")
    end
end
