-- What the differential scripts (tests/lua/diff_*.lua) share. They run under LuaSocket 3
-- and under sockit, and their printed output is compared, so what they print must not
-- depend on ports, addresses or times.
local socket = require("socket")

local difflib = {}

-- The values as text, joined by sep: strings quoted, the rest by tostring.
function difflib.fmt(sep, ...)
    local out = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) == "string" then
            out[#out + 1] = string.format("%q", v)
        else
            out[#out + 1] = tostring(v)
        end
    end
    return table.concat(out, sep)
end

-- Prints every value (nils and the count of values included).
function difflib.show(...)
    print(difflib.fmt(" ", ...))
end

-- A listening socket on loopback and a function that makes connected pairs through it
-- (client, accepted), each with a 5 s timeout.
function difflib.listener()
    local server = assert(socket.bind("127.0.0.1", 0))
    local ip, port = server:getsockname()
    server:settimeout(5)
    local function pair()
        local c = assert(socket.connect(ip, port))
        local a = assert(server:accept())
        c:settimeout(5)
        a:settimeout(5)
        return c, a
    end
    return server, pair, ip, port
end

return difflib
