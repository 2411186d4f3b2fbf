"""Stream sockets (TCP, Unix), UDP and Unix datagram sockets over sockit's C API.

Every socket is non-blocking underneath; blocking calls wait inside sockit, with the GIL
released, within the socket's timeouts (LuaSocket's rule: a *block* timeout bounds each
wait, a *total* timeout the whole call; ``None`` is no limit, 0 never waits). A call that
fails raises a :class:`sockit.Error` subclass; a receive that ends early (timeout, close)
carries the bytes that did arrive in the exception's ``partial``.
"""

import itertools
import operator
import platform
import threading
import time
import weakref
from typing import Any, Callable, Iterator, Optional, Tuple, Union

from ._ffi import (
    NULL, CLOSED, buffer_bytes, call_into, buffer_text, check, cstr, data_arg, ffi, from_seconds,
    give_buffer, lib, make_error, raise_error, seconds, take_buffer,
)
from .errors import Closed, Error, Timeout

__all__ = [
    "Socket", "UDPSocket", "UnixDatagramSocket", "connect", "connect_nb", "bind",
    "listen", "tcp", "tcp4", "tcp6", "unix", "unix_connect", "unix_connect_nb",
    "unix_listen", "udp", "udp4", "udp6", "unix_dgram",
]

_FAMILIES = {"any": 0, "inet": 1, "inet6": 2, None: 0, 0: 0, 1: 1, 2: 2}
_FAMILY_NAMES = {0: "any", 1: "inet", 2: "inet6", 3: "unix"}
_STATES = {0: "master", 1: "client", 2: "server", 3: "closed"}
_ENDS = {0: "term", 1: "maxlen", 2: "eof", 3: "block"}
_SHUT = {"receive": 0, "r": 0, "read": 0, "send": 1, "w": 1, "write": 1, "both": 2, "rw": 2}

_LINE = lib.SOCKIT_PATTERN_LINE
_COUNT = lib.SOCKIT_PATTERN_COUNT
_ALL = lib.SOCKIT_PATTERN_ALL
_PEEK_MAX = 4096
_EMPTY_IT = iter(())
_BLOCK = object()
_SLICE = 0.25  # longest single wait: a socket closed by another thread is noticed by then
_INF = float("inf")
_POLL_IN = lib.SOCKIT_POLL_IN
_TIMEOUT = lib.SOCKIT_TIMEOUT
_WOULDBLOCK = lib.SOCKIT_WOULDBLOCK
_END_EOF = lib.SOCKIT_READ_EOF
_END_BLOCK = lib.SOCKIT_READ_BLOCK
_SENTINEL = object()
# CPython's itertools.chain is C code that several threads may call at once; PyPy's is
# a generator (a second thread calling it gets "generator already executing"), and
# PyPy's JIT makes the Python fast path of _refiller fast anyway.
_C_CHAIN = platform.python_implementation() == "CPython"


def _batches(ref: Any) -> Callable[[], Any]:
    """The batches of lines of ``iter(socket)``: what is left of the lines already
    fetched, or the next line with the lines fetched behind it; None at the end."""
    done = [False]

    def batch() -> Any:
        sock = ref()
        if sock is None or done[0]:
            return None
        it = sock._it
        if operator.length_hint(it):
            return it
        try:
            first = sock._receive_lines()
        except Closed as e:
            done[0] = True
            return (e.partial,) if e.partial else None
        return itertools.chain((first,), sock._it)

    return batch


def _refiller(ref: Any) -> Callable[[], bytes]:
    """The fallback of a socket's line chain: the next line the slow way (a weak
    reference, so the chain does not keep the socket alive)."""

    def receive_line() -> bytes:
        sock = ref()
        if sock is None:
            raise Closed("closed", status=CLOSED)
        line = next(sock._it, None)
        if line is not None:
            return line
        return sock._receive_lines()

    return receive_line
SIZE_MAX = (1 << (8 * ffi.sizeof("size_t"))) - 1


def _cooked(data: bytes, kind: str, complete: bool) -> bytes:
    """What a LuaSocket pattern returns for ``data`` read so far: a complete line loses
    its LF, and "line" (2/3 "*l") drops every CR ("raw", 1.3b "*lu", keeps them)."""
    if kind == "line":
        if complete:
            data = data[:-1]
        return data.replace(b"\r", b"") if b"\r" in data else data
    if kind == "raw" and complete:
        return data[:-1]
    return data


def _family(family: Union[str, int, None]) -> int:
    try:
        return _FAMILIES[family]
    except KeyError:
        raise ValueError("family must be 'any', 'inet' or 'inet6', not %r" % (family,))


def _term(terminator: Union[bytes, str, int, None]) -> int:
    if terminator is None:
        return -1
    if isinstance(terminator, int):
        if not 0 <= terminator <= 255:
            raise ValueError("terminator must be one byte")
        return terminator
    t = data_arg(terminator)
    if len(t) != 1:
        raise ValueError("terminator must be one byte, not %r" % (terminator,))
    return t[0]


def _maxlen(maxlen: Optional[int]) -> int:
    if maxlen is None or maxlen < 0:
        return SIZE_MAX
    return maxlen


