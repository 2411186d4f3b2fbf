-----------------------------------------------------------------------------
-- sockit.http: Emilua's http.socket, http.request and http.response over sockit's
-- symmetric HTTP/1.1 socket (sockit.http.core, C over sockit's C API).
--
--   local http = require "sockit.http"
--   local s = http.socket.new(sock)              -- sock: a connected socket.tcp,
--                                                -- socket.unix or moonbridge_io socket
--   local req, res = http.request.new(), http.response.new()
--   s:read_request(req) ... s:write_response(res)
--
-- http.socket.new(sock, {yield = true}) makes every method yield from the running
-- coroutine, as coroutine.yield(sock, "r" | "w"), whenever it would block (the way
-- moonbridge_io's _yield calls do): one scheduler can then drive many HTTP sockets.
-- These variants are Lua loops over the C module's non-blocking calls, since Lua 5.1
-- cannot yield across a C call.
-----------------------------------------------------------------------------
local core = require("sockit.http.core")

local yield = coroutine.yield
local setmetatable = setmetatable
local methods, ymethods = core.methods, core.yield_methods

local http = { socket = {}, request = {}, response = {} }

local request_mt = { __index = {} }
local response_mt = { __index = {} }

-- http.request.new(): {method = "GET", target = "/", headers = {}, body = "", trailers = {}}
function http.request.new()
    return setmetatable({ method = "GET", target = "/", headers = {}, body = "", trailers = {} },
        request_mt)
end

-- http.response.new(): {status = 200, reason = "", headers = {}, body = "", trailers = {}}
-- (an empty reason sends the standard phrase of the status)
function http.response.new()
    return setmetatable({ status = 200, reason = "", headers = {}, body = "", trailers = {} },
        response_mt)
end

-- http.socket.new(sock [, options]): options are yield (boolean), max_head, max_line,
-- max_fields, max_body, drain_limit and read_chunk (see the README).
http.socket.new = core.new

-- Pushes what the non-blocking calls queued, yielding while the socket cannot take it.
local function flushed(self)
    while true do
        local left, err = methods.flush(self)
        if not left then
            return nil, err
        end
        if left == 0 then
            return true
        end
        yield(methods.socket(self), "w")
    end
end

-- Reads: call again after yielding for "r" as long as they report "block".
for _, name in ipairs { "read_request", "read_response", "read_some" } do
    local f = methods[name]
    ymethods[name] = function(self, msg)
        while true do
            local ok, err, status = f(self, msg)
            if ok then
                -- read_some may have queued a "100 Continue"
                return flushed(self)
            end
            if err ~= "block" then
                return nil, err, status
            end
            -- output still queued goes first: the peer may be waiting for it
            local left = methods.flush(self)
            yield(methods.socket(self), (left and left > 0) and "w" or "r")
        end
    end
end

-- Writes never block in non-blocking mode: they queue; then the queue is flushed.
for _, name in ipairs { "write_request", "write_request_metadata", "write_response",
    "write_response_continue", "write_response_metadata", "write", "write_trailers",
    "write_end_of_message", "write_error" } do
    local f = methods[name]
    ymethods[name] = function(self, ...)
        local ok, err, status = f(self, ...)
        if not ok then
            return nil, err, status
        end
        return flushed(self)
    end
end

function ymethods.close(self)
    flushed(self)
    return methods.close(self)
end

ymethods.flush = flushed
ymethods.socket = methods.socket

return http
