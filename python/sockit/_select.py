"""select and Poller: waiting on any mix of sockit sockets, objects with ``fileno()``
and plain descriptors, with sockit's poll(2)-based sets (no FD_SETSIZE limit).

A sockit stream socket with buffered input counts as readable without asking the kernel
(LuaSocket's "dirty" rule), so a line already read into the socket is never waited for.
"""

from typing import Any, Dict, Iterable, List, Optional, Tuple

from ._ffi import TIMEOUT, check, ffi, lib, seconds
from ._socket import Socket, UDPSocket, UnixDatagramSocket

__all__ = ["select", "Poller", "POLLIN", "POLLOUT", "POLLERR", "POLLHUP"]

POLLIN = lib.SOCKIT_POLL_IN
POLLOUT = lib.SOCKIT_POLL_OUT
POLLERR = lib.SOCKIT_POLL_ERR
POLLHUP = lib.SOCKIT_POLL_HUP


def _add(ps: Any, obj: Any, events: int) -> None:
    idx = ffi.NULL
    if isinstance(obj, Socket):
        obj._settle()
        check(lib.sockit_pollset_add_socket(ps, obj._h, events, idx))
    elif isinstance(obj, UDPSocket):
        check(lib.sockit_pollset_add_udp(ps, obj._h, events, idx))
    elif isinstance(obj, UnixDatagramSocket):
        check(lib.sockit_pollset_add_unixdgram(ps, obj._h, events, idx))
    else:
        fd = obj if isinstance(obj, int) else obj.fileno()
        check(lib.sockit_pollset_add_fd(ps, fd, events, idx))


def _new_set() -> Any:
    return ffi.gc(lib.sockit_pollset_new(), lib.sockit_pollset_free)


def select(recvt: Iterable[Any] = (), sendt: Iterable[Any] = (),
           timeout: Optional[float] = None) -> Tuple[List[Any], List[Any]]:
    """Waits until one of ``recvt`` is readable or one of ``sendt`` writable, or
    ``timeout`` seconds pass (``None`` = no limit). Entries may be sockit sockets,
    objects with ``fileno()`` (Python sockets, files) or descriptors; ``None`` entries
    and closed sockit sockets are never ready. Returns ``(readable, writable)``, the
    ready objects themselves, in the order given; both empty on timeout. An error or
    hang-up on a descriptor counts as ready."""
    r = [x for x in recvt if x is not None]
    w = [x for x in sendt if x is not None]
    ps = _new_set()
    for obj in r:
        _add(ps, obj, POLLIN)
    for obj in w:
        _add(ps, obj, POLLOUT)
    st = lib.sockit_pollset_wait(ps, seconds(timeout), ffi.NULL)
    if st == TIMEOUT:
        return [], []
    check(st)
    ev = ffi.new("int *")
    readable, writable = [], []
    for i, obj in enumerate(r):
        lib.sockit_pollset_revents(ps, i, ev)
        if ev[0]:
            readable.append(obj)
    for j, obj in enumerate(w):
        lib.sockit_pollset_revents(ps, len(r) + j, ev)
        if ev[0]:
            writable.append(obj)
    return readable, writable


class Poller:
    """A reusable set to wait on, like ``select.poll``: ``register(obj, events)``,
    ``unregister(obj)``, ``poll(timeout)`` → ``[(obj, events), ...]`` with ``POLLIN``,
    ``POLLOUT``, ``POLLERR``, ``POLLHUP`` bits (Moonbridge's ``poll``). ``timeout`` is
    in seconds (``None`` = no limit), unlike ``select.poll``'s milliseconds."""

    def __init__(self) -> None:
        self._ps = _new_set()
        self._entries: Dict[int, Tuple[Any, int]] = {}
        self._order: List[Any] = []
        self._dirty = True

    def register(self, obj: Any, events: int = POLLIN | POLLOUT) -> None:
        self._entries[id(obj)] = (obj, events)
        self._dirty = True

    modify = register

    def unregister(self, obj: Any) -> None:
        del self._entries[id(obj)]
        self._dirty = True

    def __len__(self) -> int:
        return len(self._entries)

    def poll(self, timeout: Optional[float] = None) -> List[Tuple[Any, int]]:
        """Waits; returns the ready entries with the events found (empty on timeout)."""
        if self._dirty:
            check(lib.sockit_pollset_clear(self._ps))
            self._order = []
            for obj, events in self._entries.values():
                _add(self._ps, obj, events)
                self._order.append(obj)
            self._dirty = False
        else:
            for obj in self._order:
                if isinstance(obj, Socket):
                    obj._settle()
        st = lib.sockit_pollset_wait(self._ps, seconds(timeout), ffi.NULL)
        if st == TIMEOUT:
            return []
        check(st)
        ev = ffi.new("int *")
        out = []
        for i, obj in enumerate(self._order):
            lib.sockit_pollset_revents(self._ps, i, ev)
            if ev[0]:
                out.append((obj, ev[0]))
        return out



