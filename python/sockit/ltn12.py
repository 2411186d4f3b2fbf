"""LTN12 pipelines as Python objects: sources, filters, sinks and pumps.

Every stage is a sockit object. The ones sockit makes (strings, files, descriptors,
sockets, buffers, null and error stages, the chunked coding, every ``sockit.mime``
filter, and chains and cats of those) are native: a pipeline made only of them is pumped
inside sockit, without calling back into Python and with the GIL released. Python plugs
in anywhere: iterables, callables and file-like objects become stages that call back
(see :func:`source` and :func:`sink`), and a pipeline mixing them works the same.

    from sockit import ltn12, mime
    src = ltn12.Source.file("in.bin") | mime.encode("base64") | mime.wrap("base64")
    n = ltn12.pump(src, ltn12.Sink.file("out.b64"))

Chaining *takes* its parts (as LTN12's chain does in C): after ``src | f`` neither
``src`` nor ``f`` may be used on its own again (they raise ``ValueError``).
"""

import builtins
import io
import os
from typing import Any, Callable, Iterable, Iterator, List, Optional, Union

from . import _callbacks as cb
from ._ffi import (
    Buffer, buffer_bytes, call_into, check, cstr, data_arg, ffi, give_buffer, lib, raise_error,
    take_buffer,
)
from .errors import Error

__all__ = ["Source", "Sink", "Filter", "pump", "pump_step", "source", "sink", "CHUNK"]

CHUNK = 2048  # LuaSocket's chunk size, used when a pump is given 0

_SRC_MODES = {"by-length": lib.SOCKIT_SOURCE_BY_LENGTH,
              "until-closed": lib.SOCKIT_SOURCE_UNTIL_CLOSED,
              "http-chunked": lib.SOCKIT_SOURCE_HTTP_CHUNKED}
_SINK_MODES = {"keep-open": lib.SOCKIT_SINK_KEEP_OPEN,
               "close-when-done": lib.SOCKIT_SINK_CLOSE_WHEN_DONE,
               "http-chunked": lib.SOCKIT_SINK_HTTP_CHUNKED}


def _status_of(status: Any) -> int:
    if isinstance(status, int):
        return status
    if isinstance(status, type) and issubclass(status, Error) and status.status:
        return status.status
    if isinstance(status, Error) and status.status:
        return status.status
    raise TypeError("status must be a sockit status number or error class")


class _Stage:
    """A native handle owned by this object until another stage takes it."""

    __slots__ = ("_h", "_keep", "__weakref__")
    _free: Any = None
    _cfn: Any = None
    _kind = "stage"

    def __init__(self, handle: Any, keep: Any = None) -> None:
        self._h = ffi.gc(handle, type(self)._free)
        self._keep = keep

    def _ptr(self) -> Any:
        h = self._h
        if h is None:
            raise ValueError("this %s was given to another stage" % self._kind)
        return h

    def _take(self) -> Any:
        """Hands the handle over to a constructor that takes it."""
        h = self._ptr()
        ffi.gc(h, None)
        self._h = None
        return h

    @classmethod
    def _make(cls, fn: Any, *args: Any, keep: Any = None) -> Any:
        out = ffi.new(cls._out)  # type: ignore[attr-defined]
        check(fn(*args, out))
        return cls(out[0], keep)

    @classmethod
    def _callback(cls, ctor: Any, obj: Any) -> Any:
        out = ffi.new(cls._out)  # type: ignore[attr-defined]
        ud = cb.userdata(obj)
        # The constructor owns the userdata from the call on (it frees it on failure).
        check(ctor(cls._cfn, ud, cb.free_fn, out))
        return cls(out[0], obj)

    @property
    def native(self) -> bool:
        """True when this stage (and every stage inside it) runs without Python."""
        return not _has_python(self._keep)


def _has_python(keep: Any) -> bool:
    if keep is None:
        return False
    if isinstance(keep, (bytes, Buffer, io.IOBase)):
        return False  # data kept alive, or a file read or written through its descriptor
    if isinstance(keep, _Stage):
        return not keep.native
    if isinstance(keep, tuple):
        return any(_has_python(k) for k in keep)
    from ._socket import Socket

    return not isinstance(keep, Socket)


