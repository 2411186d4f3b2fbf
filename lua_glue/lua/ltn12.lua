-----------------------------------------------------------------------------
-- ltn12.lua: sockit's LTN12 module (sources, sinks, filters, pumps) for Lua 5.1 and
-- LuaJIT, compatible with LuaSocket's ltn12.
--
-- Stages made by sockit (string, empty and error sources, null and error sinks, the
-- filters of mime, and anything composed only of those) are native: composing them
-- builds a sockit pipeline, and pumping native stages runs in C without calling Lua.
-- Lua functions work everywhere as sources, sinks and filters; a pipeline that mixes
-- them runs through the plain Lua code below, calling native stages like functions.
-----------------------------------------------------------------------------
local core = require("ltn12.core")

local native = core.kind
local select, type, error, unpack = select, type, error, unpack
local tinsert, tremove = table.insert, table.remove

local ltn12 = {}
local filter, source, sink, pump = {}, {}, {}, {}
ltn12.filter, ltn12.source, ltn12.sink, ltn12.pump = filter, source, sink, pump
ltn12._VERSION = "LTN12 1.0.3 (sockit)"
ltn12.BLOCKSIZE = 2048
local NATIVE_BLOCKSIZE = 2048

-- true when every argument is a live native stage of that kind
local function all_native(kind, ...)
    local n = select("#", ...)
    if n == 0 then return false end
    for i = 1, n do
        if native((select(i, ...))) ~= kind then return false end
    end
    return true
end

-----------------------------------------------------------------------------
-- Filters
-----------------------------------------------------------------------------

-- A filter from a low-level function low(ctx, chunk, extra) -> output, new ctx.
function filter.cycle(low, ctx, extra)
    return function(chunk)
        local out
        out, ctx = low(ctx, chunk, extra)
        return out
    end
end

-- Filters one after the other. Each call returns one chunk: the first non-empty output
-- of the last filter, or "" when the first running filter had nothing. After the input
-- ends (nil), each filter in turn is called until it returns nil, and what it gives is
-- pushed through the filters after it.
function filter.chain(...)
    if all_native("filter", ...) then
        return core.filter_chain(...)
    end
    local fs = {...}
    local n = select("#", ...)
    local top = 1    -- the first filter that has not ended
    local at = 1     -- the filter to call next
    local refill = "" -- what the filter above gets when one below had nothing
    return function(chunk)
        refill = chunk and refill
        while true do
            if at == top then
                chunk = fs[at](chunk)
                if chunk == "" or top == n then
                    return chunk
                elseif chunk then
                    at = at + 1
                else
                    top = top + 1
                    at = top
                end
            else
                chunk = fs[at](chunk or "")
                if chunk == "" then
                    at = at - 1
                    chunk = refill
                elseif chunk == nil then
                    error("filter returned inappropriate nil")
                elseif at == n then
                    return chunk
                else
                    at = at + 1
                end
            end
        end
    end
end

-----------------------------------------------------------------------------
-- Sources
-----------------------------------------------------------------------------

function source.empty()
    return core.source_empty()
end

function source.error(err)
    return core.source_error(err)
end

function source.file(handle, io_err)
    if not handle then
        return source.error(io_err or "unable to open file")
    end
    return function()
        local chunk = handle:read(ltn12.BLOCKSIZE)
        if not chunk then handle:close() end
        return chunk
    end
end

-- Turns a fancy source (one that may return a replacement source) into a simple one.
function source.simplify(src)
    return function()
        local chunk, err_or_new = src()
        src = err_or_new or src
        if not chunk then return nil, err_or_new end
        return chunk
    end
end

function source.string(s)
    if not s then return source.empty() end
    if ltn12.BLOCKSIZE == NATIVE_BLOCKSIZE then
        return core.source_string(s)
    end
    local i = 1
    return function()
        local size = ltn12.BLOCKSIZE
        local chunk = string.sub(s, i, i + size - 1)
        i = i + size
        if chunk == "" then return nil end
        return chunk
    end
end

function source.table(t)
    t = t or {}
    local i = 0
    return function()
        i = i + 1
        return t[i]
    end
end

