-- socket_url.lua: where sockit's socket.url deliberately differs from LuaSocket 3: RFC
-- 3986 resolution in the cases LuaSocket 3 gets wrong, and errors for malformed URLs.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")

local url = require("socket.url")
local base = "http://a/b/c/d;p?q"
eq("RFC 3986 ;x", url.absolute(base, ";x"), "http://a/b/c/;x")
eq("RFC 3986 g?y/./x", url.absolute(base, "g?y/./x"), "http://a/b/c/g?y/./x")
eq("RFC 3986 g#s/./x", url.absolute(base, "g#s/./x"), "http://a/b/c/g#s/./x")
eq("RFC 3986 abnormal ../../../g", url.absolute(base, "../../../g"), "http://a/g")
eq("RFC 3986 abnormal /./g", url.absolute(base, "/./g"), "http://a/g")

local p = url.parse("http://host?q#f")
eq("authority ends at ?", p and p.host, "host")
eq("query after host", p and p.query, "q")
local r, err = url.parse("http://host:99999/")
eq("port above 65535 refused", r, nil)
check("message names the port", err and err:find("port") ~= nil, err)
r, err = url.parse("http://ho\nst/")
eq("control character refused", r, nil)
r, err = url.parse("http://[::1/")
eq("unbalanced bracket refused", r, nil)
eq("build with a port sockit refuses", url.build({ scheme = "http", host = "h", port = "x" }),
    "http://h:x")
eq("absolute with a bad base", url.absolute("http://h:x/", "y"), "y")
done()