class Source(_Stage):
    """An LTN12 source (``sockit_source``). Iterate over it for its chunks, or
    :meth:`pull` them one by one; :func:`pump` moves them into a sink."""

    __slots__ = ()
    _free = lib.sockit_source_free
    _out = "sockit_source **"
    _cfn = lib._sockit_py_source
    _kind = "source"

    # -- native sources --

    @classmethod
    def string(cls, data: Any) -> "Source":
        """A copy of ``data`` (LTN12's ``source.string``); its size is known."""
        data = data_arg(data)
        return cls._make(lib.sockit_source_string, data, len(data))

    @classmethod
    def bytes(cls, data: bytes) -> "Source":
        """``data`` without a copy (the source keeps a reference to it)."""
        if not isinstance(data, bytes):
            data = data_arg(data)
        return cls._make(lib.sockit_source_bytes, data, len(data), keep=data)

    @classmethod
    def file(cls, path: Any) -> "Source":
        """The file at ``path`` (opened now, closed at its end)."""
        return cls._make(lib.sockit_source_file, cstr(path, "path"))

    @classmethod
    def fd(cls, fd: int, own: bool = False) -> "Source":
        """Descriptor ``fd`` until end of file; with ``own`` the source closes it."""
        return cls._make(lib.sockit_source_fd, fd, own)

    @classmethod
    def empty(cls) -> "Source":
        """Ends at once."""
        return cls._make(lib.sockit_source_empty)

    @classmethod
    def error(cls, status: Any = lib.SOCKIT_ABORTED, message: Optional[str] = None) -> "Source":
        """Fails every pull with ``status`` (a number or a sockit error class)."""
        return cls._make(lib.sockit_source_error, _status_of(status), cstr(message))

    @classmethod
    def socket(cls, sock: Any, mode: str = "until-closed", length: int = 0) -> "Source":
        """LuaSocket's ``socket.source``: "by-length" (``length`` bytes),
        "until-closed" or "http-chunked" (see :meth:`trailers`). Borrows ``sock``."""
        try:
            m = _SRC_MODES[mode]
        except KeyError:
            raise ValueError("mode must be one of %s" % ", ".join(_SRC_MODES))
        sock._settle()
        return cls._make(lib.sockit_source_socket, sock._h, m, length, keep=sock)

    @classmethod
    def cat(cls, *sources: Any) -> "Source":
        """The chunks of every source in turn (LTN12's ``source.cat``); takes them."""
        srcs = [source(s) for s in sources]
        arr = ffi.new("sockit_source *[]", max(1, len(srcs)))
        for i, s in enumerate(srcs):
            arr[i] = s._take()
        return cls._make(lib.sockit_source_cat, arr, len(srcs), keep=tuple(srcs))

    # -- Python sources --

    @classmethod
    def from_iterable(cls, iterable: Iterable[Any]) -> "Source":
        """The items of ``iterable`` (bytes-like or str, encoded as UTF-8) as chunks."""
        return cls._callback(lib.sockit_source_callback, cb.IterSource(iterable))

    @classmethod
    def from_function(cls, fn: Callable[[], Any]) -> "Source":
        """LTN12's source function: ``fn()`` returns the next chunk, or None at the end."""
        return cls._callback(lib.sockit_source_callback, cb.FuncSource(fn))

    @classmethod
    def from_reader(cls, f: Any, size: int = 65536) -> "Source":
        """Chunks of ``f.read(size)`` until it returns an empty chunk."""
        return cls._callback(lib.sockit_source_callback, cb.ReadSource(f, size))

    # -- composition --

    def chain(self, *filters: Any) -> "Source":
        """This source through ``filters`` (LTN12's ``source.chain``); takes them all."""
        src: Source = self
        for f in filters:
            f = filter_(f)
            keep = (src, f)
            out = ffi.new("sockit_source **")
            h_src = src._take()
            h_f = f._take()
            check(lib.sockit_source_chain(h_src, h_f, out))
            src = Source(out[0], keep)
        return src

    def __or__(self, other: Any) -> Any:
        if isinstance(other, Sink):
            return _Pipeline(self, other)
        return self.chain(other)

    def rewindable(self) -> "Source":
        """LTN12's ``source.rewind``: a source that takes this one and accepts
        :meth:`unget`."""
        return Source._make(lib.sockit_source_rewind, self._take(), keep=self)

    def unget(self, data: Any) -> None:
        """Pushes ``data`` back into a rewindable source."""
        data = data_arg(data)
        check(lib.sockit_source_unget(self._ptr(), data, len(data)))

    # -- use --

    def pull(self, size: int = 0) -> Optional[builtins.bytes]:
        """The next chunk (at most ``size`` bytes; 0 = 2048), or None at the end.
        A failure raises (with the data before it already delivered)."""
        buf = take_buffer()
        end = ffi.new("bool *")
        try:
            st = lib.sockit_source_pull(self._ptr(), size, buf, end)
            if st:
                raise_error(st)
            if end[0]:
                return None
            return buffer_bytes(buf)
        finally:
            give_buffer(buf)

    def __iter__(self) -> Iterator[builtins.bytes]:
        while True:
            chunk = self.pull(65536)
            if chunk is None:
                return
            if chunk:
                yield chunk

    def read(self) -> builtins.bytes:
        """Everything the source still produces, in one bytes object."""
        snk = Sink.buffer()
        pump(self, snk, 65536)
        return snk.getvalue()

    @property
    def size(self) -> Optional[int]:
        """The bytes the source will still produce, when known in advance."""
        size = ffi.new("uint64_t *")
        known = ffi.new("bool *")
        check(lib.sockit_source_size(self._ptr(), size, known))
        return int(size[0]) if known[0] else None

    def trailers(self) -> List[tuple]:
        """The trailer fields of an "http-chunked" socket source that has ended, as
        ``(name, value)`` pairs."""
        buf = take_buffer()
        try:
            check(lib.sockit_source_trailers(self._ptr(), buf))
            return _fields(buffer_bytes(buf))
        finally:
            give_buffer(buf)


