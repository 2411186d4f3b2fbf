"""The package itself: where it was imported from, its own libsockit, the binding
generated from the header, the type-hint marker."""

import os
import re
import sys

import pytest

import sockit
from sockit import _ffi

from conftest import REPO


def test_version_matches_cargo_toml():
    with open(os.path.join(REPO, "Cargo.toml")) as f:
        v = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M).group(1)
    assert sockit.version() == v == sockit.__version__


def test_carries_its_own_library():
    pkg = os.path.dirname(os.path.abspath(sockit.__file__))
    assert sockit.LIBRARY_PATH is not None
    assert os.path.dirname(sockit.LIBRARY_PATH) == pkg
    assert os.path.basename(sockit.LIBRARY_PATH) == "libsockit.so.0"
    # The library the process actually mapped is that copy.
    with open("/proc/self/maps") as f:
        mapped = {line.split()[-1] for line in f if "libsockit" in line}
    assert mapped == {os.path.realpath(sockit.LIBRARY_PATH)}


def test_installed_package_is_used_when_expected():
    """scripts/test-python.sh sets SOCKIT_EXPECT_INSTALLED to the venv it installed
    into: the tests must run against that installation, not a source tree."""
    prefix = os.environ.get("SOCKIT_EXPECT_INSTALLED")
    if not prefix:
        pytest.skip("not run against an installed package")
    here = os.path.realpath(sockit.__file__)
    assert here.startswith(os.path.realpath(prefix) + os.sep), here
    assert "site-packages" in here
    assert os.path.realpath(sys.prefix) == os.path.realpath(prefix)


def test_py_typed_marker():
    assert os.path.exists(os.path.join(os.path.dirname(sockit.__file__), "py.typed"))


def test_binding_has_every_function_of_the_header():
    with open(os.path.join(REPO, "include", "sockit.h")) as f:
        header = f.read()
    names = set(re.findall(r"\b(sockit_[a-z0-9_]+)\(", header))
    names = {n for n in names if not n.endswith("_fn") and not n.endswith("_cb")}
    assert len(names) > 200
    missing = sorted(n for n in names if not hasattr(_ffi.lib, n))
    assert missing == []


def test_binding_constants_are_the_headers():
    with open(os.path.join(REPO, "include", "sockit.h")) as f:
        header = f.read()
    for name, value in re.findall(r"#define (SOCKIT_[A-Z0-9_]+) (\d+)", header):
        assert getattr(_ffi.lib, name) == int(value), name
    for name, value in re.findall(r"\b(SOCKIT_[A-Z_]+) = (\d+),", header):
        assert getattr(_ffi.lib, name) == int(value), name


def test_gettime_and_sleep_release_the_gil():
    import threading

    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    t0 = sockit.gettime()
    sockit.sleep(0.3)
    dt = sockit.gettime() - t0
    stop.set()
    t.join()
    assert 0.25 <= dt < 5
    assert count[0] > 1000  # the other thread ran while sockit slept
