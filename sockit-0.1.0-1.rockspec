-- LuaRocks package of sockit's Lua 5.1/LuaJIT modules: a drop-in for LuaSocket 3
-- (socket, socket.*, mime, ltn12) plus moonbridge_io. `luarocks make` in the top
-- directory builds them with cargo and cc (make lua51) and installs them into the tree.
rockspec_format = "3.0"
package = "sockit"
version = "0.1.0-1"
source = {
   url = "git+file://.",
}
description = {
   summary = "Networking toolkit in Rust with LuaSocket 3's Lua API",
   detailed = [[
sockit's socket, socket.http/ftp/smtp/tp/url/headers/unix, mime, ltn12 and moonbridge_io
modules for Lua 5.1 and LuaJIT, over one shared libsockit.so.0 installed next to them.
Building needs a Rust toolchain (cargo) and a C compiler.]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1, < 5.2",
}
build = {
   type = "make",
   build_target = "lua51",
   install_target = "luarocks-install",
   install_variables = {
      LUA_MODDIR = "$(LUADIR)",
      LUA_CMODDIR = "$(LIBDIR)",
   },
}
