-- sockit-lua51 is a complete Lua 5.1 interpreter: besides the 1.3b globals it has the
-- standard libraries, command-line arguments, and require finds sockit's modules.
dofile("tests/lua/testlib.lua")
check("1.3b globals", type(connect) == "function" and type(udpsocket) == "function")
check("standard libraries", type(string.format) == "function" and type(io.open) == "function"
      and type(coroutine.create) == "function" and type(os.time) == "function")
eq("arg[0]", arg[0], "tests/lua/interp_require.lua")
eq("Lua's select", select("#", "a", "b"), 2)
eq("Lua's select(n, ...)", select(2, "a", "b"), "b")
local socket = require("socket")
check("require socket gives sockit", socket._VERSION:find("sockit") ~= nil, socket._VERSION)
-- the two APIs side by side, each with its own objects
local server, ip, port = bind("127.0.0.1", 0)
server:timeout(5)
local c = assert(socket.connect(ip, port))
local peer = server:accept()
peer:timeout(5)
c:send("from the 2/3 API\n")
eq("1.3b socket reads what a socket.core socket sent", peer:receive(), "from the 2/3 API")
local mime = require("mime")
eq("mime", (mime.b64("sockit")), "c29ja2l0")
c:close() peer:close() server:close()
done()
