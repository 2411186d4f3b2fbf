# sockit: build, install, test, demo and benchmarks.
#
#   make                  release library + refreshed include/sockit.h + build/sockit.pc
#   make header           only refresh include/sockit.h from src/ffi
#   make test             every test suite (installs missing test dependencies first)
#   make install          PREFIX=/usr/local by default; DESTDIR is honoured; with Lua 5.1
#                         also bin/sockit-moonbridge (-> lib/sockit/lua51, its modules)
#   make demo | bench | lua51 | lua4 LUA4_DIR=... | clean
#
# Cargo's target directory follows CARGO_TARGET_DIR when it is set.

CARGO      ?= cargo
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BINDIR     ?= $(PREFIX)/bin
# sockit-moonbridge and the Lua 5.1 modules it loads (installed when Lua 5.1 is there).
LUA51DIR   ?= $(LIBDIR)/sockit/lua51
DESTDIR    ?=

VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
MAJOR   := $(firstword $(subst ., ,$(VERSION)))
TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
LIB_OUT := $(TARGET_DIR)/release
BUILD   := build

# build/lib links the library under the names programs use (libsockit.so.$(MAJOR) is the
# SONAME), so C programs link with -Lbuild/lib -lsockit and run with it as rpath. Test,
# demo and benchmark scripts find it through SOCKIT_LIBDIR.
export SOCKIT_LIBDIR := $(abspath $(BUILD)/lib)
define link_libdir
	@mkdir -p $(BUILD)/lib
	@ln -sfn $(abspath $(LIB_OUT))/libsockit.so $(BUILD)/lib/libsockit.so
	@ln -sfn $(abspath $(LIB_OUT))/libsockit.so $(BUILD)/lib/libsockit.so.$(MAJOR)
	@ln -sfn $(abspath $(LIB_OUT))/libsockit.a $(BUILD)/lib/libsockit.a
endef

# Paths under PREFIX are written relative to ${prefix} in the .pc file.
pc_path = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

.PHONY: all header lib pc install uninstall test demo bench lua51 lua4 luarocks-install clean

all: header pc

# Builds the release library and refreshes include/sockit.h (build.rs writes it when
# SOCKIT_WRITE_HEADER is set). Commit the header together with changes to src/ffi.
header:
	SOCKIT_WRITE_HEADER=1 $(CARGO) build --release
	$(link_libdir)

# The library without touching include/sockit.h (used by install, test, demo, bench).
lib:
	$(CARGO) build --release
	$(link_libdir)

# build/sockit.pc for PREFIX; rewritten only when its content changes.
pc:
	@mkdir -p $(BUILD)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' \
	     -e 's|@LIBDIR@|$(call pc_path,$(LIBDIR))|g' \
	     -e 's|@INCLUDEDIR@|$(call pc_path,$(INCLUDEDIR))|g' \
	     -e 's|@VERSION@|$(VERSION)|g' sockit.pc.in > $(BUILD)/sockit.pc.tmp
	@if cmp -s $(BUILD)/sockit.pc.tmp $(BUILD)/sockit.pc; then rm -f $(BUILD)/sockit.pc.tmp; \
	 else mv $(BUILD)/sockit.pc.tmp $(BUILD)/sockit.pc && echo "wrote $(BUILD)/sockit.pc (prefix $(PREFIX))"; fi

