-- bench/lua/copas.lua: a copas echo round trip, for bench/lua/run.sh (through bench.lua's
-- "copas" case). This process runs a copas echo server (copas.addserver); a second
-- process, started with the same interpreter and the same LUA_PATH/LUA_CPATH (so the
-- same socket library), runs CLIENTS copas clients that connect with copas.connect and
-- each send LINES lines and read every echo back. The time is from the start of the
-- clients to the end of the last session. Both processes stay below 1,024 descriptors,
-- so LuaSocket 3's select can serve them.
--
--   lua5.1 bench/lua/copas.lua clients <port> <clients> <lines>   (the client process)
--   dofile("bench/lua/copas.lua")(interpreter, clients, lines) -> seconds  (the server)
local copas = require("copas")
local socket = require("socket")

local function clients_main(port, n, lines)
    local done = 0
    for id = 1, n do
        copas.addthread(function()
            local skt = socket.tcp()
            assert(copas.connect(skt, "127.0.0.1", port))
            local c = copas.wrap(skt)
            local msg = "client " .. id .. " says hello to the echo server\n"
            local want = string.sub(msg, 1, -2)
            for _ = 1, lines do
                c:send(msg)
                assert(c:receive("*l") == want)
            end
            skt:close()
            done = done + 1
        end)
    end
    local deadline = socket.gettime() + 600
    while done < n and socket.gettime() < deadline do copas.step(1) end
    os.exit(done == n and 0 or 1)
end

if arg and arg[1] == "clients" then
    clients_main(tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4]))
end

return function(interpreter, n, lines)
    local server = assert(socket.bind("127.0.0.1", 0, 1024))
    local _, port = server:getsockname()
    local sessions = 0
    copas.addserver(server, function(skt)
        local c = copas.wrap(skt)
        while true do
            local line = c:receive("*l")
            if not line then break end
            c:send(line .. "\n")
        end
        skt:close()
        sessions = sessions + 1
    end)
    local t0 = socket.gettime()
    local child = io.popen(interpreter .. " bench/lua/copas.lua clients " .. port .. " " .. n .. " " .. lines)
    local deadline = t0 + 600
    while sessions < n and socket.gettime() < deadline do copas.step(1) end
    local elapsed = socket.gettime() - t0
    child:close()
    server:close()
    assert(sessions == n, "only " .. sessions .. " of " .. n .. " sessions ended")
    return elapsed
end
