-- A moonbridge_http application for tests/moonbridge/test_http.py. Arguments:
--   key=value pairs for listen{} (min_fork, max_fork, ...) and for the HTTP options
--   (http.request_body_size_limit=..., http.idle_timeout=..., ...), events=FILE.
-- Each path shows one part of the request object; answers are "key=value" lines.
local http = require "moonbridge_http"

local opts, http_opts = {}, {}
for _, a in ipairs({...}) do
  local k, v = a:match("^([%w_.]+)=(.*)$")
  assert(k, "bad argument " .. a)
  local hk = k:match("^http%.(.*)$")
  if hk then http_opts[hk] = tonumber(v) or v else opts[k] = v end
end

local function mypid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*n")
  f:close()
  return pid
end

local function event(line)
  if not opts.events then return end
  local f = assert(io.open(opts.events, "a"))
  f:write(line, "\n")
  f:close()
end

local function peak_rss_kib()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  for line in f:lines() do
    local n = line:match("^VmHWM:%s*(%d+)")
    if n then f:close() return tonumber(n) end
  end
  f:close()
  return -1
end

local function esc(s)
  return (tostring(s):gsub("[%z\1-\31\\=%%,|:{}]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- Lines "prefix.key=value" for a table of strings, lists or tables.
local function dump(out, prefix, t)
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    if type(v) == "table" then
      local list = {}
      if #v > 0 then
        for _, x in ipairs(v) do
          list[#list + 1] = type(x) == "table" and ("{" .. esc(x.file_name) .. "|" .. esc(x.content_type) .. "}") or esc(x)
        end
        out[#out + 1] = prefix .. "." .. esc(k) .. "=" .. table.concat(list, ",")
      else
        local inner = {}
        for _, ik in ipairs(sorted_keys(v)) do inner[#inner + 1] = esc(ik) .. ":" .. esc(v[ik]) end
        out[#out + 1] = prefix .. "." .. esc(k) .. "={" .. table.concat(inner, ",") .. "}"
      end
    else
      out[#out + 1] = prefix .. "." .. esc(k) .. "=" .. esc(v)
    end
  end
end

local function reply(req, lines, status)
  req:send_status(status or "200 OK")
  req:send_header("Content-Type", "text/plain")
  req:send_data(table.concat(lines, "\n"), "\n")
  req:finish()
end

local routes = {}

function routes.hello(req)
  req:send_status("200 OK")
  req:send_header("Content-Type", "text/plain")
  req:send_data("Hello, World!\n")
  req:finish()
end

function routes.info(req)
  reply(req, {
    "method=" .. req.method, "path=" .. esc(req.path), "query=" .. esc(req.query),
    "pid=" .. mypid(), "port=" .. tostring(req.socket.remote_tcpport),
  })
end

function routes.get(req)
  local out = {}
  dump(out, "get", req.get_params)
  dump(out, "getlist", req.get_params_list)
  reply(req, out)
end

function routes.headers(req)
  local out = {}
  local name = req.get_params.name
  out[#out + 1] = "headers=" .. table.concat(req.headers[name], "|")
  out[#out + 1] = "upper=" .. table.concat(req.headers[name:upper()], "|")
  out[#out + 1] = "csv_string=" .. tostring(req.headers_csv_string[name])
  out[#out + 1] = "csv_table=" .. table.concat(req.headers_csv_table[name], "|")
  out[#out + 1] = "value=" .. tostring(req.headers_value[name])
  local flags = {}
  for k, v in pairs(req.headers_flags[name]) do flags[#flags + 1] = k .. ":" .. tostring(v) end
  table.sort(flags)
  out[#out + 1] = "flags=" .. table.concat(flags, ",")
  out[#out + 1] = "flag_upper=" .. tostring(req.headers_flags[name:upper()][(req.get_params.flag or "x"):upper()])
  out[#out + 1] = "missing=" .. #req.headers["X-Not-There"] .. "," .. tostring(req.headers_value["X-Not-There"])
  reply(req, out)
end

function routes.cookies(req)
  local out = {}
  dump(out, "cookie", req.cookies)
  reply(req, out)
end

function routes.post(req)
  local out = {}
  dump(out, "post", req.post_params)
  dump(out, "postlist", req.post_params_list)
  if req.post_metadata then
    dump(out, "meta", req.post_metadata)
    dump(out, "metalist", req.post_metadata_list)
  else
    out[#out + 1] = "meta=nil"
  end
  reply(req, out)
end

-- Streams every "file*" field: sizes and a checksum, without keeping the data.
function routes.upload(req)
  local fields, current = {}, nil
  local t0 = os.clock()
  req:stream_post_params("^file", function(chunk, meta)
    if meta then
      current = { name = meta.field_name or "?", file = meta.file_name, ctype = meta.content_type, size = 0, sum = 0, chunks = 0 }
      fields[#fields + 1] = current
    end
    if chunk then
      current.size = current.size + #chunk
      current.chunks = current.chunks + 1
      -- a cheap checksum of first and last bytes of each chunk
      if #chunk > 0 then current.sum = (current.sum + chunk:byte(1) + chunk:byte(-1)) % 65536 end
    else
      current.done = true
    end
  end)
  local out = {}
  dump(out, "post", req.post_params) -- processes the body; the other fields land here
  for i, f in ipairs(fields) do
    out[#out + 1] = string.format("file%d=%s|%s|%s|%d|%d|%s", i, esc(f.file), esc(f.ctype), tostring(f.done), f.size, f.sum, tostring(f.chunks > 0 or f.size == 0))
  end
  out[#out + 1] = "peak_rss_kib=" .. peak_rss_kib()
  out[#out + 1] = "lua_kib=" .. math.floor(collectgarbage("count"))
  reply(req, out)
end

function routes.stream(req)
  local size, pieces, biggest = 0, 0, 0
  req:stream_request_body(function(chunk)
    size = size + #chunk
    pieces = pieces + 1
    if #chunk > biggest then biggest = #chunk end
  end)
  reply(req, { "size=" .. size, "pieces=" .. pieces, "biggest=" .. biggest, "peak_rss_kib=" .. peak_rss_kib() })
end

function routes.body(req)
  local b = req.body
  req:send_status("200 OK")
  req:send_header("Content-Type", "application/octet-stream")
  req:send_data(b)
  req:finish()
end

function routes.discard(req)
  req:stream_request_body(nil)
  req:stream_request_body(nil) -- again: a no-op
  reply(req, { "discarded=1" })
end

function routes.head(req)
  req:send_status("200 OK")
  req:send_header("Content-Type", "text/plain")
  req:send_header("X-Method", req.method)
  req:send_data("this body is not sent for HEAD\n")
  req:finish()
end

function routes.close(req)
  req:close_after_finish()
  reply(req, { "closing=1" })
end

function routes.defer(req)
  req:defer_reading()
  req:send_status("200 OK")
  req:send_data("early answer\n")
  req:finish()
end

function routes.chunks(req)
  req:send_status("200 OK")
  req:send_header("Content-Type", "text/plain")
  for i = 1, 5 do
    req:send_data("piece ", i, "\n")
    req:flush()
  end
  req:finish()
end

function routes.big(req)
  local n = tonumber(req.get_params.n) or 100000
  req:send_status("200 OK")
  local block = string.rep("0123456789abcdef", 64)
  local sent = 0
  while sent < n do
    local k = math.min(#block, n - sent)
    req:send_data(block:sub(1, k))
    sent = sent + k
  end
  req:finish()
end

function routes.length(req)
  req:send_status("200 OK")
  req:send_header("Content-Length", "5")
  req:send_data("12345")
  req:finish()
end

function routes.nocontent(req)
  req:send_status("204 No Content")
  req:finish()
end

function routes.recycle(req)
  reply(req, { "pid=" .. mypid() })
  return false
end

function routes.fail(req)
  error("the handler failed on purpose")
end

function routes.noresponse(req)
end

function routes.badheader(req)
  req:send_status("200 OK")
  local ok, err = pcall(req.send_header, req, "X-Bad", "a\r\nInjected: yes")
  req:send_header("X-Checked", ok and "accepted" or "refused")
  req:send_data(tostring(err):gsub("\n.*", ""), "\n")
  req:finish()
end

function routes.order(req)
  local out = {}
  local ok, err = pcall(req.send_header, req, "X-A", "1")
  out[#out + 1] = "header_before_status=" .. tostring(ok)
  ok = pcall(req.send_data, req, "x")
  out[#out + 1] = "data_before_status=" .. tostring(ok)
  req:send_status("200 OK")
  ok = pcall(req.send_status, req, "200 OK")
  out[#out + 1] = "status_twice=" .. tostring(ok)
  req:send_header("Content-Type", "text/plain")
  req:finish_headers()
  ok = pcall(req.send_header, req, "X-Late", "1")
  out[#out + 1] = "header_after_finish_headers=" .. tostring(ok)
  req:send_data(table.concat(out, "\n"), "\n")
  req:finish()
  req:finish() -- may be called again
end

local function handler(req)
  event("request " .. mypid() .. " " .. req.method .. " " .. tostring(req.path))
  local route = routes[(req.path or ""):match("^[^/]*")] or routes.info
  return route(req)
end

local t = {
  { proto = "tcp", host = opts.host or "127.0.0.1", port = 0 },
  connect = http.generate_handler(handler, http_opts),
}
for _, k in ipairs({"pre_fork", "min_fork", "max_fork", "fork_delay", "idle_timeout"}) do
  if opts[k] then t[k] = tonumber(opts[k]) end
end
listen(t)
