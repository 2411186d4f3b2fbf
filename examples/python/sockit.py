"""sockit from Python through ctypes: a small wrapper over a few calls of the C API.

    import sockit
    with sockit.connect("127.0.0.1", 8080, timeout=5) as s:
        s.send(b"hello\\n")
        line = s.receive_line()          # bytes, without the LF (and CRs)

Failures raise ``sockit.Error`` (``.status`` is the sockit_status number, ``.name`` its
LuaSocket string such as "timeout" or "connection refused", ``.message`` the detail of
``sockit_last_error()``). A receive that ends early raises ``Timeout`` or ``Closed`` with
the bytes received so far in ``.partial``: nothing received is lost.

The library is found through ``SOCKIT_LIBDIR`` (the directory holding libsockit.so), then
the repository's ``build/lib`` (made by ``make lib``), then the system's library path.
ctypes releases the GIL during each call, so blocking calls in one thread let the others
run.
"""

import ctypes
import ctypes.util
import os

__all__ = [
    "Error", "Timeout", "Closed", "Socket", "connect", "bind", "select",
    "status_str", "last_error", "version", "lib",
    "OK", "TIMEOUT", "CLOSED", "WOULDBLOCK", "REFUSED", "INVALID",
]

# sockit_status values used here (the header has them all).
OK, TIMEOUT, CLOSED, WOULDBLOCK, REFUSED, INVALID = 0, 1, 2, 3, 4, 13

# Receive patterns and families (SOCKIT_PATTERN_*, sockit_family).
PATTERN_LINE, PATTERN_ALL, PATTERN_COUNT = 0, 4, 5
FAMILY_ANY, FAMILY_INET, FAMILY_INET6 = 0, 1, 2
_FAMILY_NAMES = {0: "any", 1: "inet", 2: "inet6", 3: "unix"}


def _load():
    names = []
    libdir = os.environ.get("SOCKIT_LIBDIR")
    if libdir:
        names.append(os.path.join(libdir, "libsockit.so"))
    here = os.path.dirname(os.path.abspath(__file__))
    names.append(os.path.join(here, "..", "..", "build", "lib", "libsockit.so"))
    found = ctypes.util.find_library("sockit")
    if found:
        names.append(found)
    errors = []
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("cannot load libsockit (set SOCKIT_LIBDIR or run `make lib`): "
                      + "; ".join(errors))


lib = _load()

_sock_p = ctypes.c_void_p
_buf_p = ctypes.c_void_p
_status = ctypes.c_int
_u8p = ctypes.c_char_p  # bytes pass straight in (NULs included, the length says how many)


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_proto("sockit_version", ctypes.c_char_p)
_proto("sockit_status_str", ctypes.c_char_p, ctypes.c_int32)
_proto("sockit_last_error", ctypes.c_char_p)
_proto("sockit_buffer_new", _buf_p)
_proto("sockit_buffer_free", None, _buf_p)
_proto("sockit_buffer_data", ctypes.c_void_p, _buf_p)
_proto("sockit_buffer_len", ctypes.c_size_t, _buf_p)
_proto("sockit_tcp_connect", _status, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
       ctypes.c_int, ctypes.c_int, ctypes.c_double, ctypes.POINTER(_sock_p))
_proto("sockit_tcp_bind", _status, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
       ctypes.POINTER(_sock_p))
_proto("sockit_socket_accept", _status, _sock_p, ctypes.POINTER(_sock_p))
_proto("sockit_socket_settimeout", _status, _sock_p, ctypes.c_double, ctypes.c_char_p)
_proto("sockit_socket_send", _status, _sock_p, _u8p, ctypes.c_size_t,
       ctypes.POINTER(ctypes.c_size_t))
_proto("sockit_socket_receive", _status, _sock_p, ctypes.c_int, ctypes.c_size_t, _u8p,
       ctypes.c_size_t, _buf_p)
