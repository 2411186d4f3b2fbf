-- Garbage collection closes sockets nobody references (Lua 4.0 "gc" tag method,
-- Lua 5.1 __gc): 10,000 sockets (TCP servers, UDP sockets, connected pairs) created and
-- dropped without close leave no descriptor open after a full collection.
-- Lua 4.0 / 5.1 common subset: runs under sockit-lua4 and sockit-lua51.
dofile("tests/lua/testlib.lua")

-- Without a descriptor limit above 10,000 the sockets are dropped in batches, with a
-- collection after each (scripts/test-lua.sh raises the limit when it can).
limit = tonumber(getenv("SOCKIT_FD_LIMIT") or "") or 1024
batch = 10000
if limit < 10600 then batch = floor(limit / 4) end
if LUA5 then collectgarbage("stop") end

full_gc()
before = count_fds()
check("sockets can be counted", before ~= nil and before >= 0, before)

server, sip, sport = bind("127.0.0.1", 0)
server:timeout(5)
made = 0
failed = nil
i = 0
while i < 10000 do
    local kind = i - floor(i / 4) * 4
    local s, err
    if kind == 0 then
        s, err = bind("127.0.0.1", 0)
    elseif kind == 1 or kind == 2 then
        s, err = udpsocket()
    else
        -- a connected pair: the client, and the server's side of it
        s, err = connect("127.0.0.1", sport)
        if s then
            local a = server:accept()
            if not a then s = nil err = "accept failed" end
        end
    end
    if s then made = made + 1 elseif not failed then failed = err end
    i = i + 1
    if i - floor(i / batch) * batch == 0 then
        if LUA5 then collectgarbage("restart") end
        full_gc()
        if LUA5 then collectgarbage("stop") end
    end
end
eq("10,000 sockets made", made, 10000)
eq("no failure while making them", failed, nil)
if LUA5 then collectgarbage("restart") end
full_gc()
after = count_fds()
-- the listening server is still referenced: one more descriptor than before
eq("every dropped socket was closed by the collector", after, before + 1)
server = nil
full_gc()
eq("and the last one too", count_fds(), before)
done()
