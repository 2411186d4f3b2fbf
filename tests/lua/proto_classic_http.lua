-- LuaSocket 1.3b HTTP globals (http_get, http_post, http_request and the indirect forms
-- with receive and send callbacks) against httpbin. Lua 4.0 / 5.1 common subset: run by
-- scripts/test-lua-proto.sh under sockit-lua51 and sockit-lua4.
dofile("tests/lua/testlib.lua")

PORT = getenv("SOCKIT_HTTPBIN_PORT")
if not PORT then
    print("# SOCKIT_HTTPBIN_PORT is not set: run scripts/test-lua-proto.sh")
    exit(1)
end
BASE = "http://127.0.0.1:" .. PORT

-- the value of "name": "value" in httpbin's JSON echoes
function jfield(body, name)
    if not body then return nil end
    local s, e, v = strfind(body, '"' .. name .. '": "([^"]*)"')
    return v
end

check("the globals exist", http_get and http_post and http_request and http_getindirect
    and http_postindirect and http_requestindirect)

body, headers, status, err = http_get(BASE .. "/get?q=classic")
eq("http_get error", err, nil)
eq("http_get status line", status, "HTTP/1.1 200 OK")
eq("http_get header names are lower case", headers["content-type"], "application/json")
eq("http_get body", jfield(body, "q"), "classic")
check("LuaSocket 1.3b user agent", strfind(jfield(body, "User%-Agent") or "", "LuaSocket 1.3b") ~= nil)

body, headers, status, err = http_get(BASE .. "/headers", {["x-classic"] = "yes", ["user-agent"] = "mine"})
eq("request headers", jfield(body, "X%-Classic"), "yes")
eq("user agent from the headers", jfield(body, "User%-Agent"), "mine")

body, headers, status, err = http_get(BASE .. "/redirect/2")
eq("redirects followed", status, "HTTP/1.1 200 OK")
body, headers, status, err = http_get(BASE .. "/redirect/1", nil, 1)
check("stay: the redirect is returned", strfind(status or "", "^HTTP/1.1 302") ~= nil, status)
check("stay: location header", headers and headers["location"] ~= nil)

body, headers, status, err = http_get("http://joe:secret@127.0.0.1:" .. PORT .. "/basic-auth/joe/secret")
eq("basic auth from the URL", status, "HTTP/1.1 200 OK")
body, headers, status, err = http_get("http://joe:bad@127.0.0.1:" .. PORT .. "/basic-auth/joe/secret")
check("wrong password: 401", strfind(status or "", "^HTTP/1.1 401") ~= nil, status)

body, headers, status, err = http_post(BASE .. "/post", "a=1&b=two", {["content-type"] = "application/x-www-form-urlencoded"})
eq("http_post", status, "HTTP/1.1 200 OK")
eq("http_post form", jfield(body, "b"), "two")
body, headers, status, err = http_request("PUT", BASE .. "/put", {["content-type"] = "text/plain"}, "put body")
eq("http_request PUT", jfield(body, "data"), "put body")
body, headers, status, err = http_request("DELETE", BASE .. "/delete")
eq("http_request DELETE", status, "HTTP/1.1 200 OK")
body, headers, status, err = http_get(BASE .. "/status/404")
check("404 status line", strfind(status or "", "^HTTP/1.1 404") ~= nil, status)
eq("404 is not an error", err, nil)

-- receive callbacks: chunks, "" at the end
function concat_all(t)
    local s = ""
    local i = 1
    while t[i] do
        s = s .. t[i]
        i = i + 1
    end
    return s
end
CHUNKS = {}
ENDED = nil
function collect(chunk, err)
    if chunk and chunk ~= "" then
        tinsert(CHUNKS, chunk)
        return 1
    end
    if chunk == "" then ENDED = 1 end
    return nil
end
headers, status, err = http_getindirect(BASE .. "/stream-bytes/30000?chunk_size=512&seed=5", collect)
eq("http_getindirect error", err, nil)
eq("http_getindirect status", status, "HTTP/1.1 200 OK")
check("receive callback got every byte", strlen(concat_all(CHUNKS)) == 30000, strlen(concat_all(CHUNKS)))
eq("receive callback told of the end with \"\"", ENDED, 1)

eq("chunks joined", strlen(concat_all(CHUNKS)), 30000)

function stopper(chunk, err)
    if chunk and chunk ~= "" then return nil, "enough for me" end
    return 1
end
headers, status, err = http_getindirect(BASE .. "/stream-bytes/30000", stopper)
eq("receive callback aborts", err, "enough for me")

-- send callbacks: chunk, total size
SENDPOS = 0
SENDDATA = strrep("0123456789", 1000)
function sender()
    local chunk = strsub(SENDDATA, SENDPOS + 1, SENDPOS + 3000)
    SENDPOS = SENDPOS + strlen(chunk)
    return chunk, strlen(SENDDATA)
end
CHUNKS = {}
headers, status, err = http_postindirect(BASE .. "/post", collect, sender, {["content-type"] = "text/plain"})
eq("http_postindirect error", err, nil)
eq("send callback body arrived", jfield(concat_all(CHUNKS), "data"), SENDDATA)
eq("sent with a length", jfield(concat_all(CHUNKS), "Content%-Length"), "10000")

function refuser()
    return nil, "nothing to send"
end
headers, status, err = http_postindirect(BASE .. "/post", collect, refuser)
eq("send callback aborts", err, "nothing to send")

CHUNKS = {}
SENDPOS = 0
headers, status, err = http_requestindirect("PATCH", BASE .. "/patch", collect, {["x-y"] = "z"}, sender)
eq("http_requestindirect", status, "HTTP/1.1 200 OK")
eq("http_requestindirect body", jfield(concat_all(CHUNKS), "data"), SENDDATA)
SENDPOS = 0
function shortsender()
    local chunk = strsub(SENDDATA, SENDPOS + 1, SENDPOS + 3000)
    SENDPOS = SENDPOS + strlen(chunk)
    return chunk, strlen(SENDDATA) + 10
end
headers, status, err = http_postindirect(BASE .. "/post", collect, shortsender)
check("a send callback that ends early fails the transfer", err ~= nil, err)

-- failures: what did not arrive is nil
body, headers, status, err = http_get("http://127.0.0.1:1/")
eq("refused: body", body, nil)
eq("refused: headers", headers, nil)
eq("refused: status", status, nil)
eq("refused: error", err, "connection refused")
body, headers, status, err = http_get("https://127.0.0.1:" .. PORT .. "/")
check("https unsupported", body == nil and err ~= nil, err)
done()
