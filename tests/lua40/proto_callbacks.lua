-- Lua 4.0 only: the LuaSocket 1.3b protocol globals used the way the manual shows, with
-- upvalues (%name) in the callbacks, files through Lua 4.0's io functions, and
-- "for k, v in t" loops. Run by scripts/test-lua-proto.sh under sockit-lua4.
dofile("tests/lua/testlib.lua")

HTTP = "http://127.0.0.1:" .. getenv("SOCKIT_HTTPBIN_PORT")
FTP = "ftp://" .. getenv("SOCKIT_FTP_USER") .. ":" .. getenv("SOCKIT_FTP_PASS") .. "@127.0.0.1:" .. getenv("SOCKIT_FTP_PORT") .. "/"
FTPROOT = getenv("SOCKIT_FTP_ROOT")

-- saves incoming data to disk, chunk by chunk (the manual's receive_cb)
name = tmpname()
local file = openfile(name, "wb")
local receive_cb = function(chunk, err)
    if chunk and chunk ~= "" then
        local res, err = write(%file, chunk)
        if not res then return nil, err
        else return 1 end
    else closefile(%file) end
end
hdrs, status, err = http_getindirect(HTTP .. "/bytes/40000?seed=11", receive_cb)
eq("download to a file through a receive callback", err, nil)
body = http_get(HTTP .. "/bytes/40000?seed=11")
readfrom(name)
saved = read("*a")
readfrom()
check("file holds the body", saved == body, strlen(saved or ""))

-- throughput feedback with a table upvalue (the manual's second receive_cb)
local aux = { start = _time(), got = 0, calls = 0 }
local progress_cb = function(chunk, err)
    local dt = _time() - %aux.start
    if not chunk or chunk == "" then return end
    %aux.got = %aux.got + strlen(chunk)
    %aux.calls = %aux.calls + 1
    if dt < 0.1 then return 1 end
    local rate = %aux.got / dt
    return 1
end
hdrs, status, err = http_getindirect(HTTP .. "/stream-bytes/60000?chunk_size=1000", progress_cb)
eq("progress callback error", err, nil)
eq("progress callback counted every byte", aux.got, 60000)
check("called chunk by chunk", aux.calls > 1, aux.calls)

-- sends data from a file, in blocks of 4096 bytes (the manual's send_cb)
local file = openfile(name, "rb")
local size = seek(file, "end")
seek(file, "set")
local send_cb = function()
    local chunk = read(%file, 4096)
    if not chunk then
        closefile(%file)
        return "", %size
    else return chunk, %size end
end
err = ftp_putindirect(FTP .. "lua40.bin", send_cb, "b")
eq("upload from a file through a send callback", err, nil)
readfrom(FTPROOT .. "/lua40.bin")
up = read("*a")
readfrom()
check("uploaded file is exact", up == body)

-- sends everything in the first call (the manual's last send_cb)
local data = "everything at once"
local once_cb = function()
    return %data, strlen(%data)
end
local echo = { text = "" }
local echo_cb = function(chunk, err)
    if chunk then %echo.text = %echo.text .. chunk end
    return 1
end
hdrs, status, err = http_postindirect(HTTP .. "/post", echo_cb, once_cb, {["content-type"] = "text/plain"})
eq("post from a one-shot send callback", err, nil)
check("the server got it", strfind(echo.text, '"data": "everything at once"', 1, 1) ~= nil, echo.text)

-- a Lua error inside a callback aborts the transfer (Lua 4.0 also reports it on stderr)
local broken_cb = function(chunk, err)
    if chunk and chunk ~= "" then error("broken callback") end
    return 1
end
hdrs, status, err = http_getindirect(HTTP .. "/get", broken_cb)
eq("an error in a callback aborts", err, "error in receive callback")

-- headers tables walked with for k, v in t
body, hdrs, status, err = http_get(HTTP .. "/response-headers?X-One=1&X-Two=2")
n = 0
for k, v in hdrs do
    if k == "x-one" or k == "x-two" then n = n + 1 end
end
eq("response headers table", n, 2)

-- smtp_mail with the manual's argument shapes
headers = {
    to = "fulano@example.com, beltrano@example.com",
    subject = "LuaSocket test message"
}
from = "luasocket@example.com"
rcpt = {
    "fulano@example.com",
    "beltrano@example.com",
    "sicrano@example.com"
}
body = "This is a test message. Please ignore."
server = "127.0.0.1:" .. getenv("SOCKIT_SMTP_PORT")
e = smtp_mail(from, rcpt, headers, body, server)
eq("the manual's smtp_mail", e, nil)
remove(name)
remove(FTPROOT .. "/lua40.bin")
done()
