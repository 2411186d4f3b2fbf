-- The hello-world handler of bench/moonbridge on Debian's lua-http (cqueues): the same
-- answer as tests/moonbridge/http_app.lua's /hello ("Hello, World!\n", text/plain),
-- keep-alive. Prints "listening on PORT" once it listens (port 0: the system picks).
local http_server = require "http.server"
local http_headers = require "http.headers"

local server = assert(http_server.listen {
  host = "127.0.0.1",
  port = tonumber(arg[1]) or 0,
  onstream = function(_, stream)
    if not stream:get_headers() then return end
    local res = http_headers.new()
    res:append(":status", "200")
    res:append("content-type", "text/plain")
    res:append("content-length", "14")
    if stream:write_headers(res, false) then
      stream:write_chunk("Hello, World!\n", true)
    end
  end,
  -- A client that goes away (wrk closing its connections) is not an error of the server.
  onerror = function() end,
})
assert(server:listen())
local _, _, port = server:localname()
io.stdout:write("listening on ", port, "\n")
io.stdout:flush()
assert(server:loop())
