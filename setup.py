"""setup.py of the Python package `sockit` (the metadata is in pyproject.toml).

Builds libsockit with cargo and the cffi binding generated from include/sockit.h; see
python/setup_support.py and python/ffi_build.py.
"""

import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "python"))
from setup_support import BuildExt, cargo_version  # noqa: E402

os.makedirs(os.path.join(HERE, "build", "python"), exist_ok=True)

setup(
    version=cargo_version(),
    cffi_modules=["python/ffi_build.py:ffibuilder"],
    cmdclass={"build_ext": BuildExt},
    # Keep setuptools' work files out of build/, which the Makefile uses.
    options={"build": {"build_base": "build/python"}, "egg_info": {"egg_base": "build/python"}},
    zip_safe=False,
)
