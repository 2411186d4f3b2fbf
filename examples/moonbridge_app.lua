-- moonbridge_app.lua: the Moonbridge application of `make demo`, run by sockit-moonbridge:
--
--   sockit-moonbridge examples/moonbridge_app.lua DIR
--
-- A tiny file store over HTTP, served by a pool of forked workers:
--   PUT  /files/NAME   stores the request body as DIR/NAME, streamed to disk
--   POST /files/NAME   the same from a multipart form field "file" (streamed too)
--   GET  /files/NAME   sends the file back (HEAD: only its headers)
--   GET  /             says what is stored
local http = require "moonbridge_http"

local dir = assert(..., "usage: sockit-moonbridge moonbridge_app.lua DIR")

local function path_of(req)
  local name = req.path and req.path:match("^files/([%w._-]+)$")
  return name and (dir .. "/" .. name), name
end

local function answer(req, status, text)
  req:send_status(status)
  req:send_header("Content-Type", "text/plain")
  req:send_data(text, "\n")
  req:finish()
end

local function store(req, path, name)
  local f = assert(io.open(path, "wb"))
  local size = 0
  local function write(chunk)
    if chunk then
      f:write(chunk)
      size = size + #chunk
    end
  end
  if req.method == "PUT" then
    req:stream_request_body(write)
  else
    req:stream_post_param("file", write)
    req:process_request_body()
  end
  f:close()
  answer(req, "201 Created", string.format("stored %s: %d bytes", name, size))
end

local function send_file(req, path)
  local f = io.open(path, "rb")
  if not f then
    return answer(req, "404 Not Found", "no such file")
  end
  local size = f:seek("end")
  f:seek("set")
  req:send_status("200 OK")
  req:send_header("Content-Type", "application/octet-stream")
  req:send_header("Content-Length", size)
  while true do
    local block = f:read(65536)
    if not block then break end
    req:send_data(block)
  end
  f:close()
  req:finish()
end

listen{
  { proto = "tcp", host = "127.0.0.1", port = 0 },
  min_fork = 2, max_fork = 4,
  connect = http.generate_handler({
    static_headers = { "Server: sockit-moonbridge demo" },
    request_body_size_limit = 1024 * 1024 * 1024,
  }, function(req)
    local path, name = path_of(req)
    if path and (req.method == "PUT" or req.method == "POST") then
      store(req, path, name)
    elseif path and (req.method == "GET" or req.method == "HEAD") then
      send_file(req, path)
    elseif req.path == "" then
      answer(req, "200 OK", "sockit-moonbridge demo: PUT or POST /files/NAME, then GET it")
    else
      answer(req, "404 Not Found", "not here")
    end
  end),
}
