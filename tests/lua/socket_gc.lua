-- __gc closes what nobody references: 10,000 objects of socket.core, socket.unix and
-- moonbridge_io created and dropped without close leave no descriptor open after a
-- full collection.
dofile("tests/lua/testlib.lua")
local socket = require("socket")
local unix = require("socket.unix")
local mb = require("moonbridge_io")

local limit = tonumber(os.getenv("SOCKIT_FD_LIMIT") or "") or 1024
local batch = 10000
if limit < 10600 then batch = math.floor(limit / 4) end

full_gc()
local before = count_fds()
check("sockets can be counted", before ~= nil and before >= 0, before)

local server = assert(socket.bind("127.0.0.1", 0))
local ip, port = server:getsockname()
server:settimeout(5)
local mport
do
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, p = s:getsockname()
    s:close()
    mport = tonumber(p)
end
local mlistener = assert(mb.tcplisten("127.0.0.1", mport))

collectgarbage("stop")
local made, failed = 0, nil
for i = 0, 9999 do
    local kind = i % 8
    local obj, err
    if kind == 0 then
        obj, err = socket.bind("127.0.0.1", 0)
    elseif kind == 1 then
        obj, err = socket.udp4()
    elseif kind == 2 then
        obj, err = socket.tcp4() -- a master with a descriptor
    elseif kind == 3 then
        obj, err = socket.connect(ip, port)
        if obj and not server:accept() then obj, err = nil, "accept failed" end
    elseif kind == 4 then
        obj, err = unix()
    elseif kind == 5 then
        obj, err = mb.tcpconnect("127.0.0.1", mport)
        if obj and not mlistener:accept() then obj, err = nil, "accept failed" end
    elseif kind == 6 then
        obj, err = socket.udp()
        if obj then obj:setsockname("127.0.0.1", 0) end
    else
        obj, err = socket.tcp6()
    end
    if obj then made = made + 1 elseif not failed then failed = err end
    if (i + 1) % batch == 0 then
        collectgarbage("restart")
        full_gc()
        collectgarbage("stop")
    end
end
collectgarbage("restart")
eq("10,000 objects made", made, 10000)
eq("no failure while making them", failed, nil)
full_gc()
eq("every dropped object was closed by __gc", count_fds(), before + 2)
server, mlistener = nil, nil
full_gc()
eq("and the listeners too", count_fds(), before)
done()