def _fields(raw: bytes) -> List[tuple]:
    out = []
    for line in raw.decode("latin-1").split("\r\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            out.append((name.strip(), value.strip()))
    return out


class Sink(_Stage):
    """An LTN12 sink (``sockit_sink``): receives chunks, then the end or an error."""

    __slots__ = ()
    _free = lib.sockit_sink_free
    _out = "sockit_sink **"
    _cfn = lib._sockit_py_sink
    _kind = "sink"

    @classmethod
    def buffer(cls) -> "Sink":
        """Collects every chunk (LTN12's ``sink.table``); read them with
        :meth:`getvalue`."""
        buf = Buffer()
        return cls._make(lib.sockit_sink_buffer, buf.ptr, keep=buf)

    def getvalue(self) -> bytes:
        """What a :meth:`buffer` sink collected."""
        keep = self._keep
        while isinstance(keep, tuple):  # a chained sink: the innermost buffer
            keep = keep[-1]._keep
        if not isinstance(keep, Buffer):
            raise TypeError("getvalue() is for buffer sinks")
        return keep.bytes()

    @classmethod
    def file(cls, path: Any, append: bool = False) -> "Sink":
        """Writes to the file at ``path`` (created or truncated; ``append`` appends);
        buffered, flushed and closed at the end."""
        return cls._make(lib.sockit_sink_file, cstr(path, "path"), append)

    @classmethod
    def fd(cls, fd: int, own: bool = False) -> "Sink":
        """Writes to descriptor ``fd`` (never raising SIGPIPE); ``own`` closes it at the
        end."""
        return cls._make(lib.sockit_sink_fd, fd, own)

    @classmethod
    def null(cls) -> "Sink":
        """Discards everything."""
        return cls._make(lib.sockit_sink_null)

    @classmethod
    def error(cls, status: Any = lib.SOCKIT_ABORTED, message: Optional[str] = None) -> "Sink":
        """Fails every chunk with ``status``."""
        return cls._make(lib.sockit_sink_error, _status_of(status), cstr(message))

    @classmethod
    def socket(cls, sock: Any, mode: str = "keep-open") -> "Sink":
        """LuaSocket's ``socket.sink``: "keep-open", "close-when-done" or
        "http-chunked". Borrows ``sock``."""
        try:
            m = _SINK_MODES[mode]
        except KeyError:
            raise ValueError("mode must be one of %s" % ", ".join(_SINK_MODES))
        return cls._make(lib.sockit_sink_socket, sock._h, m, keep=sock)

    @classmethod
    def from_callable(cls, write: Callable[[bytes], Any], end: Optional[Callable[[], Any]] = None,
                      fail: Optional[Callable[[str], Any]] = None) -> "Sink":
        """``write(chunk)`` for each chunk; ``end()`` at the end and ``fail(message)``
        when the source failed, when given."""
        return cls._callback(lib.sockit_sink_callback, cb.CallSink(write, end, fail))

    @classmethod
    def from_function(cls, fn: Callable[[Optional[bytes], Optional[str]], Any]) -> "Sink":
        """LTN12's sink function ``fn(chunk, err)``: ``(None, None)`` at the end,
        ``(None, message)`` on failure."""
        return cls._callback(lib.sockit_sink_callback, cb.LtnSink(fn))

    @classmethod
    def from_writer(cls, f: Any) -> "Sink":
        """Writes to a file-like object. One with a descriptor (``fileno()``) is
        flushed and written through that descriptor natively; others get ``write``."""
        fd = _fileno(f)
        if fd is not None:
            f.flush()
            return cls._make(lib.sockit_sink_fd, fd, False, keep=f)
        flush = getattr(f, "flush", None)
        return cls.from_callable(f.write, flush)

    @classmethod
    def chain(cls, flt: Any, snk: Any) -> "Sink":
        """Chunks pass through ``flt`` into ``snk`` (LTN12's ``sink.chain``); takes both."""
        flt = filter_(flt)
        snk = sink(snk)
        keep = (flt, snk)
        out = ffi.new("sockit_sink **")
        h_f = flt._take()
        h_s = snk._take()
        check(lib.sockit_sink_chain(h_f, h_s, out))
        return cls(out[0], keep)

    def put(self, data: Any) -> None:
        """Puts one chunk into the sink."""
        data = data_arg(data)
        check(lib.sockit_sink_put(self._ptr(), data, len(data)))

    write = put

    def end(self) -> None:
        """Ends the data (flushing and closing what the sink owns)."""
        check(lib.sockit_sink_end(self._ptr()))

    def fail(self, message: str = "aborted") -> None:
        """Tells the sink its source failed."""
        check(lib.sockit_sink_fail(self._ptr(), cstr(message)))


class Filter(_Stage):
    """An LTN12 filter (``sockit_filter``). Call it LTN12's way, ``f(chunk)`` then
    ``f(None)`` for the end, or use :meth:`put` and :meth:`end`."""

    __slots__ = ()
    _free = lib.sockit_filter_free
    _out = "sockit_filter **"
    _cfn = lib._sockit_py_filter
    _kind = "filter"

    @classmethod
    def chunked_encode(cls) -> "Filter":
        """The HTTP/1.1 chunked coding."""
        return cls._make(lib.sockit_filter_chunked_encode)

    @classmethod
    def chunked_decode(cls) -> "Filter":
        """Removes the HTTP/1.1 chunked coding (the trailers are kept in
        :meth:`trailers`)."""
        buf = Buffer()
        return cls._make(lib.sockit_filter_chunked_decode, buf.ptr, keep=buf)

    def trailers(self) -> List[tuple]:
        if not isinstance(self._keep, Buffer):
            raise TypeError("trailers() is for chunked_decode filters")
        return _fields(self._keep.bytes())

    @classmethod
    def from_callable(cls, fn: Callable[[Optional[bytes]], Any]) -> "Filter":
        """``fn(chunk)`` returns the output for each chunk (bytes, str or None), and
        ``fn(None)`` what it held back at the end."""
        return cls._callback(lib.sockit_filter_callback, fn)

    @classmethod
    def chain(cls, *filters: Any) -> "Filter":
        """The filters one after the other (LTN12's ``filter.chain``); takes them."""
        fs = [filter_(f) for f in filters]
        arr = ffi.new("sockit_filter *[]", max(1, len(fs)))
        for i, f in enumerate(fs):
            arr[i] = f._take()
        return cls._make(lib.sockit_filter_chain, arr, len(fs), keep=tuple(fs))

    def __or__(self, other: Any) -> Any:
        if isinstance(other, Sink):
            return Sink.chain(self, other)
        return Filter.chain(self, other)

    def put(self, data: Any) -> bytes:
        """Runs one chunk through the filter; returns its output (maybe empty)."""
        data = data_arg(data)
        return call_into(lib.sockit_filter_put, self._ptr(), data, len(data))

    def end(self) -> bytes:
        """Ends the input; returns what the filter held back."""
        return call_into(lib.sockit_filter_end, self._ptr())

    def __call__(self, chunk: Optional[Any]) -> bytes:
        return self.end() if chunk is None else self.put(chunk)

    def run(self, data: Any) -> bytes:
        """The whole of ``data`` through the filter (put, then end)."""
        return self.put(data) + self.end()


class _Pipeline:
    """``source | sink``: call :meth:`pump` (or :func:`pump` it)."""

    def __init__(self, src: Source, snk: Sink) -> None:
        self.source = src
        self.sink = snk

    def pump(self, chunk_size: int = 0) -> int:
        return pump(self.source, self.sink, chunk_size)


def pump(src: Any, snk: Any, chunk_size: int = 0) -> int:
    """Moves every chunk (at most ``chunk_size`` bytes each, 0 = 2048) from ``src`` to
    ``snk``, then ends the sink; returns the bytes moved. The first failure is raised
    with every chunk before it delivered (``partial`` is empty: the data is in the
    sink). Neither stage is consumed."""
    src = source(src)
    snk = sink(snk)
    n = ffi.new("uint64_t *")
    st = lib.sockit_pump_all(src._ptr(), snk._ptr(), chunk_size, n)
    if st:
        raise_error(st)
    return int(n[0])


def pump_step(src: Source, snk: Sink, chunk_size: int = 0) -> bool:
    """Moves one chunk; False when the source had ended (and the sink was ended)."""
    more = ffi.new("bool *")
    check(lib.sockit_pump_step(src._ptr(), snk._ptr(), chunk_size, more))
    return bool(more[0])


def _fileno(f: Any) -> Optional[int]:
    try:
        fd = f.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


SourceLike = Union[Source, bytes, str, Iterable[Any], Callable[[], Any], Any]
SinkLike = Union[Sink, Callable[[bytes], Any], Any]


def source(obj: SourceLike) -> Source:
    """Makes a Source of ``obj``: a Source as it is; bytes or str (a copy; str as
    UTF-8); a binary file with a descriptor (read natively from its current position to
    the end); another object with ``read``; a callable (LTN12's source function); any
    other iterable of chunks."""
    if isinstance(obj, Source):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview, str)):
        return Source.bytes(obj) if isinstance(obj, bytes) else Source.string(obj)
    if hasattr(obj, "read"):
        f: Any = obj
        fd = _fileno(f)
        if fd is not None and not isinstance(f, io.TextIOBase):
            try:
                pos = f.tell()
                os.lseek(fd, pos, os.SEEK_SET)
            except (OSError, ValueError, io.UnsupportedOperation):
                pass
            return Source(_fd_source(fd), f)
        return Source.from_reader(f)
    if callable(obj):
        return Source.from_function(obj)
    if hasattr(obj, "__iter__"):
        return Source.from_iterable(obj)
    raise TypeError("cannot make a source of %s" % type(obj).__name__)


def _fd_source(fd: int) -> Any:
    out = ffi.new("sockit_source **")
    check(lib.sockit_source_fd(fd, False, out))
    return out[0]


def sink(obj: SinkLike) -> Sink:
    """Makes a Sink of ``obj``: a Sink as it is; a file-like object (natively through
    its descriptor when it has one); a path (str or os.PathLike: a file sink); a callable
    (called with each chunk)."""
    if isinstance(obj, Sink):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return Sink.file(obj)
    if hasattr(obj, "write"):
        return Sink.from_writer(obj)
    if callable(obj):
        return Sink.from_callable(obj)
    raise TypeError("cannot make a sink of %s" % type(obj).__name__)


def filter_(obj: Any) -> Filter:
    if isinstance(obj, Filter):
        return obj
    if callable(obj):
        return Filter.from_callable(obj)
    raise TypeError("cannot make a filter of %s" % type(obj).__name__)


