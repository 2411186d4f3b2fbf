-- diff_url.lua: differential test of require "socket.url" (and socket.headers' canonic
-- table). scripts/test-lua.sh runs it under LuaSocket 3 and under sockit; the outputs
-- must be identical: hand-picked URLs, well-formed and not (diff_url_random.lua adds
-- generated ones).

local url = require("socket.url")
local headers = require("socket.headers")

local fields = { "scheme", "authority", "userinfo", "user", "password", "host", "port",
    "path", "params", "query", "fragment" }

local function showtable(t)
    if type(t) ~= "table" then return tostring(t) end
    local out = {}
    for _, f in ipairs(fields) do
        if t[f] ~= nil then out[#out + 1] = f .. "=" .. string.format("%q", tostring(t[f])) end
    end
    for k, v in pairs(t) do
        local known = false
        for _, f in ipairs(fields) do if f == k then known = true end end
        if not known then out[#out + 1] = tostring(k) .. "=" .. string.format("%q", tostring(v)) end
    end
    table.sort(out)
    return "{" .. table.concat(out, " ") .. "}"
end

print("version " .. url._VERSION)

local urls = {
    "http://www.example.com",
    "http://www.example.com/",
    "http://www.example.com/path/to/file.html",
    "http://user@www.example.com:8080/path;params?query=1&b=2#frag",
    "http://user:pass@www.example.com:8080/path;params?query#frag",
    "ftp://ftp.example.com/pub/file.tar.gz;type=i",
    "ftp://user:secret@ftp.example.com:2121/dir/",
    "https://[::1]:8443/x",
    "http://[2001:db8::7]/c=GB?objectClass?one",
    "mailto:John.Doe@example.com",
    "news:comp.infosystems.www.servers.unix",
    "tel:+1-816-555-1212",
    "telnet://192.0.2.16:80/",
    "urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
    "ldap://[2001:db8::7]/c=GB?objectClass?one",
    "/relative/path?q#f",
    "relative/path",
    "path;p?q#f",
    "//host.only/x",
    "?query-only",
    "#fragment-only",
    ";params-only",
    "http://host/a%20b/c%2Fd",
    "http://h:/p",
    "http://@h/p",
    "http://u:@h/p",
    "http://:p@h/p",
    "file:///etc/passwd",
    "http://host/path#frag#more",
    "HTTP://Example.COM/Path",
    "s3+x.y-z://h",
    "http://h:abc/p",
    "ftp://u$e%r:p?a#s;s@host/x",
    "http://host?q#f",
    "http://host:99999/",
    "http://ho\nst/",
    "http://[::1/",
    "http://[]/",
    "//a@b@c:",
    "1:2",
}

for _, u in ipairs(urls) do
    local p, err = url.parse(u)
    print("parse " .. u .. " -> " .. showtable(p) .. " " .. tostring(err))
    if p then print("build " .. u .. " -> " .. url.build(p)) end
end
print("parse empty -> " .. showtable(url.parse("")) .. " " .. tostring(select(2, url.parse(""))))
print("parse nil -> " .. showtable(url.parse(nil)) .. " " .. tostring(select(2, url.parse(nil))))
print("parse default -> " .. showtable(url.parse("//h/p", { scheme = "http", port = 80, path = "/x",
    extra = "kept" })))
print("parse default path -> " .. showtable(url.parse("http://h", { path = "/" })))

-- build from tables
local tables = {
    { scheme = "http", host = "h", path = "/p" },
    { scheme = "http", host = "h", port = 81, path = "/p", query = "q", fragment = "f" },
    { scheme = "http", host = "::1", port = "8080", path = "/" },
    { scheme = "http", authority = "auth:1", path = "/p" },
    { scheme = "http", authority = "ignored", host = "h", user = "u", password = "pw" },
    { scheme = "http", host = "h", userinfo = "ui" },
    { scheme = "http", host = "h", userinfo = "ui", user = "u" },
    { path = "p", params = "x" },
    {},
    { host = "h" },
    { scheme = "ftp", host = "h", path = "/a;b", params = "type=i" },
}
for i, t in ipairs(tables) do
    print("build table " .. i .. " -> " .. url.build(t))
end

-- RFC 3986 5.4 examples and more, those where LuaSocket 3 departs from the RFC included.
local base = "http://a/b/c/d;p?q"
local refs = {
    "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", "g;x",
    "g;x?y#s", "", ".", "./", "..", "../", "../g", "../..", "../../", "../../g",
    "g.", ".g", "g..", "..g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y",
    "http:g", ";x", "g?y/./x", "g#s/./x", "../../../g", "../../../../g", "/./g", "/../g",
    "g/../../../h", "//", "///x", "?", "#", "a//b/../c",
}
for _, r in ipairs(refs) do
    print("absolute " .. string.format("%q", r) .. " -> " .. url.absolute(base, r))
end
print("absolute table -> " .. url.absolute(url.parse("http://host/dir/file"), "other"))
print("absolute other base -> " .. url.absolute("http://host/dir/", "sub/x?y"))
print("absolute scheme change -> " .. url.absolute("http://host/dir/", "ftp://other/z"))
print("absolute root -> " .. url.absolute("http://host", "x"))
print("absolute no slash -> " .. url.absolute("x", "y") .. " " .. url.absolute("mailto:a", "b"))
print("absolute bad base -> " .. url.absolute("http://h:x/", "y"))
print("absolute nil -> " .. url.absolute("http://a/b", nil) .. " " .. url.absolute(nil, "a/../b"))

-- escape / unescape
local raw = {}
for i = 0, 255 do raw[#raw + 1] = string.char(i) end
raw = table.concat(raw)
print("escape all -> " .. url.escape(raw))
print("unescape round trip -> " .. tostring(url.unescape(url.escape(raw)) == raw))
for _, s in ipairs({ "a%20b", "%41%42%43", "%4", "%zz", "100%", "%%41", "a+b", "%c3%a9", "%00x" }) do
    print("unescape " .. s .. " -> " .. string.format("%q", url.unescape(s)))
end

-- paths
local paths = { "/a/b/c", "a/b/", "/", "", "//x//y//", "/a%20b/c%2fd/", "rel", "/%41/" }
for _, p in ipairs(paths) do
    local t = url.parse_path(p)
    local parts = {}
    for i = 1, #t do parts[i] = string.format("%q", t[i]) end
    print("parse_path " .. string.format("%q", p) .. " -> {" .. table.concat(parts, ",") .. "} abs="
        .. tostring(t.is_absolute) .. " dir=" .. tostring(t.is_directory))
    print("build_path " .. string.format("%q", p) .. " -> " .. url.build_path(t) .. " unsafe "
        .. url.build_path(t, 1))
end
print("build_path special -> " .. url.build_path({ "a b", "c/d", "e?f", "-_.!~*'():@&=+$,", "\1\255",
    is_absolute = 1, is_directory = 1 }))

-- socket.headers.canonic
local names = {}
for k, v in pairs(headers.canonic) do names[#names + 1] = k .. "=" .. v end
table.sort(names)
print("canonic " .. #names .. ": " .. table.concat(names, " "))
