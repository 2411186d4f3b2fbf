-----------------------------------------------------------------------------
-- socket/headers.lua: canonical spelling of header names (LuaSocket 3's
-- socket.headers.canonic), from sockit's table.
-----------------------------------------------------------------------------
local base = _G
local proto = require("socket.proto")

local _M = {}
local ok, socket = base.pcall(base.require, "socket")
if ok and base.type(socket) == "table" then socket.headers = _M end

_M.canonic = proto.headers_canonic()

return _M
