-- LuaSocket 3 side of the LTN12/MIME benchmark (run with lua5.1).
--   lua5.1 luasocket_bench.lua b64 FILE   FILE -> mime.encode("base64") -> mime.decode("base64") -> null
--   lua5.1 luasocket_bench.lua qp FILE    FILE -> mime.encode("quoted-printable") -> null
-- Prints "mode=... in_bytes=N seconds=S mib_per_s=R" like bench_ltn12.
local ltn12 = require("ltn12")
local mime = require("mime")
local socket = require("socket")

local mode, path = arg[1], arg[2]
local file = assert(io.open(path, "rb"))
local size = file:seek("end")
file:seek("set")
local filter
if mode == "b64" then
    filter = ltn12.filter.chain(mime.encode("base64"), mime.decode("base64"))
elseif mode == "qp" then
    filter = mime.encode("quoted-printable")
else
    error("unknown mode " .. tostring(mode))
end
local src = ltn12.source.chain(ltn12.source.file(file), filter)
local t0 = socket.gettime()
assert(ltn12.pump.all(src, ltn12.sink.null()))
local secs = socket.gettime() - t0
print(string.format("mode=%s in_bytes=%d seconds=%.3f mib_per_s=%.1f", mode, size, secs,
    size / 1048576 / secs))
