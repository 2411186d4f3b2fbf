-----------------------------------------------------------------------------
-- moonbridge_io.lua: sockit's Moonbridge I/O library (the "moonbridge_io" module).
-- moonbridge_io.core (C, over sockit's C API) has the blocking and non-blocking calls;
-- the _call and _yield variants live here, in Lua, as loops over the _nb calls: a
-- wait function may be coroutine.yield, and Lua 5.1 cannot yield across a C call.
-----------------------------------------------------------------------------
local core = require("moonbridge_io.core")

local methods = core._socket_methods
local concat = table.concat
local yield = coroutine.yield

-- read_call(waitfunc, maxlen, terminator): read_nb until it does not block, calling
-- waitfunc(socket, "r") in between; the pieces are returned joined.
function methods.read_call(self, waitfunc, maxlen, terminator)
    local parts, nparts, got = nil, 0, 0
    while true do
        local want = maxlen and maxlen - got or nil
        local data, status = self:read_nb(want, terminator)
        if not data then
            return nil, status
        end
        if status ~= "block" then
            if parts then
                nparts = nparts + 1
                parts[nparts] = data
                return concat(parts), status
            end
            return data, status
        end
        if data ~= "" then
            parts = parts or {}
            nparts = nparts + 1
            parts[nparts] = data
            got = got + #data
        end
        waitfunc(self, "r")
    end
end

-- drain_call(waitfunc, maxlen, terminator): the same for drain_nb; counts are summed.
function methods.drain_call(self, waitfunc, maxlen, terminator)
    local total = 0
    while true do
        local want = maxlen and maxlen - total or nil
        local n, status = self:drain_nb(want, terminator)
        if not n then
            return nil, status
        end
        total = total + n
        if status ~= "block" then
            return total, status
        end
        waitfunc(self, "r")
    end
end

-- write_call(waitfunc, ...): write_nb, then waitfunc(socket, "w") and write_nb() again
-- while data is still waiting in the buffer. Returns the socket, like write.
function methods.write_call(self, waitfunc, ...)
    local left, err = self:write_nb(...)
    while left and left > 0 do
        waitfunc(self, "w")
        left, err = self:write_nb()
    end
    if not left then
        return nil, err
    end
    return self
end

-- flush_call(waitfunc, ...): the same with flush_nb, until everything is out.
function methods.flush_call(self, waitfunc, ...)
    local left, err = self:flush_nb(...)
    while left and left > 0 do
        waitfunc(self, "w")
        left, err = self:flush_nb()
    end
    if not left then
        return nil, err
    end
    return self
end

function methods.read_yield(self, ...)
    return methods.read_call(self, yield, ...)
end

function methods.drain_yield(self, ...)
    return methods.drain_call(self, yield, ...)
end

function methods.write_yield(self, ...)
    return methods.write_call(self, yield, ...)
end

function methods.flush_yield(self, ...)
    return methods.flush_call(self, yield, ...)
end

return core
