-- socket_http_safety.lua: where socket.http is stricter than LuaSocket 3 on purpose
-- (README, "Where sockit differs"): no CR, LF or NUL reaches the wire from a method,
-- request target or header, and credentials in the request's headers do not follow a
-- redirect to another origin. Over a scripted connection (httpmock.lua), no server.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")
expect_sockit({ "socket.http" })

local http = require("socket.http")
local ltn12 = require("ltn12")
local scripted = require("httpmock")
local ok200 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

local function request(reqt, responses)
    local log = {}
    reqt.create = scripted(responses or { ok200 }, log)
    reqt.sink = ltn12.sink.null()
    local r, err = http.request(reqt)
    return r, err, log
end

local r, err, log = request({ url = "http://h/", headers = { ["x-evil"] = "a\r\nInjected: yes" } })
eq("a header value with CR LF is refused", r, nil)
check("with a message naming it", err and err:find("CR, LF or NUL") ~= nil, err)
check("nothing of it was sent", not (log[1] and table.concat(log[1].sent):find("Injected")))
r, err = request({ url = "http://h/", headers = { ["x-a\nb"] = "v" } })
eq("a header name with LF is refused", r, nil)
r, err = request({ url = "http://h/", method = "GET /x HTTP/1.1\r\nHost: other\r\n\r\nGET" })
eq("a method with CR LF is refused", r, nil)
r, err = request({ url = "http://h/", uri = "/a\0b" })
eq("a request target with NUL is refused", r, nil)
r, err = request({ url = "http://h/", headers = { ["x-fine"] = "tab\tand spaces" } })
eq("an ordinary value goes through", r, 1)

-- a redirect to another host: the Authorization header stays behind
local redirect = "HTTP/1.1 302 Found\r\nLocation: http://elsewhere/x\r\nContent-Length: 0\r\n\r\n"
r, err, log = request({ url = "http://h/", scheme = "http",
    headers = { authorization = "Basic c2VjcmV0", cookie = "s=1", ["x-other"] = "kept" } }, { redirect, ok200 })
eq("the redirect was followed", r, 1)
local second = log[2] and table.concat(log[2].sent) or ""
check("to the other host", log[2] and log[2].peer == "elsewhere:80", log[2] and log[2].peer)
check("without Authorization", not second:lower():find("authorization:"), second)
check("without Cookie", not second:lower():find("cookie:"), second)
check("other headers kept", second:lower():find("x%-other: kept") ~= nil, second)
-- the same origin keeps them
redirect = "HTTP/1.1 302 Found\r\nLocation: /y\r\nContent-Length: 0\r\n\r\n"
r, err, log = request({ url = "http://h/", scheme = "http", headers = { authorization = "Basic c2VjcmV0" } },
    { redirect, ok200 })
second = log[2] and table.concat(log[2].sent) or ""
check("the same origin gets Authorization again", second:lower():find("authorization: basic c2vjcmv0") ~= nil, second)
done()
