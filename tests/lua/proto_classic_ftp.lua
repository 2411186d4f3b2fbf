-- LuaSocket 1.3b FTP globals (ftp_get, ftp_put, ftp_getindirect, ftp_putindirect)
-- against pyftpdlib. Lua 4.0 / 5.1 common subset: run by scripts/test-lua-proto.sh under
-- sockit-lua51 and sockit-lua4.
dofile("tests/lua/testlib.lua")
if LUA5 then
    remove = os.remove
    tmpname = os.tmpname
    execute = os.execute
end

PORT = getenv("SOCKIT_FTP_PORT")
if not PORT then
    print("# SOCKIT_FTP_PORT is not set: run scripts/test-lua-proto.sh")
    exit(1)
end
ROOT = getenv("SOCKIT_FTP_ROOT")
if LUA5 then NAME = "c51" else NAME = "c40" end
BASE = "ftp://" .. getenv("SOCKIT_FTP_USER") .. ":" .. getenv("SOCKIT_FTP_PASS") .. "@127.0.0.1:" .. PORT .. "/"
ANON = "ftp://127.0.0.1:" .. PORT .. "/"

function readfile(name)
    local s
    if LUA5 then
        local f = io.open(name, "rb")
        if not f then return nil end
        s = f:read("*a")
        f:close()
        return s
    end
    if not readfrom(name) then return nil end
    s = read("*a")
    readfrom()
    return s
end

check("the globals exist", ftp_get and ftp_put and ftp_getindirect and ftp_putindirect)

-- ASCII (the default): LF on our side, CRLF on the wire, the server's own line ends on disk
err = ftp_put(BASE .. NAME .. ".txt", "alpha\nbeta\n")
eq("ftp_put returns nil", err, nil)
eq("stored with the server's line ends", readfile(ROOT .. "/" .. NAME .. ".txt"), "alpha\nbeta\n")
data, err = ftp_get(BASE .. NAME .. ".txt")
eq("ftp_get", data, "alpha\nbeta\n")
eq("ftp_get error", err, nil)

-- binary
BIN = ""
for i = 0, 255 do BIN = BIN .. strchar(i) end
BIN = strrep(BIN, 40)
err = ftp_put(BASE .. NAME .. ".bin", BIN, "b")
eq("binary put", err, nil)
check("binary on disk exact", readfile(ROOT .. "/" .. NAME .. ".bin") == BIN)
data, err = ftp_get(BASE .. NAME .. ".bin", "b")
check("binary get exact", data == BIN, err)
data, err = ftp_get(BASE .. NAME .. ".bin;type=i")
check("type from the URL", data == BIN, err)

-- a listing: a path ending in "/"
data, err = ftp_get(BASE)
check("listing", data and strfind(data, NAME .. ".bin", 1, 1) ~= nil, err)

-- anonymous
data, err = ftp_get(ANON .. NAME .. ".txt")
eq("anonymous", data, "alpha\nbeta\n")

-- callbacks
GOT = ""
DONE = nil
function receiver(chunk, err)
    if chunk and chunk ~= "" then
        GOT = GOT .. chunk
        return 1
    end
    if chunk == "" then DONE = 1 end
end
err = ftp_getindirect(BASE .. NAME .. ".bin", receiver, "b")
eq("ftp_getindirect", err, nil)
check("receive callback data", GOT == BIN)
eq("receive callback end", DONE, 1)
function quitter(chunk, err)
    if chunk and chunk ~= "" then return nil, "got enough" end
    return 1
end
err = ftp_getindirect(BASE .. NAME .. ".bin", quitter, "b")
eq("receive callback aborts", err, "got enough")

POS = 0
function sender()
    local chunk = strsub(BIN, POS + 1, POS + 1000)
    POS = POS + strlen(chunk)
    return chunk, strlen(BIN)
end
err = ftp_putindirect(BASE .. NAME .. ".cb", sender, "b")
eq("ftp_putindirect", err, nil)
check("send callback data on disk", readfile(ROOT .. "/" .. NAME .. ".cb") == BIN)
function failsend()
    return nil, "no data"
end
err = ftp_putindirect(BASE .. NAME .. ".never", failsend, "b")
eq("send callback aborts", err, "no data")

-- failures
data, err = ftp_get(BASE .. "no-such-file")
eq("missing file data", data, nil)
check("missing file reply", err and strfind(err, "^550") ~= nil, err)
data, err = ftp_get("ftp://nobody:wrong@127.0.0.1:" .. PORT .. "/x")
check("bad login", data == nil and strfind(err or "", "^530") ~= nil, err)
data, err = ftp_get("ftp://127.0.0.1:1/x")
eq("refused", err, "connection refused")
remove(ROOT .. "/" .. NAME .. ".txt")
remove(ROOT .. "/" .. NAME .. ".bin")
remove(ROOT .. "/" .. NAME .. ".cb")
done()
