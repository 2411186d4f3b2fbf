-- bench/lua/proto.lua <case> <arg>: one benchmark case of bench/lua/run-proto.sh, run
-- once with LuaSocket 3 and once with sockit (whichever require finds). Prints
-- "<case> <seconds> <bytes>". Cases:
--   b64_null  <MiB>  ltn12.pump.all of MiB through mime.encode("base64") into sink.null
--   b64_table <MiB>  the same into sink.table
--   b64_wrap  <MiB>  base64 and mime.wrap("base64") chained, into sink.table
--   http_null <url>  http.request of url into ltn12.sink.null()
--   http_table <url> http.request of url into ltn12.sink.table()
local socket = require("socket")
local ltn12 = require("ltn12")
local mime = require("mime")
local case, arg = arg[1], arg[2]

local function now() return socket.gettime() end

local dt, bytes
if case:match("^b64") then
    local mib = tonumber(arg)
    local unit = string.rep("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/", 16)
    local data = string.rep(unit, mib * 1024)
    local t = {}
    local snk = case == "b64_null" and ltn12.sink.null() or ltn12.sink.table(t)
    local filter = mime.encode("base64")
    if case == "b64_wrap" then filter = ltn12.filter.chain(filter, mime.wrap("base64")) end
    local t0 = now()
    assert(ltn12.pump.all(ltn12.source.chain(ltn12.source.string(data), filter), snk))
    dt = now() - t0
    bytes = #data
    if case ~= "b64_null" then
        local n = 0
        for i = 1, #t do n = n + #t[i] end
        assert(n >= #data * 4 / 3, "short output " .. n)
    end
elseif case:match("^http") then
    local http = require("socket.http")
    local t = {}
    local n = 0
    local snk = case == "http_null" and ltn12.sink.null() or ltn12.sink.table(t)
    local t0 = now()
    local r, code = http.request { url = arg, sink = snk }
    dt = now() - t0
    assert(r == 1 and code == 200, tostring(code))
    if case == "http_table" then
        for i = 1, #t do n = n + #t[i] end
    end
    bytes = n
else
    error("unknown case " .. tostring(case))
end
print(string.format("%s %.3f %d", case, dt, bytes))
