"""Python callables as sockit callbacks (LTN12 stages, wait functions).

Each callback object is passed to sockit as ``userdata`` (a cffi handle kept alive here
until sockit calls ``free_userdata``). A callback that raises makes the sockit call fail
with SOCKIT_ABORTED; the call's wrapper then raises that exception (see
``_ffi.raise_error``). ``CALLS`` counts the calls into Python, so tests can check that a
pipeline of native stages never called back.
"""

from typing import Any, Callable, Dict, Optional

from ._ffi import ABORTED, ffi, lib, set_callback_exception

_alive: Dict[int, Any] = {}
CALLS = [0]


def userdata(obj: Any) -> Any:
    """A ``void *`` for ``obj``, alive until sockit frees it through ``free_fn``."""
    h = ffi.new_handle(obj)
    _alive[int(ffi.cast("uintptr_t", h))] = h
    return h


def release(h: Any) -> None:
    """Drops a handle sockit did not take (its constructor failed before taking it)."""
    _alive.pop(int(ffi.cast("uintptr_t", h)), None)


free_fn = lib._sockit_py_free


def _fail(exc: BaseException) -> int:
    set_callback_exception(exc)
    msg = "python callback raised %s: %s" % (type(exc).__name__, exc)
    lib.sockit_callback_error(msg.encode("utf-8", "replace"))
    return ABORTED


@ffi.def_extern()
def _sockit_py_free(ud):
    _alive.pop(int(ffi.cast("uintptr_t", ud)), None)


@ffi.def_extern(error=ABORTED)
def _sockit_py_source(ud, chunk, end):
    CALLS[0] += 1
    try:
        data = ffi.from_handle(ud).next_chunk()
        if data is None:
            end[0] = True
        elif data:
            st = lib.sockit_buffer_append(chunk, data, len(data))
            if st:
                return st
        return 0
    except BaseException as e:  # noqa: B902 - every exception stops the pump
        return _fail(e)


@ffi.def_extern(error=ABORTED)
def _sockit_py_sink(ud, chunk, n, error):
    CALLS[0] += 1
    try:
        obj = ffi.from_handle(ud)
        if chunk != ffi.NULL:
            return obj.put(chunk, n) or 0
        if error == ffi.NULL:
            return obj.end() or 0
        obj.fail(ffi.string(error).decode("utf-8", "replace"))
        return 0
    except BaseException as e:  # noqa: B902
        return _fail(e)


@ffi.def_extern(error=ABORTED)
def _sockit_py_filter(ud, chunk, n, out):
    CALLS[0] += 1
    try:
        f = ffi.from_handle(ud)
        data = f(None if chunk == ffi.NULL else ffi.buffer(chunk, n)[:])
        if data:
            if isinstance(data, str):
                data = data.encode("utf-8")
            st = lib.sockit_buffer_append(out, bytes(data), len(data))
            if st:
                return st
        return 0
    except BaseException as e:  # noqa: B902
        return _fail(e)


@ffi.def_extern(error=ABORTED)
def _sockit_py_wait(ud, fd, events):
    CALLS[0] += 1
    try:
        r = ffi.from_handle(ud)(fd, events)
        return 1 if r is False else 0
    except BaseException as e:  # noqa: B902
        return _fail(e)


class IterSource:
    """Chunks of an iterable (bytes-like or str items)."""

    def __init__(self, iterable: Any) -> None:
        self.it = iter(iterable)

    def next_chunk(self) -> Optional[bytes]:
        for item in self.it:
            if isinstance(item, bytes):
                return item
            if isinstance(item, str):
                return item.encode("utf-8")
            return bytes(item)
        return None


class ReadSource:
    """Chunks read from a file-like object's ``read(size)`` until it returns empty."""

    def __init__(self, f: Any, size: int = 65536) -> None:
        self.read = f.read
        self.size = size

    def next_chunk(self) -> Optional[bytes]:
        data = self.read(self.size)
        if not data:
            return None
        if isinstance(data, str):
            return data.encode("utf-8")
        return bytes(data)


class FuncSource:
    """LTN12's source function: returns a chunk, or None at the end."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn

    def next_chunk(self) -> Optional[bytes]:
        data = self.fn()
        if data is None:
            return None
        if isinstance(data, str):
            return data.encode("utf-8")
        return bytes(data)


class CallSink:
    """A sink over Python callables: ``write(bytes)`` per chunk, ``end()`` at the end,
    ``fail(message)`` when the source failed (each optional but write)."""

    def __init__(self, write: Callable[[bytes], Any], end: Optional[Callable[[], Any]] = None,
                 fail: Optional[Callable[[str], Any]] = None) -> None:
        self.write = write
        self._end = end
        self._fail = fail

    def put(self, chunk: Any, n: int) -> int:
        self.write(ffi.buffer(chunk, n)[:])
        return 0

    def end(self) -> int:
        if self._end is not None:
            self._end()
        return 0

    def fail(self, message: str) -> None:
        if self._fail is not None:
            self._fail(message)


class LtnSink:
    """LTN12's sink function ``sink(chunk, err)``: chunks, then ``(None, None)`` at the
    end or ``(None, message)`` on a failure of the source."""

    def __init__(self, fn: Callable[[Optional[bytes], Optional[str]], Any]) -> None:
        self.fn = fn

    def put(self, chunk: Any, n: int) -> int:
        self.fn(ffi.buffer(chunk, n)[:], None)
        return 0

    def end(self) -> int:
        self.fn(None, None)
        return 0

    def fail(self, message: str) -> None:
        self.fn(None, message)


class ProgressSink:
    """Passes every chunk on to a native sink without copying it into Python, and calls
    ``progress(bytes_so_far)`` after each."""

    def __init__(self, inner: Any, progress: Callable[[int], Any]) -> None:
        self.inner = inner  # the Sink object (kept alive here)
        self.progress = progress
        self.count = 0

    def put(self, chunk: Any, n: int) -> int:
        st = lib.sockit_sink_put(self.inner._ptr(), chunk, n)
        if st:
            return st
        self.count += n
        self.progress(self.count)
        return 0

    def end(self) -> int:
        return lib.sockit_sink_end(self.inner._ptr())

    def fail(self, message: str) -> None:
        lib.sockit_sink_fail(self.inner._ptr(), message.encode("utf-8", "replace"))
