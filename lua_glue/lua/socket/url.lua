-----------------------------------------------------------------------------
-- socket/url.lua: sockit's URL module for Lua 5.1 and LuaJIT, compatible with
-- LuaSocket's socket.url: parse, build, absolute, escape, unescape, parse_path,
-- build_path. Parsing, building, resolving and escaping are sockit's (socket.url.core).
-----------------------------------------------------------------------------
local core = require("socket.url.core")

local url = {}
url._VERSION = "URL 1.0.3 (sockit)"

url.escape = core.escape
url.unescape = core.unescape

-- Parses u into a table of its parts, on top of the fields of default.
function url.parse(u, default)
    local parsed = {}
    for k, v in pairs(default or parsed) do
        parsed[k] = v
    end
    if not u or u == "" then
        return nil, "invalid url"
    end
    local parts, err = core.parse(u)
    if not parts then
        return nil, err
    end
    for k, v in pairs(parts) do
        parsed[k] = v
    end
    return parsed
end

-- The URL string of a parsed table (host, port, user, password win over authority and
-- userinfo).
function url.build(parsed)
    local t = {}
    for k, v in pairs(parsed) do
        if type(k) == "string" then t[k] = tostring(v) end
    end
    return core.build(t)
end

-- Resolves relative against base (a string or a parsed table).
function url.absolute(base, relative)
    if type(base) == "table" then
        base = url.build(base)
    end
    return core.absolute(base, relative)
end

-- Splits a path into its unescaped segments; is_absolute / is_directory mark a leading
-- or trailing "/".
function url.parse_path(path)
    local parsed = {}
    path = path or ""
    for segment in string.gmatch(path, "[^/]+") do
        parsed[#parsed + 1] = core.unescape(segment)
    end
    if string.sub(path, 1, 1) == "/" then parsed.is_absolute = 1 end
    if string.sub(path, -1) == "/" then parsed.is_directory = 1 end
    return parsed
end

-- Joins segments into a path, escaping each one unless unsafe is true.
function url.build_path(parsed, unsafe)
    local n = #parsed
    local segments = {}
    for i = 1, n do
        segments[i] = unsafe and parsed[i] or core.protect_segment(parsed[i])
    end
    local path = table.concat(segments, "/")
    if n > 0 and parsed.is_directory then path = path .. "/" end
    if parsed.is_absolute then path = "/" .. path end
    return path
end

return url
