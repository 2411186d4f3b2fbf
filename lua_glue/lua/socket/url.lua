-----------------------------------------------------------------------------
-- socket/url.lua: URL parsing, building and resolution (LuaSocket 3's socket.url) over
-- sockit's URL functions.
--
-- parse, build, absolute, escape and unescape are sockit's (src/url.rs). They give
-- LuaSocket 3's results for well-formed URLs; where LuaSocket mis-handles input, sockit
-- follows RFC 3986: the authority ends at the first "/", "?" or "#"; malformed URLs
-- (control characters, a port that is not a number up to 65535, a bad bracketed host)
-- make parse return nil and a message; absolute follows RFC 3986 section 5.2 exactly.
-----------------------------------------------------------------------------
local base = _G
local string = require("string")
local table = require("table")
local proto = require("socket.proto")

local _M = {}
local ok, socket = base.pcall(base.require, "socket")
if ok and base.type(socket) == "table" then socket.url = _M end

_M._VERSION = "URL 1.0.3"

_M.escape = proto.url_escape
_M.unescape = proto.url_unescape

function _M.parse(url, default)
    local parsed = {}
    for k, v in base.pairs(default or parsed) do parsed[k] = v end
    if not url or url == "" then return nil, "invalid url" end
    local fields, err = proto.url_parse(base.tostring(url))
    if not fields then return nil, err end
    for k, v in base.pairs(fields) do parsed[k] = v end
    return parsed
end

-- LuaSocket's rules, for tables sockit refuses to build (a port that is not a number).
local function build_lua(parsed)
    local url = parsed.path or ""
    if parsed.params then url = url .. ";" .. parsed.params end
    if parsed.query then url = url .. "?" .. parsed.query end
    local authority = parsed.authority
    if parsed.host then
        authority = parsed.host
        if string.find(authority, ":") then authority = "[" .. authority .. "]" end
        if parsed.port then authority = authority .. ":" .. base.tostring(parsed.port) end
        local userinfo = parsed.userinfo
        if parsed.user then
            userinfo = parsed.user
            if parsed.password then userinfo = userinfo .. ":" .. parsed.password end
        end
        if userinfo then authority = userinfo .. "@" .. authority end
    end
    if authority then url = "//" .. authority .. url end
    if parsed.scheme then url = parsed.scheme .. ":" .. url end
    if parsed.fragment then url = url .. "#" .. parsed.fragment end
    return url
end

function _M.build(parsed)
    return proto.url_build(parsed) or build_lua(parsed)
end

function _M.absolute(base_url, relative_url)
    if base.type(base_url) == "table" then base_url = _M.build(base_url) end
    local result = proto.url_absolute(base_url, relative_url)
    if result then return result end
    if not _M.parse(base_url) then return relative_url end
    return base_url
end

function _M.parse_path(path)
    local parsed = {}
    path = path or ""
    for segment in string.gmatch(path, "([^/]+)") do
        parsed[#parsed + 1] = proto.url_unescape(segment)
    end
    if string.sub(path, 1, 1) == "/" then parsed.is_absolute = 1 end
    if string.sub(path, -1, -1) == "/" then parsed.is_directory = 1 end
    return parsed
end

function _M.build_path(parsed, unsafe)
    local protect = proto.url_protect_segment
    if unsafe then protect = function(s) return s end end
    local n = #parsed
    local parts = {}
    for i = 1, n do parts[i] = protect(parsed[i]) end
    local path = table.concat(parts, "/")
    if n > 0 and parsed.is_directory then path = path .. "/" end
    if parsed.is_absolute then path = "/" .. path end
    return path
end

return _M