_proto("sockit_socket_getsockname", _status, _sock_p, _buf_p, ctypes.POINTER(ctypes.c_uint16),
       ctypes.POINTER(ctypes.c_int))
_proto("sockit_socket_getpeername", _status, _sock_p, _buf_p, ctypes.POINTER(ctypes.c_uint16),
       ctypes.POINTER(ctypes.c_int))
_proto("sockit_socket_shutdown", _status, _sock_p, ctypes.c_int)
_proto("sockit_socket_close", _status, _sock_p)
_proto("sockit_socket_free", None, _sock_p)
_proto("sockit_socket_getfd", _status, _sock_p, ctypes.POINTER(ctypes.c_int))
_proto("sockit_select", _status, ctypes.POINTER(_sock_p), ctypes.c_size_t,
       ctypes.POINTER(_sock_p), ctypes.c_size_t, ctypes.c_double,
       ctypes.POINTER(ctypes.c_bool), ctypes.POINTER(ctypes.c_bool))


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return lib.sockit_version().decode()


def status_str(status):
    """LuaSocket's string for a sockit_status number ("ok", "timeout", "closed", ...)."""
    return lib.sockit_status_str(status).decode()


def last_error():
    """The message of the last failed sockit call on this thread ("" if none)."""
    return lib.sockit_last_error().decode(errors="replace")


class Error(Exception):
    """A sockit call failed: ``status`` (number), ``name`` (LuaSocket string), ``message``
    (detail), ``partial`` (bytes received before a receive failed, else b"")."""

    def __init__(self, status, message, partial=b""):
        self.status = status
        self.name = status_str(status)
        self.message = message
        self.partial = partial
        super().__init__(f"{self.name}: {message}" if message else self.name)


class Timeout(Error):
    """SOCKIT_TIMEOUT."""


class Closed(Error):
    """SOCKIT_CLOSED."""


def _error(status, partial=b""):
    cls = {TIMEOUT: Timeout, CLOSED: Closed}.get(status, Error)
    return cls(status, last_error(), partial)


def _check(status):
    if status != OK:
        raise _error(status)


class _Buffer:
    """A sockit_buffer owned by one Python object."""

    def __init__(self):
        self.p = lib.sockit_buffer_new()

    def bytes(self):
        n = lib.sockit_buffer_len(self.p)
        return ctypes.string_at(lib.sockit_buffer_data(self.p), n) if n else b""

    def free(self):
        if self.p:
            lib.sockit_buffer_free(self.p)
            self.p = None

    def __del__(self):
        try:
            self.free()
        except Exception:  # the interpreter may be shutting down
            pass


