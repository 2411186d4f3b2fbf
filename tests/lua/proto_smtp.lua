-- proto_smtp.lua: require "socket.smtp" and "socket.tp" (LuaSocket 3's API over sockit's
-- SMTP client) against aiosmtpd (tests/servers): what the server stored is compared
-- byte for byte. Run by scripts/test-lua-proto.sh under lua5.1 and luajit.
dofile("tests/lua/testlib.lua")

local port = os.getenv("SOCKIT_SMTP_PORT")
if not port then
    print("# SOCKIT_SMTP_PORT is not set: run scripts/test-lua-proto.sh")
    os.exit(1)
end
local auth_port = os.getenv("SOCKIT_SMTP_AUTH_PORT")
local helo_port = os.getenv("SOCKIT_SMTP_HELO_PORT")
local spool = os.getenv("SOCKIT_SMTP_SPOOL")
local suser, spass = os.getenv("SOCKIT_SMTP_USER"), os.getenv("SOCKIT_SMTP_PASS")

local smtp = require("socket.smtp")
local tp = require("socket.tp")
local ltn12 = require("ltn12")
local mime = require("mime")
local socket = require("socket")

local function count()
    local p = io.popen("ls '" .. spool .. "' | grep -c 'json$'")
    local n = tonumber(p:read("*l"))
    p:close()
    return n or 0
end

local function readfile(name)
    local f = io.open(name, "rb")
    if not f then return nil end
    local s = f:read("*a")
    f:close()
    return s
end

-- The message and metadata the server stored as number n.
local function stored(n)
    local b = string.format("%s/%04d", spool, n)
    return readfile(b .. ".eml"), readfile(b .. ".json")
end

-- Sends and returns send's results and what was stored.
local function send(t)
    local before = count()
    t.server = t.server or "127.0.0.1"
    t.port = t.port or port
    local r, err = smtp.send(t)
    local eml, meta
    if r then eml, meta = stored(before + 1) end
    return r, err, eml, meta
end

eq("socket.smtp is the module", socket.smtp, smtp)

local msg = "From: <sender@example.com>\r\nTo: <rcpt@example.com>\r\nSubject: plain\r\n\r\n" ..
    "Hello,\r\n.a line that starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n"
local r, err, eml, meta = send { from = "<sender@example.com>", rcpt = "<rcpt@example.com>",
    source = ltn12.source.string(msg) }
eq("send", r, 1)
check("stored byte for byte (dot-stuffing undone by the server)", eml == msg, eml)
check("envelope sender", meta and meta:find('"mail_from": "sender@example.com"', 1, true) ~= nil, meta)
check("envelope recipient", meta and meta:find('"rcpt_tos": %["rcpt@example.com"%]') ~= nil, meta)
check("EHLO name", meta and meta:find('"helo": "localhost"', 1, true) ~= nil, meta)

r, err, eml, meta = send { from = "<a@example.com>", rcpt = { "<b@example.com>", "<c@example.com>",
    "<d@example.com>" }, source = ltn12.source.string(msg), domain = "client.example" }
eq("several recipients", r, 1)
check("all recipients", meta and meta:find('"rcpt_tos": %["b@example.com", "c@example.com", "d@example.com"%]') ~= nil, meta)
check("domain in EHLO", meta and meta:find('"helo": "client.example"', 1, true) ~= nil, meta)

-- a large message from a native pipeline and one from a Lua source
local lines = {}
for i = 1, 20000 do lines[i] = string.format("%05d %s", i, i % 7 == 0 and "." or "line") end
local big = "Subject: big\r\n\r\n" .. table.concat(lines, "\r\n") .. "\r\n"
r, err, eml = send { from = "<a@example.com>", rcpt = "<b@example.com>",
    source = ltn12.source.chain(ltn12.source.string(big), mime.normalize()) }
