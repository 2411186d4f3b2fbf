-- httpmock.lua: a create function for socket.http whose connections replay canned
-- responses and record what the client sent, for tests that need no server
-- (diff_http_create.lua, socket_http_safety.lua). It offers only the methods LuaSocket
-- calls on a created object.
--
-- scripted(responses, log) -> create: the n-th connection made answers responses[n];
-- each connection is appended to log as a table with peer, timeout, closed and sent (the
-- strings given to send, in order).
-- A connection that answers with the next of `responses`; `log` gets what happened.
return function(responses, log)
    local n = 0
    return function()
        n = n + 1
        local data = responses[n] or ""
        local pos = 1
        local c = { sent = {} }
        log[#log + 1] = c
        function c:settimeout(t) c.timeout = t return 1 end
        function c:connect(host, port) c.peer = host .. ":" .. tostring(port) return 1 end
        function c:send(s) c.sent[#c.sent + 1] = s return #s end
        function c:getfd() return -1 end
        function c:dirty() return false end
        function c:close() c.closed = true return 1 end
        function c:receive(pat, prefix)
            prefix = prefix or ""
            pat = pat or "*l"
            if type(pat) == "number" then
                local chunk = string.sub(data, pos, pos + pat - 1)
                pos = pos + #chunk
                if #chunk < pat then return nil, "closed", prefix .. chunk end
                return prefix .. chunk
            elseif string.sub(pat, 1, 2) == "*a" then
                local rest = string.sub(data, pos)
                pos = #data + 1
                return prefix .. rest
            end
            local e = string.find(data, "\n", pos, true)
            if not e then
                local rest = string.sub(data, pos)
                pos = #data + 1
                return nil, "closed", prefix .. rest
            end
            local line = string.gsub(string.sub(data, pos, e - 1), "\r", "")
            pos = e + 1
            return prefix .. line
        end
        return c
    end
end
