-- lib_copas.lua: Debian's copas (a coroutine scheduler built on LuaSocket) over sockit.
-- A copas echo server (copas.addserver) and concurrent copas clients that connect with
-- copas.connect (a non-blocking connect completed through select), exchange lines,
-- N-byte blocks and 1 MiB, see a receive time out, and close. Run by
-- scripts/test-lua-libs.sh under lua5.1 and luajit.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")
expect_sockit({ "socket" })

local copas = require("copas")
local socket = require("socket")

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()

-- The echo handler: lines are echoed with a prefix; "BLOCK n" is followed by n bytes that
-- are sent back; "QUIT" ends the session; "SLEEP" makes the server say nothing.
copas.addserver(server, function(skt)
    local c = copas.wrap(skt)
    while true do
        local line, err = c:receive("*l")
        if not line then break end
        if line == "QUIT" then break end
        local n = string.match(line, "^BLOCK (%d+)$")
        if n then
            local data = c:receive(tonumber(n))
            if not data then break end
            c:send(data)
        elseif line ~= "SLEEP" then
            c:send("echo " .. line .. "\n")
        end
    end
    skt:close()
end)

local function bytes(n, seed)
    local t = {}
    for i = 1, n do
        seed = (seed * 1103515245 + 12345) % 2147483648
        t[i] = string.char(seed % 256)
    end
    return table.concat(t)
end

local CLIENTS = 20
local LINES = 50
local results = {}
local finished = 0

local function client(_, id) -- copas 1.2 passes the thread a nil socket first
    local skt = socket.tcp()
    local r, err = copas.connect(skt, "127.0.0.1", port)
    local res = { connect = r, connect_err = err, lines = 0 }
    results[id] = res
    if r then
        local c = copas.wrap(skt)
        local ok = true
        for i = 1, LINES do
            c:send("client " .. id .. " line " .. i .. "\n")
            local reply = c:receive("*l")
            if reply ~= "echo client " .. id .. " line " .. i then ok = false end
            res.lines = res.lines + 1
        end
        res.lines_ok = ok
        local block = bytes(1000 + id * 37, id)
        c:send("BLOCK " .. #block .. "\n")
        c:send(block)
        res.block_ok = c:receive(#block) == block
        c:send("QUIT\n")
        res.closed = select(2, c:receive("*l"))
        skt:close()
    end
    finished = finished + 1
end

for id = 1, CLIENTS do copas.addthread(client, id) end

-- 1 MiB each way, and a receive that times out
local big = bytes(1048576, 7)
local big_result, timeout_result
copas.addthread(function()
    local skt = socket.tcp()
    assert(copas.connect(skt, "127.0.0.1", port))
    local c = copas.wrap(skt)
    c:send("BLOCK " .. #big .. "\n")
    c:send(big)
    local got = c:receive(#big)
    big_result = got == big
    -- a plain socket with a short timeout: copas's receive loops on "timeout", so the
    -- timeout is seen on the raw socket between two copas steps
    c:send("SLEEP\n")
    skt:settimeout(0.2)
    local t0 = socket.gettime()
    local r, err, partial = skt:receive("*l")
    timeout_result = { r = r, err = err, partial = partial, waited = socket.gettime() - t0 }
    skt:close()
    finished = finished + 1
end)

-- a refused connect through copas.connect
local refused
copas.addthread(function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, p = s:getsockname()
    s:close()
    local skt = socket.tcp()
    refused = { copas.connect(skt, "127.0.0.1", p) }
    skt:close()
    finished = finished + 1
end)

local deadline = socket.gettime() + 60
while finished < CLIENTS + 2 and socket.gettime() < deadline do
    copas.step(0.1)
end

eq("every client finished", finished, CLIENTS + 2)
local connected, lines_ok, blocks_ok, closed = 0, 0, 0, 0
for id = 1, CLIENTS do
    local r = results[id] or {}
    if r.connect == 1 then connected = connected + 1 end
    if r.lines_ok and r.lines == LINES then lines_ok = lines_ok + 1 end
    if r.block_ok then blocks_ok = blocks_ok + 1 end
    if r.closed == "closed" then closed = closed + 1 end
end
eq("copas.connect connected every client", connected, CLIENTS)
eq("every client got its lines echoed", lines_ok, CLIENTS)
eq("every client got its block back", blocks_ok, CLIENTS)
eq("the server closed every session", closed, CLIENTS)
eq("1 MiB came back intact", big_result, true)
check("the receive timed out", timeout_result and timeout_result.r == nil and timeout_result.err == "timeout",
    timeout_result and timeout_result.err)
check("after about its timeout", timeout_result and timeout_result.waited >= 0.15 and timeout_result.waited < 5)
eq("a refused copas.connect: nil", refused and refused[1], nil)
eq("a refused copas.connect: the error", refused and refused[2], "connection refused")
server:close()
done()
