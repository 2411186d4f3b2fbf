-----------------------------------------------------------------------------
-- socket/headers.lua: socket.headers.canonic, the canonical capitalisation of header
-- names (lowercase name -> name as sent), used by the HTTP and SMTP modules and by
-- scripts that print headers.
-----------------------------------------------------------------------------
local socket = require("socket")

local headers = {}
socket.headers = headers

-- Parts written in capitals rather than capitalised.
local special = {
    etag = "ETag", te = "TE", www = "WWW", md5 = "MD5", id = "ID", mime = "MIME",
    dnt = "DNT", p3p = "P3P", sourcemap = "SourceMap", websocket = "WebSocket",
}

local names = {
    -- HTTP
    "accept", "accept-charset", "accept-encoding", "accept-language", "accept-ranges",
    "age", "allow", "authorization", "cache-control", "connection", "content-disposition",
    "content-encoding", "content-language", "content-length", "content-location",
    "content-md5", "content-range", "content-type", "cookie", "date", "etag", "expect",
    "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
    "if-range", "if-unmodified-since", "keep-alive", "last-modified", "link", "location",
    "max-forwards", "origin", "pragma", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "range", "referer", "refresh", "retry-after", "server",
    "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary",
    "via", "warning", "www-authenticate", "x-forwarded-for", "x-powered-by",
    "x-requested-with", "dnt", "p3p", "sec-websocket-key", "sec-websocket-accept",
    "sec-websocket-version", "sec-websocket-protocol", "strict-transport-security",
    "content-security-policy", "access-control-allow-origin",
    -- mail (RFC 5322, MIME)
    "bcc", "cc", "comments", "content-description", "content-id",
    "content-transfer-encoding", "in-reply-to", "keywords", "message-id", "mime-version",
    "received", "references", "reply-to", "resent-bcc", "resent-cc", "resent-date",
    "resent-from", "resent-message-id", "resent-reply-to", "resent-sender", "resent-to",
    "return-path", "sender", "subject", "to", "x-mailer", "disposition-notification-to",
}

local function canonical(name)
    return (string.gsub(name, "[^%-]+", function(part)
        return special[part] or (string.upper(string.sub(part, 1, 1)) .. string.sub(part, 2))
    end))
end

headers.canonic = {}
for _, name in ipairs(names) do
    headers.canonic[name] = canonical(name)
end

return headers