def _wait_handle(wait: Callable[[int, int], Any]) -> Any:
    if not callable(wait):
        raise TypeError("wait must be callable(fd, events)")
    return ffi.new_handle(wait)


class Socket:
    """A TCP or Unix-domain stream socket (``sockit_socket``): master (made, not yet
    connected or listening), client (connected), server (listening) or closed.

    Use it in a ``with`` block, or call :meth:`close` (idempotent); the handle is freed
    with the object. Every method may be called from any thread: calls on one socket are
    serialised inside sockit, and a blocking call holds the socket until it returns.
    """

    __slots__ = ("_h", "_it", "_n", "_region", "_lock", "_peek", "_refill", "__dict__",
                 "__weakref__")

    receive_line: Callable[[], bytes]
    """``receive_line()``: one line without its end of line (LuaSocket 2/3 "*l": the LF
    and every CR are dropped). On timeout or close the exception's ``partial`` holds
    the incomplete line (``receive("*l", prefix)`` takes a prefix).

    Lines already buffered behind the one received are fetched in one call
    (``sockit_socket_peek_lines``) and handed out by the next calls without calling
    into sockit or into Python code: while such lines are there, ``receive_line`` is
    the ``__next__`` of an ``itertools.chain`` over them, which falls back to the slow
    path when they run out (so keep calling ``sock.receive_line()``; a
    ``f = sock.receive_line`` kept from before still works, at Python speed). Every
    other method first settles them, so counts, ``dirty``, ``select`` and the other
    patterns see exactly what was not handed out."""

    def __init__(self, handle: Any) -> None:
        self._h = ffi.gc(handle, lib.sockit_socket_free)
        self._it: Iterator[bytes] = _EMPTY_IT
        self._n = 0
        self._region = b""
        self._lock = threading.Lock()
        self._peek: Any = None
        self._refill: Any = None
        self.receive_line = _refiller(weakref.ref(self))

    # -- context, identity -----------------------------------------------------------

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            return "<sockit.Socket %s %s fd=%d>" % (self.family, self.state, self.fileno())
        except Exception:
            return "<sockit.Socket>"

    def fileno(self) -> int:
        """The descriptor (-1 when closed); the socket keeps owning it."""
        fd = ffi.new("int *")
        check(lib.sockit_socket_getfd(self._h, fd))
        return fd[0]

    getfd = fileno

    def setfd(self, fd: int) -> None:
        """LuaSocket's ``setfd``: the socket takes ``fd`` over; the descriptor it had is
        released without being closed. -1 detaches."""
        self._settle()
        check(lib.sockit_socket_setfd(self._h, fd))

    @property
    def state(self) -> str:
        """"master", "client", "server" or "closed"."""
        st = ffi.new("sockit_state *")
        check(lib.sockit_socket_state(self._h, st))
        return _STATES[st[0]]

    @property
    def family(self) -> str:
        """"inet", "inet6", "unix", or "any" for a TCP master without descriptor yet."""
        fam = ffi.new("sockit_family *")
        check(lib.sockit_socket_family(self._h, fam))
        return _FAMILY_NAMES[fam[0]]

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    # -- timeouts and options -------------------------------------------------------

    def settimeout(self, secs: Optional[float], mode: str = "b") -> None:
        """Sets the block timeout (``mode`` "b": each wait) or the total timeout ("t",
        or 1.3b's "r": the whole call), in seconds; ``None`` = no limit, 0 = never wait."""
        check(lib.sockit_socket_settimeout(self._h, seconds(secs), cstr(mode)))

    def gettimeout(self) -> Optional[float]:
        """The block timeout (``None`` = no limit), as ``socket.socket.gettimeout``."""
        return self.gettimeouts()[0]

    def gettimeouts(self) -> Tuple[Optional[float], Optional[float]]:
        """(block, total) timeouts in seconds, ``None`` for no limit."""
        b = ffi.new("double[2]")
        check(lib.sockit_socket_gettimeout(self._h, b, b + 1))
        return from_seconds(b[0]), from_seconds(b[1])

    def setoption(self, name: str, value: Any) -> None:
        """Sets a LuaSocket option: "keepalive", "reuseaddr", "reuseport", "tcp-nodelay",
        "sndbuf", "rcvbuf", "ipv6-v6only", "dontroute", ...; booleans take True/False;
        "linger" takes ``(on, seconds)`` or seconds (``None`` = off)."""
        if name == "linger" and isinstance(value, tuple):
            on, secs = value
            check(lib.sockit_socket_setoption_linger(self._h, bool(on), int(secs)))
            return
        if name == "linger" and value is None:
            value = -1
        check(lib.sockit_socket_setoption_int(self._h, cstr(name), int(value)))

    def getoption(self, name: str) -> Any:
        """Reads an option: booleans as bool, "linger" as ``(on, seconds)``, "error" as
        the pending errno (reading clears it), sizes as int."""
        if name == "linger":
            on = ffi.new("bool *")
            secs = ffi.new("int *")
            check(lib.sockit_socket_getoption_linger(self._h, on, secs))
            return bool(on[0]), secs[0]
        v = ffi.new("int64_t *")
        check(lib.sockit_socket_getoption_int(self._h, cstr(name), v))
        if name in ("keepalive", "reuseaddr", "reuseport", "tcp-nodelay", "ipv6-v6only",
                    "dontroute", "broadcast", "oobinline"):
            return bool(v[0])
        return v[0]

    # -- addresses ----------------------------------------------------------------------

    def _name(self, fn: Any) -> Any:
        buf = take_buffer()
        try:
            port = ffi.new("uint16_t *")
            fam = ffi.new("sockit_family *")
            check(fn(self._h, buf, port, fam))
            addr = buffer_text(buf)
        finally:
            give_buffer(buf)
        if fam[0] == 3:
            return addr
        return addr, port[0]

    def getsockname(self) -> Any:
        """The local address: ``(address, port)``, or the path for a Unix socket."""
        return self._name(lib.sockit_socket_getsockname)

    def getpeername(self) -> Any:
        """The peer's address: ``(address, port)``, or the path for a Unix socket."""
        return self._name(lib.sockit_socket_getpeername)

    def _raw(self, fn: Any) -> Tuple[bytes, int]:
        buf = take_buffer()
        try:
            port = ffi.new("uint16_t *")
            check(fn(self._h, buf, port))
            return buffer_bytes(buf), port[0]
        finally:
            give_buffer(buf)

    @property
    def local_ip_raw(self) -> Tuple[bytes, int]:
        """Moonbridge's ``local_ip4``/``local_ip6`` and ``local_tcpport``: (4 or 16 raw
        bytes, port)."""
        return self._raw(lib.sockit_socket_local_ip_raw)

    @property
    def remote_ip_raw(self) -> Tuple[bytes, int]:
        """Moonbridge's ``remote_ip4``/``remote_ip6`` and ``remote_tcpport``."""
        return self._raw(lib.sockit_socket_remote_ip_raw)

    # -- master: bind, listen, connect, accept -----------------------------------------

    def bind(self, host: str, port: int = 0) -> None:
        """Binds a TCP master to ``host``:``port`` ("*" = every interface), or a Unix
        master to the path ``host``."""
        if self.family == "unix" or (port == 0 and host.startswith("/")):
            check(lib.sockit_socket_bind_path(self._h, cstr(host, "path")))
        else:
            check(lib.sockit_socket_bind(self._h, cstr(host, "host"), port))

    def listen(self, backlog: int = -1) -> None:
        """Makes a master listen (backlog -1 = 32); it becomes a server."""
        check(lib.sockit_socket_listen(self._h, backlog))

    def connect(self, host: str, port: int = 0) -> None:
        """Connects a master (to ``host``:``port``, or to the Unix path ``host``) within
        the socket's timeouts. With a zero timeout the connect goes on in the background
        and :class:`sockit.Timeout` is raised: select the socket for writing."""
        if self.family == "unix":
            check(lib.sockit_socket_connect_path(self._h, cstr(host, "path")))
        else:
            check(lib.sockit_socket_connect(self._h, cstr(host, "host"), port))

    def accept(self) -> "Socket":
        """Waits (within the timeouts) for a connection and returns it as a new client.
        The wait does not hold the socket, so another thread may close it meanwhile
        (the accept then raises :class:`sockit.Closed`)."""
        out = ffi.new("sockit_socket **")
        h = self._h

        def step() -> Any:
            st = lib.sockit_socket_accept_nb(h, out)
            if st == _WOULDBLOCK:
                return _BLOCK
            check(st)
            return Socket(out[0])

        return self._wait_loop(step, lambda: b"")

    def accept_nb(self) -> Optional["Socket"]:
        """Moonbridge's ``accept_nb``: a waiting connection, or ``None`` when there is
        none."""
        out = ffi.new("sockit_socket **")
        st = lib.sockit_socket_accept_nb(self._h, out)
        if st == lib.SOCKIT_WOULDBLOCK:
            return None
        check(st)
        return Socket(out[0])

    # -- LuaSocket sending and receiving ---------------------------------------------

    def send(self, data: Any, i: Optional[int] = None, j: Optional[int] = None) -> int:
        """Sends all of ``data`` within the timeouts and returns the number of bytes sent
        (LuaSocket's ``send``; ``i``, ``j`` select bytes ``i``..``j``, 1-based and
        inclusive, negative from the end). On failure the exception's ``sent`` says how
        many bytes the kernel took."""
        data = data_arg(data)
        if i is None and j is None:
            n = ffi.new("size_t *")
            st = lib.sockit_socket_send(self._h, data, len(data), n)
            if st:
                raise_error(st, sent=n[0])
            return n[0]
        last = ffi.new("long *")
        first = 1 if i is None else i
        st = lib.sockit_socket_send_range(self._h, data, len(data), first,
                                          -1 if j is None else j, last)
        if st:
            raise_error(st, sent=max(0, last[0] - (first if first > 0 else 1) + 1))
        return last[0]

    sendall = send

    def _receive(self, pattern: int, count: int = 0, prefix: bytes = b"") -> bytes:
        # The patterns without a non-blocking form here ("*w") wait inside sockit.
        with self._lock:
            self._settle_locked()
            return call_into(lib.sockit_socket_receive, self._h, pattern, count,
                             prefix or NULL, len(prefix))

    # Blocking receives are built from non-blocking reads (sockit_socket_read_nb) and
    # waits in a poll set, which holds no socket: while one thread waits for data,
    # others may send on the same socket, or close it (the waiter then wakes within
    # _SLICE seconds and raises Closed). The socket's block and total timeouts apply as
    # sockit applies them: the block timeout to each wait (restarted by progress), the
    # total timeout to the whole call.

    def _wait_loop(self, step: Callable[[], Any], partial: Callable[[], bytes]) -> Any:
        r = step()
        if r is not _BLOCK:
            return r
        h = self._h
        tmo = ffi.new("double[2]")
        check(lib.sockit_socket_gettimeout(h, tmo, tmo + 1))
        block, total = tmo[0], tmo[1]
        ps = ffi.gc(lib.sockit_pollset_new(), lib.sockit_pollset_free)
        check(lib.sockit_pollset_add_socket(ps, h, _POLL_IN, NULL))
        start = last = time.monotonic()
        seen = len(partial())
        while True:
            now = time.monotonic()
            n = len(partial())
            if n != seen:
                seen, last = n, now
            limit = _INF
            if block >= 0:
                limit = last + block
            if total >= 0:
                limit = min(limit, start + total)
            rem = limit - now
            if rem <= 0:
                raise Timeout("timeout", partial=partial(), status=_TIMEOUT)
            lib.sockit_pollset_wait(ps, min(rem, _SLICE), NULL)
            r = step()
            if r is not _BLOCK:
                return r

    def _read_until(self, maxlen: int, term: int, prefix: bytes, kind: str) -> bytes:
        with self._lock:
            self._settle_locked()
            return self._read_until_locked(maxlen, term, prefix, kind)

    def _read_until_locked(self, maxlen: int, term: int, prefix: bytes, kind: str) -> bytes:
        """Reads up to ``term`` (a line: kind "line" or "raw"), ``maxlen`` bytes
        ("count") or the end ("all"), waiting as _wait_loop does. The caller holds
        ``_lock``: the receiving calls of this object take turns (as they would inside
        sockit), while sending, closing and the rest go on."""
        parts = [prefix] if prefix else []
        h = self._h
        end = ffi.new("sockit_read_end *")
        need = [maxlen]

        def step() -> Any:
            buf = take_buffer()
            try:
                st = lib.sockit_socket_read_nb(h, need[0], term, buf, end)
                data = buffer_bytes(buf)
            finally:
                give_buffer(buf)
            if data:
                parts.append(data)
                if kind == "count":
                    need[0] -= len(data)
            if st:
                raise_error(st, _cooked(b"".join(parts), kind, False))
            e = end[0]
            if e == _END_BLOCK:
                return _BLOCK
            if e == _END_EOF:
                if kind == "all":
                    return b"".join(parts)
                raise make_error(CLOSED, _cooked(b"".join(parts), kind, False))
            return _cooked(b"".join(parts), kind, True)

        return self._wait_loop(step, lambda: _cooked(b"".join(parts), kind, False))

    def receive(self, count: Any = None, prefix: bytes = b"") -> bytes:
        """Exactly ``count`` bytes (LuaSocket's ``receive(n)``), after ``prefix``.
        Without ``count``: a line, as :meth:`receive_line`. A LuaSocket pattern string
        ("*l", "*a", 1.3b's "*lu" and "*w") is accepted too. On timeout or close the
        exception's ``partial`` has what arrived."""
        if count is None:
            return self._line_with_prefix(data_arg(prefix))
        if isinstance(count, str):
            pat = {"*l": _LINE, "*a": _ALL, "*lu": lib.SOCKIT_PATTERN_LINE_RAW,
                   "*w": lib.SOCKIT_PATTERN_WORD}.get(count)
            if pat is None:
                raise ValueError("unknown receive pattern %r" % count)
            if pat == _LINE:
                return self._line_with_prefix(data_arg(prefix))
            if pat == _ALL:
                return self.receive_all(prefix)
            if pat == lib.SOCKIT_PATTERN_LINE_RAW:
                return self._read_until(SIZE_MAX, 10, data_arg(prefix), "raw")
            return self._receive(pat, 0, data_arg(prefix))
        if count < 0:
            raise ValueError("count must not be negative")
        if count == 0:
            return data_arg(prefix)
        return self._read_until(count, -1, data_arg(prefix), "count")

    def _line_with_prefix(self, prefix: bytes) -> bytes:
        try:
            return prefix + self.receive_line()
        except Error as e:
            e.partial = prefix + e.partial
            raise

    def receive_all(self, prefix: bytes = b"") -> bytes:
        """Everything until the peer closes ("*a")."""
        return self._read_until(SIZE_MAX, -1, data_arg(prefix), "all")

    def _receive_lines(self) -> bytes:
        with self._lock:
            self._settle_locked()
            data = self._read_until_locked(SIZE_MAX, 10, b"", "line")
            h = self._h
            peek = self._peek
            if peek is None:
                peek = self._peek = (
                    ffi.new("const uint8_t *[%d]" % _PEEK_MAX),
                    ffi.new("size_t[%d]" % _PEEK_MAX),
                    ffi.new("size_t[%d]" % _PEEK_MAX),
                    ffi.new("size_t *"),
                )
            pdata, plen, psize, pn = peek
            if lib.sockit_socket_peek_lines(h, _LINE, pdata, plen, psize, _PEEK_MAX, pn):
                return data
            n = pn[0]
            if n == 0:
                return data
            # The lines lie one after the other in the read buffer: one copy, and the
            # split runs in C. A CR occurs only right before an LF here.
            first = pdata[0]
            total = (int(ffi.cast("uintptr_t", pdata[n - 1]))
                     - int(ffi.cast("uintptr_t", first)) + psize[n - 1])
            raw = ffi.buffer(first, total)[:]
            lines = (raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw).split(b"\n")
            lines.pop()
            if len(lines) != n:  # not one after the other after all: line by line
                lens = ffi.unpack(plen, n)
                lines = [ffi.buffer(pdata[k], lens[k])[:] for k in range(n)]
                raw = b"".join(ffi.buffer(pdata[k], psize[k])[:] for k in range(n))
            self._n = n
            self._region = raw
            it = self._it = iter(lines)
            refill = self._refill
            if refill is None:
                refill = self._refill = iter(_refiller(weakref.ref(self)), _SENTINEL)
            if _C_CHAIN:
                # receive_line becomes C code until the lines run out; then the chain
                # calls _refiller, which comes back here for the next lines.
                self.receive_line = itertools.chain(it, refill).__next__  # type: ignore[assignment]
            return data

    def _settle(self) -> None:
        if self._it is not _EMPTY_IT:
            with self._lock:
                self._settle_locked()

    def _settle_locked(self) -> None:
        it = self._it
        if it is _EMPTY_IT:
            return
        self._it = _EMPTY_IT
        rest = len(list(it))  # exhausts it: a racing receive_line gets nothing more
        used = self._n - rest
        if used == self._n:
            check(lib.sockit_socket_consume(self._h, len(self._region)))
        elif used:
            raw = self._region
            pos = 0
            for _ in range(used):
                pos = raw.index(b"\n", pos) + 1
            check(lib.sockit_socket_consume(self._h, pos))

    def __iter__(self) -> Iterator[bytes]:
        """The lines until the peer closes (the last, unterminated one included). The
        iterator is C code over the batches of lines ``receive_line`` fetches (an
        ``itertools.chain``), for one thread to use; other methods settle it as they
        settle ``receive_line``. Another failure (a timeout) ends the iteration with
        the exception."""
        return itertools.chain.from_iterable(iter(_batches(weakref.ref(self)), None))

    def lines(self) -> Iterator[bytes]:
        """Same as iterating over the socket."""
        return iter(self)

    # -- Moonbridge buffered I/O --------------------------------------------------------

    def _read(self, fn: Any, maxlen: Optional[int], terminator: Any,
              *extra: Any) -> Tuple[bytes, str]:
        buf = take_buffer()
        end = ffi.new("sockit_read_end *")
        try:
            with self._lock:
                self._settle_locked()
                st = fn(self._h, _maxlen(maxlen), _term(terminator), *extra, buf, end)
            data = buffer_bytes(buf)
        finally:
            give_buffer(buf)
        if st:
            raise_error(st, data)
        return data, _ENDS[end[0]]

    def read(self, maxlen: Optional[int] = None,
             terminator: Any = None) -> Tuple[bytes, str]:
        """Moonbridge's ``read``: up to ``maxlen`` bytes (None = no limit) or up to and
        including ``terminator`` (one byte), within the timeouts. Returns ``(data,
        end)``, ``end`` being "term", "maxlen" or "eof"."""
        return self._read(lib.sockit_socket_read, maxlen, terminator)

    def read_nb(self, maxlen: Optional[int] = None,
                terminator: Any = None) -> Tuple[bytes, str]:
        """Moonbridge's ``read_nb``: as :meth:`read` without blocking; ``end`` is
        "block" when it stopped because it would block (``data`` has what was there)."""
        return self._read(lib.sockit_socket_read_nb, maxlen, terminator)

    def read_call(self, wait: Callable[[int, int], Any], maxlen: Optional[int] = None,
                  terminator: Any = None) -> Tuple[bytes, str]:
        """Moonbridge's ``read_call``: as :meth:`read`, calling ``wait(fd, events)``
        whenever it would block (return False or raise to abort). ``wait`` must not use
        this socket (wait on ``fd``)."""
        return self._read(lib.sockit_socket_read_call, maxlen, terminator,
                          lib._sockit_py_wait, _wait_handle(wait))

    def _drain(self, fn: Any, maxlen: Optional[int], terminator: Any,
               *extra: Any) -> Tuple[int, str]:
        count = ffi.new("size_t *")
        end = ffi.new("sockit_read_end *")
        with self._lock:
            self._settle_locked()
            st = fn(self._h, _maxlen(maxlen), _term(terminator), *extra, count, end)
        if st:
            raise_error(st)
        return count[0], _ENDS[end[0]]

    def drain(self, maxlen: Optional[int] = None, terminator: Any = None) -> Tuple[int, str]:
        """Moonbridge's ``drain``: as :meth:`read` but discards; returns ``(count, end)``."""
        return self._drain(lib.sockit_socket_drain, maxlen, terminator)

    def drain_nb(self, maxlen: Optional[int] = None,
                 terminator: Any = None) -> Tuple[int, str]:
        """Moonbridge's ``drain_nb``."""
        return self._drain(lib.sockit_socket_drain_nb, maxlen, terminator)

    def drain_call(self, wait: Callable[[int, int], Any], maxlen: Optional[int] = None,
                   terminator: Any = None) -> Tuple[int, str]:
        """Moonbridge's ``drain_call``."""
        return self._drain(lib.sockit_socket_drain_call, maxlen, terminator,
                           lib._sockit_py_wait, _wait_handle(wait))

    def write(self, data: Any) -> None:
        """Moonbridge's ``write``: appends to the write buffer and sends what it can
        (waiting within the timeouts only when the buffer is large). Flush after."""
        data = data_arg(data)
        check(lib.sockit_socket_write(self._h, data, len(data)))

    def write_nb(self, data: Any) -> int:
        """Moonbridge's ``write_nb``: appends and sends what the kernel takes now;
        returns the bytes still buffered."""
        data = data_arg(data)
        pending = ffi.new("size_t *")
        check(lib.sockit_socket_write_nb(self._h, data, len(data), pending))
        return pending[0]

    def write_call(self, wait: Callable[[int, int], Any], data: Any) -> None:
        """Moonbridge's ``write_call``: as :meth:`write`, calling ``wait(fd, events)``
        whenever it would block."""
        data = data_arg(data)
        check(lib.sockit_socket_write_call(self._h, data, len(data), lib._sockit_py_wait,
                                           _wait_handle(wait)))

    def flush(self) -> None:
        """Moonbridge's ``flush``: sends the whole write buffer, within the timeouts."""
        check(lib.sockit_socket_flush(self._h))

    def flush_nb(self) -> int:
        """Moonbridge's ``flush_nb``: sends what the kernel takes now; returns the bytes
        still buffered (0 = all sent)."""
        pending = ffi.new("size_t *")
        check(lib.sockit_socket_flush_nb(self._h, pending))
        return pending[0]

    def flush_call(self, wait: Callable[[int, int], Any]) -> None:
        """Moonbridge's ``flush_call``."""
        check(lib.sockit_socket_flush_call(self._h, lib._sockit_py_wait, _wait_handle(wait)))

    def finish(self) -> None:
        """Moonbridge's ``finish``: flushes, then shuts the sending side down."""
        check(lib.sockit_socket_finish(self._h))

    def shutdown(self, how: str = "both") -> None:
        """Shuts down "receive", "send" or "both" directions (nothing is flushed)."""
        try:
            h = _SHUT[how]
        except KeyError:
            raise ValueError("how must be 'receive', 'send' or 'both'")
        check(lib.sockit_socket_shutdown(self._h, h))

    def _drop_lines(self) -> None:
        it, self._it = self._it, _EMPTY_IT
        list(it)  # lines not handed out yet are gone with the connection

    def close(self) -> None:
        """Closes the socket (a client flushes its write buffer first); idempotent."""
        self._drop_lines()
        check(lib.sockit_socket_close(self._h))

    def reset(self) -> None:
        """Moonbridge's ``reset``: closes abruptly (buffered output dropped, the peer
        sees a reset)."""
        self._drop_lines()
        check(lib.sockit_socket_reset(self._h))

    # -- state --------------------------------------------------------------------------

    def dirty(self) -> bool:
        """Whether received data is buffered (a read returns without the kernel)."""
        self._settle()
        d = ffi.new("bool *")
        check(lib.sockit_socket_dirty(self._h, d))
        return bool(d[0])

    def getstats(self) -> Tuple[int, int, float]:
        """(bytes received, bytes sent, age in seconds), as LuaSocket counts them."""
        self._settle()
        v = ffi.new("double[3]")
        check(lib.sockit_socket_getstats(self._h, v, v + 1, v + 2))
        return int(v[0]), int(v[1]), v[2]

    def setstats(self, received: float, sent: float, age: float) -> None:
        """Resets the counters and the age."""
        self._settle()
        check(lib.sockit_socket_setstats(self._h, float(received), float(sent), float(age)))

    # -- LTN12 ---------------------------------------------------------------------------

    def source(self, mode: str = "until-closed", length: int = 0) -> Any:
        """LuaSocket's ``socket.source(mode, sock, length)``: "by-length" (``length``
        bytes), "until-closed" or "http-chunked". The source borrows this socket."""
        from .ltn12 import Source

        self._settle()
        return Source.socket(self, mode, length)

    def sink(self, mode: str = "keep-open") -> Any:
        """LuaSocket's ``socket.sink(mode, sock)``: "keep-open", "close-when-done" or
        "http-chunked". The sink borrows this socket."""
        from .ltn12 import Sink

        return Sink.socket(self, mode)


