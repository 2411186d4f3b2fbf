#!/usr/bin/env bash
# The Python package (python/, pyproject.toml), tested as a user gets it. Part of
# `make test`; the last line is "python: N passed, M failed[, K skipped]".
#
#   1. a clean copy of the tree (the files git tracks or would add: no target/, no build/)
#      in build/python/checkout;
#   2. a fresh virtual environment, build/python/venv, into which `pip install <copy>`
#      builds libsockit with cargo and the cffi binding and installs the package (with
#      pip's build isolation: setuptools and cffi come from the package index, as for any
#      user); pytest, build and mypy go into the same environment;
#   3. `python -m build --sdist --wheel` in that environment: an sdist (checked to carry
#      everything cargo and the binding need) and a wheel (checked for its contents);
#   4. the test servers (tests/servers/launch.py: httpbin under gunicorn, the fault
#      server, pyftpdlib, aiosmtpd) and nginx (bench/nginx.sh) on 127.0.0.1;
#   5. pytest on python/tests with the venv's interpreter, from outside the source tree:
#      the tests run against the installed package (test_package.py checks that);
#   6. examples/python/echo.py with the installed package; under PyPy too when a pypy3
#      is on PATH (skipped otherwise).
#
# cargo builds the copy into build/python/cargo-target (kept between runs, so only the
# first run builds everything). Needs the package index for the venv's packages.
# Environment: PYTHON (default python3), SOCKIT_TEST_FILTER (pytest -k expression),
# SOCKIT_PY_NO_BUILD=1 (reuse the venv of the last run: no copy, install or wheel).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=${PYTHON:-python3}

passed=0 failed=0 skipped=0
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
fail() { echo "  FAIL  $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" | sed 's/^/      /'; failed=$((failed + 1)); }
skip() { echo "  skip  $1"; skipped=$((skipped + 1)); }
finish() {
    echo "python: $passed passed, $failed failed$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")"
    [ "$failed" -eq 0 ]
    exit
}

