"""FTP client (LuaSocket's ``socket.ftp``): one-call ``get``/``put`` by URL, and an
:class:`FTP` session for several commands on one control connection.

    from sockit import ftp
    data = ftp.get("ftp://user:pw@127.0.0.1:2121/dir/file.bin;type=i")
    ftp.put("ftp://127.0.0.1:2121/up.txt", open("local.txt", "rb"))   # streamed

    with ftp.FTP("127.0.0.1", 2121, timeout=10) as f:
        f.login("user", "pw")
        f.cwd("dir")
        names = f.retrieve("NLST").decode().split()
        f.retrieve("RETR", "big.bin", sink="copy.bin")                # into a file

Transfers are passive by default (``active=True`` for EPRT/PORT); a PASV reply's address
is ignored for the control connection's peer unless ``trust_pasv=True``. A server's
refusal raises :class:`sockit.ProtocolError` with its reply as the message; data
received before a failure is in the exception's ``partial`` when there was no sink.
"""

from typing import Any, Optional, Tuple

from . import ltn12
from ._ffi import (
    NULL, call_into, buffer_text, check, cstr, data_arg, ffi, give_buffer, lib,
    raise_error, seconds, take_buffer,
)

__all__ = ["get", "put", "FTP"]


def _flags(active: bool, trust_pasv: bool) -> int:
    return (lib.SOCKIT_FTP_ACTIVE if active else 0) | (lib.SOCKIT_FTP_TRUST_PASV if trust_pasv else 0)


def get(url: str, *, type: Optional[str] = None, sink: Any = None, active: bool = False,
        trust_pasv: bool = False, timeout: Optional[float] = 60.0) -> bytes:
    """Downloads ``url`` ("ftp://[user[:password]@]host[:port]/path[;type=a|i]"; a path
    ending in "/" lists the directory). ``type`` "a" (ASCII: line ends become LF, the
    default), "i" (binary) or None for the URL's. With ``sink`` (path, file, callable
    or Sink) the data goes there and b"" is returned."""
    received = ffi.new("uint64_t *")
    if sink is not None:
        snk = ltn12.sink(sink)
        st = lib.sockit_ftp_get(cstr(url, "url"), cstr(type, "type"), _flags(active, trust_pasv),
                                seconds(timeout), snk._ptr(), NULL, received)
        if st:
            raise_error(st)
        return b""
    return call_into(_get_into, cstr(url, "url"), cstr(type, "type"),
                     _flags(active, trust_pasv), seconds(timeout), received)


def _get_into(url: Any, type_: Any, flags: int, timeout: float, received: Any, buf: Any) -> int:
    return lib.sockit_ftp_get(url, type_, flags, timeout, NULL, buf, received)


def put(url: str, data: Any, *, type: Optional[str] = None, active: bool = False,
        trust_pasv: bool = False, timeout: Optional[float] = 60.0) -> int:
    """Uploads ``data`` (bytes, str, a file, an iterable of chunks or a Source) to
    ``url`` (STOR); ASCII (the default) sends line ends as CRLF. Returns the bytes sent."""
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        body = data_arg(data)
        check(lib.sockit_ftp_put(cstr(url, "url"), cstr(type, "type"), _flags(active, trust_pasv),
                                 seconds(timeout), body, len(body)))
        return len(body)
    src = ltn12.source(data)
    sent = ffi.new("uint64_t *")
    st = lib.sockit_ftp_put_source(cstr(url, "url"), cstr(type, "type"),
                                   _flags(active, trust_pasv), seconds(timeout), src._take(), sent)
    if st:
        raise_error(st, sent=int(sent[0]))
    return int(sent[0])


def _retrieve_into(h: Any, verb: Any, arg: Any, ascii: int, received: Any, buf: Any) -> int:
    return lib.sockit_ftp_retrieve(h, verb, arg, ascii, NULL, buf, received)


