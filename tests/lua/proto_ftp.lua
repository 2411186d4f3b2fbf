-- proto_ftp.lua: require "socket.ftp" (LuaSocket 3's API over sockit's FTP client)
-- against pyftpdlib (tests/servers). Run by scripts/test-lua-proto.sh under lua5.1 and
-- luajit.
dofile("tests/lua/testlib.lua")

local port = os.getenv("SOCKIT_FTP_PORT")
if not port then
    print("# SOCKIT_FTP_PORT is not set: run scripts/test-lua-proto.sh")
    os.exit(1)
end
local masq = os.getenv("SOCKIT_FTP_MASQ_PORT")
local root = os.getenv("SOCKIT_FTP_ROOT")
local user, pass = os.getenv("SOCKIT_FTP_USER"), os.getenv("SOCKIT_FTP_PASS")

local ftp = require("socket.ftp")
local ltn12 = require("ltn12")
local mime = require("mime")
local socket = require("socket")

-- a directory of its own for each interpreter run
local dir = "lua" .. tostring(os.time()) .. tostring(math.random(1000000))
local base = "ftp://" .. user .. ":" .. pass .. "@127.0.0.1:" .. port .. "/"

local function disk(name)
    local f = io.open(root .. "/" .. name, "rb")
    if not f then return nil end
    local s = f:read("*a")
    f:close()
    return s
end

local function bytes(n)
    local t, seed = {}, 99
    for i = 1, n do
        seed = (seed * 1103515245 + 12345) % 2147483648
        t[i] = string.char(seed % 256)
    end
    return table.concat(t)
end

eq("socket.ftp is the module", socket.ftp, ftp)
local r, err = ftp.command { host = "127.0.0.1", port = port, user = user, password = pass,
    command = "mkd", argument = dir, check = "2.." }
eq("ftp.command mkd", r, 1)

