-----------------------------------------------------------------------------
-- mime.lua: MIME filters (LuaSocket 3's mime module) over sockit's mime.core.
--
-- The filters are cycles of the mime.core functions (as in LuaSocket), which
-- ltn12.filter.cycle turns into native sockit filters: they run in sockit when a
-- pipeline is pumped natively, and give LuaSocket's results call by call from Lua.
-----------------------------------------------------------------------------
local base = _G
local ltn12 = require("ltn12")
local mime = require("mime.core")
local _M = mime

local encodet, decodet, wrapt = {}, {}, {}
_M.encodet = encodet
_M.decodet = decodet
_M.wrapt = wrapt

-- A function that calls the constructor named by its first argument ("default" when
-- the first argument is not a string).
local function chooser(constructors)
    return function(name, opt1, opt2)
        if base.type(name) ~= "string" then
            name, opt1, opt2 = "default", name, opt1
        end
        local make = constructors[name or "nil"]
        if not make then
            base.error("unknown key (" .. base.tostring(name) .. ")", 3)
        end
        return make(opt1, opt2)
    end
end

encodet["base64"] = function()
    return ltn12.filter.cycle(mime.b64, "")
end

encodet["quoted-printable"] = function(mode)
    local marker = "\r\n"
    if mode == "binary" then marker = "=0D=0A" end
    return ltn12.filter.cycle(mime.qp, "", marker)
end

decodet["base64"] = function()
    return ltn12.filter.cycle(mime.unb64, "")
end

decodet["quoted-printable"] = function()
    return ltn12.filter.cycle(mime.unqp, "")
end

wrapt["text"] = function(length)
    length = length or 76
    return ltn12.filter.cycle(mime.wrp, length, length)
end
wrapt["base64"] = wrapt["text"]
wrapt["default"] = wrapt["text"]

wrapt["quoted-printable"] = function()
    return ltn12.filter.cycle(mime.qpwrp, 76, 76)
end

_M.encode = chooser(encodet)
_M.decode = chooser(decodet)
_M.wrap = chooser(wrapt)

function _M.normalize(marker)
    return ltn12.filter.cycle(mime.eol, 0, marker)
end

function _M.stuff()
    return ltn12.filter.cycle(mime.dot, 2)
end

return _M
