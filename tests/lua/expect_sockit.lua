-- expect_sockit.lua: loaded by testlib.lua under Lua 5.x (Lua 4.0 cannot parse it).
-- Lua 5.1 scripts that require LuaSocket's module names: checks, before anything else,
-- that the modules named (all of them by default) are sockit's and not LuaSocket's.
-- sockit's socket._VERSION names sockit, and its C modules live next to its Lua files.
function expect_sockit(names)
    local socket = require("socket")
    if not T_sockit_checked then
        T_sockit_checked = true
        check("socket is sockit's (" .. tostring(socket._VERSION) .. ")",
            string.find(tostring(socket._VERSION), "sockit", 1, 1) ~= nil)
    end
    names = names or { "socket.url", "socket.http", "socket.ftp", "socket.smtp", "socket.tp",
        "ltn12", "mime" }
    for _, name in ipairs(names) do
        local file = package.searchpath and package.searchpath(name, package.path)
        if not file then
            local rel = string.gsub(name, "%.", "/")
            for dir in string.gmatch(package.path, "[^;]+") do
                local f = string.gsub(dir, "%?", rel)
                local h = io.open(f)
                if h then h:close(); file = f; break end
            end
        end
        check(name .. " comes from sockit's build (" .. tostring(file) .. ")",
            file ~= nil and string.find(file, "/usr/", 1, 1) ~= 1 and require(name) ~= nil)
    end
end