class FTP:
    """An FTP session (a control connection); connects and reads the greeting (in
    ``greeting``). Log in next. Use it in a ``with`` block (QUIT at the end)."""

    def __init__(self, host: str, port: int = 21, *, timeout: Optional[float] = 60.0,
                 active: bool = False, trust_pasv: bool = False) -> None:
        out = ffi.new("sockit_ftp **")
        buf = take_buffer()
        try:
            check(lib.sockit_ftp_open(cstr(host, "host"), port, seconds(timeout), buf, out))
            self.greeting = buffer_text(buf)
        finally:
            give_buffer(buf)
        self._h = ffi.gc(out[0], lib.sockit_ftp_free)
        self._ascii = True
        if active or trust_pasv:
            check(lib.sockit_ftp_set_options(self._h, _flags(active, trust_pasv), seconds(timeout)))

    def __enter__(self) -> "FTP":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.quit()

    def login(self, user: Optional[str] = None, password: Optional[str] = None) -> None:
        """USER, then PASS when asked; no user is anonymous."""
        check(lib.sockit_ftp_login(self._h, cstr(user, "user"), cstr(password, "password")))

    def set_options(self, *, active: bool = False, trust_pasv: bool = False,
                    timeout: Optional[float] = 60.0) -> None:
        check(lib.sockit_ftp_set_options(self._h, _flags(active, trust_pasv), seconds(timeout)))

    def type(self, t: str) -> None:
        """TYPE "a" (ASCII) or "i" (binary); later transfers convert line ends only in
        ASCII."""
        check(lib.sockit_ftp_type(self._h, cstr(t, "type")))
        self._ascii = t.lower().startswith("a")

    def cwd(self, directory: str) -> None:
        check(lib.sockit_ftp_cwd(self._h, cstr(directory, "directory")))

    def command(self, verb: str, arg: Optional[str] = None,
                expect: Optional[str] = None) -> Tuple[int, str]:
        """Any command; returns (code, reply). A reply not matching ``expect`` ("2..",
        "250", "2.. 3..") raises :class:`sockit.ProtocolError`."""
        code = ffi.new("int *")
        buf = take_buffer()
        try:
            check(lib.sockit_ftp_command(self._h, cstr(verb, "verb"), cstr(arg, "arg"),
                                         cstr(expect, "expect"), code, buf))
            return code[0], buffer_text(buf)
        finally:
            give_buffer(buf)

    def retrieve(self, verb: str = "RETR", arg: Optional[str] = None, *, sink: Any = None,
                 ascii: Optional[bool] = None) -> bytes:
        """A data command that brings data ("RETR", "LIST", "NLST", ...). With ``sink``
        the data goes there and b"" is returned."""
        asc = self._ascii if ascii is None else ascii
        received = ffi.new("uint64_t *")
        if sink is not None:
            snk = ltn12.sink(sink)
            check(lib.sockit_ftp_retrieve(self._h, cstr(verb, "verb"), cstr(arg, "arg"),
                                          1 if asc else 0, snk._ptr(), NULL, received))
            return b""
        return call_into(_retrieve_into, self._h, cstr(verb, "verb"), cstr(arg, "arg"),
                         1 if asc else 0, received)

    def store(self, verb: str, arg: Optional[str], data: Any, *,
              ascii: Optional[bool] = None) -> int:
        """A data command that sends ``data`` ("STOR", "APPE", ...); returns the bytes
        sent."""
        asc = 1 if (self._ascii if ascii is None else ascii) else 0
        sent = ffi.new("uint64_t *")
        if isinstance(data, (bytes, bytearray, memoryview, str)):
            body = data_arg(data)
            st = lib.sockit_ftp_store(self._h, cstr(verb, "verb"), cstr(arg, "arg"), asc,
                                      body, len(body), NULL, sent)
        else:
            src = ltn12.source(data)
            st = lib.sockit_ftp_store(self._h, cstr(verb, "verb"), cstr(arg, "arg"), asc,
                                      NULL, 0, src._take(), sent)
        if st:
            raise_error(st, sent=int(sent[0]))
        return int(sent[0])

    def quit(self) -> None:
        """QUIT and close (idempotent)."""
        check(lib.sockit_ftp_quit(self._h))
