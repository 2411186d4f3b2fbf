-----------------------------------------------------------------------------
-- socket/url.lua: URL parsing, building and resolution (LuaSocket 3's socket.url) over
-- sockit's URL functions.
--
-- Every function answers exactly as LuaSocket 3's does, for any input: parse splits
-- with sockit_url_split (nothing but the empty URL is refused, a port stays text),
-- absolute resolves with sockit_url_absolute_luasocket (LuaSocket's merge and dot
-- removal, which differ from RFC 3986 on some references), build joins the fields in
-- Lua. The strict parser and the RFC 3986 resolver are in the C API (sockit_url_parse,
-- sockit_url_absolute).
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
    return proto.url_parse(url, parsed)
end

function _M.build(parsed)
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

-- LuaSocket's dot removal alone: what resolution against an empty base gives.
local function remove_dots(text)
    return proto.url_absolute("", text)
end

-- A base given as a table of fields: LuaSocket merges the reference into those fields
-- (not into a parse of the URL they build), then removes dots over the result.
local function absolute_from_fields(fields, relative_url)
    local ref = _M.parse(relative_url)
    local result
    if not ref then
        result = _M.build(fields)
    elseif ref.scheme then
        result = relative_url
    else
        ref.scheme = fields.scheme
        if not ref.authority then
            ref.authority = fields.authority
            if ref.path then
                local rel = ref.path
                if string.sub(rel, 1, 1) ~= "/" then
                    rel = (string.match(fields.path or "", "^(.*/)") or "/") .. rel
                end
                ref.path = remove_dots(rel)
            else
                ref.path = fields.path
                if not ref.params then
                    ref.params = fields.params
                    if not ref.query then ref.query = fields.query end
                end
            end
        end
        result = _M.build(ref)
    end
    return remove_dots(result)
end

function _M.absolute(base_url, relative_url)
    if base.type(base_url) == "table" then return absolute_from_fields(base_url, relative_url) end
    if not base_url and not relative_url then base.error("socket.url.absolute: no URL given", 2) end
    return proto.url_absolute(base_url or "", relative_url or "")
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