-- A source that takes chunks back: src(chunk) puts chunk back, src() gets one.
function source.rewind(src)
    if native(src) == "source" then
        return core.source_rewind(src)
    end
    local back = {}
    return function(chunk)
        if chunk then
            back[#back + 1] = chunk
            return
        end
        chunk = tremove(back)
        if chunk then return chunk end
        return src()
    end
end

-- The chunks of src through f (and further filters, chained).
function source.chain(src, f, ...)
    if native(src) == "source" and all_native("filter", f, ...) then
        return core.source_chain(src, f, ...)
    end
    if ... then f = filter.chain(f, ...) end
    assert(src and f)
    local input, output = "", ""
    local feeding = true
    return function()
        if not output then
            error("source is empty!", 2)
        end
        while true do
            if feeding then
                local err
                input, err = src()
                if err then return nil, err end
                output = f(input)
                if not output then
                    if input then error("filter returned inappropriate nil") end
                    return nil
                elseif output ~= "" then
                    feeding = false
                    if input then input = "" end
                    return output
                end
            else
                -- draining what the filter still holds for the last input
                output = f(input)
                if output == "" then
                    if input == "" then
                        feeding = true
                    else
                        error('filter returned ""')
                    end
                elseif not output then
                    if input then error("filter returned inappropriate nil") end
                    return nil
                else
                    return output
                end
            end
        end
    end
end

-- The chunks of several sources, one after the other.
function source.cat(...)
    if all_native("source", ...) then
        return core.source_cat(...)
    end
    local parts = {...}
    local current = tremove(parts, 1)
    return function()
        while current do
            local chunk, err = current()
            if chunk then return chunk end
            if err then return nil, err end
            current = tremove(parts, 1)
        end
    end
end

-----------------------------------------------------------------------------
-- Sinks
-----------------------------------------------------------------------------

-- A sink storing every chunk in t; returns the sink and t.
function sink.table(t)
    t = t or {}
    local f = function(chunk, err)
        if chunk then tinsert(t, chunk) end
        return 1
    end
    return f, t
end

-- Turns a fancy sink (one that may return a replacement sink) into a simple one.
function sink.simplify(snk)
    return function(chunk, err)
        local ret, err_or_new = snk(chunk, err)
        if not ret then return nil, err_or_new end
        snk = err_or_new or snk
        return 1
    end
end

function sink.file(handle, io_err)
    if not handle then
        return sink.error(io_err or "unable to open file")
    end
    return function(chunk, err)
        if not chunk then
            handle:close()
            return 1
        end
        return handle:write(chunk)
    end
end

function sink.null()
    return core.sink_null()
end

function sink.error(err)
    return core.sink_error(err)
end

-- A sink that passes chunks through f (and further filters) into snk, the last argument.
function sink.chain(f, snk, ...)
    if ... then
        local args = {f, snk, ...}
        snk = tremove(args)
        f = filter.chain(unpack(args))
    end
    if native(f) == "filter" and native(snk) == "sink" then
        return core.sink_chain(f, snk)
    end
    return function(chunk, err)
        if chunk == "" then return 1 end
        local filtered = f(chunk)
        local last = chunk and ""
        while true do
            local ret, snk_err = snk(filtered, err)
            if not ret then return nil, snk_err end
            if filtered == last then return 1 end
            filtered = f(last)
        end
    end
end

-----------------------------------------------------------------------------
-- Pumps
-----------------------------------------------------------------------------

-- Moves one chunk; 1 when a chunk moved, nil [, err] at the end or on an error.
function pump.step(src, snk)
    if native(src) == "source" and native(snk) == "sink" then
        return core.pump_step(src, snk)
    end
    local chunk, src_err = src()
    local ret, snk_err = snk(chunk, src_err)
    if chunk and ret then return 1 end
    return nil, src_err or snk_err
end

-- Moves everything; 1 at the end, nil, err on an error.
function pump.all(src, snk, step)
    if (step == nil or step == pump.step) and native(src) == "source" and native(snk) == "sink" then
        return core.pump_all(src, snk)
    end
    step = step or pump.step
    while true do
        local ret, err = step(src, snk)
        if not ret then
            if err then return nil, err end
            return 1
        end
    end
end

return ltn12
