-- Lua 4.0 only: the 1.3b API used the way Lua 4.0 scripts of its time did (upvalues
-- with %, for k, v in table, tag-method objects), including the manual's select loop.
dofile("tests/lua/testlib.lua")

server, ip, port = bind("127.0.0.1", 0)
server:timeout(5)
clients = {}
peers = {}
for i = 1, 3 do
    clients[i] = connect("127.0.0.1", port)
    peers[i] = server:accept()
    peers[i]:timeout(1)
end

-- the manual's broadcast loop, bounded: read lines from whoever is ready, echo to all
clients[2]:send("hello from two\n")
got = {}
rounds = 0
while rounds < 5 and getn(got) < 1 do
    rounds = rounds + 1
    r, _, e = select(peers, nil, 1)
    for i, v in r do
        l, e = v:receive()
        if not e then
            tinsert(got, l)
            _, s, e = select(nil, peers, 1)
            for j, u in s do
                u:send(l, "\n")
            end
        end
    end
end
eq("select loop read the line", got[1], "hello from two")
for i = 1, 3 do
    clients[i]:timeout(1)
    eq("broadcast reached client " .. i, clients[i]:receive(), "hello from two")
end

-- a receive callback in the style of the 1.3b manual, with an upvalue
local total = { n = 0 }
local receive_cb = function(chunk, err)
    if chunk and chunk ~= "" then %total.n = %total.n + strlen(chunk) return 1 end
end
clients[1]:send("12345")
chunk = peers[1]:receive(5)
receive_cb(chunk)
eq("callback with an upvalue", total.n, 5)

-- socket objects are tables: iterate their own fields with for k, v
peers[1].label = "first"
found = nil
for k, v in peers[1] do
    if k == "label" then found = v end
end
eq("own field found by iteration", found, "first")

-- tag methods: the methods come from the object's tag
check("tag of a socket is not the default table tag", tag(peers[1]) ~= tag({}))
for i = 1, 3 do clients[i]:close() peers[i]:close() end
server:close()
done()
