-- Differential test: socket.url parse / build / absolute / escape / unescape /
-- parse_path / build_path on a set of URLs.
-- Run under LuaSocket 3 and under sockit by scripts/test-lua.sh; outputs must match.
local url = require("socket.url")

local fields = {"scheme", "authority", "userinfo", "user", "password", "host", "port",
    "path", "params", "query", "fragment"}

local function dump(t)
    if not t then return "nil" end
    local out = {}
    for _, k in ipairs(fields) do
        if t[k] ~= nil then out[#out + 1] = k .. "=" .. string.format("%q", tostring(t[k])) end
    end
    return "{" .. table.concat(out, " ") .. "}"
end

local urls = {
    "http://www.example.com/",
    "http://user:pass@host.example.com:8080/a/b/c;params?query=1&x=2#frag",
    "ftp://anonymous@ftp.example.org/pub/file.tar.gz;type=i",
    "https://host/path%20with%20spaces?q=a%26b",
    "mailto:someone@example.com",
    "//host.only/path",
    "/absolute/path?x",
    "relative/path",
    "?only=query",
    "#only-fragment",
    "http://host:80",
    "http://[::1]:8080/ipv6",
    "http://user@host/",
    "http://:pw@host/",
    "file:///etc/hosts",
    "news:comp.lang.lua",
    "http://host/a/../b/./c/",
    "HTTP://Host.Example.COM/CaSe",
    "http://host/path;p1;p2?q#f#g",
}

print("-- parse and build")
for _, u in ipairs(urls) do
    local p = url.parse(u)
    print(u, dump(p), p and url.build(p))
end
print(url.parse(""))
print(dump(url.parse("//h/p", {scheme = "ftp", port = "21", path = "/default"})))
print(dump(url.parse("x", {scheme = "s"})))
print(url.build({scheme = "http", host = "h", port = 81, path = "/p", query = "q"}))
print(url.build({host = "h", user = "u", password = "p", userinfo = "ignored", authority = "ignored"}))
print(url.build({authority = "a@b:1", path = "x"}))
print(url.build({path = "/a b/c"}))
print(url.build({}))

print("-- absolute (RFC 3986 examples)")
-- (";x" is left out: LuaSocket 3 resolves it to http://a/b/c/d;x, RFC 3986 and sockit to
-- http://a/b/c/;x)
local base = "http://a/b/c/d;p?q"
for _, rel in ipairs({"g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s",
    "g?y#s", "g;x", "g;x?y#s", "", ".", "./", "..", "../", "../g", "../..", "../../",
    "../../g"}) do
    print(rel, url.absolute(base, rel))
end
print(url.absolute(url.parse(base), "../x"))
print(url.absolute("http://host", "path"))

print("-- escapes")
for _, s in ipairs({"", "abc", "a b", "a/b?c=d&e#f", "\0\1\255", "caf\195\169", "_-.~!*'()"}) do
    local e = url.escape(s)
    print(string.format("%q", s), e, url.unescape(e) == s)
end
print(url.unescape("%41%42%4a%zz%"), url.unescape("a+b"))

print("-- paths")
for _, p in ipairs({"", "/", "a", "/a/b", "/a/b/", "a//b", "/a%2Fb/c%20d", "//x//"}) do
    local parsed = url.parse_path(p)
    local segs = {}
    for i = 1, #parsed do segs[i] = parsed[i] end
    print(string.format("%q", p), #parsed, table.concat(segs, "|"), parsed.is_absolute,
        parsed.is_directory, url.build_path(parsed), url.build_path(parsed, 1))
end
print(url.build_path({"a b", "c/d", "e?f", is_absolute = 1}))
print(url.build_path({"a b", "c/d"}, true))
print(url.build_path({}))
