#!/usr/bin/env bash
# Installs what sockit's tests need when it is missing; does nothing when all is there.
#
#   scripts/install-deps.sh           test dependencies (run by `make test`)
#   scripts/install-deps.sh --bench   also the benchmark dependencies (run by `make bench`)
#   scripts/install-deps.sh --check   only report what is missing (exit 1 if anything is)
#
# As root it installs missing Debian packages (apt-get update once, then
# apt-get install -y --no-install-recommends) and missing Python packages from
# scripts/requirements-test.txt (pip). As another user it prints what is missing and the
# commands that install it, and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bench=0
check_only=0
for arg in "$@"; do
    case "$arg" in
        --bench) bench=1 ;;
        --check) check_only=1 ;;
        *) echo "install-deps.sh: unknown argument '$arg' (use --bench, --check)" >&2; exit 2 ;;
    esac
done

# Each entry: Debian package | shell test that succeeds when what it provides is present.
# The tests look for the thing itself, so tools installed some other way count too.
test_deps=(
    "make|command -v make"
    "gcc|command -v gcc"
    "valgrind|command -v valgrind"
    "pkg-config|command -v pkg-config"
    "python3|command -v python3"
    "python3-pip|python3 -m pip --version"
    'python3-venv|d=$(mktemp -d) && python3 -m venv "$d/v"; r=$?; rm -rf "$d"; exit $r'
    "lua5.1|command -v lua5.1"
    "liblua5.1-0-dev|test -f /usr/include/lua5.1/lua.h"
    "lua-socket|env -u LUA_PATH -u LUA_CPATH lua5.1 -e 'require \"socket\"'"
    "luajit|command -v luajit"
    "libluajit-5.1-dev|test -f /usr/include/luajit-2.1/lua.h"
    # Lua libraries built on LuaSocket, run over sockit (scripts/test-lua-libs.sh)
    "lua-copas|test -f /usr/share/lua/5.1/copas.lua"
    "lua-sec|test -f /usr/share/lua/5.1/ssl/https.lua"
    "lua-redis|test -f /usr/share/lua/5.1/redis.lua"
    "redis-server|command -v redis-server"
    "openssl|command -v openssl"
    "luarocks|command -v luarocks"
    "nginx-light|command -v nginx || test -x /usr/sbin/nginx"
    # PyPy beside CPython for the Python package's tests (scripts/test-python.sh)
    "pypy3|command -v pypy3"
    'pypy3-venv|d=$(mktemp -d) && pypy3 -m venv "$d/v"; r=$?; rm -rf "$d"; exit $r'
    "pypy3-dev|pypy3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()[\"include\"], \"Python.h\")))'"
    "curl|command -v curl"
    "wrk|command -v wrk"
    "apache2-utils|command -v ab"
)
bench_deps=(
    "bc|command -v bc"
    "lua-http|env -u LUA_PATH -u LUA_CPATH lua5.1 -e 'require \"http.server\"'"
)

entries=("${test_deps[@]}")
if [ "$bench" = 1 ]; then entries+=("${bench_deps[@]}"); fi

missing_apt=()
for entry in "${entries[@]}"; do
    pkg=${entry%%|*}
    test=${entry#*|}
    if ! bash -c "$test" >/dev/null 2>&1; then missing_apt+=("$pkg"); fi
done

# Python packages: one requirement per line; the module to import is the name with
# "-" as "_", or the one given in a trailing "# import: module" comment.
requirements=scripts/requirements-test.txt
missing_pip=()
py_module_present() {
    python3 -c 'import importlib, sys; importlib.import_module(sys.argv[1])' "$1" >/dev/null 2>&1
}
check_pip() {
    missing_pip=()
    [ -f "$requirements" ] || return 0
    local line req name module
    while IFS= read -r line || [ -n "$line" ]; do
        req=$(printf '%s' "${line%%#*}" | tr -d '[:space:]')
        [ -n "$req" ] || continue
        name=$(printf '%s' "$req" | sed 's/[][<>=!~;,].*//')
        module=$(printf '%s' "$line" | sed -n 's/.*#[[:space:]]*import:[[:space:]]*\([A-Za-z0-9_.]*\).*/\1/p')
        [ -n "$module" ] || module=$(printf '%s' "$name" | tr 'A-Z-' 'a-z_')
        if ! command -v python3 >/dev/null 2>&1 || ! py_module_present "$module"; then
            missing_pip+=("$req")
        fi
    done < "$requirements"
}
check_pip

if [ ${#missing_apt[@]} -eq 0 ] && [ ${#missing_pip[@]} -eq 0 ]; then
    echo "install-deps: all test dependencies present$([ "$bench" = 1 ] && echo ' (with benchmarks)')"
    exit 0
fi

# Python installs go into the system interpreter; Debian 12 marks it "externally managed"
# (PEP 668), which pip refuses unless told otherwise. The test machines are disposable.
externally_managed() {
    python3 -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)' 2>/dev/null
}
pip_cmd() {
    local args=(python3 -m pip install --disable-pip-version-check --no-input --root-user-action=ignore)
    if externally_managed; then args+=(--break-system-packages); fi
    printf '%s\n' "${args[*]}"
}

if [ "$(id -u)" != 0 ] || [ "$check_only" = 1 ]; then
    echo "sockit: missing test dependencies:" >&2
    if [ ${#missing_apt[@]} -gt 0 ]; then
        echo "  Debian packages: ${missing_apt[*]}" >&2
        echo "    install with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_apt[*]}" >&2
    fi
    if [ ${#missing_pip[@]} -gt 0 ]; then
        echo "  Python packages: ${missing_pip[*]}" >&2
        if externally_managed; then
            echo "    install with: python3 -m pip install --user --break-system-packages ${missing_pip[*]}" >&2
        else
            echo "    install with: python3 -m pip install --user ${missing_pip[*]}" >&2
        fi
    fi
    echo "  or install everything as root: sudo scripts/install-deps.sh$([ "$bench" = 1 ] && echo ' --bench')" >&2
    exit 1
fi

if [ ${#missing_apt[@]} -gt 0 ]; then
    echo "install-deps: apt-get install ${missing_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing_apt[@]}"
    check_pip # python3 or pip may just have arrived
fi

if [ ${#missing_pip[@]} -gt 0 ]; then
    echo "install-deps: pip install ${missing_pip[*]}"
    read -r -a cmd <<<"$(pip_cmd)"
    "${cmd[@]}" "${missing_pip[@]}"
fi

# Verify: everything asked for must be there now.
still=()
for entry in "${entries[@]}"; do
    pkg=${entry%%|*}
    bash -c "${entry#*|}" >/dev/null 2>&1 || still+=("$pkg")
done
check_pip
still+=("${missing_pip[@]}")
if [ ${#still[@]} -gt 0 ]; then
    echo "install-deps: still missing after installing: ${still[*]}" >&2
    exit 1
fi
echo "install-deps: all test dependencies present"
