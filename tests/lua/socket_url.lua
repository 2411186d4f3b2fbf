-- socket_url.lua: socket.url answers as LuaSocket 3's does, on the inputs where LuaSocket
-- departs from RFC 3986 or from a strict parser (tests/lua/diff_url*.lua compare whole
-- runs against LuaSocket 3; this script names the behaviours one by one).
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")
expect_sockit({ "socket.url" })

local url = require("socket.url")

local function field(u, name)
    local p = url.parse(u)
    return p and p[name]
end

-- parse: nothing but the empty URL is refused.
eq("a port that is not a number stays text", field("http://h:abc/p", "port"), "abc")
eq("host before a text port", field("http://h:abc/p", "host"), "h")
eq("the userinfo holds $ % ? # ;", field("ftp://u$e%r:p?a#s;s@host/x", "userinfo"), "u$e%r:p?a#s;s")
eq("the password is after the last colon", field("ftp://u$e%r:p?a#s;s@host/x", "password"), "p?a#s;s")
eq("the host after such a userinfo", field("ftp://u$e%r:p?a#s;s@host/x", "host"), "host")
eq("the authority runs to the first slash", field("http://host?q#f", "host"), "host?q#f")
eq("no query inside the authority", field("http://host?q#f", "query"), nil)
eq("the first @ ends the userinfo", field("//a@b@c:", "host"), "b@c")
eq("an empty port is kept", field("//a@b@c:", "port"), "")
eq("an unbalanced bracket is a host like any other", field("http://[::1/", "host"), "[:")
eq("brackets come off a host", field("http://[v6]:x", "host"), "v6")
eq("params in a URL without authority", field("mailto:x@y;z", "params"), "z")
local p, err = url.parse("")
eq("the empty URL is refused", p, nil)
eq("with LuaSocket's message", err, "invalid url")
p = url.parse("//h", { scheme = "x", path = "/d", extra = 1 })
check("defaults are kept where the URL has nothing", p and p.scheme == "x" and p.path == "/d" and p.extra == 1)

-- build
eq("build brackets an IPv6 host and joins user and password",
    url.build({ scheme = "http", host = "::1", port = 8080, user = "u", password = "p", path = "/x", query = "q" }),
    "http://u:p@[::1]:8080/x?q")
eq("build with only an authority", url.build({ authority = "a:b", path = "p", params = "x", fragment = "f" }),
    "//a:bp;x#f")
eq("build keeps a text port", url.build({ scheme = "http", host = "h", port = "x" }), "http://h:x")

-- absolute: LuaSocket's merge, and dots removed over the whole result
local base = "http://a/b/c/d;p?q"
eq("g?y/./x loses its dot segment", url.absolute(base, "g?y/./x"), "http://a/b/c/g?y/x")
eq("g#s/./x loses its dot segment", url.absolute(base, "g#s/./x"), "http://a/b/c/g#s/x")
eq(";x keeps the base's last segment", url.absolute(base, ";x"), "http://a/b/c/d;x")
eq("the empty reference gives the base", url.absolute(base, ""), base)
eq("?y keeps the base's params", url.absolute(base, "?y"), "http://a/b/c/d;p?y")
eq("too many .. stop at the root", url.absolute(base, "../../../g"), "http://a/g")
eq("a base without a slash resolves under /", url.absolute("x", "y"), "/y")
eq("a base with a text port", url.absolute("http://h:x/", "y"), "http://h:x/y")
eq("a table base", url.absolute(url.parse("http://a/b/c"), "d?e"), "http://a/b/d?e")
eq("no reference gives the base", url.absolute("http://a/b/c", nil), "http://a/b/c")
eq("no base gives the reference without its dots", url.absolute(nil, "x/../y"), "y")

-- paths and escapes
local pp = url.parse_path("/a%20b//c/")
check("parse_path: unescaped segments, absolute, directory",
    #pp == 2 and pp[1] == "a b" and pp[2] == "c" and pp.is_absolute and pp.is_directory)
eq("build_path protects segments", url.build_path(pp), "/a%20b/c/")
eq("build_path unsafe", url.build_path({ "a b", "c/d", is_absolute = 1 }, 1), "/a b/c/d")
eq("escape writes lower-case hex", url.escape("a b/\195\167"), "a%20b%2f%c3%a7")
eq("unescape leaves what is no escape", url.unescape("%41%4g%%34%31"), "A%4g%41")
done()
