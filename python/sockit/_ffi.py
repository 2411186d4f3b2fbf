"""The binding's plumbing: the native module, statuses as exceptions, buffers, strings.

``sockit._native`` is the cffi extension generated from ``include/sockit.h`` at build
time; it is linked against the ``libsockit.so.<major>`` installed beside it. That copy
is loaded first, by path, so the package always uses its own library. cffi releases the
GIL around every call into the library, so blocking calls let other threads run.
"""

import ctypes
import os
import threading
from typing import Any, List, Optional, Union

_HERE = os.path.dirname(os.path.abspath(__file__))


def _bundled_library() -> Optional[str]:
    for name in sorted(os.listdir(_HERE)):
        if name.startswith("libsockit.so"):
            return os.path.join(_HERE, name)
    return None


LIBRARY_PATH = _bundled_library()
if LIBRARY_PATH is not None:
    # Loaded by path before the extension: the loader then resolves the extension's
    # dependency on the SONAME to this copy, whatever else is on the library path.
    _preload = ctypes.CDLL(LIBRARY_PATH, mode=ctypes.RTLD_GLOBAL)

from ._native import ffi, lib  # noqa: E402
from .errors import Error, error_class  # noqa: E402

NULL = ffi.NULL
OK = 0
TIMEOUT = lib.SOCKIT_TIMEOUT
CLOSED = lib.SOCKIT_CLOSED
WOULDBLOCK = lib.SOCKIT_WOULDBLOCK
INVALID = lib.SOCKIT_INVALID
ABORTED = lib.SOCKIT_ABORTED

_tls = threading.local()


def last_error() -> str:
    """The message of the last failed sockit call on this thread ("" when none)."""
    return ffi.string(lib.sockit_last_error()).decode("utf-8", "replace")


def status_str(status: int) -> str:
    """LuaSocket's string for a ``sockit_status`` ("ok", "timeout", "closed", ...)."""
    return ffi.string(lib.sockit_status_str(status)).decode()


def set_callback_exception(exc: BaseException) -> None:
    """Remembers an exception a Python callback raised, for the call that ran it."""
    _tls.exc = exc


def clear_callback_exception() -> None:
    _tls.exc = None


def make_error(status: int, partial: bytes = b"", sent: int = 0) -> Error:
    """The exception for a failed call (with the thread's last error as message). When
    a Python callback caused the failure, its exception becomes the ``__cause__``."""
    cls = error_class(status)
    err = cls(last_error(), partial=partial, sent=sent, status=status)
    if status == ABORTED:
        cause = getattr(_tls, "exc", None)
        if cause is not None:
            _tls.exc = None
            err.__cause__ = cause
    return err


def raise_error(status: int, partial: bytes = b"", sent: int = 0):
    """Raises the exception for ``status``. When a Python callback (a source, sink,
    filter or wait function written in Python) stopped the call by raising, that
    exception is raised as it was, with sockit's :class:`Aborted` as its cause."""
    err = make_error(status, partial, sent)
    cause = err.__cause__
    if cause is not None:
        err.__cause__ = None
        raise cause from err
    raise err


def check(status: int) -> None:
    """Raises for a status other than SOCKIT_OK."""
    if status:
        raise_error(status)


# -- strings ----------------------------------------------------------------------

StrOrBytes = Union[str, bytes, bytearray, memoryview]


def cstr(value: Optional[StrOrBytes], what: str = "argument") -> Any:
    """A NUL-terminated string argument: str is encoded as UTF-8, None is NULL."""
    if value is None:
        return NULL
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    elif not isinstance(value, bytes):
        if hasattr(value, "__fspath__"):
            return cstr(os.fsencode(value), what)
        raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))
    if b"\0" in value:
        raise InvalidArgumentNul(what)
    return value


def InvalidArgumentNul(what: str) -> Error:
    return error_class(INVALID)("%s contains a NUL byte" % what, status=INVALID)


def data_arg(data: Any) -> bytes:
    """Bytes for a ``const uint8_t *`` argument (str is encoded as UTF-8)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def seconds(value: Optional[float]) -> float:
    """A timeout in seconds for the C API: None (no limit) is -1."""
    if value is None:
        return -1.0
    return float(value)


def from_seconds(value: float) -> Optional[float]:
    return None if value < 0 else value


# -- buffers ----------------------------------------------------------------------

_POOL: List[Any] = []
_POOL_MAX = 32
_KEEP_MAX = 1 << 20  # a buffer that held more than this is freed, not kept


def take_buffer() -> Any:
    """A sockit_buffer from the pool (or a new one); give it back with give_buffer.
    Each call has its own buffer, so threads and callbacks never share one."""
    try:
        return _POOL.pop()
    except IndexError:
        return lib.sockit_buffer_new()


def give_buffer(buf: Any) -> None:
    if len(_POOL) < _POOL_MAX and lib.sockit_buffer_len(buf) <= _KEEP_MAX:
        _POOL.append(buf)
    else:
        lib.sockit_buffer_free(buf)


def buffer_bytes(buf: Any) -> bytes:
    """A copy of a buffer's bytes."""
    n = lib.sockit_buffer_len(buf)
    if not n:
        return b""
    return ffi.buffer(lib.sockit_buffer_data(buf), n)[:]


def call_into(fn: Any, *args: Any) -> bytes:
    """Calls ``fn(*args, buf)`` with a pooled buffer and returns what it put there; a
    failure is raised with those bytes as the partial data."""
    buf = take_buffer()
    try:
        st = fn(*args, buf)
        data = buffer_bytes(buf)
    finally:
        give_buffer(buf)
    if st:
        raise_error(st, data)
    return data


def buffer_text(buf: Any) -> str:
    return buffer_bytes(buf).decode("utf-8", "surrogateescape")


class Buffer:
    """A sockit_buffer owned by one Python object (freed with it)."""

    __slots__ = ("ptr",)

    def __init__(self) -> None:
        self.ptr = ffi.gc(lib.sockit_buffer_new(), lib.sockit_buffer_free)

    def bytes(self) -> bytes:
        return buffer_bytes(self.ptr)

    def text(self) -> str:
        return buffer_text(self.ptr)

    def __len__(self) -> int:
        return lib.sockit_buffer_len(self.ptr)


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return ffi.string(lib.sockit_version()).decode()
