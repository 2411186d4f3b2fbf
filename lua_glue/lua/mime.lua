-----------------------------------------------------------------------------
-- mime.lua: sockit's MIME module for Lua 5.1 and LuaJIT, compatible with LuaSocket's
-- mime: the low-level calls of mime.core (b64, unb64, qp, unqp, wrp, qpwrp, eol, dot)
-- and the filter factories encode, decode, wrap, normalize, stuff. The filters are
-- sockit's native filters: chained with other native stages they run without Lua.
-----------------------------------------------------------------------------
local core = require("mime.core")
require("ltn12") -- registers the native stage classes the filters belong to

local mime = core

local new = {
    encode_base64 = core._encode_base64,
    decode_base64 = core._decode_base64,
    encode_qp = core._encode_qp,
    decode_qp = core._decode_qp,
    wrap_text = core._wrap_text,
    wrap_qp = core._wrap_qp,
    normalize = core._normalize,
    stuff = core._stuff,
}
for name in pairs(new) do
    mime["_" .. name] = nil
end

local encodet, decodet, wrapt = {}, {}, {}
mime.encodet, mime.decodet, mime.wrapt = encodet, decodet, wrapt

-- a function that dispatches on its first argument (a name)
local function choose(handlers)
    return function(name, opt1, opt2)
        if type(name) ~= "string" then
            name, opt1, opt2 = "default", name, opt1
        end
        local f = handlers[name or "nil"]
        if not f then
            error("unknown key (" .. tostring(name) .. ")", 3)
        end
        return f(opt1, opt2)
    end
end

encodet["base64"] = function()
    return new.encode_base64()
end

encodet["quoted-printable"] = function(mode)
    return new.encode_qp(mode == "binary" and "binary" or "text")
end

decodet["base64"] = function()
    return new.decode_base64()
end

decodet["quoted-printable"] = function()
    return new.decode_qp()
end

wrapt["text"] = function(length)
    return new.wrap_text(length or 76)
end
wrapt["base64"] = wrapt["text"]
wrapt["default"] = wrapt["text"]

wrapt["quoted-printable"] = function()
    return new.wrap_qp(76)
end

mime.encode = choose(encodet)
mime.decode = choose(decodet)
mime.wrap = choose(wrapt)

function mime.normalize(marker)
    return new.normalize(marker)
end

function mime.stuff()
    return new.stuff()
end

return mime
