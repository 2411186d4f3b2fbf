#!/usr/bin/env bash
# Python benchmark (part of `make bench`): the installed `sockit` package against
# requests, urllib3 and Python's own sockets (bench/python/bench.py says what each row
# measures and its target). A local nginx (bench/nginx.sh) serves a 1 GiB sparse file and
# a small one on 127.0.0.1. The package is installed with `pip install .` into
# build/python/bench-venv (with requests and urllib3 from the package index).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
# shellcheck source=bench/nginx.sh
. bench/nginx.sh

venv=$root/build/python/bench-venv
work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-bench-python.XXXXXX") || exit 1
cleanup() {
    nginx_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "bench/python: cannot make $venv"; exit 1; }
fi
if ! "$venv/bin/python" -m pip install -q "$root" requests urllib3 >"$work/pip.log" 2>&1; then
    echo "bench/python: pip install failed:"
    tail -n 30 "$work/pip.log"
    exit 1
fi

mkdir -p "$work/www"
truncate -s 1G "$work/www/big.bin"
head -c 100 /dev/zero | tr '\0' 'x' >"$work/www/small.txt"
nginx_serve "$work" || { echo "bench/python: nginx did not start"; exit 1; }

"$venv/bin/python" bench/python/bench.py "http://127.0.0.1:$nginx_port"
