-- Differential test: socket.select (doubly keyed results, timeouts, buffered input,
-- listening sockets, closed sockets, non-socket values, objects with getfd/dirty).
-- Run under LuaSocket 3 and under sockit by scripts/test-lua.sh; outputs must match.
local socket = require("socket")

local names = {}
local function name(o)
    return names[o] or tostring(o)
end

local function show_set(label, t)
    local out = {}
    for i = 1, #t do
        out[#out + 1] = name(t[i]) .. "@" .. tostring(t[t[i]])
    end
    table.sort(out)
    print(label, #t, table.concat(out, " "))
end

local function sel(label, r, w, timeout)
    local rr, ww, err = socket.select(r, w, timeout)
    show_set(label .. " read", rr)
    show_set(label .. " write", ww)
    print(label .. " err", err)
end

local server = assert(socket.bind("127.0.0.1", 0))
local ip, port = server:getsockname()
server:settimeout(5)
names[server] = "server"

sel("idle server", {server}, nil, 0)
local c1 = assert(socket.connect(ip, port))
names[c1] = "c1"
sel("pending connection", {server}, nil, 1)
local a1 = assert(server:accept())
names[a1] = "a1"
a1:settimeout(5)

sel("nothing to read", {a1, c1}, nil, 0.05)
sel("writable", nil, {c1, a1}, 1)
c1:send("one\ntwo\n")
sel("readable", {a1, c1}, {}, 1)
print(a1:receive())
-- "two\n" is buffered in a1 now: select must say so without asking the kernel
sel("buffered input", {a1}, nil, 0)
print(a1:receive())
sel("drained", {a1}, nil, 0)

-- non-socket values and holes are ignored; duplicates are reported as given
sel("junk ignored", {a1, "string", {}, c1}, nil, 0)
c1:send("x")
sel("duplicates", {a1, a1}, nil, 1)
print(a1:receive(1))

-- an object that is not a socket but has getfd and dirty
local wrapper = setmetatable({}, {__index = {
    getfd = function() return a1:getfd() end,
    dirty = function() return a1:dirty() end,
}})
names[wrapper] = "wrapper"
sel("wrapper idle", {wrapper}, nil, 0)
c1:send("y")
sel("wrapper ready", {wrapper}, nil, 1)
print(a1:receive(1))
local fake_dirty = setmetatable({}, {__index = {
    getfd = function() return a1:getfd() end,
    dirty = function() return true end,
}})
names[fake_dirty] = "fake_dirty"
sel("dirty object counts as readable", {fake_dirty}, nil, 1)

-- the peer closing makes the socket readable
c1:close()
sel("peer closed", {a1}, nil, 1)
print(a1:receive())
-- closed sockets are ignored
a1:close()
sel("closed ignored", {a1}, {a1}, 0)

-- empty sets: select sleeps until the timeout
sel("empty", {}, {}, 0.05)
sel("nils", nil, nil, 0)
server:close()
