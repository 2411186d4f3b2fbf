#!/usr/bin/env bash
# `make install` into a temporary prefix (and with DESTDIR), then builds C programs
# against the installed copy with `pkg-config sockit`, shared and static, and runs them.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check "what" command...
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockit-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
cc=${CC:-cc}

# --- install into a prefix
prefix=$tmp/prefix
if make --no-print-directory install PREFIX="$prefix" >"$tmp/install.log" 2>&1; then ok; else
    bad "make install PREFIX=$prefix"
    cat "$tmp/install.log" >&2
    echo "install: $passed passed, $failed failed"
    exit 1
fi
lib=$prefix/lib
check "real file lib/libsockit.so.$version" test -f "$lib/libsockit.so.$version" -a ! -L "$lib/libsockit.so.$version"
check "lib/libsockit.so.$major -> libsockit.so.$version" test "$(readlink "$lib/libsockit.so.$major")" = "libsockit.so.$version"
check "lib/libsockit.so -> libsockit.so.$major" test "$(readlink "$lib/libsockit.so")" = "libsockit.so.$major"
check "lib/libsockit.a" test -f "$lib/libsockit.a"
check "include/sockit.h equals the checked-in header" cmp -s include/sockit.h "$prefix/include/sockit.h"
check "lib/pkgconfig/sockit.pc" test -f "$lib/pkgconfig/sockit.pc"
check "SONAME is libsockit.so.$major" \
    bash -c "readelf -d '$lib/libsockit.so.$version' | grep -q 'SONAME.*\[libsockit.so.$major\]'"

# --- sockit-moonbridge: bin/ links to lib/sockit/lua51, where its modules are
if [ -f /usr/include/lua5.1/lua.h ] || pkg-config --exists lua5.1 2>/dev/null; then
    check "bin/sockit-moonbridge" test -x "$prefix/bin/sockit-moonbridge"
    check "lib/sockit/lua51/moonbridge_io.lua" test -f "$lib/sockit/lua51/moonbridge_io.lua"
    check "sockit-moonbridge -h" bash -c "'$prefix/bin/sockit-moonbridge' -h | grep -q -- --pidfile"
    cat >"$tmp/app.lua" <<EOF
local mbio = require "moonbridge_io"
listen{{proto = "interval", name = "once", delay = 0.05},
  connect = function(s) local f = io.open("$tmp/ran", "w") f:write(s.interval) f:close() return true end}
EOF
    "$prefix/bin/sockit-moonbridge" "$tmp/app.lua" >"$tmp/mb.log" 2>&1 &
    mbpid=$!
    i=0
    while [ ! -s "$tmp/ran" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    check "the installed sockit-moonbridge runs an application" test "$(cat "$tmp/ran" 2>/dev/null)" = once
    kill -TERM "$mbpid" 2>/dev/null
    wait "$mbpid"
    check "the installed sockit-moonbridge stops on SIGTERM with status 0" test $? -eq 0
fi

# --- pkg-config finds it
export PKG_CONFIG_PATH=$lib/pkgconfig
check "pkg-config --exists sockit" pkg-config --exists sockit
check "pkg-config --modversion is $version" test "$(pkg-config --modversion sockit)" = "$version"
check "cflags name the include dir" bash -c "pkg-config --cflags sockit | grep -q -- '-I$prefix/include'"
check "libs name the lib dir" bash -c "pkg-config --libs sockit | grep -q -- '-L$lib .*-lsockit'"

cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sockit.h>

int main(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SOCKIT_VERSION_MAJOR, SOCKIT_VERSION_MINOR,
             SOCKIT_VERSION_PATCH);
    if (strcmp(sockit_version(), want) != 0) return 1;
    sockit_buffer *b = sockit_buffer_new();
    if (sockit_buffer_append(b, (const uint8_t *)"hi", 2) != SOCKIT_OK) return 2;
    if (strcmp(sockit_buffer_cstr(b), "hi") != 0) return 3;
    if (strcmp(sockit_status_str(SOCKIT_TIMEOUT), "timeout") != 0) return 4;
    sockit_buffer_free(b);
    printf("%s\n", sockit_version());
    return 0;
}
EOF

# --- shared: pkg-config --cflags --libs
# shellcheck disable=SC2046
if $cc -Wall -Wextra -Werror -o "$tmp/prog-shared" "$tmp/prog.c" $(pkg-config --cflags --libs sockit) 2>"$tmp/cc.log"; then
    ok
    check "shared program needs libsockit.so.$major" \
        bash -c "readelf -d '$tmp/prog-shared' | grep -q 'NEEDED.*\[libsockit.so.$major\]'"
    check "shared program runs against the installed library" \
        test "$(LD_LIBRARY_PATH=$lib "$tmp/prog-shared")" = "$version"
    check "the installed library is the one loaded" \
        bash -c "LD_LIBRARY_PATH='$lib' ldd '$tmp/prog-shared' | grep -q '$lib/libsockit.so.$major'"
else
    bad "compile with pkg-config --cflags --libs sockit"
    cat "$tmp/cc.log" >&2
fi

# --- static: the archive plus Libs.private (pkg-config --static)
static_libs=$(pkg-config --static --libs sockit | sed -e 's/-lsockit\b//' -e 's/-L[^ ]*//g')
# shellcheck disable=SC2046,SC2086
if $cc -Wall -Wextra -Werror -o "$tmp/prog-static" "$tmp/prog.c" $(pkg-config --cflags sockit) \
    "$(pkg-config --variable=libdir sockit)/libsockit.a" $static_libs 2>"$tmp/cc.log"; then
    ok
    check "static program does not need libsockit.so" \
        bash -c "! readelf -d '$tmp/prog-static' | grep -q 'NEEDED.*libsockit'"
    check "static program runs" test "$("$tmp/prog-static")" = "$version"
else
    bad "compile against libsockit.a with pkg-config --static --libs"
    cat "$tmp/cc.log" >&2
fi

# --- DESTDIR staging: files under DESTDIR, the .pc names the final prefix
stage=$tmp/stage
if make --no-print-directory install DESTDIR="$stage" PREFIX=/opt/sockit-test >"$tmp/install2.log" 2>&1; then
    ok
    check "DESTDIR holds lib/libsockit.so.$version" test -f "$stage/opt/sockit-test/lib/libsockit.so.$version"
    check "DESTDIR holds include/sockit.h" test -f "$stage/opt/sockit-test/include/sockit.h"
    check "the .pc names the final prefix" grep -qx 'prefix=/opt/sockit-test' "$stage/opt/sockit-test/lib/pkgconfig/sockit.pc"
    check "nothing outside DESTDIR" test ! -e /opt/sockit-test
    if [ -f /usr/include/lua5.1/lua.h ] || pkg-config --exists lua5.1 2>/dev/null; then
        check "DESTDIR: bin/sockit-moonbridge names the final path" \
            test "$(readlink "$stage/opt/sockit-test/bin/sockit-moonbridge")" = /opt/sockit-test/lib/sockit/lua51/sockit-moonbridge
    fi
else
    bad "make install DESTDIR=... PREFIX=/opt/sockit-test"
    cat "$tmp/install2.log" >&2
fi
# Leave build/sockit.pc as `make` makes it (default prefix).
make --no-print-directory pc >/dev/null 2>&1 || true

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
