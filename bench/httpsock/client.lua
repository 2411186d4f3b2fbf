-- bench/httpsock/client.lua: N GETs of one URL, printing "secs=S n=N bytes=B".
--   sockit:     lua5.1 client.lua sockit HOST PORT PATH N      (sockit.http, one connection,
--               write_request / read_response / read_some)
--   luasocket:  lua5.1 client.lua luasocket HOST PORT PATH N   (LuaSocket 3's http.request,
--               which opens a connection for each request)
local mode, host, port, path, n = arg[1], arg[2], tonumber(arg[3]), arg[4], tonumber(arg[5])
local socket = require("socket")
local bytes = 0
local t0 = socket.gettime()
if mode == "sockit" then
    local http = require("sockit.http")
    local c = assert(socket.connect(host, port))
    c:settimeout(10)
    local s = http.socket.new(c)
    local req, res = http.request.new(), http.response.new()
    req.target = path
    req.headers.host = host
    for _ = 1, n do
        assert(s:write_request(req))
        assert(s:read_response(res))
        while s.read_state ~= "empty" do
            assert(s:read_some(res))
        end
        bytes = bytes + #res.body
    end
    c:close()
else
    local http = require("socket.http")
    local url = "http://" .. host .. ":" .. port .. path
    for _ = 1, n do
        local body, code = http.request(url)
        assert(code == 200, code)
        bytes = bytes + #body
    end
end
print(string.format("secs=%.6f n=%d bytes=%d", socket.gettime() - t0, n, bytes))
