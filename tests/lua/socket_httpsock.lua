-- sockit.http (Emilua's http.socket): both roles in one process. The yield sockets
-- (http.socket.new(sock, {yield = true})) run as coroutines under a small select loop;
-- the blocking ones face a raw LuaSocket peer whose bytes are sent ahead. Covers the
-- message tables, states, framing, pipelining, trailers, 100-continue, refusals with
-- their status, timeouts, misuse, and sockets of socket.tcp, socket.unix and
-- moonbridge_io.
dofile("tests/lua/testlib.lua")
local socket = require("socket")
local http = require("sockit.http")

local listener = assert(socket.bind("127.0.0.1", 0))
local _, port = listener:getsockname()

-- A connected pair of socket.tcp objects.
local function pair()
    local c = assert(socket.connect("127.0.0.1", port))
    local s = assert(listener:accept())
    c:settimeout(5)
    s:settimeout(5)
    return c, s
end

-- Runs the functions as coroutines until all end; a coroutine yields (sock, "r"|"w")
-- when it would block. Bounded in rounds and time. Returns the number of yields.
local function run(...)
    local tasks = {}
    for i = 1, select("#", ...) do
        tasks[#tasks + 1] = { co = coroutine.create((select(i, ...))) }
    end
    local yields, start = 0, socket.gettime()
    for _ = 1, 100000 do
        local r, w, alive = {}, {}, false
        for _, t in ipairs(tasks) do
            if not t.dead then
                alive = true
                if not t.sock then
                    local ok, sock, dir = coroutine.resume(t.co)
                    if not ok then
                        error(sock)
                    end
                    if coroutine.status(t.co) == "dead" then
                        t.dead = true
                    else
                        yields = yields + 1
                        t.sock, t.dir = sock, dir
                    end
                end
                if t.sock then
                    table.insert(t.dir == "w" and w or r, t.sock)
                end
            end
        end
        if not alive then
            return yields
        end
        assert(socket.gettime() - start < 30, "scheduler: out of time")
        local rr, ww = socket.select(r, w, 1)
        for _, t in ipairs(tasks) do
            if t.sock and ((t.dir == "w" and ww[t.sock]) or (t.dir ~= "w" and rr[t.sock])) then
                t.sock = nil
            end
        end
    end
    error("scheduler: too many rounds")
end

-- ----- messages ------------------------------------------------------------------

local req, res = http.request.new(), http.response.new()
eq("request.new method", req.method, "GET")
eq("request.new target", req.target, "/")
eq("request.new body", req.body, "")
check("request.new headers", type(req.headers) == "table" and next(req.headers) == nil)
eq("response.new status", res.status, 200)
check("response.new trailers", type(res.trailers) == "table")

-- ----- yield sockets: a server and a client coroutine ---------------------------------

do
    local c, s = pair()
    local hc = http.socket.new(c, { yield = true })
    local hs = http.socket.new(s, { yield = true, read_chunk = 1000 })
    eq("initial read_state", hs.read_state, "empty")
    eq("initial write_state", hs.write_state, "empty")
    local big = string.rep("0123456789", 100000) -- 1 MB each way
    local server_log, client_log = {}, {}

    local function server()
        local rq, rs = http.request.new(), http.response.new()
        for n = 1, 3 do
            assert(hs:read_request(rq))
            server_log[n] = { method = rq.method, target = rq.target, state = hs.read_state,
                wstate = hs.write_state, tags = rq.headers["x-tag"], host = rq.headers.host }
            local pieces = 0
            while hs.read_state ~= "finished" do
                local before = #rq.body
                assert(hs:read_some(rq))
                assert(#rq.body - before <= 1000, "read_chunk bounds read_some")
                pieces = pieces + 1
            end
            server_log[n].body = rq.body
            server_log[n].pieces = pieces
            server_log[n].trailer = rq.trailers["x-sum"]
            if rq.target == "/stream" then
                rs.status, rs.reason = 200, ""
                rs.headers = { ["content-type"] = "text/plain" }
                assert(hs:write_response_metadata(rs))
                server_log[n].meta_state = hs.write_state
                rs.body = "first,"
                assert(hs:write(rs))
                rs.body = big
                assert(hs:write(rs))
                rs.trailers = { ["x-md5"] = "abc" }
                assert(hs:write_trailers(rs))
            else
                rs.status, rs.reason = 201, "Made"
                rs.headers = { ["set-cookie"] = { "a=1", "b=2" } }
                rs.body = "got " .. #rq.body
                assert(hs:write_response(rs))
            end
            server_log[n].after = hs.read_state .. "/" .. hs.write_state
        end
        local ok, err = hs:read_request(rq)
        server_log.last = { ok, err }
    end

    local function client()
        local rq, rs = http.request.new(), http.response.new()
        rq.method, rq.target = "POST", "/upload"
        rq.headers = { host = "example.org", ["x-tag"] = { "one", "two" } }
        rq.body = big
        assert(hc:write_request(rq))
        rq.method, rq.target, rq.body = "GET", "/second", ""
        rq.headers = { host = "example.org" }
        assert(hc:write_request(rq))
        client_log.pipelined = hc.read_state .. "/" .. hc.write_state
        for n = 1, 2 do
            assert(hc:read_response(rs))
            client_log[n] = { status = rs.status, reason = rs.reason, cookies = rs.headers["set-cookie"] }
            while hc.read_state ~= "empty" do
                assert(hc:read_some(rs))
            end
            client_log[n].body = rs.body
        end
        -- a streamed request with a trailer
        rq.method, rq.target = "PUT", "/stream"
        assert(hc:write_request_metadata(rq))
        client_log.meta = hc.write_state
        rq.body = "abc"
        assert(hc:write(rq))
        rq.body = "de"
        assert(hc:write(rq))
        rq.trailers = { ["x-sum"] = "5" }
        assert(hc:write_trailers(rq))
        client_log.after_trailers = hc.write_state
        assert(hc:read_response(rs))
        client_log[3] = { status = rs.status, te = rs.headers["transfer-encoding"] }
        local got = {}
        while hc.read_state ~= "empty" do
            assert(hc:read_some(rs))
            got[#got + 1] = rs.body
            rs.body = "" -- flat memory: the caller empties the body
        end
        client_log[3].body = table.concat(got)
        client_log[3].md5 = rs.trailers["x-md5"]
        assert(hc:close())
    end

    local yields = run(server, client)
    check("the sockets yielded while blocked", yields > 2, yields)
    eq("pipelined: states stay empty", client_log.pipelined, "empty/empty")
    eq("1: method", server_log[1].method, "POST")
    eq("1: target", server_log[1].target, "/upload")
    eq("1: read_state after read_request", server_log[1].state, "message_ready")
    eq("1: write_state after read_request", server_log[1].wstate, "empty")
    eq("1: host", server_log[1].host, "example.org")
    check("1: repeated field as an array", type(server_log[1].tags) == "table"
        and server_log[1].tags[1] == "one" and server_log[1].tags[2] == "two")
    eq("1: the whole body", server_log[1].body, big)
    check("1: in pieces of at most read_chunk", server_log[1].pieces >= 1000, server_log[1].pieces)
    eq("1: after the response", server_log[1].after, "empty/finished")
    eq("2: a GET has no body: finished at once", server_log[2].state, "finished")
    eq("1: response status", client_log[1].status, 201)
    eq("1: response reason", client_log[1].reason, "Made")
    check("1: set-cookie array", type(client_log[1].cookies) == "table" and #client_log[1].cookies == 2)
    eq("1: response body", client_log[1].body, "got 1000000")
    eq("2: response body", client_log[2].body, "got 0")
    eq("metadata_issued", client_log.meta, "metadata_issued")
    eq("client write_state after trailers", client_log.after_trailers, "empty")
    eq("3: streamed request body", server_log[3].body, "abcde")
    eq("3: its trailer", server_log[3].trailer, "5")
    eq("3: server metadata_issued", server_log[3].meta_state, "metadata_issued")
    eq("3: chunked response", client_log[3].te, "chunked")
    eq("3: streamed response body", client_log[3].body, "first," .. big)
    eq("3: response trailer", client_log[3].md5, "abc")
    eq("closed by the client", server_log.last[2], "closed")
    c:close()
    s:close()
end

-- ----- blocking sockets facing a raw peer ------------------------------------------

-- Sends `data` on c, then returns what the peer sends back until it closes or a short
-- silence.
local function answer(c, data)
    if data then
        assert(c:send(data))
    end
    c:settimeout(0.3)
    local got, err, part = c:receive("*a")
    c:settimeout(5)
    return got or part, err
end

do -- exact bytes of a server's responses, keep-alive and HTTP/1.0
    local c, s = pair()
    local hs = http.socket.new(s)
    c:send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    local rq, rs = http.request.new(), http.response.new()
    assert(hs:read_request(rq))
    rs.body = "hello"
    rs.headers = { ["content-type"] = "text/plain" }
    assert(hs:write_response(rs))
    assert(hs:read_request(rq))
    eq("HTTP/1.0 request read", rq.target, "/b")
    rs.status, rs.body, rs.headers = 404, "", {}
    assert(hs:write_response(rs))
    local got = answer(c)
    eq("wire bytes", got, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
        .. "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    eq("is_open after HTTP/1.0", hs.is_open, false)
    local ok, err = hs:read_request(rq)
    check("no request after the last one", ok == nil and err == "closed", err)
    c:close()
    s:close()
end

do -- refusals: nil, message, status; write_error answers it
    local cases = {
        { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400,
            "both Content%-Length and Transfer%-Encoding" },
        { "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  folded\r\n\r\n", 400, "obsolete line folding" },
        { "GET /" .. string.rep("a", 9000) .. " HTTP/1.1\r\n\r\n", 414, "request line longer" },
        { "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "not supported" },
    }
    for _, case in ipairs(cases) do
        local c, s = pair()
        local hs = http.socket.new(s)
        c:send(case[1])
        local rq = http.request.new()
        local ok, err, status = hs:read_request(rq)
        check("refused " .. case[2], ok == nil and type(err) == "string" and err:find(case[3]) ~= nil, err)
        eq("status " .. case[2], status, case[2])
        eq("read_state after a refusal", hs.read_state, "finished")
        assert(hs:write_error())
        local got = answer(c)
        check("answered " .. case[2], got:sub(1, 13) == "HTTP/1.1 " .. case[2] .. " ", got)
        check("and closed", got:find("Connection: close\r\n", 1, true) ~= nil)
        c:close()
        s:close()
    end
    -- a body larger than max_body: 413
    local c, s = pair()
    local hs = http.socket.new(s, { max_body = 10 })
    c:send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890")
    local ok, err, status = hs:read_request(http.request.new())
    check("max_body refused", ok == nil and err:find("larger than the limit") ~= nil, err)
    eq("413", status, 413)
    c:close()
    s:close()
end

do -- timeouts, states, misuse
    local c, s = pair()
    s:settimeout(0.2)
    local hs = http.socket.new(s)
    local rq = http.request.new()
    local t0 = socket.gettime()
    local ok, err = hs:read_request(rq)
    check("read_request times out", ok == nil and err == "timeout", err)
    check("within the socket's timeout", socket.gettime() - t0 < 2)
    eq("state unchanged", hs.read_state, "empty")
    ok, err = hs:read_some(rq)
    check("read_some out of order", ok == nil and err:find("read_state is 'empty'", 1, true) ~= nil, err)
    ok, err = hs:write_response(http.response.new())
    check("write_response before a request", ok == nil and err:find("no request") ~= nil, err)
    c:send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert(hs:read_request(rq))
    -- injection refused, nothing sent
    local rs = http.response.new()
    rs.headers = { ["x-evil"] = "a\r\nInjected: 1" }
    ok, err = hs:write_response(rs)
    check("CR LF in a value refused", ok == nil and err:find("CR") ~= nil, err)
    rs.headers = { ["x\0y"] = "v" }
    ok, err = hs:write_response(rs)
    eq("NUL in a name refused", err, "header name contains NUL")
    rs.headers = { ["x-nul"] = "a\0b" }
    ok, err = hs:write_response(rs)
    check("NUL in a value refused", ok == nil and err:find("NUL") ~= nil, err)
    rs.headers, rs.status = {}, 42
    ok, err = hs:write_response(rs)
    check("bad status refused", ok == nil and err:find("42") ~= nil, err)
    local got, gerr = answer(c)
    eq("nothing was sent", got, "")
    eq("(silence)", gerr, "timeout")
    -- misuse raises errors
    check("new(nil)", not pcall(http.socket.new, nil))
    check("new(sock, 'x')", not pcall(http.socket.new, c, "x"))
    check("read_request('x')", not pcall(hs.read_request, hs, "x"))
    check("headers must be a table", not pcall(hs.write_response, hs, { headers = "x" }))
    check("header names are strings", not pcall(hs.write_response, hs, { headers = { [1] = "x" } }))
    local closed = socket.tcp()
    closed:close()
    check("new on a closed socket", not pcall(http.socket.new, closed))
    check("tostring", tostring(hs):find("^http%.socket: ") ~= nil)
    assert(hs:close())
    assert(hs:close())
    ok, err = hs:read_request(rq)
    eq("closed after close", err, "closed")
    c:close()
end

do -- 100-continue: read_some answers it; the client sees the interim response
    local c, s = pair()
    local hc = http.socket.new(c, { yield = true })
    local hs = http.socket.new(s, { yield = true })
    local seen = {}
    run(function()
        local rq = http.request.new()
        assert(hs:read_request(rq))
        seen.expect = rq.headers.expect
        while hs.read_state ~= "finished" do
            assert(hs:read_some(rq))
        end
        seen.wstate = hs.write_state
        seen.body = rq.body
        assert(hs:write_response(http.response.new()))
    end, function()
        local rq, rs = http.request.new(), http.response.new()
        rq.method, rq.target = "PUT", "/x"
        rq.headers = { host = "h", expect = "100-continue" }
        assert(hc:write_request_metadata(rq))
        assert(hc:read_response(rs))
        seen.interim = rs.status
        seen.interim_state = hc.read_state
        rq.body = "payload"
        assert(hc:write(rq))
        assert(hc:write_end_of_message())
        assert(hc:read_response(rs))
        seen.final = rs.status
    end)
    eq("expect reported", seen.expect, "100-continue")
    eq("interim 100", seen.interim, 100)
    eq("read_state stays empty after 100", seen.interim_state, "empty")
    eq("continue_issued", seen.wstate, "continue_issued")
    eq("body after 100", seen.body, "payload")
    eq("final", seen.final, 200)
    c:close()
    s:close()
end

do -- socket.unix and moonbridge_io sockets
    local unix = require("socket.unix")
    local path = os.tmpname()
    os.remove(path)
    local ul = assert(unix.stream())
    assert(ul:bind(path))
    assert(ul:listen(1))
    local uc = assert(unix.stream())
    assert(uc:connect(path))
    local us = assert(ul:accept())
    local hs = http.socket.new(us)
    uc:send("GET /unix HTTP/1.1\r\nHost: x\r\n\r\n")
    local rq = http.request.new()
    assert(hs:read_request(rq))
    eq("over a Unix socket", rq.target, "/unix")
    assert(hs:write_response(http.response.new()))
    uc:settimeout(2)
    eq("answered over Unix", uc:receive("*l"), "HTTP/1.1 200 OK")
    uc:close()
    us:close()
    ul:close()
    os.remove(path)

    local mb = require("moonbridge_io")
    local _, mport = listener:getsockname()
    local ms = assert(mb.tcpconnect("127.0.0.1", mport))
    local peer = assert(listener:accept())
    local hm = http.socket.new(ms)
    local rq2 = http.request.new()
    rq2.headers.host = "mb"
    assert(hm:write_request(rq2))
    peer:settimeout(2)
    eq("moonbridge socket as client", peer:receive("*l"), "GET / HTTP/1.1")
    peer:send("HTTP/1.1 204 No Content\r\n\r\n")
    local rs = http.response.new()
    assert(hm:read_response(rs))
    eq("response over moonbridge_io", rs.status, 204)
    peer:close()
    ms:close()
end

listener:close()
done()
