-----------------------------------------------------------------------------
-- ltn12.lua: LTN12 filters, sources, sinks and pumps, with LuaSocket 3's API, over
-- sockit's native pipelines.
--
-- Stages made here from native parts (strings, files, tables, mime filters, socket
-- stages, and chains of those) are sockit stages: callable like the Lua functions LTN12
-- describes, and when a pump's source and sink are both native, pump.all and pump.step
-- run in sockit without chunks passing through Lua. Lua functions work as sources,
-- sinks and filters anywhere; a pipeline that mixes them is pumped from Lua.
-----------------------------------------------------------------------------
local core = require("ltn12.core")
local string = require("string")
local table = require("table")
local base = _G
local select = select
local unpack = unpack or table.unpack

local _M = {}
if module then -- LuaSocket also exports the global ltn12 where module() exists
    ltn12 = _M -- luacheck: ignore
end

local filter, source, sink, pump = {}, {}, {}, {}
_M.filter = filter
_M.source = source
_M.sink = sink
_M.pump = pump
_M.BLOCKSIZE = 2048
_M._VERSION = "LTN12 1.0.3"
_M._sockit = core

local kind = core.kind

-- true when every argument from first on is a native stage of kind k
local function all_native(k, first, ...)
    for i = first, select("#", ...) do
        if kind((select(i, ...))) ~= k then return false end
    end
    return true
end

-----------------------------------------------------------------------------
-- Filters
-----------------------------------------------------------------------------
function filter.cycle(low, ctx, extra)
    base.assert(low)
    local native = core.cycle(low, ctx, extra)
    if native then return native end
    return function(chunk)
        local out
        out, ctx = low(ctx, chunk, extra)
        return out
    end
end

-- Chains filters. Data enters at the first filter that has not ended ("live"); each
-- filter's output goes to the next. A filter that answers "" is asked again by the one
-- before it ("" while data flows, nil once the input has ended), so that every filter
-- is drained before new input arrives.
function filter.chain(...)
    local n = select("#", ...)
    if n > 0 and all_native("filter", 1, ...) then
        return core.filter_chain(...)
    end
    local fs = {...}
    local live, pos = 1, 1
    local again = ""
    return function(chunk)
        if not chunk then again = nil end
        while true do
            if pos == live then
                chunk = fs[pos](chunk)
                if chunk == "" or live == n then
                    return chunk
                elseif chunk ~= nil then
                    pos = pos + 1
                else
                    live = live + 1
                    pos = live
                end
            else
                chunk = fs[pos](chunk or "")
                if chunk == "" then
                    pos = pos - 1
                    chunk = again
                elseif chunk == nil then
                    base.error("filter returned inappropriate nil")
                elseif pos == n then
                    return chunk
                else
                    pos = pos + 1
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
    if base.type(err) == "string" then return core.source_error(err) end
    return function() return nil, err end
end

function source.file(handle, io_err)
    if not handle then
        return source.error(io_err or "unable to open file")
    end
    local native = core.source_file(handle, _M.BLOCKSIZE)
    if native then return native end
    return function()
        local chunk = handle:read(_M.BLOCKSIZE)
        if not chunk then handle:close() end
        return chunk
    end
end

function source.simplify(src)
    base.assert(src)
    if kind(src) == "source" then return src end
    return function()
        local chunk, err_or_new = src()
        src = err_or_new or src
        if chunk then return chunk end
        return nil, err_or_new
    end
end

function source.string(s)
    if not s then return source.empty() end
    return core.source_string(s, _M.BLOCKSIZE)
end

function source.table(t)
    base.assert(base.type(t) == "table")
    local i = 0
    return function()
        i = i + 1
        return t[i]
    end
end

function source.rewind(src)
    base.assert(src)
    local native = core.source_rewind(src)
    if native then return native end
    local back = {}
    return function(chunk)
        if chunk then
            back[#back + 1] = chunk
            return
        end
        if #back > 0 then return table.remove(back) end
        return src()
    end
end

-- A source of src's data passed through f. "feeding" pulls src and hands the chunk to
-- f; once f gives output, "eating" asks f for more ("" or nil at the end) until it
-- answers "".
function source.chain(src, f, ...)
    if ... then f = filter.chain(f, ...) end
    base.assert(src and f)
    if kind(src) == "source" and kind(f) == "filter" then
        return core.source_chain(src, f)
    end
    local input, output = "", ""
    local eating = false
    return function()
        if not output then base.error("source is empty!", 2) end
        while true do
            if not eating then
                local err
                input, err = src()
                if err then return nil, err end
                output = f(input)
                if not output then
                    if input then base.error("filter returned inappropriate nil") end
                    return nil
                elseif output ~= "" then
                    eating = true
                    if input then input = "" end
                    return output
                end
            else
                output = f(input)
                if output == "" then
                    if input ~= "" then base.error('filter returned ""') end
                    eating = false
                elseif not output then
                    if input then base.error("filter returned inappropriate nil") end
                    return nil
                else
                    return output
                end
            end
        end
    end
end

function source.cat(...)
    if all_native("source", 1, ...) then return core.source_cat(...) end
    local list = {...}
    local current = table.remove(list, 1)
    return function()
        while current do
            local chunk, err = current()
            if chunk then return chunk end
            if err then return nil, err end
            current = table.remove(list, 1)
        end
    end
end

-----------------------------------------------------------------------------
-- Sinks
-----------------------------------------------------------------------------
function sink.table(t)
    t = t or {}
    return core.sink_table(t), t
end

function sink.simplify(snk)
    base.assert(snk)
    if kind(snk) == "sink" then return snk end
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
    local native = core.sink_file(handle)
    if native then return native end
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
    if base.type(err) == "string" then return core.sink_error(err) end
    return function() return nil, err end
end

-- A sink that passes chunks through f into snk; the filter is drained ("" until it
-- answers "", or until it answers nil after the end) before the sink says it is done.
function sink.chain(f, snk, ...)
    if ... then
        local args = {f, snk, ...}
        snk = table.remove(args)
        f = filter.chain(unpack(args))
    end
    base.assert(f and snk)
    if kind(f) == "filter" and kind(snk) == "sink" then
        return core.sink_chain(f, snk)
    end
    return function(chunk, err)
        if chunk == "" then return 1 end
        local out = f(chunk)
        local last = chunk and ""
        while true do
            local ret, snkerr = snk(out, err)
            if not ret then return nil, snkerr end
            if out == last then return 1 end
            out = f(last)
        end
    end
end

-----------------------------------------------------------------------------
-- Pumps
-----------------------------------------------------------------------------
function pump.step(src, snk)
    if kind(src) == "source" and kind(snk) == "sink" then
        return core.pump_step(src, snk, _M.BLOCKSIZE)
    end
    local chunk, src_err = src()
    local ret, snk_err = snk(chunk, src_err)
    if chunk and ret then return 1 end
    return nil, src_err or snk_err
end

function pump.all(src, snk, step)
    base.assert(src and snk)
    if (step == nil or step == pump.step)
        and kind(src) == "source" and kind(snk) == "sink" then
        return core.pump_all(src, snk, _M.BLOCKSIZE)
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

return _M
