-- lib_redis.lua: Debian's redis-lua (lua-redis) over sockit, against the redis-server
-- that scripts/test-lua-libs.sh started on a free port (SOCKIT_REDIS_PORT): commands,
-- 1 MiB binary values, pipelining, transactions and pub/sub. Run under lua5.1 and luajit.
package.path = "tests/lua/?.lua;" .. package.path
require("testlib")
expect_sockit({ "socket", "socket.url" })

local port = tonumber(os.getenv("SOCKIT_REDIS_PORT") or "")
if not port then
    print("# SOCKIT_REDIS_PORT is not set: run scripts/test-lua-libs.sh")
    os.exit(1)
end

local redis = require("redis")
local prefix = "sockit:" .. tostring(os.time()) .. ":" .. tostring(math.random(1000000)) .. ":"

local client = redis.connect("127.0.0.1", port)
check("redis.connect over sockit", client ~= nil)
eq("PING", client:ping(), true)
eq("SET", client:set(prefix .. "k", "value"), true)
eq("GET", client:get(prefix .. "k"), "value")
eq("INCR", client:incr(prefix .. "n"), 1)
eq("INCRBY", client:incrby(prefix .. "n", 41), 42)
eq("GET of a missing key", client:get(prefix .. "missing"), nil)
client:rpush(prefix .. "list", "a", "b", "c")
local list = client:lrange(prefix .. "list", 0, -1)
eq("LRANGE", list and table.concat(list, ","), "a,b,c")
client:hmset(prefix .. "h", { f1 = "v1", f2 = "v2" })
eq("HGET", client:hget(prefix .. "h", "f2"), "v2")
local ok, err = pcall(client.incr, client, prefix .. "k")
check("a server error is raised", not ok and tostring(err):find("ERR") ~= nil, err)

-- 1 MiB binary values, every byte value included
local t, seed = {}, 5
for i = 1, 1048576 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    t[i] = string.char(seed % 256)
end
local blob = table.concat(t)
eq("SET 1 MiB binary", client:set(prefix .. "blob", blob), true)
local back = client:get(prefix .. "blob")
eq("GET 1 MiB binary: length", back and #back, #blob)
eq("GET 1 MiB binary: bytes", back == blob, true)
eq("STRLEN", client:strlen(prefix .. "blob"), #blob)

-- pipelining: many commands in one write, replies read afterwards
local replies = client:pipeline(function(p)
    for i = 1, 500 do p:set(prefix .. "p" .. i, tostring(i * 2)) end
    for i = 1, 500 do p:get(prefix .. "p" .. i) end
end)
eq("pipeline: every reply", replies and #replies, 1000)
local good = 0
for i = 1, 500 do
    if replies[500 + i] == tostring(i * 2) then good = good + 1 end
end
eq("pipeline: the values in order", good, 500)

-- a transaction
local tx = client:transaction(function(m)
    m:set(prefix .. "tx", "1")
    m:incr(prefix .. "tx")
    m:get(prefix .. "tx")
end)
eq("MULTI/EXEC", tx and tx[3], "2")

-- the URL form (socket.url parses it)
local by_url = redis.connect("redis://127.0.0.1:" .. port .. "/?tcp_nodelay=true")
eq("connect by URL", by_url:get(prefix .. "k"), "value")

-- pub/sub: a subscriber and a publisher on two connections
local sub = redis.connect("127.0.0.1", port)
local loop = sub:pubsub({ subscribe = { prefix .. "chan" } })
local msg = loop()
eq("subscribe confirmed", msg and msg.kind, "subscribe")
local pub = redis.connect("127.0.0.1", port)
eq("PUBLISH reaches one subscriber", pub:publish(prefix .. "chan", "hello"), 1)
pub:publish(prefix .. "chan", blob)
local m1 = loop()
eq("message 1", m1 and m1.payload, "hello")
local m2, abort = loop()
eq("message 2 (1 MiB)", m2 and m2.payload == blob, true)
abort()
local rest = 0
for _ in loop do rest = rest + 1 end
eq("abort unsubscribes and ends the loop", rest, 0)

client:del(prefix .. "k", prefix .. "n", prefix .. "list", prefix .. "h", prefix .. "blob", prefix .. "tx")
for i = 1, 500 do client:del(prefix .. "p" .. i) end
client:quit()
done()