base=$root/build/python
checkout=$base/checkout
venv=$base/venv
mkdir -p "$base"
work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-python.XXXXXX") || exit 2
launcher=""
# shellcheck source=bench/nginx.sh
. bench/nginx.sh
cleanup() {
    nginx_stop
    if [ -n "$launcher" ]; then
        kill "$launcher" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$launcher" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export CARGO_TARGET_DIR=$base/cargo-target
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if [ "${SOCKIT_PY_NO_BUILD:-0}" != 1 ]; then
    echo "== clean copy of the tree in $checkout"
    rm -rf "$checkout"
    mkdir -p "$checkout"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # The files and their directories, whose modification times tar keeps: cargo
        # (build.rs watches src/) then rebuilds the copy only when something changed.
        git ls-files -z --cached --others --exclude-standard | python3 -c '
import os, sys
files = [f for f in sys.stdin.buffer.read().split(b"\0") if f and os.path.exists(f)]
dirs = {os.path.dirname(f) for f in files}
for d in list(dirs):
    while d:
        d = os.path.dirname(d)
        dirs.add(d)
dirs.discard(b"")
paths = sorted(dirs | set(files), key=lambda p: p.split(b"/"))  # each directory, then its contents
sys.stdout.buffer.write(b"".join(p + b"\0" for p in paths))' |
            tar --null --no-recursion -T - -cf - | tar -xf - -C "$checkout"
    else
        tar --exclude=./target --exclude=./build -cf - . | tar -xf - -C "$checkout"
    fi

    echo "== fresh virtual environment $venv, pip install of the copy"
    t0=$(date +%s)
    if "$py" -m venv --clear "$venv" >"$work/venv.log" 2>&1 &&
        "$venv/bin/python" -m pip install "$checkout" pytest build mypy >"$work/pip.log" 2>&1; then
        ok "pip install <clean copy> into a fresh venv ($(($(date +%s) - t0))s)"
    else
        cat "$work/venv.log" >>"$work/pip.log"
        fail "pip install <clean copy> into a fresh venv" "$work/pip.log"
        finish
    fi

    echo "== python -m build --sdist --wheel"
    t0=$(date +%s)
    if (cd "$checkout" && "$venv/bin/python" -m build --sdist --wheel --outdir "$work/dist" .) >"$work/build.log" 2>&1; then
        if "$venv/bin/python" - "$work/dist" >>"$work/build.log" 2>&1 <<'PY'
import glob, sys, tarfile, zipfile
dist = sys.argv[1]
wheels = glob.glob(dist + "/sockit-*.whl")
sdists = glob.glob(dist + "/sockit-*.tar.gz")
assert len(wheels) == 1 and len(sdists) == 1, (wheels, sdists)
names = zipfile.ZipFile(wheels[0]).namelist()
for want in ("sockit/__init__.py", "sockit/libsockit.so.0", "sockit/py.typed",
             "sockit/http.py", "sockit/ltn12.py"):
    assert want in names, want
assert any(n.startswith("sockit/_native.") and n.endswith(".so") for n in names), names
src = tarfile.open(sdists[0]).getnames()
for want in ("Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "include/sockit.h",
             "src/lib.rs", "python/ffi_build.py", "python/sockit/__init__.py", "setup.py"):
    assert any(n.endswith("/" + want) for n in src), want
print("wheel", wheels[0].rsplit("/", 1)[1], len(names), "files; sdist", len(src), "files")
PY
        then
            ok "python -m build: sdist and wheel ($(tail -n 1 "$work/build.log")) ($(($(date +%s) - t0))s)"
        else
            fail "python -m build: contents" "$work/build.log"
        fi
    else
        fail "python -m build" "$work/build.log"
    fi
elif [ ! -x "$venv/bin/python" ]; then
    echo "test-python: SOCKIT_PY_NO_BUILD=1 but there is no $venv yet"
    fail "venv"
    finish
fi

echo "== test servers"
env_file=$work/servers.env
python3 tests/servers/launch.py --env-file "$env_file" --max-seconds 1800 >"$work/servers.log" 2>&1 &
launcher=$!
for _ in $(seq 1 600); do
    [ -f "$env_file" ] && break
    kill -0 "$launcher" 2>/dev/null || break
    sleep 0.1
done
if [ ! -f "$env_file" ]; then
    fail "test servers did not start" "$work/servers.log"
    finish
fi
set -a
. "$env_file"
set +a
mkdir -p "$work/www"
truncate -s 1G "$work/www/big.bin"
if nginx_serve "$work" >"$work/nginx.log" 2>&1; then
    export SOCKIT_NGINX_PORT=$nginx_port SOCKIT_NGINX_ROOT=$work/www
else
    echo "  (nginx did not start; its tests will be skipped)"
    cat "$work/nginx.log"
fi

echo "== pytest (installed package, $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])'))"
junit=$work/junit.xml
args=(-q -rfEs -p no:cacheprovider --junitxml "$junit" "$checkout/python/tests")
[ -n "${SOCKIT_TEST_FILTER:-}" ] && args+=(-k "$SOCKIT_TEST_FILTER")
(cd "$work" && SOCKIT_EXPECT_INSTALLED=$venv timeout -k 10 1200 "$venv/bin/python" -m pytest "${args[@]}")
rc=$?
if [ -f "$junit" ]; then
    read -r t f e s < <("$venv/bin/python" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r if r.tag == "testsuite" else r.find("testsuite")
print(s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped"))
PY
)
    passed=$((passed + t - f - e - s)) failed=$((failed + f + e)) skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then fail "pytest exited with status $rc"; fi
else
    fail "pytest wrote no report (exit status $rc)"
fi

echo "== examples/python/echo.py"
if (cd "$work" && timeout -k 5 60 "$venv/bin/python" "$checkout/examples/python/echo.py" "first line" "second line") >"$work/echo.log" 2>&1 &&
    grep -q "every line came back unchanged" "$work/echo.log"; then
    ok "examples/python/echo.py"
else
    fail "examples/python/echo.py" "$work/echo.log"
fi

if command -v pypy3 >/dev/null 2>&1; then
    echo "== PyPy: $(pypy3 --version 2>&1 | tail -n 1)"
    pvenv=$base/pypy-venv
    if pypy3 -m venv --clear "$pvenv" >"$work/pypy.log" 2>&1 &&
        "$pvenv/bin/python" -m pip install "$checkout" pytest >>"$work/pypy.log" 2>&1 &&
        (cd "$work" && SOCKIT_EXPECT_INSTALLED=$pvenv timeout -k 10 900 "$pvenv/bin/python" -m pytest -q -p no:cacheprovider \
            "$checkout/python/tests" -k "not big") >>"$work/pypy.log" 2>&1; then
        ok "pytest under PyPy ($(grep -E '[0-9]+ passed' "$work/pypy.log" | tail -n 1))"
    else
        fail "pytest under PyPy" "$work/pypy.log"
    fi
else
    skip "PyPy: no pypy3 on PATH"
fi

finish