def _new_socket(fn: Any, *args: Any) -> Socket:
    out = ffi.new("sockit_socket **")
    check(fn(*args, out))
    return Socket(out[0])


def connect(host: str, port: int, *, timeout: Optional[float] = None,
            local: Optional[Tuple[str, int]] = None,
            family: Union[str, int, None] = "any") -> Socket:
    """A connected TCP client (LuaSocket's ``socket.connect``): every resolved address
    is tried in turn; ``timeout`` bounds each attempt; ``local`` = (host, port) binds
    first; ``family`` "inet" or "inet6" restricts the addresses."""
    lh, lp = (NULL, 0) if local is None else (cstr(local[0], "local host"), local[1])
    return _new_socket(lib.sockit_tcp_connect, cstr(host, "host"), port, lh, lp,
                       _family(family), seconds(timeout))


def connect_nb(host: str, port: int) -> Socket:
    """Moonbridge's ``tcpconnect_nb``: a client that may still be connecting (select it
    for writing to learn when it is up)."""
    return _new_socket(lib.sockit_tcp_connect_nb, cstr(host, "host"), port)


def bind(host: str, port: int, backlog: int = -1) -> Socket:
    """A listening TCP socket (LuaSocket's ``socket.bind``): "*" = every IPv4
    interface, port 0 = any free port (see ``getsockname``)."""
    return _new_socket(lib.sockit_tcp_bind, cstr(host, "host"), port, backlog)


