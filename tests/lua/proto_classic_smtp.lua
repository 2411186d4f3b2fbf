-- LuaSocket 1.3b SMTP globals (smtp_mail, and CGILua's mail{}) against aiosmtpd: what
-- the server stored is compared byte for byte. Lua 4.0 / 5.1 common subset: run by
-- scripts/test-lua-proto.sh under sockit-lua51 and sockit-lua4.
dofile("tests/lua/testlib.lua")
if LUA5 then
    remove = os.remove
    tmpname = os.tmpname
    execute = os.execute
end

PORT = getenv("SOCKIT_SMTP_PORT")
if not PORT then
    print("# SOCKIT_SMTP_PORT is not set: run scripts/test-lua-proto.sh")
    exit(1)
end
SERVER = "127.0.0.1:" .. PORT
SPOOL = getenv("SOCKIT_SMTP_SPOOL")

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

-- the number of messages stored so far
function stored_count()
    local t = tmpname()
    execute("ls '" .. SPOOL .. "' | grep -c 'json$' > " .. t)
    local n = tonumber(readfile(t))
    remove(t)
    return n or 0
end

function stored(n)
    local base = SPOOL .. "/" .. format("%04d", n)
    return readfile(base .. ".eml"), readfile(base .. ".json")
end

check("the globals exist", smtp_mail and mail)

n = stored_count()
err = smtp_mail("<from@example.com>", {"<to@example.com>", "<blind@example.com>"},
    {subject = "classic", to = "<to@example.com>"}, "first line\nsecond line\n.dot line\n", SERVER)
eq("smtp_mail returns nil", err, nil)
eml, meta = stored(n + 1)
check("stored message", eml ~= nil)
check("headers in canonical spelling", eml and strfind(eml, "Subject: classic\r\n", 1, 1) ~= nil, eml)
check("To header", eml and strfind(eml, "To: <to@example.com>\r\n", 1, 1) ~= nil)
check("body with CRLF line ends and the dot line", eml and strfind(eml, "\r\n\r\nfirst line\r\nsecond line\r\n.dot line\r\n$") ~= nil, eml)
check("blind copy recipient", meta and strfind(meta, "blind@example.com", 1, 1) ~= nil, meta)
check("sender", meta and strfind(meta, '"mail_from": "from@example.com"', 1, 1) ~= nil, meta)

n = stored_count()
err = smtp_mail("<from@example.com>", {"<to@example.com>"}, {subject = "exact"}, "one\r\ntwo\r\n", SERVER)
eml = stored(n + 1)
eq("stored byte for byte", eml, "Subject: exact\r\n\r\none\r\ntwo\r\n")

n = stored_count()
err = mail{to = "<a@example.com>, <b@example.com>", from = "<me@example.com>", subject = "cgilua",
    message = "hello from mail{}", cc = "<c@example.com>", bcc = "<d@example.com>", mailserver = SERVER}
eq("mail{} returns nil", err, nil)
eml, meta = stored(n + 1)
check("mail{} To", eml and strfind(eml, "To: <a@example.com>, <b@example.com>\r\n", 1, 1) ~= nil, eml)
check("mail{} From", eml and strfind(eml, "From: <me@example.com>\r\n", 1, 1) ~= nil)
check("mail{} Subject", eml and strfind(eml, "Subject: cgilua\r\n", 1, 1) ~= nil)
check("mail{} Cc", eml and strfind(eml, "Cc: <c@example.com>\r\n", 1, 1) ~= nil)
check("mail{} no Bcc header", eml and strfind(eml, "Bcc", 1, 1) == nil)
check("mail{} body", eml and strfind(eml, "\r\n\r\nhello from mail{}", 1, 1) ~= nil)
check("mail{} every recipient", meta and strfind(meta, '"a@example.com", "b@example.com", "c@example.com", "d@example.com"', 1, 1) ~= nil, meta)

err = smtp_mail("<from@example.com>", {"<to@example.com>"}, {}, "x", "127.0.0.1:1")
eq("refused", err, "connection refused")
err = smtp_mail("<from@example.com>", {"<to@example.com>"}, {}, "x", "127.0.0.1:" .. getenv("SOCKIT_SMTP_AUTH_PORT"))
check("server refusal", err and strfind(err, "^530") ~= nil, err)
err = mail{to = "<a@example.com>", from = "<me@example.com>"}
check("mail{} without a server", err ~= nil, err)
done()
