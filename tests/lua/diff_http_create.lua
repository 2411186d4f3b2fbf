-- diff_http_create.lua: differential test of socket.http's create path. A create
-- function returns a scripted connection (the methods LuaSocket calls: settimeout,
-- connect, send, receive, close, getfd, dirty) that records what the client sends and
-- replays canned responses; the script prints the bytes sent (header lines sorted) and
-- what request returned. Run under LuaSocket 3 and sockit; the output must be identical.
package.path = "tests/lua/?.lua;" .. package.path
local http = require("socket.http")
local ltn12 = require("ltn12")
local difflib = require("difflib")
local show = difflib.show

http.USERAGENT = "diff-test"

local scripted = require("httpmock")

-- The request as sent: the request line, header lines sorted, then the body.
local function sent(c)
    local all = table.concat(c.sent)
    local head, body = string.match(all, "^(.-\r\n)\r\n(.*)$")
    if not head then return string.format("%q", all) end
    local lines = {}
    for line in string.gmatch(head, "([^\r\n]*)\r\n") do lines[#lines + 1] = line end
    local first = table.remove(lines, 1)
    table.sort(lines)
    return string.format("%q | %s | %q", first, table.concat(lines, " ; "), body)
end

local function sorted(t)
    if type(t) ~= "table" then return tostring(t) end
    local out = {}
    for k, v in pairs(t) do out[#out + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(out)
    return "{" .. table.concat(out, " ; ") .. "}"
end

local function run(name, reqt, responses)
    local log = {}
    local body = {}
    reqt.create = scripted(responses, log)
    reqt.sink = reqt.sink or ltn12.sink.table(body)
    local r, code, headers, status = http.request(reqt)
    show(name, r, code, sorted(headers), status, table.concat(body))
    for i, c in ipairs(log) do
        show("  conn " .. i, c.peer, c.timeout, c.closed, sent(c))
    end
end

local ok200 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello"
run("get", { url = "http://example.test/a/b?q=1#f" }, { ok200 })
run("port and auth", { url = "http://u:p%40ss@example.test:8080/x" }, { ok200 })
run("headers", { url = "http://h/", headers = { ["X-Custom"] = "v", ["user-agent"] = "mine",
    host = "other" } }, { ok200 })
run("chunked with trailers", { url = "http://h/c" }, {
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n" })
run("until closed", { url = "http://h/u" }, { "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it\nand more" })
run("http/0.9", { url = "http://h/old" }, { "plain old body\r\nline 2" })
run("404", { url = "http://h/missing" }, { "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope" })
run("100 continue", { url = "http://h/" }, { "HTTP/1.1 100 Continue\r\n\r\n" .. ok200 })
run("head", { url = "http://h/", method = "HEAD" }, { ok200 })
run("204", { url = "http://h/" }, { "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" })
run("folded header", { url = "http://h/" }, {
    "HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\nContent-Length: 0\r\n\r\n" })
run("malformed header", { url = "http://h/" }, { "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n" })
run("bad status line", { url = "http://h/" }, { "HTTP/1.1 abc\r\n\r\n" })
run("cut short", { url = "http://h/" }, { "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort" })
run("post with length", { url = "http://h/p", method = "POST", source = ltn12.source.string("a=1&b=2"),
    headers = { ["content-length"] = 7 } }, { ok200 })
run("post chunked", { url = "http://h/p", method = "PUT", source = ltn12.source.string("streamed body") },
    { ok200 })
run("proxy", { url = "http://h/x?y", proxy = "http://pu:pp@proxy.test:3129" }, { ok200 })
run("uri given", { url = "http://h/x", uri = "/other?z" }, { ok200 })
local redirect = "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 3\r\n\r\nxyz"
run("redirect kept on create (scheme named)", { url = "http://h/first", scheme = "http" }, { redirect, ok200 })
run("redirect = false", { url = "http://h/first", scheme = "http", redirect = false }, { redirect, ok200 })
run("no redirect for POST", { url = "http://h/first", scheme = "http", method = "POST" }, { redirect, ok200 })
run("303", { url = "http://h/first", scheme = "http" }, {
    "HTTP/1.1 303 See Other\r\nLocation: http://h/seen\r\nContent-Length: 0\r\n\r\n", ok200 })
run("308 not followed", { url = "http://h/first", scheme = "http" }, {
    "HTTP/1.1 308 Permanent\r\nLocation: /p\r\nContent-Length: 0\r\n\r\n", ok200 })
run("maxredirects", { url = "http://h/1", scheme = "http", maxredirects = 1 }, { redirect, redirect, ok200 })
run("redirect to ftp", { url = "http://h/1", scheme = "http" }, {
    "HTTP/1.1 301 Moved\r\nLocation: ftp://h/file\r\nContent-Length: 2\r\n\r\nab" })

-- step: called for every chunk
local steps = 0
run("step", { url = "http://h/c", step = function(src, snk)
    steps = steps + 1
    return ltn12.pump.step(src, snk)
end }, { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n" })
show("steps", steps)

-- the connection object, directly
local log = {}
local h = http.open("example.test", 81, scripted({ ok200 }, log))
show("open", getmetatable(h) ~= nil, type(h.try))
show("requestline", h:sendrequestline("GET", "/direct"))
show("sendheaders", h:sendheaders({ host = "example.test:81" }))
show("statusline", h:receivestatusline())
local hd = h:receiveheaders()
show("headers", sorted(hd))
local t = {}
show("body", h:receivebody(hd, (ltn12.sink.table(t))), table.concat(t))
show("close", h:close())
show("  sent", log[1].peer, sent(log[1]))

-- a failing create, a failing connect
show("create fails", http.request({ url = "http://h/", create = function() return nil, "no socket" end }))
show("connect fails", http.request({ url = "http://h/", create = function()
    return { settimeout = function() return 1 end, connect = function() return nil, "refused here" end,
        close = function() return 1 end }
end }))