def listen(host: str, port: int, backlog: int = -1) -> Socket:
    """Moonbridge's ``tcplisten``: "127.0.0.1"/"::1" loopback, "0.0.0.0"/"::" every
    interface."""
    return _new_socket(lib.sockit_tcp_listen, cstr(host, "host"), port, backlog)


def tcp(family: Union[str, int, None] = "any") -> Socket:
    """A TCP master socket (LuaSocket's ``socket.tcp()``): set options, bind, then
    connect or listen."""
    return _new_socket(lib.sockit_tcp_new, _family(family))


def tcp4() -> Socket:
    return tcp("inet")


def tcp6() -> Socket:
    return tcp("inet6")


def unix() -> Socket:
    """A Unix-domain stream master (LuaSocket's ``socket.unix()``)."""
    return _new_socket(lib.sockit_unix_new)


def unix_connect(path: Any) -> Socket:
    """A client connected to the Unix socket at ``path`` (Moonbridge's
    ``localconnect``)."""
    return _new_socket(lib.sockit_unix_connect, cstr(path, "path"))


def unix_connect_nb(path: Any) -> Socket:
    """Moonbridge's ``localconnect_nb``."""
    return _new_socket(lib.sockit_unix_connect_nb, cstr(path, "path"))


def unix_listen(path: Any, backlog: int = -1) -> Socket:
    """A listening Unix socket at ``path`` (Moonbridge's ``locallisten``; a stale
    socket file is replaced, any other file is left alone)."""
    return _new_socket(lib.sockit_unix_listen, cstr(path, "path"), backlog)


