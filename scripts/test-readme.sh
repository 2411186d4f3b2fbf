#!/usr/bin/env bash
# Keeps the README honest: compiles the C quick start (between the quickstart markers)
# against the library and runs it against a local echo server. While the functions it
# uses are not all in include/sockit.h yet, the test is skipped and says which are missing.
set -uo pipefail
cd "$(dirname "$0")/.."

libdir=${SOCKIT_LIBDIR:-build/lib}
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockit-readme.XXXXXX")
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
finish() { echo "readme: $passed passed, $failed failed${1:+, $1 skipped}"; [ "$failed" -eq 0 ]; exit; }

# No paths of a particular machine in the README.
if grep -nE '(^|[^A-Za-z0-9_.])/(work|root)/|/home/[a-z]' README.md >&2; then bad "README names paths of a machine"; else ok; fi

# The quick start: the ```c block between the markers.
awk '/<!-- quickstart:begin -->/ { on = 1 } /<!-- quickstart:end -->/ { on = 0 }
     on && /^```c$/ { code = 1; next } code && /^```$/ { code = 0 } on && code' README.md >"$tmp/quickstart.c"
if [ -s "$tmp/quickstart.c" ]; then ok; else bad "no C quick start between the quickstart markers"; finish; fi

missing=()
for name in $(grep -oE '\b(sockit|SOCKIT)_[A-Za-z0-9_]+' "$tmp/quickstart.c" | sort -u); do
    grep -qE "\\b$name\\b" include/sockit.h || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "readme: quick start skipped, not in sockit.h yet: ${missing[*]}"
    finish 1
fi

if "$cc" -Wall -Wextra -Werror -Iinclude "$tmp/quickstart.c" -o "$tmp/quickstart" \
    -L"$libdir" -lsockit -Wl,-rpath,"$(cd "$libdir" && pwd)" 2>"$tmp/cc.log"; then ok; else
    bad "the quick start does not compile"
    cat "$tmp/cc.log" >&2
    finish
fi

# A one-connection echo server on an ephemeral loopback port.
python3 - >"$tmp/port" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(30)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(10)
data = b""
while not data.endswith(b"\n"):
    d = c.recv(4096)
    if not d:
        break
    data += d
c.sendall(data)
c.close()
EOF
server_pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
out=$(timeout 30 "$tmp/quickstart" 127.0.0.1 "$port" 2>&1)
if [ "$out" = "reply: hello" ]; then ok; else bad "quick start printed '$out', wanted 'reply: hello'"; fi
finish
