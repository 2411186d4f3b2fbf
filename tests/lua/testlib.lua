-- testlib.lua: tiny test helpers shared by every Lua test script. Written in the
-- subset of Lua that Lua 4.0 and Lua 5.1 both accept (no `for k, v in t`, no upvalues,
-- no `#`), so that 1.3b API scripts run unchanged under sockit-lua4 and sockit-lua51.
--
-- Each check prints "ok N - name" or "not ok N - name # detail"; scripts/test-lua.sh
-- counts those lines. Call done() at the end: it exits non-zero when a check failed.

if string then -- Lua 5.x: the Lua 4.0 global names the shared scripts use
    strfind = string.find
    strsub = string.sub
    strlen = string.len
    strrep = string.rep
    strbyte = string.byte
    strchar = string.char
    format = string.format
    gsub = string.gsub
    getenv = os.getenv
    exit = os.exit
    clock = os.clock
    tinsert = table.insert
    getn = table.getn
    floor = math.floor
    LUA5 = 1
    io.stdout:setvbuf("line") -- a test killed by its time limit still shows its checks
end

T_count = 0
T_failed = 0
T_prefix = ""

-- A printable rendering of a value for failure messages.
function repr(v)
    if type(v) == "string" then
        if strlen(v) > 80 then
            return format("%q..(%d bytes)", strsub(v, 1, 80), strlen(v))
        end
        return format("%q", v)
    end
    return tostring(v)
end

function check(name, cond, detail)
    T_count = T_count + 1
    if cond then
        print("ok " .. T_count .. " - " .. T_prefix .. name)
    else
        T_failed = T_failed + 1
        local d = ""
        if detail then d = " # " .. tostring(detail) end
        print("not ok " .. T_count .. " - " .. T_prefix .. name .. d)
    end
    return cond
end

function eq(name, got, want)
    return check(name, got == want, "got " .. repr(got) .. ", want " .. repr(want))
end

-- Seconds since some fixed point (the sockit clock when available).
function now()
    if _time then return _time() end
    if socket and socket.gettime then return socket.gettime() end
    return clock()
end

-- The number of sockets this process holds (Linux /proc), or nil if unknown. The shell
-- started for the command lists its parent's descriptors; only sockets are counted, so
-- the pipe of the command itself (which the child may see twice, depending on timing)
-- does not matter. (Lua 4.0's readfrom("|cmd") crashes on 64-bit systems, so Lua 4.0
-- goes through a file.)
function count_fds()
    local cmd = "ls -l /proc/$PPID/fd 2>/dev/null | grep -c 'socket:'"
    local n
    if LUA5 then
        local f = io.popen(cmd)
        if not f then return nil end
        n = tonumber(f:read("*l"))
        f:close()
    else
        local t = tmpname()
        execute(cmd .. " > " .. t)
        readfrom(t)
        n = tonumber(read("*l"))
        readfrom()
        remove(t)
    end
    return n
end

-- A full garbage collection. Lua 4.0's collectgarbage() cannot be used on 64-bit
-- systems (it switches the collector off there), so under Lua 4.0 garbage is made until
-- the collector has run twice on its own.
function full_gc()
    if LUA5 then
        collectgarbage("collect")
        collectgarbage("collect")
        return
    end
    local runs = 0
    local last = gcinfo()
    local junk = nil
    local i = 0
    while runs < 2 and i < 10000000 do
        i = i + 1
        junk = {i, junk}
        if i - floor(i / 64) * 64 == 0 then junk = nil end
        local now = gcinfo()
        if now < last then runs = runs + 1 end
        last = now
    end
end

function done()
    print("# " .. T_count .. " checks, " .. T_failed .. " failed")
    if T_failed > 0 then exit(1) end
    if T_count == 0 then exit(1) end
end

-- Lua 5.x only: expect_sockit() (in its own file, which Lua 4.0 need not parse). The
-- test runners set SOCKIT_EXPECT_SOCKIT=1 for the scripts that require "socket" from
-- build/lua51, so that each of them checks first that sockit's modules are the ones
-- loaded.
if LUA5 then
    dofile("tests/lua/expect_sockit.lua")
    if os.getenv("SOCKIT_EXPECT_SOCKIT") == "1" then expect_sockit({ "socket" }) end
end