class _Datagram:
    """What UDP and Unix datagram sockets share."""

    __slots__ = ("_h", "__weakref__")
    _h: Any
    _prefix = ""

    def _fn(self, name: str) -> Any:
        return getattr(lib, self._prefix + name)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the socket (idempotent)."""
        check(self._fn("close")(self._h))

    def fileno(self) -> int:
        fd = ffi.new("int32_t *")
        check(self._fn("getfd")(self._h, fd))
        return fd[0]

    getfd = fileno

    def setfd(self, fd: int) -> None:
        check(self._fn("setfd")(self._h, fd))

    def settimeout(self, secs: Optional[float], mode: str = "b") -> None:
        """Sets the block ("b") or total ("t") timeout; ``None`` = no limit."""
        check(self._fn("settimeout")(self._h, seconds(secs), cstr(mode)))

    def gettimeout(self) -> Optional[float]:
        return self.gettimeouts()[0]

    def gettimeouts(self) -> Tuple[Optional[float], Optional[float]]:
        b = ffi.new("double[2]")
        check(self._fn("gettimeout")(self._h, b, b + 1))
        return from_seconds(b[0]), from_seconds(b[1])

    def setoption(self, name: str, value: Any) -> None:
        if value is None:
            value = -1
        check(self._fn("setoption_int")(self._h, cstr(name), int(value)))

    def getoption(self, name: str) -> int:
        v = ffi.new("int64_t *")
        check(self._fn("getoption_int")(self._h, cstr(name), v))
        return v[0]

    @property
    def connected(self) -> bool:
        c = ffi.new("bool *")
        check(self._fn("isconnected")(self._h, c))
        return bool(c[0])

    def send(self, data: Any) -> int:
        """Sends one datagram to the peer; returns the bytes sent."""
        data = data_arg(data)
        n = ffi.new("size_t *")
        st = self._fn("send")(self._h, data, len(data), n)
        if st:
            raise_error(st, sent=n[0])
        return n[0]

    def _recv(self, size: int, fn: Any, *extra: Any) -> bytes:
        h = self._h
        return call_into(lambda buf: fn(h, size, buf, *extra))


class UDPSocket(_Datagram):
    """A UDP socket (``sockit_udp``). Datagrams are atomic: a receive returns at most the
    size asked for and drops the rest of a longer datagram."""

    __slots__ = ()
    _prefix = "sockit_udp_"

    def __init__(self, handle: Any) -> None:
        self._h = ffi.gc(handle, lib.sockit_udp_free)

    def setsockname(self, host: str, port: int) -> None:
        """Binds to ``host``:``port`` ("*" = every interface, port 0 = any)."""
        check(lib.sockit_udp_setsockname(self._h, cstr(host, "host"), port))

    bind = setsockname

    def setpeername(self, host: str, port: int = 0) -> None:
        """Sets the peer (``send`` goes there, only its datagrams are received); "*"
        removes it."""
        check(lib.sockit_udp_setpeername(self._h, cstr(host, "host"), port))

    connect = setpeername

    def _name(self, fn: Any) -> Tuple[str, int]:
        buf = take_buffer()
        try:
            port = ffi.new("uint16_t *")
            check(fn(self._h, buf, port, NULL))
            return buffer_text(buf), port[0]
        finally:
            give_buffer(buf)

    def getsockname(self) -> Tuple[str, int]:
        return self._name(lib.sockit_udp_getsockname)

    def getpeername(self) -> Tuple[str, int]:
        return self._name(lib.sockit_udp_getpeername)

    def sendto(self, data: Any, host: str, port: int) -> int:
        """Sends one datagram to ``host``:``port``."""
        data = data_arg(data)
        n = ffi.new("size_t *")
        st = lib.sockit_udp_sendto(self._h, data, len(data), cstr(host, "host"), port, n)
        if st:
            raise_error(st, sent=n[0])
        return n[0]

    def receive(self, size: int = 8192) -> bytes:
        """The next datagram (at most ``size`` bytes), within the timeouts."""
        return self._recv(size, lib.sockit_udp_receive)

    def receivefrom(self, size: int = 8192) -> Tuple[bytes, str, int]:
        """The next datagram and its sender: ``(data, address, port)``."""
        addr = take_buffer()
        port = ffi.new("uint16_t *")
        try:
            data = self._recv(size, lib.sockit_udp_receivefrom, addr, port)
            return data, buffer_text(addr), port[0]
        finally:
            give_buffer(addr)


class UnixDatagramSocket(_Datagram):
    """A Unix-domain datagram socket (``sockit_unixdgram``, LuaSocket's
    ``socket.unix.dgram()``); addresses are paths."""

    __slots__ = ()
    _prefix = "sockit_unixdgram_"

    def __init__(self, handle: Any) -> None:
        self._h = ffi.gc(handle, lib.sockit_unixdgram_free)

    def bind(self, path: Any) -> None:
        check(lib.sockit_unixdgram_bind(self._h, cstr(path, "path")))

    setsockname = bind

    def connect(self, path: Any) -> None:
        """Sets the peer; ``None`` or "" removes it."""
        check(lib.sockit_unixdgram_connect(self._h, cstr(path or "", "path")))

    setpeername = connect

    def _path(self, fn: Any) -> str:
        return call_into(fn, self._h).decode("utf-8", "surrogateescape")

    def getsockname(self) -> str:
        return self._path(lib.sockit_unixdgram_getsockname)

    def getpeername(self) -> str:
        return self._path(lib.sockit_unixdgram_getpeername)

    def sendto(self, data: Any, path: Any) -> int:
        data = data_arg(data)
        n = ffi.new("size_t *")
        st = lib.sockit_unixdgram_sendto(self._h, data, len(data), cstr(path, "path"), n)
        if st:
            raise_error(st, sent=n[0])
        return n[0]

    def receive(self, size: int = 8192) -> bytes:
        return self._recv(size, lib.sockit_unixdgram_receive)

    def receivefrom(self, size: int = 8192) -> Tuple[bytes, str]:
        """The next datagram and the sender's path ("" for an unbound sender)."""
        path = take_buffer()
        try:
            data = self._recv(size, lib.sockit_unixdgram_receivefrom, path)
            return data, buffer_text(path)
        finally:
            give_buffer(path)


def udp(family: Union[str, int, None] = "any") -> UDPSocket:
    """A UDP socket (LuaSocket's ``socket.udp()``; "any" picks the family at the first
    bind, connect or sendto)."""
    out = ffi.new("sockit_udp **")
    check(lib.sockit_udp_new(_family(family), out))
    return UDPSocket(out[0])


def udp4() -> UDPSocket:
    return udp("inet")


def udp6() -> UDPSocket:
    return udp("inet6")


def unix_dgram() -> UnixDatagramSocket:
    """An unbound Unix datagram socket."""
    out = ffi.new("sockit_unixdgram **")
    check(lib.sockit_unixdgram_new(out))
    return UnixDatagramSocket(out[0])


