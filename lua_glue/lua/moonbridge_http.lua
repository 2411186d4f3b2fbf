-----------------------------------------------------------------------------
-- moonbridge_http.lua: Moonbridge's HTTP module on sockit.
--
-- http.generate_handler(callback [, options]) (or (options, callback)) turns a request
-- handler into a connect handler for listen{...}. The HTTP/1.1 framing (request heads
-- under limits, request bodies by length or chunks, response framing, 100-continue,
-- keep-alive) is sockit's message codec, reached through moonbridge_http.core; form
-- bodies are parsed as they stream by sockit's form parsers. This file builds
-- Moonbridge's request object on top: lazy tables, header tables, cookies, POST fields
-- and their streams, the response calls.
-----------------------------------------------------------------------------
local core = require("moonbridge_http.core")

local error, type, tostring, tonumber = error, type, tostring, tonumber
local pairs, ipairs, select, setmetatable, rawget, rawset = pairs, ipairs, select, setmetatable,
  rawget, rawset
local pcall = pcall
local lower, gsub, gmatch, match, find, sub, char = string.lower, string.gsub, string.gmatch,
  string.match, string.find, string.sub, string.char
local concat = table.concat

local _M = {}

-- Defaults (Moonbridge's, and the later timeouts against slow clients).
local defaults = {
  request_header_size_limit = 1024 * 1024,
  request_body_size_limit = 64 * 1024 * 1024,
  chunk_size = 16384,
  idle_timeout = 65,
  stall_timeout = 60,
  request_header_timeout = 120,
  response_timeout = 3600,
}

-----------------------------------------------------------------------------
-- Decoding helpers
-----------------------------------------------------------------------------

local function hexchar(h)
  return char(tonumber(h, 16))
end

-- Percent-decoding (not "+": that is only for form fields).
local function decode_uri(s)
  return (gsub(s, "%%(%x%x)", hexchar))
end
_M.decode_uri = decode_uri

-- A table whose keys are looked up case-insensitively: entries are stored under the
-- lower-case name; __index lowers other spellings. `default` (a function) makes the
-- value for a name that is not there (nil when absent).
local function ci_table(default)
  return setmetatable({}, {
    __index = function(self, k)
      if type(k) ~= "string" then
        return nil
      end
      local l = lower(k)
      local v = rawget(self, l)
      if v == nil and default then
        v = default(l)
      end
      return v
    end,
  })
end

-- The sequence of comma-separated elements of a header value, trimmed, empties dropped.
local function csv(value)
  local t = {}
  for elem in gmatch(value, "[^,]+") do
    elem = match(elem, "^[ \t]*(.-)[ \t]*$")
    if elem ~= "" then
      t[#t + 1] = elem
    end
  end
  return t
end

-----------------------------------------------------------------------------
-- Header tables (built once per request, from the head's field list)
-----------------------------------------------------------------------------

local empty_mt = { __newindex = function() error("header tables are read-only", 2) end }

-- headers: name -> sequence of values (an empty sequence for an absent name).
local function build_headers(fields)
  local h = ci_table(function() return setmetatable({}, empty_mt) end)
  for i = 1, #fields, 2 do
    local name, value = fields[i], fields[i + 1]
    local list = rawget(h, name)
    if not list then
      list = {}
      rawset(h, name, list)
    end
    list[#list + 1] = value
  end
  return h
end

local header_tables = {}

function header_tables.headers_csv_string(req)
  local t = ci_table()
  for name, values in pairs(req.headers) do
    rawset(t, name, concat(values, ", "))
  end
  return t
end

function header_tables.headers_csv_table(req)
  local t = ci_table(function() return {} end)
  for name, values in pairs(req.headers) do
    local list = {}
    for _, v in ipairs(values) do
      for _, elem in ipairs(csv(v)) do
        list[#list + 1] = elem
      end
    end
    rawset(t, name, list)
  end
  return t
end

function header_tables.headers_flags(req)
  local t = ci_table(function() return ci_table() end)
  for name, values in pairs(req.headers) do
    local flags = ci_table()
    for _, v in ipairs(values) do
      for _, elem in ipairs(csv(v)) do
        rawset(flags, lower(elem), true)
      end
    end
    rawset(t, name, flags)
  end
  return t
end

function header_tables.headers_value(req)
  local t = ci_table()
  for name, values in pairs(req.headers) do
    rawset(t, name, #values == 1 and values[1] or false)
  end
  return t
end

-- cookies: "Cookie: a=1; b=2" (every Cookie line), names and values percent-decoded.
function header_tables.cookies(req)
  local t = {}
  for _, line in ipairs(req.headers["cookie"]) do
    for pair in gmatch(line, "[^;]+") do
      local k, v = match(pair, "^[ \t]*([^=]-)[ \t]*=[ \t]*(.-)[ \t]*$")
      if k and k ~= "" then
        v = match(v, '^"(.*)"$') or v
        t[decode_uri(k)] = decode_uri(v)
      end
    end
  end
  return t
end

-----------------------------------------------------------------------------
-- Forms: GET from the query, POST from the body, through sockit's form parsers
-----------------------------------------------------------------------------

-- Runs a whole string through an urlencoded parser: fields in order as {name, value}.
local function parse_urlencoded(s)
  local fields = {}
  local f = core.form(nil)
  f:feed(s)
  f:finish()
  local name, parts
  while true do
    local ev, a = f:next()
    if ev == nil then break end
    if ev == "field" then
      name, parts = a, {}
    elseif ev == "data" then
      parts[#parts + 1] = a
    elseif ev == "end" then
      fields[#fields + 1] = { name, concat(parts) }
    end
  end
  return fields
end

-- get_params and get_params_list from the query (without its "?").
local function fill_params(fields, first, list)
  for _, nv in ipairs(fields) do
    local name, value = nv[1], nv[2]
    if first[name] == nil then
      first[name] = value
    end
    local l = rawget(list, name)
    if not l then
      l = {}
      list[name] = l
    end
    l[#l + 1] = value
  end
end

local list_mt = { __index = function() return {} end }
local function empty_list_table()
  return setmetatable({}, list_mt)
end

-----------------------------------------------------------------------------
-- The request object
-----------------------------------------------------------------------------

local request_methods = {}
local request_mt = {}

-- Lazily computed fields.
local lazy = {}

function lazy.headers(req)
  return build_headers(req._fields)
end

for k, f in pairs(header_tables) do
  lazy[k] = f
end

local function get_params(req)
  local first, list = {}, empty_list_table()
  local q = req.query
  if q and #q > 1 then
    fill_params(parse_urlencoded(sub(q, 2)), first, list)
  end
  rawset(req, "get_params", first)
  rawset(req, "get_params_list", list)
end

function lazy.get_params(req)
  get_params(req)
  return rawget(req, "get_params")
end

function lazy.get_params_list(req)
  get_params(req)
  return rawget(req, "get_params_list")
end

local function post_field(req, k)
  if req._body_taken then
    error("request body has been read as request.body; POST fields are not available", 3)
  end
  req:process_request_body()
  return rawget(req, k)
end

for _, k in ipairs({ "post_params", "post_params_list", "post_metadata", "post_metadata_list" }) do
  lazy[k] = function(req)
    if not req._processed and not req._body_taken then
      req:process_request_body()
    end
    if req._processed and req._no_body then
      -- Processed without a body: empty tables (post_metadata only for multipart).
      if k == "post_params" then return {} end
      if k == "post_params_list" then return empty_list_table() end
      local ct = req.headers_value["content-type"]
      if ct and find(lower(ct), "^multipart/form%-data") then
        return k == "post_metadata" and {} or empty_list_table()
      end
      return nil
    end
    return post_field(req, k)
  end
end

function lazy.body(req)
  if req._no_body or not req._conn:has_body() then
    return ""
  end
  if req._processed and not req._body_kept then
    error("request body has already been processed; request.body is not available", 3)
  end
  if req._streaming then
    error("request body is being streamed; request.body is not available", 3)
  end
  if req._body_kept then
    return req._body_kept
  end
  local parts = {}
  req._body_taken = true
  req:_read_body(function(chunk) parts[#parts + 1] = chunk end)
  local body = concat(parts)
  req._body_kept = body
  return body
end

request_mt.__index = function(req, k)
  local m = request_methods[k]
  if m ~= nil then
    return m
  end
  local f = lazy[k]
  if f then
    local v = f(req)
    if rawget(req, k) == nil then
      rawset(req, k, v)
    end
    return v
  end
  return nil
end

-- I/O errors: the request becomes faulty, then a Lua error is raised.
local function io_fail(req, msg)
  req.faulty = true
  error(msg or "I/O error on the client connection", 0)
end

local function check_usable(req)
  if req.faulty then
    error("the request is faulty (an I/O error happened); it cannot be used", 3)
  end
end

-- Reads the (rest of the) body, giving each chunk to `each`.
function request_methods._read_body(req, each)
  local conn = req._conn
  while true do
    local chunk, err, status = conn:read_body()
    if chunk == false then
      return
    end
    if chunk == nil then
      if status and status > 0 then
        req._refuse_status = status
      end
      io_fail(req, err)
    end
    each(chunk)
  end
end

function request_methods.defer_reading(req)
  check_usable(req)
  req._defer = true
end

-- Registers a stream handler: `entry` has the field's name or a pattern.
local function add_stream(req, what, entry, callback)
  check_usable(req)
  if req._processed or req._body_taken then
    error(what .. ": the request body has been processed already", 3)
  end
  if type(callback) ~= "function" then
    error(what .. ": callback must be a function", 3)
  end
  entry.callback = callback
  local s = req._streams
  s[#s + 1] = entry
end

function request_methods.stream_post_param(req, name, callback)
  add_stream(req, "stream_post_param", { name = name }, callback)
end

function request_methods.stream_post_params(req, pattern, callback)
  add_stream(req, "stream_post_params", { pattern = pattern }, callback)
end

local function stream_for(req, name)
  for _, s in ipairs(req._streams) do
    if (s.name and s.name == name) or (s.pattern and find(name, s.pattern)) then
      return s.callback
    end
  end
  return nil
end

local function content_type(req)
  return req.headers_value["content-type"] or nil
end

function request_methods.process_request_body(req)
  check_usable(req)
  if req._processed then
    return
  end
  if req._streaming then
    error("process_request_body: the request body is being streamed", 2)
  end
  req._processed = true
  if not req._body_taken and not req._conn:has_body() then
    -- No body (the common case): the POST tables are made when asked for.
    req._no_body = true
    return
  end
  local params, params_list = {}, empty_list_table()
  local meta, meta_list
  rawset(req, "post_params", params)
  rawset(req, "post_params_list", params_list)
  if req._body_taken then
    return
  end
  local ct = content_type(req)
  local form, ferr = nil, nil
  if ct then
    form, ferr = core.form(ct, req._max_chunk)
  end
  if form == false then
    req._refuse_status = 400
    error("request body: " .. tostring(ferr), 0)
  end
  if not form then
    -- Not a form: the body is read (so that the connection can go on) and kept.
    local parts = {}
    req:_read_body(function(chunk) parts[#parts + 1] = chunk end)
    req._body_kept = concat(parts)
    return
  end
  local multipart = form:is_multipart()
  if multipart then
    meta, meta_list = {}, empty_list_table()
    rawset(req, "post_metadata", meta)
    rawset(req, "post_metadata_list", meta_list)
  end
  local name, parts, cb, cb_first, md
  local function drain_events()
    while true do
      local ev, a, file_name, ctype = form:next()
      if ev == nil then
        return
      end
      if ev == "field" then
        name = a
        md = multipart and { file_name = file_name, content_type = ctype } or nil
        cb = stream_for(req, name)
        cb_first = true
        parts = not cb and {} or nil
        if md then
          if meta[name] == nil then meta[name] = md end
          local l = rawget(meta_list, name)
          if not l then l = {} meta_list[name] = l end
          l[#l + 1] = md
        end
      elseif ev == "data" then
        if cb then
          if cb_first then
            cb_first = false
            cb(a, md or { field_name = name })
          else
            cb(a)
          end
        else
          parts[#parts + 1] = a
        end
      elseif ev == "end" then
        if cb then
          if cb_first then
            cb("", md or { field_name = name })
          end
          cb()
        else
          local value = concat(parts)
          if params[name] == nil then params[name] = value end
          local l = rawget(params_list, name)
          if not l then l = {} params_list[name] = l end
          l[#l + 1] = value
        end
      end
    end
  end
  req:_read_body(function(chunk)
    local ok, err = form:feed(chunk)
    if not ok then
      req._refuse_status = 400
      error(err, 0)
    end
    drain_events()
  end)
  local ok, err = form:finish()
  if not ok then
    req._refuse_status = 400
    error(err, 0)
  end
  drain_events()
end

function request_methods.stream_request_body(req, callback)
  check_usable(req)
  if callback == nil then
    -- Discard what is left; allowed after the body was read or processed.
    if req._processed or req._body_taken or not req._conn:has_body() then
      if not req._conn:body_done() then
        req:_read_body(function() end)
      end
      return
    end
    req._body_taken = true
    req:_read_body(function() end)
    return
  end
  if req._processed or req._body_taken or req._streaming then
    error("stream_request_body: the request body has been read or processed already", 2)
  end
  req._streaming = true
  req._body_taken = true
  req:_read_body(callback)
  req._streaming = false
end

-- Before the response is written: process the body unless reading was deferred (or it
-- was dealt with already).
local function auto_process(req)
  if not req._defer and not req._processed and not req._body_taken then
    req:process_request_body()
  end
end

local function conn_call(req, ok, err)
  if not ok then
    io_fail(req, err)
  end
  return ok
end

function request_methods.close_after_finish(req)
  check_usable(req)
  if req._state == "headers_sent" or req._state == "finished" then
    error("close_after_finish: the response headers have been sent already", 2)
  end
  req._conn:close_after()
end

function request_methods.send_status(req, status)
  check_usable(req)
  if req._state ~= "new" then
    error("send_status: the status has been sent already", 2)
  end
  status = tostring(status)
  local code, reason = match(status, "^(%d%d%d) *(.*)$")
  if not code then
    error("send_status: expected a string like \"200 OK\", got \"" .. status .. "\"", 2)
  end
  auto_process(req)
  local ok, err = req._conn:status(tonumber(code), reason)
  if not ok then
    error("send_status: " .. tostring(err), 2)
  end
  req._state = "status_sent"
end

function request_methods.send_header(req, key, value)
  check_usable(req)
  if req._state == "new" then
    error("send_header: send_status must be called first", 2)
  end
  if req._state ~= "status_sent" then
    error("send_header: the header section has been finished already", 2)
  end
  if type(key) ~= "string" or value == nil then
    error("send_header: expected a key and a value", 2)
  end
  local ok, err = req._conn:header(key, tostring(value))
  if not ok then
    error("send_header: " .. tostring(err), 2)
  end
end

function request_methods.finish_headers(req)
  check_usable(req)
  if req._state == "new" then
    error("finish_headers: send_status must be called first", 2)
  end
  if req._state == "finished" then
    error("finish_headers: the response has been finished already", 2)
  end
  if req._state == "status_sent" then
    auto_process(req)
    conn_call(req, req._conn:finish_headers())
    req._state = "headers_sent"
  end
end

function request_methods.send_data(req, ...)
  check_usable(req)
  if req._state == "finished" then
    error("send_data: the response has been finished already", 2)
  end
  if req._state == "new" then
    error("send_data: send_status must be called first", 2)
  end
  if req._state == "status_sent" then
    -- The head waits: a short body can still go out with a Content-Length.
    req._state = "headers_sent"
  end
  local n = select("#", ...)
  local data
  if n == 1 then
    data = tostring((...))
  else
    local t = {}
    for i = 1, n do t[i] = tostring((select(i, ...))) end
    data = concat(t)
  end
  conn_call(req, req._conn:send(data))
end

function request_methods.flush(req)
  check_usable(req)
  if req._state == "status_sent" then
    req._state = "headers_sent"
  end
  if req._state ~= "new" and req._state ~= "finished" then
    conn_call(req, req._conn:flush())
  end
end

function request_methods.finish(req)
  check_usable(req)
  if req._state == "finished" then
    return
  end
  if req._state == "new" then
    error("finish: send_status must be called first", 2)
  end
  conn_call(req, req._conn:finish())
  req._state = "finished"
end

-----------------------------------------------------------------------------
-- The connection loop
-----------------------------------------------------------------------------

-- Splits a request target: path (without "/" and query, decoded), query ("?..." or "").
local function split_target(method, target)
  if sub(target, 1, 1) == "/" then
    -- origin-form, the usual case
    local q = find(target, "?", 2, true)
    local path = q and sub(target, 2, q - 1) or sub(target, 2)
    if find(path, "%", 1, true) then
      path = decode_uri(path)
    end
    return path, q and sub(target, q) or ""
  end
  if target == "*" then
    if method == "OPTIONS" then
      return nil, nil
    end
    return false
  end
  local rest = match(target, "^[Hh][Tt][Tt][Pp][Ss]?://[^/?]*(.*)$") or target
  if rest == "" then
    rest = "/"
  end
  local path, query = match(rest, "^/([^?]*)(.*)$")
  if not path then
    return false
  end
  return decode_uri(path), query
end

-- static_headers: a string ("Name: value" lines), a sequence of such strings, or a
-- table of name = value pairs; as a flat {name, value, ...} list.
local function static_header_list(sh)
  local out = {}
  local function line(l)
    for one in gmatch(l, "[^\r\n]+") do
      local k, v = match(one, "^([^:]+):[ \t]*(.-)[ \t]*$")
      if not k then
        error("static_headers: \"" .. one .. "\" is not a header line", 3)
      end
      out[#out + 1] = k
      out[#out + 1] = v
    end
  end
  if sh == nil then
    return out
  elseif type(sh) == "string" then
    line(sh)
  elseif type(sh) == "table" then
    for i, v in ipairs(sh) do
      line(v)
    end
    for k, v in pairs(sh) do
      if type(k) == "string" then
        out[#out + 1] = k
        out[#out + 1] = tostring(v)
      end
    end
  else
    error("static_headers must be a string or a table", 3)
  end
  return out
end

local function options_of(options)
  local o = {}
  for k, v in pairs(defaults) do o[k] = v end
  if options then
    for k, v in pairs(options) do o[k] = v end
  end
  local chunk = o.chunk_size
  o.maximum_input_chunk_size = (options and options.maximum_input_chunk_size) or chunk
  o.minimum_output_chunk_size = (options and options.minimum_output_chunk_size) or chunk
  o.static_header_list = static_header_list(o.static_headers)
  return o
end

function _M.generate_handler(handler, options)
  if type(handler) == "table" and type(options) == "function" then
    handler, options = options, handler
  end
  if type(handler) ~= "function" then
    error("generate_handler: a request handler function is required", 2)
  end
  if options ~= nil and type(options) ~= "table" then
    error("generate_handler: options must be a table", 2)
  end
  local opts = options_of(options)
  return function(socket)
    local conn = core.connection(socket, opts)
    local keep_worker = true
    while true do
      local method, target, minor, fields_or_status, msg = conn:read_request()
      if not method then
        -- A refused request (the status is answered) or a connection that ended.
        local status = target
        if status and status > 0 then
          conn:refuse(status)
        end
        break
      end
      local path, query = split_target(method, target)
      if path == false then
        conn:refuse(400)
        break
      end
      local req = setmetatable({
        method = method,
        path = path,
        query = query,
        socket = socket,
        faulty = false,
        _fields = fields_or_status,
        _conn = conn,
        _state = "new",
        _streams = {},
        _max_chunk = opts.maximum_input_chunk_size,
      }, request_mt)
      local ok, result = pcall(handler, req)
      if not ok then
        -- The handler failed: answer 500 (or the body error's status) if nothing was
        -- sent yet, then let the error end the worker, as Moonbridge does for errors in
        -- handlers. Errors of the connection itself (faulty) end only the connection.
        if req._state == "new" or req._state == "status_sent" then
          conn:refuse(req._refuse_status or 500)
        end
        if req.faulty then
          break
        end
        conn:close()
        error(result, 0)
      end
      if req._state ~= "finished" then
        if req._state == "new" then
          -- No response at all: that is an error of the handler.
          conn:refuse(500)
          conn:close()
          error("request handler returned without sending a response", 0)
        end
        local fok, ferr = pcall(req.finish, req)
        if not fok then
          break
        end
      end
      if result == false then
        keep_worker = false
        break
      end
      if not conn:keep_alive() then
        break
      end
    end
    conn:close()
    return keep_worker
  end
end

return _M