class Socket:
    """A sockit_socket (TCP). Made by ``connect``, ``bind`` or ``Socket.accept``; closed
    with ``close`` (idempotent), freed with ``free`` or when garbage-collected."""

    def __init__(self, handle):
        self._h = handle
        self._buf = _Buffer()

    @property
    def handle(self):
        """The raw sockit_socket pointer (an int), or None once freed."""
        return self._h

    def _handle(self):
        # A freed socket passes NULL: the library answers SOCKIT_INVALID, not a crash.
        return self._h

    def settimeout(self, secs, mode="b"):
        """LuaSocket's settimeout: "b" block (each wait) or "t" total; None = no limit."""
        secs = -1.0 if secs is None else float(secs)
        _check(lib.sockit_socket_settimeout(self._handle(), secs, mode.encode()))

    def send(self, data):
        """Sends all of ``data`` (bytes) within the timeouts; returns the count sent.
        On failure the exception has ``.sent``."""
        n = ctypes.c_size_t(0)
        st = lib.sockit_socket_send(self._handle(), bytes(data), len(data), ctypes.byref(n))
        if st != OK:
            e = _error(st)
            e.sent = n.value
            raise e
        return n.value

    def _receive(self, pattern, count=0, prefix=b""):
        st = lib.sockit_socket_receive(self._handle(), pattern, count, prefix or None,
                                       len(prefix), self._buf.p)
        data = self._buf.bytes()
        if st != OK:
            raise _error(st, data)
        return data

    def receive_line(self, prefix=b""):
        """A line (LuaSocket 2+ "*l": the LF and every CR dropped)."""
        return self._receive(PATTERN_LINE, 0, prefix)

    def receive(self, count, prefix=b""):
        """Exactly ``count`` bytes."""
        return self._receive(PATTERN_COUNT, count, prefix)

    def receive_all(self):
        """Everything until the peer closes."""
        return self._receive(PATTERN_ALL)

    def accept(self):
        """Waits (within the timeouts) for a connection; returns a new Socket."""
        out = _sock_p()
        _check(lib.sockit_socket_accept(self._handle(), ctypes.byref(out)))
        return Socket(out.value)

    def _name(self, fn):
        port = ctypes.c_uint16(0)
        fam = ctypes.c_int(0)
        b = _Buffer()
        try:
            _check(fn(self._handle(), b.p, ctypes.byref(port), ctypes.byref(fam)))
            return b.bytes().decode(), port.value, _FAMILY_NAMES.get(fam.value, "?")
        finally:
            b.free()

    def getsockname(self):
        """(address, port, family) of the local end."""
        return self._name(lib.sockit_socket_getsockname)

    def getpeername(self):
        """(address, port, family) of the peer."""
        return self._name(lib.sockit_socket_getpeername)

    def fileno(self):
        """The descriptor (-1 when closed); the socket keeps owning it."""
        fd = ctypes.c_int(-1)
        _check(lib.sockit_socket_getfd(self._handle(), ctypes.byref(fd)))
        return fd.value

    def shutdown(self, how="send"):
        """Shuts down "receive", "send" or "both"."""
        _check(lib.sockit_socket_shutdown(self._handle(),
                                          {"receive": 0, "send": 1, "both": 2}[how]))

    def close(self):
        """Closes the socket (idempotent); the handle lives until ``free``."""
        _check(lib.sockit_socket_close(self._handle()))

    def free(self):
        """Releases the handle (closing first if needed); later calls fail with
        Error(INVALID)."""
        if self._h:
            lib.sockit_socket_free(self._h)
            self._h = None
        if getattr(self, "_buf", None):
            self._buf.free()

    def __del__(self):
        try:
            self.free()
        except Exception:  # the interpreter may be shutting down
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()


def connect(host, port, timeout=None, family=FAMILY_ANY):
    """A connected client (sockit_tcp_connect); ``timeout`` bounds each attempt."""
    out = _sock_p()
    t = -1.0 if timeout is None else float(timeout)
    _check(lib.sockit_tcp_connect(host.encode(), port, None, 0, family, t, ctypes.byref(out)))
    return Socket(out.value)


def bind(host, port, backlog=-1):
    """A listening socket (sockit_tcp_bind, LuaSocket's socket.bind); port 0 = any."""
    out = _sock_p()
    _check(lib.sockit_tcp_bind(host.encode(), port, backlog, ctypes.byref(out)))
    return Socket(out.value)


def select(reads, writes=(), timeout=None):
    """LuaSocket's select over Socket objects: returns (readable, writable) lists; both
    empty on timeout."""
    nr, nw = len(reads), len(writes)
    rarr = (_sock_p * max(nr, 1))(*[s.handle for s in reads])
    warr = (_sock_p * max(nw, 1))(*[s.handle for s in writes])
    rready = (ctypes.c_bool * max(nr, 1))()
    wready = (ctypes.c_bool * max(nw, 1))()
    t = -1.0 if timeout is None else float(timeout)
    st = lib.sockit_select(rarr, nr, warr, nw, t, rready, wready)
    if st == TIMEOUT:
        return [], []
    _check(st)
    return ([s for i, s in enumerate(reads) if rready[i]],
            [s for i, s in enumerate(writes) if wready[i]])
