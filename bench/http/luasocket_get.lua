-- LuaSocket 3 reference for bench/http/run.sh: downloads a URL into an ltn12 null sink
-- and prints "bytes=<n> secs=<s>".
local http = require("socket.http")
local ltn12 = require("ltn12")
local socket = require("socket")
local url = assert(arg[1], "usage: luasocket_get.lua URL")
local count = 0
local sink = function(chunk)
    if chunk then count = count + #chunk end
    return 1
end
local t0 = socket.gettime()
local ok, code = http.request{url = url, sink = sink}
local secs = socket.gettime() - t0
assert(ok and code == 200, "request failed: " .. tostring(code))
print(string.format("bytes=%d secs=%.6f", count, secs))
