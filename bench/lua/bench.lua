-- bench/lua/bench.lua <case> [size_mib]: one benchmark case, run by bench/lua/run.sh
-- once with LuaSocket 3 and once with sockit (whichever `require "socket"` finds).
-- Prints "<case> <seconds>". Cases:
--   lines | all | blocks  receive size_mib MiB over loopback as "*l" lines (64 bytes),
--                         as "*a", or as 8 KiB blocks; a second process sends
--   select                1,000 sockets (500 connected pairs), 20,000 select calls with
--                         one socket readable
--   copas                 a copas echo server and, in a second process with the same
--                         library, size_mib (default 1,000) copas clients of 100 lines
--                         each (bench/lua/copas.lua)
-- (The ltn12/mime pipeline and http.request cases are in proto.lua, run by run-proto.sh.)
local socket = require("socket")
local case = arg[1]
local mib = tonumber(arg[2] or "100")
local sender = arg[3] -- command line that runs the sender ("... bench.lua send")

if case == "send" then
    -- sender: connect, send `mib` MiB of 64-byte lines, close
    local port, size = tonumber(arg[2]), tonumber(arg[3])
    local c = assert(socket.connect("127.0.0.1", port))
    local line = string.rep("x", 63) .. "\n"
    local block = string.rep(line, 1024) -- 64 KiB
    for _ = 1, size * 16 do
        assert(c:send(block))
    end
    c:close()
    os.exit(0)
end

local function receive_case(pattern)
    local server = assert(socket.bind("127.0.0.1", 0))
    local _, port = server:getsockname()
    local child = io.popen(sender .. " send " .. port .. " " .. mib)
    local peer = assert(server:accept())
    local t0 = socket.gettime()
    local total = 0
    while true do
        local data, err, partial = peer:receive(pattern)
        if data then
            total = total + #data + (pattern == "*l" and 1 or 0)
        else
            total = total + #(partial or "")
            break
        end
        if pattern == "*a" then break end
    end
    local dt = socket.gettime() - t0
    child:close()
    assert(total == mib * 1048576, "received " .. total)
    return dt
end

local dt
if case == "lines" then
    dt = receive_case("*l")
elseif case == "all" then
    dt = receive_case("*a")
elseif case == "blocks" then
    dt = receive_case(8192)
elseif case == "select" then
    local server = assert(socket.bind("127.0.0.1", 0, 1000))
    local _, port = server:getsockname()
    local set = {}
    for i = 1, 500 do
        local c = assert(socket.connect("127.0.0.1", port))
        local a = assert(server:accept())
        set[#set + 1] = c
        set[#set + 1] = a
    end
    set[777]:send("x") -- its peer (776 or 778) becomes readable
    local t0 = socket.gettime()
    for _ = 1, 20000 do
        local r = socket.select(set, nil, 1)
        assert(#r == 1)
    end
    dt = socket.gettime() - t0
elseif case == "copas" then
    local interpreter = arg[-1] or "lua5.1"
    dt = dofile("bench/lua/copas.lua")(interpreter, tonumber(arg[2] or "1000"), 100)
else
    error("unknown case " .. tostring(case))
end
print(string.format("%s %.3f", case, dt))