install: lib pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(LIB_OUT)/libsockit.so $(DESTDIR)$(LIBDIR)/libsockit.so.$(VERSION)
	ln -sf libsockit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsockit.so.$(MAJOR)
	ln -sf libsockit.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libsockit.so
	install -m 644 $(LIB_OUT)/libsockit.a $(DESTDIR)$(LIBDIR)/libsockit.a
	install -m 644 include/sockit.h $(DESTDIR)$(INCLUDEDIR)/sockit.h
	install -m 644 $(BUILD)/sockit.pc $(DESTDIR)$(PKGCONFIGDIR)/sockit.pc
	@if pkg-config --exists lua5.1 2>/dev/null || [ -f /usr/include/lua5.1/lua.h ]; then \
	   $(MAKE) --no-print-directory lua51 && \
	   install -d $(DESTDIR)$(LUA51DIR) $(DESTDIR)$(BINDIR) && \
	   (cd $(BUILD)/lua51 && find . -type f ! -name sockit-lua51 ! -name sockit-moonbridge ! -name '*.tmp') | \
	     while read -r f; do install -D -m 644 "$(BUILD)/lua51/$$f" "$(DESTDIR)$(LUA51DIR)/$$f"; done && \
	   install -m 755 $(BUILD)/lua51/sockit-moonbridge $(DESTDIR)$(LUA51DIR)/sockit-moonbridge && \
	   ln -sf $(LUA51DIR)/sockit-moonbridge $(DESTDIR)$(BINDIR)/sockit-moonbridge; \
	 else echo "make install: Lua 5.1 headers not found; sockit-moonbridge is not installed"; fi
	@# The Lua glue for embedders: sockit_lua.h, libsockit-lua51.a (and -lua4 with LUA4_DIR)
	@# and their pkg-config files (scripts/build-glue-libs.sh).
	PREFIX="$(PREFIX)" LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" VERSION="$(VERSION)" \
	  LUA4_DIR="$(if $(LUA4_DIR),$(abspath $(LUA4_DIR)))" sh scripts/build-glue-libs.sh
	install -m 644 lua_glue/sockit_lua.h $(DESTDIR)$(INCLUDEDIR)/sockit_lua.h
	if [ -f $(BUILD)/glue/libsockit-lua51.a ]; then \
	  install -m 644 $(BUILD)/glue/libsockit-lua51.a $(DESTDIR)$(LIBDIR)/libsockit-lua51.a && \
	  install -m 644 $(BUILD)/glue/sockit-lua51.pc $(DESTDIR)$(PKGCONFIGDIR)/sockit-lua51.pc; fi
	$(if $(LUA4_DIR),install -m 644 $(BUILD)/glue/libsockit-lua4.a $(DESTDIR)$(LIBDIR)/libsockit-lua4.a)
	$(if $(LUA4_DIR),install -m 644 $(BUILD)/glue/sockit-lua4.pc $(DESTDIR)$(PKGCONFIGDIR)/sockit-lua4.pc)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsockit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsockit.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libsockit.so $(DESTDIR)$(LIBDIR)/libsockit.a \
	      $(DESTDIR)$(INCLUDEDIR)/sockit.h $(DESTDIR)$(PKGCONFIGDIR)/sockit.pc \
	      $(DESTDIR)$(INCLUDEDIR)/sockit_lua.h $(DESTDIR)$(LIBDIR)/libsockit-lua51.a \
	      $(DESTDIR)$(LIBDIR)/libsockit-lua4.a $(DESTDIR)$(PKGCONFIGDIR)/sockit-lua51.pc \
	      $(DESTDIR)$(PKGCONFIGDIR)/sockit-lua4.pc $(DESTDIR)$(BINDIR)/sockit-moonbridge
	rm -rf $(DESTDIR)$(LUA51DIR)

# Every test: Rust, C (shared + static, valgrind), install/pkg-config, scripts/test-*.sh.
# Ends with one line "N passed, M failed[, K skipped]"; fails if anything failed.
test:
	@bash scripts/run-tests.sh

demo: lib
	@if [ -f examples/demo.sh ]; then bash examples/demo.sh; \
	 else echo "make demo: there is no demo yet (examples/demo.sh does not exist)" >&2; exit 1; fi

bench: lib
	@bash scripts/install-deps.sh --bench
	@bash scripts/run-bench.sh

lua51: lib
	@if [ -f scripts/build-lua51.sh ]; then DEBUG="$(DEBUG)" bash scripts/build-lua51.sh; \
	 else echo "make lua51: the Lua 5.1 glue is not there yet (scripts/build-lua51.sh does not exist)" >&2; exit 1; fi

lua4:
	@if [ -z "$(LUA4_DIR)" ]; then \
	   echo "make lua4 needs LUA4_DIR: make lua4 LUA4_DIR=<dir with include/ (lua.h, lualib.h, lauxlib.h, luadebug.h) and lib/ (liblua.a, liblualib.a) of a Lua 4.0 build>" >&2; exit 1; fi
	@$(MAKE) --no-print-directory lib
	@if [ -f scripts/build-lua4.sh ]; then LUA4_DIR="$(abspath $(LUA4_DIR))" DEBUG="$(DEBUG)" bash scripts/build-lua4.sh; \
	 else echo "make lua4: the Lua 4.0 glue is not there yet (scripts/build-lua4.sh does not exist)" >&2; exit 1; fi

# What `luarocks make` installs (sockit-<version>-1.rockspec): the modules of build/lua51,
# Lua files into LUA_MODDIR, C modules and libsockit.so.0 into LUA_CMODDIR.
luarocks-install:
	@if [ -z "$(LUA_MODDIR)" ] || [ -z "$(LUA_CMODDIR)" ]; then \
	   echo "make luarocks-install needs LUA_MODDIR and LUA_CMODDIR (luarocks make passes them)" >&2; exit 1; fi
	cd $(BUILD)/lua51 && find . -name '*.lua' -exec install -D -m 644 {} "$(LUA_MODDIR)/{}" \;
	cd $(BUILD)/lua51 && find . -name '*.so' -exec install -D -m 755 {} "$(LUA_CMODDIR)/{}" \;
	install -m 755 $(BUILD)/lua51/libsockit.so.0 "$(LUA_CMODDIR)/libsockit.so.0"

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