-- simple put / get, binary
local bin = bytes(200000)
r, err = ftp.put(base .. dir .. "/bin.dat;type=i", bin)
eq("simple put returns the bytes sent", r, #bin)
check("binary file on disk is exact", disk(dir .. "/bin.dat") == bin)
r, err = ftp.get(base .. dir .. "/bin.dat;type=i")
check("simple get binary", r == bin, err)

-- ASCII: the server turns CRLF into LF when storing and LF into CRLF when sending
r = ftp.put(base .. dir .. "/text.txt;type=a", "one\r\ntwo\r\n")
eq("ascii put", r, 10)
eq("ascii file on disk", disk(dir .. "/text.txt"), "one\ntwo\n")
eq("ascii get", ftp.get(base .. dir .. "/text.txt;type=a"), "one\r\ntwo\r\n")
r, err = ftp.get(base .. dir .. "/text.txt;type=x")
eq("invalid type", r, nil)
check("invalid type message", err and err:find("invalid type") ~= nil, err)

-- generic forms with sources and sinks
local t = {}
r, err = ftp.get { host = "127.0.0.1", port = port, user = user, password = pass,
    path = dir .. "/bin.dat", type = "i", sink = ltn12.sink.table(t) }
eq("generic get", r, 1)
check("generic get data", table.concat(t) == bin)
local parts, i = { "first ", "second ", "third" }, 0
r, err = ftp.put { host = "127.0.0.1", port = port, user = user, password = pass,
    path = dir .. "/lua.txt", type = "i", source = function()
        i = i + 1
        return parts[i]
    end }
eq("put from a Lua source", r, 18)
eq("Lua source data on disk", disk(dir .. "/lua.txt"), "first second third")
r = ftp.put { url = base .. dir .. "/b64.txt", type = "i",
    source = ltn12.source.chain(ltn12.source.string(bin), mime.encode("base64"), mime.wrap()) }
check("put from a native chain", r and r > #bin, r)
t = {}
r = ftp.get { url = base .. dir .. "/b64.txt", type = "i",
    sink = ltn12.sink.chain(mime.decode("base64"), (ltn12.sink.table(t))) }
check("native chain round trip", table.concat(t) == bin)
local name = os.tmpname()
local fh = io.open(name, "wb")
r = ftp.get { url = base .. dir .. "/bin.dat", type = "i", sink = ltn12.sink.file(fh) }
eq("get into a file sink", r, 1)
fh = io.open(name, "rb")
check("file sink data", fh:read("*a") == bin)
fh:close()
os.remove(name)

-- listings
t = {}
r = ftp.get { url = base .. dir, command = "nlst", sink = ltn12.sink.table(t) }
local listing = table.concat(t)
check("nlst lists the files", listing:find("bin.dat", 1, true) and listing:find("text.txt", 1, true),
    listing)
t = {}
r = ftp.get { url = base .. dir, command = "list", sink = ltn12.sink.table(t) }
check("list has sizes", table.concat(t):find("200000", 1, true) ~= nil, table.concat(t))

-- active mode: the server connects back
bin = bytes(50000)
r, err = ftp.put { url = base .. dir .. "/active.dat", type = "i", passive = false,
    source = ltn12.source.string(bin) }
eq("active put", r, #bin)
t = {}
r, err = ftp.get { url = base .. dir .. "/active.dat", type = "i", passive = false,
    sink = ltn12.sink.table(t) }
eq("active get", r, 1)
check("active data", table.concat(t) == bin)

-- the low-level session
local f = ftp.open("127.0.0.1", port)
check("open", f ~= nil)
eq("greet", f:greet(), 1)
eq("login", f:login(user, pass), 1)
eq("cwd", f:cwd(dir), 1)
eq("type", f:type("i"), 1)
eq("port (active)", f:port(), 1)
eq("send", f:send { path = "session.txt", source = ltn12.source.string("by session") }, 10)
t = {}
eq("receive", f:receive { path = "session.txt", sink = ltn12.sink.table(t) }, 1)
eq("received", table.concat(t), "by session")
eq("pasv", f:pasv(), 1)
t = {}
f:receive { argument = "session.txt", sink = ltn12.sink.table(t) }
eq("passive receive after active", table.concat(t), "by session")
local code, reply = f:command("pwd", nil, "257")
eq("command with check", code, 257)
check("reply text", reply and reply:find(dir, 1, true) ~= nil, reply)
eq("quit", f:quit(), 1)
f:close()

-- a server that refuses EPSV and lies in its PASV replies
t = {}
r, err = ftp.get { host = "127.0.0.1", port = masq, user = user, password = pass,
    path = dir .. "/text.txt", type = "i", sink = ltn12.sink.table(t) }
eq("masquerading server", r, 1)
eq("masquerading server data", table.concat(t), "one\ntwo\n")

-- anonymous: LuaSocket logs in as ftp.USER ("ftp"); this server calls it "anonymous"
r, err = ftp.get("ftp://127.0.0.1:" .. port .. "/" .. dir .. "/lua.txt;type=i")
check("default user ftp refused here", r == nil and err:find("^530") ~= nil, err)
ftp.USER = "anonymous"
r = ftp.get("ftp://127.0.0.1:" .. port .. "/" .. dir .. "/lua.txt;type=i")
eq("anonymous get", r, "first second third")
ftp.USER = "ftp"

-- failures
r, err = ftp.get(base .. dir .. "/missing.txt")
eq("missing file", r, nil)
check("missing file reply", err and err:find("^550") ~= nil, err)
r, err = ftp.get("ftp://" .. user .. ":bad@127.0.0.1:" .. port .. "/x")
eq("bad password", r, nil)
check("bad password reply", err and err:find("^530") ~= nil, err)
r, err = ftp.get("ftp://127.0.0.1:1/x")
eq("connection refused", err, "connection refused")
r, err = ftp.get("http://127.0.0.1/x")
check("wrong scheme", r == nil and err:find("wrong scheme") ~= nil, err)
r, err = ftp.command { host = "127.0.0.1", port = port, user = user, password = pass,
    command = "dele", argument = dir .. "/nothere", check = "2.." }
eq("command check failure", r, nil)
check("command check reply", err and err:find("^550") ~= nil, err)
r, err = ftp.put { url = base .. dir .. "/fail.txt", source = function() return nil, "source broke" end }
eq("source error", r, nil)
eq("source error message", err, "source broke")
r, err = ftp.get { url = base .. dir .. "/bin.dat", sink = function(c) if c then return nil, "enough" end return 1 end }
eq("sink error", err, "enough")

-- clean up
r = ftp.command { host = "127.0.0.1", port = port, user = user, password = pass,
    command = { "dele", "dele", "dele", "dele", "dele", "dele", "dele" },
    argument = { dir .. "/bin.dat", dir .. "/text.txt", dir .. "/lua.txt", dir .. "/b64.txt",
        dir .. "/active.dat", dir .. "/session.txt", dir .. "/fail.txt" } }
eq("dele several", r, 1)
r, err = ftp.command { host = "127.0.0.1", port = port, user = user, password = pass,
    command = "rmd", argument = dir, check = { "2..", "5.." } }
eq("rmd", r, 1)
done()
