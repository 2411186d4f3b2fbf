"""Build steps of the Python package (used by setup.py at the repository root).

``BuildExt`` runs before cffi compiles ``sockit._native``:

1. it builds libsockit with cargo (``cargo build --release --lib`` in the repository,
   honouring ``CARGO_TARGET_DIR``; ``SOCKIT_CARGO`` names another cargo), or takes the
   library named by ``SOCKIT_PREBUILT_LIB`` (a libsockit.so built before);
2. it copies the library into the package as ``sockit/libsockit.so.<major>`` (the SONAME,
   so the extension finds it by the name it was linked with);
3. it links the extension against that copy with an ``$ORIGIN`` rpath, so the installed
   package loads its own libsockit and nothing from the system.
"""

import os
import re
import shutil
import subprocess
import sys

from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cargo_version():
    """The version in Cargo.toml's [package] section."""
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
    if not m:
        raise RuntimeError("no version in Cargo.toml")
    return m.group(1)


def _log(msg):
    sys.stderr.write("sockit build: %s\n" % msg)
    sys.stderr.flush()


def build_libsockit():
    """Builds libsockit.so with cargo (or takes SOCKIT_PREBUILT_LIB); returns its path."""
    prebuilt = os.environ.get("SOCKIT_PREBUILT_LIB")
    if prebuilt:
        if not os.path.isfile(prebuilt):
            raise RuntimeError("SOCKIT_PREBUILT_LIB=%s is not a file" % prebuilt)
        _log("using the prebuilt library %s" % prebuilt)
        return prebuilt
    cargo = os.environ.get("SOCKIT_CARGO") or shutil.which("cargo")
    if not cargo:
        home_cargo = os.path.expanduser("~/.cargo/bin/cargo")
        cargo = home_cargo if os.path.exists(home_cargo) else None
    if not cargo:
        raise RuntimeError(
            "building sockit needs cargo (a Rust toolchain: https://rustup.rs); "
            "or set SOCKIT_PREBUILT_LIB to a libsockit.so built before"
        )
    cmd = [cargo, "build", "--release", "--lib"]
    _log("%s (in %s)" % (" ".join(cmd), ROOT))
    subprocess.check_call(cmd, cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    if not os.path.isabs(target):
        target = os.path.join(ROOT, target)
    lib = os.path.join(target, "release", "libsockit.so")
    if not os.path.isfile(lib):
        raise RuntimeError("cargo did not produce %s" % lib)
    return lib


class BuildExt(build_ext):
    """build_ext that builds and bundles libsockit before cffi's extension is compiled."""

    def pre_run(self, ext, ffi):
        # Called by cffi's setuptools integration before it writes the C source.
        lib = build_libsockit()
        major = cargo_version().split(".")[0]
        soname = "libsockit.so.%s" % major
        if self.inplace:
            pkg_dir = os.path.join(ROOT, "python", "sockit")
        else:
            pkg_dir = os.path.join(self.build_lib, "sockit")
        os.makedirs(pkg_dir, exist_ok=True)
        bundled = os.path.join(pkg_dir, soname)
        shutil.copyfile(lib, bundled)
        os.chmod(bundled, 0o755)
        _log("bundled %s as %s" % (lib, bundled))
        # Linking the file by path records its SONAME as the dependency; $ORIGIN makes
        # the loader look beside the extension, where the copy is installed.
        ext.extra_link_args = list(ext.extra_link_args or []) + [
            bundled,
            "-Wl,-rpath,$ORIGIN",
        ]
