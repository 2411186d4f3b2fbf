-- A Moonbridge application for the pool tests (tests/moonbridge/test_server.py).
-- Arguments are key=value pairs:
--   tcp=HOST (repeatable), local=PATH, interval=NAME:DELAY[:strict], events=FILE,
--   any pool parameter (pre_fork=2, idle_timeout=0.5, ...), pools=2 (a second listen{}
--   with the same listeners' kinds on fresh ports).
-- Each connection reads command lines until EOF and answers each with one line.
local mbio = require "moonbridge_io"

local opts, tcp_hosts, intervals = {}, {}, {}
for _, a in ipairs({...}) do
  local k, v = a:match("^([%w_]+)=(.*)$")
  assert(k, "bad argument " .. a)
  if k == "tcp" then tcp_hosts[#tcp_hosts + 1] = v
  elseif k == "interval" then intervals[#intervals + 1] = v
  else opts[k] = v end
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

local function sleep(s)
  mbio.poll(nil, nil, s)
end

local function hex(s)
  if s == nil then return "nil" end
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local prepared = false

local commands = {}
function commands.pid() return tostring(mypid()) end
function commands.prepared() return tostring(prepared) end
function commands.sleep(_, n) sleep(tonumber(n)) return "slept" end
function commands.error() error("told to fail") end
function commands.exit() io.stdout:flush() os.exit(7) end
function commands.segv() os.execute("kill -SEGV $PPID") sleep(5) return "alive?" end
function commands.stuck(_, n) timeout(tonumber(n)) while true do end end
function commands.left() return tostring(timeout()) end
function commands.settimer(_, n) return tostring(timeout(tonumber(n))) end
function commands.sub(_, n, m)
  local a, b = timeout(tonumber(n), function(x, y) sleep(tonumber(m)) return x .. y, timeout() end, "do", "ne")
  return a .. " " .. tostring(b)
end
function commands.suberror()
  local ok, err = pcall(timeout, 5, function() error("inner") end)
  return tostring(ok) .. " " .. tostring(err):gsub("\n.*", "") .. " " .. tostring(timeout())
end
function commands.alloc(_, n) local s = string.rep("x", tonumber(n)) return tostring(#s) end
function commands.fields(sock)
  return table.concat({hex(sock.local_ip4), hex(sock.local_ip6), tostring(sock.local_tcpport),
    hex(sock.remote_ip4), hex(sock.remote_ip6), tostring(sock.remote_tcpport),
    tostring(sock.interval)}, " ")
end
function commands.listen()
  local ok, err = pcall(listen, {{proto = "tcp", host = "127.0.0.1", port = 0}, connect = function() end})
  return tostring(ok) .. " " .. tostring(err)
end

local function connect(sock)
  if sock.interval then
    event("tick " .. sock.interval .. " " .. mypid() .. " " .. string.format("%.3f", os.time()))
    return true
  end
  local keep = true
  while true do
    local line, status = sock:read(nil, "\n")
    if not line or line == "" then break end
    line = line:gsub("\r?\n$", "")
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    local f = commands[words[1]] or function() return "unknown" end
    if words[1] == "quit" then
      sock:write(tostring(mypid()), "\n")
      keep = false
      break
    end
    sock:flush(f(sock, words[2], words[3]), "\n")
    if status == "eof" then break end
  end
  return keep
end

local function make_listeners()
  local t = {}
  for _, h in ipairs(tcp_hosts) do t[#t + 1] = {proto = "tcp", host = h, port = 0} end
  if opts["local"] then t[#t + 1] = {proto = "local", path = opts["local"]} end
  for _, spec in ipairs(intervals) do
    local name, delay, strict = spec:match("^([^:]*):([%d.]+):?(.*)$")
    t[#t + 1] = {proto = "interval", name = name, delay = tonumber(delay), strict = strict == "strict"}
  end
  return t
end

local function pool()
  local t = make_listeners()
  for _, k in ipairs({"pre_fork", "min_fork", "max_fork", "fork_delay", "fork_error_delay",
                      "exit_delay", "idle_timeout", "idle_time", "memory_limit"}) do
    if opts[k] then t[k] = tonumber(opts[k]) end
  end
  t.prepare = function()
    prepared = mypid()
    event("prepare " .. mypid())
  end
  t.connect = connect
  t.finish = function() event("finish " .. mypid()) end
  return t
end

listen(pool())
if opts.pools == "2" then
  -- The second pool's local path, if any, differs.
  if opts["local"] then opts["local"] = opts["local"] .. "2" end
  listen(pool())
end