eq("large message", r, 1)
check("large message byte for byte", eml == big, eml and #eml)
local parts, i = { "Subject: lua\r\n", "\r\n", ".dot first\r\n", "end\r\n" }, 0
r, err, eml = send { from = "<a@example.com>", rcpt = "<b@example.com>", source = function()
    i = i + 1
    return parts[i]
end }
eq("Lua source", r, 1)
eq("Lua source stored", eml, table.concat(parts))

-- authentication
r, err = send { from = "<a@example.com>", rcpt = "<b@example.com>", port = auth_port,
    source = ltn12.source.string(msg) }
eq("auth required", r, nil)
check("auth required reply", err and err:find("^530") ~= nil, err)
r, err, eml, meta = send { from = "<a@example.com>", rcpt = "<b@example.com>", port = auth_port,
    user = suser, password = spass, source = ltn12.source.string(msg) }
eq("AUTH", r, 1)
check("AUTH user recorded", meta and meta:find('"auth_user": "' .. suser .. '"', 1, true) ~= nil, meta)
check("AUTH message", eml == msg)
r, err = send { from = "<a@example.com>", rcpt = "<b@example.com>", port = auth_port,
    user = suser, password = "wrong", source = ltn12.source.string(msg) }
eq("wrong password", r, nil)
check("wrong password reply", err and err:find("^535") ~= nil, err)

-- a server that refuses EHLO: HELO
r, err, eml, meta = send { from = "<a@example.com>", rcpt = "<b@example.com>", port = helo_port,
    source = ltn12.source.string(msg) }
eq("HELO fallback", r, 1)
check("HELO message", eml == msg)

-- smtp.message: LuaSocket's headers, multipart bodies
local src = smtp.message {
    headers = { from = "<a@example.com>", to = "<b@example.com>", subject = "multipart" },
    body = {
        preamble = "This is a multipart message.",
        [1] = { body = mime.eol(0, "first part\nplain text\n") },
        [2] = {
            headers = { ["content-type"] = 'application/octet-stream; name="data.bin"',
                ["content-transfer-encoding"] = "BASE64" },
            body = ltn12.source.chain(ltn12.source.string(string.rep("\0\1\2\3", 100)),
                ltn12.filter.chain(mime.encode("base64"), mime.wrap())),
        },
        [3] = { headers = { ["content-type"] = "text/plain" }, body = function()
            parts.k = (parts.k or 0) + 1
            if parts.k == 1 then return "from a Lua source" end
        end },
        epilogue = "The end.",
    },
}
check("smtp.message is a source", src ~= nil)
r, err, eml = send { from = "<a@example.com>", rcpt = "<b@example.com>", source = src }
eq("send a composed message", r, 1)
eml = eml or ""
local boundary = eml:match('boundary="([^"]+)"')
check("multipart boundary", boundary ~= nil, eml:sub(1, 300))
check("mime-version header", eml:find("MIME%-Version: 1%.0\r\n") ~= nil)
check("date header", eml:find("Date: %a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d %-0000\r\n") ~= nil)
check("x-mailer header", eml:find("X%-Mailer: " .. socket._VERSION:gsub("%p", "%%%0"), 1) ~= nil)
check("subject header", eml:find("Subject: multipart\r\n", 1, true) ~= nil)
check("preamble", eml:find("This is a multipart message.", 1, true) ~= nil)
check("default part type", eml:find('Content-Type: text/plain; charset="iso-8859-1"\r\n\r\nfirst part\r\nplain text\r\n', 1, true) ~= nil)
check("attachment base64", eml:find(mime.b64(string.rep("\0\1\2\3", 57)):sub(1, 76), 1, true) ~= nil)
check("Lua source part", eml:find("from a Lua source", 1, true) ~= nil)
check("closing boundary", boundary and eml:find("--" .. boundary:gsub("%p", "%%%0") .. "--", 1) ~= nil)
check("epilogue", eml:find("The end.", 1, true) ~= nil)
src = smtp.message { headers = { subject = "one part" }, body = "just text" }
local t = {}
ltn12.pump.all(src, (ltn12.sink.table(t)))
local text = table.concat(t)
check("simple message ends with its body", text:find("\r\n\r\njust text$") ~= nil, text)

-- failures
r, err = send { from = "<a@example.com>", rcpt = "<b@example.com>", port = 1,
    source = ltn12.source.string(msg) }
eq("connection refused", err, "connection refused")
r, err = send { from = "<a@example.com>", rcpt = "<b@example.com>", source = function()
    return nil, "no message today"
end }
eq("source error", r, nil)
eq("source error message", err, "no message today")
r, err = send { from = "<a@example.com>\r\nRCPT TO:<x@y>", rcpt = "<b@example.com>",
    source = ltn12.source.string(msg) }
eq("line break in an address refused", r, nil)

-- socket.tp against the same server
local c = tp.connect("127.0.0.1", port)
check("tp.connect", c ~= nil)
local code, reply = c:check("2..")
eq("greeting", code, 220)
c:command("ehlo", "tp.example")
code, reply = c:check("2..")
eq("EHLO reply", code, 250)
check("multi-line reply", reply and reply:find("\n") ~= nil, reply)
c:command("noop")
eq("check with a table", (c:check({ "3..", "250" })), 250)
c:command("bogus")
code, reply = c:check("2..")
eq("unmatched code", code, nil)
check("reply text", reply and reply:find("^500") ~= nil, reply)
check("getfd", type(c:getfd()) == "number")
check("getcontrol", c:getcontrol() ~= nil)
eq("close", c:close(), 1)

-- the low-level session over tp
local s = smtp.open("127.0.0.1", port)
local ext = s:greet("lowlevel.example")
check("greet returns the extensions", type(ext) == "string" and ext:find("250") ~= nil, ext)
local before = count()
s:mail("<low@example.com>")
s:rcpt("<level@example.com>")
s:data(ltn12.source.string("Subject: low\r\n\r\nbody\r\n"))
s:quit()
s:close()
eml = stored(before + 1)
eq("low-level session stored (LuaSocket adds CRLF before the dot)", eml, "Subject: low\r\n\r\nbody\r\n\r\n")
done()
