-- http_server.lua: the HTTP/1.1 server of examples/http_server.c written in Lua over
-- sockit.http (Emilua's http.socket). Each connection is a coroutine whose HTTP socket
-- yields (http.socket.new(sock, {yield = true})) whenever it would block; one
-- socket.select loop drives them all.
--
--   LUA_PATH='build/lua51/?.lua;;' LUA_CPATH='build/lua51/?.so;;' \
--       lua5.1 examples/http_server.lua [port]
--
-- Prints "port N" first, serves until killed. Same routes as http_server.c: /, /echo,
-- /stream?n=N, /upload, /status/CODE, /skip, /close.
local socket = require("socket")
local http = require("sockit.http")

local listener = assert(socket.bind("127.0.0.1", tonumber(arg and arg[1]) or 0, 128))
listener:settimeout(0)
local _, port = listener:getsockname()
io.stdout:write("port ", port, "\n")
io.stdout:flush()

-- The peak resident memory of this process in KiB (Linux).
local function max_rss_kb()
    local f = io.open("/proc/self/status")
    if not f then
        return 0
    end
    local kb = f:read("*a"):match("VmHWM:%s*(%d+)")
    f:close()
    return tonumber(kb) or 0
end

local function read_body(s, req, keep)
    local bytes, pieces = 0, 0
    while s.read_state == "message_ready" or s.read_state == "body_ready" do
        local before = #req.body
        local ok, err, status = s:read_some(req)
        if not ok then
            if status then
                s:write_error() -- a bad chunk, a body too large: its status, then the end
            end
            return nil, err
        end
        if #req.body > before then
            pieces = pieces + 1
        end
        bytes = bytes + #req.body - before
        if not keep then
            req.body = ""
        end
    end
    return bytes, pieces
end

local hello = "Hello, World!\n"

-- Answers one request; returns true when the connection is done.
local function answer(s, req, res, conn, n)
    local target = req.target
    res.headers = { ["x-conn"] = tostring(conn), ["x-request"] = tostring(n) }
    res.trailers, res.reason, res.status, res.body = {}, "", 200, ""
    if target == "/" then
        res.headers["content-type"] = "text/plain"
        res.body = hello
    elseif target == "/skip" then
        res.status = 417
    elseif target:match("^/status/") then
        res.status = tonumber(target:match("^/status/(%d+)")) or 400
    elseif target == "/upload" then
        local bytes, pieces = read_body(s, req, false)
        if not bytes then
            return true
        end
        res.body = string.format("bytes=%d pieces=%d max_rss_kb=%d\n", bytes, pieces, max_rss_kb())
    elseif target:match("^/stream") then
        if not read_body(s, req, false) then
            return true
        end
        local chunks = tonumber(target:match("n=(%d+)")) or 3
        res.headers["content-type"] = "text/plain"
        if not s:write_response_metadata(res) then
            return true
        end
        for i = 0, chunks - 1 do
            res.body = "chunk " .. i .. "\n"
            if not s:write(res) then
                return true
            end
        end
        res.trailers = { ["x-chunks"] = tostring(chunks) }
        return not s:write_trailers(res)
    elseif target == "/close" then
        res.headers.connection = "close"
        res.body = "bye\n"
        s:write_response(res)
        return true
    elseif target == "/echo" or target:match("^/echo%?") then
        res.headers["x-expect"] = req.headers.expect
        if not read_body(s, req, true) then
            return true
        end
        res.headers["x-method"] = req.method
        res.headers["x-target"] = target
        for name, value in pairs(req.trailers) do
            res.headers["x-trailer-" .. name] = value
        end
        res.body = req.body
    else
        res.status, res.body = 404, "not found\n"
    end
    return not s:write_response(res)
end

local conns = 0

local function serve(c)
    conns = conns + 1
    local conn = conns
    local s = http.socket.new(c, { yield = true })
    local req, res = http.request.new(), http.response.new()
    local n = 0
    while true do
        n = n + 1
        local ok, err = s:read_request(req)
        if not ok then
            if s.read_state == "finished" then
                s:write_error() -- a refused request: its status, then the end
            end
            break
        end
        if answer(s, req, res, conn, n) then
            break
        end
    end
    s:close()
    c:close()
end

-- The scheduler: coroutines waiting on sockets, woken by socket.select.
local waiting = {} -- coroutine -> {socket, "r" | "w"}
local function resume(co)
    local ok, sock, dir = coroutine.resume(co)
    if not ok then
        io.stderr:write("http_server: ", tostring(sock), "\n")
    end
    if coroutine.status(co) ~= "dead" then
        waiting[co] = { sock, dir }
    end
end

while true do
    local client = listener:accept()
    while client do
        client:settimeout(0)
        resume(coroutine.create(function()
            serve(client)
        end))
        client = listener:accept()
    end
    local r, w, who = { listener }, {}, {}
    for co, wait in pairs(waiting) do
        local list = wait[2] == "w" and w or r
        list[#list + 1] = wait[1]
        who[wait[1]] = co
    end
    local rr, ww = socket.select(r, w, 30)
    for sock, co in pairs(who) do
        if rr[sock] or ww[sock] then
            waiting[co] = nil
            resume(co)
        end
    end
end
