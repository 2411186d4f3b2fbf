-- Differential test: "*l" receives mixed with every other use of the socket. sockit's
-- "*l" receive looks at the lines buffered behind the one it returns and hands them out
-- from there; nothing else may notice. scripts/test-lua.sh runs this once with LuaSocket 3
-- and once with sockit; the output must be the same. No ports, addresses or times.
local socket = require("socket")
local ltn12 = require("ltn12")

local difflib = dofile("tests/lua/difflib.lua")
local show = difflib.show

local server, pair = difflib.listener()

-- Sends text and waits until it has arrived, so that the first receive buffers it all.
local function put(c, a, text)
    assert(c:send(text))
    socket.select({a}, nil, 1)
    socket.sleep(0.02)
end

local c, a = pair()

print("-- other patterns between lines")
put(c, a, "l1\nl2\nl3\r\nl4\nl5\nl6\nl7\nl8\nrest of it")
show(a:receive())
show(a:receive(4))           -- a count in the middle of lines looked at ahead
show(a:receive("*l"))
show(a:receive("*l", "pre:")) -- a prefix
show(a:receive("*l"))
show(a:receive(0))
show(a:receive())
show(a:dirty())
show(a:receive("*l"))
show(a:receive(2, "x"))
c:send("\n")
show(a:receive())

print("-- CRs inside lines, CRLF, empty lines")
put(c, a, "a\r\nb\rc\n\n\r\nd\r\r\ne\rf\r\n\ng\n")
for _ = 1, 8 do show(a:receive()) end

print("-- dirty and select follow what Lua has not received")
put(c, a, "s1\ns2\ns3\n")
show(a:receive())
show(a:dirty())
local r = socket.select({a}, nil, 0)
show(#r, r[a] ~= nil)
show(a:receive())
show(a:receive())
show(a:dirty())
r = socket.select({a}, nil, 0)
show(#r)
a:settimeout(0)
show(a:receive())
a:settimeout(5)

print("-- timeouts and settimeout between lines")
put(c, a, "t1\nt2\nt3\npartial")
show(a:receive())
show(a:settimeout(0.05))
show(a:receive())
show(a:receive())
show(a:receive())
show(a:gettimeout())
c:send(" done\n")
show(a:receive())
a:settimeout(5)

print("-- stats count what came from the kernel")
local before = a:getstats()
put(c, a, "u1\nu2\nu3\nu4\n")
show(a:receive())
show(a:getstats() - before)
show(a:receive(), a:receive())
show(a:getstats() - before)

print("-- a source made after lines were looked at")
put(c, a, "v1\nv2\nv3\nv4\nv5\n")
show(a:receive())
show(a:receive())
c:close()
local got = {}
local snk = ltn12.sink.table(got)
show(ltn12.pump.all(socket.source("until-closed", a), snk))
show(table.concat(got))
show(a:receive())
a:close()

print("-- the peer closes behind buffered lines; *a takes the rest")
c, a = pair()
put(c, a, "w1\nw2\nw3\ntail without end")
show(a:receive())
c:close()
show(a:receive("*a"))
show(a:receive())
show(a:receive("*a"))
a:close()

print("-- shutdown and close between lines")
c, a = pair()
put(c, a, "x1\nx2\nx3\n")
show(a:receive())
show(a:shutdown("receive"))
show(a:receive())
show(a:close())
-- (LuaSocket 3 still hands out what its buffer held after close, and calls itself dirty;
-- sockit drops it, so the script does not look again here.)
c:close()

print("-- thousands of lines, with counts and prefixes among them")
c, a = pair()
local lines = {}
for i = 1, 3000 do
    lines[i] = string.rep(string.char(97 + i % 26), i % 70) .. i
end
local text = table.concat(lines, "\n") .. "\n"
assert(c:send(text)) -- about 110 KiB: the kernel's buffers hold it
c:close()
local wrong, count, i = 0, 0, 1
while true do
    local line, err
    if i % 97 == 0 then
        line, err = a:receive(#lines[i] + 1)
        if line then line = line:sub(1, -2) end
    elseif i % 89 == 0 then
        line, err = a:receive("*l", "#")
        if line then line = line:sub(2) end
    else
        line, err = a:receive()
    end
    if not line then
        show("ended", err, i - 1)
        break
    end
    if line ~= lines[i] then wrong = wrong + 1 end
    count = count + 1
    i = i + 1
end
show(count, wrong)
a:close()

print("-- how patterns are spelled")
c, a = pair()
put(c, a, "one\ntwo\nthree\n0123456789\n")
a:settimeout(0.05)
for _, pat in ipairs({"*line", "l", "a", "*x", "L", "*L", "**l", "", "3", " 2 ", "0x2", "-1", "*all"}) do
    show(pat, pcall(a.receive, a, pat))
end
a:close()
c:close()
server:close()
