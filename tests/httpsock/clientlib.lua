-- tests/httpsock/clientlib.lua: what the sockit.http client scripts share.
local socket = require("socket")
local http = require("sockit.http")

local M = {}

-- A connected socket.tcp (10 s timeout) and the HTTP socket over it.
function M.connect(port)
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(10)
    return c, http.socket.new(c)
end

-- Reads the whole body of the response just read: the body, or nil and the error.
function M.body_of(s, res)
    while s.read_state ~= "empty" do
        local ok, err = s:read_some(res)
        if not ok then
            return nil, err
        end
    end
    return res.body
end

return M
