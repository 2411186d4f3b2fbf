-- http_upload.lua: LuaSocket's socket.http, on sockit, against the demo's Moonbridge
-- application (`make demo`): PUT a file through an LTN12 filter that draws a progress
-- bar, GET it back into a sink that does the same, and compare.
--
--   lua5.1 examples/http_upload.lua URL FILE      (with build/lua51 on the search paths)
local http = require "socket.http"
local ltn12 = require "ltn12"

local url, path = ...
assert(url and path, "usage: http_upload.lua URL FILE")
local f = assert(io.open(path, "rb"))
local size = f:seek("end")
f:seek("set")

local function progress(what)
  local done, shown = 0, -1
  return function(chunk)
    if chunk then
      done = done + #chunk
      local pct = size > 0 and math.floor(100 * done / size) or 100
      if pct == shown then return chunk end
      shown = pct
      local filled = size > 0 and math.floor(done / size * 40) or 40
      io.stderr:write(string.format("\r  %-8s [%s%s] %3d%%  %.1f / %.1f MiB", what,
        string.rep("#", filled), string.rep(".", 40 - filled),
        size > 0 and math.floor(100 * done / size) or 100, done / 1048576, size / 1048576))
      if done >= size then io.stderr:write("\n") end
    end
    return chunk
  end
end

local answer = {}
local ok, code = http.request{
  url = url, method = "PUT",
  source = ltn12.source.chain(ltn12.source.file(f), progress("upload")),
  headers = { ["content-length"] = tostring(size), ["content-type"] = "application/octet-stream" },
  sink = ltn12.sink.table(answer),
}
assert(ok, code)
io.write("  server: ", tostring(code), " ", table.concat(answer))
io.stdout:flush()

local received = {}
ok, code = http.request{
  url = url,
  sink = ltn12.sink.chain(progress("download"), (ltn12.sink.table(received))),
}
assert(ok, code)
local original = assert(io.open(path, "rb")):read("*a")
local back = table.concat(received)
if code == 200 and back == original then
  print(string.format("  Lua client: the %d bytes came back unchanged", #back))
else
  print(string.format("  Lua client: MISMATCH (status %s, %d of %d bytes)", tostring(code), #back, #original))
  os.exit(1)
end
